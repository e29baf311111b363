use textback_app::IpcError;

use super::DeskState;

#[tauri::command]
pub async fn contact_rename(
    desk: DeskState<'_>,
    conversation_id: i64,
    name: String,
) -> Result<(), IpcError> {
    let desk = desk.get().await?;
    desk.rename_contact(conversation_id, &name).await
}

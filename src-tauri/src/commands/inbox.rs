use textback_app::IpcError;
use textback_app::dto::{InboxPage, InboxQuery};

use super::DeskState;

#[tauri::command]
pub async fn inbox_list(desk: DeskState<'_>, query: InboxQuery) -> Result<InboxPage, IpcError> {
    let desk = desk.get().await?;
    desk.inbox_list(query).await
}

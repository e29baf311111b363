use textback_app::IpcError;

use super::DeskState;

#[tauri::command]
pub async fn lead_mark_booked(
    desk: DeskState<'_>,
    id: i64,
    job_value_cents: Option<i64>,
) -> Result<(), IpcError> {
    let desk = desk.get().await?;
    desk.mark_booked(id, job_value_cents).await
}

#[tauri::command]
pub async fn lead_mark_lost(desk: DeskState<'_>, id: i64) -> Result<(), IpcError> {
    let desk = desk.get().await?;
    desk.mark_lost(id).await
}

use textback_app::IpcError;
use textback_app::dto::AppStatus;

use super::DeskState;

#[tauri::command]
pub async fn app_status(desk: DeskState<'_>) -> Result<AppStatus, IpcError> {
    desk.status().await
}

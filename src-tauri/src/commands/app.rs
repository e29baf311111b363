use textback_app::IpcError;
use textback_app::dto::AppStatus;

use super::DeskState;

#[tauri::command]
pub async fn app_status(desk: DeskState<'_>) -> Result<AppStatus, IpcError> {
    let desk = desk.get().await?;
    desk.status().await
}

/// The UI's inbox is on screen for the first time: logs how long start-up took.
#[tauri::command]
pub fn app_shown() {
    crate::startup::report_shown();
}

use textback_app::IpcError;
use textback_app::dto::{RosterNow, RosterWeek};

use super::DeskState;

/// Who works each day of the week from `week_start` ("2026-03-09"; null: this week).
#[tauri::command]
pub async fn roster_week(
    desk: DeskState<'_>,
    week_start: Option<String>,
) -> Result<RosterWeek, IpcError> {
    let desk = desk.get().await?;
    desk.roster_week(week_start.as_deref()).await
}

#[tauri::command]
pub async fn roster_now(desk: DeskState<'_>) -> Result<RosterNow, IpcError> {
    let desk = desk.get().await?;
    desk.roster_now().await
}

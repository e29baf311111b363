use textback_app::IpcError;
use textback_app::dto::{Funnel, FunnelQuery};

use super::DeskState;

/// The owner's missed-call funnel for a period.
#[tauri::command]
pub async fn results_funnel(desk: DeskState<'_>, query: FunnelQuery) -> Result<Funnel, IpcError> {
    let desk = desk.get().await?;
    desk.funnel(query).await
}

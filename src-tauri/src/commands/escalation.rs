use textback_app::IpcError;
use textback_app::dto::EscalationInfo;

use super::DeskState;

/// "I've got it": this desk's user takes the escalation; paging stops.
#[tauri::command]
pub async fn escalation_acknowledge(
    desk: DeskState<'_>,
    id: i64,
) -> Result<EscalationInfo, IpcError> {
    let desk = desk.get().await?;
    desk.acknowledge_escalation(id).await
}

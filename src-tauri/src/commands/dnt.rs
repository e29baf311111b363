use textback_app::IpcError;
use textback_app::dto::{DntImportResult, DntNumber};

use super::DeskState;

#[tauri::command]
pub async fn dnt_list(desk: DeskState<'_>) -> Result<Vec<DntNumber>, IpcError> {
    let desk = desk.get().await?;
    desk.dnt_list().await
}

#[tauri::command]
pub async fn dnt_add(desk: DeskState<'_>, phone: String) -> Result<DntNumber, IpcError> {
    let desk = desk.get().await?;
    desk.dnt_add(&phone).await
}

#[tauri::command]
pub async fn dnt_remove(
    desk: DeskState<'_>,
    phone: String,
    reason: Option<String>,
) -> Result<(), IpcError> {
    let desk = desk.get().await?;
    desk.dnt_remove(&phone, reason).await
}

/// `csv`: the file's text, read by the UI from the file the user picked.
#[tauri::command]
pub async fn dnt_import(desk: DeskState<'_>, csv: String) -> Result<DntImportResult, IpcError> {
    let desk = desk.get().await?;
    desk.dnt_import(csv).await
}

#[tauri::command]
pub async fn dnt_export(desk: DeskState<'_>) -> Result<String, IpcError> {
    let desk = desk.get().await?;
    desk.dnt_export().await
}

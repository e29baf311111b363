use tauri::AppHandle;
use textback_app::IpcError;
use textback_app::dto::{Settings, TemplatePreview};

use super::DeskState;

#[tauri::command]
pub async fn settings_get(desk: DeskState<'_>) -> Result<Settings, IpcError> {
    let desk = desk.get().await?;
    Ok(desk.settings().await)
}

#[tauri::command]
pub async fn settings_save(
    app: AppHandle,
    desk: DeskState<'_>,
    settings: Settings,
) -> Result<Settings, IpcError> {
    let desk = desk.get().await?;
    let saved = desk.save_settings(settings).await?;
    crate::launch_at_login::set(&app, saved.launch_at_login);
    Ok(saved)
}

#[tauri::command]
pub async fn template_preview(
    desk: DeskState<'_>,
    template: String,
) -> Result<TemplatePreview, IpcError> {
    let desk = desk.get().await?;
    Ok(desk.preview(&template).await)
}

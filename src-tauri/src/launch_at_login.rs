//! "Launch at login" (`[app] launch_at_login`): the OS's own mechanism through the autostart
//! plugin (a LaunchAgent on macOS, the Run key on Windows, an XDG autostart entry on Linux).

use tauri::AppHandle;
use tauri_plugin_autostart::ManagerExt;
use textback_app::Desk;

/// Makes the OS setting match the config at start (the file may have been edited by hand).
/// NOTE: async: it runs in the task that starts the desk, where blocking on the runtime panics.
pub async fn apply(app: &AppHandle, desk: &Desk) {
    let wanted = desk.settings().await.launch_at_login;
    set(app, wanted);
}

pub fn set(app: &AppHandle, enabled: bool) {
    let autostart = app.autolaunch();
    let result = match (enabled, autostart.is_enabled().unwrap_or(false)) {
        (true, false) => autostart.enable(),
        (false, true) => autostart.disable(),
        _ => Ok(()),
    };
    if let Err(error) = result {
        tracing::warn!(%error, enabled, "could not change launch at login");
    }
}

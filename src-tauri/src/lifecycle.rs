//! Hooks where the engine plugs into the app's lifetime.

use tauri::{AppHandle, Manager};

use crate::desk_slot::DeskSlot;

/// Runs once when the app exits (tray Quit, `AppHandle::exit`, the OS ending the session), on
/// the main thread, after the event loop has stopped and before the process ends.
///
/// NOTE for the engine: this is where its shutdown goes — cancel its token and wait, bounded
/// (a few seconds), for the tasks to finish so an in-flight outbox row is settled or left
/// in-flight for reconciliation. Blocking here is fine; the windows are already gone.
pub(crate) fn on_quit(app: &AppHandle) {
    tracing::info!("Textback is quitting");
    let Some(desk) = app.try_state::<DeskSlot>().and_then(|slot| slot.ready()) else {
        return;
    };
    let stopped = tauri::async_runtime::block_on(async move {
        tokio::time::timeout(std::time::Duration::from_secs(5), desk.shutdown()).await
    });
    if stopped.is_err() {
        tracing::warn!(
            "the engine did not stop within 5 s; unfinished sends are reconciled on the next start"
        );
    }
}

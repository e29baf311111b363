//! Textback's desktop shell: the one crate that depends on `tauri`.
//!
//! It owns the window, the tray, OS alerts, the updater and the keychain glue, and stays thin:
//! rules and I/O live in the GUI-free crates under `crates/`.
//!
//! - `alerts`: desktop notifications (notify-rust); a click opens the conversation.
//! - `credentials`: Twilio credentials in the OS keychain, overridable by environment variables.
//!   No Tauri types, so it can move to a GUI-free crate unchanged.
//! - `tray`: the tray icon with the unread count, Show and Quit.
//! - `lifecycle`: the hooks the engine plugs into (`on_quit`).
//! - `media_protocol`: the `textback-media` URI scheme serving MMS pictures to the webview.
//! - `startup`: logs how long it took until the UI showed the inbox.
//!
//! Adding an IPC command: write it in `src/commands/<domain>.rs` as a 3–10 line adapter, register
//! it in `invoke_handler` below, and make sure its name is in `build.rs` `COMMANDS` and its
//! `allow-<name>` permission is in `capabilities/main.json`; without the grant the UI is denied.

pub mod alerts;
mod bridge;
mod commands;
mod desk_slot;
mod launch_at_login;
mod lifecycle;
mod media_protocol;
mod startup;
mod tray;

use desk_slot::DeskSlot;
use textback_app::{Desk, DeskOptions};

use tauri::{AppHandle, Emitter, Manager, RunEvent, WindowEvent};

/// The label of the one window; capabilities are granted to it by this name.
pub const MAIN_WINDOW: &str = "main";

/// Emitted to the UI with the conversation id (a JSON number) when a desktop alert is clicked.
pub const OPEN_CONVERSATION_EVENT: &str = "textback://open-conversation";

/// Builds and runs the app until the user quits from the tray.
pub fn run() {
    startup::note_process_start();
    init_tracing();

    let app = tauri::Builder::default()
        // NOTE: registered first, so a second launch hands over before anything else starts.
        .plugin(tauri_plugin_single_instance::init(|app, _argv, _cwd| {
            reveal_main_window(app);
        }))
        .plugin(tauri_plugin_updater::Builder::new().build())
        .plugin(tauri_plugin_autostart::init(
            tauri_plugin_autostart::MacosLauncher::LaunchAgent,
            None,
        ))
        .setup(|app| {
            tracing::info!(
                after_ms = startup::since_process_start().as_millis() as u64,
                "setting up"
            );
            tray::install(app.handle())?;
            app.manage(DeskSlot::new());
            // NOTE: not awaited here: the window is created after `setup` returns, so its web
            // process starts while the engine opens the database (start-up time).
            let handle = app.handle().clone();
            tauri::async_runtime::spawn(async move {
                let started = Desk::start(desk_options()).await;
                tracing::info!(
                    after_ms = startup::since_process_start().as_millis() as u64,
                    "desk ready"
                );
                let slot = handle.state::<DeskSlot>();
                match started {
                    Ok(desk) => {
                        launch_at_login::apply(&handle, &desk).await;
                        slot.fill(Ok(desk.clone()));
                        bridge::start(handle.clone(), desk);
                    }
                    Err(e) => {
                        tracing::error!(error = %e.message, "Textback could not start");
                        slot.fill(Err(e.message));
                    }
                }
            });
            Ok(())
        })
        // MMS pictures for `<img src>` (see `media_protocol`); answered off the main thread.
        .register_asynchronous_uri_scheme_protocol(
            textback_app::media::SCHEME,
            |ctx, request, responder| {
                let (app, path) = (ctx.app_handle().clone(), request.uri().path().to_owned());
                tauri::async_runtime::spawn(async move {
                    responder.respond(media_protocol::answer(app, path).await);
                });
            },
        )
        .invoke_handler(tauri::generate_handler![
            commands::app::app_status,
            commands::app::app_shown,
            commands::inbox::inbox_list,
            commands::conversation::conversation_open,
            commands::conversation::conversation_reply,
            commands::conversation::conversation_start,
            commands::conversation::conversation_mark_read,
            commands::conversation::conversation_mark_done,
            commands::conversation::conversation_assign,
            commands::conversation::conversation_add_note,
            commands::conversation::call_send_late_textback,
            commands::lead::lead_mark_booked,
            commands::lead::lead_mark_lost,
            commands::escalation::escalation_acknowledge,
            commands::results::results_funnel,
            commands::contact::contact_rename,
            commands::settings::settings_get,
            commands::settings::settings_save,
            commands::settings::template_preview,
            commands::roster::roster_week,
            commands::roster::roster_now,
            commands::dnt::dnt_list,
            commands::dnt::dnt_add,
            commands::dnt::dnt_remove,
            commands::dnt::dnt_import,
            commands::dnt::dnt_export,
            commands::provider::provider_connect,
            commands::provider::provider_finish_connect,
        ])
        .on_window_event(|window, event| {
            // Closing the window keeps the app (and the engine) running in the tray; Quit in
            // the tray menu is the way out.
            if let WindowEvent::CloseRequested { api, .. } = event
                && window.label() == MAIN_WINDOW
            {
                api.prevent_close();
                if let Err(error) = window.hide() {
                    tracing::warn!(%error, "could not hide the main window");
                }
            }
        })
        .build(tauri::generate_context!())
        .expect("the Tauri app could not be built; see the error above");

    app.run(|app, event| {
        if let RunEvent::Exit = event {
            lifecycle::on_quit(app);
        }
    });
}

/// Where the desk reads its config and who it is: `TEXTBACK_CONFIG` or the default path, the
/// process environment, the OS user.
fn desk_options() -> DeskOptions {
    let vars = textback_app::process_env();
    DeskOptions {
        config_path: textback_engine::config::resolve_path(None, &*vars),
        vars,
        desk_user: std::env::var("USER")
            .ok()
            .filter(|u| !u.is_empty())
            .unwrap_or_else(|| "This desk".into()),
    }
}

/// Shows a desktop alert; clicking it brings the window up and tells the UI to open the
/// conversation. Failures are logged, never fatal: an alert is a courtesy, the inbox is the
/// record.
pub fn raise_alert(app: &AppHandle, alert: &alerts::Alert) {
    let app = app.clone();
    let shown = alerts::show(alert, move |conversation_id| {
        reveal_main_window(&app);
        if let Err(error) = app.emit(OPEN_CONVERSATION_EVENT, conversation_id) {
            tracing::warn!(%error, "could not tell the UI to open the conversation");
        }
    });
    if let Err(error) = shown {
        tracing::warn!(%error, "desktop alert not shown");
    }
}

/// Shows, un-minimises and focuses the main window (tray Show, second launch, alert click).
pub fn reveal_main_window(app: &AppHandle) {
    let Some(window) = app.get_webview_window(MAIN_WINDOW) else {
        tracing::warn!("the main window is gone");
        return;
    };
    for (step, result) in [
        ("show", window.show()),
        ("unminimize", window.unminimize()),
        ("focus", window.set_focus()),
    ] {
        if let Err(error) = result {
            tracing::warn!(%error, step, "could not bring the main window up");
        }
    }
}

/// Shows the unread count in the tray (menu line and tooltip).
pub fn set_unread_count(app: &AppHandle, unread: u32) {
    if let Err(error) = tray::set_unread(app, unread) {
        tracing::warn!(%error, "could not update the tray's unread count");
    }
}

fn init_tracing() {
    use tracing_subscriber::{EnvFilter, fmt};
    let filter = EnvFilter::try_from_env("TEXTBACK_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    // `try_init`: a second call (tests, an embedding binary) keeps the first subscriber.
    let _ = fmt().with_env_filter(filter).try_init();
}

//! Reads the app config through `src-tauri/tauri.conf.json`, a symlink to the repository's root
//! `tauri.conf.json` (see docs/desktop.md), and declares the app's IPC commands so that each one
//! needs an explicit `allow-<command>` grant in `capabilities/`.

/// Every app command the UI may call (/work/ipc-contract.md). A command listed here is denied
/// unless a capability grants its `allow-…` permission; add new commands here first.
const COMMANDS: &[&str] = &[
    "app_status",
    "app_shown",
    "inbox_list",
    "conversation_open",
    "conversation_reply",
    "conversation_start",
    "conversation_mark_read",
    "conversation_mark_done",
    "conversation_assign",
    "conversation_add_note",
    "lead_mark_booked",
    "lead_mark_lost",
    "escalation_acknowledge",
    "results_funnel",
    "contact_rename",
    "settings_get",
    "settings_save",
    "template_preview",
    "roster_week",
    "roster_now",
    "dnt_list",
    "dnt_add",
    "dnt_remove",
    "dnt_import",
    "dnt_export",
    "provider_connect",
    "provider_finish_connect",
    "call_send_late_textback",
];

fn main() {
    let attributes = tauri_build::Attributes::new()
        // NOTE: the symlink, not "../tauri.conf.json": paths in the config are resolved against
        // the config's folder, and the Tauri CLI only reads the config from `src-tauri/`, so both
        // must see the same folder for `../icons/…` and `../ui/dist` to mean the same thing.
        .config_path("tauri.conf.json")
        .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS));
    if let Err(error) = tauri_build::try_build(attributes) {
        panic!("tauri-build failed: {error:#}");
    }
}

//! The baseline of `scripts/bench-desktop.sh`: an empty Tauri v2 window with one static local
//! page, no plugins, no IPC commands, no tray. Whatever Textback costs above this is Textback's.

// Same as src-tauri: no console window on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    tauri::Builder::default()
        .run(tauri::generate_context!())
        .expect("the empty Tauri window could not start");
}

//! Reads `tauri.conf.json` next to this file (paths in it are relative to this folder).

fn main() {
    if let Err(error) = tauri_build::try_build(tauri_build::Attributes::new()) {
        panic!("tauri-build failed: {error:#}");
    }
}

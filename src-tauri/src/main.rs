// Hides the console window on Windows release builds; does nothing elsewhere.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    #[cfg(target_os = "linux")]
    software_rendering();
    textback_desktop_lib::run();
}

/// An inbox has no animations worth a GPU context: WebKitGTK's accelerated compositing costs
/// about 60 MiB per window (software GL under most desktops) and is the difference between
/// Textback and an empty window (scripts/bench-desktop.sh). WebKit reads the switch from the
/// environment at start-up, and setting a variable in a running process is `unsafe`, so the
/// process re-executes itself once with it set (same PID, so launchers and WebDriver keep
/// working). `TEXTBACK_GPU=1` keeps compositing on.
#[cfg(target_os = "linux")]
fn software_rendering() {
    use std::os::unix::process::CommandExt;
    const SWITCH: &str = "WEBKIT_DISABLE_COMPOSITING_MODE";
    if std::env::var_os(SWITCH).is_some() || std::env::var_os("TEXTBACK_GPU").is_some() {
        return;
    }
    let Ok(exe) = std::env::current_exe() else {
        return;
    };
    let error = std::process::Command::new(exe)
        .args(std::env::args_os().skip(1))
        .env(SWITCH, "1")
        .exec();
    // Only reached if the re-exec failed: run as we are, with compositing.
    eprintln!("textback: could not restart without GPU compositing ({error}); continuing");
}

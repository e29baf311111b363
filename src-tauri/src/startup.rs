//! How long start-up took: from the moment the OS started the process to the moment the UI
//! reported its inbox on screen, logged once per run so a slow start shows in the log (and in
//! `scripts/bench-desktop.sh`, which reads this line).

use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// The log line's fixed words, which the desktop bench greps for.
pub const SHOWN_MESSAGE: &str = "inbox on screen";

static FIRST_SEEN: OnceLock<(Instant, Duration)> = OnceLock::new();
static REPORTED: AtomicBool = AtomicBool::new(false);

/// Notes the process's age as early as possible in `run()`; later readings add to it.
pub fn note_process_start() {
    FIRST_SEEN.get_or_init(|| (Instant::now(), process_age_at_call().unwrap_or_default()));
}

/// Time since the OS started this process, or since `note_process_start` where the OS does
/// not say.
pub fn since_process_start() -> Duration {
    let (seen, age) = *FIRST_SEEN.get_or_init(|| (Instant::now(), Duration::ZERO));
    age + seen.elapsed()
}

/// Logs the first report only; a reload of the page does not count as a start.
pub fn report_shown() {
    if REPORTED.swap(true, Ordering::SeqCst) {
        return;
    }
    let ms = since_process_start().as_millis();
    tracing::info!(
        after_ms = ms as u64,
        "{SHOWN_MESSAGE} {ms} ms after the process started"
    );
}

/// On Linux: the process's start time (`/proc/self/stat` field 22, clock ticks since boot)
/// against the system's uptime. The re-exec in `main` keeps the PID and so the start time:
/// the figure includes it. Elsewhere: unknown (counted from the first call instead).
/// The kernel reports process times in USER_HZ, 100 on every architecture Tauri builds for.
#[cfg(target_os = "linux")]
const USER_HZ: f64 = 100.0;

#[cfg(target_os = "linux")]
fn process_age_at_call() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The command name (field 2) may contain spaces or ')': fields after its last ')' only.
    let after_name = &stat[stat.rfind(')')? + 2..];
    let start_ticks: u64 = after_name.split(' ').nth(19)?.parse().ok()?;
    let uptime = std::fs::read_to_string("/proc/uptime").ok()?;
    let uptime_secs: f64 = uptime.split_whitespace().next()?.parse().ok()?;
    let started_secs = start_ticks as f64 / USER_HZ;
    Some(Duration::from_secs_f64(
        (uptime_secs - started_secs).max(0.0),
    ))
}

#[cfg(not(target_os = "linux"))]
fn process_age_at_call() -> Option<Duration> {
    None
}

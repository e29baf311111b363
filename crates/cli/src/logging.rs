//! Logs: human-readable on the terminal, and a daily-rotated file in the data dir (7 kept).
//! Message bodies and secrets are never logged at info level (the engine logs ids only).

use std::path::Path;

use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt;
use tracing_subscriber::prelude::*;

/// Starts logging. Keep the guard alive until exit so the file gets the last lines.
pub fn init(data_dir: Option<&Path>) -> Option<WorkerGuard> {
    let filter =
        || EnvFilter::try_from_env("TEXTBACK_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let terminal = fmt::layer()
        .with_target(false)
        .with_writer(std::io::stderr)
        .with_filter(filter());
    let (file, guard) = match data_dir.and_then(|d| {
        tracing_appender::rolling::Builder::new()
            .rotation(tracing_appender::rolling::Rotation::DAILY)
            .filename_prefix("textback")
            .filename_suffix("log")
            .max_log_files(7)
            .build(d.join("logs"))
            .ok()
    }) {
        Some(appender) => {
            let (writer, guard) = tracing_appender::non_blocking(appender);
            (
                Some(
                    fmt::layer()
                        .with_ansi(false)
                        .with_writer(writer)
                        .with_filter(filter()),
                ),
                Some(guard),
            )
        }
        None => (None, None),
    };
    // A second init (tests) keeps the first subscriber.
    let _ = tracing_subscriber::registry()
        .with(terminal)
        .with(file)
        .try_init();
    guard
}

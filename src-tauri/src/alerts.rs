//! Desktop alerts: one OS notification per [`Alert`], and a click on it opens the conversation.
//!
//! No Tauri types here: the caller passes what a click should do (`crate::raise_alert` brings the
//! window up and emits `textback://open-conversation`).
//!
//! A click is only reported while someone waits for it. notify-rust waits by blocking a thread
//! until the notification is clicked or closed, so each alert gets one watcher thread, and at
//! most [`MAX_WATCHED`] of them live at once; past that an alert is still shown, just without
//! click-to-open. A notification server that never closes notifications therefore costs at most
//! [`MAX_WATCHED`] parked threads.

use std::sync::atomic::{AtomicUsize, Ordering};

/// The name notification servers show and group alerts by.
pub const APP_NAME: &str = "Textback";

/// At most this many alerts wait for a click at once; each waiter is one parked thread.
pub const MAX_WATCHED: usize = 8;

/// The notification action id a plain click invokes (the XDG "default" action).
const DEFAULT_ACTION: &str = "default";

static WATCHED: AtomicUsize = AtomicUsize::new(0);

/// What to tell the person at the desk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    /// One line: who and what ("Missed call from +1 555 0100").
    pub title: String,
    /// The detail, e.g. the message text. Shown as plain text, never as markup.
    pub body: String,
    /// The conversation a click opens; None for an alert about the account, not a customer.
    pub conversation_id: Option<i64>,
}

#[derive(Debug, thiserror::Error)]
pub enum AlertError {
    #[error("the notification server refused the alert: {0}")]
    Notify(#[from] notify_rust::error::Error),
    #[error("could not start the thread that waits for a click: {0}")]
    Watcher(#[from] std::io::Error),
}

/// Whether a click on the alert will be reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shown {
    /// A click calls `on_open` with the conversation id.
    ClickOpens,
    /// Shown, but clicks are not reported: too many alerts are already waiting, or the platform
    /// (macOS) reports no clicks.
    ClickIgnored,
}

/// Shows `alert` as a desktop notification; a click on it calls `on_open(conversation_id)`
/// once, on a watcher thread. Returns as soon as the notification server took the alert.
pub fn show(
    alert: &Alert,
    on_open: impl FnOnce(i64) + Send + 'static,
) -> Result<Shown, AlertError> {
    let mut notification = notify_rust::Notification::new();
    notification
        .appname(APP_NAME)
        // The icon the installers put in the theme (named after the binary).
        .icon("textback-desktop")
        .summary(&plain_text(&alert.title))
        .body(&plain_text(&alert.body))
        .action(DEFAULT_ACTION, "Open conversation")
        .timeout(notify_rust::Timeout::Default);
    #[cfg(all(unix, not(target_os = "macos")))]
    notification.hint(notify_rust::Hint::Category("im.received".to_owned()));

    let handle = notification.show()?;
    match alert.conversation_id {
        Some(id) => watch_for_click(handle, id, on_open),
        None => Ok(Shown::ClickIgnored),
    }
}

#[cfg(not(target_os = "macos"))]
fn watch_for_click(
    handle: notify_rust::NotificationHandle,
    conversation_id: i64,
    on_open: impl FnOnce(i64) + Send + 'static,
) -> Result<Shown, AlertError> {
    let Some(slot) = WatcherSlot::take() else {
        tracing::debug!(
            max = MAX_WATCHED,
            "alert shown without click-to-open: watchers busy"
        );
        return Ok(Shown::ClickIgnored);
    };
    std::thread::Builder::new()
        .name(format!("alert-{conversation_id}"))
        .spawn(move || {
            let _slot = slot;
            // Blocks until the alert is clicked or closed (timed out, dismissed).
            handle.wait_for_action(|action| {
                if action == DEFAULT_ACTION {
                    on_open(conversation_id);
                }
            });
        })?;
    Ok(Shown::ClickOpens)
}

#[cfg(target_os = "macos")]
fn watch_for_click(
    _handle: impl Sized,
    _conversation_id: i64,
    _on_open: impl FnOnce(i64) + Send + 'static,
) -> Result<Shown, AlertError> {
    Ok(Shown::ClickIgnored)
}

/// One of the [`MAX_WATCHED`] watcher places; given back when dropped.
#[derive(Debug)]
struct WatcherSlot(());

impl WatcherSlot {
    fn take() -> Option<Self> {
        WATCHED
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < MAX_WATCHED).then_some(n + 1)
            })
            .ok()
            .map(|_| Self(()))
    }
}

impl Drop for WatcherSlot {
    fn drop(&mut self) {
        WATCHED.fetch_sub(1, Ordering::AcqRel);
    }
}

/// XDG notification servers read a subset of HTML in the body; an SMS from a stranger must
/// show as typed, so the markup characters are escaped. Other platforms show text verbatim.
fn plain_text(text: &str) -> String {
    if cfg!(all(unix, not(target_os = "macos"))) {
        text.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    } else {
        text.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(all(unix, not(target_os = "macos")))]
    #[test]
    fn message_text_cannot_inject_markup() {
        assert_eq!(
            plain_text("<b>FREE</b> & <a href=\"x\">win</a>"),
            "&lt;b&gt;FREE&lt;/b&gt; &amp; &lt;a href=\"x\"&gt;win&lt;/a&gt;",
            "tags from an SMS must reach the server escaped so it shows them as typed"
        );
        assert_eq!(
            plain_text("Tue 3pm ok?"),
            "Tue 3pm ok?",
            "ordinary text passes unchanged"
        );
    }

    #[test]
    fn watcher_places_are_bounded_and_given_back() {
        let slots: Vec<_> = std::iter::from_fn(WatcherSlot::take).take(100).collect();
        assert_eq!(
            slots.len(),
            MAX_WATCHED,
            "no more than MAX_WATCHED threads may wait for clicks"
        );
        drop(slots);
        assert!(
            WatcherSlot::take().is_some(),
            "dropping the watchers frees their places for later alerts"
        );
    }
}

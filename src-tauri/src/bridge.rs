//! Turns the desk's domain events into what the window and the OS show: batched Tauri events
//! for the UI, desktop alerts (and their repeats for unread replies), the tray's unread count.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tauri::{AppHandle, Emitter};
use textback_app::Desk;
use textback_app::alerts::{self, RepeatAlerts};
use textback_app::dto::UiEvent;
use tokio::sync::broadcast::error::RecvError;

/// The UI listens for batches of [`UiEvent`] on this channel.
pub const EVENTS: &str = "textback://events";

/// How long events are gathered before one batch goes to the UI: a burst of sync results
/// becomes one re-render.
const BATCH: Duration = Duration::from_millis(100);

/// How often unread replies are checked for a repeat alert.
const REPEAT_CHECK: Duration = Duration::from_secs(30);

pub fn start(app: AppHandle, desk: Arc<Desk>) {
    let repeats = Arc::new(Mutex::new(RepeatAlerts::default()));
    tauri::async_runtime::spawn(forward(app.clone(), desk.clone(), repeats.clone()));
    tauri::async_runtime::spawn(repeat(app, desk, repeats));
}

async fn forward(app: AppHandle, desk: Arc<Desk>, repeats: Arc<Mutex<RepeatAlerts>>) {
    let mut rx = desk.subscribe();
    loop {
        let first = match rx.recv().await {
            Ok(e) => e,
            Err(RecvError::Lagged(_)) => continue,
            Err(RecvError::Closed) => return,
        };
        let mut batch = vec![first];
        let deadline = tokio::time::Instant::now() + BATCH;
        while let Ok(Ok(e)) = tokio::time::timeout_at(deadline, rx.recv()).await {
            batch.push(e);
        }
        let responder = desk.config().await.engine.responder;
        for e in &batch {
            if let Some(alert) = alerts::for_event(e, responder) {
                if let Some(id) = alert.conversation_id {
                    repeats
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .shown(id, chrono::Utc::now());
                }
                crate::raise_alert(&app, &to_shell_alert(&alert));
            }
        }
        let payload: Vec<UiEvent> = batch.iter().map(UiEvent::from_domain).collect();
        if let Err(error) = app.emit(EVENTS, payload) {
            tracing::warn!(%error, "could not send events to the window");
        }
        refresh_unread(&app, &desk).await;
    }
}

async fn repeat(app: AppHandle, desk: Arc<Desk>, repeats: Arc<Mutex<RepeatAlerts>>) {
    let mut tick = tokio::time::interval(REPEAT_CHECK);
    loop {
        tick.tick().await;
        match desk.repeat_alerts(repeats.clone()).await {
            Ok(due) => due
                .iter()
                .for_each(|a| crate::raise_alert(&app, &to_shell_alert(a))),
            Err(error) => tracing::warn!(%error, "could not check for unread replies"),
        }
    }
}

fn to_shell_alert(a: &alerts::Alert) -> crate::alerts::Alert {
    crate::alerts::Alert {
        title: a.title.clone(),
        body: a.body.clone(),
        conversation_id: a.conversation_id,
    }
}

/// Shows the current unread count in the tray.
pub async fn refresh_unread(app: &AppHandle, desk: &Desk) {
    match desk.total_unread().await {
        Ok(n) => crate::set_unread_count(app, u32::try_from(n).unwrap_or(u32::MAX)),
        Err(error) => tracing::warn!(%error, "could not count unread conversations"),
    }
}

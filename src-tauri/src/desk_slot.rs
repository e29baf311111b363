//! The desk, started in the background: the window and its web process come up while the
//! engine opens its database and (in demo mode) the simulator, instead of after. Commands wait
//! for it through [`DeskSlot::get`]; if it could not start, they answer with the reason, which
//! the UI shows in place of the inbox.

use std::sync::Arc;

use textback_app::{Desk, IpcError};
use tokio::sync::watch;

type Started = Option<Result<Arc<Desk>, String>>;

/// Managed Tauri state: empty until the desk has started (or failed to).
pub struct DeskSlot {
    tx: watch::Sender<Started>,
}

impl DeskSlot {
    pub fn new() -> Self {
        Self {
            tx: watch::channel(None).0,
        }
    }

    /// Fills the slot; waiting commands resume.
    pub fn fill(&self, started: Result<Arc<Desk>, String>) {
        self.tx.send_replace(Some(started));
    }

    /// The desk once started; the reason it could not start otherwise.
    pub async fn get(&self) -> Result<Arc<Desk>, IpcError> {
        let mut rx = self.tx.subscribe();
        let started = rx
            .wait_for(Option::is_some)
            .await
            .map_err(|_| IpcError::new("internal", "Textback is shutting down"))?;
        match &*started {
            Some(Ok(desk)) => Ok(desk.clone()),
            Some(Err(message)) => Err(IpcError::new(
                "internal",
                format!("Textback could not start: {message}"),
            )),
            None => Err(IpcError::new("internal", "Textback is still starting")),
        }
    }

    /// The desk if it has started, without waiting (quit, media requests).
    pub fn ready(&self) -> Option<Arc<Desk>> {
        match &*self.tx.borrow() {
            Some(Ok(desk)) => Some(desk.clone()),
            _ => None,
        }
    }
}

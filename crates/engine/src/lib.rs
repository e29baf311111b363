//! Textback's engine: the tokio tasks that watch the phone provider, decide text-backs, and
//! send everything through the outbox; it emits [`DomainEvent`]s for the shell and tests.
//!
//! - [`sync`]: polls calls and messages for each business number, classifies finished calls and
//!   records each decision (send or skip, with its reason) with its outbox row in one
//!   `IMMEDIATE` transaction.
//! - [`sender`]: sends due outbox entries one at a time ([`Engine::send_step`]), reconciling any
//!   entry whose outcome is unknown against the provider's message log before a resend.
//! - [`backup`]: the rolling daily backup, and storage trouble told once as an event.
//! - [`Engine::start`] runs them as owned tasks with a cancellation token; [`Running::shutdown`]
//!   waits for them.
//!
//! Each step is a plain async function that tests drive directly; the loops around them only
//! decide when to call them. To add a task: write its step as a method, a loop in
//! [`Engine::start`] that selects on the cancellation token, and a test that drives the step.
//!
//! NOTE: store calls run on the async worker threads: each is one short SQLite statement or
//! transaction on a local file (tens of microseconds in WAL mode), cheaper than a hop to the
//! blocking pool.

pub mod backup;
pub mod bookings;
pub mod config;
pub mod credentials;
pub mod events;
pub mod lifecycle;
pub mod sender;
pub mod sync;

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use chrono::{DateTime, Utc};
use tokio::sync::{Notify, broadcast, watch};
use tokio_util::sync::CancellationToken;

use textback_domain::{Clock, PhoneNumber, Region};
use textback_providers::{Provider, ProviderError};
use textback_store::{Store, StoreError, contacts, conversations, messages, outbox};

pub use config::{Config, ConfigError};
pub use events::DomainEvent;
pub use sender::SendStep;
pub use sync::SyncReport;

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Provider(#[from] ProviderError),
    #[error("{0}")]
    Invalid(String),
    /// A person tried to text a number that opted out.
    #[error(
        "{phone} opted out of texts{since}; nothing can be sent to this number until they text START"
    )]
    OptedOut { phone: String, since: String },
}

/// What the app shows about the connection to the provider.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Health {
    pub online: bool,
    pub offline_since: Option<DateTime<Utc>>,
    /// Why automatic and manual sending is paused (credentials rejected, account blocked).
    pub sending_paused: Option<String>,
    pub last_sync_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    /// Why the database cannot be written (disk full, locked by another program, damaged),
    /// until a write succeeds again.
    pub storage_problem: Option<String>,
}

/// The engine's shared parts. Cheap to clone.
#[derive(Debug)]
pub struct Engine<P: Provider> {
    inner: Arc<Inner<P>>,
}

impl<P: Provider> Clone for Engine<P> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
        }
    }
}

#[derive(Debug)]
struct Inner<P> {
    config: Arc<Config>,
    store: Arc<Store>,
    provider: Arc<P>,
    clock: Arc<dyn Clock>,
    /// The provider account the store mirrors (sync cursors are per account and number).
    account: String,
    events: broadcast::Sender<DomainEvent>,
    /// Wakes the sender when something is queued.
    outbox_ready: Notify,
    /// Wakes the lifecycle loop when a timer was scheduled.
    timers_changed: Notify,
    health: watch::Sender<Health>,
    /// Set once a message sync has completed since start or since coming back online:
    /// inbound STOPs are seen before anything queued is sent.
    messages_synced: watch::Sender<bool>,
    /// Consecutive failed syncs, for polling back-off.
    failures: Mutex<u32>,
    /// Sending is paused because the account or number cannot send (not for bad credentials).
    /// NOTE: a successful read proves the credentials, not that the number can send, so only a
    /// new engine (a restart, or saving settings) lifts this pause.
    account_blocked: AtomicBool,
    disk: backup::DiskState,
    /// The store's start-up integrity check, run once however many tasks wait for it.
    store_checked: tokio::sync::OnceCell<bool>,
}

impl<P: Provider> Engine<P> {
    pub fn new(
        config: Arc<Config>,
        store: Arc<Store>,
        provider: Arc<P>,
        clock: Arc<dyn Clock>,
        account: &str,
    ) -> Self {
        let (events, _) = broadcast::channel(1024);
        let (health, _) = watch::channel(Health {
            online: true,
            ..Health::default()
        });
        let (messages_synced, _) = watch::channel(false);
        Self {
            inner: Arc::new(Inner {
                config,
                store,
                provider,
                clock,
                account: account.to_owned(),
                events,
                outbox_ready: Notify::new(),
                timers_changed: Notify::new(),
                health,
                messages_synced,
                failures: Mutex::new(0),
                account_blocked: AtomicBool::new(false),
                disk: backup::DiskState::default(),
                store_checked: tokio::sync::OnceCell::new(),
            }),
        }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<DomainEvent> {
        self.inner.events.subscribe()
    }

    pub fn health(&self) -> Health {
        self.inner.health.borrow().clone()
    }

    pub fn watch_health(&self) -> watch::Receiver<Health> {
        self.inner.health.subscribe()
    }

    /// Waits until a full sync pass has completed since start (or since coming back online).
    pub async fn wait_synced(&self) {
        let mut rx = self.inner.messages_synced.subscribe();
        let _ = rx.wait_for(|synced| *synced).await;
    }

    pub fn store(&self) -> &Arc<Store> {
        &self.inner.store
    }

    /// The provider this engine talks to (the app fetches attachments through it on demand).
    pub fn provider(&self) -> &Arc<P> {
        &self.inner.provider
    }

    pub fn config(&self) -> &Arc<Config> {
        &self.inner.config
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.inner.clock.now()
    }

    fn emit(&self, e: DomainEvent) {
        tracing::debug!(event = ?e, "domain event");
        // No subscribers is fine: the store has everything.
        let _ = self.inner.events.send(e);
    }

    fn region(&self) -> Region {
        self.inner.config.business.region
    }

    /// Queues a message a person typed. Works on every desk (responder or not). Refuses an
    /// opted-out number with [`EngineError::OptedOut`].
    pub fn queue_reply(
        &self,
        conversation_id: i64,
        body: &str,
        author: Option<&str>,
    ) -> Result<i64, EngineError> {
        let body = body.trim();
        if body.is_empty() {
            return Err(EngineError::Invalid("the message is empty".into()));
        }
        if body.chars().count() > 1600 {
            return Err(EngineError::Invalid(format!(
                "the message is {} characters; the limit is 1600",
                body.chars().count()
            )));
        }
        let now = self.now();
        let provider = self.inner.provider.name();
        let key = format!(
            "manual:{conversation_id}:{}:{}",
            now.timestamp_micros(),
            rand::random::<u32>()
        );
        let outbox_id = self.inner.store.immediate(|tx| {
            let conv = conversations::get(tx, conversation_id)?;
            let contact = contacts::get(tx, conv.contact_id)?;
            if let Some(at) = contact.opted_out_at {
                return Ok(Err(EngineError::OptedOut {
                    phone: contact.phone,
                    since: format!(" on {}", at.format("%Y-%m-%d")),
                }));
            }
            let id = outbox::enqueue(
                tx,
                &outbox::New {
                    idempotency_key: &key,
                    kind: outbox::Kind::Manual,
                    business_number: &conv.business_number,
                    to_number: &contact.phone,
                    body,
                    conversation_id: Some(conversation_id),
                    call_id: None,
                    check_since: None,
                    author,
                    not_before: now,
                },
                now,
            )?
            .ok_or_else(|| StoreError::Invalid("duplicate reply key".into()))?;
            messages::insert_outgoing(tx, provider, conversation_id, id, body, false, now)?;
            conversations::touch(
                tx,
                conversation_id,
                now,
                body,
                conversations::Activity::Outbound,
            )?;
            Ok(Ok(id))
        })??;
        self.inner.outbox_ready.notify_one();
        self.emit(DomainEvent::ConversationChanged { conversation_id });
        Ok(outbox_id)
    }

    /// Queues a new conversation's first message to any number a person typed.
    pub fn start_conversation(
        &self,
        business_number: &PhoneNumber,
        to: &str,
        body: &str,
        author: Option<&str>,
    ) -> Result<i64, EngineError> {
        let to = PhoneNumber::parse(to, self.region())
            .map_err(|e| EngineError::Invalid(e.to_string()))?;
        if !self
            .inner
            .config
            .numbers
            .iter()
            .any(|n| &n.number == business_number)
        {
            return Err(EngineError::Invalid(format!(
                "{business_number} is not one of this business's numbers"
            )));
        }
        let now = self.now();
        let conversation_id = self.inner.store.immediate(|tx| {
            let contact = contacts::ensure(tx, to.as_str(), now)?;
            conversations::ensure(tx, business_number.as_str(), contact, now)
        })?;
        self.queue_reply(conversation_id, body, author)?;
        Ok(conversation_id)
    }

    /// Offers the late text-back for a call missed while offline: a person clicked it.
    pub fn send_late_text_back(
        &self,
        call_id: i64,
        author: Option<&str>,
    ) -> Result<i64, EngineError> {
        sync::queue_late_text_back(self, call_id, author)
    }

    /// Starts the sync and sender tasks. Dropping the returned handle does not stop them; call
    /// [`Running::shutdown`].
    ///
    /// A store opened with [`Store::open_check_later`] is checked first, off the async threads;
    /// the tasks start only once it has passed. A damaged file is never written: nothing runs,
    /// and the check's message is in [`Health::storage_problem`] and a
    /// [`DomainEvent::StorageProblem`].
    pub fn start(&self) -> Running {
        let cancel = CancellationToken::new();
        let mut tasks = tokio::task::JoinSet::new();
        let me = self.clone();
        let token = cancel.clone();
        tasks.spawn(async move {
            tokio::select! {
                _ = token.cancelled() => {}
                passed = me.check_store() => if passed { me.run_loops(token).await },
            }
        });
        Running { cancel, tasks }
    }

    /// The engine's loops, each its own task, until `cancel`.
    async fn run_loops(self, cancel: CancellationToken) {
        let mut tasks = tokio::task::JoinSet::new();
        tasks.spawn(self.clone().sync_loop(cancel.clone()));
        tasks.spawn(self.clone().sender_loop(cancel.clone()));
        tasks.spawn(self.clone().backup_loop(cancel.clone()));
        tasks.spawn(self.lifecycle_loop(cancel));
        while let Some(done) = tasks.join_next().await {
            if let Err(e) = done
                && e.is_panic()
            {
                std::panic::resume_unwind(e.into_panic());
            }
        }
    }

    /// Whether the store has passed its start-up integrity check, waiting for it (and running
    /// it, if [`Engine::start`] has not yet) when it has not. Callers that write outside the
    /// engine's loops (the app's commands) ask this first.
    pub async fn store_checked(&self) -> bool {
        self.check_store().await
    }

    /// Whether the store has passed its integrity check (checking it now if it has not).
    pub(crate) async fn check_store(&self) -> bool {
        *self
            .inner
            .store_checked
            .get_or_init(|| self.run_store_check())
            .await
    }

    async fn run_store_check(&self) -> bool {
        let store = self.inner.store.clone();
        if store.integrity_checked() {
            return true;
        }
        let checked = tokio::task::spawn_blocking(move || store.check_integrity()).await;
        let message = match checked {
            Ok(Ok(())) => return true,
            Ok(Err(e)) => e.to_string(),
            Err(e) => format!("the database check stopped unexpectedly: {e}"),
        };
        tracing::error!("{message}");
        self.inner
            .health
            .send_modify(|h| h.storage_problem = Some(message.clone()));
        self.emit(DomainEvent::StorageProblem { message });
        false
    }

    async fn sync_loop(self, cancel: CancellationToken) {
        loop {
            let started = tokio::time::Instant::now();
            let result = self.sync_once().await;
            self.note_storage(backup::Writer::Sync, result.as_ref().map(|_| true));
            if let Err(e) = result {
                tracing::warn!(error = %e, "sync failed");
            }
            let wait = self.next_poll_delay();
            tokio::select! {
                _ = cancel.cancelled() => return,
                _ = tokio::time::sleep_until(started + wait) => {}
            }
        }
    }

    /// The poll interval, doubled per consecutive failure up to a minute while offline.
    fn next_poll_delay(&self) -> std::time::Duration {
        let base = self.inner.config.engine.poll_interval.as_std();
        let failures = *self
            .inner
            .failures
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let factor = 1u32 << failures.min(6);
        (base * factor).min(std::time::Duration::from_secs(60).max(base))
    }

    async fn sender_loop(self, cancel: CancellationToken) {
        // Sends cut off by a crash are settled against the provider's log first; if it cannot
        // be reached now, this is tried again every pass until it can (left alone, a caller
        // whose text-back was in flight at the crash would wait for the next restart).
        let mut reconciled = false;
        let mut synced = self.inner.messages_synced.subscribe();
        loop {
            if !reconciled {
                match self.reconcile().await {
                    Ok(_) => reconciled = true,
                    Err(e) => {
                        tracing::warn!(error = %e, "reconciling unfinished sends failed; will retry")
                    }
                }
            }
            // Inbound messages (STOPs) are synced before anything queued is sent.
            if !*synced.borrow_and_update() {
                tokio::select! {
                    _ = cancel.cancelled() => return,
                    _ = synced.changed() => continue,
                }
            }
            let result = self.send_step().await;
            let wrote = result.as_ref().map(|s| *s == SendStep::Sent);
            self.note_storage(backup::Writer::Sender, wrote);
            let step = match result {
                Ok(s) => s,
                Err(e) => {
                    tracing::warn!(error = %e, "sending failed");
                    SendStep::RetryLater
                }
            };
            if step == SendStep::Sent {
                continue;
            }
            let wait = match step {
                SendStep::RetryLater => std::time::Duration::from_secs(1),
                _ => self.until_next_due(),
            };
            tokio::select! {
                _ = cancel.cancelled() => return,
                _ = self.inner.outbox_ready.notified() => {}
                _ = tokio::time::sleep(wait) => {}
                _ = synced.changed() => {}
            }
        }
    }

    fn until_next_due(&self) -> std::time::Duration {
        let fallback = std::time::Duration::from_secs(5);
        match self.inner.store.read(outbox::next_due_at) {
            Ok(Some(at)) => (at - self.now()).to_std().unwrap_or_default().min(fallback),
            _ => fallback,
        }
    }

    fn set_health(&self, f: impl FnOnce(&mut Health)) {
        self.inner.health.send_modify(f);
    }

    /// Records the result of talking to the provider: goes offline after a network failure,
    /// back online after a success, and says so once each way.
    fn note_provider_result(&self, result: Result<(), &ProviderError>) {
        let now = self.now();
        match result {
            Ok(()) => {
                *self
                    .inner
                    .failures
                    .lock()
                    .unwrap_or_else(|p| p.into_inner()) = 0;
                let mut came_back = None;
                let mut resumed = false;
                let account_blocked = self.inner.account_blocked.load(Ordering::SeqCst);
                self.set_health(|h| {
                    if !h.online {
                        came_back = h.offline_since;
                    }
                    if !account_blocked && h.sending_paused.take().is_some() {
                        resumed = true;
                    }
                    h.online = true;
                    h.offline_since = None;
                    h.last_sync_at = Some(now);
                    h.last_error = None;
                });
                if let Some(since) = came_back {
                    self.emit(DomainEvent::WentOnline {
                        offline_since: since,
                    });
                }
                if resumed {
                    self.emit(DomainEvent::SendingResumed);
                    self.inner.outbox_ready.notify_one();
                }
            }
            Err(e) => {
                *self
                    .inner
                    .failures
                    .lock()
                    .unwrap_or_else(|p| p.into_inner()) += 1;
                let message = e.to_string();
                match e {
                    ProviderError::Auth { .. } => {
                        let mut first = false;
                        self.set_health(|h| {
                            first = h.sending_paused.is_none();
                            h.sending_paused = Some(format!(
                                "The phone provider rejected Textback's credentials: {message}"
                            ));
                            h.last_error = Some(message.clone());
                        });
                        if first {
                            self.emit(DomainEvent::ProviderAuthFailed { message });
                        }
                    }
                    ProviderError::AccountBlocked { code, .. } => {
                        self.inner.account_blocked.store(true, Ordering::SeqCst);
                        let mut first = false;
                        let code = *code;
                        self.set_health(|h| {
                            first = h.sending_paused.is_none();
                            h.sending_paused = Some(format!(
                                "The phone provider will not send from this account: {message}"
                            ));
                            h.last_error = Some(message.clone());
                        });
                        if first {
                            self.emit(DomainEvent::AccountBlocked { code, message });
                        }
                    }
                    // Throttling and unreadable answers mean the provider is reachable: not offline.
                    ProviderError::RateLimited { .. } | ProviderError::Malformed { .. } => {
                        self.set_health(|h| h.last_error = Some(message.clone()));
                    }
                    _ => {
                        let mut went_offline = false;
                        self.set_health(|h| {
                            if h.online {
                                went_offline = true;
                                h.online = false;
                                h.offline_since = Some(now);
                            }
                            h.last_error = Some(message.clone());
                        });
                        if went_offline {
                            // After an outage, messages are synced again before anything queued goes out.
                            self.inner.messages_synced.send_replace(false);
                            self.emit(DomainEvent::WentOffline {
                                since: now,
                                reason: message,
                            });
                        }
                    }
                }
            }
        }
    }
}

/// The running tasks. Shut down explicitly so nothing is cut mid-transaction.
#[derive(Debug)]
pub struct Running {
    cancel: CancellationToken,
    pub(crate) tasks: tokio::task::JoinSet<()>,
}

impl Running {
    /// Stops the tasks at their next await point and waits for them. A send in flight is
    /// abandoned after the HTTP call returns or times out; its outbox row stays `in_flight` and
    /// is reconciled on the next start.
    pub async fn shutdown(mut self) {
        self.cancel.cancel();
        while let Some(r) = self.tasks.join_next().await {
            if let Err(e) = r
                && e.is_panic()
            {
                tracing::error!("an engine task panicked: {e}");
            }
        }
    }

    pub fn token(&self) -> CancellationToken {
        self.cancel.clone()
    }
}

/// The first word of a stored contact name, for `{first_name}`.
pub(crate) fn first_name(name: Option<&str>) -> Option<String> {
    name.and_then(|n| n.split_whitespace().next())
        .map(str::to_owned)
}

//! One desk: the engine running in live mode (the business's provider account) or demo mode
//! (the built-in simulator, with its own database), plus everything the app's commands do.
//!
//! The shell holds one [`Desk`] and calls its methods from its commands; a mode switch
//! (connecting a provider, saving settings) restarts the engine inside it.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use textback_domain::{HumanDuration, PhoneNumber, RenderContext, SystemClock, Template, segments};
use textback_engine::config::{BusinessNumber, Config};
use textback_engine::{DomainEvent, Engine, EngineError, Running, credentials};
use textback_providers::twilio::{TwilioAuth, TwilioClient};
use textback_providers::{Provider, ProviderError, Secret};
use textback_sim::{Scenario, ScenarioRun, Sim, SimConfig};
use textback_store::{Store, audit, contacts, conversations, leads, notes, outbox};
use tokio::sync::{Mutex, broadcast};

use crate::dto::{
    AppStatus, IpcError, Mode, ProviderConnectResult, Responder, Settings, TemplatePreview,
    TimelineItem,
};
use crate::inbox::rfc3339;

/// Reads an environment variable.
pub type Vars = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// The process environment.
pub fn process_env() -> Vars {
    Arc::new(|k| std::env::var(k).ok())
}

impl std::fmt::Debug for DeskOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeskOptions")
            .field("config_path", &self.config_path)
            .field("desk_user", &self.desk_user)
            .finish_non_exhaustive()
    }
}

/// How the desk was asked to start.
#[derive(Clone)]
pub struct DeskOptions {
    pub config_path: PathBuf,
    /// Environment lookup (`std::env::var` in the app; a map in tests).
    pub vars: Vars,
    /// Who is at this desk, for the audit log and notes.
    pub desk_user: String,
}

struct Demo {
    sim: Sim,
    scenario: ScenarioRun,
}

struct Runtime {
    mode: Mode,
    config: Arc<Config>,
    engine: Engine<TwilioClient>,
    running: Option<Running>,
    demo: Option<Demo>,
    forwarder: tokio::task::JoinHandle<()>,
}

/// The running desk. All methods are safe to call concurrently.
pub struct Desk {
    opts: DeskOptions,
    rt: Mutex<Runtime>,
    events: broadcast::Sender<DomainEvent>,
}

impl std::fmt::Debug for Desk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Desk")
            .field("config_path", &self.opts.config_path)
            .finish_non_exhaustive()
    }
}

fn internal(e: impl std::fmt::Display) -> IpcError {
    IpcError::new("internal", e.to_string())
}

fn invalid(e: impl std::fmt::Display) -> IpcError {
    IpcError::new("invalid_input", e.to_string())
}

impl From<EngineError> for IpcError {
    fn from(e: EngineError) -> Self {
        match e {
            EngineError::OptedOut { .. } => IpcError::new("opted_out", e.to_string()),
            EngineError::Invalid(m) => IpcError::new("invalid_input", m),
            EngineError::Store(s) => s.into(),
            EngineError::Provider(p) => provider_error(p),
        }
    }
}

fn provider_error(e: ProviderError) -> IpcError {
    match e {
        ProviderError::Auth { .. } => IpcError::new(
            "auth",
            "Twilio did not accept those credentials. Check the Account SID and Auth Token (or API key) and try again.",
        ),
        ProviderError::Transient { .. } | ProviderError::RateLimited { .. } => {
            IpcError::new("offline", format!("Could not reach Twilio: {e}"))
        }
        other => IpcError::new("internal", other.to_string()),
    }
}

/// Runs blocking store work off the async threads.
async fn blocking<R: Send + 'static>(
    f: impl FnOnce() -> Result<R, IpcError> + Send + 'static,
) -> Result<R, IpcError> {
    tokio::task::spawn_blocking(f).await.map_err(internal)?
}

impl Desk {
    /// Starts in live mode when the config names business numbers and credentials are found
    /// (environment or keychain); otherwise in demo mode on the built-in simulator.
    pub async fn start(opts: DeskOptions) -> Result<Arc<Self>, IpcError> {
        let (events, _) = broadcast::channel(1024);
        let rt = boot(&opts, &events).await?;
        Ok(Arc::new(Self {
            opts,
            rt: Mutex::new(rt),
            events,
        }))
    }

    /// Every domain event of the current engine (across restarts).
    pub fn subscribe(&self) -> broadcast::Receiver<DomainEvent> {
        self.events.subscribe()
    }

    pub async fn mode(&self) -> Mode {
        self.rt.lock().await.mode
    }

    pub async fn store(&self) -> Arc<Store> {
        self.rt.lock().await.engine.store().clone()
    }

    /// Waits until the engine has completed a sync pass with the provider.
    pub async fn wait_synced(&self) {
        let engine = self.rt.lock().await.engine.clone();
        engine.wait_synced().await;
    }

    /// The engine, once its database has passed the start-up integrity check (which runs
    /// beside the window's first paint): nothing is written to a file that has not.
    async fn writable(&self) -> Result<Engine<TwilioClient>, IpcError> {
        let engine = self.rt.lock().await.engine.clone();
        if engine.store_checked().await {
            return Ok(engine);
        }
        let why = engine.health().storage_problem.unwrap_or_else(|| {
            "the database did not pass its integrity check; nothing was saved".to_owned()
        });
        Err(IpcError::new(
            "storage",
            format!("Textback can't save: {why}"),
        ))
    }

    pub async fn config(&self) -> Arc<Config> {
        self.rt.lock().await.config.clone()
    }

    /// The demo simulator's base URL (demo mode only), for tests that drive it.
    pub async fn demo_sim_url(&self) -> Option<String> {
        self.rt.lock().await.demo.as_ref().map(|d| d.sim.base_url())
    }

    /// Stops the engine cleanly (tasks joined, nothing cut mid-transaction).
    pub async fn shutdown(&self) {
        let mut rt = self.rt.lock().await;
        stop(&mut rt).await;
    }

    pub async fn status(&self) -> Result<AppStatus, IpcError> {
        let (mode, config, engine, running) = {
            let rt = self.rt.lock().await;
            (
                rt.mode,
                rt.config.clone(),
                rt.engine.clone(),
                rt.running.is_some(),
            )
        };
        let health = engine.health();
        let store = engine.store().clone();
        let cfg = config.clone();
        let (pending, evidence) = blocking(move || {
            let pending = store.read(outbox::count_waiting)?;
            let mut evidence = Vec::new();
            for n in &cfg.numbers {
                evidence.push(responder_evidence(&store, n.number.as_str())?);
            }
            Ok((pending, evidence))
        })
        .await?;
        let responders = config
            .numbers
            .iter()
            .zip(evidence)
            .map(|(n, seen)| {
                let this_desk = config.engine.responder;
                Responder {
                    number: n.number.to_string(),
                    this_desk,
                    running: (this_desk && running) || (!this_desk && seen != Some(false)),
                }
            })
            .collect();
        Ok(AppStatus {
            mode,
            business_name: config.business.name.clone(),
            online: health.online,
            offline_since: health.offline_since.map(rfc3339),
            pending_outbox: pending,
            provider_problem: health
                .sending_paused
                .or(health.last_error.filter(|_| !health.online)),
            storage_problem: health.storage_problem,
            responders,
            version: env!("CARGO_PKG_VERSION").to_owned(),
        })
    }

    pub async fn inbox_list(
        &self,
        q: crate::dto::InboxQuery,
    ) -> Result<crate::dto::InboxPage, IpcError> {
        let store = self.store().await;
        blocking(move || crate::inbox::list(&store, &q)).await
    }

    /// The thread, marked read on this desk.
    pub async fn open_conversation(&self, id: i64) -> Result<crate::dto::Thread, IpcError> {
        let store = self.writable().await?.store().clone();
        blocking(move || crate::inbox::open(&store, id)).await
    }

    /// An attachment's MIME type and bytes for the shell's `textback-media` protocol: from the
    /// disk cache, else fetched through the provider now and cached. Only pictures
    /// ([`crate::media::shown_inline`]) are served; anything else is `invalid_input`.
    pub async fn media(&self, sid: &str) -> Result<(String, Vec<u8>), IpcError> {
        let engine = self.rt.lock().await.engine.clone();
        crate::media::load(engine.store().clone(), engine.provider().as_ref(), sid)
            .await
            .map_err(|e| match e {
                crate::media::LoadError::Provider(p) => provider_error(p),
                crate::media::LoadError::Ipc(e) => e,
            })
    }

    pub async fn total_unread(&self) -> Result<i64, IpcError> {
        let store = self.store().await;
        blocking(move || Ok(store.read(conversations::total_unread)?)).await
    }

    /// Alerts to repeat for replies still unread after the configured interval.
    pub async fn repeat_alerts(
        &self,
        state: Arc<std::sync::Mutex<crate::alerts::RepeatAlerts>>,
    ) -> Result<Vec<crate::alerts::Alert>, IpcError> {
        let store = self.store().await;
        let every = self.config().await.app.alert_repeat.as_chrono();
        blocking(move || {
            let mut state = state.lock().unwrap_or_else(|p| p.into_inner());
            Ok(state.due(&store, chrono::Utc::now(), every)?)
        })
        .await
    }

    pub async fn reply(&self, conversation_id: i64, body: &str) -> Result<TimelineItem, IpcError> {
        let engine = self.writable().await?;
        let user = self.opts.desk_user.clone();
        let body = body.to_owned();
        let store = engine.store().clone();
        let outbox_id =
            blocking(move || Ok(engine.queue_reply(conversation_id, &body, Some(&user))?)).await?;
        blocking(move || {
            let m = store
                .read(|c| textback_store::messages::by_outbox_id(c, outbox_id))?
                .ok_or_else(|| IpcError::new("internal", "the queued reply was not found"))?;
            Ok(TimelineItem::Message {
                id: m.id,
                at: rfc3339(m.created_at),
                direction: crate::dto::MessageDirection::Outbound,
                body: m.body,
                // As it was when queued: the sender may already be sending it; the UI
                // follows the delivery status through events.
                status: "pending".to_owned(),
                error: None,
                media_urls: Vec::new(),
                attachments: Vec::new(),
                automatic: false,
            })
        })
        .await
    }

    pub async fn start_conversation(&self, number: &str, body: &str) -> Result<i64, IpcError> {
        let (engine, config) = (self.writable().await?, self.config().await);
        let from = config
            .numbers
            .first()
            .map(|n| n.number.clone())
            .ok_or_else(|| invalid("no business number is configured"))?;
        let (number, body, user) = (
            number.to_owned(),
            body.to_owned(),
            self.opts.desk_user.clone(),
        );
        blocking(move || Ok(engine.start_conversation(&from, &number, &body, Some(&user))?)).await
    }

    pub async fn send_late_text_back(&self, call_id: i64) -> Result<(), IpcError> {
        let engine = self.writable().await?;
        let user = self.opts.desk_user.clone();
        blocking(move || {
            engine.send_late_text_back(call_id, Some(&user))?;
            Ok(())
        })
        .await
    }

    /// Runs a short store change and tells listeners the conversation changed.
    async fn change(
        &self,
        conversation_id: i64,
        f: impl FnOnce(&Store, &str) -> Result<(), IpcError> + Send + 'static,
    ) -> Result<(), IpcError> {
        let store = self.writable().await?.store().clone();
        let user = self.opts.desk_user.clone();
        blocking(move || f(&store, &user)).await?;
        let _ = self
            .events
            .send(DomainEvent::ConversationChanged { conversation_id });
        Ok(())
    }

    pub async fn mark_read(&self, id: i64, read: bool) -> Result<(), IpcError> {
        self.change(id, move |s, _| {
            Ok(s.immediate(|tx| conversations::mark_read(tx, id, read))?)
        })
        .await
    }

    pub async fn mark_done(&self, id: i64, done: bool) -> Result<(), IpcError> {
        self.change(id, move |s, _| {
            Ok(s.immediate(|tx| conversations::set_done(tx, id, done))?)
        })
        .await
    }

    pub async fn assign(&self, id: i64, staff: Option<String>) -> Result<(), IpcError> {
        let staff = staff.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
        self.change(id, move |s, user| {
            Ok(s.immediate(|tx| {
                conversations::assign(tx, id, staff.as_deref())?;
                audit::record(
                    tx,
                    chrono::Utc::now(),
                    user,
                    "assigned",
                    Some(&format!("conversation:{id}")),
                    staff.as_deref(),
                )
            })?)
        })
        .await
    }

    pub async fn add_note(&self, id: i64, body: &str) -> Result<TimelineItem, IpcError> {
        let body = body.trim().to_owned();
        if body.is_empty() {
            return Err(invalid("the note is empty"));
        }
        let store = self.writable().await?.store().clone();
        let user = self.opts.desk_user.clone();
        let note = blocking(move || {
            Ok(store.immediate(|tx| {
                conversations::get(tx, id)?;
                notes::add(tx, id, &user, &body, chrono::Utc::now())
            })?)
        })
        .await?;
        let _ = self.events.send(DomainEvent::ConversationChanged {
            conversation_id: id,
        });
        Ok(TimelineItem::Note {
            id: note.id,
            at: rfc3339(note.created_at),
            author: note.author,
            body: note.body,
        })
    }

    /// Marks the conversation's lead booked (opening one if the conversation had none).
    pub async fn mark_booked(&self, id: i64, job_value_cents: Option<i64>) -> Result<(), IpcError> {
        if job_value_cents.is_some_and(|v| v < 0) {
            return Err(invalid("the job value cannot be negative"));
        }
        self.set_lead(id, "booked", job_value_cents).await
    }

    pub async fn mark_lost(&self, id: i64) -> Result<(), IpcError> {
        self.set_lead(id, "lost", None).await
    }

    /// "I've got it": this desk's user takes an escalation, so paging stops. The first to take
    /// it wins; taking one already taken changes nothing and answers who has it.
    pub async fn acknowledge_escalation(
        &self,
        id: i64,
    ) -> Result<crate::dto::EscalationInfo, IpcError> {
        let store = self.writable().await?.store().clone();
        let user = self.opts.desk_user.clone();
        let (taken, info) = blocking(move || {
            let now = chrono::Utc::now();
            Ok(store.immediate(|tx| {
                let taken = textback_engine::lifecycle::acknowledge(tx, id, &user, now)?;
                let esc = textback_store::escalations::get(tx, id)?;
                Ok((taken, crate::inbox::escalation_info(tx, esc)?))
            })?)
        })
        .await?;
        let event = taken.unwrap_or(DomainEvent::ConversationChanged {
            conversation_id: info.conversation_id,
        });
        let _ = self.events.send(event);
        Ok(info)
    }

    /// The owner's results for a period in the business's time zone (see [`crate::funnel`]).
    pub async fn funnel(&self, q: crate::dto::FunnelQuery) -> Result<crate::dto::Funnel, IpcError> {
        let tz = self
            .config()
            .await
            .business_hours()
            .map(|h| h.tz)
            .map_err(invalid)?;
        let store = self.store().await;
        blocking(move || crate::funnel::build(&store, tz, &q)).await
    }

    async fn set_lead(
        &self,
        id: i64,
        state: &'static str,
        value: Option<i64>,
    ) -> Result<(), IpcError> {
        self.change(id, move |s, user| {
            let now = chrono::Utc::now();
            Ok(s.immediate(|tx| {
                conversations::get(tx, id)?;
                let lead = leads::ensure_open(tx, id, None, now)?;
                if value.is_some() {
                    leads::set_job_value(tx, lead.id, value)?;
                }
                // Closes the lead and stops its follow-ups, timers and paging; audited.
                textback_engine::lifecycle::stop_lead(tx, lead.id, state, state, user, now)?;
                Ok(())
            })?)
        })
        .await
    }

    pub async fn rename_contact(&self, conversation_id: i64, name: &str) -> Result<(), IpcError> {
        let name: String = name.trim().chars().take(100).collect();
        self.change(conversation_id, move |s, _| {
            Ok(s.immediate(|tx| {
                let conv = conversations::get(tx, conversation_id)?;
                contacts::rename(
                    tx,
                    conv.contact_id,
                    (!name.is_empty()).then_some(name.as_str()),
                )
            })?)
        })
        .await
    }

    pub async fn settings(&self) -> Settings {
        settings_of(&*self.config().await)
    }

    /// Validates and writes the settings to the config file, then restarts the engine with
    /// them. Fields locked by environment variables keep their values.
    pub async fn save_settings(&self, s: Settings) -> Result<Settings, IpcError> {
        let mut cfg = (*self.config().await).clone();
        apply_settings(&mut cfg, &s)?;
        cfg.validate().map_err(invalid)?;
        // Re-read the file so values the environment overrides are not written into it.
        let mut on_disk = Config::load(&self.opts.config_path, &|_| None).map_err(invalid)?;
        apply_settings(&mut on_disk, &s)?;
        on_disk.save(&self.opts.config_path).map_err(internal)?;
        self.restart().await?;
        Ok(self.settings().await)
    }

    /// Renders a template the way a text-back would, with this business's name and link.
    pub async fn preview(&self, text: &str) -> TemplatePreview {
        let c = self.config().await;
        self.template_preview(text, &c.business.name, &c.business.booking_link)
    }

    pub fn template_preview(
        &self,
        text: &str,
        business_name: &str,
        booking_link: &str,
    ) -> TemplatePreview {
        match Template::parse(text) {
            Ok(t) => {
                let rendered = t.render(&RenderContext {
                    business_name,
                    booking_link,
                    first_name: Some("Alex"),
                });
                TemplatePreview {
                    segments: segments(&rendered).into(),
                    rendered: Some(rendered),
                    error: None,
                }
            }
            Err(e) => TemplatePreview {
                rendered: None,
                error: Some(e.to_string()),
                segments: segments(text).into(),
            },
        }
    }

    /// Who works, who is off and who is on call for the seven days from `week_start`
    /// ("2026-03-09"; default: this week's Monday in the business's zone).
    pub async fn roster_week(
        &self,
        week_start: Option<&str>,
    ) -> Result<crate::dto::RosterWeek, IpcError> {
        let start = crate::team::parse_week_start(week_start)?;
        crate::team::week(&*self.config().await, start, chrono::Utc::now())
    }

    /// Who is on shift now (else on call), and until when.
    pub async fn roster_now(&self) -> Result<crate::dto::RosterNow, IpcError> {
        crate::team::now(&*self.config().await, chrono::Utc::now())
    }

    /// The do-not-text list, oldest opt-out first.
    pub async fn dnt_list(&self) -> Result<Vec<crate::dto::DntNumber>, IpcError> {
        let store = self.store().await;
        blocking(move || crate::dnt::list(&store)).await
    }

    /// Puts a number on the do-not-text list by hand (audited; queued texts to it cancelled).
    pub async fn dnt_add(&self, phone: &str) -> Result<crate::dto::DntNumber, IpcError> {
        let phone = crate::dnt::parse_phone(phone, self.config().await.business.region)?;
        let (store, user) = (
            self.writable().await?.store().clone(),
            self.opts.desk_user.clone(),
        );
        let (listed, added) = blocking(move || {
            let actor = crate::dnt::Actor {
                name: &user,
                now: chrono::Utc::now(),
            };
            crate::dnt::add(&store, &phone, actor)
        })
        .await?;
        if added {
            let _ = self.events.send(DomainEvent::OptedOut {
                phone: listed.phone.clone(),
                source: crate::dnt::SOURCE_STAFF.to_owned(),
            });
        }
        Ok(listed)
    }

    /// Takes a number off the do-not-text list (the customer asked to be texted again);
    /// audited with the reason.
    pub async fn dnt_remove(&self, phone: &str, reason: Option<String>) -> Result<(), IpcError> {
        let phone = crate::dnt::parse_phone(phone, self.config().await.business.region)?;
        let (store, user) = (
            self.writable().await?.store().clone(),
            self.opts.desk_user.clone(),
        );
        let e164 = phone.as_str().to_owned();
        blocking(move || {
            let actor = crate::dnt::Actor {
                name: &user,
                now: chrono::Utc::now(),
            };
            crate::dnt::remove(&store, &phone, reason.as_deref(), actor)
        })
        .await?;
        let _ = self.events.send(DomainEvent::OptedIn { phone: e164 });
        Ok(())
    }

    /// Imports a do-not-text CSV; bad rows are reported by line, the rest imported.
    pub async fn dnt_import(&self, csv: String) -> Result<crate::dto::DntImportResult, IpcError> {
        let region = self.config().await.business.region;
        let (store, user) = (
            self.writable().await?.store().clone(),
            self.opts.desk_user.clone(),
        );
        let (result, added) = blocking(move || {
            let actor = crate::dnt::Actor {
                name: &user,
                now: chrono::Utc::now(),
            };
            crate::dnt::import(&store, &csv, region, actor)
        })
        .await?;
        // NOTE: capped: a 100,000-row import would only overflow the event channel; the
        // inbox shows the rest on its next refresh.
        for phone in added.into_iter().take(200) {
            let _ = self.events.send(DomainEvent::OptedOut {
                phone,
                source: crate::dnt::SOURCE_IMPORT.to_owned(),
            });
        }
        Ok(result)
    }

    /// The do-not-text list as CSV, safe to open in a spreadsheet.
    pub async fn dnt_export(&self) -> Result<String, IpcError> {
        let store = self.store().await;
        blocking(move || crate::dnt::export(&store)).await
    }

    /// Checks Twilio credentials live. Only when they work are they saved to the keychain;
    /// returns the account's SMS-capable numbers to choose from.
    pub async fn connect(&self, auth: TwilioAuth) -> Result<ProviderConnectResult, IpcError> {
        let cfg = self.config().await;
        let base = (self.opts.vars)(textback_engine::config::env::API_BASE)
            .unwrap_or_else(|| textback_engine::config::DEFAULT_API_BASE.to_owned());
        let client = TwilioClient::new(&base, auth.clone(), cfg.provider.request_timeout.as_std())
            .map_err(invalid)?;
        client.check_credentials().await.map_err(provider_error)?;
        let numbers = client.list_numbers().await.map_err(provider_error)?;
        tokio::task::spawn_blocking(move || credentials::save_to_keychain(&auth))
            .await
            .map_err(internal)?
            .map_err(internal)?;
        Ok(ProviderConnectResult {
            numbers: numbers
                .into_iter()
                .filter(|n| n.sms_capable)
                .map(|n| n.phone_number)
                .collect(),
        })
    }

    /// Finishes connecting: writes the chosen numbers and responder choice to the config and
    /// switches to live mode (a first start for each number: history is imported, not texted).
    pub async fn finish_connect(
        &self,
        numbers: Vec<String>,
        responder: bool,
    ) -> Result<(), IpcError> {
        if numbers.is_empty() {
            return Err(invalid("choose at least one business number"));
        }
        let mut on_disk = Config::load(&self.opts.config_path, &|_| None).map_err(invalid)?;
        on_disk.numbers = numbers
            .iter()
            .map(|n| {
                PhoneNumber::parse_e164(n)
                    .map(|number| BusinessNumber {
                        number,
                        answered_by_ivr: false,
                    })
                    .map_err(invalid)
            })
            .collect::<Result<_, _>>()?;
        on_disk.engine.responder = responder;
        on_disk.save(&self.opts.config_path).map_err(internal)?;
        self.restart().await
    }

    async fn restart(&self) -> Result<(), IpcError> {
        let mut rt = self.rt.lock().await;
        stop(&mut rt).await;
        *rt = boot(&self.opts, &self.events).await?;
        Ok(())
    }
}

/// Whether the provider's log shows a responder at work for `number`: None with no recent
/// evidence either way; Some(false) when a fresh missed call got no text-back within 2 minutes.
fn responder_evidence(store: &Store, number: &str) -> Result<Option<bool>, IpcError> {
    Ok(store
        .read(|c| textback_store::calls::recent_missed_texted(c, number, chrono::Utc::now()))?)
}

async fn stop(rt: &mut Runtime) {
    if let Some(r) = rt.running.take() {
        r.shutdown().await;
    }
    rt.forwarder.abort();
    if let Some(demo) = rt.demo.take() {
        demo.scenario.stop();
        demo.sim.shutdown().await;
    }
}

async fn boot(
    opts: &DeskOptions,
    events: &broadcast::Sender<DomainEvent>,
) -> Result<Runtime, IpcError> {
    let vars = opts.vars.clone();
    let mut config = Config::load(&opts.config_path, &*vars).map_err(invalid)?;
    let live_auth = if config.numbers.is_empty() {
        None
    } else {
        let vars = vars.clone();
        let loaded = tokio::task::spawn_blocking(move || credentials::load(&*vars))
            .await
            .map_err(internal)?;
        match loaded {
            Ok((auth, _)) => Some(auth),
            Err(e) => {
                tracing::warn!("no usable credentials, starting in demo mode: {e}");
                None
            }
        }
    };
    let data_dir = config.data_dir();
    let (mode, auth, demo, store_path) = match live_auth {
        Some(auth) => {
            let path = data_dir.join(format!("textback-{}.db", auth.account_sid()));
            (Mode::Live, auth, None, path)
        }
        None => {
            let sim = Sim::start(SimConfig::default()).await.map_err(internal)?;
            let number = PhoneNumber::parse_e164(SimConfig::DEFAULT_NUMBER).map_err(internal)?;
            config.use_demo_simulator(&sim.base_url(), number);
            // Demo data has its own database, fresh each start, never mixed with an account's.
            let path = data_dir.join("demo").join("textback-demo.db");
            for suffix in ["", "-wal", "-shm"] {
                let mut p = path.as_os_str().to_owned();
                p.push(suffix);
                let _ = std::fs::remove_file(PathBuf::from(p));
            }
            let auth = TwilioAuth::AuthToken {
                account_sid: sim.account_sid().to_owned(),
                auth_token: Secret::new(sim.auth_token()),
            };
            let scenario = sim.run_scenario(&Scenario::demo());
            (Mode::Demo, auth, Some(Demo { sim, scenario }), path)
        }
    };
    let account = auth.account_sid().to_owned();
    let client = TwilioClient::new(
        &config.provider.api_base,
        auth,
        config.provider.request_timeout.as_std(),
    )
    .map_err(invalid)?;
    let store = open_store(&store_path).await?;
    let config = Arc::new(config);
    let engine = Engine::new(
        config.clone(),
        store,
        Arc::new(client),
        Arc::new(SystemClock),
        &account,
    );
    let mut rx = engine.subscribe();
    let tx = events.clone();
    let forwarder = tokio::spawn(async move {
        loop {
            match rx.recv().await {
                Ok(e) => {
                    let _ = tx.send(e);
                }
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(_) => break,
            }
        }
    });
    let mut running = engine.start();
    if demo.is_none() {
        engine.start_bookings(&mut running, &*vars);
    }
    let running = Some(running);
    tracing::info!(?mode, store = %store_path.display(), "desk started");
    Ok(Runtime {
        mode,
        config,
        engine,
        running,
        demo,
        forwarder,
    })
}

async fn open_store(path: &Path) -> Result<Arc<Store>, IpcError> {
    let path = path.to_path_buf();
    blocking(move || {
        Store::open_check_later(&path)
            .map(Arc::new)
            .map_err(internal)
    })
    .await
}

fn settings_of(c: &Config) -> Settings {
    Settings {
        business_name: c.business.name.clone(),
        time_zone: c.business.time_zone.clone(),
        booking_link: c.business.booking_link.clone(),
        hours: c.business.hours.clone(),
        holidays: c.business.holidays.iter().map(|d| d.to_string()).collect(),
        template_business_hours: c.textback.business_hours_template.to_string(),
        template_after_hours: c.textback.after_hours_template.to_string(),
        dedupe_window: c.textback.dedupe_window.to_string(),
        poll_interval: c.engine.poll_interval.to_string(),
        responder: c.engine.responder,
        staff: crate::team::staff_of(c),
        alert_repeat: c.app.alert_repeat.to_string(),
        canned_replies: c.app.canned_replies.clone(),
        launch_at_login: c.app.launch_at_login,
        followup: crate::lead_settings::followup_of(c),
        sending_hours: crate::lead_settings::sending_hours_of(c),
        escalation: crate::lead_settings::escalation_of(c),
        compliance: crate::lead_settings::compliance_of(c),
        shifts: crate::team::shifts_of(c),
        env_locked: c.env_locked.clone(),
    }
}

fn field<T, E: std::fmt::Display>(name: &str, r: Result<T, E>) -> Result<T, IpcError> {
    r.map_err(|e| IpcError::new("invalid_input", format!("{name}: {e}")))
}

fn apply_settings(c: &mut Config, s: &Settings) -> Result<(), IpcError> {
    c.business.name = s.business_name.trim().to_owned();
    c.business.time_zone = s.time_zone.trim().to_owned();
    c.business.booking_link = s.booking_link.trim().to_owned();
    c.business.hours = s.hours.clone();
    c.business.holidays = s
        .holidays
        .iter()
        .map(|d| field("holidays", d.trim().parse::<chrono::NaiveDate>()))
        .collect::<Result<_, _>>()?;
    c.textback.business_hours_template = field(
        "Business-hours template",
        Template::parse(&s.template_business_hours),
    )?;
    c.textback.after_hours_template = field(
        "After-hours template",
        Template::parse(&s.template_after_hours),
    )?;
    c.textback.dedupe_window = field("Dedupe window", HumanDuration::parse(&s.dedupe_window))?;
    c.engine.poll_interval = field("Poll interval", HumanDuration::parse(&s.poll_interval))?;
    c.engine.responder = s.responder;
    // Staff and rota are checked together (the rota names staff); the backup must be staff.
    crate::team::apply(c, &s.staff, &s.shifts)?;
    crate::lead_settings::apply_followup(c, &s.followup)?;
    crate::lead_settings::apply_sending_hours(c, &s.sending_hours)?;
    crate::lead_settings::apply_escalation(c, &s.escalation)?;
    crate::lead_settings::apply_compliance(c, &s.compliance)?;
    c.app.alert_repeat = field("Alert repeat", HumanDuration::parse(&s.alert_repeat))?;
    c.app.canned_replies = s
        .canned_replies
        .iter()
        .map(|r| r.trim().to_owned())
        .filter(|r| !r.is_empty())
        .collect();
    c.app.launch_at_login = s.launch_at_login;
    Ok(())
}

//! The harness: a simulator on 127.0.0.1, a real SQLite file in a temp dir, and an engine
//! whose clock the test moves. Tests drive the engine's steps directly; nothing sleeps.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::broadcast;

use textback_domain::{Clock, ManualClock, PhoneNumber, RenderContext, Template};
use textback_engine::config::BusinessNumber;
use textback_engine::{Config, DomainEvent, Engine, EngineError, SendStep, SyncReport};
use textback_providers::twilio::{TwilioAuth, TwilioClient};
use textback_providers::{MessageRecord, Provider, Secret};
use textback_sim::{CallScript, LegScript, Sim, SimConfig};
use textback_store::{Store, calls, contacts, decisions, outbox};

/// The business number the engine watches (Twilio's magic SMS-capable test number).
pub const BUSINESS: &str = "+15005550006";

/// Callers: ordinary US mobile numbers.
pub const CALLERS: [&str; 4] = [
    "+14155552671",
    "+14155552672",
    "+14155552673",
    "+14155552674",
];
pub const CALLER: &str = CALLERS[0];

/// A config that watches [`BUSINESS`] and is open around the clock, so the business-hours
/// template is chosen whatever time the tests run at.
pub fn config() -> Config {
    let mut config = Config::default();
    config.business.name = "Rapid Rooter Plumbing".into();
    config.business.booking_link = "https://book.example.com/rapid-rooter".into();
    config.business.hours = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
        .iter()
        .map(|d| (d.to_string(), "00:00-24:00".to_string()))
        .collect::<BTreeMap<_, _>>();
    config.numbers = vec![BusinessNumber {
        number: PhoneNumber::parse_e164(BUSINESS).expect("the business number is E.164"),
        answered_by_ivr: false,
    }];
    config
}

/// The body `template` renders to for a caller whose name is not known.
pub fn render(config: &Config, template: &Template) -> String {
    template.render(&RenderContext {
        business_name: &config.business.name,
        booking_link: &config.business.booking_link,
        first_name: None,
    })
}

/// A text-back body with its per-lead booking reference taken out, after checking it carries
/// exactly one (the tracked link's `metadata[textback_ref]`, 20 URL-safe characters).
pub fn untracked(body: &str) -> String {
    const PARAM: &str = "?metadata%5Btextback_ref%5D=";
    assert_eq!(
        body.matches(PARAM).count(),
        1,
        "one tracked booking link in {body:?}"
    );
    let at = body.find(PARAM).expect("counted above");
    let reference: String = body[at + PARAM.len()..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    assert_eq!(reference.len(), 20, "a 20-character reference in {body:?}");
    format!(
        "{}{}",
        &body[..at],
        &body[at + PARAM.len() + reference.len()..]
    )
}

pub type TestEngine = Engine<TwilioClient>;

pub struct Harness {
    pub sim: Sim,
    pub config: Arc<Config>,
    pub clock: ManualClock,
    pub store: Arc<Store>,
    pub engine: TestEngine,
    pub events: broadcast::Receiver<DomainEvent>,
    /// How far the sim's clock is moved ahead of the wall clock.
    sim_offset: Mutex<chrono::Duration>,
    timeout: Duration,
    // Last: the database file outlives everything that has it open.
    pub dir: tempfile::TempDir,
}

impl Harness {
    pub async fn start() -> Self {
        Self::with(config(), SimConfig::default()).await
    }

    pub async fn with_config(config: Config) -> Self {
        Self::with(config, SimConfig::default()).await
    }

    pub async fn with(mut config: Config, sim_config: SimConfig) -> Self {
        Self::build(&mut config, sim_config, Duration::from_secs(5)).await
    }

    /// A harness whose HTTP client gives up after `timeout` (for hanging-request tests).
    pub async fn with_timeout(timeout: Duration) -> Self {
        Self::build(&mut config(), SimConfig::default(), timeout).await
    }

    async fn build(config: &mut Config, sim_config: SimConfig, timeout: Duration) -> Self {
        let sim = Sim::start(sim_config)
            .await
            .expect("the simulator binds 127.0.0.1");
        config.provider.api_base = sim.base_url();
        let config = Arc::new(config.clone());
        let dir = tempfile::tempdir().expect("a temp dir for the database");
        // NOTE: provider time stamps are whole seconds; starting the engine's clock a little
        // behind keeps "now" from running ahead of calls placed during the test.
        let clock = ManualClock::new(Utc::now() - chrono::Duration::seconds(2));
        let store = Arc::new(Store::open(&dir.path().join("t.db")).expect("the store opens"));
        let engine = new_engine(&sim, &config, &store, &clock, timeout);
        let events = engine.subscribe();
        Harness {
            sim,
            config,
            clock,
            store,
            engine,
            events,
            sim_offset: Mutex::new(chrono::Duration::zero()),
            timeout,
            dir,
        }
    }

    pub fn db_path(&self) -> PathBuf {
        self.dir.path().join("t.db")
    }

    /// A process restart: a new store connection and a new engine on the same file (the old
    /// engine's in-memory state, health and event channel are gone).
    pub fn restart(&mut self) {
        let store = Arc::new(Store::open(&self.db_path()).expect("the store reopens"));
        self.restart_on(store);
    }

    /// A new engine on `store` (opened by the test, e.g. with its check left for later).
    pub fn restart_on(&mut self, store: Arc<Store>) {
        self.engine = new_engine(&self.sim, &self.config, &store, &self.clock, self.timeout);
        self.store = store;
        self.events = self.engine.subscribe();
    }

    /// A Twilio client of our own, as another desk or a person with the provider's console.
    pub fn client(&self) -> TwilioClient {
        client(&self.sim, Duration::from_secs(5))
    }

    /// Time passes for both sides: the provider's clock and the engine's.
    pub fn advance(&self, d: chrono::Duration) {
        let mut offset = self.sim_offset.lock().expect("offset lock");
        *offset += d;
        self.sim.set_clock_offset(*offset);
        self.clock.advance(d);
    }

    /// Moves the engine's clock up to the provider's "now" if it is behind (never back).
    pub fn catch_up(&self) {
        let sim_now = self.sim.now();
        if self.clock.now() < sim_now {
            self.clock.set(sim_now);
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// One sync pass, with the engine's clock caught up with the provider's.
    pub async fn try_sync(&self) -> Result<SyncReport, EngineError> {
        self.catch_up();
        self.engine.sync_once().await
    }

    pub async fn sync(&self) -> SyncReport {
        self.try_sync()
            .await
            .unwrap_or_else(|e| panic!("a sync against a healthy provider succeeds: {e}"))
    }

    pub async fn send_step(&self) -> SendStep {
        self.engine
            .send_step()
            .await
            .unwrap_or_else(|e| panic!("a send step never fails on the store: {e}"))
    }

    /// Steps the sender until nothing more can go now; returns the steps taken.
    pub async fn send_all(&self) -> Vec<SendStep> {
        let mut steps = Vec::new();
        for _ in 0..20 {
            let step = self.send_step().await;
            steps.push(step);
            if step != SendStep::Sent {
                return steps;
            }
        }
        panic!("the sender kept finding work for 20 steps: {steps:?}");
    }

    /// Asserts reconcile resolves the entry `entry_id` the provider never got: it goes back to
    /// pending, is resent, and exactly one text reaches the caller.
    pub async fn assert_reconciled_and_resent_once(&self, entry_id: i64) {
        assert_eq!(self.reconcile().await, 1, "reconcile resolves the entry");
        assert_eq!(
            self.outbox_entry(entry_id).state,
            outbox::State::Pending,
            "not in the provider's log: back to pending"
        );
        assert_eq!(
            self.send_all().await,
            vec![SendStep::Sent, SendStep::Empty],
            "resent"
        );
        assert_eq!(
            self.sim.sent_messages().len(),
            1,
            "exactly one text reached the caller"
        );
        assert_eq!(
            self.outbox_entry(entry_id).state,
            outbox::State::Sent,
            "recorded as sent"
        );
    }

    /// Asserts reconcile finds the entry `entry_id` in the provider's log as message
    /// `message_sid`: it is recorded as sent, tied to that message, and not resent.
    pub async fn assert_reconciled_as_sent(&self, entry_id: i64, message_sid: &str) {
        assert_eq!(self.reconcile().await, 1, "reconcile resolves the entry");
        let entry = self.outbox_entry(entry_id);
        assert_eq!(
            entry.state,
            outbox::State::Sent,
            "found in the provider's log: sent"
        );
        assert_eq!(
            entry.provider_message_id.as_deref(),
            Some(message_sid),
            "the entry is tied to the message the provider took"
        );
        assert_eq!(
            self.send_all().await,
            vec![SendStep::Empty],
            "nothing to resend"
        );
    }

    /// Asserts the sender finds nothing queued (`queued` says why) and the simulator has
    /// received no message at all (`sent` says why).
    pub async fn assert_nothing_sent(&self, queued: &str, sent: &str) {
        assert_eq!(self.send_all().await, vec![SendStep::Empty], "{queued}");
        assert!(self.sim.sent_messages().is_empty(), "{sent}");
    }

    /// One reconcile pass; returns how many unknown or in-flight entries it resolved.
    pub async fn reconcile(&self) -> usize {
        self.engine
            .reconcile()
            .await
            .unwrap_or_else(|e| panic!("reconcile against a healthy provider works: {e}"))
    }

    /// A text from the business number to `to` that goes straight to the provider, past the
    /// engine: a person at the provider's console, another desk, or a send whose answer the
    /// engine never recorded.
    pub async fn send_directly(&self, to: &str, body: &str) -> MessageRecord {
        let from = PhoneNumber::parse_e164(BUSINESS).expect("the business number is E.164");
        let to = PhoneNumber::parse_e164(to).expect("the recipient is E.164");
        self.client()
            .send_message(&from, &to, body)
            .await
            .expect("the sim accepts a direct send")
    }

    /// Places a call and waits until the sim has finalised it.
    pub async fn call(&self, script: CallScript) -> String {
        let sid = self.sim.place_call(script);
        self.wait_final(&sid).await;
        sid
    }

    pub async fn wait_final(&self, sid: &str) {
        tokio::time::timeout(Duration::from_secs(5), self.sim.wait_final(sid))
            .await
            .unwrap_or_else(|_| panic!("the sim finalises call {sid} within 5 s"));
    }

    /// An inbound call to the business number that ends at once as `legs` say.
    pub async fn inbound(&self, from: &str, legs: Vec<LegScript>) -> String {
        self.call(CallScript::inbound(
            from,
            BUSINESS,
            Some(Duration::ZERO),
            legs,
        ))
        .await
    }

    /// The plainest missed call: one phone rang, nobody picked up.
    pub async fn missed_call(&self, from: &str) -> String {
        self.inbound(from, vec![LegScript::no_answer("+14155550100")])
            .await
    }

    /// A missed call from `from` after the engine started watching (a first sync), synced
    /// while fresh, so it is decided in that sync.
    pub async fn fresh_missed_call(&self, from: &str) -> String {
        self.sync().await;
        let sid = self.missed_call(from).await;
        self.sync().await;
        sid
    }

    /// A fresh missed call from `from` whose text-back is queued and not yet sent.
    pub async fn queued_text_back(&self, from: &str) -> String {
        let sid = self.fresh_missed_call(from).await;
        assert_eq!(
            self.textback_entry(&sid).state,
            outbox::State::Pending,
            "the text-back is queued"
        );
        sid
    }

    /// Everything emitted since the last drain.
    pub fn drain_events(&mut self) -> Vec<DomainEvent> {
        let mut out = Vec::new();
        loop {
            match self.events.try_recv() {
                Ok(e) => out.push(e),
                Err(broadcast::error::TryRecvError::Lagged(n)) => {
                    panic!("the test fell {n} events behind the engine")
                }
                Err(_) => return out,
            }
        }
    }

    pub fn stored_call(&self, sid: &str) -> calls::Call {
        self.store
            .read(|c| calls::by_provider_id(c, "twilio", sid))
            .expect("reading calls works")
            .unwrap_or_else(|| panic!("call {sid} was synced into the store"))
    }

    pub fn decision(&self, sid: &str) -> Option<decisions::Decision> {
        let call = self.stored_call(sid);
        self.store
            .read(|c| decisions::for_call(c, call.id))
            .expect("reading decisions works")
    }

    /// The conversation the call's caller was given (a textable caller always has one).
    pub fn conversation_of(&self, sid: &str) -> i64 {
        self.stored_call(sid)
            .conversation_id
            .expect("a textable caller has a conversation")
    }

    pub fn contact(&self, phone: &str) -> contacts::Contact {
        self.store
            .read(|c| contacts::find_by_phone(c, phone))
            .expect("reading contacts works")
            .unwrap_or_else(|| panic!("{phone} is a contact"))
    }

    pub fn outbox_entry(&self, id: i64) -> outbox::Entry {
        self.store
            .read(|c| outbox::get(c, id))
            .expect("the outbox entry exists")
    }

    /// The outbox entry the call's text-back decision queued.
    pub fn textback_entry(&self, sid: &str) -> outbox::Entry {
        let d = self
            .decision(sid)
            .unwrap_or_else(|| panic!("call {sid} has a decision"));
        let id = d
            .outbox_id
            .unwrap_or_else(|| panic!("call {sid}'s decision queued a text: {d:?}"));
        self.outbox_entry(id)
    }

    /// Bodies of every message POSTed to the sim, in order.
    pub fn sent_bodies(&self) -> Vec<String> {
        self.sim
            .sent_messages()
            .into_iter()
            .map(|m| m.body)
            .collect()
    }

    /// [`Self::sent_bodies`], each with its one booking reference taken out ([`untracked`]).
    pub fn untracked_bodies(&self) -> Vec<String> {
        self.sent_bodies().iter().map(|b| untracked(b)).collect()
    }

    pub fn business_hours_text(&self) -> String {
        render(&self.config, &self.config.textback.business_hours_template)
    }
}

fn client(sim: &Sim, timeout: Duration) -> TwilioClient {
    TwilioClient::new(
        &sim.base_url(),
        TwilioAuth::AuthToken {
            account_sid: sim.account_sid().into(),
            auth_token: Secret::new(sim.auth_token()),
        },
        timeout,
    )
    .expect("a loopback base URL is accepted")
}

fn new_engine(
    sim: &Sim,
    config: &Arc<Config>,
    store: &Arc<Store>,
    clock: &ManualClock,
    timeout: Duration,
) -> TestEngine {
    let clock: Arc<dyn Clock> = Arc::new(clock.clone());
    Engine::new(
        Arc::clone(config),
        Arc::clone(store),
        Arc::new(client(sim, timeout)),
        clock,
        sim.account_sid(),
    )
}

/// Whether `events` holds one matching `pred`, and how many.
pub fn count(events: &[DomainEvent], pred: impl Fn(&DomainEvent) -> bool) -> usize {
    events.iter().filter(|e| pred(e)).count()
}

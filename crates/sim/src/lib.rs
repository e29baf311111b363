//! A Twilio REST API (2010-04-01) simulator on 127.0.0.1, for the provider adapter's
//! integration tests, the engine's tests and benchmark, fault injection, and the demo mode.
//!
//! # What it speaks
//! Twilio's exact wire format under `/2010-04-01/Accounts/{AccountSid}/`:
//! `{AC}.json`, `IncomingPhoneNumbers.json`, `Calls.json` (filters `To`, `From`,
//! `ParentCallSid`, `Status`, `StartTime`/`StartTime>=`/`StartTime<=`, `EndTime…`),
//! `Calls/{Sid}.json`, `Calls/{Sid}/Recordings.json`, `Messages.json` (GET with `To`, `From`,
//! `DateSent…`; POST form-encoded), `Messages/{Sid}.json`, `Messages/{Sid}/Media.json`,
//! `Messages/{Sid}/Media/{MediaSid}.json` and the media content at the same path without
//! `.json` (served directly, with auth; real Twilio redirects to storage). Resources carry every field
//! Twilio's OpenAPI spec lists (nullable ones as `null`, dates in RFC 2822, `duration` and
//! `num_segments` as strings); lists are newest first, paged with relative
//! `next_page_uri`s carrying a `PageToken`; errors are Twilio's
//! `{code, message, more_info, status}`. Auth is HTTP Basic with the account SID + auth token
//! or an API key (`SK…`) + secret. Unknown paths and accounts get 20404.
//!
//! Outbound messages go `queued` → `sent` → `delivered` (or `undelivered` with the error code
//! set by [`Sim::set_undeliverable`]) over [`Sim::set_delivery_delay`] (default 1 s).
//! Inbound texts get Twilio's default keyword handling (STOP/START/HELP). Calls ring until
//! their `ring` timer (a tokio timer) or [`Sim::end_call`], then end as their [`CallScript`]
//! says. Time stamps are wall-clock time, sped up by [`Sim::set_clock_scale`], plus
//! [`Sim::set_clock_offset`].
//!
//! A second, untwilio-like JSON surface under `/_sim/…` ([`control`]) drives the same
//! behaviour from another process, and [`Scenario`]s play a timeline of calls and texts
//! (with scripted, reactive customer replies); [`Scenario::demo`] is the demo mode's.
//!
//! # Adding an endpoint
//! 1. Add a variant to `Endpoint` in `api.rs`, parse its path in `Endpoint::parse`, and give
//!    it a [`Route`] in `Endpoint::route` (add the `Route` variant too, so faults can target it).
//! 2. Render its resource in `wire.rs` with every field from the spec
//!    (`shared/specs/twilio_api_v2010.json`), then answer it in `api::read` (lists go through
//!    `ListQuery::page`, which does Twilio's envelope and paging).
//!
//! # Adding a fault
//! Add a variant to [`Fault`] (and its `kind` name to [`fault::FaultSpec`]), then handle it in
//! `api::twilio`: faults that replace the answer return before auth; faults that distort a
//! real answer (like `TruncatedJson`) are applied after dispatch.

mod api;
pub mod calcom;
pub mod control;
pub mod fault;
mod net;
pub mod scenario;
pub mod script;
mod server;
mod store;
mod switches;
mod wire;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde::Serialize;

pub use fault::{Fault, FaultSpec, Route};
pub use scenario::{Scenario, ScenarioError, ScenarioEvent, ScenarioRun};
pub use script::{CallKind, CallScript, CallSpec, LegOutcome, LegScript, LegSpec, ParentOutcome};

use server::Server;
use store::Shared;
use switches::Switchable;

/// The simulated account.
#[derive(Clone, PartialEq, Eq)]
pub struct SimConfig {
    pub account_sid: String,
    pub auth_token: String,
    /// `(key sid "SK…", secret)` pairs that may authenticate instead of the auth token.
    pub api_keys: Vec<(String, String)>,
    /// E.164 numbers the account owns (SMS-capable): the only valid `From` for POST Messages.
    pub numbers: Vec<String>,
}

impl std::fmt::Debug for SimConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimConfig")
            .field("account_sid", &self.account_sid)
            .field("auth_token", &"***")
            .field(
                "api_keys",
                &self
                    .api_keys
                    .iter()
                    .map(|(k, _)| (k, "***"))
                    .collect::<Vec<_>>(),
            )
            .field("numbers", &self.numbers)
            .finish()
    }
}

impl SimConfig {
    pub const DEFAULT_ACCOUNT_SID: &'static str = "ACfeedfacefeedfacefeedfacefeedface";
    pub const DEFAULT_AUTH_TOKEN: &'static str = "sim-auth-token";
    pub const DEFAULT_API_KEY_SID: &'static str = "SKfeedfacefeedfacefeedfacefeedface";
    pub const DEFAULT_API_KEY_SECRET: &'static str = "sim-api-key-secret";
    /// Twilio's magic "valid, SMS-capable" test number.
    pub const DEFAULT_NUMBER: &'static str = "+15005550006";
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            account_sid: Self::DEFAULT_ACCOUNT_SID.to_owned(),
            auth_token: Self::DEFAULT_AUTH_TOKEN.to_owned(),
            api_keys: vec![(
                Self::DEFAULT_API_KEY_SID.to_owned(),
                Self::DEFAULT_API_KEY_SECRET.to_owned(),
            )],
            numbers: vec![Self::DEFAULT_NUMBER.to_owned()],
        }
    }
}

/// A clock scale the sim cannot run at ([`Sim::set_clock_scale`]).
#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error)]
#[error("the clock scale must be a number above 0 and at most 1000000, not {0}")]
pub struct BadClockScale(pub f64);

/// A message created by POST Messages.json.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SentMessage {
    pub sid: String,
    pub from: String,
    pub to: String,
    pub body: String,
    /// The sim's clock (offset included) when it arrived.
    pub received_at: DateTime<Utc>,
    #[serde(skip)]
    pub instant: Instant,
}

/// Any message the account holds (inbound, outbound, canned replies), as the sim sees it now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MessageSnapshot {
    pub sid: String,
    pub from: String,
    pub to: String,
    pub body: String,
    pub direction: String,
    pub status: String,
    pub error_code: Option<u32>,
}

/// A running simulator. Dropping it stops the server (without waiting); prefer
/// [`Sim::shutdown`].
#[derive(Debug)]
pub struct Sim {
    shared: Arc<Shared>,
    server: Server,
}

impl Sim {
    /// Binds 127.0.0.1 on a free port.
    pub async fn start(cfg: SimConfig) -> std::io::Result<Sim> {
        Self::start_on(cfg, server::LOOPBACK).await
    }

    pub async fn start_on(cfg: SimConfig, addr: SocketAddr) -> std::io::Result<Sim> {
        let shared = Arc::new(Shared::new(cfg, tokio::runtime::Handle::current()));
        let app = control::router()
            .fallback(api::twilio)
            .with_state(Arc::clone(&shared));
        let server = Server::start(
            addr,
            Some(Arc::clone(&shared.accepting)),
            app,
            shared.shutdown.subscribe(),
            "sim",
        )
        .await?;
        Ok(Sim { shared, server })
    }

    /// `http://127.0.0.1:PORT`, to be used as the Twilio API base URL.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.server.addr())
    }

    pub fn addr(&self) -> SocketAddr {
        self.server.addr()
    }

    pub fn account_sid(&self) -> &str {
        &self.shared.cfg.account_sid
    }

    pub fn auth_token(&self) -> &str {
        &self.shared.cfg.auth_token
    }

    pub fn config(&self) -> &SimConfig {
        &self.shared.cfg
    }

    /// The sim's "now": wall clock plus the offset.
    pub fn now(&self) -> DateTime<Utc> {
        self.shared.now()
    }

    /// Creates the call (parent ringing, child legs ringing) and returns the parent sid.
    /// With `ring: Some(d)` a tokio timer finalises it after `d`; with `None` it rings until
    /// [`Sim::end_call`]. Needs a tokio runtime (the one the sim was started on is used).
    pub fn place_call(&self, script: CallScript) -> String {
        self.shared.place_call(script)
    }

    /// Finalises a call now (no-op if unknown or already final).
    pub fn end_call(&self, parent_sid: &str) {
        self.shared.finalise(parent_sid);
    }

    /// When the call (parent or child leg) became final.
    pub fn final_at(&self, sid: &str) -> Option<Instant> {
        self.shared.final_at(sid)
    }

    /// Waits until the call is final. Never returns for an unknown sid: wrap in a timeout.
    pub async fn wait_final(&self, sid: &str) -> Instant {
        self.shared.wait_final(sid).await
    }

    /// A text from a customer (`from`) to a business number (`to`); returns its sid.
    pub fn inbound_sms(&self, from: &str, to: &str, body: &str) -> String {
        self.shared.inbound_sms(from, to, body)
    }

    /// A picture message from a customer: `media` is `(content type, bytes)` per attachment,
    /// served by `Messages/{Sid}/Media.json` and the media content URLs. Returns the `MM…`
    /// sid (an ordinary `SM…` text when `media` is empty).
    pub fn inbound_mms(
        &self,
        from: &str,
        to: &str,
        body: &str,
        media: Vec<(String, Vec<u8>)>,
    ) -> String {
        self.shared.inbound_mms(from, to, body, media)
    }

    /// Every message created by POST Messages.json, in arrival order.
    pub fn sent_messages(&self) -> Vec<SentMessage> {
        self.shared.lock().sent.clone()
    }

    /// Every POST Messages.json attempt, faulted and rejected ones included.
    pub fn message_requests(&self) -> usize {
        self.shared.message_requests.load(Ordering::SeqCst)
    }

    /// Every request on `route` so far (faulted and rejected ones included), e.g.
    /// `requests(Route::CallsList) > 0` once a client has started polling calls.
    pub fn requests(&self, route: Route) -> usize {
        self.shared.requests(route)
    }

    /// All messages of the account, oldest first.
    pub fn messages(&self) -> Vec<MessageSnapshot> {
        self.shared
            .lock()
            .messages
            .iter()
            .map(|m| MessageSnapshot {
                sid: m.sid.clone(),
                from: m.from.clone(),
                to: m.to.clone(),
                body: m.body.clone(),
                direction: m.direction.to_owned(),
                status: m.status.to_owned(),
                error_code: m.error_code,
            })
            .collect()
    }

    /// Waits until some message of the account satisfies `pred` (checked now and after every
    /// message change) and returns it. Never returns if none ever does: wrap in a timeout.
    pub async fn wait_message(&self, pred: impl Fn(&MessageSnapshot) -> bool) -> MessageSnapshot {
        loop {
            let notified = self.shared.message_notify.notified();
            tokio::pin!(notified);
            // Register before looking so a change between look and await is not lost.
            notified.as_mut().enable();
            if let Some(m) = self.messages().into_iter().find(|m| pred(m)) {
                return m;
            }
            notified.await;
        }
    }

    /// Sends to `number` fail with 21614 (not a mobile number).
    pub fn set_landline(&self, number: &str) {
        self.shared.lock().landlines.insert(number.to_owned());
    }

    /// Sends to `number` are accepted but end `undelivered` with `error_code` (30003, 30006…).
    pub fn set_undeliverable(&self, number: &str, error_code: u32) {
        self.shared
            .lock()
            .undeliverable
            .insert(number.to_owned(), error_code);
    }

    /// The customer opted out of texts from the business number, as if they had texted STOP
    /// (without the STOP message and reply). Either order of the two numbers is understood:
    /// the one the account owns is the business side.
    pub fn opt_out(&self, from: &str, to: &str) {
        let pair = self.shared.opt_out_pair(from, to);
        self.shared.lock().opted_out.insert(pair);
    }

    /// Undoes [`Sim::opt_out`] (as START would).
    pub fn opt_in(&self, from: &str, to: &str) {
        let pair = self.shared.opt_out_pair(from, to);
        self.shared.lock().opted_out.remove(&pair);
    }

    /// Whether sends between these two numbers are blocked with 21610 (either order).
    pub fn is_opted_out(&self, a: &str, b: &str) -> bool {
        let pair = self.shared.opt_out_pair(a, b);
        self.shared.lock().opted_out.contains(&pair)
    }

    /// The next requests on `route` get these faults, one each, in order.
    pub fn inject(&self, route: Route, faults: Vec<Fault>) {
        self.shared.inject(route, faults);
    }

    /// Drops every queued fault.
    pub fn clear_faults(&self) {
        self.shared.clear_faults();
    }

    /// While `true`, every Twilio request answers 401 / 20003 (credentials revoked).
    pub fn set_revoked(&self, revoked: bool) {
        self.shared.set_revoked(revoked);
    }

    /// `false` simulates the network being down: connections are closed without an answer
    /// (the `/_sim` control API too, so only the Rust API can turn it back on).
    pub fn set_accepting(&self, accepting: bool) {
        self.shared.accepting.store(accepting, Ordering::SeqCst);
    }

    /// Shifts the sim's "now" (time stamps and date filters) by `d`.
    pub fn set_clock_offset(&self, d: chrono::Duration) {
        self.shared.set_clock_offset(d);
    }

    /// Makes the sim's clock run `scale` times as fast as the wall clock: at wall time `wall`
    /// it reads `origin + (wall − origin) × scale`, plus the offset ([`Sim::set_clock_offset`]),
    /// the same rule as the daemon's `TEXTBACK_TEST_CLOCK`, so call and message time stamps
    /// move at the daemon's pace. A scale of 1 is real time again. Timers (rings, delivery,
    /// faults' delays) stay in real time. Err for a scale that is not a finite number above 0
    /// (at most a million).
    pub fn set_clock_scale(&self, origin: DateTime<Utc>, scale: f64) -> Result<(), BadClockScale> {
        self.shared.set_clock_scale(origin, scale)
    }

    /// How long a sent message takes from `queued` to `delivered` (half of it to `sent`).
    pub fn set_delivery_delay(&self, d: Duration) {
        self.shared.lock().delivery_delay = d;
    }

    /// Plays a scenario's timeline on this sim; see [`Scenario`].
    pub fn run_scenario(&self, scenario: &Scenario) -> ScenarioRun {
        scenario::run(&self.shared, scenario)
    }

    /// Stops the server, answering hanging requests with 503, and waits for it (at most 5 s).
    pub async fn shutdown(mut self) {
        self.shared.shutdown.send_replace(true);
        self.server.stopped().await;
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        self.shared.shutdown.send_replace(true);
    }
}

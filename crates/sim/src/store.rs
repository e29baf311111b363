//! The simulated account's state (calls, recordings, messages, opt-outs, queued faults) and
//! the behaviour that changes it: call finalisation, message delivery, STOP handling, and
//! scripted replies. Everything sits behind one `std::sync::Mutex` that is never held
//! across an `.await`.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicUsize};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use tokio::runtime::Handle;
use tokio::sync::{Notify, watch};

use crate::fault::{Fault, Route};
use crate::script::{CallKind, CallScript, LegOutcome, ParentOutcome};
use crate::switches::Switches;
use crate::wire::num_segments;
use crate::{SentMessage, SimConfig};

/// Seconds a simulated voicemail lasts (recording duration, added to the parent's duration).
const VOICEMAIL_SECS: u32 = 18;

pub(crate) const STOP_REPLY: &str = "You have successfully been unsubscribed. You will not receive any more messages from this number. Reply START to resubscribe.";
pub(crate) const START_REPLY: &str = "You have successfully been re-subscribed to messages from this number. Reply HELP for help. Reply STOP to unsubscribe. Msg&Data Rates May Apply.";
pub(crate) const HELP_REPLY: &str = "Reply STOP to unsubscribe. Msg&Data Rates May Apply.";

/// A random Twilio-style sid: two-letter prefix + 32 lowercase hex digits.
pub(crate) fn new_sid(prefix: &str) -> String {
    format!("{prefix}{:032x}", rand::random::<u128>())
}

#[derive(Debug, Clone)]
pub(crate) struct NumberRec {
    pub sid: String,
    pub phone_number: String,
    pub created: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub(crate) struct CallRec {
    pub seq: u64,
    pub sid: String,
    pub parent_sid: Option<String>,
    pub from: String,
    pub to: String,
    pub direction: &'static str,
    pub status: &'static str,
    pub created: DateTime<Utc>,
    pub updated: DateTime<Utc>,
    pub start_time: Option<DateTime<Utc>>,
    pub end_time: Option<DateTime<Utc>>,
    pub duration: Option<u32>,
    pub answered_by: Option<String>,
    pub phone_number_sid: Option<String>,
    pub final_at: Option<Instant>,
}

#[derive(Debug, Clone)]
pub(crate) struct RecordingRec {
    pub sid: String,
    pub call_sid: String,
    pub created: DateTime<Utc>,
    pub start_time: DateTime<Utc>,
    pub duration: u32,
}

#[derive(Debug, Clone)]
pub(crate) struct MessageRec {
    pub seq: u64,
    pub sid: String,
    pub from: String,
    pub to: String,
    pub body: String,
    pub direction: &'static str,
    pub status: &'static str,
    pub error_code: Option<u32>,
    pub error_message: Option<String>,
    pub created: DateTime<Utc>,
    pub updated: DateTime<Utc>,
    pub date_sent: Option<DateTime<Utc>>,
    pub num_segments: usize,
    pub num_media: usize,
}

/// One attachment of an MMS: the Media resource and its content.
#[derive(Debug, Clone)]
pub(crate) struct MediaRec {
    pub sid: String,
    pub message_sid: String,
    pub content_type: String,
    pub bytes: Arc<Vec<u8>>,
    pub created: DateTime<Utc>,
}

/// A call waiting for its ring timer or `end_call`.
#[derive(Debug)]
struct PendingCall {
    script: CallScript,
    children: Vec<String>,
    started: Instant,
}

/// A scripted customer's next answer to a text from the business.
#[derive(Debug, Clone)]
pub(crate) struct PendingReply {
    pub body: String,
    pub delay: Duration,
}

#[derive(Debug, Default)]
pub(crate) struct Inner {
    seq: u64,
    pub calls: Vec<CallRec>,
    pending: HashMap<String, PendingCall>,
    pub recordings: Vec<RecordingRec>,
    pub messages: Vec<MessageRec>,
    /// Attachments of inbound MMS, oldest first.
    pub media: Vec<MediaRec>,
    pub sent: Vec<SentMessage>,
    pub landlines: HashSet<String>,
    pub undeliverable: HashMap<String, u32>,
    /// (customer, business number) pairs that texted STOP.
    pub opted_out: HashSet<(String, String)>,
    pub switches: Switches<Route, Fault>,
    /// The sim's clock runs `scale` times faster than the wall clock from `origin` (see
    /// [`crate::Sim::set_clock_scale`]); `None`: real time.
    pub clock_scale: Option<ClockScale>,
    pub delivery_delay: Duration,
    /// Scripted answers per customer number, consumed one per text the business sends them.
    pub replies: HashMap<String, VecDeque<PendingReply>>,
}

impl Inner {
    fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }
}

/// A clock running faster (or slower) than the wall clock: at wall time `wall` it reads
/// `origin + (wall - origin) × scale` (before the offset), the daemon's test clock's rule.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct ClockScale {
    pub origin: DateTime<Utc>,
    pub scale: f64,
}

impl ClockScale {
    /// The largest scale accepted, as the daemon's test clock.
    pub const MAX: f64 = 1e6;

    /// Err unless `scale` is a finite number above 0 and at most [`ClockScale::MAX`].
    pub fn new(origin: DateTime<Utc>, scale: f64) -> Result<ClockScale, crate::BadClockScale> {
        if scale.is_finite() && scale > 0.0 && scale <= Self::MAX {
            Ok(ClockScale { origin, scale })
        } else {
            Err(crate::BadClockScale(scale))
        }
    }

    fn at(&self, wall: DateTime<Utc>) -> DateTime<Utc> {
        let since = (wall - self.origin).num_milliseconds() as f64 * self.scale;
        // Saturating float-to-int conversion, then checked date arithmetic: a far origin with
        // a big scale must not panic; the reading stays at the wall clock instead.
        chrono::Duration::try_milliseconds(since as i64)
            .and_then(|d| self.origin.checked_add_signed(d))
            .unwrap_or(wall)
    }
}

#[derive(Debug)]
pub(crate) struct Shared {
    pub cfg: SimConfig,
    pub numbers: Vec<NumberRec>,
    pub created: DateTime<Utc>,
    inner: Mutex<Inner>,
    pub message_requests: AtomicUsize,
    /// Every request per route (faulted and rejected ones included), for tests that wait for
    /// a client's first poll.
    pub route_requests: Mutex<HashMap<Route, usize>>,
    /// Woken whenever a call becomes final.
    pub final_notify: Notify,
    /// Woken whenever a message is stored or changes status.
    pub message_notify: Notify,
    /// Cleared to simulate the network being down (see `net.rs`).
    pub accepting: Arc<AtomicBool>,
    /// Set once on shutdown; hanging/delayed answers and background tasks watch it.
    pub shutdown: watch::Sender<bool>,
    /// Bumped to stop every running scenario.
    pub scenario_stop: watch::Sender<u64>,
    pub runtime: Handle,
}

impl Shared {
    /// Runs the sim's clock `scale` times as fast as the wall clock from `origin` (1: real
    /// time again); Err for a scale [`ClockScale::new`] refuses.
    pub fn set_clock_scale(
        &self,
        origin: DateTime<Utc>,
        scale: f64,
    ) -> Result<(), crate::BadClockScale> {
        let s = ClockScale::new(origin, scale)?;
        self.lock().clock_scale = (scale != 1.0).then_some(s);
        Ok(())
    }

    pub(crate) fn new(cfg: SimConfig, runtime: Handle) -> Self {
        let created = Utc::now();
        let numbers = cfg
            .numbers
            .iter()
            .map(|n| NumberRec {
                sid: new_sid("PN"),
                phone_number: n.clone(),
                created,
            })
            .collect();
        let inner = Inner {
            delivery_delay: Duration::from_secs(1),
            ..Inner::default()
        };
        Shared {
            cfg,
            numbers,
            created,
            inner: Mutex::new(inner),
            message_requests: AtomicUsize::new(0),
            route_requests: Mutex::new(HashMap::new()),
            final_notify: Notify::new(),
            message_notify: Notify::new(),
            accepting: Arc::new(AtomicBool::new(true)),
            shutdown: watch::Sender::new(false),
            scenario_stop: watch::Sender::new(0),
            runtime,
        }
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, Inner> {
        // NOTE: a panic elsewhere must not wedge the sim for every later test request.
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(crate) fn now(&self) -> DateTime<Utc> {
        Self::now_locked(&self.lock())
    }

    fn now_locked(inner: &Inner) -> DateTime<Utc> {
        let wall = Utc::now();
        let now = inner.clock_scale.map_or(wall, |s| s.at(wall));
        // An absurd offset (from the control API) must not overflow chrono and panic.
        now.checked_add_signed(inner.switches.clock_offset)
            .unwrap_or(now)
    }

    pub(crate) fn owns(&self, number: &str) -> bool {
        self.cfg.numbers.iter().any(|n| n == number)
    }

    pub(crate) fn number_sid(&self, number: &str) -> Option<String> {
        self.numbers
            .iter()
            .find(|n| n.phone_number == number)
            .map(|n| n.sid.clone())
    }

    pub(crate) fn first_number(&self) -> String {
        self.cfg.numbers.first().cloned().unwrap_or_default()
    }

    /// Resolves after `d`, or `false` early if the sim shuts down first.
    pub(crate) async fn sleep_unless_shutdown(&self, d: Duration) -> bool {
        let mut rx = self.shutdown.subscribe();
        tokio::select! {
            () = tokio::time::sleep(d) => true,
            _ = rx.wait_for(|down| *down) => false,
        }
    }

    pub(crate) fn stop_scenarios(&self) {
        self.scenario_stop
            .send_modify(|generation| *generation += 1);
    }

    pub(crate) fn count_request(&self, route: Route) {
        let mut counts = self
            .route_requests
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        *counts.entry(route).or_default() += 1;
    }

    pub(crate) fn requests(&self, route: Route) -> usize {
        let counts = self
            .route_requests
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        counts.get(&route).copied().unwrap_or(0)
    }

    pub(crate) fn take_fault(&self, route: Route) -> Option<Fault> {
        self.lock().switches.faults.take(route, Route::Any)
    }

    // ---- calls ----

    pub(crate) fn place_call(self: &Arc<Self>, script: CallScript) -> String {
        let parent_sid = new_sid("CA");
        let business = match script.direction {
            CallKind::Inbound => &script.to,
            CallKind::OutboundApi => &script.from,
        };
        let phone_number_sid = self.number_sid(business);
        let ring = script.ring;
        {
            let mut inner = self.lock();
            let now = Self::now_locked(&inner);
            let seq = inner.next_seq();
            inner.calls.push(CallRec {
                seq,
                sid: parent_sid.clone(),
                parent_sid: None,
                from: script.from.clone(),
                to: script.to.clone(),
                direction: script.direction.as_wire(),
                status: "ringing",
                created: now,
                updated: now,
                start_time: Some(now),
                end_time: None,
                duration: None,
                answered_by: None,
                phone_number_sid: phone_number_sid.clone(),
                final_at: None,
            });
            let mut children = Vec::new();
            if script.direction == CallKind::Inbound {
                for leg in &script.legs {
                    let sid = new_sid("CA");
                    let seq = inner.next_seq();
                    inner.calls.push(CallRec {
                        seq,
                        sid: sid.clone(),
                        parent_sid: Some(parent_sid.clone()),
                        // <Dial> passes the caller's number through as caller ID by default.
                        from: script.from.clone(),
                        to: leg.to.clone(),
                        direction: "outbound-dial",
                        status: "ringing",
                        created: now,
                        updated: now,
                        start_time: Some(now),
                        end_time: None,
                        duration: None,
                        answered_by: None,
                        phone_number_sid: None,
                        final_at: None,
                    });
                    children.push(sid);
                }
            }
            inner.pending.insert(
                parent_sid.clone(),
                PendingCall {
                    script,
                    children,
                    started: Instant::now(),
                },
            );
        }
        if let Some(ring) = ring {
            let shared = Arc::clone(self);
            let sid = parent_sid.clone();
            self.runtime.spawn(async move {
                if shared.sleep_unless_shutdown(ring).await {
                    shared.finalise(&sid);
                }
            });
        }
        parent_sid
    }

    /// Ends a pending call as its script says; a no-op for unknown or already final calls.
    pub(crate) fn finalise(&self, parent_sid: &str) {
        {
            let mut inner = self.lock();
            let Some(pending) = inner.pending.remove(parent_sid) else {
                return;
            };
            let now = Self::now_locked(&inner);
            let final_at = Instant::now();
            let rang = u32::try_from(pending.started.elapsed().as_secs()).unwrap_or(u32::MAX);
            let script = &pending.script;
            let talk_of = |outcome: LegOutcome| match outcome {
                LegOutcome::Answered { talk } => {
                    Some(u32::try_from(talk.as_secs()).unwrap_or(u32::MAX))
                }
                _ => None,
            };

            let (parent_status, parent_talk, parent_answered_by) = match script.direction {
                CallKind::Inbound => {
                    let longest_talk = script.legs.iter().filter_map(|l| talk_of(l.outcome)).max();
                    (script.parent_outcome.as_wire(), longest_talk, None)
                }
                // The dialled customer is the call itself: no child legs.
                CallKind::OutboundApi => match script.legs.first() {
                    Some(leg) if script.parent_outcome == ParentOutcome::Completed => (
                        leg.outcome.as_wire(),
                        talk_of(leg.outcome),
                        leg.answered_by.clone(),
                    ),
                    _ => (script.parent_outcome.as_wire(), None, None),
                },
            };
            let recorded = script.voicemail && parent_status == "completed";

            for (child_sid, leg) in pending.children.iter().zip(&script.legs) {
                if let Some(c) = inner.calls.iter_mut().find(|c| &c.sid == child_sid) {
                    c.status = leg.outcome.as_wire();
                    c.duration = talk_of(leg.outcome);
                    c.answered_by = match leg.outcome {
                        LegOutcome::Answered { .. } => leg.answered_by.clone(),
                        _ => None,
                    };
                    c.end_time = Some(now);
                    c.updated = now;
                    c.final_at = Some(final_at);
                }
            }
            if let Some(c) = inner.calls.iter_mut().find(|c| c.sid == parent_sid) {
                c.status = parent_status;
                // Twilio's parent duration covers the whole call: ringing, talk, voicemail.
                // NOTE: talk is simulated, so `duration` may exceed end_time - start_time.
                c.duration = (parent_status == "completed").then(|| {
                    let vm = if recorded { VOICEMAIL_SECS } else { 0 };
                    rang.saturating_add(parent_talk.unwrap_or(0))
                        .saturating_add(vm)
                        .max(1)
                });
                c.answered_by = parent_answered_by;
                c.end_time = Some(now);
                c.updated = now;
                c.final_at = Some(final_at);
            }
            if recorded {
                inner.recordings.push(RecordingRec {
                    sid: new_sid("RE"),
                    call_sid: parent_sid.to_owned(),
                    created: now,
                    start_time: now,
                    duration: VOICEMAIL_SECS,
                });
            }
        }
        self.final_notify.notify_waiters();
    }

    pub(crate) fn final_at(&self, sid: &str) -> Option<Instant> {
        self.lock()
            .calls
            .iter()
            .find(|c| c.sid == sid)
            .and_then(|c| c.final_at)
    }

    pub(crate) async fn wait_final(&self, sid: &str) -> Instant {
        loop {
            let notified = self.final_notify.notified();
            tokio::pin!(notified);
            // Register before checking so a finalisation between check and await is not lost.
            notified.as_mut().enable();
            if let Some(at) = self.final_at(sid) {
                return at;
            }
            notified.await;
        }
    }

    // ---- messages ----

    fn push_message(
        inner: &mut Inner,
        from: &str,
        to: &str,
        body: &str,
        direction: &'static str,
        status: &'static str,
    ) -> MessageRec {
        let now = Self::now_locked(inner);
        let seq = inner.next_seq();
        let rec = MessageRec {
            seq,
            sid: new_sid("SM"),
            from: from.to_owned(),
            to: to.to_owned(),
            body: body.to_owned(),
            direction,
            status,
            error_code: None,
            error_message: None,
            created: now,
            updated: now,
            // NOTE: set at creation, as in the spec's POST example, so a `DateSent>=` check
            // right after an outcome-unknown send finds the message.
            date_sent: Some(now),
            num_segments: num_segments(body),
            num_media: 0,
        };
        inner.messages.push(rec.clone());
        rec
    }

    /// A message created by POST Messages.json (already validated).
    pub(crate) fn create_outbound(
        self: &Arc<Self>,
        from: &str,
        to: &str,
        body: &str,
    ) -> MessageRec {
        let (rec, reply) = {
            let mut inner = self.lock();
            let rec = Self::push_message(&mut inner, from, to, body, "outbound-api", "queued");
            inner.sent.push(SentMessage {
                sid: rec.sid.clone(),
                from: from.to_owned(),
                to: to.to_owned(),
                body: body.to_owned(),
                received_at: rec.created,
                instant: Instant::now(),
            });
            let reply = inner.replies.get_mut(to).and_then(VecDeque::pop_front);
            (rec, reply)
        };
        self.message_notify.notify_waiters();
        self.spawn_delivery(rec.sid.clone(), to.to_owned());
        if let Some(reply) = reply {
            let shared = Arc::clone(self);
            let (customer, business) = (to.to_owned(), from.to_owned());
            self.runtime.spawn(async move {
                if shared.sleep_unless_shutdown(reply.delay).await {
                    shared.inbound_sms(&customer, &business, &reply.body);
                }
            });
        }
        rec
    }

    /// queued → sent → delivered (or undelivered with the configured error code).
    fn spawn_delivery(self: &Arc<Self>, sid: String, to: String) {
        let delay = self.lock().delivery_delay;
        let half = delay / 2;
        let shared = Arc::clone(self);
        self.runtime.spawn(async move {
            if !shared.sleep_unless_shutdown(half).await {
                return;
            }
            shared.set_message_status(&sid, "sent", None);
            if !shared.sleep_unless_shutdown(delay - half).await {
                return;
            }
            let failure = shared.lock().undeliverable.get(&to).copied();
            shared.set_message_status(
                &sid,
                if failure.is_some() {
                    "undelivered"
                } else {
                    "delivered"
                },
                failure,
            );
        });
    }

    fn set_message_status(&self, sid: &str, status: &'static str, error_code: Option<u32>) {
        self.set_message_status_locked(sid, status, error_code);
        self.message_notify.notify_waiters();
    }

    fn set_message_status_locked(&self, sid: &str, status: &'static str, error_code: Option<u32>) {
        let mut inner = self.lock();
        let now = Self::now_locked(&inner);
        if let Some(m) = inner.messages.iter_mut().find(|m| m.sid == sid) {
            m.status = status;
            m.updated = now;
            m.error_code = error_code;
            m.error_message = error_code.map(|code| match code {
                30003 => "Unreachable destination handset".to_owned(),
                30005 => "Unknown destination handset".to_owned(),
                30006 => "Landline or unreachable carrier".to_owned(),
                30007 => "Message filtered".to_owned(),
                _ => "Unknown error".to_owned(),
            });
        }
    }

    /// A text from `from` (a customer) to `to` (normally a business number), with Twilio's
    /// default keyword handling: STOP-words opt the pair out, START-words opt back in,
    /// HELP/INFO get the canned help text; each canned answer is stored as outbound-reply.
    pub(crate) fn inbound_sms(self: &Arc<Self>, from: &str, to: &str, body: &str) -> String {
        self.inbound_mms(from, to, body, Vec::new())
    }

    /// An inbound text with attachments `(content type, bytes)`: an `MM…` message with
    /// `num_media` set and one Media resource per attachment. Without attachments it is an
    /// ordinary SMS (`SM…`).
    pub(crate) fn inbound_mms(
        self: &Arc<Self>,
        from: &str,
        to: &str,
        body: &str,
        media: Vec<(String, Vec<u8>)>,
    ) -> String {
        let keyword = body.trim().to_ascii_uppercase();
        let (sid, canned) = {
            let mut inner = self.lock();
            let mut rec = Self::push_message(&mut inner, from, to, body, "inbound", "received");
            if !media.is_empty() {
                let sid = new_sid("MM");
                let created = rec.created;
                if let Some(m) = inner.messages.last_mut() {
                    m.sid.clone_from(&sid);
                    m.num_media = media.len();
                }
                for (content_type, bytes) in media {
                    inner.media.push(MediaRec {
                        sid: new_sid("ME"),
                        message_sid: sid.clone(),
                        content_type,
                        bytes: Arc::new(bytes),
                        created,
                    });
                }
                rec.sid = sid;
            }
            let pair = (from.to_owned(), to.to_owned());
            let canned = match keyword.as_str() {
                "STOP" | "STOPALL" | "UNSUBSCRIBE" | "CANCEL" | "END" | "QUIT" | "REVOKE"
                | "OPTOUT" => {
                    inner.opted_out.insert(pair);
                    Some(STOP_REPLY)
                }
                "START" | "YES" | "UNSTOP" => {
                    // Twilio answers START only to someone who had opted out.
                    inner.opted_out.remove(&pair).then_some(START_REPLY)
                }
                "HELP" | "INFO" => Some(HELP_REPLY),
                _ => None,
            };
            let canned = canned.map(|text| {
                Self::push_message(&mut inner, to, from, text, "outbound-reply", "queued")
            });
            (rec.sid, canned)
        };
        self.message_notify.notify_waiters();
        if let Some(reply) = canned {
            self.spawn_delivery(reply.sid, from.to_owned());
        }
        sid
    }

    /// (customer, business) whichever way round the caller named them.
    pub(crate) fn opt_out_pair(&self, a: &str, b: &str) -> (String, String) {
        if self.owns(a) && !self.owns(b) {
            (b.to_owned(), a.to_owned())
        } else {
            (a.to_owned(), b.to_owned())
        }
    }
}

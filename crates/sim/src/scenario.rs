//! Scenarios: a TOML timeline of calls and texts played against a running sim, with scripted
//! customers who answer the business's texts (reactively: a reply is sent `reply_delay_secs`
//! after the sim receives a text to that customer), and an optional endless tail of new
//! missed calls so a demo keeps showing activity.
//!
//! ```toml
//! name = "small"
//! time_scale = 1.0          # multiplies every offset, ring and reply delay
//! reply_delay_secs = 4.0
//!
//! [[event]]
//! kind = "call"             # fields of CallSpec, plus at_secs and replies
//! at_secs = 3
//! from = "+15125550123"     # `to` defaults to the account's first number
//! ring_secs = 12
//! legs = [{ to = "+15125550199", outcome = "no-answer" }]
//! voicemail = false
//! replies = ["Yes please, the kitchen sink is leaking"]
//!
//! [[event]]
//! kind = "sms"
//! at_secs = 20
//! from = "+15125550110"
//! body = "Are you open Saturday?"
//!
//! [repeat]                  # after the last event: a new missed call every 45–90 s
//! every_min_secs = 45
//! every_max_secs = 90
//! ring_secs = 10
//! forward_to = "+15125550199"
//! conversations = [["Hi, my water heater is making a banging noise", "Tomorrow after 3 works"]]
//! ```

use std::sync::Arc;
use std::time::Duration;

use rand::Rng;
use serde::{Deserialize, Serialize};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::script::{CallSpec, LegSpec, secs};
use crate::store::{PendingReply, Shared};

const DEMO_TOML: &str = include_str!("../scenarios/demo.toml");

#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    #[error("scenario is not valid TOML: {0}")]
    Toml(String),
    #[error("scenario is invalid: {0}")]
    Invalid(String),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scenario {
    pub name: String,
    #[serde(default = "one")]
    pub time_scale: f64,
    #[serde(default = "default_reply_delay")]
    pub reply_delay_secs: f64,
    #[serde(default, rename = "event")]
    pub events: Vec<ScenarioEvent>,
    #[serde(default)]
    pub repeat: Option<Repeat>,
}

fn one() -> f64 {
    1.0
}

fn default_reply_delay() -> f64 {
    4.0
}

fn default_ring() -> f64 {
    10.0
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ScenarioEvent {
    Call {
        at_secs: f64,
        #[serde(flatten)]
        call: CallSpec,
        /// The caller's answers, one per text the business sends them.
        #[serde(default)]
        replies: Vec<String>,
    },
    Sms {
        at_secs: f64,
        from: String,
        #[serde(default)]
        to: Option<String>,
        body: String,
    },
}

impl ScenarioEvent {
    fn at_secs(&self) -> f64 {
        match self {
            ScenarioEvent::Call { at_secs, .. } | ScenarioEvent::Sms { at_secs, .. } => *at_secs,
        }
    }
}

/// The endless tail: random new callers, each forwarded to `forward_to` that nobody answers
/// (some leave a voicemail), each with one of `conversations` as their replies.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Repeat {
    pub every_min_secs: f64,
    pub every_max_secs: f64,
    #[serde(default = "default_ring")]
    pub ring_secs: f64,
    #[serde(default)]
    pub forward_to: Option<String>,
    #[serde(default)]
    pub conversations: Vec<Vec<String>>,
}

impl Scenario {
    /// The built-in demo: plumbing/HVAC missed calls (no answer, voicemail, one answered, one
    /// anonymous) in the first minute, customers replying to text-backs, then a new missed
    /// call every 45–90 s. Source: `crates/sim/scenarios/demo.toml`.
    pub fn demo() -> Scenario {
        // The file is compiled in and covered by a test, so this cannot fail at run time
        // unless the file is broken; fall back to an empty timeline rather than panic.
        Self::from_toml(DEMO_TOML).unwrap_or_else(|e| {
            tracing::error!(error = %e, "built-in demo scenario is broken");
            Scenario {
                name: "demo".to_owned(),
                time_scale: 1.0,
                reply_delay_secs: default_reply_delay(),
                events: Vec::new(),
                repeat: None,
            }
        })
    }

    pub fn from_toml(text: &str) -> Result<Scenario, ScenarioError> {
        let scenario: Scenario =
            toml::from_str(text).map_err(|e| ScenarioError::Toml(e.to_string()))?;
        scenario.validate()?;
        Ok(scenario)
    }

    /// Checks numbers that must be finite, ordered and non-negative, and every call spec.
    pub fn validate(&self) -> Result<(), ScenarioError> {
        let invalid = |m: String| ScenarioError::Invalid(m);
        if !(self.time_scale.is_finite() && self.time_scale > 0.0) {
            return Err(invalid(format!(
                "time_scale must be > 0, got {}",
                self.time_scale
            )));
        }
        secs(self.reply_delay_secs * self.time_scale, "reply_delay_secs").map_err(invalid)?;
        for event in &self.events {
            secs(event.at_secs() * self.time_scale, "at_secs").map_err(invalid)?;
            if let ScenarioEvent::Call { call, .. } = event {
                call.to_script("+10000000000", self.time_scale)
                    .map_err(invalid)?;
            }
        }
        if let Some(r) = &self.repeat {
            let min =
                secs(r.every_min_secs * self.time_scale, "every_min_secs").map_err(invalid)?;
            let max =
                secs(r.every_max_secs * self.time_scale, "every_max_secs").map_err(invalid)?;
            secs(r.ring_secs * self.time_scale, "ring_secs").map_err(invalid)?;
            // NOTE: compared unscaled too: the player draws from `every_min_secs..=every_max_secs`,
            // which panics when min is above max by less than the scaled durations can show.
            if min > max || max.is_zero() || r.every_min_secs > r.every_max_secs {
                return Err(invalid(
                    "repeat needs 0 < every_max_secs and every_min_secs <= every_max_secs".into(),
                ));
            }
        }
        Ok(())
    }
}

/// A scenario being played. Dropping it does not stop it; [`ScenarioRun::stop`] or the sim's
/// shutdown does.
#[derive(Debug)]
pub struct ScenarioRun {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl ScenarioRun {
    pub fn stop(&self) {
        self.stop.send_replace(true);
    }

    pub fn is_finished(&self) -> bool {
        self.task.is_finished()
    }

    /// Waits until the timeline is played (never, with a `repeat` tail, unless stopped).
    pub async fn finished(self) {
        // A JoinError only means the task panicked or was cancelled: it is over either way.
        let _ = self.task.await;
    }
}

/// Whatever may end a scenario early.
struct Stops {
    own: watch::Receiver<bool>,
    all: watch::Receiver<u64>,
    down: watch::Receiver<bool>,
}

async fn until_true(rx: &mut watch::Receiver<bool>) {
    // A dropped sender can never say "stop": wait forever then.
    if rx.wait_for(|v| *v).await.is_err() {
        std::future::pending::<()>().await;
    }
}

impl Stops {
    /// `false` if stopped before `at`.
    async fn sleep_until(&mut self, at: Instant) -> bool {
        tokio::select! {
            () = tokio::time::sleep_until(at) => true,
            () = until_true(&mut self.own) => false,
            () = until_true(&mut self.down) => false,
            changed = self.all.changed() => {
                if changed.is_err() { std::future::pending::<()>().await; }
                false
            }
        }
    }
}

/// `t + d` without the overflow panic a hostile offset could cause: far future instead.
fn later(t: Instant, d: Duration) -> Instant {
    const CENTURY: Duration = Duration::from_secs(100 * 365 * 24 * 3600);
    t.checked_add(d)
        .or_else(|| t.checked_add(CENTURY))
        .unwrap_or(t)
}

fn scaled(secs_value: f64, scale: f64) -> Duration {
    // Validated before a run starts; a bad value here degrades to "now".
    secs(secs_value * scale, "").unwrap_or_default()
}

pub(crate) fn run(shared: &Arc<Shared>, scenario: &Scenario) -> ScenarioRun {
    let stop = watch::Sender::new(false);
    let mut all = shared.scenario_stop.subscribe();
    all.mark_unchanged();
    let mut stops = Stops {
        own: stop.subscribe(),
        all,
        down: shared.shutdown.subscribe(),
    };
    let shared = Arc::clone(shared);
    let scenario = scenario.clone();
    // Fields are public, so a scenario built in code may skip `from_toml`'s checks; an
    // invalid one (e.g. time_scale 0 with a repeat tail) would place calls in a tight loop.
    let valid = scenario.validate();
    let task = shared.runtime.clone().spawn(async move {
        if let Err(e) = valid {
            tracing::error!(error = %e, "scenario not played");
            return;
        }
        let scale = scenario.time_scale;
        let reply_delay = scaled(scenario.reply_delay_secs, scale);
        let start = Instant::now();
        let mut events = scenario.events.clone();
        events.sort_by(|a, b| a.at_secs().total_cmp(&b.at_secs()));
        let mut last = Duration::ZERO;
        for event in &events {
            let at = scaled(event.at_secs(), scale);
            last = last.max(at);
            if !stops.sleep_until(later(start, at)).await {
                return;
            }
            play(&shared, event, reply_delay, scale);
        }
        let Some(repeat) = scenario.repeat.clone() else {
            return;
        };
        let mut next = later(start, last);
        let forward_to = repeat
            .forward_to
            .clone()
            .unwrap_or_else(|| "+15125550199".to_owned());
        loop {
            let wait = rand::rng().random_range(repeat.every_min_secs..=repeat.every_max_secs);
            next = later(next, scaled(wait, scale));
            if !stops.sleep_until(next).await {
                return;
            }
            let mut rng = rand::rng();
            let caller = format!("+1512555{:04}", rng.random_range(200..=9999));
            let replies = if repeat.conversations.is_empty() {
                Vec::new()
            } else {
                repeat.conversations[rng.random_range(0..repeat.conversations.len())].clone()
            };
            let event = ScenarioEvent::Call {
                at_secs: 0.0,
                call: CallSpec {
                    from: caller,
                    to: None,
                    ring_secs: Some(repeat.ring_secs),
                    legs: vec![LegSpec {
                        to: forward_to.clone(),
                        outcome: "no-answer".to_owned(),
                        talk_secs: None,
                        answered_by: None,
                    }],
                    voicemail: rng.random_bool(0.35),
                    parent_outcome: Default::default(),
                    direction: Default::default(),
                },
                replies,
            };
            play(&shared, &event, reply_delay, scale);
        }
    });
    ScenarioRun { stop, task }
}

fn play(shared: &Arc<Shared>, event: &ScenarioEvent, reply_delay: Duration, scale: f64) {
    match event {
        ScenarioEvent::Call { call, replies, .. } => {
            match call.to_script(&shared.first_number(), scale) {
                Ok(script) => {
                    if !replies.is_empty() {
                        let mut inner = shared.lock();
                        let queue = inner.replies.entry(script.from.clone()).or_default();
                        queue.extend(replies.iter().map(|body| PendingReply {
                            body: body.clone(),
                            delay: reply_delay,
                        }));
                    }
                    shared.place_call(script);
                }
                Err(e) => tracing::warn!(error = %e, "scenario call skipped"),
            }
        }
        ScenarioEvent::Sms { from, to, body, .. } => {
            let to = to.clone().unwrap_or_else(|| shared.first_number());
            shared.inbound_sms(from, &to, body);
        }
    }
}

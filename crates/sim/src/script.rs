//! What a simulated call will do: the Rust [`CallScript`] and its serde twin [`CallSpec`]
//! (used by the `/_sim` control API and scenario files).

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Which side started the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CallKind {
    /// A caller rang a business number: `direction` "inbound", `to` = the business number.
    #[default]
    Inbound,
    /// Created over the REST API, e.g. staff calling a customer back: `direction` "outbound-api",
    /// `from` = the business number. Such calls have no child legs: the first [`LegScript`]
    /// (if any) says how the dialled phone answered, and its `to` is ignored.
    OutboundApi,
}

impl CallKind {
    pub(crate) fn as_wire(self) -> &'static str {
        match self {
            CallKind::Inbound => "inbound",
            CallKind::OutboundApi => "outbound-api",
        }
    }
}

/// How the parent (caller's) leg ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ParentOutcome {
    /// Twilio answered and ran the TwiML: the normal end, even when no human picked up.
    #[default]
    Completed,
    NoAnswer,
    Busy,
    Canceled,
    Failed,
}

impl ParentOutcome {
    pub(crate) fn as_wire(self) -> &'static str {
        match self {
            ParentOutcome::Completed => "completed",
            ParentOutcome::NoAnswer => "no-answer",
            ParentOutcome::Busy => "busy",
            ParentOutcome::Canceled => "canceled",
            ParentOutcome::Failed => "failed",
        }
    }
}

/// How one `<Dial>` target (child leg) ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LegOutcome {
    /// The phone picked up (a human, or its own voicemail: see [`LegScript::answered_by`]);
    /// the leg ends `completed` with `duration` = `talk`.
    Answered {
        talk: Duration,
    },
    NoAnswer,
    Busy,
    /// The caller hung up while this phone rang.
    Canceled,
    Failed,
}

impl LegOutcome {
    pub(crate) fn as_wire(self) -> &'static str {
        match self {
            LegOutcome::Answered { .. } => "completed",
            LegOutcome::NoAnswer => "no-answer",
            LegOutcome::Busy => "busy",
            LegOutcome::Canceled => "canceled",
            LegOutcome::Failed => "failed",
        }
    }
}

/// One phone the business number forwards to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegScript {
    pub to: String,
    pub outcome: LegOutcome,
    /// Twilio's AMD verdict: `Some("human")`, `Some("machine_start")`, or `None` (no AMD).
    pub answered_by: Option<String>,
}

impl LegScript {
    pub fn answered(to: &str, talk: Duration) -> Self {
        LegScript {
            to: to.to_owned(),
            outcome: LegOutcome::Answered { talk },
            answered_by: None,
        }
    }
    pub fn no_answer(to: &str) -> Self {
        LegScript {
            to: to.to_owned(),
            outcome: LegOutcome::NoAnswer,
            answered_by: None,
        }
    }
}

/// A call to simulate. `ring: None` keeps every leg ringing until [`crate::Sim::end_call`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallScript {
    pub from: String,
    pub to: String,
    pub ring: Option<Duration>,
    pub legs: Vec<LegScript>,
    /// The caller left a voicemail: the parent gets a recording (only if the parent completes,
    /// because Twilio cannot record a call it never answered).
    pub voicemail: bool,
    pub parent_outcome: ParentOutcome,
    pub direction: CallKind,
}

impl CallScript {
    /// An inbound call that rings `legs` for `ring` and then ends as they say.
    pub fn inbound(from: &str, to: &str, ring: Option<Duration>, legs: Vec<LegScript>) -> Self {
        CallScript {
            from: from.to_owned(),
            to: to.to_owned(),
            ring,
            legs,
            voicemail: false,
            parent_outcome: ParentOutcome::Completed,
            direction: CallKind::Inbound,
        }
    }

    /// Staff calling a customer back from `from` (a business number); the customer talks for
    /// `talk` (`None`: nobody answers, the call ends `no-answer`).
    pub fn outbound_api(
        from: &str,
        to: &str,
        ring: Option<Duration>,
        talk: Option<Duration>,
    ) -> Self {
        let leg = match talk {
            Some(talk) => LegScript::answered(to, talk),
            None => LegScript::no_answer(to),
        };
        CallScript {
            from: from.to_owned(),
            to: to.to_owned(),
            ring,
            legs: vec![leg],
            voicemail: false,
            parent_outcome: ParentOutcome::Completed,
            direction: CallKind::OutboundApi,
        }
    }
}

/// Serde form of [`CallScript`] for JSON (`POST /_sim/calls`) and TOML scenarios.
/// `to` defaults to the account's first number; durations are (fractional) seconds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallSpec {
    pub from: String,
    #[serde(default)]
    pub to: Option<String>,
    #[serde(default)]
    pub ring_secs: Option<f64>,
    #[serde(default)]
    pub legs: Vec<LegSpec>,
    #[serde(default)]
    pub voicemail: bool,
    #[serde(default)]
    pub parent_outcome: ParentOutcome,
    #[serde(default)]
    pub direction: CallKind,
}

/// Serde form of [`LegScript`]: `outcome` is "answered", "no-answer", "busy", "canceled" or
/// "failed"; `talk_secs` applies to "answered".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LegSpec {
    pub to: String,
    pub outcome: String,
    #[serde(default)]
    pub talk_secs: Option<f64>,
    #[serde(default)]
    pub answered_by: Option<String>,
}

/// Seconds from outside (JSON/TOML) to a `Duration`, refusing what `Duration` cannot hold.
pub(crate) fn secs(value: f64, what: &str) -> Result<Duration, String> {
    Duration::try_from_secs_f64(value)
        .map_err(|_| format!("{what}: {value} is not a duration in seconds"))
}

impl CallSpec {
    /// `time_scale` multiplies the ring time (scenarios run faster in tests).
    pub(crate) fn to_script(
        &self,
        default_to: &str,
        time_scale: f64,
    ) -> Result<CallScript, String> {
        let ring = self
            .ring_secs
            .map(|s| secs(s * time_scale, "ring_secs"))
            .transpose()?;
        let legs = self
            .legs
            .iter()
            .map(|leg| {
                let outcome = match leg.outcome.as_str() {
                    "answered" | "completed" => LegOutcome::Answered {
                        talk: secs(leg.talk_secs.unwrap_or(60.0), "talk_secs")?,
                    },
                    "no-answer" | "no_answer" => LegOutcome::NoAnswer,
                    "busy" => LegOutcome::Busy,
                    "canceled" => LegOutcome::Canceled,
                    "failed" => LegOutcome::Failed,
                    other => return Err(format!("unknown leg outcome {other:?}")),
                };
                Ok(LegScript {
                    to: leg.to.clone(),
                    outcome,
                    answered_by: leg.answered_by.clone(),
                })
            })
            .collect::<Result<Vec<_>, String>>()?;
        Ok(CallScript {
            from: self.from.clone(),
            to: self.to.clone().unwrap_or_else(|| default_to.to_owned()),
            ring,
            legs,
            voicemail: self.voicemail,
            parent_outcome: self.parent_outcome,
            direction: self.direction,
        })
    }
}

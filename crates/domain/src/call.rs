//! Call statuses as providers report them, and the classification of a finished inbound call
//! into answered or one of the ways it was missed (PROVIDERS.md §1.2).

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use thiserror::Error;

/// A call leg's status, in Twilio's vocabulary. Unrecognised values are kept, not dropped.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum CallStatus {
    Queued,
    Ringing,
    InProgress,
    Completed,
    Busy,
    Failed,
    NoAnswer,
    Canceled,
    Unknown(String),
}

impl CallStatus {
    /// Reads "queued", "in-progress", "no-answer"... (case-insensitive).
    pub fn from_wire(s: &str) -> Self {
        match s.trim().to_ascii_lowercase().as_str() {
            "queued" => Self::Queued,
            "ringing" => Self::Ringing,
            "in-progress" => Self::InProgress,
            "completed" => Self::Completed,
            "busy" => Self::Busy,
            "failed" => Self::Failed,
            "no-answer" => Self::NoAnswer,
            "canceled" => Self::Canceled,
            _ => Self::Unknown(s.to_owned()),
        }
    }

    pub fn as_wire(&self) -> &str {
        match self {
            Self::Queued => "queued",
            Self::Ringing => "ringing",
            Self::InProgress => "in-progress",
            Self::Completed => "completed",
            Self::Busy => "busy",
            Self::Failed => "failed",
            Self::NoAnswer => "no-answer",
            Self::Canceled => "canceled",
            Self::Unknown(raw) => raw,
        }
    }

    /// Whether the leg has ended. An unknown status is treated as still going, so the call is
    /// revisited rather than classified on a guess.
    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            Self::Completed | Self::Busy | Self::Failed | Self::NoAnswer | Self::Canceled
        )
    }
}

/// Which way a call leg went, in Twilio's vocabulary.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum CallDirection {
    /// The caller's leg into the business number.
    Inbound,
    /// A call placed through the REST API.
    OutboundApi,
    /// A leg created by `<Dial>`: the business's phones being rung.
    OutboundDial,
    Unknown(String),
}

impl CallDirection {
    pub fn from_wire(s: &str) -> Self {
        match s.trim().to_ascii_lowercase().as_str() {
            "inbound" => Self::Inbound,
            "outbound-api" => Self::OutboundApi,
            "outbound-dial" => Self::OutboundDial,
            _ => Self::Unknown(s.to_owned()),
        }
    }

    pub fn as_wire(&self) -> &str {
        match self {
            Self::Inbound => "inbound",
            Self::OutboundApi => "outbound-api",
            Self::OutboundDial => "outbound-dial",
            Self::Unknown(raw) => raw,
        }
    }
}

macro_rules! wire_serde {
    ($ty:ty) => {
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_wire())
            }
        }
        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_wire())
            }
        }
        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let s = String::deserialize(deserializer)?;
                Ok(Self::from_wire(&s))
            }
        }
    };
}
wire_serde!(CallStatus);
wire_serde!(CallDirection);

/// One leg of a call as the classifier needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leg {
    pub status: CallStatus,
    /// Seconds connected; providers leave it empty for legs that never connected.
    pub duration_secs: Option<u32>,
    /// Answering-machine detection result: "human", "machine_start", "machine_end_beep", "fax"...
    pub answered_by: Option<String>,
}

impl Leg {
    /// A leg with this status and nothing else known.
    pub fn new(status: CallStatus) -> Self {
        Self {
            status,
            duration_secs: None,
            answered_by: None,
        }
    }

    /// Whether answering-machine detection says a machine (or fax) took the call.
    pub fn machine_answered(&self) -> bool {
        self.answered_by.as_deref().is_some_and(|by| {
            let by = by.trim().to_ascii_lowercase();
            by.starts_with("machine") || by == "fax"
        })
    }
}

/// How a finished inbound call ended, from the business's point of view.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CallOutcome {
    Answered,
    NoAnswer,
    Busy,
    CallerHungUp,
    Voicemail,
    Failed,
}

/// A stored outcome string that this version does not know.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error(
    "\"{value}\" is not a call outcome; expected answered, no_answer, busy, caller_hung_up, voicemail or failed"
)]
pub struct OutcomeError {
    pub value: String,
}

impl CallOutcome {
    pub const ALL: [CallOutcome; 6] = [
        Self::Answered,
        Self::NoAnswer,
        Self::Busy,
        Self::CallerHungUp,
        Self::Voicemail,
        Self::Failed,
    ];

    /// The stable snake_case name stored in the database and shown to the UI.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Answered => "answered",
            Self::NoAnswer => "no_answer",
            Self::Busy => "busy",
            Self::CallerHungUp => "caller_hung_up",
            Self::Voicemail => "voicemail",
            Self::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Result<Self, OutcomeError> {
        Self::ALL
            .into_iter()
            .find(|o| o.as_str() == s)
            .ok_or_else(|| OutcomeError {
                value: s.to_owned(),
            })
    }

    /// Everything but answered counts as missed and may get a text-back.
    pub fn is_missed(&self) -> bool {
        *self != Self::Answered
    }
}

impl fmt::Display for CallOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for CallOutcome {
    type Err = OutcomeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for CallOutcome {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for CallOutcome {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// Per-number settings for classification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClassifyRules {
    /// A dialled phone that answered for less than this is counted as missed (a pocket
    /// answer, or a phone that picked up and dropped).
    pub answered_min_duration: Duration,
    /// The number has no `<Dial>`: a phone menu handles callers, so a finished call with no
    /// dialled legs counts as answered.
    pub answered_by_ivr: bool,
}

impl Default for ClassifyRules {
    fn default() -> Self {
        Self {
            answered_min_duration: Duration::from_secs(3),
            answered_by_ivr: false,
        }
    }
}

/// An outcome and one line a person can read saying why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Classification {
    pub outcome: CallOutcome,
    pub reason: String,
}

impl Classification {
    fn new(outcome: CallOutcome, reason: impl Into<String>) -> Self {
        Self {
            outcome,
            reason: reason.into(),
        }
    }
}

fn phones(n: usize) -> String {
    if n == 1 {
        "1 phone".to_owned()
    } else {
        format!("{n} phones")
    }
}

/// Classifies a finished inbound call from its parent leg (the caller's) and its child legs
/// (the business's phones that `<Dial>` rang). `None` while the parent or any child leg has not
/// ended: revisit it on the next poll.
pub fn classify(
    parent: &Leg,
    children: &[Leg],
    has_recording: bool,
    rules: &ClassifyRules,
) -> Option<Classification> {
    if !parent.status.is_terminal() || children.iter().any(|c| !c.status.is_terminal()) {
        return None;
    }
    // A parent that did not complete was never answered by the provider itself, so nothing
    // was dialled and nothing recorded.
    match parent.status {
        CallStatus::NoAnswer => {
            return Some(Classification::new(
                CallOutcome::NoAnswer,
                "The call was never picked up",
            ));
        }
        CallStatus::Busy => {
            return Some(Classification::new(CallOutcome::Busy, "The line was busy"));
        }
        CallStatus::Canceled => {
            return Some(Classification::new(
                CallOutcome::CallerHungUp,
                "Caller hung up before the call was answered",
            ));
        }
        CallStatus::Failed => {
            return Some(Classification::new(
                CallOutcome::Failed,
                "The call failed to connect",
            ));
        }
        _ => {}
    }

    let min_secs = rules.answered_min_duration.as_secs();
    let completed = || {
        children
            .iter()
            .filter(|c| c.status == CallStatus::Completed)
    };
    // NOTE: a completed leg without a duration is counted as answered: texting "sorry we
    // missed you" to someone who just spoke to the business is the worse mistake.
    if let Some(answer) = completed()
        .filter(|c| !c.machine_answered())
        .find(|c| c.duration_secs.is_none_or(|d| u64::from(d) >= min_secs))
    {
        let talked = answer
            .duration_secs
            .map(|d| format!(" and talked {d}s"))
            .unwrap_or_default();
        let reason = if children.len() == 1 {
            format!("Picked up{talked}")
        } else {
            format!("Rang {}; one picked up{talked}", phones(children.len()))
        };
        return Some(Classification::new(CallOutcome::Answered, reason));
    }
    if children.is_empty() && rules.answered_by_ivr {
        return Some(Classification::new(
            CallOutcome::Answered,
            "Answered by the phone menu",
        ));
    }

    let n = children.len();
    let why = if children.is_empty() {
        "No phone was rung; only the phone menu answered".to_owned()
    } else if completed().any(Leg::machine_answered) {
        format!("Rang {}; a phone's voicemail picked up", phones(n))
    } else if let Some(short) = completed().next() {
        format!(
            "Rang {}; picked up for only {}s (under {min_secs}s), counted as missed",
            phones(n),
            short.duration_secs.unwrap_or(0)
        )
    } else {
        String::new()
    };

    if has_recording {
        let reason = if why.is_empty() {
            format!(
                "Rang {}; nobody picked up, caller left a voicemail",
                phones(n)
            )
        } else {
            format!("{why}; caller left a voicemail")
        };
        return Some(Classification::new(CallOutcome::Voicemail, reason));
    }
    if !why.is_empty() {
        return Some(Classification::new(CallOutcome::NoAnswer, why));
    }

    let all = |status: CallStatus| children.iter().all(|c| c.status == status);
    let any = |status: CallStatus| children.iter().any(|c| c.status == status);
    let classification = if all(CallStatus::Canceled) {
        Classification::new(CallOutcome::CallerHungUp, "Caller hung up while it rang")
    } else if all(CallStatus::Busy) {
        let reason = if n == 1 {
            "The phone was busy".to_owned()
        } else {
            format!("All {n} phones were busy")
        };
        Classification::new(CallOutcome::Busy, reason)
    } else if any(CallStatus::Failed) && !any(CallStatus::NoAnswer) {
        Classification::new(
            CallOutcome::Failed,
            format!("Rang {}; the call could not reach them", phones(n)),
        )
    } else {
        Classification::new(
            CallOutcome::NoAnswer,
            format!("Rang {}; nobody picked up", phones(n)),
        )
    };
    Some(classification)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn leg(status: CallStatus) -> Leg {
        Leg::new(status)
    }

    fn answered(secs: u32, by: Option<&str>) -> Leg {
        Leg {
            status: CallStatus::Completed,
            duration_secs: Some(secs),
            answered_by: by.map(str::to_owned),
        }
    }

    fn run(parent: Leg, children: &[Leg], recording: bool) -> Option<Classification> {
        classify(&parent, children, recording, &ClassifyRules::default())
    }

    fn outcome(parent: Leg, children: &[Leg], recording: bool) -> Option<CallOutcome> {
        run(parent, children, recording).map(|c| c.outcome)
    }

    #[test]
    fn wire_values_round_trip() {
        for s in [
            "queued",
            "ringing",
            "in-progress",
            "completed",
            "busy",
            "failed",
            "no-answer",
            "canceled",
        ] {
            let status = CallStatus::from_wire(s);
            assert!(
                !matches!(status, CallStatus::Unknown(_)),
                "{s:?} is a documented Twilio status"
            );
            assert_eq!(
                status.as_wire(),
                s,
                "as_wire must give back Twilio's spelling"
            );
        }
        assert_eq!(
            CallStatus::from_wire("on-hold"),
            CallStatus::Unknown("on-hold".into()),
            "unknown statuses are kept verbatim for the log"
        );
        for s in ["inbound", "outbound-api", "outbound-dial"] {
            assert_eq!(
                CallDirection::from_wire(s).as_wire(),
                s,
                "{s:?} must round-trip"
            );
        }
        assert_eq!(
            CallDirection::from_wire("trunking"),
            CallDirection::Unknown("trunking".into()),
            "kept verbatim"
        );
        for o in CallOutcome::ALL {
            assert_eq!(
                CallOutcome::parse(o.as_str()),
                Ok(o),
                "stored outcomes must read back"
            );
            assert_eq!(
                o.is_missed(),
                o != CallOutcome::Answered,
                "only answered is not missed"
            );
        }
        assert!(
            CallOutcome::parse("maybe").is_err(),
            "unknown outcomes are an error, not a guess"
        );
    }

    #[test]
    fn terminal_statuses() {
        for s in [
            CallStatus::Completed,
            CallStatus::Busy,
            CallStatus::Failed,
            CallStatus::NoAnswer,
            CallStatus::Canceled,
        ] {
            assert!(s.is_terminal(), "{s:?} ends a leg");
        }
        for s in [
            CallStatus::Queued,
            CallStatus::Ringing,
            CallStatus::InProgress,
            CallStatus::Unknown("x".into()),
        ] {
            assert!(!s.is_terminal(), "{s:?} must be revisited, not classified");
        }
    }

    #[test]
    fn parent_no_answer_busy_canceled_failed() {
        assert_eq!(
            outcome(leg(CallStatus::NoAnswer), &[], false),
            Some(CallOutcome::NoAnswer),
            "parent no-answer is missed"
        );
        assert_eq!(
            outcome(leg(CallStatus::Busy), &[], false),
            Some(CallOutcome::Busy),
            "parent busy is busy"
        );
        assert_eq!(
            outcome(leg(CallStatus::Canceled), &[], false),
            Some(CallOutcome::CallerHungUp),
            "parent canceled means the caller gave up before it was answered"
        );
        assert_eq!(
            outcome(leg(CallStatus::Failed), &[], false),
            Some(CallOutcome::Failed),
            "parent failed is failed"
        );
    }

    #[test]
    fn dialled_phone_not_answering_is_no_answer() {
        let c = run(
            leg(CallStatus::Completed),
            &[leg(CallStatus::NoAnswer), leg(CallStatus::NoAnswer)],
            false,
        )
        .expect("all legs ended, so the call is classified");
        assert_eq!(
            c.outcome,
            CallOutcome::NoAnswer,
            "a completed parent with unanswered children is missed"
        );
        assert_eq!(
            c.reason, "Rang 2 phones; nobody picked up",
            "the reason names what happened"
        );
    }

    #[test]
    fn all_children_busy_is_busy() {
        assert_eq!(
            outcome(leg(CallStatus::Completed), &[leg(CallStatus::Busy)], false),
            Some(CallOutcome::Busy),
            "the only phone was busy"
        );
    }

    #[test]
    fn caller_hung_up_while_ringing() {
        let c = run(
            leg(CallStatus::Completed),
            &[leg(CallStatus::Canceled), leg(CallStatus::Canceled)],
            false,
        )
        .expect("classified");
        assert_eq!(
            c.outcome,
            CallOutcome::CallerHungUp,
            "every dialled leg canceled: the caller hung up"
        );
        assert_eq!(
            c.reason, "Caller hung up while it rang",
            "reason shown in the inbox"
        );
    }

    #[test]
    fn failed_children_without_no_answer_is_failed() {
        assert_eq!(
            outcome(
                leg(CallStatus::Completed),
                &[leg(CallStatus::Failed), leg(CallStatus::Busy)],
                false
            ),
            Some(CallOutcome::Failed),
            "a failed leg with none unanswered means the phones could not be reached"
        );
        assert_eq!(
            outcome(
                leg(CallStatus::Completed),
                &[leg(CallStatus::Failed), leg(CallStatus::NoAnswer)],
                false
            ),
            Some(CallOutcome::NoAnswer),
            "a phone that rang out means nobody picked up, even if another leg failed"
        );
    }

    #[test]
    fn voicemail_with_recording() {
        let c = run(
            leg(CallStatus::Completed),
            &[leg(CallStatus::NoAnswer)],
            true,
        )
        .expect("classified");
        assert_eq!(
            c.outcome,
            CallOutcome::Voicemail,
            "missed plus a recording is a voicemail"
        );
        assert!(
            c.reason.contains("voicemail"),
            "the reason must mention the voicemail: {}",
            c.reason
        );
        assert_eq!(
            outcome(leg(CallStatus::Completed), &[], true),
            Some(CallOutcome::Voicemail),
            "a voicemail-only number with a recording is a voicemail"
        );
        assert_eq!(
            outcome(
                leg(CallStatus::Completed),
                &[answered(30, Some("human"))],
                true
            ),
            Some(CallOutcome::Answered),
            "a recording of an answered call (call recording) does not make it missed"
        );
    }

    #[test]
    fn machine_answered_cell_is_missed() {
        for by in [
            "machine_start",
            "machine_end_beep",
            "machine_end_silence",
            "machine_end_other",
            "fax",
        ] {
            let c = run(leg(CallStatus::Completed), &[answered(25, Some(by))], false)
                .expect("classified");
            assert_eq!(
                c.outcome,
                CallOutcome::NoAnswer,
                "answered_by={by} means the cell's voicemail took it"
            );
            assert!(
                c.reason.contains("voicemail picked up"),
                "reason explains the machine: {}",
                c.reason
            );
        }
        assert_eq!(
            outcome(
                leg(CallStatus::Completed),
                &[answered(25, Some("human"))],
                false
            ),
            Some(CallOutcome::Answered),
            "answered_by=human is a person"
        );
        assert_eq!(
            outcome(
                leg(CallStatus::Completed),
                &[answered(25, Some("unknown"))],
                false
            ),
            Some(CallOutcome::Answered),
            "AMD unsure: trust the completed leg rather than text someone who talked"
        );
    }

    #[test]
    fn simultaneous_ring_with_one_answer_is_answered() {
        let c = run(
            leg(CallStatus::Completed),
            &[
                leg(CallStatus::Canceled),
                answered(42, None),
                leg(CallStatus::NoAnswer),
            ],
            false,
        )
        .expect("classified");
        assert_eq!(
            c.outcome,
            CallOutcome::Answered,
            "one phone of a ring group answered"
        );
        assert_eq!(
            c.reason, "Rang 3 phones; one picked up and talked 42s",
            "reason says who answered"
        );
    }

    #[test]
    fn short_answer_below_threshold_is_missed() {
        let c = run(leg(CallStatus::Completed), &[answered(1, None)], false).expect("classified");
        assert_eq!(
            c.outcome,
            CallOutcome::NoAnswer,
            "a 1s pick-up under the 3s threshold is not a conversation"
        );
        assert!(
            c.reason.contains("only 1s"),
            "reason explains the short answer: {}",
            c.reason
        );
        assert_eq!(
            outcome(leg(CallStatus::Completed), &[answered(3, None)], false),
            Some(CallOutcome::Answered),
            "exactly the threshold counts as answered"
        );
    }

    #[test]
    fn no_children_depends_on_ivr_setting() {
        assert_eq!(
            outcome(leg(CallStatus::Completed), &[], false),
            Some(CallOutcome::NoAnswer),
            "without a Dial, nobody could have answered"
        );
        let ivr = ClassifyRules {
            answered_by_ivr: true,
            ..ClassifyRules::default()
        };
        let c = classify(&leg(CallStatus::Completed), &[], false, &ivr).expect("classified");
        assert_eq!(
            c.outcome,
            CallOutcome::Answered,
            "the user said the phone menu answers this number"
        );
        assert_eq!(
            c.reason, "Answered by the phone menu",
            "reason names the menu"
        );
    }

    #[test]
    fn non_terminal_legs_are_revisited() {
        for parent in [
            CallStatus::Queued,
            CallStatus::Ringing,
            CallStatus::InProgress,
            CallStatus::Unknown("x".into()),
        ] {
            assert_eq!(
                run(leg(parent.clone()), &[], false),
                None,
                "parent {parent:?} has not ended"
            );
        }
        assert_eq!(
            run(
                leg(CallStatus::Completed),
                &[leg(CallStatus::NoAnswer), leg(CallStatus::Ringing)],
                false
            ),
            None,
            "a child still ringing may yet be answered"
        );
        assert_eq!(
            run(
                leg(CallStatus::Completed),
                &[leg(CallStatus::Unknown("weird".into()))],
                false
            ),
            None,
            "an unknown child status is never guessed at"
        );
    }

    fn any_status() -> impl Strategy<Value = CallStatus> {
        prop_oneof![
            Just(CallStatus::Queued),
            Just(CallStatus::Ringing),
            Just(CallStatus::InProgress),
            Just(CallStatus::Completed),
            Just(CallStatus::Busy),
            Just(CallStatus::Failed),
            Just(CallStatus::NoAnswer),
            Just(CallStatus::Canceled),
            ".{0,8}".prop_map(|s| CallStatus::from_wire(&s)),
        ]
    }

    fn any_leg() -> impl Strategy<Value = Leg> {
        (
            any_status(),
            proptest::option::of(any::<u32>()),
            proptest::option::of(".{0,16}"),
        )
            .prop_map(|(status, duration_secs, answered_by)| Leg {
                status,
                duration_secs,
                answered_by,
            })
    }

    proptest! {
        #[test]
        fn classify_never_panics_and_waits_for_every_leg(
            parent in any_leg(),
            children in proptest::collection::vec(any_leg(), 0..5),
            recording in any::<bool>(),
            min in 0u64..100,
            ivr in any::<bool>(),
        ) {
            let rules = ClassifyRules { answered_min_duration: Duration::from_secs(min), answered_by_ivr: ivr };
            let result = classify(&parent, &children, recording, &rules);
            let all_ended = parent.status.is_terminal() && children.iter().all(|c| c.status.is_terminal());
            prop_assert_eq!(result.is_some(), all_ended, "classified exactly when every leg has ended");
            if let Some(c) = result {
                prop_assert!(!c.reason.is_empty(), "every classification explains itself");
            }
        }
    }
}

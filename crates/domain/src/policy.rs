//! The text-back decision: given the facts about one finished call, send, offer a late
//! text-back, or skip with a reason. Pure; the engine gathers the facts.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::call::{CallDirection, CallOutcome};
use crate::duration::HumanDuration;
use crate::phone::Caller;

/// The configurable windows of the policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PolicyRules {
    /// At most one text-back per caller per business number in this window.
    pub dedupe_window: HumanDuration,
    /// How long after a missed call a call-back still cancels the text-back. The engine waits
    /// this long (see [`PolicyRules::ready_at`]) before deciding.
    pub grace_window: HumanDuration,
    /// Calls missed longer ago than this are never texted automatically (offline catch-up).
    pub freshness_limit: HumanDuration,
}

impl Default for PolicyRules {
    fn default() -> Self {
        Self {
            dedupe_window: HumanDuration::from_secs(24 * 3600),
            grace_window: HumanDuration::ZERO,
            freshness_limit: HumanDuration::from_secs(2 * 3600),
        }
    }
}

impl PolicyRules {
    /// The earliest moment the engine should decide on a call that ended at `call_ended_at`:
    /// until then a call-back could still make the text-back unnecessary.
    pub fn ready_at(&self, call_ended_at: DateTime<Utc>) -> DateTime<Utc> {
        call_ended_at
            .checked_add_signed(self.grace_window.as_chrono())
            .unwrap_or(DateTime::<Utc>::MAX_UTC)
    }
}

/// Everything the policy needs to know about one finished call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextBackFacts {
    pub direction: CallDirection,
    /// The call was to one of the business's configured numbers.
    pub to_business_number: bool,
    pub caller: Caller,
    pub outcome: CallOutcome,
    /// The call is history imported when this number was first set up.
    pub before_textback: bool,
    /// The caller is one of the business's own staff.
    pub is_staff: bool,
    pub opted_out: bool,
    /// Last text-back to this caller from this business number.
    pub last_text_back_at: Option<DateTime<Utc>>,
    /// An answered call with this caller after this call ended.
    pub answered_later_at: Option<DateTime<Utc>>,
    pub call_ended_at: DateTime<Utc>,
    pub now: DateTime<Utc>,
}

/// What to do about one finished call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Send,
    /// Missed longer ago than the freshness limit: offer a late text-back, do not send.
    SendLate,
    Skip(SkipReason),
}

/// Why a call gets no text-back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SkipReason {
    NotInbound,
    NotBusinessNumber,
    Answered,
    CallerWithheld,
    ShortCode,
    InvalidNumber,
    StaffNumber,
    OptedOut,
    BeforeTextback,
    AlreadyTexted {
        at: DateTime<Utc>,
    },
    AnsweredLater {
        at: DateTime<Utc>,
    },
    /// The provider's log shows an outbound message to the caller since the call ended. Set by
    /// the engine's pre-send check; `decide` never returns it.
    AlreadyMessaged,
}

fn when(at: &DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

impl SkipReason {
    /// Stable snake_case code stored with the decision.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotInbound => "not_inbound",
            Self::NotBusinessNumber => "not_business_number",
            Self::Answered => "answered",
            Self::CallerWithheld => "caller_withheld",
            Self::ShortCode => "short_code",
            Self::InvalidNumber => "invalid_number",
            Self::StaffNumber => "staff_number",
            Self::OptedOut => "opted_out",
            Self::BeforeTextback => "before_textback",
            Self::AlreadyTexted { .. } => "already_texted",
            Self::AnsweredLater { .. } => "answered_later",
            Self::AlreadyMessaged => "already_messaged",
        }
    }

    /// One line for the inbox and the log.
    pub fn describe(&self) -> String {
        match self {
            Self::NotInbound => "Not an incoming call".to_owned(),
            Self::NotBusinessNumber => "The call was not to one of the business numbers".to_owned(),
            Self::Answered => "The call was answered".to_owned(),
            Self::CallerWithheld => "The caller hid their number".to_owned(),
            Self::ShortCode => "The caller is a short code, not a person".to_owned(),
            Self::InvalidNumber => "The caller's number is not a valid phone number".to_owned(),
            Self::StaffNumber => "The caller is a staff member".to_owned(),
            Self::OptedOut => "The caller opted out of texts".to_owned(),
            Self::BeforeTextback => "The call happened before Textback was set up".to_owned(),
            Self::AlreadyTexted { at } => format!("Already texted this caller at {}", when(at)),
            Self::AnsweredLater { at } => {
                format!("Spoke with the caller on a later call at {}", when(at))
            }
            Self::AlreadyMessaged => "Someone already texted the caller since the call".to_owned(),
        }
    }
}

impl Decision {
    /// "send", "late", or the skip reason's code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Send => "send",
            Self::SendLate => "late",
            Self::Skip(reason) => reason.code(),
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Self::Send => "A missed call from a textable number, not texted recently".to_owned(),
            Self::SendLate => {
                "Missed a while ago: offer a late text-back instead of sending".to_owned()
            }
            Self::Skip(reason) => format!("No text-back: {}", reason.describe()),
        }
    }

    pub fn is_send(&self) -> bool {
        matches!(self, Self::Send)
    }
}

/// Applies the text-back policy. Checks run in this order, and the first that fails decides:
/// inbound; to a business number; missed; not imported history; caller textable (withheld,
/// short code, invalid); not staff; not opted out; not texted within the dedupe window; not
/// answered on a later call; fresh (else [`Decision::SendLate`]).
pub fn decide(facts: &TextBackFacts, rules: &PolicyRules) -> Decision {
    use SkipReason::*;
    let skip = Decision::Skip;
    if facts.direction != CallDirection::Inbound {
        return skip(NotInbound);
    }
    if !facts.to_business_number {
        return skip(NotBusinessNumber);
    }
    if !facts.outcome.is_missed() {
        return skip(Answered);
    }
    if facts.before_textback {
        return skip(BeforeTextback);
    }
    match facts.caller {
        Caller::Textable(_) => {}
        Caller::Withheld { .. } => return skip(CallerWithheld),
        Caller::ShortCode { .. } => return skip(ShortCode),
        Caller::Invalid { .. } => return skip(InvalidNumber),
    }
    if facts.is_staff {
        return skip(StaffNumber);
    }
    if facts.opted_out {
        return skip(OptedOut);
    }
    if let Some(at) = facts.last_text_back_at {
        // A text-back stamped in the future (clock skew between desks) also counts as recent.
        if facts.now.signed_duration_since(at) < rules.dedupe_window.as_chrono() {
            return skip(AlreadyTexted { at });
        }
    }
    if let Some(at) = facts.answered_later_at {
        // NOTE: any answered call since this one ended skips, whether or not it fell inside the
        // grace window: a "sorry we missed you" after the two already spoke reads as a bot. The
        // grace window is how long the engine waits for such a call (`PolicyRules::ready_at`).
        if at >= facts.call_ended_at {
            return skip(AnsweredLater { at });
        }
    }
    if facts.now.signed_duration_since(facts.call_ended_at) > rules.freshness_limit.as_chrono() {
        return Decision::SendLate;
    }
    Decision::Send
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::phone::{PhoneNumber, Region};
    use chrono::{Duration, TimeZone};
    use proptest::prelude::*;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 2, 15, 0, 0).unwrap()
    }

    fn caller() -> Caller {
        Caller::Textable(
            PhoneNumber::parse("(415) 555-2671", Region::US).expect("valid test number"),
        )
    }

    /// A missed call that must be texted back; each test breaks one fact.
    fn sendable() -> TextBackFacts {
        TextBackFacts {
            direction: CallDirection::Inbound,
            to_business_number: true,
            caller: caller(),
            outcome: CallOutcome::NoAnswer,
            before_textback: false,
            is_staff: false,
            opted_out: false,
            last_text_back_at: None,
            answered_later_at: None,
            call_ended_at: t0(),
            now: t0() + Duration::seconds(5),
        }
    }

    fn decide_default(facts: &TextBackFacts) -> Decision {
        decide(facts, &PolicyRules::default())
    }

    #[test]
    fn defaults_match_the_design() {
        let rules = PolicyRules::default();
        assert_eq!(
            rules.dedupe_window.to_string(),
            "1d",
            "dedupe defaults to 24h"
        );
        assert_eq!(
            rules.grace_window,
            HumanDuration::ZERO,
            "grace defaults to 0s"
        );
        assert_eq!(
            rules.freshness_limit.to_string(),
            "2h",
            "freshness defaults to 2h"
        );
        assert_eq!(
            rules.ready_at(t0()),
            t0(),
            "with no grace the engine decides at once"
        );
    }

    #[test]
    fn a_fresh_missed_call_is_sent() {
        for outcome in CallOutcome::ALL.into_iter().filter(CallOutcome::is_missed) {
            let facts = TextBackFacts {
                outcome,
                ..sendable()
            };
            assert_eq!(
                decide_default(&facts),
                Decision::Send,
                "{outcome} is missed and must be texted back"
            );
        }
    }

    #[test]
    fn each_rule_skips_with_its_reason() {
        let cases: Vec<(TextBackFacts, Decision)> = vec![
            (
                TextBackFacts {
                    direction: CallDirection::OutboundApi,
                    ..sendable()
                },
                Decision::Skip(SkipReason::NotInbound),
            ),
            (
                TextBackFacts {
                    direction: CallDirection::OutboundDial,
                    ..sendable()
                },
                Decision::Skip(SkipReason::NotInbound),
            ),
            (
                TextBackFacts {
                    to_business_number: false,
                    ..sendable()
                },
                Decision::Skip(SkipReason::NotBusinessNumber),
            ),
            (
                TextBackFacts {
                    outcome: CallOutcome::Answered,
                    ..sendable()
                },
                Decision::Skip(SkipReason::Answered),
            ),
            (
                TextBackFacts {
                    before_textback: true,
                    ..sendable()
                },
                Decision::Skip(SkipReason::BeforeTextback),
            ),
            (
                TextBackFacts {
                    caller: Caller::Withheld {
                        raw: "anonymous".into(),
                    },
                    ..sendable()
                },
                Decision::Skip(SkipReason::CallerWithheld),
            ),
            (
                TextBackFacts {
                    caller: Caller::ShortCode {
                        raw: "72345".into(),
                    },
                    ..sendable()
                },
                Decision::Skip(SkipReason::ShortCode),
            ),
            (
                TextBackFacts {
                    caller: Caller::Invalid {
                        raw: "+1999".into(),
                    },
                    ..sendable()
                },
                Decision::Skip(SkipReason::InvalidNumber),
            ),
            (
                TextBackFacts {
                    is_staff: true,
                    ..sendable()
                },
                Decision::Skip(SkipReason::StaffNumber),
            ),
            (
                TextBackFacts {
                    opted_out: true,
                    ..sendable()
                },
                Decision::Skip(SkipReason::OptedOut),
            ),
            (
                TextBackFacts {
                    last_text_back_at: Some(t0() - Duration::hours(3)),
                    ..sendable()
                },
                Decision::Skip(SkipReason::AlreadyTexted {
                    at: t0() - Duration::hours(3),
                }),
            ),
            (
                TextBackFacts {
                    answered_later_at: Some(t0() + Duration::seconds(2)),
                    ..sendable()
                },
                Decision::Skip(SkipReason::AnsweredLater {
                    at: t0() + Duration::seconds(2),
                }),
            ),
            (
                TextBackFacts {
                    now: t0() + Duration::hours(3),
                    ..sendable()
                },
                Decision::SendLate,
            ),
        ];
        for (facts, expected) in cases {
            let got = decide_default(&facts);
            assert_eq!(
                got, expected,
                "each fact on its own must produce its own decision: {facts:?}"
            );
            assert!(
                !got.describe().is_empty(),
                "every decision explains itself in the inbox"
            );
        }
    }

    #[test]
    fn dedupe_window_edges() {
        let day_ago = TextBackFacts {
            last_text_back_at: Some(t0() + Duration::seconds(5) - Duration::hours(24)),
            ..sendable()
        };
        assert_eq!(
            decide_default(&day_ago),
            Decision::Send,
            "a text-back exactly 24h ago is outside the window"
        );
        let just_inside = TextBackFacts {
            last_text_back_at: Some(t0() + Duration::seconds(6) - Duration::hours(24)),
            ..sendable()
        };
        assert!(
            matches!(
                decide_default(&just_inside),
                Decision::Skip(SkipReason::AlreadyTexted { .. })
            ),
            "one second inside the window still dedupes"
        );
        let future = TextBackFacts {
            last_text_back_at: Some(t0() + Duration::minutes(10)),
            ..sendable()
        };
        assert!(
            matches!(
                decide_default(&future),
                Decision::Skip(SkipReason::AlreadyTexted { .. })
            ),
            "a text-back stamped ahead by clock skew is still recent"
        );
    }

    #[test]
    fn an_answer_before_this_call_ended_is_not_a_call_back() {
        let earlier = TextBackFacts {
            answered_later_at: Some(t0() - Duration::minutes(1)),
            ..sendable()
        };
        assert_eq!(
            decide_default(&earlier),
            Decision::Send,
            "only answered calls after this one cancel the text-back"
        );
    }

    #[test]
    fn freshness_limit_edge() {
        let at_limit = TextBackFacts {
            now: t0() + Duration::hours(2),
            ..sendable()
        };
        assert_eq!(
            decide_default(&at_limit),
            Decision::Send,
            "exactly at the limit is still fresh"
        );
        let past = TextBackFacts {
            now: t0() + Duration::hours(2) + Duration::seconds(1),
            ..sendable()
        };
        assert_eq!(
            decide_default(&past),
            Decision::SendLate,
            "past the limit is offered as a late text-back"
        );
        assert_eq!(Decision::SendLate.code(), "late", "stable code");
        assert_eq!(Decision::Send.code(), "send", "stable code");
    }

    #[test]
    fn checks_run_in_the_documented_order() {
        // Break every fact at once, then fix them one by one from the front: each time the
        // next rule in order must be the one that answers.
        let mut facts = TextBackFacts {
            direction: CallDirection::OutboundApi,
            to_business_number: false,
            caller: Caller::Withheld { raw: String::new() },
            outcome: CallOutcome::Answered,
            before_textback: true,
            is_staff: true,
            opted_out: true,
            last_text_back_at: Some(t0()),
            answered_later_at: Some(t0() + Duration::hours(1)),
            call_ended_at: t0(),
            now: t0() + Duration::hours(3),
        };
        let mut order = Vec::new();
        loop {
            let decision = decide_default(&facts);
            order.push(decision.code());
            match decision {
                Decision::Skip(SkipReason::NotInbound) => facts.direction = CallDirection::Inbound,
                Decision::Skip(SkipReason::NotBusinessNumber) => facts.to_business_number = true,
                Decision::Skip(SkipReason::Answered) => facts.outcome = CallOutcome::Voicemail,
                Decision::Skip(SkipReason::BeforeTextback) => facts.before_textback = false,
                Decision::Skip(SkipReason::CallerWithheld) => {
                    facts.caller = Caller::ShortCode {
                        raw: "72345".into(),
                    }
                }
                Decision::Skip(SkipReason::ShortCode) => {
                    facts.caller = Caller::Invalid { raw: "x".into() }
                }
                Decision::Skip(SkipReason::InvalidNumber) => facts.caller = caller(),
                Decision::Skip(SkipReason::StaffNumber) => facts.is_staff = false,
                Decision::Skip(SkipReason::OptedOut) => facts.opted_out = false,
                Decision::Skip(SkipReason::AlreadyTexted { .. }) => facts.last_text_back_at = None,
                Decision::Skip(SkipReason::AnsweredLater { .. }) => facts.answered_later_at = None,
                Decision::SendLate => facts.now = t0(),
                Decision::Send | Decision::Skip(SkipReason::AlreadyMessaged) => break,
            }
        }
        assert_eq!(
            order,
            [
                "not_inbound",
                "not_business_number",
                "answered",
                "before_textback",
                "caller_withheld",
                "short_code",
                "invalid_number",
                "staff_number",
                "opted_out",
                "already_texted",
                "answered_later",
                "late",
                "send",
            ],
            "the policy's order is part of its contract (DESIGN.md, contracts.md)"
        );
    }

    #[test]
    fn skip_codes_are_stable_and_described() {
        let at = t0();
        for (reason, code) in [
            (SkipReason::NotInbound, "not_inbound"),
            (SkipReason::NotBusinessNumber, "not_business_number"),
            (SkipReason::Answered, "answered"),
            (SkipReason::CallerWithheld, "caller_withheld"),
            (SkipReason::ShortCode, "short_code"),
            (SkipReason::InvalidNumber, "invalid_number"),
            (SkipReason::StaffNumber, "staff_number"),
            (SkipReason::OptedOut, "opted_out"),
            (SkipReason::BeforeTextback, "before_textback"),
            (SkipReason::AlreadyTexted { at }, "already_texted"),
            (SkipReason::AnsweredLater { at }, "answered_later"),
            (SkipReason::AlreadyMessaged, "already_messaged"),
        ] {
            assert_eq!(
                reason.code(),
                code,
                "codes are stored in SQLite and must never change"
            );
            assert_eq!(
                Decision::Skip(reason.clone()).code(),
                code,
                "a skip decision reports its reason's code"
            );
            assert!(!reason.describe().is_empty(), "{code} needs a human line");
        }
        assert_eq!(
            SkipReason::AlreadyTexted { at }.describe(),
            "Already texted this caller at 2026-03-02 15:00 UTC",
            "the time is shown so a person can check it"
        );
    }

    fn any_caller() -> impl Strategy<Value = Caller> {
        prop_oneof![
            Just(caller()),
            Just(Caller::Withheld { raw: String::new() }),
            Just(Caller::ShortCode {
                raw: "72345".into()
            }),
            Just(Caller::Invalid { raw: "x".into() }),
        ]
    }

    fn any_facts() -> impl Strategy<Value = TextBackFacts> {
        let offset = || proptest::option::of(-200_000i64..200_000);
        (
            prop_oneof![
                Just(CallDirection::Inbound),
                Just(CallDirection::OutboundApi),
                Just(CallDirection::OutboundDial)
            ],
            any::<bool>(),
            any_caller(),
            proptest::sample::select(CallOutcome::ALL.to_vec()),
            (any::<bool>(), any::<bool>(), any::<bool>()),
            offset(),
            offset(),
            0i64..500_000,
        )
            .prop_map(
                |(
                    direction,
                    to_business_number,
                    caller,
                    outcome,
                    (before_textback, is_staff, opted_out),
                    last,
                    later,
                    age,
                )| {
                    TextBackFacts {
                        direction,
                        to_business_number,
                        caller,
                        outcome,
                        before_textback,
                        is_staff,
                        opted_out,
                        last_text_back_at: last.map(|s| t0() + Duration::seconds(s)),
                        answered_later_at: later.map(|s| t0() + Duration::seconds(s)),
                        call_ended_at: t0(),
                        now: t0() + Duration::seconds(age),
                    }
                },
            )
    }

    fn any_rules() -> impl Strategy<Value = PolicyRules> {
        (0u64..200_000, 0u64..10_000, 0u64..200_000).prop_map(|(d, g, f)| PolicyRules {
            dedupe_window: HumanDuration::from_secs(d),
            grace_window: HumanDuration::from_secs(g),
            freshness_limit: HumanDuration::from_secs(f),
        })
    }

    proptest! {
        #[test]
        fn never_sends_to_opted_out_or_recently_texted(facts in any_facts(), rules in any_rules()) {
            let decision = decide(&facts, &rules);
            if facts.opted_out {
                prop_assert_ne!(&decision, &Decision::Send, "an opted-out caller must never be texted");
                prop_assert_ne!(&decision, &Decision::SendLate, "nor offered a late text-back");
            }
            if let Some(at) = facts.last_text_back_at
                && facts.now - at < rules.dedupe_window.as_chrono()
            {
                prop_assert_ne!(&decision, &Decision::Send, "a caller texted within the dedupe window must not be texted again");
            }
            if decision == Decision::Send {
                prop_assert!(facts.caller.textable().is_some(), "only a textable caller can be sent to");
                prop_assert!(facts.outcome.is_missed(), "only a missed call is texted back");
            }
        }
    }
}

//! The follow-up sequence after the text-back: when each touch goes out, and what stops it.
//!
//! Touch 1 is the text-back itself; the sequence lists the touches after it. Each waits a
//! delay from the previous touch, may snap to the business's next opening, may keep to
//! business hours, and always keeps to the recipient's sending hours: a touch that falls
//! outside is moved to the next allowed instant, never dropped.
//!
//! The default, three touches in all: the text-back; two hours later if there is no reply; a
//! last message the next business day at opening time.

use chrono::{DateTime, Days, NaiveTime, Utc};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::duration::HumanDuration;
use crate::hours::BusinessHours;
use crate::lead::LeadState;
use crate::phone::PhoneNumber;
use crate::sending_hours::{Ambiguous, SendingHours, resolve_local};
use crate::template::Template;

/// The most touches a sequence may have, the text-back included.
pub const MAX_TOUCHES: usize = 10;

/// Where a touch lands after its delay.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Snap {
    /// Exactly the delay after the previous touch.
    #[default]
    None,
    /// The business's next opening at or after the delay (while open: the next one).
    NextOpening,
    /// Opening time on the first business day after the day the delay ends.
    NextBusinessDay,
}

/// One touch after the text-back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Touch {
    /// How long after the previous touch ("2h"; "90s" to try a sequence in minutes).
    pub delay: HumanDuration,
    #[serde(default)]
    pub snap: Snap,
    /// Send only while the business is open (else at its next opening).
    #[serde(default)]
    pub business_hours: bool,
    pub template: Template,
}

/// The follow-up sequence from the config file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SequenceConfig {
    /// Off: the text-back is the only touch.
    pub enabled: bool,
    /// The touches after the text-back, in order.
    pub touches: Vec<Touch>,
}

// NOTE: GSM-7 only (no curly quotes or dashes), like the text-back defaults, so each part
// carries 153-160 characters.
const SECOND: &str = "Hi {first_name}, just checking in from {business_name}. Still need a hand? \
Reply here or book a time: {booking_link}\nReply STOP to opt out.";
const LAST: &str = "Hi {first_name}, {business_name} here one last time. If you still need us, \
reply to this text or book here: {booking_link}\nReply STOP to opt out.";

fn builtin(src: &str) -> Template {
    // The built-in texts are checked by this module's tests.
    Template::parse(src).unwrap_or_else(|e| panic!("built-in follow-up template: {e}"))
}

impl Default for SequenceConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            touches: vec![
                Touch {
                    delay: HumanDuration::from_secs(2 * 3600),
                    snap: Snap::None,
                    business_hours: false,
                    template: builtin(SECOND),
                },
                Touch {
                    delay: HumanDuration::ZERO,
                    snap: Snap::NextBusinessDay,
                    business_hours: true,
                    template: builtin(LAST),
                },
            ],
        }
    }
}

/// Why a sequence from the config cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SequenceError {
    #[error("the sequence has {touches} touches counting the text-back; the most is {MAX_TOUCHES}")]
    TooManyTouches { touches: usize },
    #[error(
        "touch {touch} waits {delay}; the longest wait between touches is {}",
        HumanDuration::from_secs(MAX_DELAY_SECS)
    )]
    DelayTooLong { touch: usize, delay: HumanDuration },
}

/// The longest delay between touches: thirty days.
const MAX_DELAY_SECS: u64 = 30 * 24 * 3600;

impl SequenceConfig {
    /// Touches in all, the text-back included.
    pub fn total_touches(&self) -> u32 {
        let after = if self.enabled { self.touches.len() } else { 0 };
        u32::try_from(after + 1).unwrap_or(u32::MAX)
    }

    /// Touch `number` of the sequence: 2 is the first follow-up. `None` for the text-back
    /// (touch 1), past the end, or when the sequence is off.
    pub fn touch(&self, number: u32) -> Option<&Touch> {
        if !self.enabled || number < 2 {
            return None;
        }
        self.touches.get(usize::try_from(number - 2).ok()?)
    }

    pub fn validate(&self) -> Result<(), SequenceError> {
        let touches = self.touches.len() + 1;
        if touches > MAX_TOUCHES {
            return Err(SequenceError::TooManyTouches { touches });
        }
        for (i, touch) in self.touches.iter().enumerate() {
            if touch.delay.as_secs() > MAX_DELAY_SECS {
                return Err(SequenceError::DelayTooLong {
                    touch: i + 2,
                    delay: touch.delay,
                });
            }
        }
        Ok(())
    }
}

/// When the next touch goes out, given `touches_sent` (the text-back counts) and when the last
/// went out. `None` when the sequence is over (or off, or the text-back has not gone yet).
pub fn next_touch(
    config: &SequenceConfig,
    touches_sent: u32,
    last_touch_at: DateTime<Utc>,
    hours: &BusinessHours,
    sending: &SendingHours,
    recipient: &PhoneNumber,
) -> Option<DateTime<Utc>> {
    if touches_sent == 0 {
        return None;
    }
    let touch = config.touch(touches_sent.checked_add(1)?)?;
    let after_delay = last_touch_at
        .checked_add_signed(touch.delay.as_chrono())
        .unwrap_or(DateTime::<Utc>::MAX_UTC);
    let snapped = match touch.snap {
        Snap::None => Some(after_delay),
        Snap::NextOpening => hours.next_opening(after_delay),
        Snap::NextBusinessDay => next_business_day_opening(hours, after_delay),
    }
    // A business that never opens cannot be snapped to; the delay alone decides.
    .unwrap_or(after_delay);
    Some(settle(
        touch.business_hours,
        snapped,
        hours,
        sending,
        recipient,
    ))
}

/// The opening of the first business day after the local day of `at`.
fn next_business_day_opening(hours: &BusinessHours, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let tomorrow = at
        .with_timezone(&hours.tz)
        .date_naive()
        .checked_add_days(Days::new(1))?;
    let midnight = resolve_local(
        hours.tz,
        tomorrow.and_time(NaiveTime::MIN),
        Ambiguous::Earliest,
    )?;
    // A business open at midnight (the end of a 24-hour day) opens "now".
    if hours.is_open(midnight) {
        return Some(midnight);
    }
    hours.next_opening(midnight)
}

/// The first instant at or after `at` that suits both the business (when the touch keeps to
/// business hours) and the recipient's sending hours. If the two never meet, sending hours
/// win: they are the law, business hours a preference.
fn settle(
    business_hours: bool,
    mut at: DateTime<Utc>,
    hours: &BusinessHours,
    sending: &SendingHours,
    recipient: &PhoneNumber,
) -> DateTime<Utc> {
    // Each round moves forward to the next opening or the next window; a few weeks of
    // alternation is plenty to find an overlap if there is one.
    for _ in 0..64 {
        if business_hours && !hours.is_open(at) {
            match hours.next_opening(at) {
                Some(opening) => at = opening,
                None => break,
            }
        }
        let allowed = sending.next_allowed(recipient, hours.tz, at);
        if allowed == at && (!business_hours || hours.is_open(at)) {
            return at;
        }
        at = allowed;
    }
    sending.next_allowed(recipient, hours.tz, at)
}

/// Why a sequence stops before its last touch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StopCondition {
    CustomerReplied,
    Booked,
    OptedOut,
    /// A person wrote in the thread (from any desk or the provider's console).
    StaffMessaged,
    /// A person called the customer back.
    StaffCalledBack,
    MarkedLost,
    /// The lead closed another way (superseded, expired).
    LeadClosed,
}

impl StopCondition {
    /// Stable code for the audit log and the outbox's cancel reason.
    pub fn code(&self) -> &'static str {
        match self {
            Self::CustomerReplied => "customer_replied",
            Self::Booked => "booked",
            Self::OptedOut => "opted_out",
            Self::StaffMessaged => "staff_messaged",
            Self::StaffCalledBack => "staff_called_back",
            Self::MarkedLost => "lost",
            Self::LeadClosed => "lead_closed",
        }
    }

    /// One line for the conversation's timeline.
    pub fn describe(&self) -> &'static str {
        match self {
            Self::CustomerReplied => "Follow-ups stopped: the customer replied",
            Self::Booked => "Follow-ups stopped: the lead booked",
            Self::OptedOut => "Follow-ups stopped: the customer opted out",
            Self::StaffMessaged => "Follow-ups stopped: a person wrote to the customer",
            Self::StaffCalledBack => "Follow-ups stopped: a person called the customer",
            Self::MarkedLost => "Follow-ups stopped: the lead was marked lost",
            Self::LeadClosed => "Follow-ups stopped: the lead was closed",
        }
    }
}

/// What has happened on a lead since its text-back, as far as the sequence cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SequenceFacts {
    pub state: LeadState,
    /// The customer's number is opted out (whatever the lead's state says).
    pub opted_out: bool,
    /// An inbound message since the text-back.
    pub customer_replied: bool,
    /// A message written by a person since the text-back.
    pub staff_messaged: bool,
    /// A call from the business to the customer since the text-back.
    pub staff_called_back: bool,
}

/// Why the sequence must stop now, or `None` to carry on. Checked again right before each
/// touch is sent, so nothing that happened in between slips through.
pub fn stop_reason(facts: &SequenceFacts) -> Option<StopCondition> {
    if facts.opted_out {
        return Some(StopCondition::OptedOut);
    }
    let by_state = match facts.state {
        LeadState::OptedOut => Some(StopCondition::OptedOut),
        LeadState::Booked => Some(StopCondition::Booked),
        LeadState::Lost => Some(StopCondition::MarkedLost),
        LeadState::Superseded | LeadState::Expired => Some(StopCondition::LeadClosed),
        LeadState::Replied => Some(StopCondition::CustomerReplied),
        LeadState::New | LeadState::Texted => None,
    };
    by_state.or(if facts.customer_replied {
        Some(StopCondition::CustomerReplied)
    } else if facts.staff_messaged {
        Some(StopCondition::StaffMessaged)
    } else if facts.staff_called_back {
        Some(StopCondition::StaffCalledBack)
    } else {
        None
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hours::WeeklyHours;
    use crate::segments::{Encoding, segments};
    use crate::template::RenderContext;
    use chrono::{NaiveDate, TimeZone};
    use proptest::prelude::*;

    fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, min, 0)
            .single()
            .expect("valid test instant")
    }

    fn new_york() -> BusinessHours {
        BusinessHours::new(chrono_tz::America::New_York, WeeklyHours::default(), vec![])
    }

    fn caller(n: &str) -> PhoneNumber {
        PhoneNumber::parse_e164(n).expect("valid test number")
    }

    fn open_facts() -> SequenceFacts {
        SequenceFacts {
            state: LeadState::Texted,
            opted_out: false,
            customer_replied: false,
            staff_messaged: false,
            staff_called_back: false,
        }
    }

    #[test]
    fn default_is_three_touches_counting_the_text_back() {
        let config = SequenceConfig::default();
        assert_eq!(config.total_touches(), 3, "text-back, follow-up, last one");
        assert!(
            config.touch(1).is_none(),
            "touch 1 is the text-back, not ours"
        );
        assert_eq!(
            config.touch(2).map(|t| t.delay),
            Some(HumanDuration::from_secs(7200)),
            "the first follow-up waits two hours"
        );
        assert_eq!(
            config.touch(3).map(|t| t.snap),
            Some(Snap::NextBusinessDay),
            "the last one goes at the next business day's opening"
        );
        assert!(config.touch(4).is_none(), "then the sequence stops");
        assert_eq!(config.validate(), Ok(()), "the default is valid");
    }

    #[test]
    fn default_templates_are_cheap_and_carry_the_opt_out_line() {
        let ctx = RenderContext {
            business_name: "Rapid Rooter Plumbing",
            booking_link: "https://book.example.com/rapid-rooter",
            first_name: Some("Maria"),
        };
        for touch in SequenceConfig::default().touches {
            let body = touch.template.render(&ctx);
            let s = segments(&body);
            assert_eq!(s.encoding, Encoding::Gsm7, "no UCS-2 in defaults: {body}");
            assert!(s.segments <= 2, "at most two parts: {body}");
            assert!(
                body.contains("Reply STOP to opt out"),
                "opt-out line: {body}"
            );
        }
    }

    #[test]
    fn no_touch_before_the_text_back_or_after_the_last() {
        let config = SequenceConfig::default();
        let (hours, sending) = (new_york(), SendingHours::default());
        let who = caller("+12125550123");
        let at = utc(2026, 3, 10, 14, 0);
        assert_eq!(
            next_touch(&config, 0, at, &hours, &sending, &who),
            None,
            "the sequence starts once the text-back is out"
        );
        assert_eq!(
            next_touch(&config, 3, at, &hours, &sending, &who),
            None,
            "three touches sent: done"
        );
        let off = SequenceConfig {
            enabled: false,
            ..SequenceConfig::default()
        };
        assert_eq!(
            next_touch(&off, 1, at, &hours, &sending, &who),
            None,
            "switched off: the text-back is the only touch"
        );
    }

    #[test]
    fn business_hours_touch_waits_for_opening_and_snap_next_opening() {
        let touch = |snap, business_hours| SequenceConfig {
            enabled: true,
            touches: vec![Touch {
                delay: HumanDuration::from_secs(90),
                snap,
                business_hours,
                template: builtin(SECOND),
            }],
        };
        let (hours, sending) = (new_york(), SendingHours::default());
        let who = caller("+12125550123");
        // Tuesday 2026-03-10 18:00 EDT: closed, but inside sending hours.
        let evening = utc(2026, 3, 10, 22, 0);
        assert_eq!(
            next_touch(
                &touch(Snap::None, false),
                1,
                evening,
                &hours,
                &sending,
                &who
            ),
            Some(evening + chrono::Duration::seconds(90)),
            "90s later: a sequence can be tried in minutes"
        );
        assert_eq!(
            next_touch(&touch(Snap::None, true), 1, evening, &hours, &sending, &who),
            Some(utc(2026, 3, 11, 12, 0)),
            "kept to business hours: Wednesday 08:00 EDT"
        );
        // Tuesday 10:00 EDT, open: the next opening is Wednesday's.
        assert_eq!(
            next_touch(
                &touch(Snap::NextOpening, false),
                1,
                utc(2026, 3, 10, 14, 0),
                &hours,
                &sending,
                &who
            ),
            Some(utc(2026, 3, 11, 12, 0)),
            "snapping while open goes to the next opening"
        );
    }

    #[test]
    fn business_hours_and_sending_hours_must_both_agree() {
        // Open Wednesdays 06:00-12:00 in New York; the caller is in San Francisco, where 08:00
        // is 11:00 in New York.
        let weekly = WeeklyHours::closed()
            .with_day(chrono::Weekday::Wed, "06:00-12:00")
            .expect("valid");
        let hours = BusinessHours::new(chrono_tz::America::New_York, weekly, vec![]);
        let config = SequenceConfig {
            enabled: true,
            touches: vec![Touch {
                delay: HumanDuration::ZERO,
                snap: Snap::None,
                business_hours: true,
                template: builtin(SECOND),
            }],
        };
        let at = next_touch(
            &config,
            1,
            utc(2026, 3, 10, 22, 0),
            &hours,
            &SendingHours::default(),
            &caller("+14155552671"),
        );
        assert_eq!(
            at,
            Some(utc(2026, 3, 11, 15, 0)),
            "Wednesday 11:00 EDT: open, and 08:00 in San Francisco"
        );
    }

    #[test]
    fn every_stop_condition() {
        assert_eq!(
            stop_reason(&open_facts()),
            None,
            "nothing happened: carry on"
        );
        let cases: [(SequenceFacts, StopCondition); 10] = [
            (
                SequenceFacts {
                    customer_replied: true,
                    ..open_facts()
                },
                StopCondition::CustomerReplied,
            ),
            (
                SequenceFacts {
                    state: LeadState::Replied,
                    ..open_facts()
                },
                StopCondition::CustomerReplied,
            ),
            (
                SequenceFacts {
                    state: LeadState::Booked,
                    ..open_facts()
                },
                StopCondition::Booked,
            ),
            (
                SequenceFacts {
                    opted_out: true,
                    ..open_facts()
                },
                StopCondition::OptedOut,
            ),
            (
                SequenceFacts {
                    state: LeadState::OptedOut,
                    ..open_facts()
                },
                StopCondition::OptedOut,
            ),
            (
                SequenceFacts {
                    staff_messaged: true,
                    ..open_facts()
                },
                StopCondition::StaffMessaged,
            ),
            (
                SequenceFacts {
                    staff_called_back: true,
                    ..open_facts()
                },
                StopCondition::StaffCalledBack,
            ),
            (
                SequenceFacts {
                    state: LeadState::Lost,
                    ..open_facts()
                },
                StopCondition::MarkedLost,
            ),
            (
                SequenceFacts {
                    state: LeadState::Superseded,
                    ..open_facts()
                },
                StopCondition::LeadClosed,
            ),
            (
                SequenceFacts {
                    state: LeadState::Expired,
                    ..open_facts()
                },
                StopCondition::LeadClosed,
            ),
        ];
        for (facts, expected) in cases {
            assert_eq!(stop_reason(&facts), Some(expected), "{facts:?}");
            assert!(
                expected.describe().starts_with("Follow-ups stopped"),
                "each reason reads on the timeline"
            );
        }
        let both = SequenceFacts {
            state: LeadState::Booked,
            opted_out: true,
            ..open_facts()
        };
        assert_eq!(
            stop_reason(&both),
            Some(StopCondition::OptedOut),
            "an opt-out is reported first: it is the one with legal weight"
        );
    }

    #[test]
    fn serde_reads_touches_with_defaults_and_validates() {
        let json = r#"{"touches":[{"delay":"90s","template":"Hi {first_name}"},
            {"delay":"1h","snap":"next_opening","business_hours":true,"template":"Bye"}]}"#;
        let config: SequenceConfig = serde_json::from_str(json).expect("the config shape loads");
        assert!(config.enabled, "enabled by default");
        assert_eq!(config.touches[0].snap, Snap::None, "no snap by default");
        assert_eq!(config.touches[1].snap, Snap::NextOpening, "snap is read");
        assert!(
            serde_json::from_str::<SequenceConfig>(
                r#"{"touches":[{"delay":"1h","template":"Hi {frist_name}"}]}"#
            )
            .is_err(),
            "templates are validated exactly like the text-back's"
        );
        let long = SequenceConfig {
            enabled: true,
            touches: vec![
                Touch {
                    delay: HumanDuration::from_secs(60),
                    snap: Snap::None,
                    business_hours: false,
                    template: builtin(SECOND),
                };
                MAX_TOUCHES
            ],
        };
        assert!(
            matches!(
                long.validate(),
                Err(SequenceError::TooManyTouches { touches: 11 })
            ),
            "a sequence is capped"
        );
        let slow = SequenceConfig {
            enabled: true,
            touches: vec![Touch {
                delay: HumanDuration::from_secs(31 * 24 * 3600),
                snap: Snap::None,
                business_hours: false,
                template: builtin(SECOND),
            }],
        };
        let err = slow.validate().expect_err("31 days is too long");
        assert!(
            err.to_string().contains("touch 2"),
            "names the touch: {err}"
        );
    }

    #[test]
    fn the_default_sequence_across_a_weekend_a_holiday_and_the_dst_change() {
        // New York, open Monday to Friday 08:00-17:00, Monday 2026-03-09 a holiday; clocks go
        // forward on Sunday 2026-03-08. The caller is in New York too.
        let holiday = NaiveDate::from_ymd_opt(2026, 3, 9).expect("valid");
        let hours = BusinessHours::new(
            chrono_tz::America::New_York,
            WeeklyHours::default(),
            vec![holiday],
        );
        let (config, sending) = (SequenceConfig::default(), SendingHours::default());
        let who = caller("+12125550123");
        // The text-back: Friday 20:00 EST.
        let text_back = utc(2026, 3, 7, 1, 0);
        let second = next_touch(&config, 1, text_back, &hours, &sending, &who);
        assert_eq!(
            second,
            Some(utc(2026, 3, 7, 13, 0)),
            "two hours later is 22:00, past the 21:00 sending hours: moved to Saturday 08:00 EST, not dropped"
        );
        let third = next_touch(&config, 2, second.expect("checked"), &hours, &sending, &who);
        assert_eq!(
            third,
            Some(utc(2026, 3, 10, 12, 0)),
            "the next business day skips Sunday and Monday's holiday: Tuesday 08:00, now EDT (UTC-4)"
        );
        assert_eq!(
            next_touch(&config, 3, third.expect("checked"), &hours, &sending, &who),
            None,
            "three touches counting the text-back, then the sequence stops"
        );
    }

    #[test]
    fn next_business_day_skips_a_holiday() {
        let holiday = NaiveDate::from_ymd_opt(2026, 12, 25).expect("valid");
        let hours = BusinessHours::new(
            chrono_tz::America::New_York,
            WeeklyHours::default(),
            vec![holiday],
        );
        assert_eq!(
            next_business_day_opening(&hours, utc(2026, 12, 24, 12, 30)),
            Some(utc(2026, 12, 28, 13, 0)),
            "Thursday before a Friday holiday: Monday 08:00 EST"
        );
    }

    proptest! {
        // NOTE: tests write nothing outside temp dirs, so no proptest-regressions files; a
        // failing case worth keeping becomes a named test.
        #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::default() })]

        #[test]
        fn touches_never_come_early_and_always_at_an_allowed_hour(
            minutes in 0i64..(366 * 24 * 60),
            sent in 1u32..3,
            code in proptest::sample::select(vec![212u16, 305, 415, 808]),
        ) {
            let config = SequenceConfig::default();
            let (hours, sending) = (new_york(), SendingHours::default());
            let who = caller(&format!("+1{code}5550123"));
            let last = utc(2026, 1, 1, 0, 0) + chrono::Duration::minutes(minutes);
            let at = next_touch(&config, sent, last, &hours, &sending, &who);
            let touch = config.touch(sent + 1);
            prop_assert!(at.is_some() && touch.is_some(), "touches 2 and 3 always get a time");
            if let (Some(at), Some(touch)) = (at, touch) {
                prop_assert!(at >= last + touch.delay.as_chrono(), "never before the delay");
                prop_assert!(sending.is_allowed(&who, hours.tz, at), "inside sending hours: {}", at);
                prop_assert!(at - last <= chrono::Duration::days(6), "no touch waits more than a long weekend");
            }
        }
    }
}

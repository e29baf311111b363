//! The lead: one missed-call opportunity being worked, from the first missed call until it is
//! booked, lost, opted out, superseded by a new missed call, or left inactive.
//!
//! ```text
//! new ──touch──▶ texted ──reply──▶ replied
//!  │               │                  │
//!  └───────────────┴──────────────────┴──▶ booked | lost | opted_out | superseded | expired
//! ```
//!
//! `escalated` is a flag beside the state, not a state. Every accepted event yields a
//! [`Transition`] naming the [`Actor`] that caused it, for the audit log.
//!
//! To add an event, add a [`LeadEvent`] variant, its row in [`transition`], and a test.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::duration::HumanDuration;

/// Where a lead stands. The strings are those stored in the `leads.state` column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LeadState {
    /// A missed call opened it; nothing sent yet.
    New,
    /// The text-back (or a follow-up) went out.
    Texted,
    /// The customer wrote back.
    Replied,
    Booked,
    /// Marked lost by a person.
    Lost,
    OptedOut,
    /// A later missed call outside the dedupe window opened a new lead in its place.
    Superseded,
    /// Closed after the inactivity period.
    Expired,
}

/// Why a stored lead state could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum LeadError {
    #[error(
        "\"{input}\" is not a lead state; expected new, texted, replied, booked, lost, opted_out, superseded or expired"
    )]
    UnknownState { input: String },
}

impl LeadState {
    pub const ALL: [LeadState; 8] = [
        Self::New,
        Self::Texted,
        Self::Replied,
        Self::Booked,
        Self::Lost,
        Self::OptedOut,
        Self::Superseded,
        Self::Expired,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            Self::New => "new",
            Self::Texted => "texted",
            Self::Replied => "replied",
            Self::Booked => "booked",
            Self::Lost => "lost",
            Self::OptedOut => "opted_out",
            Self::Superseded => "superseded",
            Self::Expired => "expired",
        }
    }

    /// Reads a stored state. "inactive" (the store's close reason for an expired lead) reads
    /// as [`LeadState::Expired`].
    pub fn parse(s: &str) -> Result<Self, LeadError> {
        let t = s.trim();
        if t == "inactive" {
            return Ok(Self::Expired);
        }
        Self::ALL
            .into_iter()
            .find(|state| state.as_str() == t)
            .ok_or_else(|| LeadError::UnknownState {
                input: s.to_owned(),
            })
    }

    /// Closed leads take no more events (but see [`LeadEvent::Booked`]).
    pub fn is_closed(&self) -> bool {
        !matches!(self, Self::New | Self::Texted | Self::Replied)
    }

    /// The store's `leads.close_reason` for a closed state.
    pub fn close_reason(&self) -> Option<&'static str> {
        match self {
            Self::New | Self::Texted | Self::Replied => None,
            Self::Expired => Some("inactive"),
            closed => Some(closed.as_str()),
        }
    }
}

impl fmt::Display for LeadState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for LeadState {
    type Err = LeadError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for LeadState {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for LeadState {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// Who or what caused a transition.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Actor {
    /// An automatic rule, named ("textback", "followup", "inactivity", "new_missed_call").
    Engine { rule: &'static str },
    /// A member of staff, by name.
    Staff { name: String },
    /// The customer (caller or texter).
    Customer,
    /// A booking system ("calcom", "manual").
    Booking { source: String },
}

impl Actor {
    /// The `actor` column of the audit log: "engine", the staff name, "customer", or
    /// "booking:<source>".
    pub fn audit_name(&self) -> String {
        match self {
            Actor::Engine { .. } => "engine".to_owned(),
            Actor::Staff { name } => name.clone(),
            Actor::Customer => "customer".to_owned(),
            Actor::Booking { source } => format!("booking:{source}"),
        }
    }
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Actor::Engine { rule } => write!(f, "engine ({rule})"),
            Actor::Staff { name } => f.write_str(name),
            Actor::Customer => f.write_str("customer"),
            Actor::Booking { source } => write!(f, "booking ({source})"),
        }
    }
}

/// Something that happened to a lead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LeadEvent {
    /// A touch of the sequence was accepted by the provider (1 = the text-back).
    TouchSent { touch: u32 },
    /// The customer wrote (not an opt-out).
    CustomerReplied,
    /// A booking for this lead, from a booking system or marked by staff.
    Booked { by: Actor },
    /// Staff marked the lead lost.
    MarkedLost { by: Actor },
    /// The customer opted out (keyword, provider error 21610, or a staff import).
    OptedOut { by: Actor },
    /// A missed call outside the dedupe window opened a new lead.
    Superseded,
    /// Nothing happened for the inactivity period.
    Inactive,
    /// A rule escalated the lead to staff.
    Escalated { reason: String },
}

impl LeadEvent {
    fn name(&self) -> &'static str {
        match self {
            LeadEvent::TouchSent { .. } => "texted",
            LeadEvent::CustomerReplied => "replied to",
            LeadEvent::Booked { .. } => "booked",
            LeadEvent::MarkedLost { .. } => "marked lost",
            LeadEvent::OptedOut { .. } => "opted out",
            LeadEvent::Superseded => "superseded",
            LeadEvent::Inactive => "closed as inactive",
            LeadEvent::Escalated { .. } => "escalated",
        }
    }
}

/// An accepted event: the new state and what to write to the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    pub from: LeadState,
    pub to: LeadState,
    /// The event sets the `escalated` flag.
    pub escalates: bool,
    pub actor: Actor,
    /// The audit log's `action`: "lead_texted", "lead_booked", "lead_escalated", ...
    pub action: &'static str,
    /// A detail for the audit log (the touch number, the escalation reason).
    pub detail: Option<String>,
}

impl Transition {
    /// The state changed (a second touch or reply leaves it as it was).
    pub fn changed(&self) -> bool {
        self.from != self.to
    }

    /// This transition closes the lead.
    pub fn closes(&self) -> bool {
        !self.from.is_closed() && self.to.is_closed()
    }
}

/// An event the lead's state does not allow; the caller ignores it (a late webhook, a
/// double click).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("a {from} lead cannot be {event}")]
pub struct InvalidTransition {
    pub from: LeadState,
    pub event: &'static str,
}

/// Applies `event` to a lead in `state`.
///
/// Open leads move forward and never back: a touch after a reply leaves it replied. Closed
/// leads take nothing, except that a booking closes a lost or expired lead as booked (the
/// customer booked after all; the funnel should count it).
pub fn transition(state: LeadState, event: LeadEvent) -> Result<Transition, InvalidTransition> {
    use LeadState::*;
    let invalid = InvalidTransition {
        from: state,
        event: event.name(),
    };
    let (to, action, actor, detail) = match (state, event) {
        (New | Texted, LeadEvent::TouchSent { touch }) => (
            Texted,
            "lead_texted",
            engine(if touch <= 1 { "textback" } else { "followup" }),
            Some(format!("touch {touch}")),
        ),
        // A touch accepted just after the reply: the lead stays replied.
        (Replied, LeadEvent::TouchSent { touch }) => (
            Replied,
            "lead_texted",
            engine("followup"),
            Some(format!("touch {touch}")),
        ),
        (New | Texted | Replied, LeadEvent::CustomerReplied) => {
            (Replied, "lead_replied", Actor::Customer, None)
        }
        (New | Texted | Replied | Lost | Expired, LeadEvent::Booked { by }) => {
            (Booked, "lead_booked", by, None)
        }
        (New | Texted | Replied, LeadEvent::MarkedLost { by }) => (Lost, "lead_lost", by, None),
        (New | Texted | Replied, LeadEvent::OptedOut { by }) => {
            (OptedOut, "lead_opted_out", by, None)
        }
        (New | Texted | Replied, LeadEvent::Superseded) => (
            Superseded,
            "lead_superseded",
            engine("new_missed_call"),
            None,
        ),
        (New | Texted | Replied, LeadEvent::Inactive) => {
            (Expired, "lead_expired", engine("inactivity"), None)
        }
        (New | Texted | Replied, LeadEvent::Escalated { reason }) => {
            return Ok(Transition {
                from: state,
                to: state,
                escalates: true,
                actor: engine("escalation"),
                action: "lead_escalated",
                detail: Some(reason),
            });
        }
        _ => return Err(invalid),
    };
    Ok(Transition {
        from: state,
        to,
        escalates: false,
        actor,
        action,
        detail,
    })
}

fn engine(rule: &'static str) -> Actor {
    Actor::Engine { rule }
}

/// Lead settings from the config file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LeadRules {
    /// An open lead with no call, message or staff action for this long closes as expired.
    pub inactivity: HumanDuration,
}

impl Default for LeadRules {
    fn default() -> Self {
        Self {
            inactivity: HumanDuration::from_secs(7 * 24 * 3600),
        }
    }
}

impl LeadRules {
    /// Whether a lead last active at `last_activity_at` has been inactive too long by `now`.
    pub fn is_inactive(&self, last_activity_at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
        last_activity_at
            .checked_add_signed(self.inactivity.as_chrono())
            .is_some_and(|deadline| now >= deadline)
    }
}

/// What a new missed call does to the caller's leads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MissedCallLead {
    /// The caller is a member of staff: staff numbers never become leads.
    NotALead,
    /// A repeat call inside the dedupe window: it joins the open lead.
    FoldIntoOpen,
    /// A new lead with its own sequence; `supersedes_open`: close the open one as superseded.
    NewLead { supersedes_open: bool },
}

/// Decides whether a missed call at `call_at` joins the open lead or starts a new one.
/// `open_lead_last_call_at` is the open lead's most recent call (its opening time if no call
/// opened it), `None` when the caller has no open lead. Texts never start a lead; they join the
/// open one.
pub fn lead_for_missed_call(
    caller_is_staff: bool,
    open_lead_last_call_at: Option<DateTime<Utc>>,
    call_at: DateTime<Utc>,
    dedupe_window: HumanDuration,
) -> MissedCallLead {
    if caller_is_staff {
        return MissedCallLead::NotALead;
    }
    let Some(last) = open_lead_last_call_at else {
        return MissedCallLead::NewLead {
            supersedes_open: false,
        };
    };
    // A call at or before the last one (out-of-order sync) is a repeat of it.
    let inside = last
        .checked_add_signed(dedupe_window.as_chrono())
        .is_none_or(|end| call_at < end);
    if inside {
        MissedCallLead::FoldIntoOpen
    } else {
        MissedCallLead::NewLead {
            supersedes_open: true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn utc(d: u32, h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, d, h, 0, 0)
            .single()
            .expect("valid test instant")
    }

    fn staff(name: &str) -> Actor {
        Actor::Staff {
            name: name.to_owned(),
        }
    }

    #[test]
    fn states_read_and_write_the_stored_strings() {
        for state in LeadState::ALL {
            assert_eq!(
                LeadState::parse(state.as_str()),
                Ok(state),
                "{state} must read back from the store"
            );
        }
        for (stored, state) in [
            ("new", LeadState::New),
            ("opted_out", LeadState::OptedOut),
            ("superseded", LeadState::Superseded),
            ("expired", LeadState::Expired),
            ("inactive", LeadState::Expired),
        ] {
            assert_eq!(
                LeadState::parse(stored),
                Ok(state),
                "{stored:?} is written by the store"
            );
        }
        assert!(
            LeadState::parse("escalated")
                .expect_err("escalated is a flag")
                .to_string()
                .contains("opted_out"),
            "the error lists the valid states"
        );
        assert_eq!(
            serde_json::to_string(&LeadState::OptedOut).ok().as_deref(),
            Some("\"opted_out\""),
            "serialized as the stored string"
        );
        assert_eq!(
            LeadState::Expired.close_reason(),
            Some("inactive"),
            "the store's close_reason for an expired lead"
        );
        assert_eq!(
            LeadState::Replied.close_reason(),
            None,
            "open leads have no close reason"
        );
    }

    #[test]
    fn the_happy_path_new_texted_replied_booked() {
        let t = transition(LeadState::New, LeadEvent::TouchSent { touch: 1 }).expect("valid");
        assert_eq!(t.to, LeadState::Texted, "the text-back makes it texted");
        assert_eq!(
            t.actor,
            Actor::Engine { rule: "textback" },
            "the engine's text-back rule did it"
        );
        let t = transition(t.to, LeadEvent::TouchSent { touch: 2 }).expect("valid");
        assert!(
            !t.changed() && t.detail.as_deref() == Some("touch 2"),
            "a follow-up keeps it texted and is still audited"
        );
        let t = transition(t.to, LeadEvent::CustomerReplied).expect("valid");
        assert_eq!(
            (t.to, t.actor.clone()),
            (LeadState::Replied, Actor::Customer),
            "the customer replied"
        );
        let by = Actor::Booking {
            source: "calcom".into(),
        };
        let t = transition(t.to, LeadEvent::Booked { by: by.clone() }).expect("valid");
        assert!(
            t.closes() && t.to == LeadState::Booked,
            "booking closes the lead"
        );
        assert_eq!(
            t.actor.audit_name(),
            "booking:calcom",
            "the audit log names the booking source"
        );
    }

    #[test]
    fn leads_never_move_back() {
        let t = transition(LeadState::Replied, LeadEvent::TouchSent { touch: 3 }).expect("valid");
        assert_eq!(
            t.to,
            LeadState::Replied,
            "a touch sent just after a reply leaves the lead replied"
        );
    }

    #[test]
    fn every_open_state_can_close_each_way() {
        for from in [LeadState::New, LeadState::Texted, LeadState::Replied] {
            for (event, to) in [
                (LeadEvent::MarkedLost { by: staff("Ana") }, LeadState::Lost),
                (
                    LeadEvent::OptedOut {
                        by: Actor::Customer,
                    },
                    LeadState::OptedOut,
                ),
                (LeadEvent::Superseded, LeadState::Superseded),
                (LeadEvent::Inactive, LeadState::Expired),
                (LeadEvent::Booked { by: staff("Ana") }, LeadState::Booked),
            ] {
                let t = transition(from, event).expect("an open lead can close");
                assert_eq!(t.to, to, "from {from}");
                assert!(t.closes(), "{from} -> {to} closes the lead");
                assert!(
                    t.action.starts_with("lead_"),
                    "audit actions share a prefix"
                );
            }
        }
    }

    #[test]
    fn closed_leads_take_nothing_but_a_late_booking() {
        for closed in LeadState::ALL.into_iter().filter(LeadState::is_closed) {
            for event in [
                LeadEvent::TouchSent { touch: 2 },
                LeadEvent::CustomerReplied,
                LeadEvent::MarkedLost { by: staff("Ana") },
                LeadEvent::Inactive,
                LeadEvent::Superseded,
                LeadEvent::Escalated { reason: "x".into() },
            ] {
                let err = transition(closed, event).expect_err("a closed lead is final");
                assert_eq!(err.from, closed, "the error names the state");
            }
        }
        for late in [LeadState::Lost, LeadState::Expired] {
            let t = transition(late, LeadEvent::Booked { by: staff("Ana") })
                .expect("a booking after all still counts");
            assert_eq!(t.to, LeadState::Booked, "from {late}");
        }
        for final_state in [
            LeadState::Booked,
            LeadState::OptedOut,
            LeadState::Superseded,
        ] {
            assert!(
                transition(final_state, LeadEvent::Booked { by: staff("Ana") }).is_err(),
                "{final_state} is final even for a booking"
            );
        }
        assert_eq!(
            transition(LeadState::Booked, LeadEvent::CustomerReplied)
                .expect_err("closed")
                .to_string(),
            "a booked lead cannot be replied to",
            "the error reads as a sentence"
        );
    }

    #[test]
    fn escalation_is_a_flag_not_a_state() {
        let t = transition(
            LeadState::Replied,
            LeadEvent::Escalated {
                reason: "urgent".into(),
            },
        )
        .expect("open leads escalate");
        assert!(
            t.escalates && !t.changed(),
            "escalating sets the flag and keeps the state"
        );
        assert_eq!(t.detail.as_deref(), Some("urgent"), "the reason is audited");
    }

    #[test]
    fn missed_calls_fold_or_start_a_lead() {
        let day = HumanDuration::from_secs(24 * 3600);
        assert_eq!(
            lead_for_missed_call(true, None, utc(2, 9), day),
            MissedCallLead::NotALead,
            "staff numbers never become leads"
        );
        assert_eq!(
            lead_for_missed_call(false, None, utc(2, 9), day),
            MissedCallLead::NewLead {
                supersedes_open: false
            },
            "no open lead: a new one"
        );
        assert_eq!(
            lead_for_missed_call(false, Some(utc(2, 9)), utc(3, 8), day),
            MissedCallLead::FoldIntoOpen,
            "23 hours later is inside the 24 h window"
        );
        assert_eq!(
            lead_for_missed_call(false, Some(utc(2, 9)), utc(3, 9), day),
            MissedCallLead::NewLead {
                supersedes_open: true
            },
            "exactly 24 hours later starts a new lead and closes the old one"
        );
        assert_eq!(
            lead_for_missed_call(false, Some(utc(2, 9)), utc(1, 9), day),
            MissedCallLead::FoldIntoOpen,
            "an older call synced late is a repeat, not a new lead"
        );
    }

    #[test]
    fn inactivity_defaults_to_seven_days() {
        let rules = LeadRules::default();
        assert!(
            !rules.is_inactive(utc(1, 0), utc(7, 23)),
            "six days and 23 hours is still active"
        );
        assert!(
            rules.is_inactive(utc(1, 0), utc(8, 0)),
            "seven days closes it"
        );
        let rules: LeadRules =
            serde_json::from_str(r#"{"inactivity":"3d"}"#).expect("config shape");
        assert_eq!(
            rules.inactivity,
            HumanDuration::from_secs(3 * 24 * 3600),
            "configurable"
        );
    }
}

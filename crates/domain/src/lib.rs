//! Textback's domain: the pure types and rules every other crate builds on. No I/O, no async,
//! no clock reads: time, configuration and provider data come in as values.
//!
//! What lives here, one module per concern:
//! - [`clock`]: where "now" comes from ([`Clock`], [`ManualClock`] for tests);
//! - [`duration`]: human durations from the config ("15m", "1h30m");
//! - [`phone`]: E.164 [`PhoneNumber`]s and what a raw caller id means ([`Caller`]);
//! - [`ids`]: provider call, message and media ids;
//! - [`call`]: call statuses and the answered/missed [`classify`] rule;
//! - [`policy`]: whether to text back a missed call ([`decide`]);
//! - [`hours`]: business hours, holidays and the next opening, DST-correct;
//! - [`template`]: message templates and the built-in defaults;
//! - [`segments`]: SMS encoding and segment counts;
//! - [`keywords`]: STOP/START/HELP matching of inbound texts;
//! - [`lead`]: the lead's states, events and who caused each transition;
//! - [`followup`]: the follow-up sequence after the text-back and what stops it;
//! - [`sending_hours`]: when a customer may be texted, in their own time zone;
//! - [`shifts`]: staff, the rota, overrides and who is on shift now;
//! - [`escalation`]: when a lead needs a person, who is paged and how often;
//! - [`compliance`]: the opt-out confirmation and the HELP reply;
//! - [`dnt`]: the do-not-text list as CSV.
//!
//! Adding a rule: put it in the module of its concern (or a new module for a new concern) as a
//! plain function over plain values, give it its own error enum if it parses outside input,
//! re-export its main types below, and test it beside the code, including a proptest when it
//! reads arbitrary text. If a rule needs the time, take a `DateTime<Utc>` argument rather than
//! a [`Clock`]; the engine reads the clock.

pub mod call;
pub mod clock;
pub mod compliance;
pub mod dnt;
pub mod duration;
pub mod escalation;
pub mod followup;
pub mod hours;
pub mod ids;
pub mod keywords;
pub mod lead;
pub mod phone;
pub mod policy;
pub mod segments;
pub mod sending_hours;
pub mod shifts;
pub mod template;

pub use call::{
    CallDirection, CallOutcome, CallStatus, Classification, ClassifyRules, Leg, OutcomeError,
    classify,
};
pub use clock::{Clock, ManualClock, SystemClock};
pub use compliance::{KeywordReplies, ReplyDecision, ReplyMode, SkipReply};
pub use dnt::{DntEntry, DntError, DntImport, ImportLimits, RowIssue};
pub use duration::{DurationError, HumanDuration};
pub use escalation::{Escalation, EscalationPolicy, PagePlan, Raise, Trigger};
pub use followup::{SequenceConfig, Snap, StopCondition, Touch, next_touch, stop_reason};
pub use hours::{BusinessHours, HoursError, OpenInterval, WeeklyHours};
pub use ids::{IdError, ProviderCallId, ProviderMediaId, ProviderMessageId};
pub use keywords::{Keyword, classify_keyword, provider_keyword};
pub use lead::{
    Actor, InvalidTransition, LeadEvent, LeadRules, LeadState, MissedCallLead, Transition,
    lead_for_missed_call, transition,
};
pub use phone::{Caller, PhoneError, PhoneNumber, Region, classify_caller};
pub use policy::{Decision, PolicyRules, SkipReason, TextBackFacts, decide};
pub use segments::{Encoding, Segments, segments};
pub use sending_hours::{SendingHours, nanp_area, recipient_tz};
pub use shifts::{
    OnShift, Override, Role, Roster, RosterError, ShiftsConfig, StaffMember, Via, WeekView,
    on_shift, week_view,
};
pub use template::{
    Placeholder, RenderContext, Template, TemplateError, TemplateKind, default_template,
};

/// Any domain error, for callers that read several kinds of input at once (the config loader).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    #[error(transparent)]
    Duration(#[from] DurationError),
    #[error(transparent)]
    Phone(#[from] PhoneError),
    #[error(transparent)]
    Id(#[from] IdError),
    #[error(transparent)]
    Outcome(#[from] OutcomeError),
    #[error(transparent)]
    Hours(#[from] HoursError),
    #[error(transparent)]
    Template(#[from] TemplateError),
}

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
//! - [`keywords`]: STOP/START/HELP matching of inbound texts.
//!
//! Adding a rule: put it in the module of its concern (or a new module for a new concern) as a
//! plain function over plain values, give it its own error enum if it parses outside input,
//! re-export its main types below, and test it beside the code, including a proptest when it
//! reads arbitrary text. If a rule needs the time, take a `DateTime<Utc>` argument rather than
//! a [`Clock`]; the engine reads the clock.

pub mod call;
pub mod clock;
pub mod duration;
pub mod hours;
pub mod ids;
pub mod keywords;
pub mod phone;
pub mod policy;
pub mod segments;
pub mod template;

pub use call::{
    CallDirection, CallOutcome, CallStatus, Classification, ClassifyRules, Leg, OutcomeError,
    classify,
};
pub use clock::{Clock, ManualClock, SystemClock};
pub use duration::{DurationError, HumanDuration};
pub use hours::{BusinessHours, HoursError, OpenInterval, WeeklyHours};
pub use ids::{IdError, ProviderCallId, ProviderMediaId, ProviderMessageId};
pub use keywords::{Keyword, classify_keyword};
pub use phone::{Caller, PhoneError, PhoneNumber, Region, classify_caller};
pub use policy::{Decision, PolicyRules, SkipReason, TextBackFacts, decide};
pub use segments::{Encoding, Segments, segments};
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

//! The phone provider boundary: the [`Provider`] trait the engine talks to, the records it
//! returns ([`CallRecord`], [`MessageRecord`], [`MediaRecord`], [`OwnedNumber`],
//! [`AccountInfo`]), one error
//! type sorted by what the caller does next ([`ProviderError`]), and one module per
//! provider. [`twilio`] speaks Twilio's REST API 2010-04-01 over HTTPS (or plain HTTP to a
//! loopback simulator).
//!
//! What this crate guarantees to the engine:
//! - Outside input is parsed here, leniently per item: a list page with one broken item
//!   yields the other items (the broken one is skipped with a warning); unknown statuses
//!   become `Unknown(..)`, never an error.
//! - Lists are complete (every page is followed, within a bound) and deduplicated by id.
//! - Errors tell the engine whether a repeat is safe: [`ProviderError::is_retry_safe`], and
//!   a send that may have happened is always [`ProviderError::OutcomeUnknown`].
//! - Secrets ([`Secret`]) and message bodies never reach logs above debug level.
//!
//! # Adding a provider adapter
//! 1. Add a module `src/<provider>/` with a client type holding its own HTTP client,
//!    base URL and credentials; apply the same base URL rule as Twilio (HTTPS, or HTTP only
//!    to loopback) so tests can run it against a simulator.
//! 2. Implement [`Provider`] for it. Map every answer to the records here; map every
//!    failure to a [`ProviderError`] by what the engine must do next, and keep the
//!    mapping in one pure function with unit tests (see `twilio::errors`).
//! 3. Test it over real HTTP against a wire-exact simulator in
//!    `tests/providers/<provider>.rs`, including error bodies, pagination and rate limits.

pub mod booking;
pub mod calcom;
mod error;
mod records;
mod secret;
mod text;
pub mod twilio;

use std::future::Future;

use chrono::NaiveDate;
use textback_domain::{PhoneNumber, ProviderCallId, ProviderMessageId};

pub use error::{OPT_OUT_CODE, ProviderError};
pub use records::{
    AccountInfo, CallRecord, MediaContent, MediaRecord, MessageDirection, MessageRecord,
    MessageStatus, OwnedNumber,
};
pub use secret::Secret;

/// A phone provider, as the engine sees it: calls and messages by polling, and sending.
///
/// Every list is complete (all pages) and deduplicated by id. Date filters are
/// day-granular UTC dates, so callers pass the day of their checkpoint (minus a margin)
/// and dedupe against what they already have.
pub trait Provider: Send + Sync + 'static {
    /// Short stable name, stored with every id (e.g. `"twilio"`).
    fn name(&self) -> &'static str;

    /// Proves the credentials work and returns what the provider says about the account.
    fn check_credentials(&self) -> impl Future<Output = Result<AccountInfo, ProviderError>> + Send;

    /// Every phone number the account owns.
    fn list_numbers(&self) -> impl Future<Output = Result<Vec<OwnedNumber>, ProviderError>> + Send;

    /// Parent and other calls *to* `number` that started on or after `since`
    /// (UTC date), all pages, deduplicated by sid.
    fn list_calls_to(
        &self,
        number: &PhoneNumber,
        since: NaiveDate,
    ) -> impl Future<Output = Result<Vec<CallRecord>, ProviderError>> + Send;

    /// Calls *from* `number` on or after `since` (staff calling customers back).
    fn list_calls_from(
        &self,
        number: &PhoneNumber,
        since: NaiveDate,
    ) -> impl Future<Output = Result<Vec<CallRecord>, ProviderError>> + Send;

    /// The `<Dial>` legs (children) of a parent call.
    fn list_child_legs(
        &self,
        parent: &ProviderCallId,
    ) -> impl Future<Output = Result<Vec<CallRecord>, ProviderError>> + Send;

    /// Whether the call has at least one recording (a voicemail after a missed call).
    fn has_recording(
        &self,
        call: &ProviderCallId,
    ) -> impl Future<Output = Result<bool, ProviderError>> + Send;

    /// Messages to `number` (inbound) and from `number` (outbound) sent on or after
    /// `since`, all pages, deduplicated by sid.
    fn list_messages(
        &self,
        number: &PhoneNumber,
        since: NaiveDate,
    ) -> impl Future<Output = Result<Vec<MessageRecord>, ProviderError>> + Send;

    /// Messages sent from `from` to `to` on or after `since`: the pre-send check that
    /// someone (another desk, a person, an auto-reply) has not texted the caller already.
    /// Only inbound-direction records are dropped, so an unknown direction still counts.
    fn list_messages_between(
        &self,
        from: &PhoneNumber,
        to: &PhoneNumber,
        since: NaiveDate,
    ) -> impl Future<Output = Result<Vec<MessageRecord>, ProviderError>> + Send;

    /// Sends one SMS. On [`ProviderError::OutcomeUnknown`] the message may exist: look for
    /// it with [`Provider::list_messages_between`] before any resend.
    fn send_message(
        &self,
        from: &PhoneNumber,
        to: &PhoneNumber,
        body: &str,
    ) -> impl Future<Output = Result<MessageRecord, ProviderError>> + Send;

    /// The current state of one message (delivery status polling).
    fn get_message(
        &self,
        sid: &ProviderMessageId,
    ) -> impl Future<Output = Result<MessageRecord, ProviderError>> + Send;

    /// The pictures and files attached to one message (an MMS), all pages, deduplicated by
    /// sid. Items that do not belong to `message` are dropped.
    fn list_media(
        &self,
        message: &ProviderMessageId,
    ) -> impl Future<Output = Result<Vec<MediaRecord>, ProviderError>> + Send;

    /// Downloads one attachment, at most the client's media cap
    /// ([`ProviderError::MediaTooLarge`] beyond it). Credentials go only to the provider's own
    /// API origin, never along a redirect.
    fn fetch_media(
        &self,
        media: &MediaRecord,
    ) -> impl Future<Output = Result<MediaContent, ProviderError>> + Send;
}

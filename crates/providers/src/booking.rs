//! Bookings: how a lead becomes "booked" without anyone clicking a button.
//!
//! Every text-back can carry a *tracked booking link*: the business's booking page plus a
//! per-lead reference ([`BookingLink::tracked`]). A calendar integration is a
//! [`BookingSource`]: it reports bookings made since a [`BookingCursor`], each as a
//! [`Booking`] that carries the reference back when the booking page kept it. [`crate::calcom`]
//! polls Cal.com's API v2; Calendly or Google Calendar would be further sources behind the
//! same trait. *Manual* bookings need no source: staff mark a lead booked in the app, and the
//! engine records that with source `"manual"` through the same store call.
//!
//! # How the engine uses a source
//! 1. Once per poll interval (per source), read the stored cursor; on the very first poll
//!    start at [`BookingSource::start_cursor`] with a look-back (e.g. the oldest open lead,
//!    or now minus 30 days). Never poll the whole history.
//! 2. Call [`BookingSource::bookings_since`]. The page is complete (all of the source's
//!    pages were read), deduplicated by uid, ordered oldest change first, and may repeat
//!    bookings already seen (sources re-read a small overlap): upsert by
//!    `(booking.source, booking.uid)`.
//! 3. Find each booking's lead, in this order: [`Booking::lead_ref`] through
//!    [`LeadRefKey::lead_id`]; else the lead of the booking it was rescheduled from
//!    ([`Booking::rescheduled_from`], already stored); else the attendee's phone
//!    ([`BookingAttendee::phone`]) to the contact's open lead; else the attendee's email. A
//!    booking that matches nothing is kept (it may be a walk-in) but changes no lead.
//! 4. Apply [`BookingStatus`]: [`BookingStatus::is_booked`] marks the lead booked (with
//!    [`Booking::start`]); `Cancelled`/`Rejected` of the booking that booked it reopens the
//!    lead; `Rescheduled` changes nothing by itself (the new booking arrives with
//!    `rescheduled_from` set and carries the lead on).
//! 5. Store [`BookingPage::next_cursor`] in the same transaction as the upserts, never before.
//! 6. On error: [`BookingError::is_retry_safe`] → try again after
//!    [`BookingError::retry_after`] or a backoff; `Auth` → stop polling this source and ask
//!    the user to reconnect; `BadCursor` → restart from `start_cursor`; `Permanent`/`Config`
//!    → show the message, stop until the settings change.

use std::fmt;
use std::future::Future;
use std::time::Duration;

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use reqwest::Url;
use sha2::Sha256;
use textback_domain::PhoneNumber;

use crate::Secret;
use crate::text::percent_encode;

/// The booking metadata key that carries the lead reference (`booking.metadata.textback_ref`).
pub const REF_METADATA_KEY: &str = "textback_ref";

/// The booking-link query parameter the booking page turns into that metadata key. Cal.com's
/// booker copies every `metadata[<key>]=<value>` parameter into the booking's metadata.
pub const REF_QUERY_PARAM: &str = "metadata[textback_ref]";

/// A calendar that reports bookings (Cal.com, later Calendly, Google Calendar).
///
/// Same style as [`crate::Provider`]: async methods returning `Send` futures, no boxing.
pub trait BookingSource: Send + Sync + 'static {
    /// Short stable name, stored with every booking uid (e.g. `"calcom"`).
    fn name(&self) -> &'static str;

    /// The cursor for a first poll: bookings created or changed at or after `since`.
    fn start_cursor(&self, since: DateTime<Utc>) -> BookingCursor;

    /// Every booking created or changed since `cursor`, all pages, deduplicated by uid, plus
    /// the cursor for the next poll. May repeat bookings the previous poll returned.
    fn bookings_since(
        &self,
        cursor: &BookingCursor,
    ) -> impl Future<Output = Result<BookingPage, BookingError>> + Send;
}

/// Where a source got to, opaque to the engine: store it as text, hand it back unchanged.
/// A cursor from another source, or a damaged one, is refused with
/// [`BookingError::BadCursor`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BookingCursor(String);

impl BookingCursor {
    /// A cursor read back from storage (or built by a source).
    pub fn from_stored(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The text to store.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// One poll's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookingPage {
    /// Oldest change first; one entry per uid.
    pub bookings: Vec<Booking>,
    /// Where the next poll starts. Never earlier than the cursor that was asked for.
    pub next_cursor: BookingCursor,
    /// Items the source listed that could not be understood (logged, not returned).
    pub skipped: usize,
}

/// A source's stable id for one booking (Cal.com's `uid`). Printable ASCII, no spaces, at
/// most 128 characters, so it is safe in logs, SQL and URLs.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BookingUid(String);

impl BookingUid {
    pub const MAX_LEN: usize = 128;

    pub fn parse(raw: &str) -> Result<Self, String> {
        if raw.is_empty() {
            return Err("the booking uid is empty".to_owned());
        }
        if raw.len() > Self::MAX_LEN {
            return Err(format!(
                "the booking uid is longer than {} characters",
                Self::MAX_LEN
            ));
        }
        if !raw.bytes().all(|b| b.is_ascii_graphic()) {
            return Err("the booking uid has spaces, control or non-ASCII characters".to_owned());
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for BookingUid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One booking as Textback needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Booking {
    /// The [`BookingSource::name`] it came from.
    pub source: &'static str,
    pub uid: BookingUid,
    pub status: BookingStatus,
    pub start: DateTime<Utc>,
    pub end: Option<DateTime<Utc>>,
    /// The first attendee (the person who booked); `None` when the source listed none.
    pub attendee: Option<BookingAttendee>,
    /// The reference from the tracked link, when the booking page kept it. Well-formed, but
    /// only [`LeadRefKey::lead_id`] says whether it is one of ours.
    pub lead_ref: Option<LeadRef>,
    /// The booking this one replaces (a reschedule creates a new booking).
    pub rescheduled_from: Option<BookingUid>,
    /// The booking that replaced this one (set with [`BookingStatus::Rescheduled`]).
    pub rescheduled_to: Option<BookingUid>,
    /// The source's event type (Cal.com `eventType.id`).
    pub event_type_id: Option<u64>,
    pub created_at: Option<DateTime<Utc>>,
    /// `None` when the source gave no update time (Cal.com's `updatedAt` is nullable).
    pub updated_at: Option<DateTime<Utc>>,
    /// Why it was cancelled, as the canceller typed it (customer content: do not log).
    pub cancellation_reason: Option<String>,
}

impl Booking {
    /// When this booking last changed: `updated_at`, else `created_at`.
    pub fn changed_at(&self) -> Option<DateTime<Utc>> {
        self.updated_at.or(self.created_at)
    }
}

/// The person who booked. Customer content: never log it above debug level.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookingAttendee {
    /// As typed on the booking page (trimmed, control characters removed, length capped).
    pub name: String,
    pub email: Option<String>,
    /// The phone the attendee gave, when it is a valid E.164 number.
    pub phone: Option<PhoneNumber>,
}

/// Where a booking stands. Unknown source values are kept in `Other`, never rejected.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum BookingStatus {
    /// Confirmed.
    Accepted,
    /// Booked but waiting for the host to confirm (Cal.com `pending`, `awaiting_host`).
    Pending,
    /// Cancelled by the attendee or the host.
    Cancelled,
    /// Cancelled because it was moved: a new booking (`rescheduled_to`) replaces it.
    Rescheduled,
    /// The host declined a booking that needed confirmation.
    Rejected,
    Other(String),
}

impl BookingStatus {
    /// Whether the lead counts as booked because of this booking.
    pub fn is_booked(&self) -> bool {
        matches!(self, Self::Accepted | Self::Pending)
    }

    /// A stable lower-case name for storage and display.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Accepted => "accepted",
            Self::Pending => "pending",
            Self::Cancelled => "cancelled",
            Self::Rescheduled => "rescheduled",
            Self::Rejected => "rejected",
            Self::Other(s) => s,
        }
    }
}

/// Everything reading bookings can fail with, sorted by what the caller does next (the same
/// split as [`crate::ProviderError`], without sends: every booking call is a read).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BookingError {
    /// The API key or token was refused (HTTP 401/403): stop polling, ask the user to
    /// reconnect the calendar.
    #[error("the calendar rejected the API key: {message}")]
    Auth { message: String },

    /// Too many requests (HTTP 429): nothing was processed; wait `retry_after` when the
    /// calendar said, else back off.
    #[error("rate limited by the calendar{}", retry_after.map(|d| format!(" (retry after {}s)", d.as_secs())).unwrap_or_default())]
    RateLimited { retry_after: Option<Duration> },

    /// Not done, try again: the connection failed, timed out, or the calendar answered 5xx.
    #[error("temporary calendar failure: {message}")]
    Transient { message: String },

    /// The calendar refused this request and will again until something changes (HTTP 400,
    /// 404…: usually a setting such as an event type id). `code` is the calendar's own error
    /// name when it gave one (Cal.com `BadRequestException`).
    #[error("the calendar refused the request (HTTP {status}{}): {message}", code.as_deref().map(|c| format!(", {c}")).unwrap_or_default())]
    Permanent {
        status: u16,
        code: Option<String>,
        message: String,
    },

    /// An answer that could not be understood (not JSON, wrong shape, too large, paging
    /// that does not end). Reading again is safe; the engine logs it and retries later.
    #[error("could not understand the calendar's answer: {message}")]
    Malformed { message: String },

    /// A stored cursor that this source cannot read: restart from
    /// [`BookingSource::start_cursor`].
    #[error("the stored booking cursor is unusable: {message}")]
    BadCursor { message: String },

    /// The integration is configured wrongly (base URL, API key, booking link): fix the
    /// settings.
    #[error("calendar configuration: {message}")]
    Config { message: String },
}

impl BookingError {
    /// True when the same poll may simply be repeated later.
    pub fn is_retry_safe(&self) -> bool {
        matches!(
            self,
            Self::RateLimited { .. } | Self::Transient { .. } | Self::Malformed { .. }
        )
    }

    /// How long the calendar asked us to wait, when it said.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::RateLimited { retry_after } => *retry_after,
            _ => None,
        }
    }
}

/// A well-formed lead reference as it travels through a booking link: exactly
/// [`LeadRef::LEN`] characters of unpadded base64url. Being well-formed says nothing about
/// whose it is; [`LeadRefKey::lead_id`] decides that.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LeadRef(String);

impl LeadRef {
    /// 15 bytes (8 of masked lead id, 7 of tag) in base64url.
    pub const LEN: usize = 20;

    pub fn parse(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        if raw.len() != Self::LEN {
            return Err(format!(
                "a lead reference is {} characters, got {}",
                Self::LEN,
                raw.chars().count()
            ));
        }
        if !raw
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err("a lead reference uses only A-Z a-z 0-9 - _".to_owned());
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for LeadRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

const ID_BYTES: usize = 8;
const TAG_BYTES: usize = 7;
const TAG_DOMAIN: &[u8] = b"textback lead-ref v1 tag";
const MASK_DOMAIN: &[u8] = b"textback lead-ref v1 mask";

/// The secret that makes lead references (one per installation/database: lead ids are local
/// to a database). 32 random bytes; keep it with the other secrets (keychain, or an
/// environment variable on a headless install), never in the config file or logs.
///
/// A reference is `base64url(masked id ‖ tag)` (20 characters), where
/// `tag = HMAC-SHA256(key, "tag" ‖ id)[..7]` and `masked id = id XOR HMAC-SHA256(key, "mask" ‖
/// tag)[..8]`: deterministic (the same lead always gets the same link), and reversible only
/// with the key.
///
/// What it protects against: someone who sees one tracked link (or many) cannot learn the
/// lead's id or how many leads the business has, cannot make a valid reference for another
/// lead (a forged or edited reference fails the 56-bit tag check with near certainty, so a
/// booking cannot be pinned on someone else's lead), and cannot enumerate leads.
///
/// What it does not protect against: anyone holding the link can book *as that lead*
/// (forwarded texts, shared screenshots); the booker can delete or change the parameter
/// (then the engine falls back to phone/email matching); the reference is visible to the
/// calendar account and its webhooks; it does not expire (a lead's link works as long as
/// the key is kept); and whoever has the key (or the database and keychain) can forge any
/// reference. Changing the key makes every link already sent unresolvable.
#[derive(Clone, PartialEq, Eq)]
pub struct LeadRefKey([u8; 32]);

impl LeadRefKey {
    pub const HEX_LEN: usize = 64;

    /// A fresh random key (a CSPRNG seeded by the operating system).
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        rand::fill(&mut bytes);
        Self(bytes)
    }

    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// Reads the 64 hex digits written by [`LeadRefKey::to_hex`].
    pub fn from_hex(hex: &str) -> Result<Self, BookingError> {
        let hex = hex.trim();
        let bad = || BookingError::Config {
            message: format!(
                "the lead reference key must be {} hex digits (0-9, a-f)",
                Self::HEX_LEN
            ),
        };
        if hex.len() != Self::HEX_LEN || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(bad());
        }
        let mut bytes = [0u8; 32];
        for (i, byte) in bytes.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).map_err(|_| bad())?;
        }
        Ok(Self(bytes))
    }

    /// The key as 64 lower-case hex digits, to store in the keychain.
    pub fn to_hex(&self) -> Secret {
        Secret::new(
            self.0
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>(),
        )
    }

    fn mac(&self, domain: &[u8], data: &[u8]) -> Hmac<Sha256> {
        // NOTE: HMAC accepts keys of any length, so this cannot fail.
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.0)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        mac.update(domain);
        mac.update(data);
        mac
    }

    fn tag(&self, id: [u8; ID_BYTES]) -> [u8; TAG_BYTES] {
        let full = self.mac(TAG_DOMAIN, &id).finalize().into_bytes();
        let mut tag = [0u8; TAG_BYTES];
        tag.copy_from_slice(&full[..TAG_BYTES]);
        tag
    }

    fn mask(&self, tag: &[u8]) -> [u8; ID_BYTES] {
        let full = self.mac(MASK_DOMAIN, tag).finalize().into_bytes();
        let mut mask = [0u8; ID_BYTES];
        mask.copy_from_slice(&full[..ID_BYTES]);
        mask
    }

    /// The reference for a lead: short (20 characters), URL-safe, the same every time.
    pub fn lead_ref(&self, lead_id: i64) -> LeadRef {
        let id = lead_id.to_be_bytes();
        let tag = self.tag(id);
        let mask = self.mask(&tag);
        let mut raw = [0u8; ID_BYTES + TAG_BYTES];
        for i in 0..ID_BYTES {
            raw[i] = id[i] ^ mask[i];
        }
        raw[ID_BYTES..].copy_from_slice(&tag);
        LeadRef(base64url(&raw))
    }

    /// The lead a reference was made for, or `None` when it was not made with this key
    /// (forged, edited, or from another installation).
    pub fn lead_id(&self, reference: &LeadRef) -> Option<i64> {
        let raw = from_base64url(reference.as_str())?;
        let (masked, tag) = raw.split_at(ID_BYTES);
        let mask = self.mask(tag);
        let mut id = [0u8; ID_BYTES];
        for i in 0..ID_BYTES {
            id[i] = masked[i] ^ mask[i];
        }
        // The MAC crate compares in constant time.
        self.mac(TAG_DOMAIN, &id)
            .verify_truncated_left(tag)
            .ok()
            .map(|()| i64::from_be_bytes(id))
    }
}

impl fmt::Debug for LeadRefKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("LeadRefKey(***)")
    }
}

const B64URL: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Unpadded base64url of a multiple of 3 bytes.
fn base64url(bytes: &[u8; ID_BYTES + TAG_BYTES]) -> String {
    let mut out = String::with_capacity(LeadRef::LEN);
    for chunk in bytes.chunks(3) {
        let n = u32::from(chunk[0]) << 16 | u32::from(chunk[1]) << 8 | u32::from(chunk[2]);
        for shift in [18, 12, 6, 0] {
            out.push(char::from(B64URL[(n >> shift & 63) as usize]));
        }
    }
    out
}

fn from_base64url(text: &str) -> Option<[u8; ID_BYTES + TAG_BYTES]> {
    let digits: Vec<u32> = text
        .bytes()
        .map(|b| B64URL.iter().position(|&c| c == b).map(|p| p as u32))
        .collect::<Option<_>>()?;
    if digits.len() != LeadRef::LEN {
        return None;
    }
    let mut out = [0u8; ID_BYTES + TAG_BYTES];
    for (i, quad) in digits.chunks(4).enumerate() {
        let n = quad[0] << 18 | quad[1] << 12 | quad[2] << 6 | quad[3];
        out[3 * i] = (n >> 16) as u8;
        out[3 * i + 1] = (n >> 8) as u8;
        out[3 * i + 2] = n as u8;
    }
    Some(out)
}

/// The business's booking page as configured (a Cal.com event link, or the business's own
/// page embedding Cal.com with `forwardQueryParams`). Parsed once, when the settings load.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookingLink(Url);

impl BookingLink {
    /// Accepts an absolute `https://` (or `http://`) URL with a host and no user name or
    /// password. Non-ASCII in the link is percent-encoded (the host becomes punycode) so
    /// the link survives SMS.
    pub fn parse(raw: &str) -> Result<Self, BookingError> {
        let config = |why: &str| BookingError::Config {
            message: format!("booking link {raw:?}: {why}"),
        };
        let url = Url::parse(raw.trim()).map_err(|e| config(&format!("not a URL ({e})")))?;
        if !matches!(url.scheme(), "https" | "http") {
            return Err(config("must start with https://"));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(config("has no host"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(config("must not contain a user name or password"));
        }
        Ok(Self(url))
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// The link with `metadata[textback_ref]=<lead_ref>` appended to its query (before any
    /// `#fragment`). Other parameters are kept exactly as they were; an earlier
    /// `metadata[textback_ref]` (in any encoding) is replaced, never duplicated. The
    /// parameter name is sent percent-encoded (`metadata%5Btextback_ref%5D`), which booking
    /// pages decode like the bracketed form and SMS apps do not cut the link at.
    pub fn tracked(&self, lead_ref: &str) -> String {
        let mut url = self.0.clone();
        let mut query: Vec<String> = url
            .query()
            .unwrap_or("")
            .split('&')
            .filter(|pair| !pair.is_empty())
            .filter(|pair| {
                let key = pair.split_once('=').map_or(*pair, |(k, _)| k);
                percent_decode(key) != REF_QUERY_PARAM
            })
            .map(str::to_owned)
            .collect();
        query.push(format!(
            "{}={}",
            percent_encode(REF_QUERY_PARAM),
            percent_encode(lead_ref)
        ));
        url.set_query(Some(&query.join("&")));
        url.into()
    }
}

/// [`BookingLink::parse`] then [`BookingLink::tracked`], for one-off use.
pub fn tracked_link(booking_link: &str, lead_ref: &str) -> Result<String, BookingError> {
    Ok(BookingLink::parse(booking_link)?.tracked(lead_ref))
}

/// Decodes a query key the way a browser's `URLSearchParams` does (`+` is a space; a bad
/// escape stays as it is).
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'%')
            .then(|| bytes.get(i + 1..i + 3))
            .flatten()
            .filter(|hex| hex.iter().all(u8::is_ascii_hexdigit))
            .and_then(|hex| std::str::from_utf8(hex).ok())
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match (bytes[i], escaped) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b'+', _) => {
                out.push(b' ');
                i += 1;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> LeadRefKey {
        LeadRefKey::from_bytes([7; 32])
    }

    #[test]
    fn lead_refs_round_trip_and_are_url_safe() {
        let key = key();
        for id in [0, 1, 42, 9_999_999, i64::MAX, -1] {
            let r = key.lead_ref(id);
            assert_eq!(r.as_str().len(), LeadRef::LEN, "fixed length for {id}");
            assert!(
                LeadRef::parse(r.as_str()).is_ok(),
                "the ref parses back: {r}"
            );
            assert_eq!(key.lead_id(&r), Some(id), "the key resolves {r} to {id}");
            assert_eq!(
                key.lead_ref(id),
                r,
                "deterministic: the same lead, the same link"
            );
        }
    }

    #[test]
    fn edited_or_foreign_refs_resolve_to_nothing() {
        let key = key();
        let r = key.lead_ref(42);
        let mut tampered = 0;
        // Change each character in turn: no single edit may land on another valid lead.
        for i in 0..LeadRef::LEN {
            let mut chars: Vec<char> = r.as_str().chars().collect();
            chars[i] = if chars[i] == 'A' { 'B' } else { 'A' };
            let edited =
                LeadRef::parse(&chars.into_iter().collect::<String>()).expect("well-formed");
            if key.lead_id(&edited).is_none() {
                tampered += 1;
            }
        }
        assert_eq!(
            tampered,
            LeadRef::LEN,
            "every one-character edit fails the tag check"
        );
        let other = LeadRefKey::from_bytes([8; 32]);
        assert_eq!(
            other.lead_id(&r),
            None,
            "another installation's key does not resolve it"
        );
        assert_ne!(
            other.lead_ref(42),
            r,
            "and makes a different reference for the same id"
        );
        assert_ne!(
            key.lead_ref(43).as_str()[..11],
            r.as_str()[..11],
            "neighbouring ids look unrelated"
        );
    }

    #[test]
    fn lead_ref_parsing_is_strict() {
        assert!(
            LeadRef::parse(" AAAAAAAAAAAAAAAAAAAA ").is_ok(),
            "surrounding spaces are trimmed"
        );
        for bad in [
            "",
            "short",
            "AAAAAAAAAAAAAAAAAAA=",
            "AAAAAAAAAAAAAAAAAAA/",
            "ÄAAAAAAAAAAAAAAAAAA",
        ] {
            assert!(
                LeadRef::parse(bad).is_err(),
                "{bad:?} is not a lead reference"
            );
        }
    }

    #[test]
    fn keys_round_trip_through_hex_and_never_print() {
        let key = LeadRefKey::generate();
        let hex = key.to_hex();
        assert_eq!(hex.expose().len(), LeadRefKey::HEX_LEN);
        assert_eq!(
            LeadRefKey::from_hex(hex.expose()),
            Ok(key.clone()),
            "stored and read back"
        );
        assert_ne!(LeadRefKey::generate(), key, "two generated keys differ");
        assert_eq!(format!("{key:?}"), "LeadRefKey(***)", "Debug hides the key");
        for bad in ["", "zz", &"g".repeat(64), &"+f".repeat(32), &"a".repeat(63)] {
            assert!(
                matches!(LeadRefKey::from_hex(bad), Err(BookingError::Config { .. })),
                "{bad:?} is not a key"
            );
        }
    }

    #[test]
    fn percent_decoding_matches_url_search_params() {
        assert_eq!(
            percent_decode("metadata%5Btextback_ref%5D"),
            REF_QUERY_PARAM
        );
        assert_eq!(percent_decode("a+b%20c"), "a b c");
        assert_eq!(percent_decode("100%"), "100%", "a dangling % stays");
        assert_eq!(
            percent_decode("%+1x"),
            "% 1x",
            "a sign is not a hex digit (and + is a space)"
        );
        assert_eq!(percent_decode("%C3%A9"), "é");
    }

    #[test]
    fn booking_links_must_be_web_links() {
        for bad in [
            "",
            "cal.com/jane",
            "javascript:alert(1)",
            "mailto:a@b.c",
            "https://u:p@cal.com/x",
        ] {
            assert!(
                matches!(BookingLink::parse(bad), Err(BookingError::Config { .. })),
                "{bad:?} cannot be sent as a booking link"
            );
        }
    }
}

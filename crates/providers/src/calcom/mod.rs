//! Cal.com API v2: polling the bookings made through tracked booking links
//! (`shared/specs/CALCOM.md`, `calcom_bookings_v2.json`).
//!
//! Every request carries `Authorization: Bearer <API key>` (`cal_…` / `cal_live_…`, or an
//! OAuth access token). `GET /v2/bookings` is sent with `cal-api-version: 2026-05-01`, the
//! version with cursor pages (`limit` ≤ 100, `cursor` = the previous page's
//! `pagination.nextCursor`, stop when `pagination.hasMore` is false); without that header
//! Cal.com silently answers an older take/skip shape, which this adapter refuses as
//! malformed rather than misreading. `GET /v2/bookings/{uid}` is sent with `2026-02-25`;
//! `GET /v2/me` with none.
//!
//! A poll is two listings with no `status` filter (so cancelled and rescheduled bookings
//! come back too), one with `afterUpdatedAt` and one with `afterCreatedAt`, both from the
//! cursor's checkpoint minus an overlap, merged by uid: `updatedAt` is nullable, and a
//! booking without one would never match an `afterUpdatedAt` filter. The next checkpoint is
//! the latest `updatedAt ?? createdAt` seen, never later than this machine's clock (a
//! far-future time stamp must not make the adapter skip every later change).

mod errors;
mod url;
mod wire;

use std::collections::HashMap;
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use reqwest::header::{AUTHORIZATION, HeaderValue, RETRY_AFTER};
use reqwest::{RequestBuilder, Response};
use textback_domain::{Clock, SystemClock};

use self::url::BaseUrl;
use crate::Secret;
use crate::booking::{
    Booking, BookingCursor, BookingError, BookingPage, BookingSource, BookingUid,
};
use crate::text::percent_encode;

pub use self::wire::CalcomProfile;

/// Cal.com's hosted API.
pub const DEFAULT_BASE_URL: &str = "https://api.cal.com";

/// `cal-api-version` for `GET /v2/bookings` (cursor pages).
pub const LIST_API_VERSION: &str = "2026-05-01";

/// `cal-api-version` for `GET /v2/bookings/{uid}`.
pub const GET_API_VERSION: &str = "2026-02-25";

/// Items asked for per page (the most 2026-05-01 allows).
pub const PAGE_LIMIT: u32 = 100;

/// The most pages one listing follows before giving up (5,000 bookings).
pub const DEFAULT_MAX_PAGES: usize = 50;

/// How far before the checkpoint each poll reads again, for clock skew between Cal.com's
/// servers and for changes written in the same millisecond as the checkpoint.
pub const DEFAULT_OVERLAP_SECS: i64 = 300;

const CURSOR_PREFIX: &str = "calcom:v1:";
const API_KEY_MAX_LEN: usize = 512;

/// The Cal.com bookings source. Cheap to clone (the HTTP connection pool is shared).
#[derive(Debug, Clone)]
pub struct CalcomClient {
    http: reqwest::Client,
    base: BaseUrl,
    api_key: Secret,
    event_type_ids: Vec<u64>,
    max_pages: usize,
    max_body_bytes: usize,
    overlap: chrono::Duration,
    clock: Arc<dyn Clock>,
}

impl CalcomClient {
    /// `base_url` is [`DEFAULT_BASE_URL`] in production; plain `http://` is accepted only to
    /// a loopback address (a simulator). `timeout` bounds each whole request, body included.
    pub fn new(base_url: &str, api_key: Secret, timeout: Duration) -> Result<Self, BookingError> {
        let base = BaseUrl::parse(base_url)?;
        let key = api_key.expose();
        if key.is_empty() {
            return Err(BookingError::Config {
                message: "the Cal.com API key is empty".to_owned(),
            });
        }
        // It goes into a header: no spaces, line breaks or non-ASCII.
        if key.len() > API_KEY_MAX_LEN || !key.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(BookingError::Config {
                message: "the Cal.com API key has spaces or unexpected characters; paste it again \
                          from Settings → Security → API keys"
                    .to_owned(),
            });
        }
        if timeout.is_zero() {
            return Err(BookingError::Config {
                message: "the request timeout must be more than zero".to_owned(),
            });
        }
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout((timeout / 2).min(Duration::from_secs(10)))
            // A redirect could carry the API key to another host.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("textback/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| BookingError::Config {
                message: format!("could not set up the HTTP client: {e}"),
            })?;
        Ok(Self {
            http,
            base,
            api_key,
            event_type_ids: Vec::new(),
            max_pages: DEFAULT_MAX_PAGES,
            max_body_bytes: errors::MAX_BODY_BYTES,
            overlap: chrono::Duration::seconds(DEFAULT_OVERLAP_SECS),
            clock: Arc::new(SystemClock),
        })
    }

    /// Only bookings of these event types (all of the account's when empty, the default).
    pub fn with_event_types(mut self, ids: impl IntoIterator<Item = u64>) -> Self {
        self.event_type_ids = ids.into_iter().collect();
        self.event_type_ids.sort_unstable();
        self.event_type_ids.dedup();
        self
    }

    /// Caps how many pages one listing follows (default [`DEFAULT_MAX_PAGES`]).
    pub fn with_max_pages(mut self, max: usize) -> Self {
        self.max_pages = max.max(1);
        self
    }

    /// Caps how much of one answer is read (default 8 MiB); larger answers are malformed.
    pub fn with_max_body_bytes(mut self, max: usize) -> Self {
        self.max_body_bytes = max;
        self
    }

    /// How far before the checkpoint each poll reads again (default 5 minutes).
    pub fn with_overlap(mut self, overlap: chrono::Duration) -> Self {
        self.overlap = overlap.max(chrono::Duration::zero());
        self
    }

    /// Where "now" comes from (caps the next checkpoint); the system clock by default.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    pub fn base_url(&self) -> &str {
        self.base.as_str()
    }

    /// Proves the API key works: `GET /v2/me`.
    pub async fn me(&self) -> Result<CalcomProfile, BookingError> {
        let request = self.http.get(self.base.join("/v2/me"));
        let body = self.execute("GET /v2/me", request).await?;
        wire::parse_me(&body)
    }

    /// One booking by uid; every occurrence when `uid` is a recurring series' uid.
    pub async fn booking(&self, uid: &BookingUid) -> Result<Vec<Booking>, BookingError> {
        // NOTE: URL parsing turns a "." or ".." segment (even percent-encoded) into a path step.
        if uid.as_str().bytes().all(|b| b == b'.') {
            return Err(BookingError::Permanent {
                status: 404,
                code: None,
                message: format!("{uid:?} is not a booking uid"),
            });
        }
        let path = format!("/v2/bookings/{}", percent_encode(uid.as_str()));
        let request = self
            .http
            .get(self.base.join(&path))
            .header("cal-api-version", GET_API_VERSION);
        let body = self.execute("GET /v2/bookings/{uid}", request).await?;
        let (bookings, skipped) = wire::parse_one(&body)?;
        if skipped > 0 {
            tracing::warn!(skipped, "some occurrences of a booking were unusable");
        }
        Ok(bookings)
    }

    /// Sends a request and returns the body of a 2xx answer; everything else becomes a
    /// [`BookingError`].
    async fn execute(&self, what: &str, request: RequestBuilder) -> Result<Vec<u8>, BookingError> {
        let mut bearer = HeaderValue::from_str(&format!("Bearer {}", self.api_key.expose()))
            .map_err(|_| BookingError::Config {
                message: "the Cal.com API key cannot be sent in a header".to_owned(),
            })?;
        bearer.set_sensitive(true);
        tracing::debug!(request = what, "calling Cal.com");
        let response = request
            .header(AUTHORIZATION, bearer)
            .send()
            .await
            .map_err(|e| errors::from_transport(e, what))?;
        let status = response.status();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let retry_after = header(RETRY_AFTER.as_str());
        let request_id = header("x-request-id");
        let body = read_capped(response, self.max_body_bytes).await;
        if status.is_success() {
            return match body {
                Ok(body) => Ok(body),
                Err(BodyError::TooLarge) => Err(BookingError::Malformed {
                    message: format!(
                        "{what}: the answer is larger than {} bytes; not reading it",
                        self.max_body_bytes
                    ),
                }),
                Err(BodyError::Transport(e)) => Err(errors::from_transport(e, what)),
            };
        }
        // The status alone classifies a failure; a body we could not read only loses detail.
        let body = body.unwrap_or_default();
        let error = errors::from_status(
            status.as_u16(),
            retry_after.as_deref(),
            request_id.as_deref(),
            &body,
            what,
        );
        tracing::debug!(request = what, status = status.as_u16(), %error, "Cal.com refused");
        Err(error)
    }

    /// Every booking matching `filter`, all cursor pages, deduplicated by uid (a later copy
    /// replaces the earlier one). Returns the bookings and how many items were skipped.
    async fn list_all(
        &self,
        filter: &[(&str, String)],
    ) -> Result<(Vec<Booking>, usize), BookingError> {
        const WHAT: &str = "GET /v2/bookings";
        let url = self.base.join("/v2/bookings");
        let mut items: Vec<Booking> = Vec::new();
        let mut index: HashMap<BookingUid, usize> = HashMap::new();
        let mut seen_cursors: HashSet<String> = HashSet::new();
        let mut skipped = 0;
        let mut cursor: Option<String> = None;
        for page_number in 1.. {
            let mut query: Vec<(&str, &str)> =
                filter.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let limit = PAGE_LIMIT.to_string();
            query.push(("limit", &limit));
            if let Some(cursor) = &cursor {
                query.push(("cursor", cursor));
            }
            let request = self
                .http
                .get(&url)
                .header("cal-api-version", LIST_API_VERSION)
                .query(&query);
            let page = wire::parse_list(&self.execute(WHAT, request).await?)?;
            skipped += page.skipped;
            for booking in page.items {
                match index.get(&booking.uid) {
                    Some(&at) => items[at] = booking,
                    None => {
                        index.insert(booking.uid.clone(), items.len());
                        items.push(booking);
                    }
                }
            }
            if !page.has_more {
                break;
            }
            let Some(next) = page.next_cursor else {
                return Err(BookingError::Malformed {
                    message: format!("{WHAT}: hasMore is true but nextCursor is missing"),
                });
            };
            if !seen_cursors.insert(next.clone()) {
                return Err(BookingError::Malformed {
                    message: format!("{WHAT}: nextCursor points back to a page already read"),
                });
            }
            if page_number >= self.max_pages {
                return Err(BookingError::Malformed {
                    message: format!(
                        "{WHAT}: still more pages after {page_number} pages ({} bookings); \
                         giving up rather than paging forever — start the booking sync from \
                         a later time",
                        items.len()
                    ),
                });
            }
            cursor = Some(next);
        }
        Ok((items, skipped))
    }

    fn checkpoint(&self, cursor: &BookingCursor) -> Result<DateTime<Utc>, BookingError> {
        let bad = |why: &str| BookingError::BadCursor {
            message: format!("{:?} {why}", cursor.as_str()),
        };
        let stamp = cursor
            .as_str()
            .strip_prefix(CURSOR_PREFIX)
            .ok_or_else(|| bad("is not a Cal.com cursor"))?;
        DateTime::parse_from_rfc3339(stamp)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|_| bad("does not hold a valid time"))
    }
}

impl BookingSource for CalcomClient {
    fn name(&self) -> &'static str {
        wire::SOURCE
    }

    fn start_cursor(&self, since: DateTime<Utc>) -> BookingCursor {
        BookingCursor::from_stored(format!("{CURSOR_PREFIX}{}", iso(since)))
    }

    async fn bookings_since(&self, cursor: &BookingCursor) -> Result<BookingPage, BookingError> {
        let checkpoint = self.checkpoint(cursor)?;
        let from = iso(checkpoint - self.overlap);
        let mut filter: Vec<(&str, String)> = Vec::new();
        if !self.event_type_ids.is_empty() {
            let ids: Vec<String> = self.event_type_ids.iter().map(u64::to_string).collect();
            filter.push(("eventTypeIds", ids.join(",")));
        }
        let with = |key: &'static str| {
            let mut f = filter.clone();
            f.push((key, from.clone()));
            f
        };
        let (updated, skipped_updated) = self.list_all(&with("afterUpdatedAt")).await?;
        let (created, skipped_created) = self.list_all(&with("afterCreatedAt")).await?;
        let mut bookings = merge_by_uid(updated, created);
        if !self.event_type_ids.is_empty() {
            // Guard against a server that ignores the filter.
            bookings.retain(|b| {
                b.event_type_id
                    .is_none_or(|id| self.event_type_ids.binary_search(&id).is_ok())
            });
        }
        inherit_lead_refs(&mut bookings);
        bookings.sort_by(|a, b| (a.changed_at(), &a.uid).cmp(&(b.changed_at(), &b.uid)));
        let latest = bookings.iter().filter_map(Booking::changed_at).max();
        let next = latest
            .map(|t| t.min(self.clock.now()))
            .map_or(checkpoint, |t| t.max(checkpoint));
        let skipped = skipped_updated + skipped_created;
        if skipped > 0 {
            tracing::warn!(
                skipped,
                kept = bookings.len(),
                "some Cal.com bookings were unusable and skipped"
            );
        }
        Ok(BookingPage {
            bookings,
            next_cursor: self.start_cursor(next),
            skipped,
        })
    }
}

/// One entry per uid; of two copies the one that changed later wins (the `updated` copy on a
/// tie, it was read first).
fn merge_by_uid(first: Vec<Booking>, second: Vec<Booking>) -> Vec<Booking> {
    let mut out: Vec<Booking> = Vec::with_capacity(first.len() + second.len());
    let mut index: HashMap<BookingUid, usize> = HashMap::new();
    for booking in first.into_iter().chain(second) {
        match index.get(&booking.uid) {
            Some(&at) if booking.changed_at() > out[at].changed_at() => out[at] = booking,
            Some(_) => {}
            None => {
                index.insert(booking.uid.clone(), out.len());
                out.push(booking);
            }
        }
    }
    out
}

/// A rescheduled booking may lose the link's metadata (UNCONFIRMED in CALCOM.md §5): when
/// the booking it replaces is in the same batch, it inherits that one's reference. Older
/// replaced bookings are the engine's to follow (by `rescheduled_from`).
fn inherit_lead_refs(bookings: &mut [Booking]) {
    let refs: HashMap<BookingUid, (Option<BookingUid>, Option<crate::booking::LeadRef>)> = bookings
        .iter()
        .map(|b| {
            (
                b.uid.clone(),
                (b.rescheduled_from.clone(), b.lead_ref.clone()),
            )
        })
        .collect();
    for booking in bookings.iter_mut().filter(|b| b.lead_ref.is_none()) {
        let mut from = booking.rescheduled_from.clone();
        // A bounded walk: a hostile answer could make the chain a cycle.
        for _ in 0..16 {
            let Some((earlier, lead_ref)) = from.as_ref().and_then(|uid| refs.get(uid)) else {
                break;
            };
            if lead_ref.is_some() {
                booking.lead_ref = lead_ref.clone();
                break;
            }
            from = earlier.clone();
        }
    }
}

fn iso(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

enum BodyError {
    TooLarge,
    Transport(reqwest::Error),
}

async fn read_capped(mut response: Response, cap: usize) -> Result<Vec<u8>, BodyError> {
    if response
        .content_length()
        .is_some_and(|len| len > cap as u64)
    {
        return Err(BodyError::TooLarge);
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(BodyError::Transport)? {
        if body.len() + chunk.len() > cap {
            return Err(BodyError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client() -> CalcomClient {
        CalcomClient::new(
            DEFAULT_BASE_URL,
            Secret::new("cal_live_0123456789abcdef"),
            Duration::from_secs(5),
        )
        .expect("a valid configuration")
    }

    #[test]
    fn keys_that_could_bend_a_header_are_refused() {
        for bad in ["", "cal_live_abc\r\nX-Evil: 1", "cal live", "cal_é"] {
            assert!(
                matches!(
                    CalcomClient::new(DEFAULT_BASE_URL, Secret::new(bad), Duration::from_secs(5)),
                    Err(BookingError::Config { .. })
                ),
                "API key {bad:?} must be refused up front"
            );
        }
        let shown = format!("{:?}", client());
        assert!(
            !shown.contains("0123456789abcdef"),
            "Debug must not leak the key: {shown}"
        );
    }

    #[test]
    fn cursors_round_trip_and_foreign_ones_are_refused() {
        let client = client();
        let t = DateTime::parse_from_rfc3339("2026-05-01T10:00:00.123Z")
            .expect("literal")
            .with_timezone(&Utc);
        let cursor = client.start_cursor(t);
        assert_eq!(cursor.as_str(), "calcom:v1:2026-05-01T10:00:00.123Z");
        assert_eq!(
            client.checkpoint(&cursor),
            Ok(t),
            "the stored text reads back"
        );
        for bad in [
            "",
            "2026-05-01T10:00:00Z",
            "calcom:v1:yesterday",
            "calendly:v1:x",
        ] {
            assert!(
                matches!(
                    client.checkpoint(&BookingCursor::from_stored(bad)),
                    Err(BookingError::BadCursor { .. })
                ),
                "{bad:?} is not a Cal.com cursor: the engine restarts from start_cursor"
            );
        }
    }

    #[test]
    fn path_segments_cannot_escape_the_booking_path() {
        assert_eq!(percent_encode("abc-DEF_1.2~"), "abc-DEF_1.2~");
        assert_eq!(percent_encode("../me?x#y"), "..%2Fme%3Fx%23y");
    }
}

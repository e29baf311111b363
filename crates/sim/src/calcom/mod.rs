//! A Cal.com API v2 bookings simulator on 127.0.0.1, for the Cal.com adapter's tests and the
//! demo mode. It runs as its own server ([`CalcomSim::start`]), apart from the Twilio sim.
//!
//! # What it speaks (`shared/specs/CALCOM.md`, `calcom_bookings_v2.json`)
//! - `GET /v2/bookings`. With `cal-api-version: 2026-05-01`: `limit` (1–100, default 50),
//!   opaque `cursor` (base64 of `{"v":1,"sortUuid":…}`), at most one `status`
//!   (`upcoming|recurring|past|cancelled|unconfirmed`; two or more → 400), order and page-1
//!   anchor by status as the spec's table says, `pagination: {nextCursor, hasMore}`. With any
//!   other value or none, the older take/skip version answers (`take` ≤ 250, `skip`, several
//!   comma-separated statuses, `pagination: {totalItems, …, hasNextPage, hasPreviousPage}`),
//!   as Cal.com "defaults to an older version". Filters in both: `attendeeEmail`,
//!   `attendeeName` (contains, case-insensitive), `bookingUid`, `eventTypeId`, `eventTypeIds`,
//!   `teamId`/`teamsIds` (the sim's bookings belong to no team, so these match nothing),
//!   `afterStart`, `beforeEnd`, `after/beforeCreatedAt`, `after/beforeUpdatedAt` (inclusive;
//!   a null `updatedAt` never matches, as in SQL). Dates must be ISO 8601 (else 400). `sort*`
//!   values are checked (`asc|desc`) but do not change the uuid order (how they combine with
//!   the cursor is unconfirmed).
//! - `GET /v2/bookings/{uid}` (any `cal-api-version`): `{status, data: booking}` or 404.
//! - `GET /v2/me` (no version header): the configured user.
//! - Every request needs `Authorization: Bearer <one of the configured API keys>`; failures are
//!   401 `UnauthorizedException`. Errors use Cal.com's envelope `{status: "error", timestamp,
//!   path, error: {code, message, details}}` with an `X-Request-Id` header; 429 is Nest's
//!   `ThrottlerException`. Unknown paths and non-GET methods get 404 `Cannot GET /…`.
//!
//! Bookings render as `BookingOutput_2024_08_13` (every required field; `metadata` as given;
//! `attendees[0].phoneNumber` and `bookingFieldsResponses.attendeePhoneNumber` when a phone
//! was given). Their paging uuid is time-ordered by start time, so the `upcoming`/`past`
//! anchors mean what they say. A reschedule cancels the old booking (`rescheduledToUid`) and
//! creates a new uid (`rescheduledFromUid`), dropping the link's metadata unless asked to keep
//! it (whether Cal.com keeps it is unconfirmed). Raw items ([`CalcomSim::add_raw_item`])
//! appear in every listing that has no `bookingUid` filter, placed by the time they were
//! added: they stand for bookings the adapter must survive, not model.
//!
//! The `/_sim/…` control API ([`control`]) drives the same from another process.

mod api;
pub mod control;
mod store;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use self::store::Shared;
use crate::server::{self, Server};
use crate::switches::Switchable;

/// The `cal-api-version` of the cursor-paged list.
pub const LIST_VERSION: &str = "2026-05-01";

/// The key's owner, as `GET /v2/me` and each booking's `hosts[0]` show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimUser {
    pub id: u64,
    pub username: String,
    pub name: String,
    pub email: String,
    pub time_zone: String,
}

/// An event type bookings can be made for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventTypeSpec {
    pub id: u64,
    pub slug: String,
    pub title: String,
    pub length_minutes: u32,
}

/// The simulated Cal.com account.
#[derive(Clone, PartialEq, Eq)]
pub struct CalcomSimConfig {
    /// Accepted as `Authorization: Bearer <key>`.
    pub api_keys: Vec<String>,
    pub user: SimUser,
    /// The first one is the default for bookings that name none.
    pub event_types: Vec<EventTypeSpec>,
}

impl std::fmt::Debug for CalcomSimConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CalcomSimConfig")
            .field("api_keys", &vec!["***"; self.api_keys.len()])
            .field("user", &self.user)
            .field("event_types", &self.event_types)
            .finish()
    }
}

impl CalcomSimConfig {
    pub const DEFAULT_API_KEY: &'static str = "cal_sim_0123456789abcdef0123456789abcdef";
    pub const CONSULTATION: u64 = 101;
    pub const SITE_VISIT: u64 = 102;
}

impl Default for CalcomSimConfig {
    fn default() -> Self {
        CalcomSimConfig {
            api_keys: vec![Self::DEFAULT_API_KEY.to_owned()],
            user: SimUser {
                id: 4242,
                username: "northside-plumbing".to_owned(),
                name: "Northside Plumbing".to_owned(),
                email: "office@northside.example".to_owned(),
                time_zone: "America/New_York".to_owned(),
            },
            event_types: vec![
                EventTypeSpec {
                    id: Self::CONSULTATION,
                    slug: "consultation".to_owned(),
                    title: "Consultation".to_owned(),
                    length_minutes: 30,
                },
                EventTypeSpec {
                    id: Self::SITE_VISIT,
                    slug: "site-visit".to_owned(),
                    title: "Site visit".to_owned(),
                    length_minutes: 60,
                },
            ],
        }
    }
}

/// A booking to create, as if someone had booked on the page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BookingSpec {
    pub attendee_name: String,
    pub attendee_email: String,
    /// Stored as given (Cal.com stores E.164, `+14155552671`).
    #[serde(default)]
    pub attendee_phone: Option<String>,
    pub start: DateTime<Utc>,
    /// Defaults to the event type's length.
    #[serde(default)]
    pub duration_minutes: Option<u32>,
    /// Defaults to the first configured event type.
    #[serde(default)]
    pub event_type_id: Option<u64>,
    /// `accepted` (default), `pending`, `awaiting_host`, `cancelled` or `rejected`.
    #[serde(default)]
    pub status: Option<String>,
    /// What `metadata[key]=value` link parameters would have set.
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
    /// Defaults to the sim's now.
    #[serde(default)]
    pub created_at: Option<DateTime<Utc>>,
    /// Defaults to `created_at`.
    #[serde(default)]
    pub updated_at: Option<DateTime<Utc>>,
    /// Serve `"updatedAt": null` (the field is nullable).
    #[serde(default)]
    pub null_updated_at: bool,
}

impl BookingSpec {
    pub fn new(name: &str, email: &str, start: DateTime<Utc>) -> Self {
        BookingSpec {
            attendee_name: name.to_owned(),
            attendee_email: email.to_owned(),
            attendee_phone: None,
            start,
            duration_minutes: None,
            event_type_id: None,
            status: None,
            metadata: BTreeMap::new(),
            created_at: None,
            updated_at: None,
            null_updated_at: false,
        }
    }

    pub fn phone(mut self, e164: &str) -> Self {
        self.attendee_phone = Some(e164.to_owned());
        self
    }

    pub fn event_type(mut self, id: u64) -> Self {
        self.event_type_id = Some(id);
        self
    }

    pub fn metadata(mut self, key: &str, value: &str) -> Self {
        self.metadata.insert(key.to_owned(), value.to_owned());
        self
    }

    pub fn status(mut self, status: &str) -> Self {
        self.status = Some(status.to_owned());
        self
    }

    /// Created (and last updated) at `at`.
    pub fn created_at(mut self, at: DateTime<Utc>) -> Self {
        self.created_at = Some(at);
        self
    }

    pub fn updated_at(mut self, at: DateTime<Utc>) -> Self {
        self.updated_at = Some(at);
        self
    }

    pub fn without_updated_at(mut self) -> Self {
        self.null_updated_at = true;
        self
    }
}

/// A simulated endpoint, as far as fault injection and request counts are concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CalcomRoute {
    /// GET /v2/bookings
    BookingsList,
    /// GET /v2/bookings/{uid}
    BookingsRead,
    /// GET /v2/me
    Me,
    /// Any route; used only when the request's own route has no fault queued.
    Any,
}

/// What goes wrong on the next request of a route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CalcomFault {
    /// HTTP 429 `ThrottlerException`; a `Retry-After` header (seconds) when `Some`.
    RateLimit { retry_after: Option<u64> },
    /// Cal.com's error envelope with this 5xx status.
    ServerError(u16),
    /// A proxy's HTML page with HTTP 502.
    HtmlError,
    /// The normal answer with its body cut in half (HTTP 200).
    TruncatedJson,
    /// HTTP 200 with valid JSON of the wrong shape (`data` is not a list).
    WrongShape,
    /// HTTP 401, as for a revoked key.
    Auth,
}

/// Serde form of [`CalcomFault`] for the control API: `{"kind": "rate_limit", "retry_after":
/// 2}`, `{"kind": "server_error", "status": 503}`, `html_error`, `truncated_json`,
/// `wrong_shape`, `auth`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CalcomFaultSpec {
    pub kind: String,
    #[serde(default)]
    pub retry_after: Option<u64>,
    #[serde(default)]
    pub status: Option<u16>,
}

impl CalcomFaultSpec {
    pub fn to_fault(&self) -> Result<CalcomFault, String> {
        Ok(match self.kind.as_str() {
            "rate_limit" => CalcomFault::RateLimit {
                retry_after: self.retry_after,
            },
            "server_error" => CalcomFault::ServerError(self.status.unwrap_or(500)),
            "html_error" => CalcomFault::HtmlError,
            "truncated_json" => CalcomFault::TruncatedJson,
            "wrong_shape" => CalcomFault::WrongShape,
            "auth" => CalcomFault::Auth,
            other => return Err(format!("unknown fault kind {other:?}")),
        })
    }
}

/// One API request as the sim received it (control requests are not logged).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LoggedRequest {
    pub method: String,
    pub path: String,
    /// Decoded query pairs, in order.
    pub query: Vec<(String, String)>,
    /// The `cal-api-version` header, when sent.
    pub api_version: Option<String>,
    /// Whether an `Authorization` header was sent (never its value).
    pub authorization: bool,
}

impl LoggedRequest {
    /// The first value of a query parameter.
    pub fn param(&self, key: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// A running Cal.com simulator. Dropping it stops the server (without waiting); prefer
/// [`CalcomSim::shutdown`].
#[derive(Debug)]
pub struct CalcomSim {
    shared: Arc<Shared>,
    server: Server,
}

impl CalcomSim {
    /// Binds 127.0.0.1 on a free port.
    pub async fn start(cfg: CalcomSimConfig) -> std::io::Result<CalcomSim> {
        Self::start_on(cfg, server::LOOPBACK).await
    }

    pub async fn start_on(cfg: CalcomSimConfig, addr: SocketAddr) -> std::io::Result<CalcomSim> {
        let shared = Arc::new(Shared::new(cfg));
        let app = control::router()
            .fallback(api::api)
            .with_state(Arc::clone(&shared));
        let server =
            Server::start(addr, None, app, shared.shutdown.subscribe(), "Cal.com sim").await?;
        Ok(CalcomSim { shared, server })
    }

    /// `http://127.0.0.1:PORT`, to be used as the Cal.com API base URL.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.server.addr())
    }

    pub fn addr(&self) -> SocketAddr {
        self.server.addr()
    }

    /// The first configured API key.
    pub fn api_key(&self) -> &str {
        self.shared.cfg.api_keys.first().map_or("", String::as_str)
    }

    pub fn config(&self) -> &CalcomSimConfig {
        &self.shared.cfg
    }

    /// The sim's "now": wall clock plus [`CalcomSim::set_clock_offset`].
    pub fn now(&self) -> DateTime<Utc> {
        self.shared.now()
    }

    /// Creates a booking and returns its uid.
    pub fn add_booking(&self, spec: BookingSpec) -> Result<String, String> {
        self.shared.add_booking(&spec)
    }

    /// Books through a link as Cal.com's booking page would: every `metadata[<key>]=<value>`
    /// query parameter becomes booking metadata, `name` (or `firstName` + `lastName`),
    /// `email` and `attendeePhoneNumber` fill the form, and the path's last segment picks the
    /// event type by slug (the first event type otherwise). Returns the uid.
    pub fn book_via_link(&self, link: &str, start: DateTime<Utc>) -> Result<String, String> {
        let spec = control::spec_from_link(&self.shared.cfg, link, start)?;
        self.shared.add_booking(&spec)
    }

    /// Serves `value` verbatim as a list item (see the module doc).
    pub fn add_raw_item(&self, value: serde_json::Value) {
        self.shared.add_raw(value);
    }

    /// The attendee cancels.
    pub fn cancel(&self, uid: &str, reason: Option<&str>) -> Result<(), String> {
        self.shared.cancel(uid, reason)
    }

    /// The attendee moves the booking to `start`; returns the new booking's uid.
    pub fn reschedule(
        &self,
        uid: &str,
        start: DateTime<Utc>,
        keep_metadata: bool,
    ) -> Result<String, String> {
        self.shared
            .reschedule(uid, start, Some("Running late"), keep_metadata)
    }

    /// The host confirms (`accepted`) or declines (`rejected`) a pending booking.
    pub fn set_status(&self, uid: &str, status: &str) -> Result<(), String> {
        self.shared.set_status(uid, status)
    }

    /// The next requests on `route` get these faults, one each, in order.
    pub fn inject(&self, route: CalcomRoute, faults: Vec<CalcomFault>) {
        self.shared.inject(route, faults);
    }

    pub fn clear_faults(&self) {
        self.shared.clear_faults();
    }

    /// While `true`, every API request answers 401 (the key was revoked).
    pub fn set_revoked(&self, revoked: bool) {
        self.shared.set_revoked(revoked);
    }

    /// Shifts the sim's "now" (time stamps, status anchors) by `d`.
    pub fn set_clock_offset(&self, d: chrono::Duration) {
        self.shared.set_clock_offset(d);
    }

    /// Requests on `route` so far (faulted and refused ones included).
    pub fn requests(&self, route: CalcomRoute) -> usize {
        self.shared.lock().counts.get(&route).copied().unwrap_or(0)
    }

    /// Every API request so far, oldest first (the last 10,000).
    pub fn request_log(&self) -> Vec<LoggedRequest> {
        self.shared.lock().log.clone()
    }

    /// Stops the server and waits for it (at most 5 s).
    pub async fn shutdown(mut self) {
        self.shared.shutdown.send_replace(true);
        self.server.stopped().await;
    }
}

impl Drop for CalcomSim {
    fn drop(&mut self) {
        self.shared.shutdown.send_replace(true);
    }
}

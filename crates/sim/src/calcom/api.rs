//! Cal.com's API v2 surface: one fallback handler that routes `GET /v2/bookings`,
//! `GET /v2/bookings/{uid}` and `GET /v2/me`, applies queued faults, revocation and auth,
//! then answers in Cal.com's wire format.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{Value, json};

use super::store::{Shared, SimBooking, booking_json, error_json, now_locked};
use super::{CalcomFault, CalcomRoute, LIST_VERSION, LoggedRequest};

const STATUSES: [&str; 5] = ["upcoming", "recurring", "past", "cancelled", "unconfirmed"];

/// Where the `upcoming`-style walks start: bookings that started up to an hour ago.
const UPCOMING_GRACE_HOURS: i64 = 1;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Endpoint {
    List,
    Read(String),
    Me,
}

impl Endpoint {
    fn parse(path: &str) -> Option<Endpoint> {
        match path.trim_end_matches('/') {
            "/v2/bookings" => Some(Endpoint::List),
            "/v2/me" => Some(Endpoint::Me),
            other => {
                let uid = other.strip_prefix("/v2/bookings/")?;
                (!uid.is_empty() && !uid.contains('/')).then(|| Endpoint::Read(uid.to_owned()))
            }
        }
    }

    fn route(&self) -> CalcomRoute {
        match self {
            Endpoint::List => CalcomRoute::BookingsList,
            Endpoint::Read(_) => CalcomRoute::BookingsRead,
            Endpoint::Me => CalcomRoute::Me,
        }
    }
}

/// A failure answer: HTTP status, Cal.com's exception name and message.
struct Refusal {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl Refusal {
    fn bad_request(message: impl Into<String>) -> Self {
        Refusal {
            status: StatusCode::BAD_REQUEST,
            code: "BadRequestException",
            message: message.into(),
        }
    }

    fn unauthorized(message: &str) -> Self {
        Refusal {
            status: StatusCode::UNAUTHORIZED,
            code: "UnauthorizedException",
            message: message.to_owned(),
        }
    }

    fn not_found(message: String) -> Self {
        Refusal {
            status: StatusCode::NOT_FOUND,
            code: "NotFoundException",
            message,
        }
    }
}

pub(crate) async fn api(State(shared): State<Arc<Shared>>, req: Request) -> Response {
    let (parts, _body) = req.into_parts();
    let path = parts.uri.path().to_owned();
    let full_path = parts
        .uri
        .path_and_query()
        .map_or_else(|| path.clone(), |p| p.as_str().to_owned());
    let raw_query = parts.uri.query().unwrap_or("").to_owned();
    let endpoint = Endpoint::parse(&path);
    let version = header_text(&parts.headers, "cal-api-version");
    let query: Option<Vec<(String, String)>> = serde_urlencoded::from_str(&raw_query).ok();
    shared.record(
        endpoint.as_ref().map(Endpoint::route),
        LoggedRequest {
            method: parts.method.to_string(),
            path: path.clone(),
            query: query.clone().unwrap_or_default(),
            api_version: version.clone(),
            authorization: parts.headers.contains_key(header::AUTHORIZATION),
        },
    );
    let refuse = |r: Refusal| refusal_response(&shared, &full_path, r);
    let Some(endpoint) = endpoint.filter(|_| parts.method == Method::GET) else {
        return refuse(Refusal::not_found(format!(
            "Cannot {} {path}",
            parts.method
        )));
    };

    let fault = shared.take_fault(endpoint.route());
    match &fault {
        Some(CalcomFault::RateLimit { retry_after }) => {
            let mut resp = refuse(Refusal {
                status: StatusCode::TOO_MANY_REQUESTS,
                code: "ThrottlerException",
                message: "ThrottlerException: Too Many Requests".to_owned(),
            });
            if let Some(secs) = retry_after {
                resp.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(*secs));
            }
            return resp;
        }
        Some(CalcomFault::ServerError(status)) => {
            let status = StatusCode::from_u16(*status)
                .ok()
                .filter(StatusCode::is_server_error)
                .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            return refuse(Refusal {
                status,
                code: "InternalServerErrorException",
                message: status
                    .canonical_reason()
                    .unwrap_or("Internal Server Error")
                    .to_owned(),
            });
        }
        Some(CalcomFault::HtmlError) => {
            let page = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n\
                        <center><h1>502 Bad Gateway</h1></center>\r\n</body>\r\n</html>\r\n";
            return bytes(
                StatusCode::BAD_GATEWAY,
                page.as_bytes().to_vec(),
                "text/html",
            );
        }
        Some(CalcomFault::Auth) => return refuse(Refusal::unauthorized("Invalid API Key")),
        Some(CalcomFault::TruncatedJson | CalcomFault::WrongShape) | None => {}
    }
    if shared.lock().switches.revoked {
        return refuse(Refusal::unauthorized("Invalid API Key"));
    }
    if let Err(r) = authorize(&shared, &parts.headers) {
        return refuse(r);
    }
    let Some(query) = query else {
        return refuse(Refusal::bad_request(
            "the query string is not valid URL encoding",
        ));
    };

    let answer = match &endpoint {
        Endpoint::List => list(&shared, &query, version.as_deref()),
        Endpoint::Read(uid) => read(&shared, uid),
        Endpoint::Me => Ok(me(&shared)),
    };
    let body = match answer {
        Ok(body) => body,
        Err(r) => return refuse(r),
    };
    match fault {
        Some(CalcomFault::TruncatedJson) => {
            let mut text = body.to_string().into_bytes();
            text.truncate(text.len() / 2);
            bytes(StatusCode::OK, text, "application/json; charset=utf-8")
        }
        Some(CalcomFault::WrongShape) => json_response(
            StatusCode::OK,
            &json!({"status": "success", "data": {"bookings": "not a list"}}),
        ),
        _ => json_response(StatusCode::OK, &body),
    }
}

fn authorize(shared: &Shared, headers: &HeaderMap) -> Result<(), Refusal> {
    let Some(value) = header_text(headers, header::AUTHORIZATION.as_str()) else {
        return Err(Refusal::unauthorized("No Authorization header provided"));
    };
    let token = value
        .strip_prefix("Bearer ")
        .ok_or_else(|| Refusal::unauthorized("Authorization header must be Bearer <token>"))?;
    if shared.cfg.api_keys.iter().any(|k| k == token) {
        Ok(())
    } else {
        Err(Refusal::unauthorized("Invalid API Key"))
    }
}

fn header_text(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// The query as `key → values` (a repeated key keeps every value, in order).
fn grouped(query: &[(String, String)]) -> HashMap<&str, Vec<&str>> {
    let mut out: HashMap<&str, Vec<&str>> = HashMap::new();
    for (k, v) in query {
        out.entry(k.as_str()).or_default().push(v.as_str());
    }
    out
}

/// The filters every version of the list accepts.
#[derive(Debug, Default)]
struct Filter {
    attendee_email: Option<String>,
    attendee_name: Option<String>,
    booking_uid: Option<String>,
    event_type_ids: Option<Vec<u64>>,
    team_ids: Option<Vec<u64>>,
    after_start: Option<DateTime<Utc>>,
    before_end: Option<DateTime<Utc>>,
    after_created: Option<DateTime<Utc>>,
    before_created: Option<DateTime<Utc>>,
    after_updated: Option<DateTime<Utc>>,
    before_updated: Option<DateTime<Utc>>,
}

impl Filter {
    fn parse(q: &HashMap<&str, Vec<&str>>) -> Result<Filter, Refusal> {
        let one = |key: &str| q.get(key).and_then(|v| v.first()).map(|v| (*v).to_owned());
        let date = |key: &str| -> Result<Option<DateTime<Utc>>, Refusal> {
            one(key)
                .map(|raw| {
                    parse_date(&raw).ok_or_else(|| {
                        Refusal::bad_request(format!("{key} must be a valid ISO 8601 date string"))
                    })
                })
                .transpose()
        };
        let ids = |key: &str| -> Result<Option<Vec<u64>>, Refusal> {
            one(key)
                .map(|raw| {
                    raw.split(',')
                        .map(|id| id.trim().parse::<u64>())
                        .collect::<Result<Vec<_>, _>>()
                        .map_err(|_| {
                            Refusal::bad_request(format!("{key} must be comma separated numbers"))
                        })
                })
                .transpose()
        };
        for key in ["sortStart", "sortEnd", "sortCreated", "sortUpdatedAt"] {
            if let Some(v) = one(key)
                && v != "asc"
                && v != "desc"
            {
                return Err(Refusal::bad_request(format!(
                    "{key} must be one of the following values: asc, desc"
                )));
            }
        }
        let mut event_type_ids = ids("eventTypeIds")?;
        if let Some(id) = ids("eventTypeId")? {
            event_type_ids.get_or_insert_with(Vec::new).extend(id);
        }
        let mut team_ids = ids("teamsIds")?;
        if let Some(id) = ids("teamId")? {
            team_ids.get_or_insert_with(Vec::new).extend(id);
        }
        Ok(Filter {
            // The server turns spaces back into '+' (an email's '+' arrives as a space when
            // the client did not percent-encode it).
            attendee_email: one("attendeeEmail").map(|e| e.replace(' ', "+")),
            attendee_name: one("attendeeName"),
            booking_uid: one("bookingUid"),
            event_type_ids,
            team_ids,
            after_start: date("afterStart")?,
            before_end: date("beforeEnd")?,
            after_created: date("afterCreatedAt")?,
            before_created: date("beforeCreatedAt")?,
            after_updated: date("afterUpdatedAt")?,
            before_updated: date("beforeUpdatedAt")?,
        })
    }

    fn matches(&self, b: &SimBooking) -> bool {
        let updated_ok = |bound: Option<DateTime<Utc>>, after: bool| match bound {
            None => true,
            // Like SQL: a null updatedAt matches no updatedAt bound.
            Some(t) => b
                .updated_at
                .is_some_and(|u| if after { u >= t } else { u <= t }),
        };
        self.attendee_email
            .as_ref()
            .is_none_or(|e| b.attendee_email.eq_ignore_ascii_case(e))
            && self.attendee_name.as_ref().is_none_or(|n| {
                b.attendee_name
                    .to_lowercase()
                    .contains(&n.to_lowercase())
            })
            && self.booking_uid.as_ref().is_none_or(|u| &b.uid == u)
            && self
                .event_type_ids
                .as_ref()
                .is_none_or(|ids| ids.contains(&b.event_type.id))
            // The sim's bookings belong to no team.
            && self.team_ids.is_none()
            && self.after_start.is_none_or(|t| b.start >= t)
            && self.before_end.is_none_or(|t| b.end <= t)
            && self.after_created.is_none_or(|t| b.created_at >= t)
            && self.before_created.is_none_or(|t| b.created_at <= t)
            && updated_ok(self.after_updated, true)
            && updated_ok(self.before_updated, false)
    }
}

/// Strict ISO 8601: a full RFC 3339 time stamp, or a date (midnight UTC).
fn parse_date(raw: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(raw)
        .map(|d| d.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            NaiveDate::parse_from_str(raw, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .map(|d| d.and_utc())
        })
}

fn status_matches(status: &str, b: &SimBooking, now: DateTime<Utc>) -> bool {
    let dead = b.status == "cancelled" || b.status == "rejected";
    match status {
        "upcoming" => !dead && b.end >= now,
        // The sim has no recurring series.
        "recurring" => false,
        "past" => !dead && b.end < now,
        "cancelled" => dead,
        "unconfirmed" => (b.status == "pending" || b.status == "awaiting_host") && b.end >= now,
        _ => false,
    }
}

fn list(
    shared: &Shared,
    query: &[(String, String)],
    version: Option<&str>,
) -> Result<Value, Refusal> {
    let q = grouped(query);
    let filter = Filter::parse(&q)?;
    if version == Some(LIST_VERSION) {
        cursor_list(shared, &q, &filter)
    } else {
        // "Not passing the correct value will default to an older version of this endpoint."
        take_skip_list(shared, &q, &filter)
    }
}

/// `cal-api-version: 2026-05-01`: one status at most, uuid order and anchor by status,
/// opaque cursor, `pagination: {nextCursor, hasMore}`.
fn cursor_list(
    shared: &Shared,
    q: &HashMap<&str, Vec<&str>>,
    filter: &Filter,
) -> Result<Value, Refusal> {
    let statuses: Vec<&str> = q
        .get("status")
        .map(|v| v.iter().flat_map(|s| s.split(',')).collect())
        .unwrap_or_default();
    if statuses.len() > 1 {
        return Err(Refusal::bad_request(
            "status accepts a single value; issue one request per status",
        ));
    }
    let status = statuses.first().copied();
    if let Some(s) = status
        && !STATUSES.contains(&s)
    {
        return Err(Refusal::bad_request(format!(
            "status must be one of the following values: {}",
            STATUSES.join(", ")
        )));
    }
    let limit = match q.get("limit").and_then(|v| v.first()) {
        None => 50,
        Some(raw) => match raw.parse::<u64>() {
            Ok(n) if (1..=100).contains(&n) => n as usize,
            Ok(0) => return Err(Refusal::bad_request("limit must not be less than 1")),
            Ok(_) => return Err(Refusal::bad_request("limit must not be greater than 100")),
            Err(_) => return Err(Refusal::bad_request("limit must be a number")),
        },
    };
    let after = match q.get("cursor").and_then(|v| v.first()) {
        None => None,
        Some(raw) => {
            Some(decode_cursor(raw).ok_or_else(|| Refusal::bad_request("Invalid cursor"))?)
        }
    };
    let inner = shared.lock();
    let now = now_locked(&inner);
    let ascending = matches!(status, Some("upcoming" | "recurring" | "unconfirmed"));
    let anchor = match status {
        Some("upcoming" | "recurring" | "unconfirmed") => {
            super::store::sort_uuid(now - chrono::Duration::hours(UPCOMING_GRACE_HOURS), 0)
        }
        Some("past") => super::store::sort_uuid(now, u64::MAX >> 16),
        _ => super::store::sort_uuid(
            DateTime::parse_from_rfc3339("2100-01-01T00:00:00Z")
                .map(|d| d.with_timezone(&Utc))
                .unwrap_or(now),
            0,
        ),
    };
    let in_anchor = |key: &str| {
        if ascending {
            key >= anchor.as_str()
        } else {
            key < anchor.as_str()
        }
    };
    let mut items: Vec<(String, Value)> = inner
        .bookings
        .iter()
        .filter(|b| filter.matches(b))
        .filter(|b| status.is_none_or(|s| status_matches(s, b, now)))
        .filter(|b| in_anchor(&b.sort_uuid))
        .map(|b| (b.sort_uuid.clone(), booking_json(&shared.cfg, b)))
        .collect();
    if filter.booking_uid.is_none() {
        // Raw items stand for bookings the sim cannot model: only the anchor applies.
        items.extend(
            inner
                .raw
                .iter()
                .filter(|r| in_anchor(&r.sort_uuid))
                .map(|r| (r.sort_uuid.clone(), r.value.clone())),
        );
    }
    drop(inner);
    items.sort_by(|a, b| {
        if ascending {
            a.0.cmp(&b.0)
        } else {
            b.0.cmp(&a.0)
        }
    });
    if let Some(after) = &after {
        items.retain(|(key, _)| if ascending { key > after } else { key < after });
    }
    let has_more = items.len() > limit;
    items.truncate(limit);
    let next_cursor = if has_more {
        items.last().map(|(key, _)| encode_cursor(key))
    } else {
        None
    };
    Ok(json!({
        "status": "success",
        "data": items.into_iter().map(|(_, v)| v).collect::<Vec<_>>(),
        "pagination": { "nextCursor": next_cursor, "hasMore": has_more },
    }))
}

/// The older versions (2024-08-13, 2026-02-25, or no header): `take`/`skip`, several
/// comma-separated statuses, and the long pagination object.
fn take_skip_list(
    shared: &Shared,
    q: &HashMap<&str, Vec<&str>>,
    filter: &Filter,
) -> Result<Value, Refusal> {
    let number = |key: &str, default: u64, max: u64| -> Result<u64, Refusal> {
        match q.get(key).and_then(|v| v.first()) {
            None => Ok(default),
            Some(raw) => raw
                .parse::<u64>()
                .ok()
                .filter(|n| *n <= max)
                .ok_or_else(|| Refusal::bad_request(format!("{key} must be a number up to {max}"))),
        }
    };
    let take = number("take", 100, 250)?.max(1) as usize;
    let skip = number("skip", 0, u64::MAX)? as usize;
    let statuses: Vec<&str> = q
        .get("status")
        .map(|v| v.iter().flat_map(|s| s.split(',')).collect())
        .unwrap_or_default();
    if let Some(bad) = statuses.iter().find(|s| !STATUSES.contains(s)) {
        return Err(Refusal::bad_request(format!(
            "status {bad:?} is not a valid status"
        )));
    }
    let inner = shared.lock();
    let now = now_locked(&inner);
    let mut matching: Vec<&SimBooking> = inner
        .bookings
        .iter()
        .filter(|b| filter.matches(b))
        .filter(|b| statuses.is_empty() || statuses.iter().any(|s| status_matches(s, b, now)))
        .collect();
    matching.sort_by_key(|b| (b.start, b.id));
    let total = matching.len();
    let data: Vec<Value> = matching
        .iter()
        .skip(skip)
        .take(take)
        .map(|b| booking_json(&shared.cfg, b))
        .collect();
    let returned = data.len();
    let remaining = total.saturating_sub(skip + returned);
    Ok(json!({
        "status": "success",
        "data": data,
        "pagination": {
            "totalItems": total,
            "remainingItems": remaining,
            "returnedItems": returned,
            "itemsPerPage": take,
            "currentPage": skip / take + 1,
            "totalPages": total.div_ceil(take).max(1),
            "hasNextPage": remaining > 0,
            "hasPreviousPage": skip > 0,
        },
    }))
}

fn read(shared: &Shared, uid: &str) -> Result<Value, Refusal> {
    let inner = shared.lock();
    let booking = inner
        .bookings
        .iter()
        .find(|b| b.uid == uid)
        .ok_or_else(|| {
            Refusal::not_found(format!(
                "Booking with uid={uid} was not found in the database"
            ))
        })?;
    Ok(json!({ "status": "success", "data": booking_json(&shared.cfg, booking) }))
}

fn me(shared: &Shared) -> Value {
    let user = &shared.cfg.user;
    json!({
        "status": "success",
        "data": {
            "id": user.id,
            "username": user.username,
            "email": user.email,
            "name": user.name,
            "avatarUrl": null,
            "bio": null,
            "timeFormat": 12,
            "defaultScheduleId": null,
            "weekStart": "Sunday",
            "timeZone": user.time_zone,
            "locale": "en",
            "organizationId": null,
        },
    })
}

/// Like Cal.com's: base64 of `{"v":1,"sortUuid":"…"}`.
fn encode_cursor(sort_uuid: &str) -> String {
    // Built by hand to keep Cal.com's key order; the uuid is the sim's own hex.
    STANDARD.encode(format!(r#"{{"v":1,"sortUuid":"{sort_uuid}"}}"#))
}

fn decode_cursor(raw: &str) -> Option<String> {
    let bytes = STANDARD.decode(raw).ok()?;
    let value: Value = serde_json::from_slice(&bytes).ok()?;
    (value.get("v")? == 1)
        .then(|| value.get("sortUuid")?.as_str().map(str::to_owned))
        .flatten()
}

fn refusal_response(shared: &Shared, path: &str, r: Refusal) -> Response {
    let body = error_json(shared.now(), path, r.status.as_u16(), r.code, &r.message);
    json_response(r.status, &body)
}

fn json_response(status: StatusCode, body: &Value) -> Response {
    bytes(
        status,
        body.to_string().into_bytes(),
        "application/json; charset=utf-8",
    )
}

fn bytes(status: StatusCode, body: Vec<u8>, content_type: &'static str) -> Response {
    let mut resp = (status, body).into_response();
    let headers = resp.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(id) = HeaderValue::from_str(&request_id()) {
        headers.insert("x-request-id", id);
    }
    resp
}

fn request_id() -> String {
    let n: u128 = rand::random();
    format!("{n:032x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_are_opaque_base64_json_and_checked() {
        let c = encode_cursor("018f4c2e-3f1a-7abc-9def-0123456789ab");
        assert_eq!(
            c, "eyJ2IjoxLCJzb3J0VXVpZCI6IjAxOGY0YzJlLTNmMWEtN2FiYy05ZGVmLTAxMjM0NTY3ODlhYiJ9",
            "the same shape as the spec's example cursor"
        );
        assert_eq!(
            decode_cursor(&c).as_deref(),
            Some("018f4c2e-3f1a-7abc-9def-0123456789ab")
        );
        assert_eq!(decode_cursor("not base64!"), None);
        assert_eq!(
            decode_cursor(&STANDARD.encode("{\"v\":2,\"sortUuid\":\"x\"}")),
            None
        );
    }

    #[test]
    fn paths_route_to_endpoints() {
        assert_eq!(Endpoint::parse("/v2/bookings"), Some(Endpoint::List));
        assert_eq!(
            Endpoint::parse("/v2/bookings/abc"),
            Some(Endpoint::Read("abc".into()))
        );
        assert_eq!(Endpoint::parse("/v2/me"), Some(Endpoint::Me));
        assert_eq!(Endpoint::parse("/v2/bookings/a/b"), None);
        assert_eq!(Endpoint::parse("/v1/bookings"), None);
    }
}

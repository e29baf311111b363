//! The Cal.com sim's `/_sim/…` control API: JSON over HTTP mirroring the Rust API, so another
//! process (the app in end-to-end tests, the demo) can drive it. No auth: loopback only.
//!
//! | method & path | body | answer |
//! |---|---|---|
//! | `GET /_sim/health` | | `{api_key, user, event_types}` |
//! | `POST /_sim/bookings` | [`BookingSpec`] | `{uid}` |
//! | `POST /_sim/bookings/via_link` | `{link, start}` | `{uid}` (as [`super::CalcomSim::book_via_link`]) |
//! | `POST /_sim/bookings/raw` | any JSON | 204 (served verbatim as a list item) |
//! | `POST /_sim/bookings/{uid}/cancel` | `{reason?}` | 204 |
//! | `POST /_sim/bookings/{uid}/reschedule` | `{start, keep_metadata?}` | `{uid}` of the new booking |
//! | `POST /_sim/bookings/{uid}/status` | `{status}` | 204 |
//! | `POST /_sim/faults` | `{route, faults: [CalcomFaultSpec]}` | 204 |
//! | `DELETE /_sim/faults` | | 204 |
//! | `POST /_sim/revoked` | `{revoked: bool}` | 204 |
//! | `POST /_sim/clock_offset` | `{seconds}` | 204 |
//! | `GET /_sim/requests` | | every API request `[{method, path, query, api_version, authorization}]` |
//!
//! Bad input answers 400 with `{"error": "..."}`; an unknown uid 404 with the same shape.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Value, json};

use super::store::Shared;
use super::{BookingSpec, CalcomFault, CalcomFaultSpec, CalcomRoute, CalcomSimConfig};
use crate::switches::{self, Switchable, Switches, bad, error};

type St = State<Arc<Shared>>;

pub(crate) fn router() -> Router<Arc<Shared>> {
    Router::new()
        .route("/_sim/health", get(health))
        .route("/_sim/bookings", post(add_booking))
        .route("/_sim/bookings/via_link", post(via_link))
        .route("/_sim/bookings/raw", post(add_raw))
        .route("/_sim/bookings/{uid}/cancel", post(cancel))
        .route("/_sim/bookings/{uid}/reschedule", post(reschedule))
        .route("/_sim/bookings/{uid}/status", post(set_status))
        .route("/_sim/requests", get(requests))
        .merge(switches::routes())
}

impl Switchable for Shared {
    type Route = CalcomRoute;
    type Fault = CalcomFault;
    type FaultSpec = CalcomFaultSpec;
    const OFFSET_OUT_OF_RANGE: &'static str = "seconds is out of range";

    fn to_fault(spec: &CalcomFaultSpec) -> Result<CalcomFault, String> {
        spec.to_fault()
    }

    fn with_switches(&self, f: impl FnOnce(&mut Switches<CalcomRoute, CalcomFault>)) {
        f(&mut self.lock().switches)
    }
}

/// An unknown uid is 404, anything else the caller got wrong is 400.
fn refused(message: String) -> Response {
    if message.starts_with("no booking") {
        error(StatusCode::NOT_FOUND, message)
    } else {
        bad(message)
    }
}

async fn health(State(s): St) -> Response {
    Json(json!({
        "api_key": s.cfg.api_keys.first(),
        "user": s.cfg.user,
        "event_types": s.cfg.event_types,
    }))
    .into_response()
}

async fn add_booking(State(s): St, Json(spec): Json<BookingSpec>) -> Response {
    match s.add_booking(&spec) {
        Ok(uid) => Json(json!({ "uid": uid })).into_response(),
        Err(e) => bad(e),
    }
}

#[derive(Debug, Deserialize)]
struct LinkBody {
    link: String,
    start: DateTime<Utc>,
}

async fn via_link(State(s): St, Json(b): Json<LinkBody>) -> Response {
    match spec_from_link(&s.cfg, &b.link, b.start).and_then(|spec| s.add_booking(&spec)) {
        Ok(uid) => Json(json!({ "uid": uid })).into_response(),
        Err(e) => bad(e),
    }
}

async fn add_raw(State(s): St, Json(value): Json<Value>) -> StatusCode {
    s.add_raw(value);
    StatusCode::NO_CONTENT
}

#[derive(Debug, Deserialize)]
struct CancelBody {
    #[serde(default)]
    reason: Option<String>,
}

async fn cancel(State(s): St, Path(uid): Path<String>, Json(b): Json<CancelBody>) -> Response {
    match s.cancel(&uid, b.reason.as_deref()) {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => refused(e),
    }
}

#[derive(Debug, Deserialize)]
struct RescheduleBody {
    start: DateTime<Utc>,
    #[serde(default)]
    keep_metadata: bool,
    #[serde(default)]
    reason: Option<String>,
}

async fn reschedule(
    State(s): St,
    Path(uid): Path<String>,
    Json(b): Json<RescheduleBody>,
) -> Response {
    match s.reschedule(&uid, b.start, b.reason.as_deref(), b.keep_metadata) {
        Ok(new_uid) => Json(json!({ "uid": new_uid })).into_response(),
        Err(e) => refused(e),
    }
}

#[derive(Debug, Deserialize)]
struct StatusBody {
    status: String,
}

async fn set_status(State(s): St, Path(uid): Path<String>, Json(b): Json<StatusBody>) -> Response {
    match s.set_status(&uid, &b.status) {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => refused(e),
    }
}

async fn requests(State(s): St) -> Response {
    Json(s.lock().log.clone()).into_response()
}

/// What Cal.com's booking page makes of a link (`BookerWebWrapper`): query keys of the form
/// `metadata[<key>]` become metadata (the first value of each), `name` or `firstName` +
/// `lastName` and `email` fill the required fields, `attendeePhoneNumber` the phone field.
pub(crate) fn spec_from_link(
    cfg: &CalcomSimConfig,
    link: &str,
    start: DateTime<Utc>,
) -> Result<BookingSpec, String> {
    let without_fragment = link.split('#').next().unwrap_or_default();
    let (path, query) = without_fragment
        .split_once('?')
        .unwrap_or((without_fragment, ""));
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query)
        .map_err(|e| format!("the link's query is not URL encoding: {e}"))?;
    let get = |key: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .filter(|v| !v.is_empty())
    };
    let mut metadata = BTreeMap::new();
    for (key, value) in &pairs {
        if let Some(inner) = key
            .strip_prefix("metadata[")
            .and_then(|k| k.strip_suffix(']'))
            .filter(|k| !k.is_empty())
        {
            metadata
                .entry(inner.to_owned())
                .or_insert_with(|| value.clone());
        }
    }
    let name = get("name").or_else(|| {
        get("firstName").map(|first| format!("{first} {}", get("lastName").unwrap_or_default()))
    });
    let (Some(name), Some(email)) = (name, get("email")) else {
        return Err(
            "the booking form needs a name and an email (the link prefilled neither, \
                    and the sim has no person to type them)"
                .to_owned(),
        );
    };
    let slug = path
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or_default();
    let event_type = cfg
        .event_types
        .iter()
        .find(|e| e.slug == slug)
        .or_else(|| cfg.event_types.first())
        .ok_or("the sim has no event types")?;
    let mut spec = BookingSpec::new(name.trim(), &email, start).event_type(event_type.id);
    spec.attendee_phone = get("attendeePhoneNumber");
    spec.metadata = metadata;
    Ok(spec)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_prefill_like_the_booking_page() {
        let cfg = CalcomSimConfig::default();
        let start = Utc::now();
        let spec = spec_from_link(
            &cfg,
            "https://cal.com/northside/site-visit?firstName=Zo%C3%AB&lastName=Ng&email=zoe%40ex.com\
             &attendeePhoneNumber=%2B14155552671&metadata%5Btextback_ref%5D=abc\
             &metadata[textback_ref]=second&metadata[other]=x&metadata=ignored#top",
            start,
        )
        .expect("a complete link books");
        assert_eq!(spec.attendee_name, "Zoë Ng");
        assert_eq!(spec.attendee_email, "zoe@ex.com");
        assert_eq!(spec.attendee_phone.as_deref(), Some("+14155552671"));
        assert_eq!(
            spec.event_type_id,
            Some(CalcomSimConfig::SITE_VISIT),
            "by slug"
        );
        assert_eq!(
            spec.metadata.get("textback_ref").map(String::as_str),
            Some("abc"),
            "encoded and bare brackets are the same key; the first value wins"
        );
        assert_eq!(
            spec.metadata.len(),
            2,
            "only metadata[...] keys: {:?}",
            spec.metadata
        );
        assert!(
            spec_from_link(&cfg, "https://cal.com/x?name=A", start).is_err(),
            "no email, no booking"
        );
    }
}

//! The `/_sim/…` control API: JSON over HTTP mirroring the Rust test API, so another process
//! (the app in end-to-end tests) can drive the sim. No auth: it only listens on loopback.
//!
//! | method & path | body | answer |
//! |---|---|---|
//! | `GET /_sim/health` | | `{account_sid, auth_token, numbers}` |
//! | `POST /_sim/calls` | [`CallSpec`] (`ring_secs` null: rings until ended) | `{sid}` |
//! | `POST /_sim/calls/{sid}/end` | | 204 |
//! | `GET /_sim/calls/{sid}/final` | | `{final: bool}` |
//! | `POST /_sim/sms` | `{from, to?, body}` (`to` defaults to the first number) | `{sid}` |
//! | `GET /_sim/sent` | | `[{sid, from, to, body, received_at}]` |
//! | `GET /_sim/messages` | | every message with direction and status |
//! | `GET /_sim/message_requests` | | `{count}` |
//! | `POST /_sim/faults` | `{route, faults: [FaultSpec]}` | 204 |
//! | `DELETE /_sim/faults` | | 204 |
//! | `POST /_sim/landline` | `{number}` | 204 |
//! | `POST /_sim/undeliverable` | `{number, error_code}` | 204 |
//! | `POST /_sim/opt_out` | `{from, to}` | 204 |
//! | `POST /_sim/revoked` | `{revoked: bool}` | 204 |
//! | `POST /_sim/clock_offset` | `{seconds}` | 204 |
//! | `POST /_sim/clock_scale` | `{scale, origin?}` (RFC 3339; default now) | 204 |
//! | `POST /_sim/delivery_delay` | `{ms}` | 204 |
//! | `POST /_sim/scenario` | `{builtin: "demo"}` or `{toml: "..."}`, optional `time_scale` | 204 |
//! | `POST /_sim/scenario/stop` | | 204 (stops every running scenario) |
//!
//! Bad input answers 400 with `{"error": "..."}` (a body that is not the expected JSON
//! gets axum's own 4xx rejection).

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

use crate::fault::{Fault, FaultSpec, Route};
use crate::scenario::Scenario;
use crate::script::CallSpec;
use crate::store::Shared;
use crate::switches::{self, Switchable, Switches, bad};

type St = State<Arc<Shared>>;

pub(crate) fn router() -> Router<Arc<Shared>> {
    Router::new()
        .route("/_sim/health", get(health))
        .route("/_sim/calls", post(place_call))
        .route("/_sim/calls/{sid}/end", post(end_call))
        .route("/_sim/calls/{sid}/final", get(is_final))
        .route("/_sim/sms", post(inbound_sms))
        .route("/_sim/sent", get(sent))
        .route("/_sim/messages", get(messages))
        .route("/_sim/message_requests", get(message_requests))
        .route("/_sim/landline", post(landline))
        .route("/_sim/undeliverable", post(undeliverable))
        .route("/_sim/opt_out", post(opt_out))
        .route("/_sim/clock_scale", post(clock_scale))
        .route("/_sim/delivery_delay", post(delivery_delay))
        .route("/_sim/scenario", post(scenario))
        .route("/_sim/scenario/stop", post(stop_scenarios))
        .merge(switches::routes())
}

impl Switchable for Shared {
    type Route = Route;
    type Fault = Fault;
    type FaultSpec = FaultSpec;
    const OFFSET_OUT_OF_RANGE: &'static str = "seconds out of range";

    fn to_fault(spec: &FaultSpec) -> Result<Fault, String> {
        spec.to_fault()
    }

    fn with_switches(&self, f: impl FnOnce(&mut Switches<Route, Fault>)) {
        f(&mut self.lock().switches)
    }
}

async fn health(State(s): St) -> Response {
    Json(json!({
        "account_sid": s.cfg.account_sid,
        "auth_token": s.cfg.auth_token,
        "numbers": s.cfg.numbers,
    }))
    .into_response()
}

async fn place_call(State(s): St, Json(spec): Json<CallSpec>) -> Response {
    match spec.to_script(&s.first_number(), 1.0) {
        Ok(script) => Json(json!({ "sid": s.place_call(script) })).into_response(),
        Err(e) => bad(e),
    }
}

async fn end_call(State(s): St, Path(sid): Path<String>) -> StatusCode {
    s.finalise(&sid);
    StatusCode::NO_CONTENT
}

async fn is_final(State(s): St, Path(sid): Path<String>) -> Response {
    Json(json!({ "final": s.final_at(&sid).is_some() })).into_response()
}

#[derive(Debug, Deserialize)]
struct SmsBody {
    from: String,
    #[serde(default)]
    to: Option<String>,
    body: String,
}

async fn inbound_sms(State(s): St, Json(b): Json<SmsBody>) -> Response {
    let to = b.to.unwrap_or_else(|| s.first_number());
    Json(json!({ "sid": s.inbound_sms(&b.from, &to, &b.body) })).into_response()
}

async fn sent(State(s): St) -> Response {
    Json(s.lock().sent.clone()).into_response()
}

async fn messages(State(s): St) -> Response {
    let inner = s.lock();
    let all: Vec<_> = inner
        .messages
        .iter()
        .map(|m| {
            json!({
                "sid": m.sid, "from": m.from, "to": m.to, "body": m.body,
                "direction": m.direction, "status": m.status, "error_code": m.error_code,
            })
        })
        .collect();
    Json(all).into_response()
}

async fn message_requests(State(s): St) -> Response {
    let count = s.message_requests.load(std::sync::atomic::Ordering::SeqCst);
    Json(json!({ "count": count })).into_response()
}

#[derive(Debug, Deserialize)]
struct NumberBody {
    number: String,
    #[serde(default)]
    error_code: Option<u32>,
}

async fn landline(State(s): St, Json(b): Json<NumberBody>) -> StatusCode {
    s.lock().landlines.insert(b.number);
    StatusCode::NO_CONTENT
}

async fn undeliverable(State(s): St, Json(b): Json<NumberBody>) -> StatusCode {
    s.lock()
        .undeliverable
        .insert(b.number, b.error_code.unwrap_or(30003));
    StatusCode::NO_CONTENT
}

#[derive(Debug, Deserialize)]
struct PairBody {
    from: String,
    to: String,
}

async fn opt_out(State(s): St, Json(b): Json<PairBody>) -> StatusCode {
    let pair = s.opt_out_pair(&b.from, &b.to);
    s.lock().opted_out.insert(pair);
    StatusCode::NO_CONTENT
}

#[derive(Debug, Deserialize)]
struct ScaleBody {
    scale: f64,
    #[serde(default)]
    origin: Option<String>,
}

async fn clock_scale(State(s): St, Json(b): Json<ScaleBody>) -> Response {
    let origin = match b
        .origin
        .as_deref()
        .map(chrono::DateTime::parse_from_rfc3339)
    {
        None => chrono::Utc::now(),
        Some(Ok(t)) => t.with_timezone(&chrono::Utc),
        Some(Err(e)) => return bad(format!("origin is not an RFC 3339 time: {e}")),
    };
    match s.set_clock_scale(origin, b.scale) {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => bad(e.to_string()),
    }
}

#[derive(Debug, Deserialize)]
struct DelayBody {
    ms: u64,
}

async fn delivery_delay(State(s): St, Json(b): Json<DelayBody>) -> StatusCode {
    s.lock().delivery_delay = Duration::from_millis(b.ms);
    StatusCode::NO_CONTENT
}

#[derive(Debug, Deserialize)]
struct ScenarioBody {
    #[serde(default)]
    builtin: Option<String>,
    #[serde(default)]
    toml: Option<String>,
    #[serde(default)]
    time_scale: Option<f64>,
}

async fn scenario(State(s): St, Json(b): Json<ScenarioBody>) -> Response {
    let parsed = match (b.builtin.as_deref(), b.toml.as_deref()) {
        (Some("demo"), None) => Ok(Scenario::demo()),
        (None, Some(text)) => Scenario::from_toml(text).map_err(|e| e.to_string()),
        _ => Err("give either builtin: \"demo\" or toml".to_owned()),
    };
    match parsed {
        Ok(mut scenario) => {
            if let Some(scale) = b.time_scale {
                scenario.time_scale = scale;
            }
            match scenario.validate() {
                Ok(()) => {
                    crate::scenario::run(&s, &scenario);
                    StatusCode::NO_CONTENT.into_response()
                }
                Err(e) => bad(e.to_string()),
            }
        }
        Err(e) => bad(e),
    }
}

async fn stop_scenarios(State(s): St) -> StatusCode {
    s.stop_scenarios();
    StatusCode::NO_CONTENT
}

//! What tests can switch on both simulators, beyond their own domain: queued faults, revoked
//! credentials and a clock offset. Each sim keeps a [`Switches`] in its state and implements
//! [`Switchable`]; its Rust API calls the trait's methods, and its control router merges
//! [`routes`] (`POST`/`DELETE /_sim/faults`, `POST /_sim/revoked`, `POST /_sim/clock_offset`,
//! as the control modules' tables describe).

use std::collections::{HashMap, VecDeque};
use std::hash::Hash;
use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::json;

/// The switches' state, kept under the sim's lock.
#[derive(Debug)]
pub(crate) struct Switches<R, F> {
    pub faults: FaultQueues<R, F>,
    /// Every API request answers 401 while set.
    pub revoked: bool,
    /// Added to the sim's clock.
    pub clock_offset: chrono::Duration,
}

impl<R, F> Default for Switches<R, F> {
    fn default() -> Self {
        Switches {
            faults: FaultQueues::default(),
            revoked: false,
            clock_offset: chrono::Duration::zero(),
        }
    }
}

/// Faults queued per route, consumed one per request: a request takes from its own route's
/// queue first, and from the catch-all route's only when its own is empty.
#[derive(Debug)]
pub(crate) struct FaultQueues<R, F> {
    queues: HashMap<R, VecDeque<F>>,
}

impl<R, F> Default for FaultQueues<R, F> {
    fn default() -> Self {
        FaultQueues {
            queues: HashMap::new(),
        }
    }
}

impl<R: Copy + Eq + Hash, F> FaultQueues<R, F> {
    pub(crate) fn extend(&mut self, route: R, faults: impl IntoIterator<Item = F>) {
        self.queues.entry(route).or_default().extend(faults);
    }

    pub(crate) fn clear(&mut self) {
        self.queues.clear();
    }

    /// The next fault for a request on `route`, falling back to `any`'s queue.
    pub(crate) fn take(&mut self, route: R, any: R) -> Option<F> {
        if let Some(fault) = self.queues.get_mut(&route).and_then(VecDeque::pop_front) {
            return Some(fault);
        }
        self.queues.get_mut(&any).and_then(VecDeque::pop_front)
    }
}

/// A sim's state, as far as its [`Switches`] go.
pub(crate) trait Switchable: Send + Sync + 'static {
    /// What faults target, including a catch-all route.
    type Route: Copy + Eq + Hash + DeserializeOwned + Send + 'static;
    type Fault;
    /// The control API's JSON form of a fault.
    type FaultSpec: DeserializeOwned + Send + 'static;
    /// The 400 message for a clock offset chrono cannot hold.
    const OFFSET_OUT_OF_RANGE: &'static str;

    fn to_fault(spec: &Self::FaultSpec) -> Result<Self::Fault, String>;

    /// Runs `f` on the switches, under the sim's lock.
    fn with_switches(&self, f: impl FnOnce(&mut Switches<Self::Route, Self::Fault>));

    /// The next requests on `route` get these faults, one each, in order.
    fn inject(&self, route: Self::Route, faults: Vec<Self::Fault>) {
        self.with_switches(|s| s.faults.extend(route, faults));
    }

    fn clear_faults(&self) {
        self.with_switches(|s| s.faults.clear());
    }

    fn set_revoked(&self, revoked: bool) {
        self.with_switches(|s| s.revoked = revoked);
    }

    fn set_clock_offset(&self, d: chrono::Duration) {
        self.with_switches(|s| s.clock_offset = d);
    }
}

pub(crate) fn routes<S: Switchable>() -> Router<Arc<S>> {
    Router::new()
        .route("/_sim/faults", post(inject::<S>).delete(clear_faults::<S>))
        .route("/_sim/revoked", post(revoked::<S>))
        .route("/_sim/clock_offset", post(clock_offset::<S>))
}

/// The control API's error answer: `{"error": "..."}` with `status`.
pub(crate) fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(json!({ "error": message.into() }))).into_response()
}

pub(crate) fn bad(message: impl Into<String>) -> Response {
    error(StatusCode::BAD_REQUEST, message)
}

#[derive(Debug, Deserialize)]
struct InjectBody<R, F> {
    route: R,
    faults: Vec<F>,
}

async fn inject<S: Switchable>(
    State(s): State<Arc<S>>,
    Json(b): Json<InjectBody<S::Route, S::FaultSpec>>,
) -> Response {
    match b
        .faults
        .iter()
        .map(S::to_fault)
        .collect::<Result<Vec<_>, _>>()
    {
        Ok(faults) => {
            s.inject(b.route, faults);
            StatusCode::NO_CONTENT.into_response()
        }
        Err(e) => bad(e),
    }
}

async fn clear_faults<S: Switchable>(State(s): State<Arc<S>>) -> StatusCode {
    s.clear_faults();
    StatusCode::NO_CONTENT
}

#[derive(Debug, Deserialize)]
struct RevokedBody {
    revoked: bool,
}

async fn revoked<S: Switchable>(State(s): State<Arc<S>>, Json(b): Json<RevokedBody>) -> StatusCode {
    s.set_revoked(b.revoked);
    StatusCode::NO_CONTENT
}

#[derive(Debug, Deserialize)]
struct OffsetBody {
    seconds: i64,
}

async fn clock_offset<S: Switchable>(
    State(s): State<Arc<S>>,
    Json(b): Json<OffsetBody>,
) -> Response {
    match chrono::Duration::try_seconds(b.seconds) {
        Some(d) => {
            s.set_clock_offset(d);
            StatusCode::NO_CONTENT.into_response()
        }
        None => bad(S::OFFSET_OUT_OF_RANGE),
    }
}

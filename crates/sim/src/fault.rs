//! Injected faults: what the next requests on a route receive instead of (or on top of) the
//! normal answer. Queued per route by [`crate::Sim::inject`], consumed one per request.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// A Twilio endpoint, as far as fault injection is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Route {
    /// GET Calls.json
    CallsList,
    /// GET Calls/{Sid}.json
    CallsRead,
    /// GET Calls/{Sid}/Recordings.json
    RecordingsList,
    /// GET Messages.json
    MessagesList,
    /// POST Messages.json
    MessagesCreate,
    /// GET Messages/{Sid}.json
    MessagesRead,
    /// GET Messages/{Sid}/Media.json
    MediaList,
    /// GET Messages/{Sid}/Media/{MediaSid} (the content, without `.json`)
    MediaContent,
    /// GET IncomingPhoneNumbers.json
    NumbersList,
    /// GET Accounts/{AC}.json
    Account,
    /// Any Twilio route; used only when the request's own route has no fault queued.
    Any,
}

/// What goes wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// HTTP 429, code 20429; a `Retry-After` header (seconds) when `Some`.
    RateLimit { retry_after: Option<u64> },
    /// Twilio-style JSON error with this HTTP status (500, 503, ...).
    ServerError(u16),
    /// A load balancer's HTML page with HTTP 502.
    HtmlError,
    /// The normal answer (status included; side effects happen), its body cut in half.
    TruncatedJson,
    /// The normal answer, this much later.
    Delay(Duration),
    /// No answer at all until the sim shuts down: the client must time out.
    Hang,
    /// POST Messages: the message is created and sent, but the answer is a 500 (the
    /// outcome-unknown case). On other routes: the normal work, then a 500.
    AcceptThenFail,
    /// HTTP 401, code 20003, as for bad credentials.
    Auth,
}

/// Serde form of [`Fault`] for the control API: `{"kind": "rate_limit", "retry_after": 2}`,
/// `{"kind": "server_error", "status": 503}`, `{"kind": "delay", "ms": 300}`, `{"kind": "hang"}`,
/// `html_error`, `truncated_json`, `accept_then_fail`, `auth`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaultSpec {
    pub kind: String,
    #[serde(default)]
    pub retry_after: Option<u64>,
    #[serde(default)]
    pub status: Option<u16>,
    #[serde(default)]
    pub ms: Option<u64>,
}

impl FaultSpec {
    pub fn to_fault(&self) -> Result<Fault, String> {
        Ok(match self.kind.as_str() {
            "rate_limit" => Fault::RateLimit {
                retry_after: self.retry_after,
            },
            "server_error" => Fault::ServerError(self.status.unwrap_or(500)),
            "html_error" => Fault::HtmlError,
            "truncated_json" => Fault::TruncatedJson,
            "delay" => Fault::Delay(Duration::from_millis(self.ms.unwrap_or(1000))),
            "hang" => Fault::Hang,
            "accept_then_fail" => Fault::AcceptThenFail,
            "auth" => Fault::Auth,
            other => return Err(format!("unknown fault kind {other:?}")),
        })
    }
}

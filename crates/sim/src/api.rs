//! The Twilio REST surface: one fallback handler that parses `/2010-04-01/Accounts/...`,
//! applies revocation, queued faults and auth, then dispatches to the endpoint.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use chrono::NaiveDate;
use serde_json::{Value, json};

use crate::fault::{Fault, Route};
use crate::store::{CallRec, MediaRec, MessageRec, Shared};
use crate::wire::{self, TwilioError};

/// Largest request body read; Twilio's own limit is far lower than any legitimate form here.
const MAX_BODY: usize = 256 * 1024;
const MAX_SMS_CHARS: usize = 1600;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Endpoint {
    Account,
    Calls,
    Call(String),
    Recordings(String),
    Messages,
    Message(String),
    /// `Messages/{Sid}/Media.json`
    MediaList(String),
    /// `Messages/{Sid}/Media/{MediaSid}.json`
    Media(String, String),
    /// `Messages/{Sid}/Media/{MediaSid}`: the content itself.
    MediaContent(String, String),
    Numbers,
}

impl Endpoint {
    /// `(account sid, endpoint)` for a Twilio path, `None` for anything else.
    fn parse(path: &str) -> Option<(String, Endpoint)> {
        let rest = path.strip_prefix("/2010-04-01/Accounts/")?;
        let parts: Vec<&str> = rest.split('/').collect();
        let json_sid = |s: &str| {
            s.strip_suffix(".json")
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        let (account, endpoint) = match parts.as_slice() {
            [ac] => (json_sid(ac)?, Endpoint::Account),
            [ac, "Calls.json"] => (ac.to_string(), Endpoint::Calls),
            [ac, "Calls", sid] => (ac.to_string(), Endpoint::Call(json_sid(sid)?)),
            [ac, "Calls", sid, "Recordings.json"] => {
                (ac.to_string(), Endpoint::Recordings(sid.to_string()))
            }
            [ac, "Messages.json"] => (ac.to_string(), Endpoint::Messages),
            [ac, "Messages", sid] => (ac.to_string(), Endpoint::Message(json_sid(sid)?)),
            [ac, "Messages", sid, "Media.json"] => {
                (ac.to_string(), Endpoint::MediaList(sid.to_string()))
            }
            [ac, "Messages", sid, "Media", me] => match json_sid(me) {
                Some(me) => (ac.to_string(), Endpoint::Media(sid.to_string(), me)),
                None if !me.is_empty() => (
                    ac.to_string(),
                    Endpoint::MediaContent(sid.to_string(), me.to_string()),
                ),
                None => return None,
            },
            [ac, "IncomingPhoneNumbers.json"] => (ac.to_string(), Endpoint::Numbers),
            _ => return None,
        };
        Some((account, endpoint))
    }

    fn route(&self, method: &Method) -> Option<Route> {
        let get = method == Method::GET;
        match self {
            Endpoint::Account if get => Some(Route::Account),
            Endpoint::Calls if get => Some(Route::CallsList),
            Endpoint::Call(_) if get => Some(Route::CallsRead),
            Endpoint::Recordings(_) if get => Some(Route::RecordingsList),
            Endpoint::Messages if get => Some(Route::MessagesList),
            Endpoint::Messages if method == Method::POST => Some(Route::MessagesCreate),
            Endpoint::Message(_) if get => Some(Route::MessagesRead),
            Endpoint::MediaList(_) | Endpoint::Media(..) if get => Some(Route::MediaList),
            Endpoint::MediaContent(..) if get => Some(Route::MediaContent),
            Endpoint::Numbers if get => Some(Route::NumbersList),
            _ => None,
        }
    }
}

pub(crate) async fn twilio(State(shared): State<Arc<Shared>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let path = parts.uri.path().to_owned();
    let query = parts.uri.query().unwrap_or("").to_owned();
    let Some((account, endpoint)) = Endpoint::parse(&path) else {
        return TwilioError::not_found(&path).into_response();
    };
    let Some(route) = endpoint.route(&parts.method) else {
        return TwilioError::new(StatusCode::METHOD_NOT_ALLOWED, 20004, "Method not allowed")
            .into_response();
    };
    if route == Route::MessagesCreate {
        shared.message_requests.fetch_add(1, Ordering::SeqCst);
    }
    shared.count_request(route);
    if shared.lock().switches.revoked {
        return wire::auth_error().into_response();
    }

    let fault = shared.take_fault(route);
    match &fault {
        Some(Fault::RateLimit { retry_after }) => {
            let mut resp =
                TwilioError::new(StatusCode::TOO_MANY_REQUESTS, 20429, "Too Many Requests")
                    .into_response();
            if let Some(secs) = retry_after {
                resp.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(*secs));
            }
            return resp;
        }
        Some(Fault::ServerError(status)) => return server_error(*status).into_response(),
        Some(Fault::HtmlError) => {
            let page = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n\
                        <center><h1>502 Bad Gateway</h1></center>\r\n</body>\r\n</html>\r\n";
            return wire::bytes_response(
                StatusCode::BAD_GATEWAY,
                page.as_bytes().to_vec(),
                "text/html",
            );
        }
        Some(Fault::Auth) => return wire::auth_error().into_response(),
        Some(Fault::Delay(d)) => {
            if !shared.sleep_unless_shutdown(*d).await {
                return server_error(503).into_response();
            }
        }
        Some(Fault::Hang) => {
            let mut rx = shared.shutdown.subscribe();
            // An Err means the sender is gone: the sim is shutting down as well.
            let _ = rx.wait_for(|down| *down).await;
            return server_error(503).into_response();
        }
        Some(Fault::TruncatedJson | Fault::AcceptThenFail) | None => {}
    }

    if !authorized(&shared, &parts.headers) {
        return wire::auth_error().into_response();
    }
    if account != shared.cfg.account_sid {
        return TwilioError::not_found(&path).into_response();
    }

    if let Endpoint::MediaContent(message_sid, sid) = &endpoint {
        return match find_media(&shared, message_sid, sid) {
            Some(m) => wire::media_response(&m),
            None => TwilioError::not_found(&path).into_response(),
        };
    }
    let answer = match endpoint {
        Endpoint::Messages if route == Route::MessagesCreate => {
            create_message(&shared, &parts.headers, body)
                .await
                .map(|v| (StatusCode::CREATED, v))
        }
        _ => read(&shared, &endpoint, &path, &query).map(|v| (StatusCode::OK, v)),
    };
    let (status, body) = match answer {
        Ok((status, value)) => (status, value),
        Err(e) => (e.status, e.body()),
    };
    match fault {
        Some(Fault::AcceptThenFail) if status.is_success() => server_error(500).into_response(),
        Some(Fault::TruncatedJson) => {
            let mut bytes = body.to_string().into_bytes();
            bytes.truncate(bytes.len() / 2);
            wire::bytes_response(StatusCode::OK, bytes, "application/json; charset=utf-8")
        }
        _ => wire::json_response(status, &body),
    }
}

fn find_media(shared: &Shared, message_sid: &str, sid: &str) -> Option<MediaRec> {
    shared
        .lock()
        .media
        .iter()
        .find(|m| m.sid == sid && m.message_sid == message_sid)
        .cloned()
}

fn server_error(status: u16) -> TwilioError {
    let status = StatusCode::from_u16(status)
        .ok()
        .filter(|s| s.is_server_error())
        .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let message = status.canonical_reason().unwrap_or("Internal Server Error");
    TwilioError::new(status, 20000 + u32::from(status.as_u16()), message)
}

/// Basic auth with the account's SID + auth token, or an API key SID + secret.
fn authorized(shared: &Shared, headers: &HeaderMap) -> bool {
    let Some(encoded) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Basic ")
                .or_else(|| v.strip_prefix("basic "))
        })
    else {
        return false;
    };
    let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(encoded.trim()) else {
        return false;
    };
    let Ok(decoded) = String::from_utf8(decoded) else {
        return false;
    };
    let Some((user, password)) = decoded.split_once(':') else {
        return false;
    };
    let cfg = &shared.cfg;
    (user == cfg.account_sid && password == cfg.auth_token)
        || (user.starts_with("SK") && cfg.api_keys.iter().any(|(k, s)| k == user && s == password))
}

fn read(
    shared: &Shared,
    endpoint: &Endpoint,
    path: &str,
    query: &str,
) -> Result<Value, TwilioError> {
    let account = shared.cfg.account_sid.as_str();
    match endpoint {
        Endpoint::Account => Ok(wire::account_json(
            account,
            &shared.cfg.auth_token,
            shared.created,
        )),
        Endpoint::Numbers => {
            let q = ListQuery::parse(query)?;
            let items = shared
                .numbers
                .iter()
                .map(|n| (n.sid.clone(), wire::number_json(account, n)))
                .collect();
            Ok(q.page(items, path, "incoming_phone_numbers"))
        }
        Endpoint::Calls => {
            let q = ListQuery::parse(query)?;
            let filter = CallFilter::parse(&q.filters)?;
            let inner = shared.lock();
            let mut calls: Vec<&CallRec> =
                inner.calls.iter().filter(|c| filter.matches(c)).collect();
            calls.sort_by_key(|c| std::cmp::Reverse((c.created, c.seq)));
            let items = calls
                .into_iter()
                .map(|c| (c.sid.clone(), wire::call_json(account, c)))
                .collect();
            Ok(q.page(items, path, "calls"))
        }
        Endpoint::Call(sid) => {
            let inner = shared.lock();
            inner
                .calls
                .iter()
                .find(|c| &c.sid == sid)
                .map(|c| wire::call_json(account, c))
                .ok_or_else(|| TwilioError::not_found(path))
        }
        Endpoint::Recordings(call_sid) => {
            let q = ListQuery::parse(query)?;
            let inner = shared.lock();
            if !inner.calls.iter().any(|c| &c.sid == call_sid) {
                return Err(TwilioError::not_found(path));
            }
            let mut recs: Vec<_> = inner
                .recordings
                .iter()
                .filter(|r| &r.call_sid == call_sid)
                .collect();
            recs.reverse();
            let items = recs
                .into_iter()
                .map(|r| (r.sid.clone(), wire::recording_json(account, r)))
                .collect();
            Ok(q.page(items, path, "recordings"))
        }
        Endpoint::Messages => {
            let q = ListQuery::parse(query)?;
            let filter = MessageFilter::parse(&q.filters)?;
            let inner = shared.lock();
            let mut msgs: Vec<&MessageRec> = inner
                .messages
                .iter()
                .filter(|m| filter.matches(m))
                .collect();
            msgs.sort_by_key(|m| std::cmp::Reverse((m.created, m.seq)));
            let items = msgs
                .into_iter()
                .map(|m| (m.sid.clone(), wire::message_json(account, m)))
                .collect();
            Ok(q.page(items, path, "messages"))
        }
        Endpoint::Message(sid) => {
            let inner = shared.lock();
            inner
                .messages
                .iter()
                .find(|m| &m.sid == sid)
                .map(|m| wire::message_json(account, m))
                .ok_or_else(|| TwilioError::not_found(path))
        }
        Endpoint::MediaList(message_sid) => {
            let q = ListQuery::parse(query)?;
            let inner = shared.lock();
            if !inner.messages.iter().any(|m| &m.sid == message_sid) {
                return Err(TwilioError::not_found(path));
            }
            let items = inner
                .media
                .iter()
                .filter(|m| &m.message_sid == message_sid)
                .map(|m| (m.sid.clone(), wire::media_json(account, m)))
                .collect();
            Ok(q.page(items, path, "media_list"))
        }
        Endpoint::Media(message_sid, sid) => find_media(shared, message_sid, sid)
            .map(|m| wire::media_json(account, &m))
            .ok_or_else(|| TwilioError::not_found(path)),
        // Answered in `twilio` (bytes, not JSON).
        Endpoint::MediaContent(..) => Err(TwilioError::not_found(path)),
    }
}

async fn create_message(
    shared: &Arc<Shared>,
    headers: &HeaderMap,
    body: Body,
) -> Result<Value, TwilioError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !content_type.is_empty()
        && !content_type
            .to_ascii_lowercase()
            .starts_with("application/x-www-form-urlencoded")
    {
        return Err(TwilioError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            20415,
            "Unsupported Media Type: send application/x-www-form-urlencoded parameters",
        ));
    }
    let bytes = axum::body::to_bytes(body, MAX_BODY).await.map_err(|_| {
        TwilioError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            20413,
            "Request body too large",
        )
    })?;
    let form: Vec<(String, String)> = serde_urlencoded::from_bytes(&bytes).map_err(|_| {
        TwilioError::bad_request(20001, "Could not parse the form-encoded request body")
    })?;
    let field = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    };

    let to = field("To")
        .ok_or_else(|| TwilioError::bad_request(21604, "A 'To' phone number is required."))?;
    let from = field("From")
        .ok_or_else(|| TwilioError::bad_request(21603, "A 'From' phone number is required."))?;
    let text = field("Body")
        .ok_or_else(|| TwilioError::bad_request(21602, "Message body is required."))?;
    if text.chars().count() > MAX_SMS_CHARS {
        return Err(TwilioError::bad_request(
            21617,
            "The concatenated message body exceeds the 1600 character limit.",
        ));
    }
    if !is_e164(to) {
        return Err(TwilioError::bad_request(
            21211,
            format!("The 'To' number {to} is not a valid phone number."),
        ));
    }
    if !shared.owns(from) {
        return Err(TwilioError::bad_request(
            21606,
            format!(
                "The From phone number {from} is not a valid, SMS-capable inbound phone number or short code for your account."
            ),
        ));
    }
    {
        let inner = shared.lock();
        if inner.landlines.contains(to) {
            return Err(TwilioError::bad_request(
                21614,
                format!("'To' number {to} is not a valid mobile number"),
            ));
        }
        if inner.opted_out.contains(&(to.to_owned(), from.to_owned())) {
            return Err(TwilioError::bad_request(
                21610,
                "Attempt to send to unsubscribed recipient",
            ));
        }
    }
    let rec = shared.create_outbound(from, to, text);
    Ok(wire::message_json(&shared.cfg.account_sid, &rec))
}

/// `+` then 8–15 digits, the first not 0: what E.164 allows and Twilio accepts as a `To`.
pub(crate) fn is_e164(s: &str) -> bool {
    s.strip_prefix('+').is_some_and(|digits| {
        (8..=15).contains(&digits.len())
            && digits.bytes().all(|b| b.is_ascii_digit())
            && !digits.starts_with('0')
    })
}

/// A list request's query: filters (kept in the client's order for page URIs) and paging.
#[derive(Debug)]
struct ListQuery {
    filters: Vec<(String, String)>,
    page_size: usize,
    page: usize,
    token: Option<String>,
}

impl ListQuery {
    fn parse(raw: &str) -> Result<Self, TwilioError> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(raw)
            .map_err(|_| TwilioError::bad_request(20001, "Could not parse the query string"))?;
        let mut q = ListQuery {
            filters: Vec::new(),
            page_size: 50,
            page: 0,
            token: None,
        };
        for (key, value) in pairs {
            match key.as_str() {
                "PageSize" => {
                    q.page_size = value
                        .parse::<usize>()
                        .ok()
                        .filter(|n| (1..=1000).contains(n))
                        .ok_or_else(|| {
                            TwilioError::bad_request(
                                20001,
                                format!("PageSize must be between 1 and 1000, got {value:?}"),
                            )
                        })?;
                }
                "Page" => {
                    q.page = value.parse::<usize>().map_err(|_| {
                        TwilioError::bad_request(
                            20001,
                            format!("Page must be a non-negative integer, got {value:?}"),
                        )
                    })?;
                }
                "PageToken" => q.token = Some(value),
                _ => q.filters.push((key, value)),
            }
        }
        Ok(q)
    }

    fn uri(&self, path: &str, page: usize, token: Option<&str>) -> String {
        let mut pairs: Vec<(&str, String)> = self
            .filters
            .iter()
            .map(|(k, v)| (k.as_str(), v.clone()))
            .collect();
        pairs.push(("PageSize", self.page_size.to_string()));
        pairs.push(("Page", page.to_string()));
        if let Some(token) = token {
            pairs.push(("PageToken", token.to_owned()));
        }
        // Serialising (&str, String) pairs cannot fail; fall back to the bare path regardless.
        match serde_urlencoded::to_string(&pairs) {
            Ok(qs) => format!("{path}?{qs}"),
            Err(_) => path.to_owned(),
        }
    }

    /// One page of `items` (already filtered and sorted), as Twilio's list envelope.
    /// `PageToken` `PA<sid>` continues after that item and `PB<sid>` ends before it, so paging
    /// stays stable while new calls arrive at the head of the list.
    fn page(&self, items: Vec<(String, Value)>, path: &str, key: &str) -> Value {
        let position = |sid: &str| items.iter().position(|(s, _)| s == sid);
        let start = match self.token.as_deref() {
            Some(t) if t.starts_with("PA") => position(&t[2..]).map(|i| i + 1),
            Some(t) if t.starts_with("PB") => {
                position(&t[2..]).map(|i| i.saturating_sub(self.page_size))
            }
            _ => None,
        }
        .unwrap_or_else(|| self.page.saturating_mul(self.page_size));
        let start = start.min(items.len());
        let end = start.saturating_add(self.page_size).min(items.len());
        let page_items = &items[start..end];
        let next = (end < items.len())
            .then(|| page_items.last())
            .flatten()
            .map(|(sid, _)| self.uri(path, self.page.saturating_add(1), Some(&format!("PA{sid}"))));
        let previous = (self.page > 0)
            .then(|| page_items.first())
            .flatten()
            .map(|(sid, _)| self.uri(path, self.page - 1, Some(&format!("PB{sid}"))));
        let first_index = self.page.saturating_mul(self.page_size);
        json!({
            "first_page_uri": self.uri(path, 0, None),
            "next_page_uri": next,
            "previous_page_uri": previous,
            "uri": self.uri(path, self.page, self.token.as_deref()),
            "page": self.page,
            "page_size": self.page_size,
            "start": first_index,
            "end": first_index.saturating_add(page_items.len().saturating_sub(1)),
            key: page_items.iter().map(|(_, v)| v.clone()).collect::<Vec<_>>(),
        })
    }
}

/// Day-granular UTC date bounds, from `X`, `X>`/`X>=` (on or after) and `X<`/`X<=` (on or
/// before). `StartTime>=2024-01-02` in a URL parses as key `StartTime>` value `2024-01-02`.
#[derive(Debug, Default)]
struct DateBounds {
    on: Option<NaiveDate>,
    from: Option<NaiveDate>,
    until: Option<NaiveDate>,
}

impl DateBounds {
    fn take(&mut self, name: &str, key: &str, value: &str) -> Result<bool, TwilioError> {
        let Some(op) = key.strip_prefix(name) else {
            return Ok(false);
        };
        let slot = match op {
            "" => &mut self.on,
            ">" | ">=" => &mut self.from,
            "<" | "<=" => &mut self.until,
            _ => return Ok(false),
        };
        *slot = Some(parse_date(value).ok_or_else(|| {
            TwilioError::bad_request(
                20001,
                format!("{key} must be a date in the form YYYY-MM-DD, got {value:?}"),
            )
        })?);
        Ok(true)
    }

    fn is_empty(&self) -> bool {
        self.on.is_none() && self.from.is_none() && self.until.is_none()
    }

    fn contains(&self, t: Option<chrono::DateTime<chrono::Utc>>) -> bool {
        if self.is_empty() {
            return true;
        }
        let Some(day) = t.map(|t| t.date_naive()) else {
            return false;
        };
        self.on.is_none_or(|d| day == d)
            && self.from.is_none_or(|d| day >= d)
            && self.until.is_none_or(|d| day <= d)
    }
}

fn parse_date(value: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(value, "%Y-%m-%d")
        .ok()
        .or_else(|| {
            chrono::DateTime::parse_from_rfc3339(value)
                .ok()
                .map(|t| t.naive_utc().date())
        })
}

#[derive(Debug, Default)]
struct CallFilter {
    to: Option<String>,
    from: Option<String>,
    parent: Option<String>,
    status: Option<String>,
    start: DateBounds,
    end: DateBounds,
}

impl CallFilter {
    fn parse(filters: &[(String, String)]) -> Result<Self, TwilioError> {
        let mut f = CallFilter::default();
        for (key, value) in filters {
            match key.as_str() {
                "To" => f.to = Some(value.clone()),
                "From" => f.from = Some(value.clone()),
                "ParentCallSid" => f.parent = Some(value.clone()),
                "Status" => f.status = Some(value.clone()),
                _ => {
                    // Unknown parameters are ignored, as Twilio does.
                    let _ = f.start.take("StartTime", key, value)?
                        || f.end.take("EndTime", key, value)?;
                }
            }
        }
        Ok(f)
    }

    fn matches(&self, c: &CallRec) -> bool {
        self.to.as_ref().is_none_or(|v| *v == c.to)
            && self.from.as_ref().is_none_or(|v| *v == c.from)
            && self
                .parent
                .as_ref()
                .is_none_or(|v| Some(v) == c.parent_sid.as_ref())
            && self.status.as_ref().is_none_or(|v| v == c.status)
            && self.start.contains(c.start_time)
            && self.end.contains(c.end_time)
    }
}

#[derive(Debug, Default)]
struct MessageFilter {
    to: Option<String>,
    from: Option<String>,
    sent: DateBounds,
}

impl MessageFilter {
    fn parse(filters: &[(String, String)]) -> Result<Self, TwilioError> {
        let mut f = MessageFilter::default();
        for (key, value) in filters {
            match key.as_str() {
                "To" => f.to = Some(value.clone()),
                "From" => f.from = Some(value.clone()),
                _ => {
                    f.sent.take("DateSent", key, value)?;
                }
            }
        }
        Ok(f)
    }

    fn matches(&self, m: &MessageRec) -> bool {
        self.to.as_ref().is_none_or(|v| *v == m.to)
            && self.from.as_ref().is_none_or(|v| *v == m.from)
            && self.sent.contains(m.date_sent)
    }
}

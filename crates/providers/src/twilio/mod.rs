//! Twilio REST API 2010-04-01: polling the Calls and Messages lists, sending SMS, listing and
//! downloading MMS media.
//!
//! Requests go to `{base}/2010-04-01/Accounts/{AccountSid}/…` with HTTP Basic auth
//! (Account SID + Auth Token, or API Key SID + secret; the path always carries the
//! Account SID). Lists are followed through their relative `next_page_uri`, which is only
//! ever appended to the configured base, and stop with an error after `max_pages`.
//!
//! Media content lives at the Media resource's `uri` without `.json`; Twilio answers it with a
//! redirect to short-lived signed storage. Only that first request carries credentials: the
//! redirect is followed by hand, without them, over HTTPS only.

mod errors;
mod url;
mod wire;

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use chrono::NaiveDate;
use reqwest::header::{CONTENT_TYPE, LOCATION, RETRY_AFTER};
use reqwest::{RequestBuilder, Response};
use textback_domain::{PhoneNumber, ProviderCallId, ProviderMessageId};

use self::errors::{Action, TransportFailure};
use self::url::BaseUrl;
use self::wire::Page;
use crate::{
    AccountInfo, CallRecord, MediaContent, MediaRecord, MessageDirection, MessageRecord,
    OwnedNumber, Provider, ProviderError, Secret,
};

/// Twilio's production API origin.
pub const DEFAULT_BASE_URL: &str = "https://api.twilio.com";

/// The most list pages followed for one query before giving up (100 items a page).
pub const DEFAULT_MAX_PAGES: usize = 200;

/// The largest attachment downloaded (Twilio caps an MMS at 5 MB in total).
pub const DEFAULT_MAX_MEDIA_BYTES: usize = 5 * 1024 * 1024;

/// Redirects followed for one attachment (Twilio uses one, to its storage).
const MAX_MEDIA_REDIRECTS: usize = 3;

/// Items asked for per list page (Twilio allows 1–1000, default 50).
const PAGE_SIZE: &str = "100";

/// How the adapter signs in. Both forms address the account by its Account SID.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TwilioAuth {
    /// Account SID + Auth Token (full access; Twilio recommends it for local testing).
    AuthToken {
        account_sid: String,
        auth_token: Secret,
    },
    /// API Key SID (`SK…`) + secret: revocable, recommended for production.
    ApiKey {
        account_sid: String,
        key_sid: String,
        key_secret: Secret,
    },
}

impl TwilioAuth {
    pub fn account_sid(&self) -> &str {
        match self {
            Self::AuthToken { account_sid, .. } | Self::ApiKey { account_sid, .. } => account_sid,
        }
    }

    fn username(&self) -> &str {
        match self {
            Self::AuthToken { account_sid, .. } => account_sid,
            Self::ApiKey { key_sid, .. } => key_sid,
        }
    }

    fn password(&self) -> &Secret {
        match self {
            Self::AuthToken { auth_token, .. } => auth_token,
            Self::ApiKey { key_secret, .. } => key_secret,
        }
    }

    fn validate(&self) -> Result<(), ProviderError> {
        let config = |message: String| Err(ProviderError::Config { message });
        let sid = self.account_sid();
        // The SID goes into every URL path, so it must be plain: no '/', '?', '%'.
        if !(sid.starts_with("AC") && (3..=64).contains(&sid.len()) && is_plain_id(sid)) {
            return config(format!(
                "the Account SID must look like AC followed by letters and digits, got {sid:?}"
            ));
        }
        if let Self::ApiKey { key_sid, .. } = self
            && !(key_sid.len() <= 64 && is_plain_id(key_sid))
        {
            return config(format!(
                "the API Key SID must be letters and digits (SK…), got {key_sid:?}"
            ));
        }
        if self.password().is_empty() {
            return config("the auth token / API key secret is empty".to_owned());
        }
        Ok(())
    }
}

fn is_plain_id(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// The Twilio adapter. Cheap to clone (the HTTP connection pool is shared).
#[derive(Debug, Clone)]
pub struct TwilioClient {
    http: reqwest::Client,
    base: BaseUrl,
    auth: TwilioAuth,
    /// `/2010-04-01/Accounts/{AccountSid}`
    account_path: String,
    max_body_bytes: usize,
    max_media_bytes: usize,
    max_pages: usize,
}

impl TwilioClient {
    /// `base_url` is [`DEFAULT_BASE_URL`] in production; plain `http://` is accepted only
    /// for loopback hosts (a simulator). `timeout` bounds each whole request, body included.
    pub fn new(base_url: &str, auth: TwilioAuth, timeout: Duration) -> Result<Self, ProviderError> {
        let base = BaseUrl::parse(base_url)?;
        auth.validate()?;
        if timeout.is_zero() {
            return Err(ProviderError::Config {
                message: "the request timeout must be more than zero".to_owned(),
            });
        }
        // NOTE: connecting gets at most half the budget so a slow connect fails as a
        // connect error (nothing sent: a send is safe to retry) rather than as an overall
        // timeout, which on a send would have to be treated as "maybe delivered".
        let connect_timeout = (timeout / 2).min(Duration::from_secs(10));
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(connect_timeout)
            // A redirect could carry the Authorization header to another host.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("textback/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ProviderError::Config {
                message: format!("could not set up the HTTP client: {e}"),
            })?;
        let account_path = format!("/2010-04-01/Accounts/{}", auth.account_sid());
        Ok(Self {
            http,
            base,
            auth,
            account_path,
            max_body_bytes: errors::MAX_BODY_BYTES,
            max_media_bytes: DEFAULT_MAX_MEDIA_BYTES,
            max_pages: DEFAULT_MAX_PAGES,
        })
    }

    /// Caps how much of one answer is read (default 16 MiB); larger answers are errors.
    pub fn with_max_body_bytes(mut self, max: usize) -> Self {
        self.max_body_bytes = max;
        self
    }

    /// Caps how large one downloaded attachment may be (default [`DEFAULT_MAX_MEDIA_BYTES`]).
    pub fn with_max_media_bytes(mut self, max: usize) -> Self {
        self.max_media_bytes = max;
        self
    }

    /// Caps how many pages one list query follows (default [`DEFAULT_MAX_PAGES`]).
    pub fn with_max_pages(mut self, max: usize) -> Self {
        self.max_pages = max.max(1);
        self
    }

    pub fn account_sid(&self) -> &str {
        self.auth.account_sid()
    }

    pub fn base_url(&self) -> &str {
        self.base.as_str()
    }

    fn resource_path(&self, resource: &str) -> String {
        format!("{}/{resource}", self.account_path)
    }

    /// Sends a request and returns the body of a 2xx answer; everything else is mapped to
    /// a [`ProviderError`] by `action`.
    async fn execute(
        &self,
        action: Action,
        what: &str,
        request: RequestBuilder,
    ) -> Result<Vec<u8>, ProviderError> {
        let request = request.basic_auth(self.auth.username(), Some(self.auth.password().expose()));
        tracing::debug!(request = what, "calling Twilio");
        let response = request
            .send()
            .await
            .map_err(|e| errors::from_transport(action, transport_failure(e), what))?;
        let status = response.status();
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = read_capped(response, self.max_body_bytes).await;
        if status.is_success() {
            return match body {
                Ok(body) => Ok(body),
                Err(BodyError::TooLarge) => {
                    Err(errors::too_large(action, what, self.max_body_bytes))
                }
                Err(BodyError::Transport(failure)) => {
                    Err(errors::from_transport(action, failure, what))
                }
            };
        }
        // The status alone classifies a failure; a body we could not read only loses detail.
        let body = body.unwrap_or_default();
        let error =
            errors::from_status(action, status.as_u16(), retry_after.as_deref(), &body, what);
        tracing::debug!(request = what, status = status.as_u16(), %error, "Twilio refused");
        Err(error)
    }

    /// GETs an attachment: the first request (to our own origin) with credentials, any
    /// redirect after it without them. Returns the final 2xx answer.
    async fn media_response(&self, url: String, what: &str) -> Result<Response, ProviderError> {
        let send = |request: RequestBuilder| async move {
            request
                .send()
                .await
                .map_err(|e| errors::from_transport(Action::Read, transport_failure(e), what))
        };
        let first = self
            .http
            .get(&url)
            .basic_auth(self.auth.username(), Some(self.auth.password().expose()));
        tracing::debug!(request = what, "calling Twilio");
        let mut response = send(first).await?;
        let mut current = url;
        for _ in 0..MAX_MEDIA_REDIRECTS {
            if !response.status().is_redirection() {
                break;
            }
            let location = response
                .headers()
                .get(LOCATION)
                .and_then(|v| v.to_str().ok())
                .ok_or_else(|| ProviderError::Malformed {
                    message: format!("{what}: a redirect without a usable Location"),
                })?;
            let next = url::redirect_target(&current, location)?;
            // NOTE: never with credentials: the storage URL is signed on its own, and whoever
            // answers it must not learn the auth token.
            tracing::debug!(
                request = what,
                host = next.host_str(),
                "following the media redirect"
            );
            current = next.to_string();
            response = send(self.http.get(next)).await?;
        }
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        if status.is_redirection() {
            return Err(ProviderError::Malformed {
                message: format!("{what}: more than {MAX_MEDIA_REDIRECTS} redirects"),
            });
        }
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = read_capped(response, 64 * 1024).await.unwrap_or_default();
        Err(errors::from_status(
            Action::Read,
            status.as_u16(),
            retry_after.as_deref(),
            &body,
            what,
        ))
    }

    async fn get_object<T>(
        &self,
        resource: &str,
        what: &str,
        parse: fn(&serde_json::Map<String, serde_json::Value>) -> Result<T, String>,
    ) -> Result<T, ProviderError> {
        let url = self.base.join(&self.resource_path(resource));
        let label = format!("GET {resource}");
        let body = self
            .execute(Action::Read, &label, self.http.get(url))
            .await?;
        wire::parse_object(&body, what, parse)
    }

    /// Every item of a list, all pages, deduplicated by `key` (a later copy of an item
    /// replaces the earlier one in place: items shift between pages while new ones arrive,
    /// and the later copy is the fresher).
    async fn list_all<T>(
        &self,
        resource: &str,
        items_key: &str,
        query: &[(&str, &str)],
        parse: fn(&serde_json::Map<String, serde_json::Value>) -> Result<T, String>,
        key: fn(&T) -> &str,
    ) -> Result<Vec<T>, ProviderError> {
        let path = self.resource_path(resource);
        let label = format!("GET {resource}");
        let mut items: Vec<T> = Vec::new();
        let mut index: HashMap<String, usize> = HashMap::new();
        let mut visited: HashSet<String> = HashSet::new();
        let mut skipped = 0;
        let mut request = self.http.get(self.base.join(&path)).query(query);
        let mut pages = 0;
        loop {
            let body = self.execute(Action::Read, &label, request).await?;
            let Page {
                items: page_items,
                skipped: page_skipped,
                next_page_uri,
            } = wire::parse_page(&body, items_key, parse)?;
            pages += 1;
            skipped += page_skipped;
            for item in page_items {
                let id = key(&item).to_owned();
                match index.get(&id) {
                    Some(&at) => items[at] = item,
                    None => {
                        index.insert(id, items.len());
                        items.push(item);
                    }
                }
            }
            let Some(next) = next_page_uri else { break };
            if pages >= self.max_pages {
                return Err(ProviderError::Malformed {
                    message: format!(
                        "{label}: still more pages after {pages} pages ({} items); \
                         giving up rather than paging forever — try a shorter date range",
                        items.len()
                    ),
                });
            }
            let next_url = self.base.next_page(&next, &path)?;
            if !visited.insert(next_url.clone()) {
                return Err(ProviderError::Malformed {
                    message: format!("{label}: next_page_uri points back to a page already read"),
                });
            }
            request = self.http.get(next_url);
        }
        if skipped > 0 {
            tracing::warn!(request = %label, skipped, kept = items.len(), "some list items were unusable and skipped");
        }
        Ok(items)
    }

    /// Calls with `number` as their `To` or `From` (`field`) that started on `since` or later.
    async fn list_calls_since(
        &self,
        field: &str,
        number: &PhoneNumber,
        since: NaiveDate,
    ) -> Result<Vec<CallRecord>, ProviderError> {
        let since = day(since);
        self.list_calls(&[
            (field, number.as_str()),
            ("StartTime>=", &since),
            ("PageSize", PAGE_SIZE),
        ])
        .await
    }

    async fn list_calls(&self, query: &[(&str, &str)]) -> Result<Vec<CallRecord>, ProviderError> {
        self.list_all("Calls.json", "calls", query, wire::parse_call, |c| {
            c.sid.as_str()
        })
        .await
    }

    async fn list_messages_query(
        &self,
        query: &[(&str, &str)],
    ) -> Result<Vec<MessageRecord>, ProviderError> {
        self.list_all(
            "Messages.json",
            "messages",
            query,
            wire::parse_message,
            |m| m.sid.as_str(),
        )
        .await
    }
}

/// Keep the first copy of each message (by sid) across two queries, in order.
fn merge_messages(a: Vec<MessageRecord>, b: Vec<MessageRecord>) -> Vec<MessageRecord> {
    let mut seen = HashSet::new();
    a.into_iter()
        .chain(b)
        .filter(|m| seen.insert(m.sid.as_str().to_owned()))
        .collect()
}

fn day(date: NaiveDate) -> String {
    date.format("%Y-%m-%d").to_string()
}

enum BodyError {
    TooLarge,
    Transport(TransportFailure),
}

async fn read_capped(mut response: Response, cap: usize) -> Result<Vec<u8>, BodyError> {
    if response
        .content_length()
        .is_some_and(|len| len > cap as u64)
    {
        return Err(BodyError::TooLarge);
    }
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| BodyError::Transport(transport_failure(e)))?
    {
        if body.len() + chunk.len() > cap {
            return Err(BodyError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Sorts a reqwest failure by whether the request can have reached Twilio.
fn transport_failure(error: reqwest::Error) -> TransportFailure {
    // The URL carries phone numbers in its query; error texts end up in logs.
    let error = error.without_url();
    let detail = crate::text::error_chain(&error);
    if error.is_connect() || error.is_builder() {
        TransportFailure::NotSent(detail)
    } else if error.is_timeout() {
        TransportFailure::TimedOut(detail)
    } else {
        TransportFailure::Interrupted(detail)
    }
}

impl Provider for TwilioClient {
    fn name(&self) -> &'static str {
        "twilio"
    }

    async fn check_credentials(&self) -> Result<AccountInfo, ProviderError> {
        let url = self.base.join(&format!("{}.json", self.account_path));
        let body = self
            .execute(
                Action::Read,
                "GET Accounts/{AccountSid}.json",
                self.http.get(url),
            )
            .await?;
        wire::parse_object(&body, "account", wire::parse_account)
    }

    async fn list_numbers(&self) -> Result<Vec<OwnedNumber>, ProviderError> {
        self.list_all(
            "IncomingPhoneNumbers.json",
            "incoming_phone_numbers",
            &[("PageSize", PAGE_SIZE)],
            wire::parse_number,
            |n| n.sid.as_str(),
        )
        .await
    }

    async fn list_calls_to(
        &self,
        number: &PhoneNumber,
        since: NaiveDate,
    ) -> Result<Vec<CallRecord>, ProviderError> {
        self.list_calls_since("To", number, since).await
    }

    async fn list_calls_from(
        &self,
        number: &PhoneNumber,
        since: NaiveDate,
    ) -> Result<Vec<CallRecord>, ProviderError> {
        self.list_calls_since("From", number, since).await
    }

    async fn list_child_legs(
        &self,
        parent: &ProviderCallId,
    ) -> Result<Vec<CallRecord>, ProviderError> {
        let children = self
            .list_calls(&[("ParentCallSid", parent.as_str()), ("PageSize", PAGE_SIZE)])
            .await?;
        // Guard against a server that ignores the filter: only this parent's legs.
        Ok(children
            .into_iter()
            .filter(|c| c.parent_sid.as_ref() == Some(parent))
            .collect())
    }

    async fn has_recording(&self, call: &ProviderCallId) -> Result<bool, ProviderError> {
        let resource = format!("Calls/{}/Recordings.json", call.as_str());
        let url = self.base.join(&self.resource_path(&resource));
        let request = self.http.get(url).query(&[("PageSize", "20")]);
        let body = self
            .execute(Action::Read, "GET Calls/{CallSid}/Recordings.json", request)
            .await?;
        let page = wire::parse_page(&body, "recordings", |_| Ok(()))?;
        // Any entry counts, even one we could not parse: a voicemail is worth a look.
        Ok(page.items.len() + page.skipped > 0)
    }

    async fn list_messages(
        &self,
        number: &PhoneNumber,
        since: NaiveDate,
    ) -> Result<Vec<MessageRecord>, ProviderError> {
        let since = day(since);
        let inbound = self
            .list_messages_query(&[
                ("To", number.as_str()),
                ("DateSent>=", &since),
                ("PageSize", PAGE_SIZE),
            ])
            .await?;
        let outbound = self
            .list_messages_query(&[
                ("From", number.as_str()),
                ("DateSent>=", &since),
                ("PageSize", PAGE_SIZE),
            ])
            .await?;
        Ok(merge_messages(inbound, outbound))
    }

    async fn list_messages_between(
        &self,
        from: &PhoneNumber,
        to: &PhoneNumber,
        since: NaiveDate,
    ) -> Result<Vec<MessageRecord>, ProviderError> {
        // NOTE: no `DateSent>=` filter here: a message Twilio has only queued may have no
        // `date_sent` yet, and this check exists to find exactly such a just-sent message. One
        // sender→caller pair has few messages, so the date is filtered here on `date_created`.
        let messages = self
            .list_messages_query(&[
                ("From", from.as_str()),
                ("To", to.as_str()),
                ("PageSize", PAGE_SIZE),
            ])
            .await?;
        Ok(messages
            .into_iter()
            .filter(|m| m.direction != MessageDirection::Inbound)
            .filter(|m| {
                m.date_created
                    .or(m.date_sent)
                    .is_none_or(|t| t.date_naive() >= since)
            })
            .collect())
    }

    async fn send_message(
        &self,
        from: &PhoneNumber,
        to: &PhoneNumber,
        body: &str,
    ) -> Result<MessageRecord, ProviderError> {
        let url = self.base.join(&self.resource_path("Messages.json"));
        let request = self.http.post(url).form(&[
            ("From", from.as_str()),
            ("To", to.as_str()),
            ("Body", body),
        ]);
        let answer = self
            .execute(Action::Send, "POST Messages.json", request)
            .await?;
        let message = wire::parse_object(&answer, "created message", wire::parse_message)
            .map_err(|e| errors::unreadable_success(Action::Send, e))?;
        tracing::info!(sid = %message.sid, status = message.status.as_wire(), "message accepted by Twilio");
        Ok(message)
    }

    async fn get_message(&self, sid: &ProviderMessageId) -> Result<MessageRecord, ProviderError> {
        self.get_object(
            &format!("Messages/{}.json", sid.as_str()),
            "message",
            wire::parse_message,
        )
        .await
    }

    async fn list_media(
        &self,
        message: &ProviderMessageId,
    ) -> Result<Vec<MediaRecord>, ProviderError> {
        let media = self
            .list_all(
                &format!("Messages/{}/Media.json", message.as_str()),
                "media_list",
                &[("PageSize", PAGE_SIZE)],
                wire::parse_media,
                |m| m.sid.as_str(),
            )
            .await?;
        // Guard against a server that lists other messages' media (or hostile uris): only
        // items whose uri is this message's own media resource are kept.
        let own = |m: &MediaRecord| {
            m.uri
                == self.resource_path(&format!(
                    "Messages/{}/Media/{}.json",
                    message.as_str(),
                    m.sid.as_str()
                ))
        };
        let (kept, dropped): (Vec<_>, Vec<_>) = media.into_iter().partition(own);
        if !dropped.is_empty() {
            tracing::warn!(
                dropped = dropped.len(),
                "media items whose uri is not the message's own were dropped"
            );
        }
        Ok(kept)
    }

    async fn fetch_media(&self, media: &MediaRecord) -> Result<MediaContent, ProviderError> {
        let what = "GET Messages/{MessageSid}/Media/{Sid}";
        let url = self
            .base
            .media_content(&media.uri, &self.account_path, media.sid.as_str())?;
        let response = self.media_response(url, what).await?;
        let stated = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(wire::normalize_content_type)
            .filter(|t| !t.is_empty() && t != "application/octet-stream");
        let bytes = match read_capped(response, self.max_media_bytes).await {
            Ok(bytes) => bytes,
            Err(BodyError::TooLarge) => {
                return Err(ProviderError::MediaTooLarge {
                    limit_bytes: self.max_media_bytes,
                });
            }
            Err(BodyError::Transport(failure)) => {
                return Err(errors::from_transport(Action::Read, failure, what));
            }
        };
        Ok(MediaContent {
            // Storage often answers a generic type; the Media resource's own type is better.
            content_type: stated.unwrap_or_else(|| media.content_type.clone()),
            bytes,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(sid: &str) -> TwilioAuth {
        TwilioAuth::AuthToken {
            account_sid: sid.to_owned(),
            auth_token: Secret::new("token"),
        }
    }

    #[test]
    fn account_sids_that_could_bend_the_url_are_refused() {
        for bad in ["", "AC", "AC/../x", "AC123?x=1", "ACé", "XX0123", "AC 1"] {
            let result =
                TwilioClient::new("https://api.twilio.com", token(bad), Duration::from_secs(5));
            assert!(
                matches!(result, Err(ProviderError::Config { .. })),
                "account sid {bad:?} must be refused up front"
            );
        }
        let ok = TwilioClient::new(
            "https://api.twilio.com",
            token("AC0123456789abcdef0123456789abcdef"),
            Duration::from_secs(5),
        );
        assert!(ok.is_ok(), "a real-looking sid is accepted: {ok:?}");
    }

    #[test]
    fn empty_secrets_and_zero_timeouts_are_config_errors() {
        let auth = TwilioAuth::ApiKey {
            account_sid: "AC0123".into(),
            key_sid: "SK0123".into(),
            key_secret: Secret::new(""),
        };
        assert!(
            matches!(
                TwilioClient::new("https://api.twilio.com", auth, Duration::from_secs(5)),
                Err(ProviderError::Config { .. })
            ),
            "an empty secret can never authenticate"
        );
        assert!(
            matches!(
                TwilioClient::new("https://api.twilio.com", token("AC0123"), Duration::ZERO),
                Err(ProviderError::Config { .. })
            ),
            "a zero timeout would fail every request"
        );
    }

    #[test]
    fn debug_output_hides_credentials() {
        let client = TwilioClient::new(
            "https://api.twilio.com",
            TwilioAuth::ApiKey {
                account_sid: "AC0123".into(),
                key_sid: "SK0123".into(),
                key_secret: Secret::new("very-secret-value"),
            },
            Duration::from_secs(5),
        )
        .expect("valid config");
        let shown = format!("{client:?}");
        assert!(
            !shown.contains("very-secret-value"),
            "Debug must not leak the secret: {shown}"
        );
    }
}

//! Twilio answers and transport failures → [`ProviderError`], as pure functions so every
//! branch is unit-tested. Reads and the message-creating POST differ on one point: a read
//! can always be repeated, a send that may have reached Twilio must never be repeated
//! blind.

use std::time::Duration;

use serde_json::Value;

use crate::ProviderError;

/// Whether the request creates something (a message) or only reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    Read,
    Send,
}

/// How a request failed below HTTP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TransportFailure {
    /// Connect refused, DNS, TLS handshake: the request never left this machine.
    NotSent(String),
    /// The deadline passed after the request may have been sent.
    TimedOut(String),
    /// The connection broke while sending or reading the answer.
    Interrupted(String),
}

/// The largest answer read into memory; a list page of 1,000 calls is about 2 MiB.
pub(crate) const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

/// Twilio error codes with a fixed meaning for the engine (PROVIDERS.md §1.5).
const AUTH_CODES: [u32; 1] = [20003];
const RATE_LIMIT_CODES: [u32; 1] = [20429];
const ACCOUNT_BLOCKED_CODES: [u32; 3] = [21606, 21608, 21408];
const PERMANENT_CODES: [u32; 6] = [21211, 21614, 21635, 21610, 21612, 21617];

/// Twilio's error body: `{"code": 21211, "message": "…", "more_info": "…", "status": 400}`.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct TwilioErrorBody {
    pub code: Option<u32>,
    pub message: Option<String>,
}

impl TwilioErrorBody {
    pub(crate) fn parse(body: &[u8]) -> Option<Self> {
        let value: Value = serde_json::from_slice(body).ok()?;
        let obj = value.as_object()?;
        let code = match obj.get("code")? {
            Value::Number(n) => n.as_u64().and_then(|c| u32::try_from(c).ok()),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        };
        let message = obj
            .get("message")
            .and_then(Value::as_str)
            .filter(|m| !m.is_empty())
            .map(str::to_owned);
        Some(Self { code, message })
    }
}

/// A non-2xx answer. `what` names the request for people ("GET Calls.json").
pub(crate) fn from_status(
    action: Action,
    status: u16,
    retry_after: Option<&str>,
    body: &[u8],
    what: &str,
) -> ProviderError {
    let twilio = TwilioErrorBody::parse(body);
    let code = twilio.as_ref().and_then(|t| t.code);
    let detail = match twilio.as_ref().and_then(|t| t.message.clone()) {
        Some(message) => message,
        None => excerpt(body),
    };
    let message = match code {
        Some(code) => format!("{what} answered HTTP {status}, error {code}: {detail}"),
        None => format!("{what} answered HTTP {status}: {detail}"),
    };

    if let Some(code) = code {
        if AUTH_CODES.contains(&code) {
            return ProviderError::Auth { message };
        }
        if RATE_LIMIT_CODES.contains(&code) {
            return ProviderError::RateLimited {
                retry_after: parse_retry_after(retry_after),
            };
        }
        if ACCOUNT_BLOCKED_CODES.contains(&code) {
            return ProviderError::AccountBlocked { code, message };
        }
        if PERMANENT_CODES.contains(&code) {
            return ProviderError::Permanent { code, message };
        }
    }

    match (status, action) {
        (401 | 403, _) => ProviderError::Auth { message },
        (429, _) => ProviderError::RateLimited {
            retry_after: parse_retry_after(retry_after),
        },
        // A failed send answer does not prove the message was not created.
        (500..=599, Action::Send) => ProviderError::OutcomeUnknown { message },
        (500..=599, Action::Read) => ProviderError::Transient { message },
        // We do not follow redirects (they could carry credentials elsewhere).
        (300..=399, Action::Send) => ProviderError::OutcomeUnknown { message },
        (300..=399, Action::Read) => ProviderError::Malformed { message },
        (400..=499, Action::Send) => ProviderError::Permanent {
            code: code.unwrap_or(u32::from(status)),
            message,
        },
        (404, Action::Read) => ProviderError::Permanent {
            code: code.unwrap_or(20404),
            message,
        },
        (408 | 409 | 423 | 425, Action::Read) => ProviderError::Transient { message },
        // Twilio refused a request we built: a bug or an API change, not the user's fault.
        (_, Action::Read) => ProviderError::Malformed { message },
        (_, Action::Send) => ProviderError::OutcomeUnknown { message },
    }
}

pub(crate) fn from_transport(
    action: Action,
    failure: TransportFailure,
    what: &str,
) -> ProviderError {
    match (failure, action) {
        (TransportFailure::NotSent(e), _) => ProviderError::Transient {
            message: format!("{what}: could not reach the provider ({e})"),
        },
        (TransportFailure::TimedOut(e), Action::Read) => ProviderError::Transient {
            message: format!("{what}: timed out ({e})"),
        },
        (TransportFailure::Interrupted(e), Action::Read) => ProviderError::Transient {
            message: format!("{what}: connection broke ({e})"),
        },
        (TransportFailure::TimedOut(e), Action::Send) => ProviderError::OutcomeUnknown {
            message: format!("{what}: timed out after sending ({e})"),
        },
        (TransportFailure::Interrupted(e), Action::Send) => ProviderError::OutcomeUnknown {
            message: format!("{what}: connection broke after sending ({e})"),
        },
    }
}

/// A 2xx answer whose body could not be read or understood.
pub(crate) fn unreadable_success(action: Action, error: ProviderError) -> ProviderError {
    match action {
        Action::Read => error,
        // The provider said yes but we cannot tell to what: the message may exist.
        Action::Send => ProviderError::OutcomeUnknown {
            message: error.to_string(),
        },
    }
}

/// A body over [`MAX_BODY_BYTES`] (or the configured cap).
pub(crate) fn too_large(action: Action, what: &str, cap: usize) -> ProviderError {
    let message = format!("{what}: the answer is larger than {cap} bytes; not reading it");
    match action {
        Action::Read => ProviderError::Malformed { message },
        Action::Send => ProviderError::OutcomeUnknown { message },
    }
}

/// The longest wait a `Retry-After` may ask for; a longer one waits this long.
pub(crate) const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 3600);

/// `Retry-After` in seconds, at most [`MAX_RETRY_AFTER`]. The HTTP-date form is ignored
/// (Twilio sends seconds) and the caller falls back to its own backoff.
pub(crate) fn parse_retry_after(raw: Option<&str>) -> Option<Duration> {
    // NOTE: the cap is what keeps `now + retry_after` from overflowing: a hostile or broken
    // answer's "Retry-After: 10000000000000" panicked the engine's sender.
    let secs = raw?.trim().parse::<u64>().ok()?;
    Some(Duration::from_secs(secs).min(MAX_RETRY_AFTER))
}

/// A short, single-line, printable start of a body for error messages (HTML error pages).
pub(crate) fn excerpt(body: &[u8]) -> String {
    const MAX_CHARS: usize = 120;
    let text = String::from_utf8_lossy(&body[..body.len().min(4 * MAX_CHARS)]);
    let mut out = String::new();
    let mut last_space = true;
    for c in text.chars() {
        let c = if c.is_whitespace() || c.is_control() {
            ' '
        } else {
            c
        };
        if c == ' ' && last_space {
            continue;
        }
        last_space = c == ' ';
        out.push(c);
        if out.chars().count() >= MAX_CHARS {
            out.push('…');
            break;
        }
    }
    let out = out.trim().to_owned();
    if out.is_empty() {
        "(empty body)".to_owned()
    } else {
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn twilio_body(code: u32, status: u16) -> Vec<u8> {
        format!(
            r#"{{"code": {code}, "message": "msg for {code}", "more_info": "https://www.twilio.com/docs/errors/{code}", "status": {status}}}"#
        )
        .into_bytes()
    }

    #[test]
    fn auth_failures() {
        let e = from_status(Action::Read, 401, None, &twilio_body(20003, 401), "GET x");
        assert!(
            matches!(e, ProviderError::Auth { .. }),
            "401/20003 is Auth: {e:?}"
        );
        assert!(
            e.to_string().contains("msg for 20003"),
            "Twilio's message is kept: {e}"
        );
        let bare = from_status(Action::Send, 401, None, b"", "POST x");
        assert!(
            matches!(bare, ProviderError::Auth { .. }),
            "401 without body is Auth"
        );
        let code_only = from_status(Action::Read, 400, None, &twilio_body(20003, 400), "GET x");
        assert!(
            matches!(code_only, ProviderError::Auth { .. }),
            "20003 is Auth whatever the status"
        );
    }

    #[test]
    fn rate_limits_with_and_without_retry_after() {
        let e = from_status(
            Action::Send,
            429,
            Some("7"),
            &twilio_body(20429, 429),
            "POST x",
        );
        assert_eq!(
            e,
            ProviderError::RateLimited {
                retry_after: Some(Duration::from_secs(7))
            },
            "429 with Retry-After keeps the wait, even on a send (never processed)"
        );
        let e = from_status(Action::Read, 429, None, b"", "GET x");
        assert_eq!(
            e,
            ProviderError::RateLimited { retry_after: None },
            "bare 429"
        );
        let e = from_status(
            Action::Read,
            429,
            Some("Wed, 21 Oct 2015 07:28:00 GMT"),
            b"",
            "GET x",
        );
        assert_eq!(
            e,
            ProviderError::RateLimited { retry_after: None },
            "an HTTP-date Retry-After falls back to our backoff"
        );
    }

    #[test]
    fn account_blocking_codes() {
        for code in [21606, 21608, 21408] {
            let e = from_status(Action::Send, 400, None, &twilio_body(code, 400), "POST x");
            assert_eq!(e.code(), Some(code), "the code is kept");
            assert!(
                matches!(e, ProviderError::AccountBlocked { .. }),
                "{code} means this account/number cannot send: {e:?}"
            );
        }
    }

    #[test]
    fn per_message_permanent_codes() {
        for code in [21211, 21614, 21635, 21610, 21612, 21617] {
            let e = from_status(Action::Send, 400, None, &twilio_body(code, 400), "POST x");
            assert!(
                matches!(e, ProviderError::Permanent { code: c, .. } if c == code),
                "{code} is permanent for this message: {e:?}"
            );
            assert_eq!(e.is_opt_out(), code == 21610, "only 21610 is an opt-out");
        }
    }

    #[test]
    fn server_errors_depend_on_the_action() {
        let read = from_status(Action::Read, 503, None, b"", "GET x");
        assert!(
            matches!(read, ProviderError::Transient { .. }),
            "5xx on a read retries: {read:?}"
        );
        let send = from_status(Action::Send, 500, None, &twilio_body(20500, 500), "POST x");
        assert!(
            matches!(send, ProviderError::OutcomeUnknown { .. }),
            "5xx on a send may have created the message: {send:?}"
        );
    }

    #[test]
    fn other_client_errors() {
        let send = from_status(Action::Send, 400, None, &twilio_body(21602, 400), "POST x");
        assert_eq!(
            send.code(),
            Some(21602),
            "unknown 4xx on a send is Permanent with its code"
        );
        let bare = from_status(Action::Send, 400, None, b"nope", "POST x");
        assert_eq!(
            bare.code(),
            Some(400),
            "without a Twilio code the HTTP status stands in"
        );
        let missing = from_status(Action::Read, 404, None, &twilio_body(20404, 404), "GET x");
        assert!(
            matches!(missing, ProviderError::Permanent { code: 20404, .. }),
            "a missing resource will not appear by retrying: {missing:?}"
        );
        let bad_request = from_status(Action::Read, 400, None, b"{}", "GET x");
        assert!(
            matches!(bad_request, ProviderError::Malformed { .. }),
            "a read Twilio refused is our bug, logged and retried later: {bad_request:?}"
        );
        let timeout = from_status(Action::Read, 408, None, b"", "GET x");
        assert!(
            matches!(timeout, ProviderError::Transient { .. }),
            "408 is transient"
        );
        let redirect = from_status(Action::Send, 302, None, b"", "POST x");
        assert!(
            matches!(redirect, ProviderError::OutcomeUnknown { .. }),
            "an unexpected redirect on a send proves nothing"
        );
    }

    #[test]
    fn html_error_pages_give_a_short_excerpt() {
        let page = format!(
            "<html>\n<head><title>502 Bad Gateway</title></head>\n<body>{}</body></html>",
            "x".repeat(5000)
        );
        let e = from_status(Action::Read, 502, None, page.as_bytes(), "GET Calls.json");
        let text = e.to_string();
        assert!(
            matches!(e, ProviderError::Transient { .. }),
            "502 page on a read: {e:?}"
        );
        assert!(
            text.contains("502 Bad Gateway"),
            "the excerpt helps diagnose: {text}"
        );
        assert!(
            text.len() < 400,
            "the excerpt is short, got {} bytes",
            text.len()
        );
        assert!(!text.contains('\n'), "one line for logs: {text}");
    }

    #[test]
    fn excerpt_handles_binary_and_empty() {
        assert_eq!(excerpt(b""), "(empty body)", "empty is named");
        let binary = excerpt(&[0xff, 0xfe, 0x00, 0x41]);
        assert!(
            !binary.contains('\0'),
            "control characters are removed: {binary:?}"
        );
        let cut_utf8 = excerpt("é".repeat(1000).as_bytes());
        assert!(cut_utf8.chars().count() <= 121, "long text is cut");
    }

    #[test]
    fn transport_failures() {
        let e = from_transport(
            Action::Send,
            TransportFailure::NotSent("refused".into()),
            "POST x",
        );
        assert!(
            matches!(e, ProviderError::Transient { .. }),
            "nothing left the machine, so even a send is safe to retry: {e:?}"
        );
        let e = from_transport(
            Action::Send,
            TransportFailure::TimedOut("t".into()),
            "POST x",
        );
        assert!(
            matches!(e, ProviderError::OutcomeUnknown { .. }),
            "a send that timed out may have been delivered: {e:?}"
        );
        let e = from_transport(
            Action::Send,
            TransportFailure::Interrupted("reset".into()),
            "POST x",
        );
        assert!(
            matches!(e, ProviderError::OutcomeUnknown { .. }),
            "reset after send: {e:?}"
        );
        let e = from_transport(
            Action::Read,
            TransportFailure::TimedOut("t".into()),
            "GET x",
        );
        assert!(
            matches!(e, ProviderError::Transient { .. }),
            "a read timeout retries: {e:?}"
        );
        let e = from_transport(
            Action::Read,
            TransportFailure::Interrupted("r".into()),
            "GET x",
        );
        assert!(
            matches!(e, ProviderError::Transient { .. }),
            "a cut read retries: {e:?}"
        );
    }

    #[test]
    fn unreadable_or_huge_success_bodies() {
        let parse = ProviderError::Malformed {
            message: "bad json".into(),
        };
        assert_eq!(
            unreadable_success(Action::Read, parse.clone()),
            parse,
            "a read keeps Malformed"
        );
        assert!(
            matches!(
                unreadable_success(Action::Send, parse),
                ProviderError::OutcomeUnknown { .. }
            ),
            "a 2xx send we cannot read may have created the message"
        );
        assert!(
            matches!(
                too_large(Action::Read, "GET x", 10),
                ProviderError::Malformed { .. }
            ),
            "huge read"
        );
        assert!(
            matches!(
                too_large(Action::Send, "POST x", 10),
                ProviderError::OutcomeUnknown { .. }
            ),
            "huge send answer"
        );
    }

    #[test]
    fn error_body_parsing_is_lenient() {
        assert_eq!(
            TwilioErrorBody::parse(br#"{"code": "21610", "message": "unsubscribed"}"#),
            Some(TwilioErrorBody {
                code: Some(21610),
                message: Some("unsubscribed".into())
            }),
            "a string code is accepted"
        );
        assert_eq!(
            TwilioErrorBody::parse(b"<html>"),
            None,
            "HTML is not a Twilio body"
        );
        assert_eq!(
            TwilioErrorBody::parse(b"{}"),
            None,
            "no code, not a Twilio error"
        );
        assert_eq!(
            TwilioErrorBody::parse(br#"{"code": null, "message": "x"}"#),
            Some(TwilioErrorBody {
                code: None,
                message: Some("x".into())
            }),
            "a null code keeps the message"
        );
    }
}

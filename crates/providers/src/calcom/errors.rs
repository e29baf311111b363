//! Cal.com answers and transport failures → [`BookingError`], as pure functions so every
//! branch is unit-tested. Every Cal.com call here is a read, so nothing is ever "maybe sent".
//!
//! Cal.com's error body (CALCOM.md §6): `{"status": "error", "timestamp": "…", "path": "…",
//! "error": {"code": "NotFoundException", "message": "…", "details": …}}`, plus an
//! `X-Request-Id` header. `path` repeats our request URL and is never copied into a message.

use std::time::Duration;

use serde_json::Value;

use crate::booking::BookingError;

/// The largest answer read into memory: a page of 100 bookings is a few hundred KiB.
pub(crate) const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;

/// Cal.com's `error` object, as far as a message needs it.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct CalcomErrorBody {
    pub code: Option<String>,
    pub message: Option<String>,
}

impl CalcomErrorBody {
    pub(crate) fn parse(body: &[u8]) -> Option<Self> {
        let value: Value = serde_json::from_slice(body).ok()?;
        Self::from_value(&value)
    }

    pub(crate) fn from_value(value: &Value) -> Option<Self> {
        let error = value.as_object()?.get("error")?.as_object()?;
        let short = |v: &Value| v.as_str().map(|s| clip(s, 300)).filter(|s| !s.is_empty());
        Some(Self {
            code: error.get("code").and_then(short),
            message: error.get("message").and_then(short),
        })
    }
}

/// A non-2xx answer. `what` names the request for people ("GET /v2/bookings").
pub(crate) fn from_status(
    status: u16,
    retry_after: Option<&str>,
    request_id: Option<&str>,
    body: &[u8],
    what: &str,
) -> BookingError {
    let calcom = CalcomErrorBody::parse(body);
    let code = calcom.as_ref().and_then(|c| c.code.clone());
    let detail = calcom
        .as_ref()
        .and_then(|c| c.message.clone())
        .unwrap_or_else(|| excerpt(body));
    let mut message = match &code {
        Some(code) => format!("{what} answered HTTP {status} ({code}): {detail}"),
        None => format!("{what} answered HTTP {status}: {detail}"),
    };
    if let Some(id) = request_id.filter(|id| is_printable_token(id)) {
        message.push_str(&format!(" [request id {id}]"));
    }
    match status {
        401 | 403 => BookingError::Auth { message },
        429 => BookingError::RateLimited {
            retry_after: parse_retry_after(retry_after),
        },
        408 | 409 | 423 | 425 | 500..=599 => BookingError::Transient { message },
        // Redirects are not followed: they could carry the API key to another host.
        300..=399 => BookingError::Malformed { message },
        _ => BookingError::Permanent {
            status,
            code,
            message,
        },
    }
}

/// A request that failed below HTTP. Every call is a read, so all of them may be repeated.
pub(crate) fn from_transport(error: reqwest::Error, what: &str) -> BookingError {
    let error = error.without_url();
    let why = if error.is_connect() {
        "could not reach Cal.com"
    } else if error.is_timeout() {
        "timed out"
    } else {
        "the connection broke"
    };
    BookingError::Transient {
        message: format!("{what}: {why} ({})", crate::text::error_chain(&error)),
    }
}

/// `Retry-After` in whole seconds (capped at an hour). The HTTP-date form is ignored and
/// the caller falls back to its own backoff.
pub(crate) fn parse_retry_after(raw: Option<&str>) -> Option<Duration> {
    let secs = raw?.trim().parse::<u64>().ok()?;
    Some(Duration::from_secs(secs.min(3600)))
}

/// A short, single-line, printable start of a body for error messages (HTML error pages).
pub(crate) fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(480)]);
    let out = clip(&text, 120);
    if out.is_empty() {
        "(empty body)".to_owned()
    } else {
        out
    }
}

/// Collapses whitespace and control characters to single spaces and cuts at `max` chars.
pub(crate) fn clip(text: &str, max: usize) -> String {
    let mut out = String::new();
    let mut last_space = true;
    for c in text.chars() {
        // Bidirectional overrides would let a name display as something else.
        let bidi = matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
        let c = if c.is_whitespace() || c.is_control() || bidi {
            ' '
        } else {
            c
        };
        if c == ' ' && last_space {
            continue;
        }
        last_space = c == ' ';
        if out.chars().count() >= max {
            out.push('…');
            break;
        }
        out.push(c);
    }
    out.trim_end().to_owned()
}

fn is_printable_token(s: &str) -> bool {
    !s.is_empty() && s.len() <= 100 && s.bytes().all(|b| b.is_ascii_graphic())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn calcom_body(code: &str, message: &str) -> Vec<u8> {
        serde_json::json!({
            "status": "error",
            "timestamp": "2026-05-01T10:00:00.000Z",
            "path": "/v2/bookings?attendeeEmail=jane%40example.com",
            "error": {"code": code, "message": message, "details": {"statusCode": 400}},
        })
        .to_string()
        .into_bytes()
    }

    #[test]
    fn statuses_sort_by_what_happens_next() {
        let auth = from_status(
            401,
            None,
            Some("req-1"),
            &calcom_body("UnauthorizedException", "Invalid API Key"),
            "GET /v2/bookings",
        );
        let BookingError::Auth { message } = &auth else {
            panic!("401 is Auth, got {auth:?}")
        };
        assert!(
            message.contains("Invalid API Key") && message.contains("req-1"),
            "the message and request id help support: {message}"
        );
        assert!(
            !message.contains("jane"),
            "the echoed request path (with customer emails) is never copied: {message}"
        );
        assert!(matches!(
            from_status(403, None, None, b"", "x"),
            BookingError::Auth { .. }
        ));
        assert_eq!(
            from_status(429, Some("12"), None, b"{}", "x"),
            BookingError::RateLimited {
                retry_after: Some(Duration::from_secs(12))
            },
            "Retry-After seconds are kept"
        );
        for status in [500, 502, 503, 408] {
            assert!(
                matches!(
                    from_status(status, None, None, b"<html>", "x"),
                    BookingError::Transient { .. }
                ),
                "{status} is worth repeating later"
            );
        }
        let bad = from_status(
            400,
            None,
            None,
            &calcom_body("BadRequestException", "limit must not be greater than 100"),
            "GET /v2/bookings",
        );
        assert_eq!(
            bad,
            BookingError::Permanent {
                status: 400,
                code: Some("BadRequestException".to_owned()),
                message: "GET /v2/bookings answered HTTP 400 (BadRequestException): limit must not be greater than 100".to_owned(),
            },
            "a refused request names Cal.com's own error"
        );
        assert!(
            !bad.is_retry_safe(),
            "the same request would be refused again"
        );
    }

    #[test]
    fn retry_after_is_seconds_only_and_capped() {
        assert_eq!(parse_retry_after(Some(" 3 ")), Some(Duration::from_secs(3)));
        assert_eq!(
            parse_retry_after(Some("99999")),
            Some(Duration::from_secs(3600))
        );
        assert_eq!(
            parse_retry_after(Some("Wed, 21 Oct 2026 07:28:00 GMT")),
            None,
            "an HTTP date falls back to the caller's backoff"
        );
        assert_eq!(parse_retry_after(Some("-1")), None);
    }

    #[test]
    fn excerpts_are_short_single_lines() {
        let page = "<html>\r\n<body>\n\n 502   Bad Gateway</body></html>";
        assert_eq!(
            excerpt(page.as_bytes()),
            "<html> <body> 502 Bad Gateway</body></html>"
        );
        assert_eq!(excerpt(b""), "(empty body)");
        assert!(excerpt(&[b'x'; 5000]).chars().count() <= 121, "capped");
    }
}

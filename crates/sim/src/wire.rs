//! Twilio's wire shapes: resources as JSON (every field present, nullable ones null),
//! RFC 2822 dates, and the error body `{code, message, more_info, status}`.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::store::{CallRec, MediaRec, MessageRec, NumberRec, RecordingRec};

pub(crate) const API_VERSION: &str = "2010-04-01";

/// Twilio's date format: `Fri, 18 Oct 2019 17:02:00 +0000`.
pub(crate) fn rfc2822(t: DateTime<Utc>) -> String {
    t.format("%a, %d %b %Y %H:%M:%S +0000").to_string()
}

fn date(t: Option<DateTime<Utc>>) -> Value {
    t.map_or(Value::Null, |t| Value::String(rfc2822(t)))
}

/// `+13051416799` → `(305) 141-6799`, as Twilio formats NANP numbers; others unchanged.
pub(crate) fn formatted(number: &str) -> String {
    match number.strip_prefix("+1") {
        Some(rest) if rest.len() == 10 && rest.bytes().all(|b| b.is_ascii_digit()) => {
            format!("({}) {}-{}", &rest[..3], &rest[3..6], &rest[6..])
        }
        _ => number.to_owned(),
    }
}

pub(crate) fn account_base(account: &str) -> String {
    format!("/{API_VERSION}/Accounts/{account}")
}

pub(crate) fn call_json(account: &str, c: &CallRec) -> Value {
    let base = format!("{}/Calls/{}", account_base(account), c.sid);
    let sub = |name: &str| format!("{base}/{name}.json");
    json!({
        "sid": c.sid,
        "date_created": rfc2822(c.created),
        "date_updated": rfc2822(c.updated),
        "parent_call_sid": c.parent_sid,
        "account_sid": account,
        "to": c.to,
        "to_formatted": formatted(&c.to),
        "from": c.from,
        "from_formatted": formatted(&c.from),
        "phone_number_sid": c.phone_number_sid,
        "status": c.status,
        "start_time": date(c.start_time),
        "end_time": date(c.end_time),
        "duration": c.duration.map(|d| d.to_string()),
        "price": Value::Null,
        "price_unit": "USD",
        "direction": c.direction,
        "answered_by": c.answered_by,
        "api_version": API_VERSION,
        "forwarded_from": Value::Null,
        "group_sid": Value::Null,
        "caller_name": Value::Null,
        "queue_time": "0",
        "trunk_sid": Value::Null,
        "uri": format!("{base}.json"),
        "subresource_uris": {
            "notifications": sub("Notifications"),
            "recordings": sub("Recordings"),
            "payments": sub("Payments"),
            "events": sub("Events"),
            "siprec": sub("Siprec"),
            "streams": sub("Streams"),
            "transcriptions": sub("Transcriptions"),
            "user_defined_message_subscriptions": sub("UserDefinedMessageSubscriptions"),
            "user_defined_messages": sub("UserDefinedMessages"),
        },
    })
}

pub(crate) fn message_json(account: &str, m: &MessageRec) -> Value {
    let base = format!("{}/Messages/{}", account_base(account), m.sid);
    json!({
        "body": m.body,
        "num_segments": m.num_segments.to_string(),
        "direction": m.direction,
        "from": m.from,
        "to": m.to,
        "date_updated": rfc2822(m.updated),
        "price": Value::Null,
        "error_message": m.error_message,
        "uri": format!("{base}.json"),
        "account_sid": account,
        "num_media": m.num_media.to_string(),
        "status": m.status,
        "messaging_service_sid": Value::Null,
        "sid": m.sid,
        "date_sent": date(m.date_sent),
        "date_created": rfc2822(m.created),
        "error_code": m.error_code,
        "price_unit": "USD",
        "api_version": API_VERSION,
        "subresource_uris": {
            "media": format!("{base}/Media.json"),
            "feedback": format!("{base}/Feedback.json"),
        },
    })
}

pub(crate) fn media_json(account: &str, m: &MediaRec) -> Value {
    json!({
        "account_sid": account,
        "content_type": m.content_type,
        "date_created": rfc2822(m.created),
        "date_updated": rfc2822(m.created),
        "parent_sid": m.message_sid,
        "sid": m.sid,
        "uri": format!("{}/Messages/{}/Media/{}.json", account_base(account), m.message_sid, m.sid),
    })
}

pub(crate) fn recording_json(account: &str, r: &RecordingRec) -> Value {
    json!({
        "account_sid": account,
        "api_version": API_VERSION,
        "call_sid": r.call_sid,
        "conference_sid": Value::Null,
        "date_created": rfc2822(r.created),
        "date_updated": rfc2822(r.created),
        "start_time": rfc2822(r.start_time),
        "duration": r.duration.to_string(),
        "sid": r.sid,
        "price": Value::Null,
        "uri": format!("{}/Calls/{}/Recordings/{}.json", account_base(account), r.call_sid, r.sid),
        "encryption_details": Value::Null,
        "price_unit": "USD",
        "status": "completed",
        "channels": 1,
        "source": "RecordVerb",
        "error_code": Value::Null,
        "track": "both",
    })
}

pub(crate) fn number_json(account: &str, n: &NumberRec) -> Value {
    json!({
        "account_sid": account,
        "address_sid": Value::Null,
        "address_requirements": "none",
        "api_version": API_VERSION,
        "beta": false,
        "capabilities": { "voice": true, "sms": true, "mms": true, "fax": false },
        "date_created": rfc2822(n.created),
        "date_updated": rfc2822(n.created),
        "friendly_name": formatted(&n.phone_number),
        "identity_sid": Value::Null,
        "phone_number": n.phone_number,
        "origin": "twilio",
        "sid": n.sid,
        "sms_application_sid": "",
        "sms_fallback_method": "POST",
        "sms_fallback_url": "",
        "sms_method": "POST",
        "sms_url": "",
        "status_callback": "",
        "status_callback_method": "POST",
        "trunk_sid": Value::Null,
        "uri": format!("{}/IncomingPhoneNumbers/{}.json", account_base(account), n.sid),
        "voice_receive_mode": "voice",
        "voice_application_sid": "",
        "voice_caller_id_lookup": false,
        "voice_fallback_method": "POST",
        "voice_fallback_url": "",
        "voice_method": "POST",
        "voice_url": "",
        "emergency_status": "Inactive",
        "emergency_address_sid": Value::Null,
        "emergency_address_status": "unregistered",
        "bundle_sid": Value::Null,
        "status": "in-use",
        "type": "local",
    })
}

pub(crate) fn account_json(account: &str, auth_token: &str, created: DateTime<Utc>) -> Value {
    let base = account_base(account);
    let sub = |name: &str| format!("{base}/{name}.json");
    json!({
        "auth_token": auth_token,
        "date_created": rfc2822(created),
        "date_updated": rfc2822(created),
        "friendly_name": "Textback Sim",
        "owner_account_sid": account,
        "sid": account,
        "status": "active",
        "subresource_uris": {
            "available_phone_numbers": sub("AvailablePhoneNumbers"),
            "calls": sub("Calls"),
            "conferences": sub("Conferences"),
            "incoming_phone_numbers": sub("IncomingPhoneNumbers"),
            "notifications": sub("Notifications"),
            "outgoing_caller_ids": sub("OutgoingCallerIds"),
            "recordings": sub("Recordings"),
            "transcriptions": sub("Transcriptions"),
            "addresses": sub("Addresses"),
            "signing_keys": sub("SigningKeys"),
            "connect_apps": sub("ConnectApps"),
            "sip": sub("SIP"),
            "authorized_connect_apps": sub("AuthorizedConnectApps"),
            "usage": sub("Usage"),
            "keys": sub("Keys"),
            "applications": sub("Applications"),
            "short_codes": sub("SMS/ShortCodes"),
            "queues": sub("Queues"),
            "messages": sub("Messages"),
            "balance": sub("Balance"),
        },
        "type": "Full",
        "uri": format!("{base}.json"),
    })
}

/// A Twilio error answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TwilioError {
    pub status: StatusCode,
    pub code: u32,
    pub message: String,
}

impl TwilioError {
    pub(crate) fn new(status: StatusCode, code: u32, message: impl Into<String>) -> Self {
        TwilioError {
            status,
            code,
            message: message.into(),
        }
    }
    pub(crate) fn bad_request(code: u32, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }
    pub(crate) fn not_found(path: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            20404,
            format!("The requested resource {path} was not found"),
        )
    }
    pub(crate) fn body(&self) -> Value {
        json!({
            "code": self.code,
            "message": self.message,
            "more_info": format!("https://www.twilio.com/docs/errors/{}", self.code),
            "status": self.status.as_u16(),
        })
    }
}

impl IntoResponse for TwilioError {
    fn into_response(self) -> Response {
        let unauthorized = self.status == StatusCode::UNAUTHORIZED;
        let mut resp = json_response(self.status, &self.body());
        if unauthorized {
            resp.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"Twilio API\""),
            );
        }
        resp
    }
}

pub(crate) fn auth_error() -> TwilioError {
    TwilioError::new(StatusCode::UNAUTHORIZED, 20003, "Authenticate")
}

pub(crate) fn json_response(status: StatusCode, body: &Value) -> Response {
    bytes_response(
        status,
        body.to_string().into_bytes(),
        "application/json; charset=utf-8",
    )
}

pub(crate) fn bytes_response(
    status: StatusCode,
    body: Vec<u8>,
    content_type: &'static str,
) -> Response {
    let mut resp = (status, body).into_response();
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    resp
}

/// An attachment's bytes with the type it was stored with (`application/octet-stream` when
/// that is not a valid header value).
pub(crate) fn media_response(m: &MediaRec) -> Response {
    let mut resp = (StatusCode::OK, m.bytes.as_ref().clone()).into_response();
    let content_type = HeaderValue::from_str(&m.content_type)
        .unwrap_or_else(|_| HeaderValue::from_static("application/octet-stream"));
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, content_type);
    resp
}

/// SMS segment count as Twilio bills it: GSM-7 160/153 (extension characters take two
/// septets), otherwise UCS-2 70/67 UTF-16 units.
pub(crate) fn num_segments(body: &str) -> usize {
    const GSM_BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?\
        ¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
    const GSM_EXTENSION: &str = "^{}\\[~]|€\u{0C}";
    let mut septets = 0usize;
    let mut gsm = true;
    for ch in body.chars() {
        if GSM_BASIC.contains(ch) {
            septets += 1;
        } else if GSM_EXTENSION.contains(ch) {
            septets += 2;
        } else {
            gsm = false;
            break;
        }
    }
    let (units, single, multi) = if gsm {
        (septets, 160, 153)
    } else {
        (body.encode_utf16().count(), 70, 67)
    };
    if units <= single {
        1
    } else {
        units.div_ceil(multi)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn dates_use_twilios_rfc2822_form() {
        let t = Utc
            .with_ymd_and_hms(2019, 10, 18, 17, 2, 0)
            .single()
            .expect("valid date");
        assert_eq!(
            rfc2822(t),
            "Fri, 18 Oct 2019 17:02:00 +0000",
            "the spec's example format"
        );
    }

    #[test]
    fn segments_follow_gsm_and_ucs2_limits() {
        assert_eq!(
            num_segments(&"a".repeat(160)),
            1,
            "160 GSM-7 chars fit one segment"
        );
        assert_eq!(
            num_segments(&"a".repeat(161)),
            2,
            "161 GSM-7 chars need two 153-septet parts"
        );
        assert_eq!(
            num_segments(&"é".repeat(10)),
            1,
            "é is in the GSM-7 basic set"
        );
        assert_eq!(
            num_segments(&"👍".repeat(36)),
            2,
            "72 UTF-16 units exceed one UCS-2 segment"
        );
        assert_eq!(num_segments(&"€".repeat(80)), 1, "€ costs two septets: 160");
        assert_eq!(
            num_segments(&"€".repeat(81)),
            2,
            "162 septets overflow one segment"
        );
    }

    #[test]
    fn nanp_numbers_are_formatted_like_twilio() {
        assert_eq!(formatted("+13051416799"), "(305) 141-6799", "spec example");
        assert_eq!(
            formatted("+447700900123"),
            "+447700900123",
            "non-NANP stays E.164"
        );
    }
}

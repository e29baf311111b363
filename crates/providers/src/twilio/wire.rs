//! Twilio JSON → records, leniently. Every field in the 2010-04-01 spec is nullable and
//! real answers carry numbers as strings ("duration": "42"), so nothing here uses derived
//! `Deserialize` on whole resources: one odd field must not cost a whole page of calls.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};
use textback_domain::{
    CallDirection, CallStatus, ProviderCallId, ProviderMediaId, ProviderMessageId,
};

use crate::{
    AccountInfo, CallRecord, MediaRecord, MessageDirection, MessageRecord, MessageStatus,
    OwnedNumber, ProviderError,
};

type Object = Map<String, Value>;

/// One list page: the items that parsed, how many were skipped, and the link onwards.
#[derive(Debug)]
pub(crate) struct Page<T> {
    pub items: Vec<T>,
    pub skipped: usize,
    pub next_page_uri: Option<String>,
}

/// Parses a list page whose items live under `items_key` (`calls`, `messages`, …).
///
/// A body that is not a JSON object with that array is [`ProviderError::Malformed`]; an
/// item that cannot become a record is skipped (and counted) so the rest still arrive.
pub(crate) fn parse_page<T>(
    body: &[u8],
    items_key: &str,
    parse_item: fn(&Object) -> Result<T, String>,
) -> Result<Page<T>, ProviderError> {
    let value = json(body, &format!("the `{items_key}` list"))?;
    parse_page_value(&value, items_key, parse_item)
}

pub(crate) fn parse_page_value<T>(
    value: &Value,
    items_key: &str,
    parse_item: fn(&Object) -> Result<T, String>,
) -> Result<Page<T>, ProviderError> {
    let obj = value.as_object().ok_or_else(|| ProviderError::Malformed {
        message: format!("the `{items_key}` list answer is not a JSON object"),
    })?;
    let raw_items = match obj.get(items_key) {
        Some(Value::Array(items)) => items,
        Some(_) => {
            return Err(ProviderError::Malformed {
                message: format!("`{items_key}` in the list answer is not an array"),
            });
        }
        None => {
            return Err(ProviderError::Malformed {
                message: format!("the list answer has no `{items_key}` array"),
            });
        }
    };
    let mut items = Vec::with_capacity(raw_items.len());
    let mut skipped = 0;
    for (index, raw) in raw_items.iter().enumerate() {
        let parsed = match raw.as_object() {
            Some(item) => parse_item(item),
            None => Err("the item is not a JSON object".to_owned()),
        };
        match parsed {
            Ok(item) => items.push(item),
            Err(reason) => {
                skipped += 1;
                // NOTE: the item itself is not logged: it holds phone numbers and texts.
                tracing::warn!(list = items_key, index, %reason, "skipping an unusable item in a provider list");
            }
        }
    }
    Ok(Page {
        items,
        skipped,
        next_page_uri: text(obj, "next_page_uri"),
    })
}

/// A single resource answer (one message, the account).
pub(crate) fn parse_object<T>(
    body: &[u8],
    what: &str,
    parse_item: fn(&Object) -> Result<T, String>,
) -> Result<T, ProviderError> {
    let value = json(body, &format!("the {what}"))?;
    let obj = value.as_object().ok_or_else(|| ProviderError::Malformed {
        message: format!("the {what} is not a JSON object"),
    })?;
    parse_item(obj).map_err(|reason| ProviderError::Malformed {
        message: format!("the {what} is unusable: {reason}"),
    })
}

/// Parses JSON; when the body is not JSON at all (an HTML page from a proxy or captive
/// portal) the error quotes its start so a person can tell what answered. A body that
/// looks like JSON is never quoted: it may hold customers' numbers and texts.
fn json(body: &[u8], what: &str) -> Result<Value, ProviderError> {
    serde_json::from_slice(body).map_err(|e| {
        let looks_like_json = body
            .iter()
            .find(|b| !b.is_ascii_whitespace())
            .is_some_and(|b| matches!(b, b'{' | b'['));
        let message = if looks_like_json || body.is_empty() {
            format!("{what} is not valid JSON ({e})")
        } else {
            format!("{what} is not JSON: {}", super::errors::excerpt(body))
        };
        ProviderError::Malformed { message }
    })
}

pub(crate) fn parse_call(item: &Object) -> Result<CallRecord, String> {
    let sid = required_id(item, "sid", ProviderCallId::parse)?;
    // A child leg whose parent link is garbled would pose as a parent call (and could be
    // texted back), so a present-but-invalid parent sid drops the item instead.
    let parent_sid = match text(item, "parent_call_sid") {
        None => None,
        Some(raw) => Some(
            ProviderCallId::parse(&raw)
                .map_err(|e| format!("parent_call_sid is not a valid call sid ({e})"))?,
        ),
    };
    Ok(CallRecord {
        sid,
        parent_sid,
        from: text(item, "from").unwrap_or_default(),
        to: text(item, "to").unwrap_or_default(),
        direction: CallDirection::from_wire(&text(item, "direction").unwrap_or_default()),
        status: CallStatus::from_wire(&text(item, "status").unwrap_or_default()),
        start_time: date(item, "start_time"),
        end_time: date(item, "end_time"),
        duration_secs: count(item, "duration"),
        answered_by: text(item, "answered_by"),
        caller_name: text(item, "caller_name"),
        date_updated: date(item, "date_updated"),
    })
}

pub(crate) fn parse_message(item: &Object) -> Result<MessageRecord, String> {
    let sid = required_id(item, "sid", ProviderMessageId::parse)?;
    Ok(MessageRecord {
        sid,
        from: text(item, "from").unwrap_or_default(),
        to: text(item, "to").unwrap_or_default(),
        body: item
            .get("body")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        direction: MessageDirection::from_wire(&text(item, "direction").unwrap_or_default()),
        status: MessageStatus::from_wire(&text(item, "status").unwrap_or_default()),
        error_code: count(item, "error_code"),
        error_message: text(item, "error_message"),
        num_media: count(item, "num_media").unwrap_or(0),
        date_created: date(item, "date_created"),
        date_sent: date(item, "date_sent"),
        date_updated: date(item, "date_updated"),
    })
}

pub(crate) fn parse_number(item: &Object) -> Result<OwnedNumber, String> {
    let sid = text(item, "sid").ok_or("the number has no sid")?;
    let phone_number = text(item, "phone_number").ok_or("the number has no phone_number")?;
    // The spec's JSON keys are lower case; the XML form (and some older answers) use "SMS".
    let sms_capable = item
        .get("capabilities")
        .and_then(Value::as_object)
        .and_then(|caps| caps.get("sms").or_else(|| caps.get("SMS")))
        .and_then(Value::as_bool)
        .unwrap_or(false);
    Ok(OwnedNumber {
        sid,
        phone_number,
        friendly_name: text(item, "friendly_name"),
        sms_capable,
    })
}

pub(crate) fn parse_account(item: &Object) -> Result<AccountInfo, String> {
    Ok(AccountInfo {
        sid: text(item, "sid").ok_or("the account has no sid")?,
        friendly_name: text(item, "friendly_name"),
        status: text(item, "status").unwrap_or_else(|| "unknown".to_owned()),
    })
}

pub(crate) fn parse_media(item: &Object) -> Result<MediaRecord, String> {
    let sid = required_id(item, "sid", ProviderMediaId::parse)?;
    // NOTE: without its uri an attachment cannot be fetched; the adapter checks the uri
    // against the account and message before it is used.
    let uri = text(item, "uri").ok_or("the media has no uri")?;
    Ok(MediaRecord {
        sid,
        content_type: normalize_content_type(&text(item, "content_type").unwrap_or_default()),
        uri,
    })
}

/// `Image/JPEG; charset=x` → `image/jpeg`: lower case, parameters dropped.
pub(crate) fn normalize_content_type(raw: &str) -> String {
    raw.split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

fn required_id<T, E: std::fmt::Display>(
    item: &Object,
    key: &str,
    parse: fn(&str) -> Result<T, E>,
) -> Result<T, String> {
    let raw = text(item, key).ok_or_else(|| format!("missing `{key}`"))?;
    parse(&raw).map_err(|e| format!("`{key}` is not a valid id ({e})"))
}

/// A string field; numbers are accepted as their decimal text; null/empty is `None`.
pub(crate) fn text(item: &Object, key: &str) -> Option<String> {
    match item.get(key)? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A non-negative count or duration sent as a number or as a string of digits.
pub(crate) fn count(item: &Object, key: &str) -> Option<u32> {
    match item.get(key)? {
        Value::Number(n) => n
            .as_u64()
            .or_else(|| {
                n.as_f64()
                    .filter(|f| f.fract() == 0.0 && *f >= 0.0 && *f <= f64::from(u32::MAX))
                    .map(|f| f as u64)
            })
            .and_then(|v| u32::try_from(v).ok()),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn date(item: &Object, key: &str) -> Option<DateTime<Utc>> {
    let raw = item.get(key)?.as_str()?;
    let parsed = parse_date(raw);
    if parsed.is_none() && !raw.trim().is_empty() {
        tracing::debug!(
            field = key,
            "ignoring a date the provider sent in an unknown format"
        );
    }
    parsed
}

/// Twilio sends RFC 2822 (`Fri, 18 Oct 2019 17:02:00 +0000`); RFC 3339 is accepted too
/// because the newer Twilio APIs and some proxies use it.
pub(crate) fn parse_date(raw: &str) -> Option<DateTime<Utc>> {
    let raw = raw.trim();
    DateTime::parse_from_rfc2822(raw)
        .or_else(|_| DateTime::parse_from_rfc3339(raw))
        .ok()
        .map(|d| d.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use serde_json::json;

    fn obj(v: Value) -> Object {
        match v {
            Value::Object(m) => m,
            other => panic!("test fixture must be an object, got {other}"),
        }
    }

    #[test]
    fn rfc2822_dates_parse_to_utc() {
        let d = parse_date("Fri, 18 Oct 2019 17:02:00 +0000");
        assert_eq!(
            d,
            Some(Utc.with_ymd_and_hms(2019, 10, 18, 17, 2, 0).unwrap()),
            "Twilio's date format must parse"
        );
        let offset = parse_date("Fri, 18 Oct 2019 12:02:00 -0500");
        assert_eq!(
            offset, d,
            "a non-UTC offset is converted to the same instant"
        );
        assert_eq!(
            parse_date("2019-10-18T17:02:00Z"),
            d,
            "RFC 3339 is accepted as a fallback"
        );
        assert_eq!(
            parse_date("sed ea magna"),
            None,
            "junk is None, not an error"
        );
        assert_eq!(parse_date(""), None, "empty is None");
    }

    #[test]
    fn counts_accept_strings_numbers_and_nulls() {
        let item = obj(json!({
            "a": "42", "b": 42, "c": null, "d": "", "e": "-3", "f": 7.0, "g": 1.5, "h": "abc",
            "i": 99999999999u64, "j": " 5 "
        }));
        assert_eq!(count(&item, "a"), Some(42), "durations come as strings");
        assert_eq!(count(&item, "b"), Some(42), "or as numbers");
        assert_eq!(count(&item, "c"), None, "null is absent");
        assert_eq!(
            count(&item, "d"),
            None,
            "empty for busy/failed/ongoing calls"
        );
        assert_eq!(count(&item, "e"), None, "negative is not a count");
        assert_eq!(count(&item, "f"), Some(7), "an integral float is fine");
        assert_eq!(count(&item, "g"), None, "a fractional float is not a count");
        assert_eq!(count(&item, "h"), None, "junk is absent");
        assert_eq!(count(&item, "i"), None, "beyond u32 is absent, not wrapped");
        assert_eq!(
            count(&item, "j"),
            Some(5),
            "surrounding spaces are tolerated"
        );
        assert_eq!(count(&item, "missing"), None, "missing is absent");
    }

    #[test]
    fn a_full_call_parses() {
        let item = obj(json!({
            "sid": "CA1234567890abcdef1234567890abcdef",
            "parent_call_sid": "CAfedcba0987654321fedcba0987654321",
            "from": "+15551230001", "to": "+15005550006",
            "direction": "outbound-dial", "status": "no-answer",
            "start_time": "Fri, 18 Oct 2019 17:00:00 +0000",
            "end_time": "Fri, 18 Oct 2019 17:00:20 +0000",
            "duration": "20", "answered_by": "machine_start", "caller_name": "ACME",
            "date_updated": "Fri, 18 Oct 2019 17:00:21 +0000",
            "subresource_uris": {"recordings": "/x"}
        }));
        let call = parse_call(&item).expect("a complete call must parse");
        assert_eq!(
            call.sid.as_str(),
            "CA1234567890abcdef1234567890abcdef",
            "sid kept"
        );
        assert_eq!(
            call.parent_sid.as_ref().map(ProviderCallId::as_str),
            Some("CAfedcba0987654321fedcba0987654321"),
            "child legs keep their parent link"
        );
        assert_eq!(
            call.direction,
            CallDirection::OutboundDial,
            "dial legs are outbound-dial"
        );
        assert_eq!(
            call.status,
            CallStatus::NoAnswer,
            "no-answer maps to NoAnswer"
        );
        assert_eq!(call.duration_secs, Some(20), "string duration parsed");
        assert_eq!(
            call.answered_by.as_deref(),
            Some("machine_start"),
            "AMD result kept"
        );
        assert_eq!(
            call.end_time,
            Some(Utc.with_ymd_and_hms(2019, 10, 18, 17, 0, 20).unwrap()),
            "end time parsed"
        );
    }

    #[test]
    fn a_call_with_only_a_sid_parses_with_defaults() {
        let item = obj(json!({
            "sid": "CA00000000000000000000000000000001",
            "parent_call_sid": null, "status": null, "direction": null,
            "start_time": null, "duration": null, "from": null
        }));
        let call = parse_call(&item).expect("nulls everywhere must not fail the item");
        assert_eq!(call.parent_sid, None, "null parent means a parent leg");
        assert_eq!(
            call.from, "",
            "null from is empty (the engine treats it as withheld)"
        );
        assert!(
            matches!(call.status, CallStatus::Unknown(_)),
            "missing status is Unknown so the call is revisited, got {:?}",
            call.status
        );
        assert_eq!(call.duration_secs, None, "null duration is absent");
    }

    #[test]
    fn calls_without_a_usable_sid_or_with_a_garbled_parent_are_rejected() {
        for bad in [
            json!({}),
            json!({"sid": null}),
            json!({"sid": ""}),
            json!({"sid": "CA../../etc"}),
            json!({"sid": "CA1", "parent_call_sid": "not a sid!"}),
        ] {
            assert!(
                parse_call(&obj(bad.clone())).is_err(),
                "{bad} must be skipped, not imported"
            );
        }
    }

    #[test]
    fn a_page_keeps_good_items_and_skips_bad_ones() {
        let body = json!({
            "calls": [
                {"sid": "CA1", "status": "completed"},
                {"status": "completed"},
                "not an object",
                null,
                {"sid": "CA2", "status": "a-new-status", "duration": {"weird": true}}
            ],
            "next_page_uri": "/2010-04-01/Accounts/AC1/Calls.json?Page=1",
            "page": "zero", "page_size": null
        });
        let page = parse_page(body.to_string().as_bytes(), "calls", parse_call)
            .expect("a page with some bad items still parses");
        let sids: Vec<&str> = page.items.iter().map(|c| c.sid.as_str()).collect();
        assert_eq!(sids, ["CA1", "CA2"], "good items kept in order");
        assert_eq!(page.skipped, 3, "three items had no usable sid");
        assert_eq!(
            page.items[1].status,
            CallStatus::Unknown("a-new-status".into()),
            "unknown statuses never fail parsing"
        );
        assert_eq!(
            page.next_page_uri.as_deref(),
            Some("/2010-04-01/Accounts/AC1/Calls.json?Page=1"),
            "the next link is read"
        );
    }

    #[test]
    fn a_last_page_has_no_next_link() {
        for next in [json!(null), json!(""), Value::Null] {
            let body = json!({"messages": [], "next_page_uri": next});
            let page = parse_page(body.to_string().as_bytes(), "messages", parse_message)
                .expect("an empty page parses");
            assert!(page.next_page_uri.is_none(), "{next} means no more pages");
        }
        let body = json!({"messages": []});
        let page = parse_page(body.to_string().as_bytes(), "messages", parse_message)
            .expect("a page without next_page_uri parses");
        assert!(
            page.next_page_uri.is_none(),
            "missing next link means last page"
        );
    }

    #[test]
    fn a_page_of_the_wrong_shape_is_malformed() {
        for body in [
            &b"<html><body>502 Bad Gateway</body></html>"[..],
            b"{\"calls\": [",
            b"[]",
            b"{\"messages\": []}",
            b"{\"calls\": {}}",
            b"",
        ] {
            let result = parse_page(body, "calls", parse_call);
            assert!(
                matches!(result, Err(ProviderError::Malformed { .. })),
                "{:?} must be Malformed, got {result:?}",
                String::from_utf8_lossy(body)
            );
        }
    }

    #[test]
    fn non_json_answers_are_quoted_but_json_ones_are_not() {
        let html = parse_page(
            b"<html><title>Sign in to Wi-Fi</title></html>",
            "calls",
            parse_call,
        )
        .expect_err("HTML is not a list");
        assert!(
            html.to_string().contains("Sign in to Wi-Fi"),
            "a captive portal page is recognisable from the error: {html}"
        );
        let cut = parse_object(
            br#"{"sid": "SM1", "body": "my secret plans"#,
            "message",
            parse_message,
        )
        .expect_err("cut JSON");
        assert!(
            !cut.to_string().contains("secret plans"),
            "customer text never lands in an error message: {cut}"
        );
    }

    #[test]
    fn messages_parse_leniently() {
        let item = obj(json!({
            "sid": "SM1", "from": "+15005550006", "to": "+15551230001",
            "body": "Sorry we missed your call", "direction": "outbound-api",
            "status": "undelivered", "error_code": 30003, "error_message": "Unreachable",
            "num_media": "0", "num_segments": "1", "date_sent": null,
            "date_created": "Fri, 18 Oct 2019 17:02:00 +0000"
        }));
        let msg = parse_message(&item).expect("message parses");
        assert_eq!(msg.status, MessageStatus::Undelivered, "status mapped");
        assert_eq!(msg.error_code, Some(30003), "integer error code kept");
        assert_eq!(msg.num_media, 0, "string count parsed");
        assert_eq!(msg.date_sent, None, "null date_sent is absent (queued)");
        assert!(msg.date_created.is_some(), "date_created parsed");
        let sparse = parse_message(&obj(
            json!({"sid": "MM2", "error_code": "30007", "body": null}),
        ))
        .expect("sparse message parses");
        assert_eq!(
            sparse.error_code,
            Some(30007),
            "error code as string is accepted"
        );
        assert_eq!(sparse.body, "", "null body is empty");
        assert_eq!(sparse.num_media, 0, "missing num_media is zero");
    }

    #[test]
    fn media_items_need_a_sid_and_a_uri() {
        let item = obj(json!({
            "sid": "ME0123", "content_type": "Image/JPEG; q=1", "parent_sid": "MM1",
            "uri": "/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME0123.json"
        }));
        let media = parse_media(&item).expect("a full media item parses");
        assert_eq!(media.content_type, "image/jpeg", "the type is normalised");
        assert_eq!(media.sid.as_str(), "ME0123", "the sid is kept");
        assert!(
            parse_media(&obj(json!({"sid": "ME1", "uri": null}))).is_err(),
            "a media item without uri cannot be fetched"
        );
        assert!(
            parse_media(&obj(json!({"sid": "ME/../1", "uri": "/x"}))).is_err(),
            "a sid that could bend a path or file name is refused"
        );
        let untyped = parse_media(&obj(json!({"sid": "ME2", "uri": "/x"}))).expect("parses");
        assert_eq!(untyped.content_type, "", "an unstated type is empty");
    }

    #[test]
    fn numbers_read_sms_capability_in_either_case() {
        let lower = obj(
            json!({"sid": "PN1", "phone_number": "+15005550006", "capabilities": {"sms": true, "voice": true}}),
        );
        assert!(
            parse_number(&lower).expect("parses").sms_capable,
            "sms: true"
        );
        let upper = obj(
            json!({"sid": "PN2", "phone_number": "+15005550007", "capabilities": {"SMS": true}}),
        );
        assert!(
            parse_number(&upper).expect("parses").sms_capable,
            "SMS: true"
        );
        let none = obj(json!({"sid": "PN3", "phone_number": "+15005550008", "capabilities": null}));
        assert!(
            !parse_number(&none).expect("parses").sms_capable,
            "unknown is not capable"
        );
        assert!(
            parse_number(&obj(json!({"sid": "PN4"}))).is_err(),
            "a number without phone_number is useless"
        );
    }

    mod never_panics {
        use super::*;
        use proptest::prelude::*;

        fn json_value() -> impl Strategy<Value = Value> {
            let leaf = prop_oneof![
                Just(Value::Null),
                any::<bool>().prop_map(Value::Bool),
                any::<i64>().prop_map(Value::from),
                any::<f64>().prop_map(Value::from),
                "[a-zA-Z0-9 +:,-]{0,24}".prop_map(Value::String),
                Just(Value::String("CA0123456789abcdef".into())),
                Just(Value::String("Fri, 18 Oct 2019 17:02:00 +0000".into())),
            ];
            leaf.prop_recursive(4, 64, 8, |inner| {
                let keys = prop_oneof![
                    Just("sid".to_owned()),
                    Just("calls".to_owned()),
                    Just("messages".to_owned()),
                    Just("next_page_uri".to_owned()),
                    Just("parent_call_sid".to_owned()),
                    Just("duration".to_owned()),
                    Just("start_time".to_owned()),
                    Just("num_media".to_owned()),
                    Just("error_code".to_owned()),
                    Just("capabilities".to_owned()),
                    "[a-z_]{1,12}",
                ];
                prop_oneof![
                    prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
                    prop::collection::btree_map(keys, inner, 0..8)
                        .prop_map(|m| Value::Object(m.into_iter().collect())),
                ]
            })
        }

        proptest! {
            #[test]
            fn on_arbitrary_json(value in json_value()) {
                let _ = parse_page_value(&value, "calls", parse_call);
                let _ = parse_page_value(&value, "messages", parse_message);
                let _ = parse_page_value(&value, "incoming_phone_numbers", parse_number);
                // Also as the items of a page, where the item parsers see every shape.
                let wrapped = json!({"calls": [value.clone()], "messages": [value]});
                let calls = parse_page_value(&wrapped, "calls", parse_call);
                prop_assert!(calls.is_ok(), "a page with an array of items always parses");
                let messages = parse_page_value(&wrapped, "messages", parse_message);
                prop_assert!(messages.is_ok(), "a page with an array of items always parses");
            }

            #[test]
            fn on_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
                let _ = parse_page(&bytes, "calls", parse_call);
                let _ = parse_object(&bytes, "message", parse_message);
            }
        }
    }
}

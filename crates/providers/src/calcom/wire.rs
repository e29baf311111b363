//! Cal.com API v2 JSON → [`Booking`]s, leniently. The list's `data[]` is an untagged `oneOf`
//! (plain, recurring, seated, recurring seated bookings; CALCOM.md §4), so each item is read
//! field by field from a `serde_json::Value`: one odd item is skipped and counted, the page
//! survives.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};
use textback_domain::PhoneNumber;

use super::errors::{CalcomErrorBody, clip, excerpt};
use crate::booking::{
    Booking, BookingAttendee, BookingError, BookingStatus, BookingUid, LeadRef, REF_METADATA_KEY,
};

type Object = Map<String, Value>;

/// [`crate::BookingSource::name`] of this adapter.
pub(crate) const SOURCE: &str = "calcom";

/// Caps on customer-typed text kept from a booking.
const MAX_NAME_CHARS: usize = 200;
const MAX_EMAIL_CHARS: usize = 254;
const MAX_REASON_CHARS: usize = 1000;

/// One `GET /v2/bookings` page (cal-api-version 2026-05-01).
#[derive(Debug)]
pub(crate) struct ListPage {
    pub items: Vec<Booking>,
    pub skipped: usize,
    pub has_more: bool,
    pub next_cursor: Option<String>,
}

/// What `GET /v2/me` says about the key's owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalcomProfile {
    pub id: u64,
    pub username: String,
    pub email: String,
    /// IANA zone name (`America/New_York`), as the user set it.
    pub time_zone: String,
}

pub(crate) fn parse_list(body: &[u8]) -> Result<ListPage, BookingError> {
    let value = json(body, "the bookings list")?;
    let obj = envelope(&value, "the bookings list")?;
    let raw_items = match obj.get("data") {
        Some(Value::Array(items)) => items,
        Some(_) => return Err(malformed("`data` in the bookings list is not an array")),
        None => return Err(malformed("the bookings list has no `data` array")),
    };
    let pagination = obj
        .get("pagination")
        .and_then(Value::as_object)
        .ok_or_else(|| malformed("the bookings list has no `pagination` object"))?;
    let Some(has_more) = pagination.get("hasMore").and_then(Value::as_bool) else {
        let hint = if pagination.contains_key("hasNextPage") {
            ": it is the take/skip shape of an older cal-api-version, so the \
             `cal-api-version: 2026-05-01` header was not honoured"
        } else {
            ""
        };
        return Err(malformed(&format!(
            "the bookings list's pagination has no boolean `hasMore`{hint}"
        )));
    };
    let next_cursor = match pagination.get("nextCursor") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        Some(_) => {
            return Err(malformed(
                "the bookings list's `pagination.nextCursor` is not a string",
            ));
        }
    };
    let (items, skipped) = parse_items(raw_items);
    Ok(ListPage {
        items,
        skipped,
        has_more,
        next_cursor,
    })
}

/// `GET /v2/bookings/{uid}`: one booking, or every occurrence of a recurring series.
pub(crate) fn parse_one(body: &[u8]) -> Result<(Vec<Booking>, usize), BookingError> {
    let value = json(body, "the booking")?;
    let obj = envelope(&value, "the booking")?;
    match obj.get("data") {
        Some(Value::Array(items)) => Ok(parse_items(items)),
        Some(Value::Object(item)) => parse_booking(item)
            .map(|b| (vec![b], 0))
            .map_err(|why| malformed(&format!("the booking is unusable: {why}"))),
        _ => Err(malformed("the booking answer has no `data` object")),
    }
}

pub(crate) fn parse_me(body: &[u8]) -> Result<CalcomProfile, BookingError> {
    let value = json(body, "the profile")?;
    let data = envelope(&value, "the profile")?
        .get("data")
        .and_then(Value::as_object)
        .ok_or_else(|| malformed("the profile answer has no `data` object"))?;
    let id = number(data, "id").ok_or_else(|| malformed("the profile has no numeric `id`"))?;
    Ok(CalcomProfile {
        id,
        username: text(data, "username", MAX_NAME_CHARS).unwrap_or_default(),
        email: text(data, "email", MAX_EMAIL_CHARS).unwrap_or_default(),
        time_zone: text(data, "timeZone", 64).unwrap_or_default(),
    })
}

fn parse_items(raw_items: &[Value]) -> (Vec<Booking>, usize) {
    let mut items = Vec::with_capacity(raw_items.len());
    let mut skipped = 0;
    for (index, raw) in raw_items.iter().enumerate() {
        let parsed = match raw.as_object() {
            Some(item) => parse_booking(item),
            None => Err("the item is not a JSON object".to_owned()),
        };
        match parsed {
            Ok(booking) => items.push(booking),
            Err(reason) => {
                skipped += 1;
                // NOTE: the item itself is not logged: it holds customers' names and numbers.
                tracing::warn!(source = SOURCE, index, %reason, "skipping an unusable booking");
            }
        }
    }
    (items, skipped)
}

/// One booking of any of the four `oneOf` shapes.
pub(crate) fn parse_booking(item: &Object) -> Result<Booking, String> {
    let uid = match item.get("uid") {
        Some(Value::String(uid)) => BookingUid::parse(uid)?,
        _ => return Err("the booking has no string `uid`".to_owned()),
    };
    let rescheduled_to = optional_uid(item, "rescheduledToUid");
    let status = match item.get("status").and_then(Value::as_str) {
        Some(wire) => status_from_wire(wire, rescheduled_to.is_some()),
        None => return Err("the booking has no `status`".to_owned()),
    };
    let start = date(item, "start").ok_or("the booking has no valid `start` time")?;
    let end = date(item, "end");
    if end.is_some_and(|end| end < start) {
        return Err("the booking ends before it starts".to_owned());
    }
    let fields = item
        .get("bookingFieldsResponses")
        .and_then(Value::as_object);
    let attendees: Vec<&Object> = item
        .get("attendees")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_object).collect())
        .unwrap_or_default();
    Ok(Booking {
        source: SOURCE,
        uid,
        status,
        start,
        end,
        attendee: attendee(attendees.first().copied(), fields),
        lead_ref: lead_ref(item, &attendees, fields),
        rescheduled_from: optional_uid(item, "rescheduledFromUid"),
        rescheduled_to,
        event_type_id: item
            .get("eventType")
            .and_then(Value::as_object)
            .and_then(|et| number(et, "id"))
            .or_else(|| number(item, "eventTypeId")),
        created_at: date(item, "createdAt"),
        updated_at: date(item, "updatedAt"),
        cancellation_reason: text(item, "cancellationReason", MAX_REASON_CHARS),
    })
}

/// The server lowercases its database status, so values beyond the spec's four appear
/// (`awaiting_host`); a cancelled booking that points at its replacement was rescheduled.
pub(crate) fn status_from_wire(wire: &str, has_replacement: bool) -> BookingStatus {
    match wire.trim().to_ascii_lowercase().as_str() {
        "accepted" => BookingStatus::Accepted,
        "pending" | "awaiting_host" | "unconfirmed" => BookingStatus::Pending,
        "cancelled" | "canceled" if has_replacement => BookingStatus::Rescheduled,
        "cancelled" | "canceled" => BookingStatus::Cancelled,
        "rejected" => BookingStatus::Rejected,
        other => BookingStatus::Other(clip(other, 40)),
    }
}

/// The first attendee, with name, email and phone falling back to the booking form's
/// answers (`name` may be `{firstName, lastName}`; the phone field is `attendeePhoneNumber`).
fn attendee(first: Option<&Object>, fields: Option<&Object>) -> Option<BookingAttendee> {
    let from_fields = |key: &str| fields.and_then(|f| f.get(key));
    let name = first
        .and_then(|a| text(a, "name", MAX_NAME_CHARS))
        .or_else(|| from_fields("name").and_then(form_name));
    let email = first
        .and_then(|a| text(a, "email", MAX_EMAIL_CHARS))
        .or_else(|| from_fields("email").and_then(|v| value_text(v, MAX_EMAIL_CHARS)))
        .filter(|e| e.contains('@') && !e.contains(' '));
    let phone = first
        .and_then(|a| a.get("phoneNumber"))
        .and_then(phone_number)
        .or_else(|| from_fields("attendeePhoneNumber").and_then(phone_number));
    if first.is_none() && name.is_none() && email.is_none() && phone.is_none() {
        return None;
    }
    Some(BookingAttendee {
        name: name.unwrap_or_default(),
        email,
        phone,
    })
}

fn form_name(value: &Value) -> Option<String> {
    match value {
        Value::Object(parts) => {
            let joined = ["firstName", "lastName"]
                .iter()
                .filter_map(|k| parts.get(*k).and_then(Value::as_str))
                .collect::<Vec<_>>()
                .join(" ");
            Some(clip(&joined, MAX_NAME_CHARS)).filter(|n| !n.is_empty())
        }
        other => value_text(other, MAX_NAME_CHARS),
    }
}

fn phone_number(value: &Value) -> Option<PhoneNumber> {
    let raw = value.as_str()?;
    if raw.len() > 32 {
        return None;
    }
    PhoneNumber::parse_e164(raw).ok()
}

/// The tracked link's reference: the booking's metadata (where the booker puts
/// `metadata[textback_ref]`), then a seated attendee's own metadata, then a booking question
/// with the same identifier. A malformed value counts as absent.
fn lead_ref(item: &Object, attendees: &[&Object], fields: Option<&Object>) -> Option<LeadRef> {
    let in_metadata = |obj: &Object| {
        obj.get("metadata")
            .and_then(Value::as_object)
            .and_then(|m| m.get(REF_METADATA_KEY))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let raw = in_metadata(item)
        .or_else(|| attendees.iter().find_map(|a| in_metadata(a)))
        .or_else(|| {
            fields
                .and_then(|f| f.get(REF_METADATA_KEY))
                .and_then(Value::as_str)
                .map(str::to_owned)
        })?;
    match LeadRef::parse(&raw) {
        Ok(r) => Some(r),
        Err(why) => {
            tracing::debug!(source = SOURCE, %why, "ignoring a malformed lead reference");
            None
        }
    }
}

fn optional_uid(item: &Object, key: &str) -> Option<BookingUid> {
    item.get(key)
        .and_then(Value::as_str)
        .and_then(|s| BookingUid::parse(s).ok())
}

fn text(obj: &Object, key: &str, max: usize) -> Option<String> {
    obj.get(key).and_then(|v| value_text(v, max))
}

fn value_text(value: &Value, max: usize) -> Option<String> {
    value
        .as_str()
        .map(|s| clip(s, max))
        .filter(|s| !s.is_empty())
}

fn number(obj: &Object, key: &str) -> Option<u64> {
    match obj.get(key)? {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn date(obj: &Object, key: &str) -> Option<DateTime<Utc>> {
    let raw = obj.get(key)?.as_str()?;
    DateTime::parse_from_rfc3339(raw.trim())
        .ok()
        .map(|d| d.with_timezone(&Utc))
}

fn malformed(message: &str) -> BookingError {
    BookingError::Malformed {
        message: message.to_owned(),
    }
}

/// The top-level object of a success answer; a `"status": "error"` body that came with a
/// 2xx is reported with Cal.com's own message.
fn envelope<'a>(value: &'a Value, what: &str) -> Result<&'a Object, BookingError> {
    let obj = value
        .as_object()
        .ok_or_else(|| malformed(&format!("{what} is not a JSON object")))?;
    if obj.get("status").and_then(Value::as_str) == Some("error") {
        let detail = CalcomErrorBody::from_value(value)
            .and_then(|e| e.message.or(e.code))
            .unwrap_or_else(|| "no message".to_owned());
        return Err(malformed(&format!(
            "{what} came back with status \"error\": {detail}"
        )));
    }
    Ok(obj)
}

/// Parses JSON; a body that is not JSON at all (a proxy's HTML page) is quoted so a person
/// can tell what answered. A body that looks like JSON is never quoted: it holds customers'
/// names and numbers.
fn json(body: &[u8], what: &str) -> Result<Value, BookingError> {
    serde_json::from_slice(body).map_err(|e| {
        let looks_like_json = body
            .iter()
            .find(|b| !b.is_ascii_whitespace())
            .is_some_and(|b| matches!(b, b'{' | b'['));
        let message = if looks_like_json || body.is_empty() {
            format!("{what} is not valid JSON ({e})")
        } else {
            format!("{what} is not JSON: {}", excerpt(body))
        };
        BookingError::Malformed { message }
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn booking(extra: Value) -> Object {
        let mut base = json!({
            "id": 7, "uid": "2NtaeaVcKfpmSZ4CthFdfk", "title": "Consultation",
            "description": "", "hosts": [{"id": "unknown", "name": "", "email": "",
              "displayEmail": "", "username": "", "timeZone": "UTC"}],
            "status": "accepted", "start": "2026-05-04T15:30:00.000Z",
            "end": "2026-05-04T16:00:00.000Z", "duration": 30, "eventTypeId": 50,
            "eventType": {"id": 50, "slug": "consult"}, "location": "", "absentHost": false,
            "createdAt": "2026-05-01T10:00:00.000Z", "updatedAt": null,
            "attendees": [{"name": "Jane Doe", "email": "jane@example.com",
              "displayEmail": "jane@example.com", "timeZone": "America/New_York",
              "absent": false, "phoneNumber": "+14155552671"}],
            "bookingFieldsResponses": {"name": "Jane Doe", "email": "jane@example.com"},
            "metadata": {"textback_ref": "AAAAAAAAAAAAAAAAAAAA"}
        });
        let obj = base.as_object_mut().expect("object literal");
        if let Value::Object(extra) = extra {
            obj.extend(extra);
        }
        obj.clone()
    }

    #[test]
    fn a_full_booking_becomes_a_record() {
        let b = parse_booking(&booking(json!({}))).expect("a spec-shaped booking parses");
        assert_eq!(b.uid.as_str(), "2NtaeaVcKfpmSZ4CthFdfk");
        assert_eq!(b.status, BookingStatus::Accepted);
        assert_eq!(
            b.event_type_id,
            Some(50),
            "eventType.id, not the deprecated field"
        );
        assert_eq!(b.updated_at, None, "updatedAt is nullable");
        assert_eq!(
            b.changed_at(),
            b.created_at,
            "without updatedAt the change time is the creation time"
        );
        let attendee = b.attendee.expect("the attendee is kept");
        assert_eq!(attendee.name, "Jane Doe");
        assert_eq!(
            attendee.phone.map(|p| p.as_str().to_owned()),
            Some("+14155552671".to_owned()),
            "attendees[0].phoneNumber is the matching key for leads without a ref"
        );
        assert_eq!(
            b.lead_ref.map(|r| r.as_str().to_owned()),
            Some("AAAAAAAAAAAAAAAAAAAA".to_owned()),
            "metadata.textback_ref carries the lead reference"
        );
    }

    #[test]
    fn statuses_beyond_the_spec_are_kept() {
        assert_eq!(
            status_from_wire("awaiting_host", false),
            BookingStatus::Pending
        );
        assert_eq!(
            status_from_wire("CANCELLED", true),
            BookingStatus::Rescheduled
        );
        assert_eq!(
            status_from_wire("cancelled", false),
            BookingStatus::Cancelled
        );
        assert_eq!(
            status_from_wire("no_show", false),
            BookingStatus::Other("no_show".to_owned()),
            "an unknown status is kept, not an error"
        );
    }

    #[test]
    fn form_answers_fill_in_a_missing_attendee() {
        let b = parse_booking(&booking(json!({
            "attendees": [],
            "bookingFieldsResponses": {
                "name": {"firstName": "Zoë", "lastName": "Ng"},
                "email": "zoe@example.com",
                "attendeePhoneNumber": "+442079460958"
            }
        })))
        .expect("parses");
        let a = b.attendee.expect("built from the form answers");
        assert_eq!(a.name, "Zoë Ng", "the split name field is joined");
        assert_eq!(a.email.as_deref(), Some("zoe@example.com"));
        assert_eq!(
            a.phone.map(|p| p.as_str().to_owned()),
            Some("+442079460958".to_owned())
        );
    }

    #[test]
    fn seated_attendee_metadata_and_form_answers_carry_the_ref_too() {
        let seated = parse_booking(&booking(json!({
            "metadata": {},
            "attendees": [{"name": "A", "email": "a@example.com", "seatUid": "s1",
              "bookingFieldsResponses": {}, "metadata": {"textback_ref": "BBBBBBBBBBBBBBBBBBBB"}}]
        })))
        .expect("parses");
        assert_eq!(
            seated.lead_ref.map(|r| r.to_string()),
            Some("BBBBBBBBBBBBBBBBBBBB".to_owned())
        );
        let question = parse_booking(&booking(json!({
            "metadata": {"videoCallUrl": "https://x"},
            "bookingFieldsResponses": {"textback_ref": "CCCCCCCCCCCCCCCCCCCC"}
        })))
        .expect("parses");
        assert_eq!(
            question.lead_ref.map(|r| r.to_string()),
            Some("CCCCCCCCCCCCCCCCCCCC".to_owned())
        );
    }

    #[test]
    fn hostile_fields_cost_the_field_or_the_item_never_the_page() {
        let odd_ref = parse_booking(&booking(json!({
            "metadata": {"textback_ref": "<script>alert(1)</script>"}
        })))
        .expect("a bad ref does not cost the booking");
        assert_eq!(
            odd_ref.lead_ref, None,
            "a malformed reference counts as absent"
        );
        let long_name = parse_booking(&booking(json!({
            "attendees": [{"name": "x\u{0}y\n".repeat(5000), "email": "not-an-email"}]
        })))
        .expect("parses");
        let a = long_name.attendee.expect("kept");
        assert!(
            a.name.chars().count() <= MAX_NAME_CHARS + 1,
            "names are capped"
        );
        assert!(!a.name.contains('\u{0}'), "control characters are dropped");
        assert_eq!(a.email, None, "an address without @ is not an email");
        for broken in [
            json!({"uid": null}),
            json!({"uid": "has space"}),
            json!({"uid": "x".repeat(500)}),
            json!({"status": 3}),
            json!({"start": "tomorrow"}),
            json!({"end": "2020-01-01T00:00:00Z"}),
        ] {
            assert!(
                parse_booking(&booking(broken.clone())).is_err(),
                "{broken} makes the booking unusable"
            );
        }
    }

    #[test]
    fn list_pages_need_the_cursor_shape() {
        let old = json!({"status": "success", "data": [],
            "pagination": {"totalItems": 0, "hasNextPage": false}});
        let err = parse_list(old.to_string().as_bytes()).expect_err("take/skip shape");
        assert!(
            err.to_string().contains("cal-api-version"),
            "the message points at the version header: {err}"
        );
        let page = json!({"status": "success", "data": [{"uid": 5}, booking(json!({}))],
            "pagination": {"nextCursor": "abc", "hasMore": true}});
        let page = parse_list(page.to_string().as_bytes()).expect("a cursor page");
        assert_eq!(
            (page.items.len(), page.skipped),
            (1, 1),
            "the bad item is skipped"
        );
        assert_eq!(page.next_cursor.as_deref(), Some("abc"));
        assert!(page.has_more);
        let html = parse_list(b"<html>502</html>").expect_err("not JSON");
        assert!(html.to_string().contains("<html>502"), "quoted: {html}");
    }
}

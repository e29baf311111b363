//! The simulated Cal.com account: bookings, raw (hostile) list items, queued faults, the
//! request log, and the JSON rendering of a booking (`BookingOutput_2024_08_13`).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, MutexGuard};

use chrono::{DateTime, SecondsFormat, Utc};
use rand::Rng;
use rand::distr::Alphanumeric;
use serde_json::{Map, Value, json};
use tokio::sync::watch;

use super::{BookingSpec, CalcomFault, CalcomRoute, CalcomSimConfig, EventTypeSpec, LoggedRequest};
use crate::switches::Switches;

/// The statuses a booking may have, as [`BookingSpec`]'s `status` lists them.
const STATUSES: [&str; 5] = [
    "accepted",
    "pending",
    "cancelled",
    "rejected",
    "awaiting_host",
];

/// One booking as the sim keeps it.
#[derive(Debug, Clone)]
pub(crate) struct SimBooking {
    pub id: u64,
    pub uid: String,
    /// The uuid Cal.com orders and pages by; here time-ordered by start, then creation.
    pub sort_uuid: String,
    pub status: String,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub event_type: EventTypeSpec,
    pub attendee_name: String,
    pub attendee_email: String,
    pub attendee_phone: Option<String>,
    pub metadata: BTreeMap<String, String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: Option<DateTime<Utc>>,
    pub cancellation_reason: Option<String>,
    pub cancelled_by_email: Option<String>,
    pub rescheduling_reason: Option<String>,
    pub rescheduled_by_email: Option<String>,
    pub rescheduled_from_uid: Option<String>,
    pub rescheduled_to_uid: Option<String>,
}

/// A list item served verbatim (hostile or broken), at its place in the uuid order.
#[derive(Debug, Clone)]
pub(crate) struct RawItem {
    pub sort_uuid: String,
    pub value: Value,
}

#[derive(Debug, Default)]
pub(crate) struct Inner {
    pub bookings: Vec<SimBooking>,
    pub raw: Vec<RawItem>,
    pub switches: Switches<CalcomRoute, CalcomFault>,
    pub next_id: u64,
    pub next_seq: u64,
    pub log: Vec<LoggedRequest>,
    pub counts: HashMap<CalcomRoute, usize>,
}

#[derive(Debug)]
pub(crate) struct Shared {
    pub cfg: CalcomSimConfig,
    inner: Mutex<Inner>,
    pub shutdown: watch::Sender<bool>,
}

impl Shared {
    pub(crate) fn new(cfg: CalcomSimConfig) -> Self {
        Shared {
            cfg,
            inner: Mutex::new(Inner {
                next_id: 1,
                ..Inner::default()
            }),
            shutdown: watch::Sender::new(false),
        }
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, Inner> {
        // NOTE: a panic elsewhere must not wedge the sim for every later test request.
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(crate) fn now(&self) -> DateTime<Utc> {
        now_locked(&self.lock())
    }

    pub(crate) fn event_type(&self, id: u64) -> Option<EventTypeSpec> {
        self.cfg.event_types.iter().find(|e| e.id == id).cloned()
    }

    pub(crate) fn add_booking(&self, spec: &BookingSpec) -> Result<String, String> {
        let event_type = match spec.event_type_id {
            Some(id) => self
                .event_type(id)
                .ok_or_else(|| format!("the sim has no event type {id}"))?,
            None => self
                .cfg
                .event_types
                .first()
                .cloned()
                .ok_or("the sim has no event types")?,
        };
        let status = spec.status.clone().unwrap_or_else(|| "accepted".to_owned());
        if !STATUSES.contains(&status.as_str()) {
            return Err(format!("unknown booking status {status:?}"));
        }
        let minutes = spec.duration_minutes.unwrap_or(event_type.length_minutes);
        let mut inner = self.lock();
        let now = now_locked(&inner);
        let created_at = spec.created_at.unwrap_or(now);
        let updated_at = if spec.null_updated_at {
            None
        } else {
            Some(spec.updated_at.unwrap_or(created_at))
        };
        let booking = SimBooking {
            id: take(&mut inner.next_id),
            uid: new_uid(),
            sort_uuid: sort_uuid(spec.start, take(&mut inner.next_seq)),
            status,
            start: spec.start,
            end: spec.start + chrono::Duration::minutes(i64::from(minutes)),
            event_type,
            attendee_name: spec.attendee_name.clone(),
            attendee_email: spec.attendee_email.clone(),
            attendee_phone: spec.attendee_phone.clone(),
            metadata: spec.metadata.clone(),
            created_at,
            updated_at,
            cancellation_reason: None,
            cancelled_by_email: None,
            rescheduling_reason: None,
            rescheduled_by_email: None,
            rescheduled_from_uid: None,
            rescheduled_to_uid: None,
        };
        let uid = booking.uid.clone();
        inner.bookings.push(booking);
        Ok(uid)
    }

    pub(crate) fn add_raw(&self, value: Value) {
        let mut inner = self.lock();
        let now = now_locked(&inner);
        let seq = take(&mut inner.next_seq);
        inner.raw.push(RawItem {
            sort_uuid: sort_uuid(now, seq),
            value,
        });
    }

    pub(crate) fn cancel(&self, uid: &str, reason: Option<&str>) -> Result<(), String> {
        let mut inner = self.lock();
        let now = now_locked(&inner);
        let booking = find_mut(&mut inner, uid)?;
        booking.status = "cancelled".to_owned();
        booking.cancellation_reason = reason.map(str::to_owned);
        booking.cancelled_by_email = Some(booking.attendee_email.clone());
        booking.updated_at = Some(now);
        Ok(())
    }

    pub(crate) fn set_status(&self, uid: &str, status: &str) -> Result<(), String> {
        if !STATUSES.contains(&status) {
            return Err(format!("unknown booking status {status:?}"));
        }
        let mut inner = self.lock();
        let now = now_locked(&inner);
        let booking = find_mut(&mut inner, uid)?;
        booking.status = status.to_owned();
        booking.updated_at = Some(now);
        Ok(())
    }

    /// As Cal.com does it: a new booking (new uid) pointing back at the old one, which is
    /// cancelled and points forward. The link's metadata is carried over only when
    /// `keep_metadata` (whether Cal.com keeps it is unconfirmed).
    pub(crate) fn reschedule(
        &self,
        uid: &str,
        start: DateTime<Utc>,
        reason: Option<&str>,
        keep_metadata: bool,
    ) -> Result<String, String> {
        let mut inner = self.lock();
        let now = now_locked(&inner);
        let old = find_mut(&mut inner, uid)?;
        if old.status == "cancelled" || old.status == "rejected" {
            return Err(format!(
                "booking {uid} is {} and cannot be rescheduled",
                old.status
            ));
        }
        let mut new = old.clone();
        let new_uid = new_uid();
        old.status = "cancelled".to_owned();
        old.rescheduled_to_uid = Some(new_uid.clone());
        old.rescheduling_reason = reason.map(str::to_owned);
        old.rescheduled_by_email = Some(old.attendee_email.clone());
        old.updated_at = Some(now);
        let length = new.end - new.start;
        new.uid = new_uid.clone();
        new.start = start;
        new.end = start + length;
        new.status = "accepted".to_owned();
        new.rescheduled_from_uid = Some(uid.to_owned());
        new.rescheduling_reason = reason.map(str::to_owned);
        new.created_at = now;
        new.updated_at = Some(now);
        if !keep_metadata {
            new.metadata.clear();
        }
        new.id = take(&mut inner.next_id);
        new.sort_uuid = sort_uuid(start, take(&mut inner.next_seq));
        inner.bookings.push(new);
        Ok(new_uid)
    }

    pub(crate) fn take_fault(&self, route: CalcomRoute) -> Option<CalcomFault> {
        self.lock().switches.faults.take(route, CalcomRoute::Any)
    }

    pub(crate) fn record(&self, route: Option<CalcomRoute>, request: LoggedRequest) {
        let mut inner = self.lock();
        if let Some(route) = route {
            *inner.counts.entry(route).or_default() += 1;
        }
        // Bounded: a long-running demo must not grow without limit.
        if inner.log.len() >= 10_000 {
            inner.log.remove(0);
        }
        inner.log.push(request);
    }
}

fn find_mut<'a>(inner: &'a mut Inner, uid: &str) -> Result<&'a mut SimBooking, String> {
    inner
        .bookings
        .iter_mut()
        .find(|b| b.uid == uid)
        .ok_or_else(|| format!("no booking {uid}"))
}

pub(crate) fn now_locked(inner: &Inner) -> DateTime<Utc> {
    let now = Utc::now();
    // An absurd offset (from the control API) must not overflow chrono and panic.
    now.checked_add_signed(inner.switches.clock_offset)
        .unwrap_or(now)
}

fn take(counter: &mut u64) -> u64 {
    let value = *counter;
    *counter += 1;
    value
}

/// A 22-character uid like Cal.com's (`2NtaeaVcKfpmSZ4CthFdfk`).
fn new_uid() -> String {
    rand::rng()
        .sample_iter(&Alphanumeric)
        .take(22)
        .map(char::from)
        .collect()
}

/// A uuid-shaped key whose text order is the order of `(at, seq)`, like a v7 uuid.
pub(crate) fn sort_uuid(at: DateTime<Utc>, seq: u64) -> String {
    let ms = u64::try_from(at.timestamp_millis()).unwrap_or(0);
    format!(
        "{:08x}-{:04x}-7{:03x}-8{:03x}-{:012x}",
        ms >> 16,
        ms & 0xffff,
        (seq >> 12) & 0xfff,
        seq & 0xfff,
        seq & 0xffff_ffff_ffff
    )
}

/// Cal.com's API date format (JavaScript `toISOString`).
pub(crate) fn iso(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// A booking as `BookingOutput_2024_08_13`: every required field, optional ones only when set.
pub(crate) fn booking_json(cfg: &CalcomSimConfig, b: &SimBooking) -> Value {
    let user = &cfg.user;
    let mut attendee = json!({
        "name": b.attendee_name,
        "email": b.attendee_email,
        "displayEmail": b.attendee_email,
        "timeZone": user.time_zone,
        "language": "en",
        "absent": false,
    });
    let mut fields = json!({ "name": b.attendee_name, "email": b.attendee_email });
    if let Some(phone) = &b.attendee_phone {
        attendee["phoneNumber"] = json!(phone);
        fields["attendeePhoneNumber"] = json!(phone);
    }
    let location = format!("https://meet.example.com/{}", b.uid);
    let mut out = json!({
        "id": b.id,
        "uid": b.uid,
        "title": format!("{} between {} and {}", b.event_type.title, user.name, b.attendee_name),
        "description": "",
        "hosts": [{
            "id": user.id,
            "name": user.name,
            "email": user.email,
            "displayEmail": user.email,
            "username": user.username,
            "timeZone": user.time_zone,
        }],
        "status": b.status,
        "start": iso(b.start),
        "end": iso(b.end),
        "duration": (b.end - b.start).num_minutes(),
        "eventTypeId": b.event_type.id,
        "eventType": { "id": b.event_type.id, "slug": b.event_type.slug },
        "meetingUrl": location,
        "location": location,
        "absentHost": false,
        "createdAt": iso(b.created_at),
        "updatedAt": b.updated_at.map(iso),
        "metadata": b.metadata,
        "icsUid": format!("{}@Cal.com", b.uid),
        "attendees": [attendee],
        "guests": [],
        "bookingFieldsResponses": fields,
    });
    let optional: [(&str, &Option<String>); 6] = [
        ("cancellationReason", &b.cancellation_reason),
        ("cancelledByEmail", &b.cancelled_by_email),
        ("reschedulingReason", &b.rescheduling_reason),
        ("rescheduledByEmail", &b.rescheduled_by_email),
        ("rescheduledFromUid", &b.rescheduled_from_uid),
        ("rescheduledToUid", &b.rescheduled_to_uid),
    ];
    if let Value::Object(map) = &mut out {
        for (key, value) in optional {
            if let Some(value) = value {
                map.insert(key.to_owned(), json!(value));
            }
        }
    }
    out
}

/// Cal.com's error envelope (`http-exception.filter.ts`).
pub(crate) fn error_json(
    now: DateTime<Utc>,
    path: &str,
    status: u16,
    code: &str,
    message: &str,
) -> Value {
    let mut details = Map::new();
    details.insert("message".to_owned(), json!(message));
    details.insert("statusCode".to_owned(), json!(status));
    json!({
        "status": "error",
        "timestamp": iso(now),
        "path": path,
        "error": { "code": code, "message": message, "details": details },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sort_uuids_order_like_their_times() {
        let t = |s: &str| {
            DateTime::parse_from_rfc3339(s)
                .expect("literal")
                .with_timezone(&Utc)
        };
        let a = sort_uuid(t("2026-05-01T10:00:00Z"), 5);
        let b = sort_uuid(t("2026-05-01T10:00:00Z"), 6);
        let c = sort_uuid(t("2026-05-02T09:00:00Z"), 0);
        assert!(
            a < b && b < c,
            "text order follows (time, seq): {a} {b} {c}"
        );
        assert_eq!(a.len(), 36, "uuid-shaped");
    }
}

//! Bookings seen from a calendar integration (Cal.com today), keyed by the source's id so a
//! booking polled twice is stored once; `lead_id` is set when its reference matched a lead.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};

use crate::time::opt_from_millis;
use crate::{Result, to_millis};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Booking {
    pub id: i64,
    pub source: String,
    pub external_id: String,
    pub lead_id: Option<i64>,
    pub status: String,
    pub starts_at: Option<DateTime<Utc>>,
    pub attendee_name: Option<String>,
    pub attendee_phone: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Seen<'a> {
    pub source: &'a str,
    pub external_id: &'a str,
    pub lead_id: Option<i64>,
    pub status: &'a str,
    pub starts_at: Option<DateTime<Utc>>,
    pub attendee_name: Option<&'a str>,
    pub attendee_phone: Option<&'a str>,
}

/// Inserts or updates a booking. Returns the stored row and whether it is new or its status
/// changed (the caller acts only on changes).
pub fn upsert(conn: &Connection, b: &Seen<'_>, now: DateTime<Utc>) -> Result<(Booking, bool)> {
    let before = find(conn, b.source, b.external_id)?;
    crate::cached::execute(
        conn,
        "INSERT INTO bookings (source, external_id, lead_id, status, starts_at, attendee_name,
            attendee_phone, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT (source, external_id) DO UPDATE SET
            lead_id = COALESCE(bookings.lead_id, excluded.lead_id), status = excluded.status,
            starts_at = excluded.starts_at, attendee_name = excluded.attendee_name,
            attendee_phone = excluded.attendee_phone, updated_at = excluded.updated_at",
        params![
            b.source,
            b.external_id,
            b.lead_id,
            b.status,
            b.starts_at.map(to_millis),
            b.attendee_name,
            b.attendee_phone,
            to_millis(now)
        ],
    )?;
    let after = find(conn, b.source, b.external_id)?
        .ok_or_else(|| crate::StoreError::NotFound("booking just stored".into()))?;
    let changed = before.is_none_or(|p| p.status != after.status || p.lead_id != after.lead_id);
    Ok((after, changed))
}

pub fn find(conn: &Connection, source: &str, external_id: &str) -> Result<Option<Booking>> {
    Ok(conn
        .query_row(
            "SELECT id, source, external_id, lead_id, status, starts_at, attendee_name, attendee_phone
             FROM bookings WHERE source = ?1 AND external_id = ?2",
            params![source, external_id],
            |r| {
                Ok(Booking {
                    id: r.get(0)?,
                    source: r.get(1)?,
                    external_id: r.get(2)?,
                    lead_id: r.get(3)?,
                    status: r.get(4)?,
                    starts_at: opt_from_millis(r.get(5)?),
                    attendee_name: r.get(6)?,
                    attendee_phone: r.get(7)?,
                })
            },
        )
        .optional()?)
}

/// Where polling `source` got to, as the source wrote it.
pub fn cursor(conn: &Connection, source: &str) -> Result<Option<String>> {
    Ok(conn
        .query_row(
            "SELECT cursor FROM booking_cursors WHERE source = ?1",
            [source],
            |r| r.get(0),
        )
        .optional()?)
}

pub fn set_cursor(conn: &Connection, source: &str, cursor: &str, now: DateTime<Utc>) -> Result<()> {
    crate::cached::execute(
        conn,
        "INSERT INTO booking_cursors (source, cursor, updated_at) VALUES (?1, ?2, ?3)
         ON CONFLICT (source) DO UPDATE SET cursor = excluded.cursor, updated_at = excluded.updated_at",
        params![source, cursor, to_millis(now)],
    )?;
    Ok(())
}

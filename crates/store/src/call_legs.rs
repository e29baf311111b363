//! The child legs of a call (Twilio's `<Dial>` targets): what happened to each phone that rang.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, params};

use crate::{Result, to_millis};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leg {
    pub provider_call_id: String,
    pub to_raw: Option<String>,
    pub status: String,
    pub duration_secs: Option<i64>,
    pub answered_by: Option<String>,
}

pub fn upsert(conn: &Connection, call_id: i64, leg: &Leg, now: DateTime<Utc>) -> Result<()> {
    crate::cached::execute(conn,
        "INSERT INTO call_legs (call_id, provider_call_id, to_raw, status, duration_secs, answered_by, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT (provider_call_id) DO UPDATE SET
            status = excluded.status, duration_secs = excluded.duration_secs,
            answered_by = excluded.answered_by, updated_at = excluded.updated_at",
        params![
            call_id,
            leg.provider_call_id,
            leg.to_raw,
            leg.status,
            leg.duration_secs,
            leg.answered_by,
            to_millis(now)
        ],
    )?;
    Ok(())
}

pub fn for_call(conn: &Connection, call_id: i64) -> Result<Vec<Leg>> {
    let mut stmt = conn.prepare_cached(
        "SELECT provider_call_id, to_raw, status, duration_secs, answered_by FROM call_legs
         WHERE call_id = ?1 ORDER BY id",
    )?;
    let rows = stmt
        .query_map([call_id], |r| {
            Ok(Leg {
                provider_call_id: r.get(0)?,
                to_raw: r.get(1)?,
                status: r.get(2)?,
                duration_secs: r.get(3)?,
                answered_by: r.get(4)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

//! The text-back decision for each classified call, send or skip, with its reason: recorded in
//! the same transaction as the outbox row it creates (`UNIQUE(call_id)`: decided once).

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};

use crate::time::opt_from_millis;
use crate::{Result, from_millis, to_millis};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub call_id: i64,
    pub action: String,
    pub code: String,
    pub reason: String,
    pub outbox_id: Option<i64>,
    pub decided_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct New<'a> {
    pub call_id: i64,
    /// `send`, `late` or `skip`.
    pub action: &'a str,
    pub code: &'a str,
    pub reason: &'a str,
    pub outbox_id: Option<i64>,
}

/// Records the decision. False if the call was already decided (then nothing was written).
pub fn insert(conn: &Connection, d: &New<'_>, now: DateTime<Utc>) -> Result<bool> {
    let n = crate::cached::execute(
        conn,
        "INSERT INTO decisions (call_id, action, code, reason, outbox_id, decided_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (call_id) DO NOTHING",
        params![
            d.call_id,
            d.action,
            d.code,
            d.reason,
            d.outbox_id,
            to_millis(now)
        ],
    )?;
    Ok(n == 1)
}

pub fn for_call(conn: &Connection, call_id: i64) -> Result<Option<Decision>> {
    Ok(conn
        .query_row(
            "SELECT call_id, action, code, reason, outbox_id, decided_at FROM decisions WHERE call_id = ?1",
            [call_id],
            |r| {
                Ok(Decision {
                    call_id: r.get(0)?,
                    action: r.get(1)?,
                    code: r.get(2)?,
                    reason: r.get(3)?,
                    outbox_id: r.get(4)?,
                    decided_at: from_millis(r.get(5)?),
                })
            },
        )
        .optional()?)
}

/// When the caller was last texted back on this business number, for the dedupe window: when
/// the text went out, or (not sent yet) when its call ended.
pub fn last_text_back_at(
    conn: &Connection,
    contact_id: i64,
    business_number: &str,
) -> Result<Option<DateTime<Utc>>> {
    let at: Option<i64> = crate::cached::query_row(conn,
        "SELECT MAX(CASE WHEN o.state = 'sent' THEN MAX(o.updated_at, COALESCE(c.ended_at, c.started_at, 0))
                         ELSE COALESCE(c.ended_at, c.started_at) END)
         FROM decisions d JOIN calls c ON c.id = d.call_id LEFT JOIN outbox o ON o.id = d.outbox_id
         WHERE c.contact_id = ?1 AND c.business_number = ?2 AND d.action = 'send'",
        params![contact_id, business_number],
        |r| r.get(0),
    )?;
    Ok(opt_from_millis(at))
}

pub fn mark_superseded(conn: &Connection, call_id: i64, code: &str, reason: &str) -> Result<()> {
    crate::cached::execute(
        conn,
        "UPDATE decisions SET action = 'skip', code = ?2, reason = ?3 WHERE call_id = ?1",
        params![call_id, code, reason],
    )?;
    Ok(())
}

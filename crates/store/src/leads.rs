//! A lead is one missed-call opportunity being worked: new → texted → replied → booked | lost
//! | opted_out. One open lead per conversation; repeat calls fold into it.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::time::opt_from_millis;
use crate::{Result, from_millis, to_millis};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lead {
    pub id: i64,
    pub conversation_id: i64,
    pub state: String,
    pub first_call_id: Option<i64>,
    pub opened_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
    pub escalated: bool,
    pub job_value_cents: Option<i64>,
}

const COLUMNS: &str =
    "id, conversation_id, state, first_call_id, opened_at, closed_at, escalated, job_value_cents";

fn from_row(r: &Row<'_>) -> rusqlite::Result<Lead> {
    Ok(Lead {
        id: r.get(0)?,
        conversation_id: r.get(1)?,
        state: r.get(2)?,
        first_call_id: r.get(3)?,
        opened_at: from_millis(r.get(4)?),
        closed_at: opt_from_millis(r.get(5)?),
        escalated: r.get(6)?,
        job_value_cents: r.get(7)?,
    })
}

pub fn open_for(conn: &Connection, conversation_id: i64) -> Result<Option<Lead>> {
    Ok(conn
        .query_row(
            &format!(
                "SELECT {COLUMNS} FROM leads WHERE conversation_id = ?1 AND closed_at IS NULL"
            ),
            [conversation_id],
            from_row,
        )
        .optional()?)
}

pub fn latest_for(conn: &Connection, conversation_id: i64) -> Result<Option<Lead>> {
    Ok(conn
        .query_row(
            &format!(
                "SELECT {COLUMNS} FROM leads WHERE conversation_id = ?1 ORDER BY id DESC LIMIT 1"
            ),
            [conversation_id],
            from_row,
        )
        .optional()?)
}

/// The open lead, opening one (for `call_id`, when a call started it) if there is none.
pub fn ensure_open(
    conn: &Connection,
    conversation_id: i64,
    call_id: Option<i64>,
    now: DateTime<Utc>,
) -> Result<Lead> {
    if let Some(lead) = open_for(conn, conversation_id)? {
        return Ok(lead);
    }
    crate::cached::execute(
        conn,
        "INSERT INTO leads (conversation_id, state, first_call_id, opened_at, updated_at)
         VALUES (?1, 'new', ?2, ?3, ?3)",
        params![conversation_id, call_id, to_millis(now)],
    )?;
    open_for(conn, conversation_id)?
        .ok_or_else(|| crate::StoreError::NotFound("lead just opened".into()))
}

/// Moves the lead to `state`; closing states also set `closed_at`.
pub fn set_state(
    conn: &Connection,
    id: i64,
    state: &str,
    closes: bool,
    now: DateTime<Utc>,
) -> Result<()> {
    crate::cached::execute(
        conn,
        "UPDATE leads SET state = ?2, updated_at = ?3,
            closed_at = CASE WHEN ?4 THEN COALESCE(closed_at, ?3) ELSE closed_at END
         WHERE id = ?1",
        params![id, state, to_millis(now), closes],
    )?;
    Ok(())
}

pub fn set_job_value(conn: &Connection, id: i64, cents: Option<i64>) -> Result<()> {
    crate::cached::execute(
        conn,
        "UPDATE leads SET job_value_cents = ?2 WHERE id = ?1",
        params![id, cents],
    )?;
    Ok(())
}

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
    /// Touches sent: the text-back is the first, follow-ups the rest.
    pub touches: i64,
    pub last_touch_at: Option<DateTime<Utc>>,
    /// The reference in this lead's tracked booking link.
    pub booking_ref: Option<String>,
    /// booked | lost | opted_out | superseded | inactive, once closed.
    pub close_reason: Option<String>,
    /// The last call, message or staff action on the lead (for the inactivity close).
    pub last_activity_at: Option<DateTime<Utc>>,
    /// The first reply from the customer.
    pub replied_at: Option<DateTime<Utc>>,
}

const COLUMNS: &str = "id, conversation_id, state, first_call_id, opened_at, closed_at, escalated,
    job_value_cents, touches, last_touch_at, ref, close_reason, last_activity_at, replied_at";

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
        touches: r.get(8)?,
        last_touch_at: opt_from_millis(r.get(9)?),
        booking_ref: r.get(10)?,
        close_reason: r.get(11)?,
        last_activity_at: opt_from_millis(r.get(12)?),
        replied_at: opt_from_millis(r.get(13)?),
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
        "INSERT INTO leads (conversation_id, state, first_call_id, opened_at, updated_at,
            last_activity_at)
         VALUES (?1, 'new', ?2, ?3, ?3, ?3)",
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

pub fn get(conn: &Connection, id: i64) -> Result<Lead> {
    conn.query_row(
        &format!("SELECT {COLUMNS} FROM leads WHERE id = ?1"),
        [id],
        from_row,
    )
    .optional()?
    .ok_or_else(|| crate::StoreError::NotFound(format!("lead {id}")))
}

/// The lead whose tracked booking link carries `reference`.
pub fn by_ref(conn: &Connection, reference: &str) -> Result<Option<Lead>> {
    Ok(conn
        .query_row(
            &format!("SELECT {COLUMNS} FROM leads WHERE ref = ?1"),
            [reference],
            from_row,
        )
        .optional()?)
}

pub fn set_ref(conn: &Connection, id: i64, reference: &str) -> Result<()> {
    crate::cached::execute(
        conn,
        "UPDATE leads SET ref = ?2 WHERE id = ?1 AND ref IS NULL",
        params![id, reference],
    )?;
    Ok(())
}

/// Closes the lead in `state` for `reason` (no-op when already closed). True if it closed now.
pub fn close(
    conn: &Connection,
    id: i64,
    state: &str,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<bool> {
    let n = crate::cached::execute(
        conn,
        "UPDATE leads SET state = ?2, close_reason = ?3, closed_at = ?4, updated_at = ?4
         WHERE id = ?1 AND closed_at IS NULL",
        params![id, state, reason, to_millis(now)],
    )?;
    Ok(n == 1)
}

/// Counts a touch (text-back or follow-up) that went out at `at`.
pub fn record_touch(conn: &Connection, id: i64, at: DateTime<Utc>) -> Result<()> {
    crate::cached::execute(
        conn,
        "UPDATE leads SET touches = touches + 1, last_touch_at = ?2, updated_at = ?2,
            last_activity_at = MAX(COALESCE(last_activity_at, 0), ?2)
         WHERE id = ?1",
        params![id, to_millis(at)],
    )?;
    Ok(())
}

/// Something happened on the lead (a call, a message, a staff action): it is not inactive.
pub fn record_activity(conn: &Connection, id: i64, at: DateTime<Utc>) -> Result<()> {
    crate::cached::execute(
        conn,
        "UPDATE leads SET last_activity_at = MAX(COALESCE(last_activity_at, 0), ?2) WHERE id = ?1",
        params![id, to_millis(at)],
    )?;
    Ok(())
}

/// The customer replied: the first reply time is kept for the funnel.
pub fn record_reply(conn: &Connection, id: i64, at: DateTime<Utc>) -> Result<()> {
    crate::cached::execute(
        conn,
        "UPDATE leads SET replied_at = COALESCE(replied_at, ?2),
            last_activity_at = MAX(COALESCE(last_activity_at, 0), ?2)
         WHERE id = ?1",
        params![id, to_millis(at)],
    )?;
    Ok(())
}

pub fn set_escalated(conn: &Connection, id: i64, escalated: bool) -> Result<()> {
    crate::cached::execute(
        conn,
        "UPDATE leads SET escalated = ?2 WHERE id = ?1",
        params![id, escalated],
    )?;
    Ok(())
}

/// Open leads with no activity since `cutoff` (to close as inactive).
pub fn open_inactive_since(conn: &Connection, cutoff: DateTime<Utc>) -> Result<Vec<Lead>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM leads
         WHERE closed_at IS NULL AND COALESCE(last_activity_at, opened_at) < ?1 ORDER BY id"
    ))?;
    let rows = stmt
        .query_map([to_millis(cutoff)], from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// Leads opened in `[from, to)`, oldest first: the owner's funnel is built from these.
pub fn opened_between(
    conn: &Connection,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<Lead>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM leads WHERE opened_at >= ?1 AND opened_at < ?2 ORDER BY opened_at, id"
    ))?;
    let rows = stmt
        .query_map(params![to_millis(from), to_millis(to)], from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// Reopens a closed lead in `state` (its booking was cancelled). False if it is open, or the
/// conversation already has another open lead.
pub fn reopen(conn: &Connection, id: i64, state: &str, now: DateTime<Utc>) -> Result<bool> {
    let n = crate::cached::execute(
        conn,
        "UPDATE leads SET state = ?2, closed_at = NULL, close_reason = NULL, updated_at = ?3,
            last_activity_at = ?3
         WHERE id = ?1 AND closed_at IS NOT NULL AND NOT EXISTS (
            SELECT 1 FROM leads o WHERE o.conversation_id = leads.conversation_id
                AND o.closed_at IS NULL)",
        params![id, state, to_millis(now)],
    )?;
    Ok(n == 1)
}

/// The open lead of any conversation with this contact phone (newest first).
pub fn open_for_phone(conn: &Connection, phone: &str) -> Result<Option<Lead>> {
    Ok(conn
        .query_row(
            &format!(
                "SELECT {} FROM leads l
                 JOIN conversations v ON v.id = l.conversation_id
                 JOIN contacts c ON c.id = v.contact_id
                 WHERE c.phone = ?1 AND l.closed_at IS NULL ORDER BY l.id DESC LIMIT 1",
                COLUMNS
                    .split(',')
                    .map(|c| format!("l.{}", c.trim()))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            [phone],
            from_row,
        )
        .optional()?)
}

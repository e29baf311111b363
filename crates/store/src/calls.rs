//! Calls to and from the business numbers, mirrored from the provider and keyed by its call id
//! (`UNIQUE(provider, provider_call_id)`), with the outcome Textback classified.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::time::opt_from_millis;
use crate::{Result, StoreError, to_millis};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    pub id: i64,
    pub provider: String,
    pub provider_call_id: String,
    pub business_number: String,
    pub caller_raw: String,
    pub contact_id: Option<i64>,
    pub conversation_id: Option<i64>,
    pub direction: String,
    pub status: String,
    pub started_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    pub duration_secs: Option<i64>,
    pub outcome: Option<String>,
    pub outcome_reason: Option<String>,
    pub before_textback: bool,
}

/// What sync knows about a call from the provider's list.
#[derive(Debug, Clone)]
pub struct Upsert<'a> {
    pub provider: &'a str,
    pub provider_call_id: &'a str,
    pub business_number: &'a str,
    pub caller_raw: &'a str,
    pub contact_id: Option<i64>,
    pub conversation_id: Option<i64>,
    pub direction: &'a str,
    pub status: &'a str,
    pub started_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    pub duration_secs: Option<i64>,
    /// Only used when the row is created: an existing call never changes history status.
    pub before_textback: bool,
}

const COLUMNS: &str = "id, provider, provider_call_id, business_number, caller_raw, contact_id, conversation_id,
    direction, status, started_at, ended_at, duration_secs, outcome, outcome_reason, before_textback";

fn from_row(r: &Row<'_>) -> rusqlite::Result<Call> {
    Ok(Call {
        id: r.get(0)?,
        provider: r.get(1)?,
        provider_call_id: r.get(2)?,
        business_number: r.get(3)?,
        caller_raw: r.get(4)?,
        contact_id: r.get(5)?,
        conversation_id: r.get(6)?,
        direction: r.get(7)?,
        status: r.get(8)?,
        started_at: opt_from_millis(r.get(9)?),
        ended_at: opt_from_millis(r.get(10)?),
        duration_secs: r.get(11)?,
        outcome: r.get(12)?,
        outcome_reason: r.get(13)?,
        before_textback: r.get(14)?,
    })
}

/// Inserts or refreshes a call. Returns the stored row and whether it was new. A classified
/// call is final: later list answers do not change it (so it is decided exactly once).
pub fn upsert(conn: &Connection, c: &Upsert<'_>, now: DateTime<Utc>) -> Result<(Call, bool)> {
    let inserted = crate::cached::execute(conn,
        "INSERT INTO calls (provider, provider_call_id, business_number, caller_raw, contact_id,
            conversation_id, direction, status, started_at, ended_at, duration_secs, before_textback,
            first_seen_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?13)
         ON CONFLICT (provider, provider_call_id) DO NOTHING",
        params![
            c.provider,
            c.provider_call_id,
            c.business_number,
            c.caller_raw,
            c.contact_id,
            c.conversation_id,
            c.direction,
            c.status,
            c.started_at.map(to_millis),
            c.ended_at.map(to_millis),
            c.duration_secs,
            c.before_textback,
            to_millis(now),
        ],
    )? == 1;
    if !inserted {
        crate::cached::execute(
            conn,
            "UPDATE calls SET status = ?3, ended_at = ?4, duration_secs = ?5, updated_at = ?6
             WHERE provider = ?1 AND provider_call_id = ?2 AND outcome IS NULL
               AND (status IS NOT ?3 OR ended_at IS NOT ?4 OR duration_secs IS NOT ?5)",
            params![
                c.provider,
                c.provider_call_id,
                c.status,
                c.ended_at.map(to_millis),
                c.duration_secs,
                to_millis(now),
            ],
        )?;
    }
    let call = by_provider_id(conn, c.provider, c.provider_call_id)?
        .ok_or_else(|| StoreError::NotFound(format!("call {}", c.provider_call_id)))?;
    Ok((call, inserted))
}

pub fn by_provider_id(conn: &Connection, provider: &str, sid: &str) -> Result<Option<Call>> {
    Ok(conn
        .query_row(
            &format!("SELECT {COLUMNS} FROM calls WHERE provider = ?1 AND provider_call_id = ?2"),
            params![provider, sid],
            from_row,
        )
        .optional()?)
}

pub fn get(conn: &Connection, id: i64) -> Result<Call> {
    crate::cached::query_row(
        conn,
        &format!("SELECT {COLUMNS} FROM calls WHERE id = ?1"),
        [id],
        from_row,
    )
    .optional()?
    .ok_or_else(|| StoreError::NotFound(format!("call {id}")))
}

/// Records the classification. Returns false if the call was already classified (another
/// task got there first), so callers decide at most once.
pub fn set_outcome(
    conn: &Connection,
    id: i64,
    outcome: &str,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<bool> {
    let n = crate::cached::execute(
        conn,
        "UPDATE calls SET outcome = ?2, outcome_reason = ?3, updated_at = ?4 WHERE id = ?1 AND outcome IS NULL",
        params![id, outcome, reason, to_millis(now)],
    )?;
    Ok(n == 1)
}

pub fn for_conversation(conn: &Connection, conversation_id: i64) -> Result<Vec<Call>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM calls WHERE conversation_id = ?1 ORDER BY started_at, id"
    ))?;
    let rows = stmt
        .query_map([conversation_id], from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// The first call with this contact on this business number that started after `after` and
/// was answered: an inbound call classified `answered`, or a staff call-back that connected.
pub fn answered_after(
    conn: &Connection,
    contact_id: i64,
    business_number: &str,
    after: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>> {
    let at: Option<i64> = crate::cached::query_row(conn,
        "SELECT MIN(started_at) FROM calls
         WHERE contact_id = ?1 AND business_number = ?2 AND started_at > ?3
           AND (outcome = 'answered'
                OR (direction <> 'inbound' AND status = 'completed' AND COALESCE(duration_secs, 0) > 0))",
        params![contact_id, business_number, to_millis(after)],
        |r| r.get(0),
    )?;
    Ok(opt_from_millis(at))
}

/// Calls not yet classified: revisited on every sync until they end.
pub fn unclassified(conn: &Connection, business_number: &str) -> Result<Vec<Call>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM calls WHERE business_number = ?1 AND outcome IS NULL ORDER BY id"
    ))?;
    let rows = stmt
        .query_map([business_number], from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// Inbound calls that are classified but not yet decided, with when each ended: the
/// responder decides them once their grace window has passed.
pub fn undecided(conn: &Connection, business_number: &str) -> Result<Vec<(i64, DateTime<Utc>)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT cl.id, COALESCE(cl.ended_at, cl.started_at, cl.first_seen_at) FROM calls cl
         LEFT JOIN decisions d ON d.call_id = cl.id
         WHERE cl.business_number = ?1 AND cl.direction = 'inbound' AND cl.outcome IS NOT NULL
           AND d.id IS NULL
         ORDER BY cl.id",
    )?;
    let rows = stmt
        .query_map([business_number], |r| {
            Ok((r.get::<_, i64>(0)?, crate::from_millis(r.get(1)?)))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// Evidence that a responder is texting back missed calls on `number`: looks at the newest
/// textable missed call that ended 2 minutes to 24 hours before `now`. None when there is no
/// such call; otherwise whether an outbound message followed it in its conversation.
pub fn recent_missed_texted(
    conn: &Connection,
    business_number: &str,
    now: DateTime<Utc>,
) -> Result<Option<bool>> {
    let newest = to_millis(now - chrono::Duration::minutes(2));
    let oldest = to_millis(now - chrono::Duration::hours(24));
    let row: Option<(i64, i64)> = conn
        .query_row(
            "SELECT cl.conversation_id, COALESCE(cl.ended_at, cl.started_at) AS ended FROM calls cl
             JOIN contacts k ON k.id = cl.contact_id
             WHERE cl.business_number = ?1 AND cl.direction = 'inbound' AND cl.outcome IS NOT NULL
               AND cl.outcome <> 'answered' AND cl.before_textback = 0 AND cl.conversation_id IS NOT NULL
               AND k.opted_out_at IS NULL AND k.landline = 0
               AND COALESCE(cl.ended_at, cl.started_at) BETWEEN ?3 AND ?2
             ORDER BY ended DESC LIMIT 1",
            params![business_number, newest, oldest],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let Some((conversation_id, ended)) = row else {
        return Ok(None);
    };
    let texted: bool = crate::cached::query_row(conn,
        "SELECT EXISTS (SELECT 1 FROM messages WHERE conversation_id = ?1 AND direction = 'outbound'
                        AND created_at >= ?2)",
        params![conversation_id, ended],
        |r| r.get(0),
    )?;
    Ok(Some(texted))
}

/// When the oldest call that is not yet classified started: sync keeps listing from there so
/// the call is seen again until it ends.
pub fn oldest_unclassified_start(
    conn: &Connection,
    business_number: &str,
) -> Result<Option<DateTime<Utc>>> {
    let at: Option<i64> = crate::cached::query_row(
        conn,
        "SELECT MIN(started_at) FROM calls WHERE business_number = ?1 AND outcome IS NULL",
        [business_number],
        |r| r.get(0),
    )?;
    Ok(opt_from_millis(at))
}

/// When each missed call in `[from, to)` rang (its start; its end or first sight without one),
/// oldest first: the top of the owner's funnel. Counted like leads are opened: inbound,
/// classified as not answered, seen live (not imported history), and not from a member of
/// staff or to a number that is not the business's.
pub fn missed_between(
    conn: &Connection,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<DateTime<Utc>>> {
    let mut stmt = conn.prepare_cached(
        "SELECT at FROM (
            SELECT COALESCE(cl.started_at, cl.ended_at, cl.first_seen_at) AS at FROM calls cl
            WHERE cl.direction = 'inbound' AND cl.outcome IS NOT NULL AND cl.outcome <> 'answered'
              AND cl.before_textback = 0
              AND NOT EXISTS (SELECT 1 FROM decisions d WHERE d.call_id = cl.id
                              AND d.code IN ('staff_number', 'not_business_number')))
         WHERE at >= ?1 AND at < ?2 ORDER BY at",
    )?;
    let rows = stmt
        .query_map(params![to_millis(from), to_millis(to)], |r| {
            Ok(crate::from_millis(r.get(0)?))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// When each of these calls rang (its start; its end or first sight without one), by id.
/// Unknown ids are left out.
pub fn rang_at(
    conn: &Connection,
    ids: &[i64],
) -> Result<std::collections::HashMap<i64, DateTime<Utc>>> {
    let ids =
        serde_json::to_string(ids).map_err(|e| StoreError::Invalid(format!("call ids: {e}")))?;
    let mut stmt = conn.prepare_cached(
        "SELECT id, COALESCE(started_at, ended_at, first_seen_at) FROM calls
         WHERE id IN (SELECT value FROM json_each(?1))",
    )?;
    let rows = stmt
        .query_map([ids], |r| {
            Ok((r.get::<_, i64>(0)?, crate::from_millis(r.get(1)?)))
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

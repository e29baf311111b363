//! Escalations: a lead that needs a person now, paged to whoever is on shift until someone
//! acknowledges it. One open escalation per lead (a partial unique index): a second rule
//! firing for the same lead adds its reason instead of paging again.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::time::opt_from_millis;
use crate::{Result, from_millis, to_millis};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Escalation {
    pub id: i64,
    pub lead_id: i64,
    pub conversation_id: i64,
    /// One line per rule that fired, oldest first.
    pub reasons: Vec<String>,
    pub opened_at: DateTime<Utc>,
    /// Paging rounds sent so far.
    pub pages: i64,
    /// The backup/owner has been added to the people paged.
    pub backup_added: bool,
    pub acked_at: Option<DateTime<Utc>>,
    pub acked_by: Option<String>,
}

impl Escalation {
    pub fn is_open(&self) -> bool {
        self.acked_at.is_none()
    }
}

const COLUMNS: &str =
    "id, lead_id, conversation_id, reasons, opened_at, pages, backup_added, acked_at, acked_by";

fn from_row(r: &Row<'_>) -> rusqlite::Result<Escalation> {
    let reasons: String = r.get(3)?;
    Ok(Escalation {
        id: r.get(0)?,
        lead_id: r.get(1)?,
        conversation_id: r.get(2)?,
        reasons: reasons.lines().map(str::to_owned).collect(),
        opened_at: from_millis(r.get(4)?),
        pages: r.get(5)?,
        backup_added: r.get(6)?,
        acked_at: opt_from_millis(r.get(7)?),
        acked_by: r.get(8)?,
    })
}

/// What `raise` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Raised {
    /// A new escalation: page now.
    Opened(Escalation),
    /// The lead already had one open: the reason was added, nobody is paged again.
    Added(Escalation),
}

/// Escalates a lead for `reason`, or adds the reason to its open escalation.
pub fn raise(
    conn: &Connection,
    lead_id: i64,
    conversation_id: i64,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<Raised> {
    let reason = reason.replace(['\r', '\n'], " ");
    if let Some(open) = open_for_lead(conn, lead_id)? {
        if !open.reasons.contains(&reason) {
            crate::cached::execute(
                conn,
                "UPDATE escalations SET reasons = reasons || char(10) || ?2, updated_at = ?3
                 WHERE id = ?1",
                params![open.id, reason, to_millis(now)],
            )?;
        }
        return Ok(Raised::Added(get(conn, open.id)?));
    }
    crate::cached::execute(
        conn,
        "INSERT INTO escalations (lead_id, conversation_id, reasons, opened_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?4)",
        params![lead_id, conversation_id, reason, to_millis(now)],
    )?;
    Ok(Raised::Opened(get(conn, conn.last_insert_rowid())?))
}

pub fn get(conn: &Connection, id: i64) -> Result<Escalation> {
    conn.query_row(
        &format!("SELECT {COLUMNS} FROM escalations WHERE id = ?1"),
        [id],
        from_row,
    )
    .optional()?
    .ok_or_else(|| crate::StoreError::NotFound(format!("escalation {id}")))
}

pub fn open_for_lead(conn: &Connection, lead_id: i64) -> Result<Option<Escalation>> {
    Ok(conn
        .query_row(
            &format!("SELECT {COLUMNS} FROM escalations WHERE lead_id = ?1 AND acked_at IS NULL"),
            [lead_id],
            from_row,
        )
        .optional()?)
}

/// The newest escalation of a conversation (open or not), for the thread.
pub fn latest_for_conversation(
    conn: &Connection,
    conversation_id: i64,
) -> Result<Option<Escalation>> {
    Ok(conn
        .query_row(
            &format!(
                "SELECT {COLUMNS} FROM escalations WHERE conversation_id = ?1 ORDER BY id DESC LIMIT 1"
            ),
            [conversation_id],
            from_row,
        )
        .optional()?)
}

/// Every open escalation, oldest first.
pub fn open(conn: &Connection) -> Result<Vec<Escalation>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM escalations WHERE acked_at IS NULL ORDER BY id"
    ))?;
    let rows = stmt
        .query_map([], from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// Acknowledges it. False if it was already acknowledged (the first acknowledgement wins).
pub fn acknowledge(conn: &Connection, id: i64, by: &str, now: DateTime<Utc>) -> Result<bool> {
    let n = crate::cached::execute(
        conn,
        "UPDATE escalations SET acked_at = ?2, acked_by = ?3, updated_at = ?2
         WHERE id = ?1 AND acked_at IS NULL",
        params![id, to_millis(now), by],
    )?;
    Ok(n == 1)
}

/// Records a paging round: the round number is `pages` before the call. Returns the round.
pub fn record_round(
    conn: &Connection,
    id: i64,
    backup_added: bool,
    now: DateTime<Utc>,
) -> Result<i64> {
    let round: i64 = crate::cached::query_row(
        conn,
        "SELECT pages FROM escalations WHERE id = ?1",
        [id],
        |r| r.get(0),
    )?;
    crate::cached::execute(
        conn,
        "UPDATE escalations SET pages = pages + 1,
            backup_added = MAX(backup_added, ?2), updated_at = ?3 WHERE id = ?1",
        params![id, backup_added, to_millis(now)],
    )?;
    Ok(round)
}

/// Records that `staff` was paged in `round` (false if already recorded: page once per round).
pub fn record_page(
    conn: &Connection,
    escalation_id: i64,
    staff: &str,
    phone: Option<&str>,
    round: i64,
    outbox_id: Option<i64>,
    now: DateTime<Utc>,
) -> Result<bool> {
    let n = crate::cached::execute(
        conn,
        "INSERT INTO escalation_pages (escalation_id, staff, phone, round, outbox_id, sent_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT DO NOTHING",
        params![
            escalation_id,
            staff,
            phone,
            round,
            outbox_id,
            to_millis(now)
        ],
    )?;
    Ok(n == 1)
}

/// The newest open escalation paged to `phone` (a staff member replying "OK" acknowledges it).
pub fn newest_open_paged_to(conn: &Connection, phone: &str) -> Result<Option<Escalation>> {
    Ok(conn
        .query_row(
            &format!(
                "SELECT {} FROM escalations e
                 WHERE e.acked_at IS NULL AND EXISTS (
                    SELECT 1 FROM escalation_pages p WHERE p.escalation_id = e.id AND p.phone = ?1)
                 ORDER BY (SELECT MAX(sent_at) FROM escalation_pages p
                           WHERE p.escalation_id = e.id AND p.phone = ?1) DESC, e.id DESC
                 LIMIT 1",
                COLUMNS
                    .split(", ")
                    .map(|c| format!("e.{c}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            [phone],
            from_row,
        )
        .optional()?)
}

/// Who was paged for an escalation, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    pub staff: String,
    pub phone: Option<String>,
    pub round: i64,
    pub sent_at: DateTime<Utc>,
}

pub fn pages(conn: &Connection, escalation_id: i64) -> Result<Vec<Page>> {
    let mut stmt = conn.prepare_cached(
        "SELECT staff, phone, round, sent_at FROM escalation_pages
         WHERE escalation_id = ?1 ORDER BY round, id",
    )?;
    let rows = stmt
        .query_map([escalation_id], |r| {
            Ok(Page {
                staff: r.get(0)?,
                phone: r.get(1)?,
                round: r.get(2)?,
                sent_at: from_millis(r.get(3)?),
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

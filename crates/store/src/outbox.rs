//! Every outbound message goes through the outbox, so nothing is lost while offline and
//! nothing is sent twice: a unique idempotency key per intent (`textback:<call>`), the row is
//! marked in flight before the HTTP call, and an in-flight row found after a crash is reconciled
//! against the provider's message log before any resend.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::time::opt_from_millis;
use crate::{Result, StoreError, from_millis, to_millis};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    TextBack,
    LateTextBack,
    Manual,
    /// A later touch of a lead's follow-up sequence.
    FollowUp,
    /// The HELP reply.
    KeywordReply,
    /// The one confirmation after an opt-out: the only message that may go to a number that
    /// has just opted out.
    OptOutConfirmation,
    /// An SMS to a member of staff about an escalated lead.
    Escalation,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::TextBack => "textback",
            Kind::LateTextBack => "late_textback",
            Kind::Manual => "manual",
            Kind::FollowUp => "followup",
            Kind::KeywordReply => "keyword_reply",
            Kind::OptOutConfirmation => "optout_confirmation",
            Kind::Escalation => "escalation",
        }
    }

    fn parse(s: &str) -> Self {
        match s {
            "textback" => Kind::TextBack,
            "late_textback" => Kind::LateTextBack,
            "followup" => Kind::FollowUp,
            "keyword_reply" => Kind::KeywordReply,
            "optout_confirmation" => Kind::OptOutConfirmation,
            "escalation" => Kind::Escalation,
            _ => Kind::Manual,
        }
    }

    /// Sent by Textback on its own (only the responder desk sends these).
    pub fn is_automatic(self) -> bool {
        matches!(
            self,
            Kind::TextBack
                | Kind::FollowUp
                | Kind::KeywordReply
                | Kind::OptOutConfirmation
                | Kind::Escalation
        )
    }

    /// A touch of the lead's sequence (the text-back or a follow-up): counts towards its cap.
    pub fn is_touch(self) -> bool {
        matches!(self, Kind::TextBack | Kind::LateTextBack | Kind::FollowUp)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Pending,
    /// Marked before the HTTP request: after a crash the outcome is unknown.
    InFlight,
    /// The provider may or may not have taken it (timeout, 5xx): reconcile before resending.
    Unknown,
    Sent,
    Failed,
    Cancelled,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Pending => "pending",
            State::InFlight => "in_flight",
            State::Unknown => "unknown",
            State::Sent => "sent",
            State::Failed => "failed",
            State::Cancelled => "cancelled",
        }
    }

    fn parse(s: &str) -> Result<Self> {
        Ok(match s {
            "pending" => State::Pending,
            "in_flight" => State::InFlight,
            "unknown" => State::Unknown,
            "sent" => State::Sent,
            "failed" => State::Failed,
            "cancelled" => State::Cancelled,
            other => return Err(StoreError::Invalid(format!("outbox state {other:?}"))),
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub id: i64,
    pub idempotency_key: String,
    pub kind: Kind,
    pub business_number: String,
    pub to_number: String,
    pub body: String,
    pub conversation_id: Option<i64>,
    pub call_id: Option<i64>,
    pub check_since: Option<DateTime<Utc>>,
    pub state: State,
    pub attempts: i64,
    pub next_attempt_at: DateTime<Utc>,
    pub provider_message_id: Option<String>,
    pub last_error: Option<String>,
    pub author: Option<String>,
    pub created_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, idempotency_key, kind, business_number, to_number, body, conversation_id, call_id,
    check_since, state, attempts, next_attempt_at, provider_message_id, last_error, author, created_at";

fn from_row(r: &Row<'_>) -> rusqlite::Result<(Entry, String)> {
    let state: String = r.get(9)?;
    let kind: String = r.get(2)?;
    Ok((
        Entry {
            id: r.get(0)?,
            idempotency_key: r.get(1)?,
            kind: Kind::parse(&kind),
            business_number: r.get(3)?,
            to_number: r.get(4)?,
            body: r.get(5)?,
            conversation_id: r.get(6)?,
            call_id: r.get(7)?,
            check_since: opt_from_millis(r.get(8)?),
            state: State::Pending,
            attempts: r.get(10)?,
            next_attempt_at: from_millis(r.get(11)?),
            provider_message_id: r.get(12)?,
            last_error: r.get(13)?,
            author: r.get(14)?,
            created_at: from_millis(r.get(15)?),
        },
        state,
    ))
}

fn finish(rows: Vec<(Entry, String)>) -> Result<Vec<Entry>> {
    rows.into_iter()
        .map(|(mut e, s)| {
            e.state = State::parse(&s)?;
            Ok(e)
        })
        .collect()
}

#[derive(Debug, Clone)]
pub struct New<'a> {
    pub idempotency_key: &'a str,
    pub kind: Kind,
    pub business_number: &'a str,
    pub to_number: &'a str,
    pub body: &'a str,
    pub conversation_id: Option<i64>,
    pub call_id: Option<i64>,
    pub check_since: Option<DateTime<Utc>>,
    pub author: Option<&'a str>,
    pub not_before: DateTime<Utc>,
}

/// Queues a message. Returns `None` when a message with the same idempotency key already
/// exists: the intent was recorded before, and must not be sent twice.
pub fn enqueue(conn: &Connection, n: &New<'_>, now: DateTime<Utc>) -> Result<Option<i64>> {
    let inserted = crate::cached::execute(conn,
        "INSERT INTO outbox (idempotency_key, kind, business_number, to_number, body, conversation_id,
            call_id, check_since, state, next_attempt_at, author, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'pending', ?9, ?10, ?11, ?11)
         ON CONFLICT (idempotency_key) DO NOTHING",
        params![
            n.idempotency_key,
            n.kind.as_str(),
            n.business_number,
            n.to_number,
            n.body,
            n.conversation_id,
            n.call_id,
            n.check_since.map(to_millis),
            to_millis(n.not_before),
            n.author,
            to_millis(now)
        ],
    )?;
    Ok((inserted == 1).then(|| conn.last_insert_rowid()))
}

pub fn get(conn: &Connection, id: i64) -> Result<Entry> {
    let row = conn
        .query_row(
            &format!("SELECT {COLUMNS} FROM outbox WHERE id = ?1"),
            [id],
            from_row,
        )
        .optional()?
        .ok_or_else(|| StoreError::NotFound(format!("outbox {id}")))?;
    Ok(finish(vec![row])?.remove(0))
}

/// Pending entries whose time has come, oldest first. Messages to one number go out in the
/// order they were queued: an entry waits while an earlier one to the same number is still
/// unfinished (waiting out a retry, in flight, or not yet reconciled).
pub fn due(conn: &Connection, now: DateTime<Utc>, limit: u32) -> Result<Vec<Entry>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM outbox WHERE state = 'pending' AND next_attempt_at <= ?1
            AND NOT EXISTS (SELECT 1 FROM outbox earlier
                WHERE earlier.to_number = outbox.to_number AND earlier.id < outbox.id
                  AND earlier.state IN ('pending', 'in_flight', 'unknown'))
         ORDER BY id LIMIT ?2"
    ))?;
    let rows = stmt
        .query_map(params![to_millis(now), limit], from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    finish(rows)
}

/// When the next pending entry falls due, if any.
pub fn next_due_at(conn: &Connection) -> Result<Option<DateTime<Utc>>> {
    let at: Option<i64> = crate::cached::query_row(
        conn,
        "SELECT MIN(next_attempt_at) FROM outbox WHERE state = 'pending'",
        [],
        |r| r.get(0),
    )?;
    Ok(opt_from_millis(at))
}

/// Entries whose send may or may not have reached the provider.
pub fn unresolved(conn: &Connection) -> Result<Vec<Entry>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM outbox WHERE state IN ('in_flight', 'unknown') ORDER BY id"
    ))?;
    let rows = stmt
        .query_map([], from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    finish(rows)
}

pub fn count_waiting(conn: &Connection) -> Result<i64> {
    Ok(crate::cached::query_row(
        conn,
        "SELECT COUNT(*) FROM outbox WHERE state IN ('pending', 'in_flight', 'unknown')",
        [],
        |r| r.get(0),
    )?)
}

fn transition(
    conn: &Connection,
    id: i64,
    from: &[State],
    sql_set: &str,
    extra: &[&dyn rusqlite::ToSql],
) -> Result<bool> {
    let states = from
        .iter()
        .map(|s| format!("'{}'", s.as_str()))
        .collect::<Vec<_>>()
        .join(",");
    let sql = format!("UPDATE outbox SET {sql_set} WHERE id = ?1 AND state IN ({states})");
    let mut p: Vec<&dyn rusqlite::ToSql> = vec![&id];
    p.extend_from_slice(extra);
    Ok(crate::cached::execute(conn, &sql, p.as_slice())? == 1)
}

/// Claims a pending entry for sending. False if someone else claimed or resolved it.
pub fn mark_in_flight(conn: &Connection, id: i64, now: DateTime<Utc>) -> Result<bool> {
    transition(
        conn,
        id,
        &[State::Pending],
        "state = 'in_flight', attempts = attempts + 1, updated_at = ?2",
        &[&to_millis(now)],
    )
}

pub fn mark_sent(conn: &Connection, id: i64, sid: &str, now: DateTime<Utc>) -> Result<bool> {
    transition(
        conn,
        id,
        &[State::Pending, State::InFlight, State::Unknown],
        "state = 'sent', provider_message_id = ?2, last_error = NULL, updated_at = ?3",
        &[&sid, &to_millis(now)],
    )
}

/// Back to pending for another attempt at `next_at` (only for errors where the provider
/// certainly did not take the message, or after reconciliation found it was not sent).
pub fn mark_retry(
    conn: &Connection,
    id: i64,
    next_at: DateTime<Utc>,
    error: &str,
    now: DateTime<Utc>,
) -> Result<bool> {
    transition(
        conn,
        id,
        &[State::InFlight, State::Unknown, State::Pending],
        "state = 'pending', next_attempt_at = ?2, last_error = ?3, updated_at = ?4",
        &[&to_millis(next_at), &error, &to_millis(now)],
    )
}

pub fn mark_unknown(conn: &Connection, id: i64, error: &str, now: DateTime<Utc>) -> Result<bool> {
    transition(
        conn,
        id,
        &[State::InFlight],
        "state = 'unknown', last_error = ?2, updated_at = ?3",
        &[&error, &to_millis(now)],
    )
}

pub fn mark_failed(
    conn: &Connection,
    id: i64,
    code: Option<i64>,
    error: &str,
    now: DateTime<Utc>,
) -> Result<bool> {
    transition(
        conn,
        id,
        &[State::Pending, State::InFlight, State::Unknown],
        "state = 'failed', error_code = ?2, last_error = ?3, updated_at = ?4",
        &[&code, &error, &to_millis(now)],
    )
}

pub fn cancel(conn: &Connection, id: i64, reason: &str, now: DateTime<Utc>) -> Result<bool> {
    transition(
        conn,
        id,
        &[State::Pending, State::InFlight, State::Unknown],
        "state = 'cancelled', last_error = ?2, updated_at = ?3",
        &[&reason, &to_millis(now)],
    )
}

/// Ids of entries still waiting to go to `phone` (to cancel them when the number opts out).
pub fn pending_to(conn: &Connection, phone: &str) -> Result<Vec<i64>> {
    let mut stmt =
        conn.prepare_cached("SELECT id FROM outbox WHERE to_number = ?1 AND state = 'pending'")?;
    let rows = stmt
        .query_map([phone], |r| r.get(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// Ties a queued message to the lead it works (follow-ups, escalation pages).
pub fn set_lead(conn: &Connection, id: i64, lead_id: i64) -> Result<()> {
    crate::cached::execute(
        conn,
        "UPDATE outbox SET lead_id = ?2 WHERE id = ?1",
        params![id, lead_id],
    )?;
    Ok(())
}

/// The lead a queued message works, if any.
pub fn lead_of(conn: &Connection, id: i64) -> Result<Option<i64>> {
    Ok(crate::cached::query_row(
        conn,
        "SELECT lead_id FROM outbox WHERE id = ?1",
        [id],
        |r| r.get(0),
    )?)
}

/// Cancels every automatic message still waiting for a lead (it booked, replied, was lost).
pub fn cancel_for_lead(
    conn: &Connection,
    lead_id: i64,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<Vec<i64>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id FROM outbox WHERE lead_id = ?1 AND state = 'pending' AND kind = 'followup'",
    )?;
    let ids = stmt
        .query_map([lead_id], |r| r.get::<_, i64>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut cancelled = Vec::new();
    for id in ids {
        if cancel(conn, id, reason, now)? {
            cancelled.push(id);
        }
    }
    Ok(cancelled)
}

/// Did Textback queue exactly this message to `to` since `since`? (Sync can list a message
/// of ours before the sender has recorded the provider's answer.)
pub fn queued_same(conn: &Connection, to: &str, body: &str, since: DateTime<Utc>) -> Result<bool> {
    Ok(crate::cached::query_row(
        conn,
        "SELECT EXISTS (SELECT 1 FROM outbox WHERE to_number = ?1 AND body = ?2 AND created_at >= ?3)",
        params![to, body, to_millis(since)],
        |r| r.get(0),
    )?)
}

/// When the newest message of `kind` to `to` was queued (keyword replies: once per opt-out,
/// once per help interval).
pub fn latest_of_kind_to(conn: &Connection, to: &str, kind: Kind) -> Result<Option<DateTime<Utc>>> {
    let at: Option<i64> = crate::cached::query_row(
        conn,
        "SELECT MAX(created_at) FROM outbox WHERE to_number = ?1 AND kind = ?2",
        params![to, kind.as_str()],
        |r| r.get(0),
    )?;
    Ok(opt_from_millis(at))
}

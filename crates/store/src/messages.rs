//! SMS/MMS in each conversation: synced from the provider (keyed by its message id) and, for
//! what Textback sends, created from the outbox first so the inbox shows "pending" at once.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::{Result, from_millis, to_millis};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub id: i64,
    pub provider_message_id: Option<String>,
    pub conversation_id: i64,
    pub direction: Direction,
    pub body: String,
    pub status: String,
    pub error_code: Option<i64>,
    pub error_message: Option<String>,
    pub num_media: i64,
    pub outbox_id: Option<i64>,
    pub automatic: bool,
    pub flagged: Option<String>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Inbound,
    Outbound,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Inbound => "inbound",
            Direction::Outbound => "outbound",
        }
    }
}

const COLUMNS: &str =
    "id, provider_message_id, conversation_id, direction, body, status, error_code,
    error_message, num_media, outbox_id, automatic, flagged, created_at";

fn from_row(r: &Row<'_>) -> rusqlite::Result<Message> {
    let direction: String = r.get(3)?;
    Ok(Message {
        id: r.get(0)?,
        provider_message_id: r.get(1)?,
        conversation_id: r.get(2)?,
        direction: if direction == "inbound" {
            Direction::Inbound
        } else {
            Direction::Outbound
        },
        body: r.get(4)?,
        status: r.get(5)?,
        error_code: r.get(6)?,
        error_message: r.get(7)?,
        num_media: r.get(8)?,
        outbox_id: r.get(9)?,
        automatic: r.get(10)?,
        flagged: r.get(11)?,
        created_at: from_millis(r.get(12)?),
    })
}

/// A message as the provider lists it.
#[derive(Debug, Clone)]
pub struct Synced<'a> {
    pub provider: &'a str,
    pub provider_message_id: &'a str,
    pub conversation_id: i64,
    pub direction: Direction,
    pub body: &'a str,
    pub status: &'a str,
    pub error_code: Option<i64>,
    pub error_message: Option<&'a str>,
    pub num_media: i64,
    pub created_at: DateTime<Utc>,
}

/// Inserts a synced message or refreshes its status. Returns the row and whether it was new.
pub fn upsert_synced(
    conn: &Connection,
    m: &Synced<'_>,
    now: DateTime<Utc>,
) -> Result<(Message, bool)> {
    let inserted = crate::cached::execute(conn,
        "INSERT INTO messages (provider, provider_message_id, conversation_id, direction, body, status,
            error_code, error_message, num_media, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
         ON CONFLICT (provider, provider_message_id) DO NOTHING",
        params![
            m.provider,
            m.provider_message_id,
            m.conversation_id,
            m.direction.as_str(),
            m.body,
            m.status,
            m.error_code,
            m.error_message,
            m.num_media,
            to_millis(m.created_at),
            to_millis(now)
        ],
    )? == 1;
    if !inserted {
        update_status(
            conn,
            m.provider,
            m.provider_message_id,
            m.status,
            m.error_code,
            m.error_message,
            now,
        )?;
    }
    let msg = by_provider_id(conn, m.provider, m.provider_message_id)?
        .ok_or_else(|| crate::StoreError::NotFound(format!("message {}", m.provider_message_id)))?;
    Ok((msg, inserted))
}

/// Updates delivery status. Returns true if anything changed.
pub fn update_status(
    conn: &Connection,
    provider: &str,
    sid: &str,
    status: &str,
    error_code: Option<i64>,
    error_message: Option<&str>,
    now: DateTime<Utc>,
) -> Result<bool> {
    let n = crate::cached::execute(
        conn,
        "UPDATE messages SET status = ?3, error_code = ?4, error_message = ?5, updated_at = ?6
         WHERE provider = ?1 AND provider_message_id = ?2
           AND (status IS NOT ?3 OR error_code IS NOT ?4)",
        params![
            provider,
            sid,
            status,
            error_code,
            error_message,
            to_millis(now)
        ],
    )?;
    Ok(n > 0)
}

/// The message row for an outbox entry, shown as pending until the provider accepts it.
pub fn insert_outgoing(
    conn: &Connection,
    provider: &str,
    conversation_id: i64,
    outbox_id: i64,
    body: &str,
    automatic: bool,
    now: DateTime<Utc>,
) -> Result<i64> {
    crate::cached::execute(conn,
        "INSERT INTO messages (provider, conversation_id, direction, body, status, outbox_id, automatic,
            created_at, updated_at)
         VALUES (?1, ?2, 'outbound', ?3, 'pending', ?4, ?5, ?6, ?6)",
        params![provider, conversation_id, body, outbox_id, automatic, to_millis(now)],
    )?;
    Ok(conn.last_insert_rowid())
}

/// Links the outbox's message row to the provider's message id. If sync already imported the
/// same message (it saw it in the provider's log before we recorded the answer), that copy is
/// dropped so the message appears once.
pub fn attach_provider_id(
    conn: &Connection,
    provider: &str,
    outbox_id: i64,
    sid: &str,
    status: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    crate::cached::execute(
        conn,
        "DELETE FROM messages WHERE provider = ?1 AND provider_message_id = ?2
           AND (outbox_id IS NULL OR outbox_id <> ?3)",
        params![provider, sid, outbox_id],
    )?;
    crate::cached::execute(
        conn,
        "UPDATE messages SET provider_message_id = ?2, status = ?3, updated_at = ?4 WHERE outbox_id = ?1",
        params![outbox_id, sid, status, to_millis(now)],
    )?;
    Ok(())
}

pub fn set_outgoing_status(
    conn: &Connection,
    outbox_id: i64,
    status: &str,
    error_code: Option<i64>,
    error_message: Option<&str>,
    now: DateTime<Utc>,
) -> Result<()> {
    crate::cached::execute(
        conn,
        "UPDATE messages SET status = ?2, error_code = ?3, error_message = ?4, updated_at = ?5 WHERE outbox_id = ?1",
        params![outbox_id, status, error_code, error_message, to_millis(now)],
    )?;
    Ok(())
}

pub fn flag(conn: &Connection, id: i64, why: &str) -> Result<()> {
    crate::cached::execute(
        conn,
        "UPDATE messages SET flagged = ?2 WHERE id = ?1",
        params![id, why],
    )?;
    Ok(())
}

pub fn by_provider_id(conn: &Connection, provider: &str, sid: &str) -> Result<Option<Message>> {
    Ok(conn
        .query_row(
            &format!(
                "SELECT {COLUMNS} FROM messages WHERE provider = ?1 AND provider_message_id = ?2"
            ),
            params![provider, sid],
            from_row,
        )
        .optional()?)
}

pub fn get(conn: &Connection, id: i64) -> Result<Message> {
    crate::cached::query_row(
        conn,
        &format!("SELECT {COLUMNS} FROM messages WHERE id = ?1"),
        [id],
        from_row,
    )
    .optional()?
    .ok_or_else(|| crate::StoreError::NotFound(format!("message {id}")))
}

pub fn by_outbox_id(conn: &Connection, outbox_id: i64) -> Result<Option<Message>> {
    Ok(conn
        .query_row(
            &format!("SELECT {COLUMNS} FROM messages WHERE outbox_id = ?1"),
            [outbox_id],
            from_row,
        )
        .optional()?)
}

/// The newest `limit` messages of a conversation, oldest first.
pub fn for_conversation(
    conn: &Connection,
    conversation_id: i64,
    limit: u32,
) -> Result<Vec<Message>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT * FROM (SELECT {COLUMNS} FROM messages WHERE conversation_id = ?1
                        ORDER BY created_at DESC, id DESC LIMIT ?2)
         ORDER BY created_at, id"
    ))?;
    let rows = stmt
        .query_map(params![conversation_id, limit], from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// Outbound messages whose delivery is not yet final: their status is re-read from the provider.
pub fn awaiting_delivery(
    conn: &Connection,
    provider: &str,
    since: DateTime<Utc>,
) -> Result<Vec<(String, String)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT provider_message_id, status FROM messages
         WHERE provider = ?1 AND direction = 'outbound' AND provider_message_id IS NOT NULL
           AND status IN ('queued', 'accepted', 'sending', 'sent', 'scheduled') AND created_at >= ?2",
    )?;
    let rows = stmt
        .query_map(params![provider, to_millis(since)], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// Removes the pending copy of an outbox entry that will never be sent.
pub fn delete_unsent(conn: &Connection, outbox_id: i64) -> Result<()> {
    crate::cached::execute(
        conn,
        "DELETE FROM messages WHERE outbox_id = ?1 AND provider_message_id IS NULL",
        [outbox_id],
    )?;
    Ok(())
}

/// Did a person (not Textback's automation) send anything in the conversation after `at`?
pub fn person_answered_after(
    conn: &Connection,
    conversation_id: i64,
    at: DateTime<Utc>,
) -> Result<bool> {
    Ok(crate::cached::query_row(
        conn,
        "SELECT EXISTS (SELECT 1 FROM messages WHERE conversation_id = ?1
            AND direction = 'outbound' AND automatic = 0 AND created_at > ?2)",
        params![conversation_id, to_millis(at)],
        |r| r.get(0),
    )?)
}

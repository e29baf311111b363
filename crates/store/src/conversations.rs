//! One conversation per business number and contact: the inbox's rows.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::{Result, StoreError, from_millis, to_millis};

/// What the inbox list shows for one conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    pub id: i64,
    pub contact_id: i64,
    pub contact_name: Option<String>,
    pub contact_phone: String,
    pub business_number: String,
    pub last_activity_at: DateTime<Utc>,
    pub snippet: String,
    pub unread: i64,
    pub done: bool,
    pub assigned_to: Option<String>,
    pub awaiting_reply: bool,
    pub opted_out: bool,
    /// State of the newest lead, if the conversation ever had one.
    pub lead_state: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Filter {
    #[default]
    All,
    Unread,
    NeedsReply,
    Unbooked,
    Booked,
    Done,
}

impl Filter {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "all" => Filter::All,
            "unread" => Filter::Unread,
            "needs_reply" => Filter::NeedsReply,
            "unbooked" => Filter::Unbooked,
            "booked" => Filter::Booked,
            "done" => Filter::Done,
            _ => return None,
        })
    }

    fn sql(self) -> &'static str {
        match self {
            Filter::All => "c.done = 0",
            Filter::Unread => "c.unread > 0",
            Filter::NeedsReply => "c.awaiting_reply = 1 AND c.done = 0",
            Filter::Unbooked => "(LEAD_STATE) IN ('new', 'texted', 'replied')",
            Filter::Booked => "(LEAD_STATE) = 'booked'",
            Filter::Done => "c.done = 1",
        }
    }
}

const LEAD_STATE: &str =
    "SELECT l.state FROM leads l WHERE l.conversation_id = c.id ORDER BY l.id DESC LIMIT 1";

/// Position in the list: rows strictly older than this come next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageCursor {
    pub last_activity_at: i64,
    pub id: i64,
}

impl PageCursor {
    pub fn encode(&self) -> String {
        format!("{}:{}", self.last_activity_at, self.id)
    }

    pub fn decode(s: &str) -> Option<Self> {
        let (a, b) = s.split_once(':')?;
        Some(Self {
            last_activity_at: a.parse().ok()?,
            id: b.parse().ok()?,
        })
    }
}

#[derive(Debug, Clone, Default)]
pub struct Query {
    pub search: Option<String>,
    pub filter: Filter,
    pub before: Option<PageCursor>,
    pub limit: u32,
}

const SELECT: &str = "
    SELECT c.id, c.contact_id, k.name, k.phone, c.business_number, c.last_activity_at, c.snippet,
           c.unread, c.done, c.assigned_to, c.awaiting_reply, k.opted_out_at IS NOT NULL,
           (SELECT l.state FROM leads l WHERE l.conversation_id = c.id ORDER BY l.id DESC LIMIT 1)
    FROM conversations c JOIN contacts k ON k.id = c.contact_id";

fn from_row(r: &Row<'_>) -> rusqlite::Result<Summary> {
    Ok(Summary {
        id: r.get(0)?,
        contact_id: r.get(1)?,
        contact_name: r.get(2)?,
        contact_phone: r.get(3)?,
        business_number: r.get(4)?,
        last_activity_at: from_millis(r.get(5)?),
        snippet: r.get(6)?,
        unread: r.get(7)?,
        done: r.get(8)?,
        assigned_to: r.get(9)?,
        awaiting_reply: r.get(10)?,
        opted_out: r.get(11)?,
        lead_state: r.get(12)?,
    })
}

/// Turns what a person typed into an FTS5 prefix query that matches it literally: the text
/// becomes one quoted phrase, so FTS operators in it (`OR`, `*`, `"`) have no effect.
fn fts_phrase(search: &str) -> String {
    format!("\"{}\"*", search.replace('"', "\"\""))
}

/// One page of the inbox, newest activity first.
pub fn list(conn: &Connection, q: &Query) -> Result<Vec<Summary>> {
    let limit = q.limit.clamp(1, 500);
    let (before_at, before_id) = q
        .before
        .map(|c| (c.last_activity_at, c.id))
        .unwrap_or((i64::MAX, i64::MAX));
    let search = q.search.as_deref().map(str::trim).filter(|s| !s.is_empty());
    let mut sql = format!(
        "{SELECT} WHERE (c.last_activity_at, c.id) < (?1, ?2) AND {}",
        q.filter.sql().replace("LEAD_STATE", LEAD_STATE)
    );
    if search.is_some() {
        sql.push_str(
            " AND (k.name LIKE ?4 ESCAPE '\\' OR k.phone LIKE ?4 ESCAPE '\\'
                   OR c.id IN (SELECT m.conversation_id FROM messages m
                               WHERE m.id IN (SELECT rowid FROM messages_fts WHERE messages_fts MATCH ?5)))",
        );
    }
    sql.push_str(" ORDER BY c.last_activity_at DESC, c.id DESC LIMIT ?3");
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = if let Some(text) = search {
        let like = format!(
            "%{}%",
            text.replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_")
        );
        stmt.query_map(
            params![before_at, before_id, limit, like, fts_phrase(text)],
            from_row,
        )?
        .collect::<rusqlite::Result<Vec<_>>>()?
    } else {
        stmt.query_map(params![before_at, before_id, limit], from_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?
    };
    Ok(rows)
}

pub fn get(conn: &Connection, id: i64) -> Result<Summary> {
    conn.query_row(&format!("{SELECT} WHERE c.id = ?1"), [id], from_row)
        .optional()?
        .ok_or_else(|| StoreError::NotFound(format!("conversation {id}")))
}

/// The conversation's id, creating it on first contact.
pub fn ensure(
    conn: &Connection,
    business_number: &str,
    contact_id: i64,
    at: DateTime<Utc>,
) -> Result<i64> {
    conn.execute(
        "INSERT OR IGNORE INTO conversations (business_number, contact_id, last_activity_at)
         VALUES (?1, ?2, ?3)",
        params![business_number, contact_id, to_millis(at)],
    )?;
    Ok(conn.query_row(
        "SELECT id FROM conversations WHERE business_number = ?1 AND contact_id = ?2",
        params![business_number, contact_id],
        |r| r.get(0),
    )?)
}

/// What happened in a conversation, for its list row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activity {
    /// The customer wrote: unread, awaiting a reply, reopened if done.
    Inbound,
    /// We wrote: no longer awaiting a reply.
    Outbound,
    /// A call or other event: only moves the row up.
    Other,
}

/// Moves the conversation up the list (never down: a late-synced old item keeps the newer
/// time) and updates its snippet and flags.
pub fn touch(
    conn: &Connection,
    id: i64,
    at: DateTime<Utc>,
    snippet: &str,
    activity: Activity,
) -> Result<()> {
    let snippet: String = snippet.chars().take(140).collect();
    let at = to_millis(at);
    conn.execute(
        "UPDATE conversations SET
            snippet = CASE WHEN ?2 >= last_activity_at THEN ?3 ELSE snippet END,
            last_activity_at = MAX(last_activity_at, ?2)
         WHERE id = ?1",
        params![id, at, snippet],
    )?;
    match activity {
        Activity::Inbound => conn.execute(
            "UPDATE conversations SET unread = unread + 1, awaiting_reply = 1, done = 0 WHERE id = ?1",
            [id],
        )?,
        Activity::Outbound => conn.execute("UPDATE conversations SET awaiting_reply = 0 WHERE id = ?1", [id])?,
        Activity::Other => 0,
    };
    Ok(())
}

pub fn mark_read(conn: &Connection, id: i64, read: bool) -> Result<()> {
    let n = conn.execute(
        "UPDATE conversations SET unread = CASE WHEN ?2 THEN 0 ELSE MAX(unread, 1) END WHERE id = ?1",
        params![id, read],
    )?;
    found(n, id)
}

pub fn set_done(conn: &Connection, id: i64, done: bool) -> Result<()> {
    let n = conn.execute(
        "UPDATE conversations SET done = ?2 WHERE id = ?1",
        params![id, done],
    )?;
    found(n, id)
}

pub fn assign(conn: &Connection, id: i64, staff: Option<&str>) -> Result<()> {
    let n = conn.execute(
        "UPDATE conversations SET assigned_to = ?2 WHERE id = ?1",
        params![id, staff],
    )?;
    found(n, id)
}

pub fn total_unread(conn: &Connection) -> Result<i64> {
    Ok(conn.query_row(
        "SELECT COALESCE(SUM(unread), 0) FROM conversations",
        [],
        |r| r.get(0),
    )?)
}

fn found(n: usize, id: i64) -> Result<()> {
    if n == 0 {
        Err(StoreError::NotFound(format!("conversation {id}")))
    } else {
        Ok(())
    }
}

//! Append-only record of what happened and who or what caused it.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, params};

use crate::{Result, from_millis, to_millis};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub action: String,
    pub subject: Option<String>,
    pub detail: Option<String>,
}

pub fn record(
    conn: &Connection,
    at: DateTime<Utc>,
    actor: &str,
    action: &str,
    subject: Option<&str>,
    detail: Option<&str>,
) -> Result<()> {
    crate::cached::execute(
        conn,
        "INSERT INTO audit_log (at, actor, action, subject, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![to_millis(at), actor, action, subject, detail],
    )?;
    Ok(())
}

pub fn for_subject(conn: &Connection, subject: &str) -> Result<Vec<Entry>> {
    let mut stmt = conn.prepare(
        "SELECT id, at, actor, action, subject, detail FROM audit_log WHERE subject = ?1 ORDER BY at, id",
    )?;
    let rows = stmt
        .query_map([subject], from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Entry> {
    Ok(Entry {
        id: r.get(0)?,
        at: from_millis(r.get(1)?),
        actor: r.get(2)?,
        action: r.get(3)?,
        subject: r.get(4)?,
        detail: r.get(5)?,
    })
}

/// The entries about any lead the conversation ever had (subject `lead:<id>`) whose action is
/// one of `actions`, oldest first: what the thread's timeline shows besides calls and messages.
/// One seek of `audit_by_subject` per lead.
pub fn for_conversation_leads(
    conn: &Connection,
    conversation_id: i64,
    actions: &[&str],
) -> Result<Vec<Entry>> {
    let actions = serde_json::to_string(actions)
        .map_err(|e| crate::StoreError::Invalid(format!("audit actions: {e}")))?;
    let mut stmt = conn.prepare_cached(
        "SELECT a.id, a.at, a.actor, a.action, a.subject, a.detail
         FROM leads l CROSS JOIN audit_log a ON a.subject = 'lead:' || l.id
         WHERE l.conversation_id = ?1 AND a.action IN (SELECT value FROM json_each(?2))
         ORDER BY a.at, a.id",
    )?;
    let rows = stmt
        .query_map(params![conversation_id, actions], from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

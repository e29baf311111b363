//! Internal notes staff leave on a conversation; never sent to the customer.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, params};

use crate::{Result, from_millis, to_millis};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    pub id: i64,
    pub conversation_id: i64,
    pub author: String,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

pub fn add(
    conn: &Connection,
    conversation_id: i64,
    author: &str,
    body: &str,
    now: DateTime<Utc>,
) -> Result<Note> {
    crate::cached::execute(
        conn,
        "INSERT INTO notes (conversation_id, author, body, created_at) VALUES (?1, ?2, ?3, ?4)",
        params![conversation_id, author, body, to_millis(now)],
    )?;
    Ok(Note {
        id: conn.last_insert_rowid(),
        conversation_id,
        author: author.to_owned(),
        body: body.to_owned(),
        created_at: now,
    })
}

pub fn for_conversation(conn: &Connection, conversation_id: i64) -> Result<Vec<Note>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, conversation_id, author, body, created_at FROM notes WHERE conversation_id = ?1 ORDER BY created_at, id",
    )?;
    let rows = stmt
        .query_map([conversation_id], |r| {
            Ok(Note {
                id: r.get(0)?,
                conversation_id: r.get(1)?,
                author: r.get(2)?,
                body: r.get(3)?,
                created_at: from_millis(r.get(4)?),
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

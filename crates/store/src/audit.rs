//! Append-only record of what happened and who or what caused it.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, params};

use crate::{Result, from_millis, to_millis};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
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
        "SELECT at, actor, action, subject, detail FROM audit_log WHERE subject = ?1 ORDER BY at, id",
    )?;
    let rows = stmt
        .query_map([subject], |r| {
            Ok(Entry {
                at: from_millis(r.get(0)?),
                actor: r.get(1)?,
                action: r.get(2)?,
                subject: r.get(3)?,
                detail: r.get(4)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

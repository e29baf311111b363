//! Per account, business number and resource: when Textback started watching (anything that
//! started earlier is history and is never texted) and how far sync has got.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};

use crate::time::opt_from_millis;
use crate::{Result, from_millis, to_millis};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    Calls,
    Messages,
}

impl Resource {
    fn as_str(self) -> &'static str {
        match self {
            Resource::Calls => "calls",
            Resource::Messages => "messages",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub watch_started_at: DateTime<Utc>,
    pub synced_through: Option<DateTime<Utc>>,
}

pub fn get(
    conn: &Connection,
    account: &str,
    number: &str,
    res: Resource,
) -> Result<Option<Cursor>> {
    Ok(conn
        .query_row(
            "SELECT watch_started_at, synced_through FROM sync_cursors
             WHERE account = ?1 AND business_number = ?2 AND resource = ?3",
            params![account, number, res.as_str()],
            |r| {
                Ok(Cursor {
                    watch_started_at: from_millis(r.get(0)?),
                    synced_through: opt_from_millis(r.get(1)?),
                })
            },
        )
        .optional()?)
}

/// Returns the cursor, creating it at `now` on the first start. The flag says whether this
/// call created it (a first start: import history, text nothing from before `now`).
pub fn ensure(
    conn: &Connection,
    account: &str,
    number: &str,
    res: Resource,
    now: DateTime<Utc>,
) -> Result<(Cursor, bool)> {
    let inserted = crate::cached::execute(conn,
        "INSERT OR IGNORE INTO sync_cursors (account, business_number, resource, watch_started_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?4)",
        params![account, number, res.as_str(), to_millis(now)],
    )?;
    let cursor = get(conn, account, number, res)?
        .ok_or_else(|| crate::StoreError::NotFound("sync cursor just created".into()))?;
    Ok((cursor, inserted == 1))
}

pub fn mark_synced(
    conn: &Connection,
    account: &str,
    number: &str,
    res: Resource,
    through: DateTime<Utc>,
) -> Result<()> {
    crate::cached::execute(
        conn,
        "UPDATE sync_cursors SET synced_through = ?4, updated_at = ?4
         WHERE account = ?1 AND business_number = ?2 AND resource = ?3",
        params![account, number, res.as_str(), to_millis(through)],
    )?;
    Ok(())
}

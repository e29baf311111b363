//! People who called or texted a business number, keyed by E.164 phone, with their opt-out
//! state: Textback's own do-not-text list.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::time::opt_from_millis;
use crate::{Result, to_millis};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contact {
    pub id: i64,
    pub phone: String,
    pub name: Option<String>,
    pub opted_out_at: Option<DateTime<Utc>>,
    pub opt_out_source: Option<String>,
    pub landline: bool,
}

impl Contact {
    pub fn opted_out(&self) -> bool {
        self.opted_out_at.is_some()
    }
}

const COLUMNS: &str = "id, phone, name, opted_out_at, opt_out_source, landline";

fn from_row(r: &Row<'_>) -> rusqlite::Result<Contact> {
    Ok(Contact {
        id: r.get(0)?,
        phone: r.get(1)?,
        name: r.get(2)?,
        opted_out_at: opt_from_millis(r.get(3)?),
        opt_out_source: r.get(4)?,
        landline: r.get(5)?,
    })
}

/// The contact's id, creating the row on first sight.
pub fn ensure(conn: &Connection, phone: &str, now: DateTime<Utc>) -> Result<i64> {
    crate::cached::execute(
        conn,
        "INSERT OR IGNORE INTO contacts (phone, created_at) VALUES (?1, ?2)",
        params![phone, to_millis(now)],
    )?;
    Ok(crate::cached::query_row(
        conn,
        "SELECT id FROM contacts WHERE phone = ?1",
        [phone],
        |r| r.get(0),
    )?)
}

pub fn get(conn: &Connection, id: i64) -> Result<Contact> {
    crate::cached::query_row(
        conn,
        &format!("SELECT {COLUMNS} FROM contacts WHERE id = ?1"),
        [id],
        from_row,
    )
    .optional()?
    .ok_or_else(|| crate::StoreError::NotFound(format!("contact {id}")))
}

pub fn find_by_phone(conn: &Connection, phone: &str) -> Result<Option<Contact>> {
    Ok(conn
        .query_row(
            &format!("SELECT {COLUMNS} FROM contacts WHERE phone = ?1"),
            [phone],
            from_row,
        )
        .optional()?)
}

pub fn is_opted_out(conn: &Connection, phone: &str) -> Result<bool> {
    Ok(find_by_phone(conn, phone)?.is_some_and(|c| c.opted_out()))
}

/// Records an opt-out. Keeps the first time and source if already opted out.
pub fn set_opted_out(
    conn: &Connection,
    phone: &str,
    at: DateTime<Utc>,
    source: &str,
) -> Result<i64> {
    let id = ensure(conn, phone, at)?;
    crate::cached::execute(
        conn,
        "UPDATE contacts SET opted_out_at = ?2, opt_out_source = ?3
         WHERE id = ?1 AND opted_out_at IS NULL",
        params![id, to_millis(at), source],
    )?;
    Ok(id)
}

pub fn clear_opt_out(conn: &Connection, phone: &str) -> Result<bool> {
    let n = crate::cached::execute(
        conn,
        "UPDATE contacts SET opted_out_at = NULL, opt_out_source = NULL
         WHERE phone = ?1 AND opted_out_at IS NOT NULL",
        [phone],
    )?;
    Ok(n > 0)
}

pub fn set_landline(conn: &Connection, phone: &str, now: DateTime<Utc>) -> Result<()> {
    let id = ensure(conn, phone, now)?;
    crate::cached::execute(conn, "UPDATE contacts SET landline = 1 WHERE id = ?1", [id])?;
    Ok(())
}

pub fn rename(conn: &Connection, id: i64, name: Option<&str>) -> Result<()> {
    let n = crate::cached::execute(
        conn,
        "UPDATE contacts SET name = ?2 WHERE id = ?1",
        params![id, name],
    )?;
    if n == 0 {
        return Err(crate::StoreError::NotFound(format!("contact {id}")));
    }
    Ok(())
}

/// Every opted-out contact, oldest opt-out first (the do-not-text list).
pub fn opted_out(conn: &Connection) -> Result<Vec<Contact>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {COLUMNS} FROM contacts WHERE opted_out_at IS NOT NULL ORDER BY opted_out_at, id"
    ))?;
    let rows = stmt
        .query_map([], from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

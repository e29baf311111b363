//! Durable timers: work due at a time (follow-ups, escalations, delayed decisions), surviving
//! restarts. A job's `key` is unique, so scheduling the same intent twice is a no-op.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, params};

use crate::{Result, from_millis, to_millis};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    pub id: i64,
    pub key: String,
    pub kind: String,
    pub run_at: DateTime<Utc>,
    pub payload: String,
    pub attempts: i64,
}

/// Schedules a job. Returns false when a job with that key already exists.
pub fn schedule(
    conn: &Connection,
    key: &str,
    kind: &str,
    run_at: DateTime<Utc>,
    payload: &str,
    now: DateTime<Utc>,
) -> Result<bool> {
    let n = crate::cached::execute(
        conn,
        "INSERT INTO jobs (key, kind, run_at, payload, state, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, 'pending', ?5, ?5) ON CONFLICT (key) DO NOTHING",
        params![key, kind, to_millis(run_at), payload, to_millis(now)],
    )?;
    Ok(n == 1)
}

pub fn due(conn: &Connection, now: DateTime<Utc>, limit: u32) -> Result<Vec<Job>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, key, kind, run_at, payload, attempts FROM jobs
         WHERE state = 'pending' AND run_at <= ?1 ORDER BY run_at, id LIMIT ?2",
    )?;
    let rows = stmt
        .query_map(params![to_millis(now), limit], |r| {
            Ok(Job {
                id: r.get(0)?,
                key: r.get(1)?,
                kind: r.get(2)?,
                run_at: from_millis(r.get(3)?),
                payload: r.get(4)?,
                attempts: r.get(5)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// Marks a job done. False if it was not pending (already run or cancelled): run it once.
pub fn complete(conn: &Connection, id: i64, now: DateTime<Utc>) -> Result<bool> {
    let n = crate::cached::execute(
        conn,
        "UPDATE jobs SET state = 'done', updated_at = ?2 WHERE id = ?1 AND state = 'pending'",
        params![id, to_millis(now)],
    )?;
    Ok(n == 1)
}

pub fn cancel(conn: &Connection, key: &str, now: DateTime<Utc>) -> Result<bool> {
    let n = crate::cached::execute(
        conn,
        "UPDATE jobs SET state = 'cancelled', updated_at = ?2 WHERE key = ?1 AND state = 'pending'",
        params![key, to_millis(now)],
    )?;
    Ok(n == 1)
}

pub fn next_run_at(conn: &Connection) -> Result<Option<DateTime<Utc>>> {
    let at: Option<i64> = crate::cached::query_row(
        conn,
        "SELECT MIN(run_at) FROM jobs WHERE state = 'pending'",
        [],
        |r| r.get(0),
    )?;
    Ok(at.map(from_millis))
}

/// Cancels every pending job whose key starts with `prefix` (e.g. all of one lead's timers).
pub fn cancel_prefixed(conn: &Connection, prefix: &str, now: DateTime<Utc>) -> Result<usize> {
    // NOTE: substr, not LIKE: keys may contain '%' or '_'.
    let n = crate::cached::execute(
        conn,
        "UPDATE jobs SET state = 'cancelled', updated_at = ?2
         WHERE state = 'pending' AND substr(key, 1, length(?1)) = ?1",
        params![prefix, to_millis(now)],
    )?;
    Ok(n)
}

/// Moves a pending job to a later time (its run fell outside sending hours) and counts the try.
pub fn postpone(
    conn: &Connection,
    id: i64,
    run_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<bool> {
    let n = crate::cached::execute(
        conn,
        "UPDATE jobs SET run_at = ?2, attempts = attempts + 1, updated_at = ?3
         WHERE id = ?1 AND state = 'pending'",
        params![id, to_millis(run_at), to_millis(now)],
    )?;
    Ok(n == 1)
}

pub fn pending_with_key(conn: &Connection, key: &str) -> Result<Option<Job>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, key, kind, run_at, payload, attempts FROM jobs WHERE key = ?1 AND state = 'pending'",
    )?;
    let mut rows = stmt.query_map([key], |r| {
        Ok(Job {
            id: r.get(0)?,
            key: r.get(1)?,
            kind: r.get(2)?,
            run_at: from_millis(r.get(3)?),
            payload: r.get(4)?,
            attempts: r.get(5)?,
        })
    })?;
    Ok(rows.next().transpose()?)
}

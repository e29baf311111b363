//! A read-only look at the daemon's database while it runs (SQLite WAL lets a reader in
//! without blocking the writer), through the store crate's own queries.

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OpenFlags};
use textback_store::{calls, contacts, decisions, outbox};

/// One read-only connection.
#[derive(Debug)]
pub struct Db {
    conn: Connection,
}

/// What the database says about one call.
#[derive(Debug, Clone)]
pub struct CallView {
    pub call: calls::Call,
    pub decision: Option<decisions::Decision>,
    pub entry: Option<outbox::Entry>,
}

impl Db {
    /// Opens `path` read-only; Err while the daemon has not created it yet.
    pub fn open(path: &Path) -> Result<Db, String> {
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| format!("cannot open {} read-only: {e}", path.display()))?;
        conn.busy_timeout(Duration::from_secs(5))
            .map_err(|e| e.to_string())?;
        Ok(Db { conn })
    }

    /// The call with this provider sid, its decision and the outbox entry the decision queued.
    pub fn call(&self, sid: &str) -> Result<Option<CallView>, String> {
        let Some(call) = calls::by_provider_id(&self.conn, "twilio", sid).map_err(text)? else {
            return Ok(None);
        };
        let decision = decisions::for_call(&self.conn, call.id).map_err(text)?;
        let entry = match decision.as_ref().and_then(|d| d.outbox_id) {
            Some(id) => Some(outbox::get(&self.conn, id).map_err(text)?),
            None => None,
        };
        Ok(Some(CallView {
            call,
            decision,
            entry,
        }))
    }

    /// Outbox entries not finished: pending (also those waiting for a retry), in flight, or
    /// with an unknown outcome.
    pub fn waiting(&self) -> Result<i64, String> {
        outbox::count_waiting(&self.conn).map_err(text)
    }

    /// Outbox entries per state, e.g. `[("sent", 60)]`.
    pub fn outbox_states(&self) -> Result<Vec<(String, i64)>, String> {
        let mut stmt = self
            .conn
            .prepare("SELECT state, COUNT(*) FROM outbox GROUP BY state ORDER BY state")
            .map_err(text)?;
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(text)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(text)?;
        Ok(rows)
    }

    pub fn is_opted_out(&self, phone: &str) -> Result<bool, String> {
        contacts::is_opted_out(&self.conn, phone).map_err(text)
    }

    /// Every follow-up timer (`lead:<id>:touch:<n>` in `jobs`), with the number of the lead's
    /// customer, in the order they were scheduled.
    pub fn follow_up_timers(&self) -> Result<Vec<FollowUpTimer>, String> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT l.id, ct.phone FROM leads l
                 JOIN conversations cv ON cv.id = l.conversation_id
                 JOIN contacts ct ON ct.id = cv.contact_id",
            )
            .map_err(text)?;
        let phones: HashMap<i64, String> = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(text)?
            .collect::<Result<_, _>>()
            .map_err(text)?;
        let mut stmt = self
            .conn
            .prepare(
                "SELECT key, state, run_at, updated_at FROM jobs WHERE kind = 'followup' ORDER BY id",
            )
            .map_err(text)?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, i64>(3)?,
                ))
            })
            .map_err(text)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(text)?;
        rows.into_iter()
            .map(|(key, state, run_at, updated_at)| {
                // lead:<id>:touch:<n>
                let parts: Vec<&str> = key.split(':').collect();
                let (lead, touch) = match parts.as_slice() {
                    ["lead", lead, "touch", n] => (
                        lead.parse::<i64>().map_err(|e| format!("{key}: {e}"))?,
                        n.parse::<u32>().map_err(|e| format!("{key}: {e}"))?,
                    ),
                    _ => return Err(format!("unexpected follow-up key {key:?}")),
                };
                Ok(FollowUpTimer {
                    phone: phones
                        .get(&lead)
                        .cloned()
                        .ok_or_else(|| format!("{key}: no lead {lead}"))?,
                    touch,
                    pending: state == "pending",
                    state,
                    run_at: millis(run_at)?,
                    updated_at: millis(updated_at)?,
                })
            })
            .collect()
    }
}

/// A follow-up timer as the database holds it.
#[derive(Debug, Clone)]
pub struct FollowUpTimer {
    /// The lead's customer.
    pub phone: String,
    /// 2 = the first follow-up.
    pub touch: u32,
    /// pending | done | cancelled
    pub state: String,
    pub pending: bool,
    /// When it is due (by the daemon's clock).
    pub run_at: DateTime<Utc>,
    /// When it last changed: for a done timer, when it fired (by the daemon's clock).
    pub updated_at: DateTime<Utc>,
}

fn millis(ms: i64) -> Result<DateTime<Utc>, String> {
    DateTime::from_timestamp_millis(ms).ok_or_else(|| format!("{ms} ms is not a time"))
}

fn text(e: impl std::fmt::Display) -> String {
    e.to_string()
}

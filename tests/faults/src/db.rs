//! A read-only look at the daemon's database while it runs (SQLite WAL lets a reader in
//! without blocking the writer), through the store crate's own queries.

use std::path::Path;
use std::time::Duration;

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
}

fn text(e: impl std::fmt::Display) -> String {
    e.to_string()
}

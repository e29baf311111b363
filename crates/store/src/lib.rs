//! Textback's local store: one SQLite file per account (demo data has its own).
//!
//! The provider is the source of truth for calls and messages; this crate mirrors them with
//! idempotent upserts keyed by provider ids, and holds what only Textback knows (decisions,
//! leads, the outbox, jobs, the audit log, sync cursors).
//!
//! Layout: [`Store`] opens the file the same way every time (WAL, `synchronous=NORMAL`,
//! foreign keys, busy timeout), runs the numbered migrations in [`migrations`], and hands out the
//! connection. Each table has one module owning its row type and queries; the functions take a
//! `&Connection` so callers compose them inside one transaction ([`Store::immediate`]) whenever
//! they check then act ("already texted?", "opted out?").
//!
//! To add a table: append a migration to [`migrations::MIGRATIONS`] (migrations only add; a
//! column is never repurposed), then add a module with its row type and queries.
//!
//! Attachments (MMS pictures) are the one thing kept outside SQLite: their rows are in
//! [`media`], their bytes are files in [`media::MediaDir`] beside the database.
//!
//! Timestamps are stored as UTC milliseconds since the epoch (`INTEGER`), so they sort and
//! index cheaply; phone numbers as E.164 text.

pub mod audit;
pub mod bookings;
mod cached;
pub mod call_legs;
pub mod calls;
pub mod contacts;
pub mod conversations;
pub mod decisions;
pub mod escalations;
pub mod jobs;
pub mod leads;
pub mod media;
pub mod messages;
pub mod migrations;
pub mod notes;
pub mod outbox;
pub mod sync_cursors;
mod time;

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use rusqlite::{Transaction, TransactionBehavior};

pub use rusqlite::Connection;
pub use time::{from_millis, to_millis};

/// Everything that can go wrong in the store, typed by what the caller does next.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The file was written by a newer Textback: refuse rather than corrupt it.
    #[error(
        "the database {path} was written by a newer version of Textback (schema {found}, this version knows up to {known}); update Textback or point it at another data directory"
    )]
    TooNew {
        path: PathBuf,
        found: i64,
        known: i64,
    },
    #[error("could not back up {path} before migrating: {source}")]
    Backup {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the database {path} failed its integrity check: {detail}")]
    Corrupt { path: PathBuf, detail: String },
    #[error("migrating the database failed: {0}")]
    Migration(String),
    #[error("the database is busy (another process holds a lock); will retry")]
    Busy,
    #[error("the disk is full; nothing was written, will retry when space returns")]
    DiskFull,
    #[error("stored data is not valid: {0}")]
    Invalid(String),
    #[error("not found: {0}")]
    NotFound(String),
    /// A file beside the database (an attachment) could not be read or written.
    #[error("could not use the file {path}: {source}")]
    File {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("database error: {0}")]
    Sqlite(rusqlite::Error),
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        use rusqlite::ErrorCode;
        match e.sqlite_error_code() {
            Some(ErrorCode::DatabaseBusy) | Some(ErrorCode::DatabaseLocked) => StoreError::Busy,
            Some(ErrorCode::DiskFull) => StoreError::DiskFull,
            _ => StoreError::Sqlite(e),
        }
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// One open database file. Cheap to share behind an `Arc`; every call holds the connection
/// for the duration of one closure, so keep closures short and never await inside them.
#[derive(Debug)]
pub struct Store {
    conn: Mutex<Connection>,
    path: PathBuf,
}

impl Store {
    /// Opens (creating if needed) and migrates the database at `path`.
    ///
    /// Before applying any migration to an existing file, copies it to
    /// `<file>.backup-v<old version>` so a failed upgrade can be undone by hand.
    pub fn open(path: &Path) -> Result<Self> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| StoreError::Backup {
                path: dir.to_path_buf(),
                source,
            })?;
        }
        let existed = path.exists();
        let mut conn = Connection::open(path)?;
        configure(&conn)?;
        if existed {
            check_integrity(&conn, path)?;
        }
        migrations::migrate(&mut conn, path, existed)?;
        Ok(Self {
            conn: Mutex::new(conn),
            path: path.to_path_buf(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `f` on the connection (autocommit: each statement its own transaction).
    pub fn read<R>(&self, f: impl FnOnce(&Connection) -> Result<R>) -> Result<R> {
        f(&self.lock())
    }

    /// Runs `f` inside one `BEGIN IMMEDIATE` transaction: the write lock is taken up front, so
    /// a check-then-act inside `f` cannot interleave with another writer. Commits when `f`
    /// returns `Ok`, rolls back otherwise.
    pub fn immediate<R>(&self, f: impl FnOnce(&Transaction<'_>) -> Result<R>) -> Result<R> {
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let out = f(&tx)?;
        tx.commit()?;
        Ok(out)
    }

    /// Copies the live database to `dest` with SQLite's online backup API (consistent even
    /// while the engine writes).
    pub fn backup_to(&self, dest: &Path) -> Result<()> {
        let conn = self.lock();
        conn.backup(rusqlite::MAIN_DB, dest, None)?;
        Ok(())
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves SQLite consistent (the transaction rolls back
        // on drop), so a poisoned mutex is safe to keep using.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn configure(conn: &Connection) -> Result<()> {
    // NOTE: WAL + synchronous=NORMAL: a commit is durable against an application crash
    // (kill -9) at once, and against power loss from the next checkpoint; the outbox's in-flight
    // reconciliation covers the power-loss window, so the faster mode is safe here.
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    // Sync runs the same few dozen statements every poll: keep them all compiled.
    conn.set_prepared_statement_cache_capacity(128);
    Ok(())
}

fn check_integrity(conn: &Connection, path: &Path) -> Result<()> {
    let detail: String = conn.query_row("PRAGMA quick_check", [], |r| r.get(0))?;
    if detail == "ok" {
        Ok(())
    } else {
        Err(StoreError::Corrupt {
            path: path.to_path_buf(),
            detail,
        })
    }
}

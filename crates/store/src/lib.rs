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
//! Backups ([`backup`]) are verified copies made with SQLite's online backup API into
//! `backups/` beside the database; [`backup::restore`] puts one back, keeping the file it
//! replaces. Disk trouble surfaces as typed errors ([`StoreError::DiskFull`],
//! [`StoreError::Locked`], [`StoreError::Corrupt`]) whose messages say what to do.
//!
//! Timestamps are stored as UTC milliseconds since the epoch (`INTEGER`), so they sort and
//! index cheaply; phone numbers as E.164 text.

pub mod audit;
pub mod backup;
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
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};

use rusqlite::{OpenFlags, Transaction, TransactionBehavior};

pub use rusqlite::{Connection, Params};
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
    /// The file is damaged. The message says where the newest good backup is and how to put
    /// it back; nothing is written to a damaged file.
    #[error("{}", backup::damaged_message(path, detail, newest_backup.as_ref()))]
    Corrupt {
        path: PathBuf,
        detail: String,
        /// The newest backup that passed its integrity check, if there is one.
        newest_backup: Option<backup::BackupFile>,
    },
    #[error("migrating the database failed: {0}")]
    Migration(String),
    /// A lock held past the busy timeout, seen by a query run on a bare connection (the
    /// [`Store`]'s own methods report [`StoreError::Locked`] with the path).
    #[error(
        "The database is locked by another program; Textback will try again (nothing was written)"
    )]
    Busy,
    #[error("The database is locked by another program: {}", path.display())]
    Locked { path: PathBuf },
    /// SQLITE_FULL, or an I/O error while the disk has no space left. The transaction was
    /// rolled back whole; retry once space is freed.
    #[error("The disk is full: Textback cannot save new messages until space is freed")]
    DiskFull,
    /// Textback (a daemon or the desktop app) still has the database open.
    #[error(
        "Textback is still using {} (a `textback daemon` or the desktop app has it open); stop it, then run the command again",
        path.display()
    )]
    InUse { path: PathBuf },
    /// A backup that failed its integrity check: it is never kept, restored or trusted.
    #[error("the backup {} failed its integrity check ({detail})", path.display())]
    BackupUnverified { path: PathBuf, detail: String },
    #[error("no good backup of {} was found in {}{}", db.display(), dir.display(), backup::skipped_note(skipped))]
    NoBackup {
        db: PathBuf,
        dir: PathBuf,
        /// Backups that were there but failed their integrity check, with the reason.
        skipped: Vec<backup::Skipped>,
    },
    #[error("stored data is not valid: {0}")]
    Invalid(String),
    #[error("not found: {0}")]
    NotFound(String),
    /// A file beside the database (an attachment, a backup) could not be read or written.
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

impl StoreError {
    /// Trouble with the disk or the file (full, locked, damaged, unreadable) rather than with
    /// the data: the same write can succeed once the trouble is gone.
    pub fn is_storage_problem(&self) -> bool {
        use rusqlite::ErrorCode;
        match self {
            StoreError::Busy
            | StoreError::Locked { .. }
            | StoreError::DiskFull
            | StoreError::Corrupt { .. }
            | StoreError::File { .. } => true,
            StoreError::Sqlite(e) => matches!(
                e.sqlite_error_code(),
                Some(
                    ErrorCode::SystemIoFailure
                        | ErrorCode::CannotOpen
                        | ErrorCode::ReadOnly
                        | ErrorCode::DatabaseCorrupt
                        | ErrorCode::NotADatabase
                )
            ),
            _ => false,
        }
    }

    /// Adds what only the store knows to an error from a query: the file's path for a lock,
    /// where the backups are for a damaged file, and whether an I/O error was the disk filling.
    fn at(self, path: &Path) -> Self {
        use rusqlite::ErrorCode;
        match self {
            StoreError::Busy => StoreError::Locked {
                path: path.to_path_buf(),
            },
            StoreError::Sqlite(e) => match e.sqlite_error_code() {
                Some(ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase) => {
                    damaged(path, e.to_string())
                }
                // NOTE: SQLite reports ENOSPC on a page write as SQLITE_FULL, but as a plain
                // I/O error when growing the WAL index or a file-size hint fails; asking the
                // file system is the only way to tell without unsafe FFI (sqlite3_system_errno).
                Some(ErrorCode::SystemIoFailure) if backup::disk_is_full(path) => {
                    StoreError::DiskFull
                }
                _ => StoreError::Sqlite(e),
            },
            other => other,
        }
    }
}

/// The error for a damaged database at `path`, pointing at its newest good backup.
fn damaged(path: &Path, detail: String) -> StoreError {
    let newest_backup = backup::BackupDir::beside(path)
        .newest_good()
        .ok()
        .and_then(|(good, _)| good);
    StoreError::Corrupt {
        path: path.to_path_buf(),
        detail,
        newest_backup,
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// One open database file. Cheap to share behind an `Arc`; every call holds the connection
/// for the duration of one closure, so keep closures short and never await inside them.
#[derive(Debug)]
pub struct Store {
    conn: Mutex<Connection>,
    path: PathBuf,
    checked: AtomicBool,
}

/// When [`Store::open_with`] checks an existing file's integrity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Check {
    Now,
    Later,
}

impl Store {
    /// Opens (creating if needed) and migrates the database at `path`.
    ///
    /// An existing file is checked first (`PRAGMA quick_check`): a damaged one is refused with
    /// [`StoreError::Corrupt`], whose message names the newest good backup in
    /// [`backup::BackupDir::beside`] and the command that restores it. Before applying any
    /// migration to an existing file, copies it to `<file>.backup-v<old version>` so a failed
    /// upgrade can be undone by hand.
    pub fn open(path: &Path) -> Result<Self> {
        Self::open_with(path, Check::Now)
    }

    /// Opens like [`Store::open`], but leaves the integrity check of an up-to-date file to
    /// [`Store::check_integrity`], so a caller with a window to show can show it first: the
    /// check reads the whole file (about half a second for a million messages when the file is
    /// cached, seconds when it is not). Reads work meanwhile; the caller must not write until
    /// the check has passed. A file that needs migrating is checked here, before the migration
    /// writes to it.
    pub fn open_check_later(path: &Path) -> Result<Self> {
        Self::open_with(path, Check::Later)
    }

    fn open_with(path: &Path, check: Check) -> Result<Self> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| StoreError::Backup {
                path: dir.to_path_buf(),
                source,
            })?;
        }
        let existed = path.exists();
        let opened = Connection::open(path)
            .map_err(StoreError::from)
            .and_then(|conn| {
                configure(&conn)?;
                Ok(conn)
            });
        let mut conn = opened.map_err(|e| e.at(path))?;
        let check_now = existed
            && (check == Check::Now || !migrations::is_current(&conn).map_err(|e| e.at(path))?);
        if check_now {
            check_integrity(&conn, path)?;
        }
        migrations::migrate(&mut conn, path, existed).map_err(|e| e.at(path))?;
        Ok(Self {
            conn: Mutex::new(conn),
            path: path.to_path_buf(),
            checked: AtomicBool::new(check_now || !existed),
        })
    }

    /// Whether the file has passed its integrity check since it was opened (a new file needs
    /// none).
    pub fn integrity_checked(&self) -> bool {
        self.checked.load(Ordering::SeqCst)
    }

    /// Checks the file with `PRAGMA quick_check` on a connection of its own, so this store's
    /// readers are not held up meanwhile. A damaged file is [`StoreError::Corrupt`], whose
    /// message names the newest good backup and how to restore it.
    pub fn check_integrity(&self) -> Result<()> {
        let conn = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| StoreError::from(e).at(&self.path))?;
        check_integrity(&conn, &self.path)?;
        self.checked.store(true, Ordering::SeqCst);
        Ok(())
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `f` on the connection (autocommit: each statement its own transaction).
    pub fn read<R>(&self, f: impl FnOnce(&Connection) -> Result<R>) -> Result<R> {
        f(&self.lock()).map_err(|e| e.at(&self.path))
    }

    /// Runs `f` inside one `BEGIN IMMEDIATE` transaction: the write lock is taken up front, so
    /// a check-then-act inside `f` cannot interleave with another writer. Commits when `f`
    /// returns `Ok`, rolls back otherwise.
    pub fn immediate<R>(&self, f: impl FnOnce(&Transaction<'_>) -> Result<R>) -> Result<R> {
        let mut conn = self.lock();
        let run = || {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let out = f(&tx)?;
            tx.commit()?;
            Ok(out)
        };
        run().map_err(|e: StoreError| e.at(&self.path))
    }

    /// Copies the live database to `dest` with SQLite's online backup API: a consistent
    /// snapshot even while the engine writes (the copy reads through its own connection, so it
    /// never holds this store's lock). The copy is written under a temporary name, checked with
    /// `PRAGMA integrity_check`, and only then renamed to `dest`; a copy that fails the check is
    /// deleted and reported as [`StoreError::BackupUnverified`].
    pub fn backup_to(&self, dest: &Path) -> Result<()> {
        backup::copy_verified(&self.path, dest)
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
    match backup::check(conn, "quick_check") {
        Ok(()) => Ok(()),
        Err(detail) => Err(damaged(path, detail)),
    }
}

//! Backups of the database file, and the restore that puts one back.
//!
//! A backup of `textback-AC1.db` taken at 2026-11-02 15:00:00 UTC is
//! `backups/textback-AC1-20261102T150000Z.db` beside it (or in the folder the caller names):
//! one self-contained SQLite file (rollback journal, no `-wal` beside it) that any `sqlite3`
//! opens. The time is in the name, not in memory, so a schedule built on [`BackupDir::list`]
//! survives restarts, and copying the folder keeps it.
//!
//! Nothing here leaves half a file under a final name: [`copy_verified`] copies with SQLite's
//! online backup API into a temporary name, checks the copy with `PRAGMA integrity_check`, and
//! only then renames it. [`restore`] checks the backup before touching anything, refuses while
//! another connection has the database open, moves the file it replaces aside (never deletes
//! it) and checks the result.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, NaiveDateTime, Utc};
use rusqlite::backup::{Backup, StepResult};
use rusqlite::config::DbConfig;
use rusqlite::{Connection, ErrorCode, OpenFlags};

use crate::{Result, StoreError};

/// The UTC time in a backup's name: sorts as text, and is a valid file name everywhere.
const STAMP: &str = "%Y%m%dT%H%M%SZ";
const STAMP_LEN: usize = "20261102T150000Z".len();
/// Partial files older than this are left over from a crash and removed.
const STALE_PARTIAL: Duration = Duration::from_secs(3600);

/// One backup: where it is, and when it was taken (read from its name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupFile {
    pub path: PathBuf,
    pub taken_at: DateTime<Utc>,
}

/// A backup that failed its integrity check, and SQLite's reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub path: PathBuf,
    pub reason: String,
}

/// The folder that holds one database's backups, and how they are named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupDir {
    dir: PathBuf,
    /// The database's file name without `.db`: backups of several databases can share a folder.
    stem: String,
}

impl BackupDir {
    /// `backups/` beside the database (`<data_dir>/backups` for an account's database).
    pub fn beside(db: &Path) -> Self {
        Self::new(Path::new("backups"), db)
    }

    /// `dir` holds the backups of `db`; a relative `dir` is taken from the database's folder.
    pub fn new(dir: &Path, db: &Path) -> Self {
        let dir = if dir.is_relative() {
            folder_of(db).join(dir)
        } else {
            dir.to_path_buf()
        };
        let stem = db
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "textback".to_owned());
        Self { dir, stem }
    }

    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// Where a backup taken at `at` goes (to the second, UTC).
    pub fn file_for(&self, at: DateTime<Utc>) -> PathBuf {
        self.dir
            .join(format!("{}-{}.db", self.stem, at.format(STAMP)))
    }

    /// When the backup named `name` was taken, or `None` when the name is not one of ours.
    fn taken_at(&self, name: &str) -> Option<DateTime<Utc>> {
        let stamp = name
            .strip_prefix(self.stem.as_str())?
            .strip_prefix('-')?
            .strip_suffix(".db")?;
        if stamp.len() != STAMP_LEN {
            return None;
        }
        NaiveDateTime::parse_from_str(stamp, STAMP)
            .ok()
            .map(|t| t.and_utc())
    }

    /// This database's backups, newest first. A folder that does not exist yet holds none.
    pub fn list(&self) -> Result<Vec<BackupFile>> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(e) => e,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(Vec::new()),
            Err(source) => return Err(io_error(&self.dir, source)),
        };
        let mut found = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|source| io_error(&self.dir, source))?;
            let Some(taken_at) = entry.file_name().to_str().and_then(|n| self.taken_at(n)) else {
                continue;
            };
            if entry.file_type().is_ok_and(|t| t.is_file()) {
                found.push(BackupFile {
                    path: entry.path(),
                    taken_at,
                });
            }
        }
        found.sort_by(|a, b| b.taken_at.cmp(&a.taken_at).then(b.path.cmp(&a.path)));
        Ok(found)
    }

    /// The newest backup that passes `PRAGMA integrity_check`, and the newer ones that failed
    /// it (with SQLite's reason), newest first.
    pub fn newest_good(&self) -> Result<(Option<BackupFile>, Vec<Skipped>)> {
        let mut skipped = Vec::new();
        for b in self.list()? {
            match verify(&b.path) {
                Ok(()) => return Ok((Some(b), skipped)),
                Err(reason) => skipped.push(Skipped {
                    path: b.path,
                    reason,
                }),
            }
        }
        Ok((None, skipped))
    }

    /// Backs up the database at `db` into this folder as taken at `now` (see
    /// [`copy_verified`]); creates the folder if needed.
    pub fn make(&self, db: &Path, now: DateTime<Utc>) -> Result<BackupFile> {
        std::fs::create_dir_all(&self.dir).map_err(|source| io_error(&self.dir, source))?;
        self.remove_stale_partials();
        let path = self.file_for(now);
        copy_verified(db, &path)?;
        let taken_at = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| self.taken_at(n))
            .ok_or_else(|| {
                StoreError::Invalid(format!("{} is not a backup name", path.display()))
            })?;
        Ok(BackupFile { path, taken_at })
    }

    /// Deletes all but the `keep` newest backups (at least one is always kept), and never
    /// `protect` (the one just made, even when the clock was set back and others look newer).
    /// Returns what was deleted.
    pub fn prune(&self, keep: usize, protect: &Path) -> Result<Vec<PathBuf>> {
        let mut deleted = Vec::new();
        for (i, b) in self.list()?.into_iter().enumerate() {
            if i < keep.max(1) || b.path == protect {
                continue;
            }
            std::fs::remove_file(&b.path).map_err(|source| io_error(&b.path, source))?;
            deleted.push(b.path);
        }
        Ok(deleted)
    }

    /// Removes this database's temporary copies left by a crash mid-backup. One younger than
    /// an hour may belong to a backup running right now (the daemon and `textback backup`).
    fn remove_stale_partials(&self) {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return;
        };
        let prefix = format!(".{}-", self.stem);
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            let stale = entry
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age > STALE_PARTIAL);
            if name.starts_with(&prefix) && name.ends_with(".partial") && stale {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
}

/// Copies the database at `db` to `dest` with SQLite's online backup API, consistently even
/// while another connection writes to it: the copy is taken inside one read transaction of its
/// own connection (WAL lets the writer go on meanwhile). The copy is written to a temporary
/// name beside `dest`, switched to a rollback journal so it is one self-contained file,
/// flushed, checked with `PRAGMA integrity_check`, and only then renamed over `dest`.
pub fn copy_verified(db: &Path, dest: &Path) -> Result<()> {
    if !db.is_file() {
        return Err(io_error(
            db,
            std::io::Error::new(ErrorKind::NotFound, "there is no database file here"),
        ));
    }
    let tmp = sibling(dest, ".", ".partial");
    remove_if_there(&tmp)?;
    let done = copy_into(db, &tmp, dest).and_then(|()| {
        verify(&tmp).map_err(|detail| StoreError::BackupUnverified {
            path: dest.to_path_buf(),
            detail,
        })?;
        sync_file(&tmp)?;
        std::fs::rename(&tmp, dest).map_err(|source| io_error(dest, source))?;
        sync_dir(folder_of(dest));
        Ok(())
    });
    if done.is_err() {
        // Best effort: what failed is reported; a leftover is removed by the next backup.
        let _ = std::fs::remove_file(&tmp);
        let _ = std::fs::remove_file(sibling(&tmp, "", "-journal"));
    }
    done
}

fn copy_into(db: &Path, tmp: &Path, dest: &Path) -> Result<()> {
    let src = open_existing(db)?;
    src.busy_timeout(Duration::from_secs(5))?;
    let dest_error = |e: rusqlite::Error| match StoreError::from(e) {
        StoreError::Sqlite(e) => io_error(dest, std::io::Error::other(e.to_string())),
        other => other,
    };
    let mut dst = Connection::open(tmp).map_err(dest_error)?;
    {
        let backup = Backup::new(&src, &mut dst).map_err(dest_error)?;
        // NOTE: -1 copies every page in one step, inside one read transaction of the source:
        // that is what makes the copy a consistent snapshot while the engine writes.
        let mut attempts = 0;
        loop {
            match backup.step(-1).map_err(dest_error)? {
                StepResult::Done => break,
                StepResult::More => {}
                StepResult::Busy | StepResult::Locked if attempts < 50 => {
                    attempts += 1;
                    std::thread::sleep(Duration::from_millis(100));
                }
                StepResult::Busy | StepResult::Locked => {
                    return Err(StoreError::Locked {
                        path: db.to_path_buf(),
                    });
                }
                // A future rusqlite may add results; treat them as "not done yet".
                _ => {}
            }
        }
    }
    // The copy inherits the source's WAL flag: one file is easier to keep, copy and open.
    dst.pragma_update(None, "journal_mode", "DELETE")
        .map_err(dest_error)?;
    dst.close().map_err(|(_, e)| dest_error(e))?;
    Ok(())
}

/// Checks the SQLite file at `path` with `PRAGMA integrity_check`, read-only. `Err` carries
/// SQLite's first complaints (or why the file would not open).
pub fn verify(path: &Path) -> std::result::Result<(), String> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| e.to_string())?;
    check(&conn, "integrity_check")
}

/// Runs `PRAGMA <pragma>` (`quick_check` or `integrity_check`) on `conn`.
pub(crate) fn check(conn: &Connection, pragma: &str) -> std::result::Result<(), String> {
    let run = || -> rusqlite::Result<Vec<String>> {
        let mut stmt = conn.prepare(&format!("PRAGMA {pragma}"))?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
        rows.take(5).collect()
    };
    match run() {
        Ok(rows) if rows == ["ok"] => Ok(()),
        Ok(rows) => Err(rows.join("; ")),
        Err(e) => Err(e.to_string()),
    }
}

/// What [`restore`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Restored {
    /// The database that now holds the backup's contents.
    pub db: PathBuf,
    /// The backup it came from.
    pub from: PathBuf,
    /// Where the files it replaced went: the database, then its `-wal`, `-shm` or `-journal`
    /// if they were there. Nothing is deleted.
    pub moved_aside: Vec<PathBuf>,
    /// Whether the replaced database failed its check (`None`: there was no database).
    pub replaced_was_damaged: Option<bool>,
    /// Outbox entries that were waiting to be sent when the backup was taken: they may have
    /// gone out since, so they are marked `unknown` and checked against the provider's log
    /// before any send (the engine's reconciliation), exactly like a send cut by a crash.
    pub rechecked_outbox: usize,
}

/// Puts the backup at `backup` in place of the database at `db`.
///
/// Checks the backup first (a bad one changes nothing), refuses with [`StoreError::InUse`]
/// while any other connection has the database open (an exclusive lock attempt), moves the
/// database and its `-wal`/`-shm` aside as `<name>.damaged-<UTC time>` (or `.replaced-` when
/// it was healthy), copies the backup in under a temporary name, checks it, and renames it
/// into place. `now` names the files moved aside.
///
/// A backup is the database as it was: messages that were waiting then may have been sent
/// since. Those already due by `now` are marked for reconciliation ([`Restored::rechecked_outbox`]),
/// so restoring never texts anyone twice.
///
/// NOTE: the old `-wal` must go with the old file: left beside the restored one, SQLite would
/// replay its frames onto the backup.
pub fn restore(db: &Path, backup: &Path, now: DateTime<Utc>) -> Result<Restored> {
    verify(backup).map_err(|detail| StoreError::BackupUnverified {
        path: backup.to_path_buf(),
        detail,
    })?;
    let guard = if db.exists() {
        Some(lock_exclusive(db)?)
    } else {
        None
    };
    let replaced_was_damaged = guard
        .as_ref()
        .map(|conn| check(conn, "quick_check").is_err());
    let tmp = sibling(db, ".", ".restoring");
    remove_if_there(&tmp)?;
    let copied = std::fs::copy(backup, &tmp)
        .map_err(|source| io_error(&tmp, source))
        .and_then(|_| recheck_unsent(&tmp, now))
        .and_then(|rechecked| {
            sync_file(&tmp)?;
            verify(&tmp).map_err(|detail| StoreError::BackupUnverified {
                path: backup.to_path_buf(),
                detail,
            })?;
            Ok(rechecked)
        });
    let rechecked_outbox = match copied {
        Ok(n) => n,
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            let _ = std::fs::remove_file(sibling(&tmp, "", "-journal"));
            return Err(e);
        }
    };
    // Let go just before the renames (Windows cannot rename a file that is open).
    // NOTE: locking a WAL database opens its -wal, creating an empty one if there was none; it
    // is moved aside with the file. Deleting it is never worth the risk of deleting a live one.
    drop(guard);
    let mut moved_aside = Vec::new();
    if db.exists() {
        let kind = if replaced_was_damaged == Some(true) {
            "damaged"
        } else {
            "replaced"
        };
        let aside = free_name(db, &format!(".{kind}-{}", now.format(STAMP)));
        for suffix in ["", "-wal", "-shm", "-journal"] {
            let from = sibling(db, "", suffix);
            if from.exists() {
                let to = sibling(&aside, "", suffix);
                std::fs::rename(&from, &to).map_err(|source| io_error(&from, source))?;
                moved_aside.push(to);
            }
        }
    }
    std::fs::rename(&tmp, db).map_err(|source| io_error(db, source))?;
    sync_dir(folder_of(db));
    verify(db).map_err(|detail| StoreError::BackupUnverified {
        path: db.to_path_buf(),
        detail,
    })?;
    Ok(Restored {
        db: db.to_path_buf(),
        from: backup.to_path_buf(),
        moved_aside,
        replaced_was_damaged,
        rechecked_outbox,
    })
}

/// Marks the copy's outbox entries that were in flight, or pending and due by `now`, as
/// `unknown`: the sender then looks for each in the provider's log before sending it.
/// Entries not due yet (a follow-up for next week) stay as they are.
fn recheck_unsent(copy: &Path, now: DateTime<Utc>) -> Result<usize> {
    let conn = Connection::open_with_flags(
        copy,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    let has_outbox: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'outbox')",
        [],
        |r| r.get(0),
    )?;
    if !has_outbox {
        return Err(StoreError::Invalid(format!(
            "{} is not a Textback database (it has no outbox table)",
            copy.display()
        )));
    }
    // NOTE: one statement on the outbox from outside its module: a file-level repair on a
    // copy no Store has open, which must be done before the copy takes the database's place.
    let changed = conn.execute(
        "UPDATE outbox SET state = 'unknown', \
         last_error = 'restored from a backup: checked against the provider''s log before sending', \
         updated_at = ?1 \
         WHERE state = 'in_flight' OR (state = 'pending' AND next_attempt_at <= ?1)",
        [crate::to_millis(now)],
    )?;
    conn.close().map_err(|(_, e)| StoreError::from(e))?;
    Ok(changed)
}

/// Whether another connection (another process, or another [`crate::Store`] in this one) has
/// the database at `db` open. See [`restore`].
pub fn in_use(db: &Path) -> Result<bool> {
    match lock_exclusive(db) {
        Ok(_) => Ok(false),
        Err(StoreError::InUse { .. }) => Ok(true),
        Err(e) => Err(e),
    }
}

/// A connection holding the database's exclusive lock, which SQLite grants only while no other
/// connection has the file open (in WAL mode every open connection holds a shared lock).
/// Closing it neither checkpoints nor deletes anything: a damaged file is left as it is.
fn lock_exclusive(db: &Path) -> Result<Connection> {
    let conn = open_existing(db)?;
    conn.busy_timeout(Duration::from_millis(250))?;
    conn.pragma_update(None, "locking_mode", "EXCLUSIVE")?;
    match conn.execute_batch("BEGIN EXCLUSIVE") {
        Ok(()) => Ok(conn),
        Err(e) => match e.sqlite_error_code() {
            Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => Err(StoreError::InUse {
                path: db.to_path_buf(),
            }),
            // A file too damaged to lock is one no SQLite program can be using either.
            Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt) => Ok(conn),
            _ => Err(e.into()),
        },
    }
}

/// Opens an existing database without creating one, and without the checkpoint SQLite would
/// otherwise run when this is the last connection to close: reading never writes.
fn open_existing(db: &Path) -> Result<Connection> {
    let conn = Connection::open_with_flags(
        db,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, true)?;
    Ok(conn)
}

/// Whether the disk holding `db` has no room left: only the file system can say, so write a
/// little (and remove it).
pub(crate) fn disk_is_full(db: &Path) -> bool {
    let probe = folder_of(db).join(".textback-space-probe");
    let written = std::fs::write(&probe, [0u8; 64 * 1024]);
    let _ = std::fs::remove_file(&probe);
    matches!(written, Err(e) if is_full(&e))
}

fn is_full(e: &std::io::Error) -> bool {
    matches!(e.kind(), ErrorKind::StorageFull | ErrorKind::QuotaExceeded)
}

fn io_error(path: &Path, source: std::io::Error) -> StoreError {
    if is_full(&source) {
        StoreError::DiskFull
    } else {
        StoreError::File {
            path: path.to_path_buf(),
            source,
        }
    }
}

fn folder_of(path: &Path) -> &Path {
    path.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// `<folder>/<prefix><name><suffix>`.
fn sibling(path: &Path, prefix: &str, suffix: &str) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    folder_of(path).join(format!("{prefix}{name}{suffix}"))
}

/// `<db><suffix>`, or `<db><suffix>-2`, `-3`... if that is taken (two restores in one second).
fn free_name(db: &Path, suffix: &str) -> PathBuf {
    let first = sibling(db, "", suffix);
    let taken = |p: &Path| p.exists() || sibling(p, "", "-wal").exists();
    if !taken(&first) {
        return first;
    }
    (2..)
        .map(|n| sibling(db, "", &format!("{suffix}-{n}")))
        .find(|p| !taken(p))
        .unwrap_or(first)
}

fn remove_if_there(path: &Path) -> Result<()> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
        Err(source) => Err(io_error(path, source)),
    }
}

fn sync_file(path: &Path) -> Result<()> {
    std::fs::File::open(path)
        .and_then(|f| f.sync_all())
        .map_err(|source| io_error(path, source))
}

/// Makes a rename durable (the directory entry). Only possible, and only needed, on Unix.
fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    #[cfg(not(unix))]
    let _ = dir;
}

/// The message of [`StoreError::Corrupt`].
pub(crate) fn damaged_message(path: &Path, detail: &str, newest: Option<&BackupFile>) -> String {
    // SQLite quotes what it read, and from a damaged page that is garbage: keep it printable.
    let detail: String = detail
        .chars()
        .take(300)
        .map(|c| {
            if c.is_control() || c == char::REPLACEMENT_CHARACTER {
                '?'
            } else {
                c
            }
        })
        .collect();
    let head = format!(
        "The database {} is damaged (SQLite's check says: {detail}).",
        path.display()
    );
    match newest {
        Some(b) => format!(
            "{head} The newest good backup is {} (taken {} UTC). To put it back, stop Textback \
             (the daemon and the desktop app) and run:\n\n    textback restore\n\n(with the \
             same --config as the daemon, if it has one). It moves the damaged file aside, \
             nothing is deleted, then copies the backup in and checks it.",
            b.path.display(),
            b.taken_at.format("%Y-%m-%d %H:%M:%S"),
        ),
        None => format!(
            "{head} No good backup was found in {}. Stop Textback and run `textback restore` \
             (it also looks in the folder set by [backup] dir), or `textback restore \
             BACKUP_FILE` for a backup kept elsewhere; docs/reliability.md says how to recover \
             by hand.",
            BackupDir::beside(path).path().display()
        ),
    }
}

/// The tail of [`StoreError::NoBackup`]'s message.
pub(crate) fn skipped_note(skipped: &[Skipped]) -> String {
    if skipped.is_empty() {
        return String::new();
    }
    let list: Vec<String> = skipped
        .iter()
        .map(|s| format!("{} ({})", s.path.display(), s.reason))
        .collect();
    format!("; these failed their integrity check: {}", list.join(", "))
}

//! `textback backup` and `textback restore [BACKUP_FILE]`: make a verified backup now, or put
//! one back in place of the database.
//!
//! Both find the database as the daemon does (`<data_dir>/textback-<account>.db`) and the
//! backups where the engine writes them (`[backup] dir`, default `<data_dir>/backups`); the
//! work is `textback_store::backup`'s. `backup` runs safely beside a running daemon (SQLite's
//! online backup API); `restore` refuses while a daemon or the desktop app has the database
//! open, and never deletes anything: the file it replaces is moved aside.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use chrono::{DateTime, Utc};
use textback_engine::config::{self, Config};
use textback_engine::{backup::backup_dir, credentials};
use textback_store::backup::{self, BackupDir};

const HOW: &str = "usage: textback [--config PATH] restore [BACKUP_FILE]";

/// Reads what follows `restore`: nothing (the newest good backup) or one backup file.
pub fn parse_args(args: &mut impl Iterator<Item = String>) -> Result<Option<PathBuf>, String> {
    let mut file = None;
    for a in args {
        if a.starts_with('-') {
            return Err(format!(
                "restore: unknown option {a:?} (put --config before the command)\n{HOW}"
            ));
        }
        if file.replace(PathBuf::from(a)).is_some() {
            return Err(format!("restore: give at most one backup file\n{HOW}"));
        }
    }
    Ok(file)
}

fn env_var(k: &str) -> Option<String> {
    std::env::var(k).ok()
}

fn fail(msg: impl std::fmt::Display) -> ExitCode {
    eprintln!("textback: {msg}");
    ExitCode::FAILURE
}

/// The configuration and the database it points at.
fn locate(flag: Option<&Path>) -> Result<(Config, PathBuf), String> {
    let path = config::resolve_path(flag, &env_var);
    let cfg = Config::load(&path, &env_var).map_err(|e| e.to_string())?;
    let account = credentials::load(&env_var)
        .ok()
        .map(|(auth, _)| auth.account_sid().to_owned());
    let db = database_in(&cfg.data_dir(), account.as_deref())?;
    Ok((cfg, db))
}

/// The account's database in `data_dir`; without credentials, the only one there.
fn database_in(data_dir: &Path, account: Option<&str>) -> Result<PathBuf, String> {
    if let Some(account) = account {
        return Ok(data_dir.join(format!("textback-{account}.db")));
    }
    let mut found: Vec<PathBuf> = std::fs::read_dir(data_dir)
        .map_err(|e| format!("cannot read the data directory {}: {e}", data_dir.display()))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.is_file()
                && p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("textback-") && n.ends_with(".db"))
        })
        .collect();
    found.sort();
    match found.len() {
        1 => Ok(found.remove(0)),
        0 => Err(format!(
            "no Textback database in {} and no credentials to name the account's; check engine.data_dir / TEXTBACK_DATA_DIR",
            data_dir.display()
        )),
        _ => Err(format!(
            "{} holds several databases ({}); set the TEXTBACK_TWILIO_* credentials of the account to use",
            data_dir.display(),
            found
                .iter()
                .filter_map(|p| p.file_name()?.to_str())
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

/// `textback backup`.
pub fn backup_now(flag: Option<&Path>) -> ExitCode {
    let (cfg, db) = match locate(flag) {
        Ok(found) => found,
        Err(e) => return fail(e),
    };
    match make(
        &db,
        &backup_dir(&cfg, &db),
        cfg.backup.keep as usize,
        Utc::now(),
    ) {
        Ok(report) => {
            println!("{report}");
            ExitCode::SUCCESS
        }
        Err(e) => fail(e),
    }
}

fn make(db: &Path, dir: &BackupDir, keep: usize, now: DateTime<Utc>) -> Result<String, String> {
    let made = dir.make(db, now).map_err(|e| e.to_string())?;
    let size = std::fs::metadata(&made.path).map_or(0, |m| m.len());
    let mut out = format!(
        "Backed up {}\n       to {} ({} KiB), checked: PRAGMA integrity_check = ok",
        db.display(),
        made.path.display(),
        size.div_ceil(1024)
    );
    match dir.prune(keep, &made.path) {
        Ok(deleted) => {
            for p in deleted {
                out.push_str(&format!("\nDeleted {} (backup.keep = {keep})", p.display()));
            }
        }
        Err(e) => out.push_str(&format!("\nOld backups were not deleted: {e}")),
    }
    Ok(out)
}

/// `textback restore [BACKUP_FILE]`.
pub fn run(flag: Option<&Path>, file: Option<&Path>) -> ExitCode {
    let (cfg, db) = match locate(flag) {
        Ok(found) => found,
        Err(e) => return fail(e),
    };
    match restore(&db, &backup_dir(&cfg, &db), file, Utc::now()) {
        Ok(report) => {
            println!("{report}");
            ExitCode::SUCCESS
        }
        Err(e) => fail(e),
    }
}

/// Restores `file`, or the newest backup in `dir` that passes its check; says what it did.
fn restore(
    db: &Path,
    dir: &BackupDir,
    file: Option<&Path>,
    now: DateTime<Utc>,
) -> Result<String, String> {
    let mut out = String::new();
    let chosen = match file {
        Some(f) => f.to_path_buf(),
        None => {
            let (good, skipped) = dir.newest_good().map_err(|e| e.to_string())?;
            for s in &skipped {
                out.push_str(&format!(
                    "Skipped {} (failed its integrity check: {})\n",
                    s.path.display(),
                    s.reason
                ));
            }
            good.map(|b| b.path).ok_or_else(|| {
                textback_store::StoreError::NoBackup {
                    db: db.to_path_buf(),
                    dir: dir.path().to_path_buf(),
                    skipped,
                }
                .to_string()
            })?
        }
    };
    let done = backup::restore(db, &chosen, now).map_err(|e| e.to_string())?;
    out.push_str(&format!(
        "Checked the backup {}: PRAGMA integrity_check = ok\n",
        done.from.display()
    ));
    if done.moved_aside.is_empty() {
        out.push_str("There was no database to replace.\n");
    } else {
        let what = if done.replaced_was_damaged == Some(true) {
            "the damaged database"
        } else {
            "the database it replaces"
        };
        out.push_str(&format!("Moved {what} aside (kept, not deleted):\n"));
        for p in &done.moved_aside {
            out.push_str(&format!("    {}\n", p.display()));
        }
    }
    out.push_str(&format!(
        "Restored {} and checked it: PRAGMA integrity_check = ok\n",
        done.db.display()
    ));
    if done.rechecked_outbox > 0 {
        out.push_str(&format!(
            "{} message(s) that were waiting to be sent when the backup was taken will be looked up in the provider's log before sending, so none goes out twice.\n",
            done.rechecked_outbox
        ));
    }
    out.push_str(
        "Start Textback again (`textback daemon` or the desktop app): calls and texts since the backup are fetched again from the provider; notes and lead changes made since the backup are not in it.",
    );
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use textback_store::Store;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 2, 15, 0, 0).unwrap()
    }

    fn parse(a: &[&str]) -> Result<Option<PathBuf>, String> {
        parse_args(&mut a.iter().map(|s| s.to_string()))
    }

    #[test]
    fn takes_no_file_or_one_file() {
        assert_eq!(parse(&[]).unwrap(), None, "no file: the newest good backup");
        assert_eq!(parse(&["/b/x.db"]).unwrap(), Some(PathBuf::from("/b/x.db")));
        assert!(parse(&["a.db", "b.db"]).is_err(), "two files is a mistake");
        assert!(
            parse(&["--force"]).is_err(),
            "there is no option that skips the checks"
        );
    }

    #[test]
    fn finds_the_accounts_database_or_the_only_one() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            database_in(dir.path(), Some("AC1")).unwrap(),
            dir.path().join("textback-AC1.db"),
            "the credentials name it"
        );
        assert!(database_in(dir.path(), None).is_err(), "none there: say so");
        std::fs::write(dir.path().join("textback-AC1.db"), b"").unwrap();
        std::fs::write(dir.path().join("textback.log"), b"").unwrap();
        assert_eq!(
            database_in(dir.path(), None).unwrap(),
            dir.path().join("textback-AC1.db"),
            "without credentials, the only database"
        );
        std::fs::write(dir.path().join("textback-AC2.db"), b"").unwrap();
        let err = database_in(dir.path(), None).unwrap_err();
        assert!(
            err.contains("textback-AC1.db, textback-AC2.db"),
            "several: never guess; {err}"
        );
    }

    #[test]
    fn backs_up_then_restores_the_newest_and_says_what_it_did() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("textback-AC1.db");
        let store = Store::open(&db).unwrap();
        let backups = BackupDir::beside(&db);
        let report = make(&db, &backups, 2, t0()).unwrap();
        assert!(report.contains("integrity_check = ok"), "{report}");
        make(&db, &backups, 2, t0() + chrono::Duration::days(1)).unwrap();
        let report = make(&db, &backups, 2, t0() + chrono::Duration::days(2)).unwrap();
        assert!(
            report.contains("Deleted") && report.contains("20261102T150000Z"),
            "the oldest beyond keep goes, and it says so: {report}"
        );

        let refused = restore(&db, &backups, None, t0()).unwrap_err();
        assert!(
            refused.contains("still using"),
            "a running daemon or app is detected: {refused}"
        );
        drop(store);
        let report = restore(&db, &backups, None, t0() + chrono::Duration::days(3)).unwrap();
        for said in [
            "textback-AC1-20261104T150000Z.db",
            "Moved the database it replaces aside",
            "textback-AC1.db.replaced-20261105T150000Z",
            "Restored",
            "Start Textback again",
        ] {
            assert!(report.contains(said), "says {said:?}: {report}");
        }
    }
}

//! Disk trouble on real SQLite files: backups taken while writing, a really damaged file
//! refused and restored, a full disk (`max_page_count`) and a lock held past the busy timeout.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use chrono::{DateTime, Duration, TimeZone, Utc};
use textback_store::backup::{self, BackupDir};
use textback_store::{Store, StoreError, contacts, conversations, outbox};

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 2, 15, 0, 0).unwrap()
}

/// An account's database in a fresh data dir.
fn account_db() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("textback-AC1.db");
    (dir, db)
}

/// A customer: a contact and their conversation, written in one transaction.
fn add_customer(store: &Store, i: usize) -> textback_store::Result<()> {
    store.immediate(|tx| {
        let contact = contacts::ensure(tx, &format!("+1415{i:07}"), t0())?;
        conversations::ensure(tx, "+15005550006", contact, t0())?;
        Ok(())
    })
}

fn count(conn: &rusqlite::Connection, table: &str) -> i64 {
    conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
        .unwrap()
}

fn customers_in(path: &Path) -> (i64, i64) {
    let conn =
        rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap();
    (count(&conn, "contacts"), count(&conn, "conversations"))
}

fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn a_backup_taken_while_writing_is_a_consistent_verified_single_file() {
    let (dir, db) = account_db();
    let store = Arc::new(Store::open(&db).unwrap());
    for i in 0..200 {
        add_customer(&store, i).unwrap();
    }
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (store, stop) = (store.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut i = 200;
            while !stop.load(Ordering::SeqCst) {
                add_customer(&store, i).unwrap();
                i += 1;
            }
            i
        })
    };
    let backups = BackupDir::beside(&db);
    let mut taken = Vec::new();
    for n in 0..5 {
        taken.push(backups.make(&db, t0() + Duration::hours(n)).unwrap());
    }
    stop.store(true, Ordering::SeqCst);
    let written = writer.join().unwrap();
    assert!(written > 200, "the writer kept writing during the backups");

    assert_eq!(
        backups.path(),
        dir.path().join("backups"),
        "backups live in <data_dir>/backups by default"
    );
    for b in &taken {
        let (contacts, conversations) = customers_in(&b.path);
        assert_eq!(
            contacts,
            conversations,
            "{}: each customer is one transaction, so a consistent snapshot has as many of one as the other",
            b.path.display()
        );
        assert!(
            contacts >= 200,
            "rows still in the WAL (not checkpointed) are in the copy: {contacts}"
        );
        backup::verify(&b.path).expect("every kept backup passes integrity_check");
        let header = std::fs::read(&b.path).unwrap();
        assert_eq!(
            (header[18], header[19]),
            (1, 1),
            "a backup is a rollback-journal file: one self-contained file, no -wal needed"
        );
    }
    assert_eq!(
        names_in(backups.path()),
        [
            "textback-AC1-20261102T150000Z.db",
            "textback-AC1-20261102T160000Z.db",
            "textback-AC1-20261102T170000Z.db",
            "textback-AC1-20261102T180000Z.db",
            "textback-AC1-20261102T190000Z.db",
        ],
        "named by the UTC time they were taken; no temporary, -wal or -journal files are left"
    );
    assert_eq!(
        backups.list().unwrap()[0].taken_at,
        t0() + Duration::hours(4),
        "the list is newest first, with the time read back from the name"
    );
}

#[test]
fn store_backup_to_writes_a_checked_copy_under_the_given_name() {
    let (dir, db) = account_db();
    let store = Store::open(&db).unwrap();
    add_customer(&store, 1).unwrap();
    let dest = dir.path().join("copy.db");
    store.backup_to(&dest).unwrap();
    assert_eq!(
        customers_in(&dest),
        (1, 1),
        "the copy holds what was written"
    );
    assert_eq!(
        names_in(dir.path())
            .into_iter()
            .filter(|n| n.starts_with("copy") || n.contains(".partial"))
            .collect::<Vec<_>>(),
        ["copy.db"],
        "the temporary name is renamed away"
    );
}

#[test]
fn pruning_keeps_the_newest_and_never_the_one_just_made() {
    let (dir, db) = account_db();
    let store = Store::open(&db).unwrap();
    add_customer(&store, 1).unwrap();
    let backups = BackupDir::beside(&db);
    let made: Vec<_> = (0..9)
        .map(|d| backups.make(&db, t0() + Duration::days(d)).unwrap())
        .collect();
    // Files that are not this database's backups are never touched.
    let foreign = [
        "textback-AC2-20200101T000000Z.db",
        "textback-AC1-notatime.db",
        "notes.txt",
    ];
    for name in foreign {
        std::fs::write(backups.path().join(name), b"x").unwrap();
    }
    let deleted = backups.prune(7, &made[8].path).unwrap();
    assert_eq!(
        deleted,
        [made[1].path.clone(), made[0].path.clone()],
        "the two oldest go, oldest last"
    );
    assert_eq!(backups.list().unwrap().len(), 7, "keep = 7 are kept");
    for name in foreign {
        assert!(
            backups.path().join(name).exists(),
            "{name} is not ours and stays"
        );
    }
    // A clock set back a year: the backup just made looks oldest, yet it is the only one
    // known to be of the current data, so it is never pruned.
    let behind = backups.make(&db, t0() - Duration::days(365)).unwrap();
    let deleted = backups.prune(1, &behind.path).unwrap();
    assert!(
        behind.path.exists() && made[8].path.exists(),
        "the protected one and the newest survive"
    );
    assert_eq!(deleted.len(), 6, "the rest go");
    assert_eq!(
        backups.prune(0, &behind.path).unwrap(),
        Vec::<PathBuf>::new(),
        "keep = 0 still keeps the newest"
    );
    drop(dir);
}

/// Overwrites bytes from the middle of one page to the middle of the page after next, so one
/// whole page (header included) in the middle of the file is garbage.
fn damage(db: &Path) {
    let mut bytes = std::fs::read(db).unwrap();
    let page = u16::from_be_bytes([bytes[16], bytes[17]]) as usize;
    let pages = bytes.len() / page;
    assert!(
        pages > 10,
        "the database is big enough to damage its middle: {pages} pages"
    );
    let start = (pages / 2) * page + page / 2;
    for (i, b) in bytes[start..start + 2 * page].iter_mut().enumerate() {
        *b = (i * 7 + 13) as u8;
    }
    std::fs::write(db, bytes).unwrap();
}

/// A database with 400 customers backed up, then 100 more written, closed, and damaged.
fn damaged_with_backup() -> (tempfile::TempDir, PathBuf, backup::BackupFile) {
    let (dir, db) = account_db();
    let store = Store::open(&db).unwrap();
    for i in 0..400 {
        add_customer(&store, i).unwrap();
    }
    let good = BackupDir::beside(&db).make(&db, t0()).unwrap();
    for i in 400..500 {
        add_customer(&store, i).unwrap();
    }
    // Closing the last connection checkpoints the WAL into the file and removes it, so every
    // page is in the file that gets damaged.
    drop(store);
    assert!(!Path::new(&format!("{}-wal", db.display())).exists());
    damage(&db);
    (dir, db, good)
}

#[test]
fn a_damaged_database_is_refused_with_where_its_backup_is_and_how_to_restore_it() {
    let (_dir, db, good) = damaged_with_backup();
    let before = std::fs::read(&db).unwrap();
    let err = Store::open(&db).expect_err("a damaged file must not be opened");
    let StoreError::Corrupt {
        path,
        newest_backup,
        ..
    } = &err
    else {
        panic!("a damaged file is StoreError::Corrupt, got {err:?}");
    };
    assert_eq!(path, &db);
    assert_eq!(
        newest_backup.as_ref().map(|b| &b.path),
        Some(&good.path),
        "the newest good backup is found beside the database"
    );
    let message = err.to_string();
    for needed in [
        "is damaged",
        &db.display().to_string(),
        &good.path.display().to_string(),
        "textback restore",
        "2026-11-02 15:00:00 UTC",
    ] {
        assert!(
            message.contains(needed),
            "the message must say {needed:?}: {message}"
        );
    }
    assert_eq!(
        std::fs::read(&db).unwrap(),
        before,
        "refusing writes nothing to the damaged file"
    );
}

#[test]
fn a_check_left_for_later_finds_the_damage_without_holding_up_reads_or_writing_anything() {
    let (_dir, db, good) = damaged_with_backup();
    let before = std::fs::read(&db).unwrap();
    let store = Store::open_check_later(&db).expect("an up-to-date file opens unchecked");
    assert!(!store.integrity_checked());
    let err = store
        .check_integrity()
        .expect_err("the check finds the damage");
    let StoreError::Corrupt { newest_backup, .. } = &err else {
        panic!("a damaged file is StoreError::Corrupt, got {err:?}");
    };
    assert_eq!(newest_backup.as_ref().map(|b| &b.path), Some(&good.path));
    assert!(
        !store.integrity_checked(),
        "a failed check leaves it unchecked"
    );
    drop(store);
    assert_eq!(std::fs::read(&db).unwrap(), before, "nothing was written");

    let (_dir, db) = account_db();
    drop(Store::open(&db).unwrap());
    let store = Store::open_check_later(&db).unwrap();
    store.check_integrity().expect("a sound file passes");
    assert!(store.integrity_checked());
}

#[test]
fn a_file_that_needs_migrating_is_checked_at_once_even_when_the_check_is_left_for_later() {
    let (_dir, db, _good) = damaged_with_backup();
    // An older schema: the migration would write, so the check cannot wait.
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.pragma_update(None, "user_version", 5).unwrap();
    drop(conn);
    let err = Store::open_check_later(&db).expect_err("checked before migrating");
    assert!(
        matches!(err, StoreError::Corrupt { .. }),
        "damage is found before the migration touches the file: {err:?}"
    );
}

#[test]
fn restore_moves_the_damaged_file_aside_and_puts_the_newest_good_backup_back() {
    let (dir, db, good) = damaged_with_backup();
    let damaged_bytes = std::fs::read(&db).unwrap();
    // A newer "backup" that is itself damaged (say, taken from a failing disk): skipped.
    let backups = BackupDir::beside(&db);
    let bad = backups.file_for(t0() + Duration::days(1));
    std::fs::write(&bad, &damaged_bytes).unwrap();

    let (newest, skipped) = backups.newest_good().unwrap();
    assert_eq!(
        newest.map(|b| b.path),
        Some(good.path.clone()),
        "the newest backup that passes integrity_check is chosen"
    );
    assert_eq!(
        skipped.iter().map(|s| &s.path).collect::<Vec<_>>(),
        [&bad],
        "the damaged newer one is skipped, with a reason"
    );

    let later = t0() + Duration::days(2);
    let restored = backup::restore(&db, &good.path, later).unwrap();
    assert_eq!(restored.replaced_was_damaged, Some(true));
    let aside = dir.path().join("textback-AC1.db.damaged-20261104T150000Z");
    assert_eq!(
        restored.moved_aside.first(),
        Some(&aside),
        "the damaged file is moved aside, named by when"
    );
    assert!(
        restored
            .moved_aside
            .iter()
            .all(|p| p.to_string_lossy().starts_with(&*aside.to_string_lossy())),
        "its -wal/-shm go with it, under the same name: {:?}",
        restored.moved_aside
    );
    assert!(
        !dir.path().join("textback-AC1.db-wal").exists(),
        "no old -wal is left to be replayed onto the restored file"
    );
    assert_eq!(
        std::fs::read(&aside).unwrap(),
        damaged_bytes,
        "the damaged file is kept byte for byte (never deleted)"
    );
    let store = Store::open(&db).expect("the restored database opens");
    let rows = store
        .read(|c| Ok((count(c, "contacts"), count(c, "conversations"))))
        .unwrap();
    assert_eq!(
        rows,
        (400, 400),
        "the restored database holds what the backup held"
    );
    assert!(
        good.path.exists(),
        "restoring copies the backup; the backup itself stays"
    );
}

#[test]
fn restore_refuses_while_the_database_is_open_and_changes_nothing() {
    let (dir, db) = account_db();
    let store = Store::open(&db).unwrap();
    add_customer(&store, 1).unwrap();
    let good = BackupDir::beside(&db).make(&db, t0()).unwrap();
    add_customer(&store, 2).unwrap();
    assert!(
        backup::in_use(&db).unwrap(),
        "an open Store (a daemon, the app) holds the file"
    );
    let err = backup::restore(&db, &good.path, t0()).expect_err("must refuse");
    assert!(
        matches!(err, StoreError::InUse { .. }),
        "refused as in use, got {err:?}"
    );
    assert!(
        err.to_string().contains("stop it"),
        "the message says what to do: {err}"
    );
    assert_eq!(
        store.read(|c| Ok(count(c, "contacts"))).unwrap(),
        2,
        "the live database is untouched"
    );
    assert!(
        !names_in(dir.path())
            .iter()
            .any(|n| n.contains("replaced") || n.contains("damaged") || n.contains("restoring")),
        "nothing was moved or copied: {:?}",
        names_in(dir.path())
    );
    drop(store);
    assert!(
        !backup::in_use(&db).unwrap(),
        "closed: the lock is free again"
    );
    let restored = backup::restore(&db, &good.path, t0()).unwrap();
    assert_eq!(
        restored.replaced_was_damaged,
        Some(false),
        "a healthy file was replaced"
    );
    assert_eq!(
        restored.moved_aside.first(),
        Some(&dir.path().join("textback-AC1.db.replaced-20261102T150000Z")),
        "a healthy file replaced is named so"
    );
    assert_eq!(customers_in(&db), (1, 1), "back to the backup's contents");
}

fn queue(store: &Store, key: &str, not_before: DateTime<Utc>) -> i64 {
    store
        .immediate(|tx| {
            outbox::enqueue(
                tx,
                &outbox::New {
                    idempotency_key: key,
                    kind: outbox::Kind::Manual,
                    business_number: "+15005550006",
                    to_number: "+14155550100",
                    body: key,
                    conversation_id: None,
                    call_id: None,
                    check_since: None,
                    author: None,
                    not_before,
                },
                t0(),
            )
        })
        .unwrap()
        .expect("a new key queues")
}

#[test]
fn a_restored_backup_never_sends_twice_what_may_have_gone_out_since() {
    let (_dir, db) = account_db();
    let store = Store::open(&db).unwrap();
    let due = queue(&store, "due", t0());
    let later = queue(&store, "next week", t0() + Duration::days(7));
    let sent = queue(&store, "sent", t0());
    let flying = queue(&store, "in flight", t0());
    store
        .immediate(|tx| {
            outbox::mark_in_flight(tx, sent, t0())?;
            outbox::mark_sent(tx, sent, "SM1", t0())?;
            outbox::mark_in_flight(tx, flying, t0())
        })
        .unwrap();
    let good = BackupDir::beside(&db).make(&db, t0()).unwrap();
    drop(store);

    let restored = backup::restore(&db, &good.path, t0() + Duration::hours(3)).unwrap();
    assert_eq!(
        restored.rechecked_outbox, 2,
        "the due and the in-flight entry"
    );
    let store = Store::open(&db).unwrap();
    let state = |id| store.read(|c| outbox::get(c, id)).unwrap().state;
    assert_eq!(
        state(due),
        outbox::State::Unknown,
        "it may have been sent after the backup: checked against the provider's log first"
    );
    assert_eq!(state(flying), outbox::State::Unknown, "likewise");
    assert_eq!(
        state(later),
        outbox::State::Pending,
        "not due yet, so it cannot have gone out: left to its time"
    );
    assert_eq!(state(sent), outbox::State::Sent, "what was sent stays sent");
}

#[test]
fn a_restore_whose_backup_fails_its_check_changes_nothing() {
    let (dir, db) = account_db();
    drop(Store::open(&db).unwrap());
    let bad = dir.path().join("bad.db");
    std::fs::write(&bad, vec![0x42u8; 8192]).unwrap();
    let before = names_in(dir.path());
    let err = backup::restore(&db, &bad, t0()).expect_err("must refuse a bad backup");
    assert!(
        matches!(err, StoreError::BackupUnverified { .. }),
        "got {err:?}"
    );
    assert_eq!(
        names_in(dir.path()),
        before,
        "nothing moved, nothing copied"
    );
}

#[test]
fn a_file_that_is_not_a_database_is_damaged_and_the_message_says_where_backups_would_be() {
    let (dir, db) = account_db();
    std::fs::write(&db, vec![0x42u8; 8192]).unwrap();
    let err = Store::open(&db).expect_err("garbage is not opened");
    assert!(
        matches!(
            err,
            StoreError::Corrupt {
                newest_backup: None,
                ..
            }
        ),
        "got {err:?}"
    );
    let message = err.to_string();
    assert!(
        message.contains("No good backup was found")
            && message.contains(&dir.path().join("backups").display().to_string())
            && message.contains("textback restore"),
        "{message}"
    );
}

#[test]
fn a_full_disk_fails_writes_whole_and_they_succeed_again_once_space_returns() {
    let (_dir, db) = account_db();
    let store = Store::open(&db).unwrap();
    for i in 0..50 {
        add_customer(&store, i).unwrap();
    }
    // The file may not grow by a single page from here on: what a full disk looks like to
    // SQLite (SQLITE_FULL), on a real file.
    store
        .read(|c| {
            let pages: i64 = c.pragma_query_value(None, "page_count", |r| r.get(0))?;
            c.pragma_update(None, "max_page_count", pages)?;
            Ok(())
        })
        .unwrap();
    let mut i = 50;
    let err = loop {
        match add_customer(&store, i) {
            Ok(()) => i += 1,
            Err(e) => break e,
        }
        assert!(i < 100_000, "the page limit must stop writes at some point");
    };
    let committed = i;
    assert!(
        matches!(err, StoreError::DiskFull),
        "SQLITE_FULL is typed: {err:?}"
    );
    assert_eq!(
        err.to_string(),
        "The disk is full: Textback cannot save new messages until space is freed"
    );
    assert!(err.is_storage_problem());
    assert!(
        add_customer(&store, committed).is_err(),
        "still full: the next write fails too"
    );
    store
        .read(|c| {
            assert_eq!(
                (count(c, "contacts"), count(c, "conversations")),
                (committed as i64, committed as i64),
                "a failed transaction leaves nothing half-written"
            );
            Ok(())
        })
        .unwrap();

    // Space is freed: the same writes go through on the same connection, no restart needed.
    store
        .read(|c| {
            c.pragma_update(None, "max_page_count", 1_000_000)?;
            Ok(())
        })
        .unwrap();
    for j in committed..committed + 20 {
        add_customer(&store, j).expect("writes succeed once there is room again");
    }
    drop(store);
    let store = Store::open(&db).expect("the file reopens (quick_check passes)");
    store
        .read(|c| {
            backup::verify(&db).expect("integrity_check is ok after running out of room");
            assert_eq!(
                count(c, "contacts"),
                committed as i64 + 20,
                "every committed row is intact"
            );
            let first = contacts::find_by_phone(c, "+14150000000")?;
            assert!(first.is_some(), "the earliest row is still there");
            Ok(())
        })
        .unwrap();
}

#[test]
fn a_lock_held_past_the_busy_timeout_is_reported_with_the_path_and_then_clears() {
    let (_dir, db) = account_db();
    let store = Store::open(&db).unwrap();
    add_customer(&store, 1).unwrap();
    // NOTE: the store waits 5 s for a lock; a tenth of a second shows the same path faster.
    store
        .read(|c| {
            c.busy_timeout(std::time::Duration::from_millis(100))?;
            Ok(())
        })
        .unwrap();
    let other = rusqlite::Connection::open(&db).unwrap();
    other.execute_batch("BEGIN EXCLUSIVE").unwrap();
    let err = add_customer(&store, 2).expect_err("the writer lock is held elsewhere");
    assert!(
        matches!(&err, StoreError::Locked { path } if path == &db),
        "SQLITE_BUSY is typed with the file's path: {err:?}"
    );
    assert_eq!(
        err.to_string(),
        format!(
            "The database is locked by another program: {}",
            db.display()
        )
    );
    assert!(err.is_storage_problem());
    other.execute_batch("COMMIT").unwrap();
    add_customer(&store, 2).expect("the lock is gone: the same write succeeds");
    assert_eq!(
        store.read(|c| Ok(count(c, "contacts"))).unwrap(),
        2,
        "nothing lost, nothing doubled"
    );
    drop(store);
    drop(other);
    backup::verify(&db).expect("integrity_check is ok");
}

/// The same on a file system that really runs out of room (ENOSPC), which needs one made for
/// the purpose, so it is not run by default:
///
/// ```text
/// mount -t tmpfs -o size=2m tmpfs /mnt/tiny
/// TEXTBACK_TEST_TINY_FS=/mnt/tiny cargo test -p textback-store --test store -- --ignored really
/// ```
#[test]
#[ignore = "needs a small file system in TEXTBACK_TEST_TINY_FS (see the doc comment)"]
fn a_really_full_file_system_is_disk_full_and_writes_resume_once_space_is_freed() {
    let root = std::env::var_os("TEXTBACK_TEST_TINY_FS")
        .expect("TEXTBACK_TEST_TINY_FS names a directory on a small file system");
    let dir = tempfile::tempdir_in(root).unwrap();
    let db = dir.path().join("textback-AC1.db");
    // Room that "the user" frees later.
    let spare = dir.path().join("spare");
    std::fs::write(&spare, vec![0u8; 512 * 1024]).unwrap();
    let store = Store::open(&db).unwrap();
    let mut committed = 0;
    let err = loop {
        match add_customer(&store, committed) {
            Ok(()) => committed += 1,
            Err(e) => break e,
        }
        assert!(committed < 1_000_000, "the file system never filled up");
    };
    println!("full after {committed} customers: {err:?}");
    assert!(
        matches!(err, StoreError::DiskFull),
        "ENOSPC is typed as a full disk: {err:?}"
    );
    assert!(
        add_customer(&store, committed).is_err(),
        "still full: the next write fails too"
    );
    std::fs::remove_file(&spare).unwrap();
    for j in committed..committed + 20 {
        add_customer(&store, j).expect("writes resume once space is freed");
    }
    drop(store);
    let store = Store::open(&db).expect("the file reopens (quick_check passes)");
    backup::verify(&db).expect("integrity_check is ok");
    let rows = store
        .read(|c| Ok((count(c, "contacts"), count(c, "conversations"))))
        .unwrap();
    assert_eq!(
        rows,
        (committed as i64 + 20, committed as i64 + 20),
        "every committed customer is intact, none half-written"
    );
}

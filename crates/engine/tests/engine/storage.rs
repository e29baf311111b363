//! Disk trouble under the running engine: its own database connection runs out of room
//! (`max_page_count`, real SQLite), the loops keep going, the problem is said once, and the
//! work is done exactly once when space returns. And the rolling backup, driven by the clock.
//!
//! NOTE: the storage tests run the real loops ([`Engine::start`]), because the once-only event
//! and the retry live in the loops; they wait for events and for the simulator's request count,
//! never for a fixed time.

use std::sync::Arc;
use std::time::Duration;

use chrono::Timelike;
use tokio::sync::broadcast;

use textback_domain::PhoneNumber;
use textback_engine::DomainEvent;
use textback_engine::backup::BackupStep;
use textback_sim::Route;
use textback_store::{Store, backup, calls, outbox};

use crate::common::{BUSINESS, CALLER, CALLERS, Harness, config, count};

/// Makes the engine's database unable to grow, as on a full disk. `max_page_count` on the
/// store's connection (the very one the engine writes through) pins the file at its size; the
/// temporary trigger makes every `on` write need new pages, since a young file still has room
/// inside its pages that a real full disk would not leave usable.
fn fill_disk(h: &Harness, on: &str) {
    h.store
        .read(|c| {
            c.execute_batch(&format!(
                "CREATE TABLE IF NOT EXISTS ballast (b BLOB);
                 CREATE TEMP TRIGGER ballast_{name} AFTER {on} BEGIN
                     INSERT INTO ballast VALUES (zeroblob(65536));
                 END;",
                name = on.replace(' ', "_").to_lowercase(),
            ))?;
            let pages: i64 = c.pragma_query_value(None, "page_count", |r| r.get(0))?;
            c.pragma_update(None, "max_page_count", pages)?;
            Ok(())
        })
        .expect("the test can reach the engine's own connection");
}

/// Space is freed.
fn free_disk(h: &Harness) {
    h.store
        .read(|c| {
            c.pragma_update(None, "max_page_count", 1_073_741_823)?;
            Ok(())
        })
        .expect("raising the page limit works");
}

/// Every event up to and including the first that matches `pred`.
async fn until(
    events: &mut broadcast::Receiver<DomainEvent>,
    what: &str,
    pred: impl Fn(&DomainEvent) -> bool,
) -> Vec<DomainEvent> {
    let mut seen = Vec::new();
    let found = tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            let e = events.recv().await.expect("the engine keeps its channel");
            let done = pred(&e);
            seen.push(e);
            if done {
                return;
            }
        }
    })
    .await;
    assert!(found.is_ok(), "{what} within 30 s; saw only {seen:?}");
    seen
}

/// Waits until the engine has made `passes` more sync passes (each lists calls twice).
async fn more_passes(h: &Harness, passes: usize) {
    let target = h.sim.requests(Route::CallsList) + 2 * passes;
    let reached = tokio::time::timeout(Duration::from_secs(30), async {
        while h.sim.requests(Route::CallsList) < target {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    assert!(
        reached.is_ok(),
        "the sync loop kept polling: {passes} more passes within 30 s"
    );
}

fn is_problem(e: &DomainEvent) -> bool {
    matches!(e, DomainEvent::StorageProblem { .. })
}

fn integrity_ok(h: &Harness) {
    let check: String = h
        .store
        .read(|c| Ok(c.query_row("PRAGMA integrity_check", [], |r| r.get(0))?))
        .unwrap();
    assert_eq!(check, "ok", "running out of room damaged nothing");
}

#[tokio::test]
async fn a_full_disk_is_said_once_the_loops_go_on_and_the_call_is_texted_back_when_space_returns() {
    let mut h = Harness::start().await;
    h.sync().await;
    fill_disk(&h, "INSERT ON calls");
    let sid = h.missed_call(CALLER).await;
    h.catch_up();
    let running = h.engine.start();

    let mut seen = until(&mut h.events, "a storage problem", is_problem).await;
    let Some(DomainEvent::StorageProblem { message }) = seen.last() else {
        unreachable!()
    };
    assert_eq!(
        message, "The disk is full: Textback cannot save new messages until space is freed",
        "the event says what is wrong in words a person can act on"
    );
    more_passes(&h, 3).await;
    seen.extend(h.drain_events());
    assert_eq!(
        count(&seen, is_problem),
        1,
        "said once, though every pass fails: {seen:?}"
    );
    assert!(
        h.store
            .read(|c| calls::by_provider_id(c, "twilio", &sid))
            .unwrap()
            .is_none(),
        "the call could not be recorded (the provider still has it)"
    );
    assert!(h.sim.sent_messages().is_empty(), "nothing was texted blind");

    free_disk(&h);
    seen.extend(
        until(&mut h.events, "the text-back after space returns", |e| {
            matches!(e, DomainEvent::TextBackSent { .. })
        })
        .await,
    );
    let recovered = seen
        .iter()
        .position(|e| matches!(e, DomainEvent::StorageRecovered));
    let sent = seen
        .iter()
        .position(|e| matches!(e, DomainEvent::TextBackSent { .. }));
    assert!(
        recovered.is_some() && recovered < sent,
        "recovery is said before the work it allows: {seen:?}"
    );
    assert_eq!(
        count(&seen, |e| matches!(e, DomainEvent::StorageRecovered)),
        1
    );
    assert_eq!(
        count(&seen, |e| matches!(e, DomainEvent::BackupMade { .. })),
        1,
        "Engine::start runs the backup task too (a backup needs no room in the database)"
    );
    running.shutdown().await;
    assert_eq!(
        h.untracked_bodies(),
        [h.business_hours_text()],
        "the missed call was texted back exactly once"
    );
    integrity_ok(&h);
}

/// Overwrites two pages' worth of bytes near the end of the file, where the last rows written
/// are (a dead sector, a bad copy): the schema still reads, the data does not.
fn damage(db: &std::path::Path) {
    let mut bytes = std::fs::read(db).unwrap();
    let page = usize::from(u16::from_be_bytes([bytes[16], bytes[17]]));
    let pages = bytes.len() / page;
    assert!(
        pages > 10,
        "the file is big enough to damage: {pages} pages"
    );
    let start = (pages - 4) * page + page / 2;
    for (i, b) in bytes[start..start + 2 * page].iter_mut().enumerate() {
        *b = (i * 7 + 13) as u8;
    }
    std::fs::write(db, bytes).unwrap();
}

#[tokio::test]
async fn a_damaged_database_opened_with_its_check_left_for_later_runs_nothing_and_says_why() {
    let mut h = Harness::start().await;
    for i in 0..20 {
        h.missed_call(CALLERS[i % CALLERS.len()]).await;
        h.advance(chrono::Duration::minutes(30));
    }
    h.sync().await;
    h.send_all().await;
    let texted = h.sim.sent_messages().len();
    // A window's worth of rows, so the file has pages to damage.
    h.store
        .read(|c| {
            c.execute_batch(
                "CREATE TABLE ballast (b BLOB);
                 WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 40)
                 INSERT INTO ballast SELECT randomblob(3000) FROM n;
                 PRAGMA wal_checkpoint(TRUNCATE);",
            )?;
            Ok(())
        })
        .unwrap();
    let db = h.db_path();
    // Close every handle on the file: the harness moves to a scratch database meanwhile.
    h.restart_on(Arc::new(
        Store::open(&h.dir.path().join("scratch.db")).unwrap(),
    ));
    damage(&db);

    let store =
        Arc::new(Store::open_check_later(&db).expect("an up-to-date file opens without its check"));
    assert!(!store.integrity_checked());
    h.restart_on(store);
    let polls = h.sim.requests(Route::CallsList);
    h.missed_call(CALLERS[0]).await;
    let running = h.engine.start();
    let seen = until(&mut h.events, "the damaged file is said", is_problem).await;
    let Some(DomainEvent::StorageProblem { message }) = seen.last() else {
        unreachable!()
    };
    assert!(
        message.contains("is damaged") && message.contains("textback restore"),
        "the message says what is wrong and how to recover: {message}"
    );
    assert_eq!(
        h.engine.health().storage_problem.as_deref(),
        Some(message.as_str()),
        "the app's status carries it for as long as it lasts"
    );
    assert!(
        !h.engine.store_checked().await,
        "writers outside the loops (the app's commands) are told not to write"
    );
    running.shutdown().await;
    assert_eq!(
        h.sim.requests(Route::CallsList),
        polls,
        "nothing ran on the damaged file: no sync pass"
    );
    assert_eq!(h.sim.sent_messages().len(), texted, "and nothing was sent");
}

#[tokio::test]
async fn a_full_disk_while_sending_sends_nothing_until_space_returns_then_exactly_once() {
    let mut h = Harness::start().await;
    h.sync().await;
    let business = PhoneNumber::parse_e164(BUSINESS).unwrap();
    h.engine
        .start_conversation(&business, CALLER, "On our way", Some("Sam"))
        .expect("queued before the disk filled");
    // Marking the entry in flight (before the HTTP call) needs room: it cannot be written.
    fill_disk(&h, "UPDATE ON outbox");
    let running = h.engine.start();

    let mut seen = until(&mut h.events, "a storage problem", is_problem).await;
    more_passes(&h, 2).await;
    assert!(
        h.sim.sent_messages().is_empty(),
        "a send that could not be marked in flight is never sent"
    );
    let now = h.now();
    let due = h.store.read(|c| outbox::due(c, now, 10)).unwrap();
    assert_eq!(due.len(), 1, "the reply waits, still pending");

    free_disk(&h);
    // The sender's first write after the trouble is the send itself: the recovery is told
    // right after it.
    seen.extend(
        until(&mut h.events, "the recovery after space returns", |e| {
            matches!(e, DomainEvent::StorageRecovered)
        })
        .await,
    );
    assert_eq!(
        count(&seen, |e| matches!(e, DomainEvent::MessageSent { .. })),
        1,
        "the reply went out once space returned: {seen:?}"
    );
    running.shutdown().await;
    assert_eq!(count(&seen, is_problem), 1, "said once: {seen:?}");
    assert_eq!(
        count(&seen, |e| matches!(e, DomainEvent::StorageRecovered)),
        1,
        "and its end once: {seen:?}"
    );
    assert_eq!(h.sent_bodies(), ["On our way"], "sent exactly once");
    integrity_ok(&h);
}

#[tokio::test]
async fn backups_follow_the_clock_across_restarts_and_jumps_and_keep_the_newest() {
    let mut h = Harness::start().await;
    let dir = h.engine.backup_dir();
    assert_eq!(
        dir.path(),
        h.dir.path().join("backups"),
        "beside the database"
    );

    let BackupStep::Made(first) = h.engine.backup_step().await else {
        panic!("no backup yet: one is made at once");
    };
    backup::verify(&first.path).expect("kept backups are verified");
    assert_eq!(
        h.engine.backup_step().await,
        BackupStep::NotDue {
            next_at: first.taken_at + chrono::Duration::hours(24)
        },
        "one a day"
    );
    h.clock.advance(chrono::Duration::hours(23));
    h.restart();
    assert!(
        matches!(h.engine.backup_step().await, BackupStep::NotDue { .. }),
        "a restart reads the schedule from the files, not from memory"
    );

    // A laptop wakes after three days: one backup, not three.
    h.clock.advance(chrono::Duration::days(3));
    assert!(matches!(h.engine.backup_step().await, BackupStep::Made(_)));
    assert!(matches!(
        h.engine.backup_step().await,
        BackupStep::NotDue { .. }
    ));
    assert_eq!(dir.list().unwrap().len(), 2);

    // The clock is set back a month: the newest files look like the future; one backup for
    // the new "now", then the schedule holds again.
    h.clock.advance(chrono::Duration::days(-30));
    let BackupStep::Made(behind) = h.engine.backup_step().await else {
        panic!("no backup within a day of the new time: one is made");
    };
    assert!(matches!(
        h.engine.backup_step().await,
        BackupStep::NotDue { .. }
    ));

    h.clock.advance(chrono::Duration::days(31));
    for _ in 0..10 {
        h.clock.advance(chrono::Duration::days(1));
        assert!(matches!(h.engine.backup_step().await, BackupStep::Made(_)));
    }
    let kept = dir.list().unwrap();
    assert_eq!(kept.len(), 7, "keep = 7");
    assert_eq!(
        kept[0].taken_at,
        h.now().with_nanosecond(0).unwrap(),
        "the newest is kept"
    );
    assert!(
        !behind.path.exists(),
        "the one made while the clock was behind is pruned once it is oldest"
    );
    let events = h.drain_events();
    assert_eq!(
        count(&events, |e| matches!(e, DomainEvent::BackupMade { .. })),
        12,
        "each backup since the restart is told: {events:?}"
    );
}

#[tokio::test]
async fn a_backup_that_cannot_be_written_is_said_once_retried_and_never_stops_the_engine() {
    let mut cfg = config();
    // Relative to the database's folder; a file where the folder should be makes it
    // unwritable even for root.
    cfg.backup.dir = Some("blocker/backups".into());
    let mut h = Harness::with_config(cfg).await;
    let blocker = h.dir.path().join("blocker");
    std::fs::write(&blocker, b"not a folder").unwrap();

    for _ in 0..3 {
        let BackupStep::Failed(message) = h.engine.backup_step().await else {
            panic!("the folder cannot be created");
        };
        assert!(
            message.contains(&blocker.display().to_string()) && message.contains("tries again"),
            "the message says where and that it retries: {message}"
        );
    }
    let events = h.drain_events();
    assert_eq!(
        count(&events, |e| matches!(e, DomainEvent::BackupFailed { .. })),
        1,
        "three failures, told once: {events:?}"
    );
    h.sync().await;
    assert!(h.engine.health().online, "the engine carries on meanwhile");

    std::fs::remove_file(&blocker).unwrap();
    assert!(
        matches!(h.engine.backup_step().await, BackupStep::Made(_)),
        "retried: works once the folder can be made"
    );
    assert_eq!(
        count(&h.drain_events(), |e| matches!(
            e,
            DomainEvent::BackupMade { .. }
        )),
        1
    );
    std::fs::remove_dir_all(h.dir.path().join("blocker")).unwrap();
    std::fs::write(&blocker, b"broken again").unwrap();
    h.clock.advance(chrono::Duration::days(1));
    assert!(matches!(
        h.engine.backup_step().await,
        BackupStep::Failed(_)
    ));
    assert_eq!(
        count(&h.drain_events(), |e| matches!(
            e,
            DomainEvent::BackupFailed { .. }
        )),
        1,
        "a new failure after a success is told again"
    );
}

#[test]
fn the_backup_section_has_defaults_and_names_a_bad_key() {
    let path = std::path::Path::new("textback.toml");
    let defaults = textback_engine::Config::from_toml("", path).unwrap().backup;
    assert!(defaults.enabled, "backups are on unless turned off");
    assert_eq!(defaults.keep, 7);
    assert_eq!(defaults.interval.as_secs(), 24 * 3600);
    assert_eq!(defaults.dir, None, "beside the database by default");
    let set = textback_engine::Config::from_toml(
        "[backup]\nenabled = false\ndir = \"/mnt/usb/tb\"\nkeep = 30\ninterval = \"6h\"\n",
        path,
    )
    .unwrap()
    .backup;
    assert_eq!(
        (set.enabled, set.dir, set.keep, set.interval.as_secs()),
        (false, Some("/mnt/usb/tb".into()), 30, 6 * 3600)
    );
    for (bad, key) in [
        ("[backup]\nkeep = 0\n", "backup.keep"),
        ("[backup]\ninterval = \"10s\"\n", "backup.interval"),
        ("[backup]\ninterval = \"400d\"\n", "backup.interval"),
        ("[backup]\nkept = 3\n", "kept"),
    ] {
        let err = textback_engine::Config::from_toml(bad, path)
            .expect_err(bad)
            .to_string();
        assert!(err.contains(key), "{bad:?} is rejected naming {key}: {err}");
    }
}

//! Store tests on a real SQLite file in a temp dir.

mod backup;
mod lifecycle;

use chrono::{DateTime, Duration, TimeZone, Utc};
use textback_domain::ProviderMediaId;
use textback_store::{
    Store, StoreError, calls, contacts, conversations, decisions, media, messages, migrations,
    outbox, sync_cursors,
};

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 2, 15, 0, 0).unwrap()
}

fn open() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("textback.db")).unwrap();
    (dir, store)
}

#[test]
fn opens_with_wal_foreign_keys_and_latest_schema() {
    let (_dir, store) = open();
    store
        .read(|c| {
            let mode: String = c.pragma_query_value(None, "journal_mode", |r| r.get(0))?;
            let fk: i64 = c.pragma_query_value(None, "foreign_keys", |r| r.get(0))?;
            let v: i64 = c.pragma_query_value(None, "user_version", |r| r.get(0))?;
            assert_eq!(
                mode, "wal",
                "WAL keeps readers off the writer's back and survives crashes"
            );
            assert_eq!(fk, 1, "foreign keys must be enforced on every connection");
            assert_eq!(
                v,
                migrations::latest_version(),
                "a new file is migrated to the latest schema"
            );
            Ok(())
        })
        .unwrap();
}

#[test]
fn refuses_a_database_from_a_newer_version() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("textback.db");
    drop(Store::open(&path).unwrap());
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.pragma_update(None, "user_version", 999).unwrap();
    drop(conn);
    let err = Store::open(&path).unwrap_err();
    assert!(
        matches!(err, StoreError::TooNew { found: 999, .. }),
        "newer schema must be refused, got {err:?}"
    );
    assert!(
        err.to_string().contains("newer version of Textback"),
        "the message must tell the user what happened: {err}"
    );
}

#[test]
fn backs_up_before_migrating_an_older_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("textback.db");
    drop(Store::open(&path).unwrap());
    // Pretend the file is at version 0 with some data from an older build: we can't fake an
    // older schema cheaply, so check the rule on the current one by lowering the version to a
    // value below latest that is still > 0 only when there are two or more migrations.
    if migrations::latest_version() < 2 {
        // With one migration there is no older non-empty schema to back up; check the path name.
        assert!(
            !dir.path().join("textback.db.backup-v0").exists(),
            "a fresh file needs no backup"
        );
        return;
    }
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.pragma_update(None, "user_version", 1).unwrap();
    drop(conn);
    let _ = Store::open(&path);
    assert!(
        dir.path().join("textback.db.backup-v1").exists(),
        "the old file must be copied before migrating"
    );
}

#[test]
fn first_start_is_per_account_and_number_and_a_restart_is_not_one() {
    let (_dir, store) = open();
    let (c1, first) = store
        .immediate(|tx| {
            sync_cursors::ensure(
                tx,
                "AC1",
                "+15005550006",
                sync_cursors::Resource::Calls,
                t0(),
            )
        })
        .unwrap();
    assert!(
        first,
        "no cursor yet: this is the first start for the number"
    );
    let (c2, again) = store
        .immediate(|tx| {
            sync_cursors::ensure(
                tx,
                "AC1",
                "+15005550006",
                sync_cursors::Resource::Calls,
                t0() + Duration::hours(5),
            )
        })
        .unwrap();
    assert!(
        !again,
        "a restart finds the cursor: calls missed while down are handled, not imported"
    );
    assert_eq!(
        c1.watch_started_at, c2.watch_started_at,
        "the watch start never moves"
    );
    let (_, other) = store
        .immediate(|tx| {
            sync_cursors::ensure(
                tx,
                "AC1",
                "+15005550007",
                sync_cursors::Resource::Calls,
                t0(),
            )
        })
        .unwrap();
    assert!(other, "a newly added number has its own first start");
}

fn call<'a>(sid: &'a str, status: &'a str) -> calls::Upsert<'a> {
    calls::Upsert {
        provider: "twilio",
        provider_call_id: sid,
        business_number: "+15005550006",
        caller_raw: "+14155550100",
        contact_id: None,
        conversation_id: None,
        direction: "inbound",
        status,
        started_at: Some(t0()),
        ended_at: None,
        duration_secs: None,
        before_textback: false,
    }
}

#[test]
fn calls_upsert_is_idempotent_and_a_classified_call_is_frozen() {
    let (_dir, store) = open();
    store
        .immediate(|tx| {
            let (c, new) = calls::upsert(tx, &call("CA1", "ringing"), t0())?;
            assert!(new, "first sight inserts");
            let (c2, new2) = calls::upsert(tx, &call("CA1", "completed"), t0())?;
            assert!(!new2, "same provider id must not insert a second row");
            assert_eq!(c.id, c2.id);
            assert_eq!(
                c2.status, "completed",
                "an unclassified call follows the provider's status"
            );
            assert!(calls::set_outcome(
                tx,
                c.id,
                "no_answer",
                "nobody picked up",
                t0()
            )?);
            assert!(
                !calls::set_outcome(tx, c.id, "answered", "x", t0())?,
                "an outcome is set once"
            );
            let (c3, _) = calls::upsert(tx, &call("CA1", "busy"), t0())?;
            assert_eq!(c3.status, "completed", "a classified call is final");
            assert_eq!(c3.outcome.as_deref(), Some("no_answer"));
            Ok(())
        })
        .unwrap();
}

#[test]
fn outbox_key_is_unique_and_transitions_are_guarded() {
    let (_dir, store) = open();
    let n = outbox::New {
        idempotency_key: "textback:twilio:CA1",
        kind: outbox::Kind::TextBack,
        business_number: "+15005550006",
        to_number: "+14155550100",
        body: "Sorry we missed you",
        conversation_id: None,
        call_id: None,
        check_since: Some(t0()),
        author: None,
        not_before: t0(),
    };
    let id = store
        .immediate(|tx| outbox::enqueue(tx, &n, t0()))
        .unwrap()
        .expect("first enqueue inserts");
    assert_eq!(
        store.immediate(|tx| outbox::enqueue(tx, &n, t0())).unwrap(),
        None,
        "same intent must not queue twice"
    );
    store
        .immediate(|tx| {
            assert_eq!(outbox::due(tx, t0(), 10)?.len(), 1);
            assert!(outbox::mark_in_flight(tx, id, t0())?);
            assert!(
                !outbox::mark_in_flight(tx, id, t0())?,
                "an in-flight entry cannot be claimed twice"
            );
            assert!(
                outbox::due(tx, t0(), 10)?.is_empty(),
                "in-flight is not due"
            );
            assert_eq!(
                outbox::unresolved(tx)?.len(),
                1,
                "in-flight is what a restart reconciles"
            );
            assert!(outbox::mark_sent(tx, id, "SM1", t0())?);
            assert!(
                !outbox::mark_in_flight(tx, id, t0())?,
                "a sent entry is never sent again"
            );
            assert!(
                !outbox::mark_failed(tx, id, None, "x", t0())?,
                "sent is final"
            );
            Ok(())
        })
        .unwrap();
}

#[test]
fn decisions_are_recorded_once_per_call() {
    let (_dir, store) = open();
    store
        .immediate(|tx| {
            let (c, _) = calls::upsert(tx, &call("CA9", "completed"), t0())?;
            let d = decisions::New {
                call_id: c.id,
                action: "send",
                code: "send",
                reason: "missed",
                outbox_id: None,
            };
            assert!(decisions::insert(tx, &d, t0())?);
            assert!(
                !decisions::insert(tx, &d, t0())?,
                "a call is decided exactly once"
            );
            Ok(())
        })
        .unwrap();
}

#[test]
fn inbox_lists_newest_first_pages_and_searches_text_literally() {
    let (_dir, store) = open();
    store
        .immediate(|tx| {
            for i in 0..30 {
                let phone = format!("+1415555{:04}", i);
                let contact = contacts::ensure(tx, &phone, t0())?;
                let conv = conversations::ensure(tx, "+15005550006", contact, t0())?;
                let at = t0() + Duration::minutes(i);
                let body = if i == 7 {
                    "my kitchen sink is leaking"
                } else {
                    "hello"
                };
                messages::upsert_synced(
                    tx,
                    &messages::Synced {
                        provider: "twilio",
                        provider_message_id: &format!("SM{i}"),
                        conversation_id: conv,
                        direction: messages::Direction::Inbound,
                        body,
                        status: "received",
                        error_code: None,
                        error_message: None,
                        num_media: 0,
                        created_at: at,
                    },
                    at,
                )?;
                conversations::touch(tx, conv, at, body, conversations::Activity::Inbound)?;
            }
            Ok(())
        })
        .unwrap();
    let first = store
        .read(|c| {
            conversations::list(
                c,
                &conversations::Query {
                    limit: 10,
                    ..Default::default()
                },
            )
        })
        .unwrap();
    assert_eq!(first.len(), 10);
    assert_eq!(
        first[0].contact_phone, "+14155550029",
        "newest activity first"
    );
    let cursor = conversations::PageCursor {
        last_activity_at: first[9].last_activity_at.timestamp_millis(),
        id: first[9].id,
    };
    let second = store
        .read(|c| {
            conversations::list(
                c,
                &conversations::Query {
                    limit: 10,
                    before: Some(cursor),
                    ..Default::default()
                },
            )
        })
        .unwrap();
    assert_eq!(
        second[0].contact_phone, "+14155550019",
        "the next page continues where the first stopped"
    );
    let found = store
        .read(|c| {
            conversations::list(
                c,
                &conversations::Query {
                    search: Some("sink".into()),
                    limit: 10,
                    ..Default::default()
                },
            )
        })
        .unwrap();
    assert_eq!(found.len(), 1, "search finds message text");
    assert_eq!(found[0].contact_phone, "+14155550007");
    for hostile in ["\"", "sink OR hello", "*", "a\"b", "NEAR(", "%", "_"] {
        let r = store.read(|c| {
            conversations::list(
                c,
                &conversations::Query {
                    search: Some(hostile.into()),
                    limit: 10,
                    ..Default::default()
                },
            )
        });
        assert!(
            r.is_ok(),
            "search text {hostile:?} is taken literally, never as query syntax: {r:?}"
        );
    }
    let by_number = store
        .read(|c| {
            conversations::list(
                c,
                &conversations::Query {
                    search: Some("5550012".into()),
                    limit: 10,
                    ..Default::default()
                },
            )
        })
        .unwrap();
    assert_eq!(by_number.len(), 1, "search finds a number by its digits");
}

#[test]
fn synced_copy_of_our_own_message_is_merged_not_duplicated() {
    let (_dir, store) = open();
    store
        .immediate(|tx| {
            let contact = contacts::ensure(tx, "+14155550100", t0())?;
            let conv = conversations::ensure(tx, "+15005550006", contact, t0())?;
            let n = outbox::New {
                idempotency_key: "manual:1",
                kind: outbox::Kind::Manual,
                business_number: "+15005550006",
                to_number: "+14155550100",
                body: "On our way",
                conversation_id: Some(conv),
                call_id: None,
                check_since: None,
                author: Some("Sam"),
                not_before: t0(),
            };
            let ob = outbox::enqueue(tx, &n, t0())?.unwrap();
            messages::insert_outgoing(tx, "twilio", conv, ob, "On our way", false, t0())?;
            // Sync sees the message in the provider's log before the sender recorded its sid.
            messages::upsert_synced(
                tx,
                &messages::Synced {
                    provider: "twilio",
                    provider_message_id: "SMabc",
                    conversation_id: conv,
                    direction: messages::Direction::Outbound,
                    body: "On our way",
                    status: "sent",
                    error_code: None,
                    error_message: None,
                    num_media: 0,
                    created_at: t0(),
                },
                t0(),
            )?;
            messages::attach_provider_id(tx, "twilio", ob, "SMabc", "sent", t0())?;
            let all = messages::for_conversation(tx, conv, 50)?;
            assert_eq!(all.len(), 1, "one message, shown once: {all:?}");
            assert_eq!(
                all[0].outbox_id,
                Some(ob),
                "the outbox's row survives, linked to the provider id"
            );
            Ok(())
        })
        .unwrap();
}

/// An inbound message in a fresh conversation; returns its row id.
fn inbound(store: &Store, sid: &str, num_media: i64) -> i64 {
    store
        .immediate(|tx| inbound_on(tx, sid, num_media))
        .unwrap()
}

fn inbound_on(
    conn: &textback_store::Connection,
    sid: &str,
    num_media: i64,
) -> textback_store::Result<i64> {
    let contact = contacts::ensure(conn, "+14155550111", t0())?;
    let conv = conversations::ensure(conn, "+15005550006", contact, t0())?;
    let (m, _) = messages::upsert_synced(
        conn,
        &messages::Synced {
            provider: "twilio",
            provider_message_id: sid,
            conversation_id: conv,
            direction: messages::Direction::Inbound,
            body: "photo",
            status: "received",
            error_code: None,
            error_message: None,
            num_media,
            created_at: t0(),
        },
        t0(),
    )?;
    Ok(m.id)
}

fn me(sid: &str) -> ProviderMediaId {
    ProviderMediaId::parse(sid).unwrap()
}

#[test]
fn media_are_listed_once_per_message_and_keyed_by_sid() {
    let (dir, store) = open();
    let mms = inbound(&store, "MM1", 2);
    let _text = inbound(&store, "SM2", 0);
    let unlisted = store.read(|c| media::unlisted(c, 10)).unwrap();
    assert_eq!(
        unlisted,
        [(mms, "MM1".to_owned())],
        "only the message that says it has media waits for a listing"
    );
    let (a, b) = (me("ME1"), me("ME2"));
    let items = [
        media::Listed {
            provider_media_id: &a,
            content_type: "image/png",
            uri: "/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1.json",
        },
        media::Listed {
            provider_media_id: &b,
            content_type: "application/pdf",
            uri: "/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME2.json",
        },
    ];
    let new = store
        .immediate(|tx| media::record_listed(tx, mms, &items, t0()))
        .unwrap();
    assert_eq!(new, 2, "both attachments are recorded");
    let again = store
        .immediate(|tx| media::record_listed(tx, mms, &items, t0()))
        .unwrap();
    assert_eq!(again, 0, "the sid is unique: a second listing adds nothing");
    assert!(
        store.read(|c| media::unlisted(c, 10)).unwrap().is_empty(),
        "a listed message is not listed again"
    );
    let rows = store.read(|c| media::for_messages(c, &[mms])).unwrap();
    assert_eq!(
        rows.iter()
            .map(|m| m.content_type.as_str())
            .collect::<Vec<_>>(),
        ["image/png", "application/pdf"],
        "in listing order, with their types"
    );
    assert!(
        rows.iter().all(|m| m.local_path.is_none()),
        "nothing is fetched by listing"
    );

    let dir_ = media::MediaDir::beside(store.path());
    assert_eq!(
        dir_.path(),
        dir.path().join("media"),
        "bytes live beside the database, under the data dir"
    );
    let name = dir_.write(&a, b"picture").unwrap();
    store
        .immediate(|tx| media::mark_fetched(tx, &a, &name, t0()))
        .unwrap();
    let row = store
        .read(|c| media::by_provider_id(c, &a))
        .unwrap()
        .expect("the row exists");
    assert_eq!(
        row.local_path.as_deref(),
        Some("ME1"),
        "the file is named by the sid"
    );
    assert_eq!(row.fetched_at, Some(t0()), "and when it was fetched");
    assert_eq!(
        dir_.read("ME1").unwrap().as_deref(),
        Some(&b"picture"[..]),
        "the bytes read back from disk, not from SQLite"
    );
    assert_eq!(
        dir_.read("ME2").unwrap(),
        None,
        "a missing file is fetched again, not an error"
    );
    assert_eq!(
        dir_.read("../textback.db").unwrap(),
        None,
        "a stored name is never a path"
    );
    let leftovers: Vec<_> = std::fs::read_dir(dir_.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers, ["ME1"], "no temporary files are left behind");
}

#[test]
fn an_older_database_gains_the_media_table_and_lists_its_old_picture_messages() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("textback.db");
    // A version 3 database (before media existed), made by that version's migrations.
    let conn = rusqlite::Connection::open(&path).unwrap();
    for sql in &textback_store::migrations::MIGRATIONS[..3] {
        conn.execute_batch(sql).unwrap();
    }
    conn.pragma_update(None, "user_version", 3).unwrap();
    let mms = inbound_on(&conn, "MM9", 1).unwrap();
    drop(conn);
    let store = Store::open(&path).unwrap();
    assert_eq!(
        store.read(|c| media::unlisted(c, 10)).unwrap(),
        [(mms, "MM9".to_owned())],
        "a picture message synced before the upgrade gets its media listed afterwards"
    );
    assert!(
        dir.path().join("textback.db.backup-v3").exists(),
        "the v3 file was backed up before migrating"
    );
}

#[test]
fn deleting_a_message_takes_its_media_rows_with_it() {
    let (_dir, store) = open();
    let mms = inbound(&store, "MM3", 1);
    let a = me("ME3");
    store
        .immediate(|tx| {
            media::record_listed(
                tx,
                mms,
                &[media::Listed {
                    provider_media_id: &a,
                    content_type: "image/gif",
                    uri: "/x",
                }],
                t0(),
            )
        })
        .unwrap();
    store
        .immediate(|tx| {
            tx.execute("DELETE FROM messages WHERE id = ?1", [mms])?;
            Ok(())
        })
        .expect("a merged duplicate message can still be deleted");
    assert_eq!(
        store.read(|c| media::by_provider_id(c, &a)).unwrap(),
        None,
        "its media rows go with it"
    );
}

//! `textback reply` against a running daemon: it queues into the daemon's database (SQLite
//! WAL, two processes), the daemon sends it, and bad input is refused with a message a person
//! can act on, queuing nothing.

use std::time::Duration;

use textback_faults::db::Db;
use textback_faults::site::{BUSINESS, Settings, Site, until};
use textback_faults::{recipient, serial, texts_by_recipient};
use textback_sim::{Sim, SimConfig};

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reply_queues_for_the_running_daemon_and_refuses_bad_numbers_and_opted_out_contacts() {
    let _serial = serial().await;
    let sim = Sim::start(SimConfig::default())
        .await
        .expect("the simulator binds 127.0.0.1");
    let mut site = Site::new(&sim, &Settings::default());

    let early = site.reply(&recipient(0), "Hello").await;
    assert_eq!(
        early.status.code(),
        Some(1),
        "no database yet: refused, not queued into a new file no daemon reads"
    );
    assert!(
        stderr(&early).contains("no Textback database"),
        "the message says what is missing: {}",
        stderr(&early)
    );

    let mut daemon = site.start(&sim).await;
    let ok = site.reply(&recipient(0), "On our way, 10 minutes").await;
    assert!(
        ok.status.success(),
        "a reply to a valid number queues: {}",
        stderr(&ok)
    );
    let delivered = until(Duration::from_secs(20), || {
        texts_by_recipient(&sim)
            .get(&recipient(0))
            .is_some_and(|t| {
                t.iter()
                    .any(|m| m.body == "On our way, 10 minutes" && m.from == BUSINESS)
            })
    })
    .await;
    assert!(
        delivered.is_ok(),
        "the running daemon sends what another process queued, from the business number"
    );

    let bad = site.reply("12", "Hi").await;
    assert_eq!(bad.status.code(), Some(1), "a bad number is an error");
    assert!(
        stderr(&bad).contains("\"12\"") && stderr(&bad).contains("not queued"),
        "the message names the number and says nothing was queued: {}",
        stderr(&bad)
    );

    let stopped = recipient(1);
    sim.inbound_sms(&stopped, BUSINESS, "STOP");
    let db_path = site.db_path();
    let seen = until(Duration::from_secs(20), || {
        Db::open(&db_path).is_ok_and(|db| db.is_opted_out(&stopped).unwrap_or(false))
    })
    .await;
    assert!(seen.is_ok(), "the daemon syncs the STOP");
    let refused = site.reply(&stopped, "Are you still there?").await;
    assert_eq!(
        refused.status.code(),
        Some(1),
        "an opted-out contact is refused"
    );
    assert!(
        stderr(&refused).contains("opted out"),
        "the message says why: {}",
        stderr(&refused)
    );
    assert!(daemon.running(), "the daemon ran throughout");
    daemon.kill();
    assert!(
        !texts_by_recipient(&sim).contains_key(&stopped),
        "nothing was sent to the number that opted out"
    );
    let db = Db::open(&site.db_path()).expect("the database opens read-only");
    assert_eq!(
        db.waiting().expect("the outbox reads"),
        0,
        "the refused replies left nothing in the outbox"
    );
}

//! Engine bugs this suite found, each reproduced against the real daemon and kept as a
//! regression test now that it is fixed: the start-up reconcile is retried until the provider
//! answers (`sender_loop`), and messages to one number leave in the order they were queued
//! (`outbox::due`).

use std::time::Duration;

use textback_faults::site::{BUSINESS, Settings, Site, until};
use textback_faults::{caller, missed_call, recipient, serial, texts_by_recipient};
use textback_sim::{Fault, Route, Sim, SimConfig};

/// A send cut off by a crash leaves its outbox row `in_flight`; the next daemon reconciles it
/// once, at start. If the provider cannot be reached at that moment, the row is never looked
/// at again by that process: the caller is not texted until yet another restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_send_cut_by_a_crash_is_still_sent_when_the_next_start_is_offline() {
    let _serial = serial().await;
    let sim = Sim::start(SimConfig::default())
        .await
        .expect("the simulator binds 127.0.0.1");
    let mut site = Site::new(&sim, &Settings::default());
    let mut daemon = site.start(&sim).await;
    sim.inject(
        Route::MessagesCreate,
        vec![Fault::Delay(Duration::from_secs(3))],
    );
    let from = caller(0);
    missed_call(&sim, &from, Duration::ZERO);
    let sending = until(Duration::from_secs(20), || sim.message_requests() > 0).await;
    assert!(sending.is_ok(), "the daemon starts sending the text-back");
    daemon.kill();

    sim.set_accepting(false);
    let mut daemon = site.spawn();
    let failed = until(Duration::from_secs(20), || {
        site.last_log()
            .contains("reconciling unfinished sends failed")
    })
    .await;
    assert!(
        failed.is_ok(),
        "the new daemon's reconcile at start fails: the network is down"
    );
    sim.set_accepting(true);

    let texted = until(Duration::from_secs(30), || {
        texts_by_recipient(&sim).contains_key(&from)
    })
    .await;
    assert!(daemon.running(), "the daemon is running");
    daemon.kill();
    assert!(
        texted.is_ok(),
        "once the network is back the interrupted text-back is reconciled and sent (it stays in_flight: a missed caller)"
    );
}

/// Replies to one customer go out in the order they were written, unless the first is
/// throttled: its retry waits (here the 5 s the provider asked for) while `outbox::due` hands
/// the sender the next one, which is due now.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_throttled_reply_is_not_overtaken_by_the_next_one_to_the_same_customer() {
    let _serial = serial().await;
    let sim = Sim::start(SimConfig::default())
        .await
        .expect("the simulator binds 127.0.0.1");
    let mut site = Site::new(&sim, &Settings::default());
    let mut daemon = site.start(&sim).await;
    sim.inject(
        Route::MessagesCreate,
        vec![Fault::RateLimit {
            retry_after: Some(5),
        }],
    );
    let to = recipient(0);
    let first = site.reply(&to, "First: we can come today").await;
    assert!(first.status.success(), "the first reply queues");
    let throttled = until(Duration::from_secs(20), || sim.message_requests() > 0).await;
    assert!(
        throttled.is_ok(),
        "the daemon tries the first reply and is throttled"
    );
    let second = site.reply(&to, "Second: is 2pm good?").await;
    assert!(second.status.success(), "the second reply queues");
    let both = until(Duration::from_secs(30), || {
        texts_by_recipient(&sim)
            .get(&to)
            .is_some_and(|t| t.len() >= 2)
    })
    .await;
    daemon.kill();
    assert!(both.is_ok(), "both replies are delivered");
    let bodies: Vec<String> = texts_by_recipient(&sim)[&to]
        .iter()
        .map(|m| m.body.clone())
        .collect();
    assert!(
        sim.sent_messages().iter().all(|m| m.from == BUSINESS),
        "sent from the business number"
    );
    assert_eq!(
        bodies,
        vec!["First: we can come today", "Second: is 2pm good?"],
        "the customer reads the replies in the order they were written"
    );
}

//! Kill -9: missed calls arrive over time while the daemon is SIGKILLed at random moments and
//! restarted each time; every caller must end with exactly one text-back.
//!
//! POST Messages is slowed down by the sim (a `Delay` fault on every send), and half of the
//! kills wait for a send to start and then land inside that delay: between the HTTP request
//! and the daemon recording its answer, the window the outbox's in-flight reconciliation exists
//! for.

use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::Rng;
use textback_faults::db::Db;
use textback_faults::site::Settings;
use textback_faults::{
    Row, audit_text_backs, caller, last_text_at, long_form, missed_call, quiesce, quiet_note,
    report, seeded, serial, start_daemon,
};
use textback_sim::Fault;

/// How long the sim holds each POST Messages before it creates the message.
const SEND_DELAY: Duration = Duration::from_millis(300);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KillAt {
    /// At the planned moment, whatever the daemon is doing.
    Random,
    /// Once a send has reached the sim, a random part of [`SEND_DELAY`] into it.
    MidSend,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_at_random_moments_loses_and_duplicates_no_text_back() {
    let _serial = serial().await;
    let wall = Instant::now();
    let (n_calls, n_kills, span, limit) = if long_form() {
        (500, 50, Duration::from_secs(300), Duration::from_secs(300))
    } else {
        (60, 10, Duration::from_secs(20), Duration::from_secs(90))
    };
    let (seed, mut rng) = seeded("kill -9");
    let mut call_at: Vec<(Duration, Duration)> = (0..n_calls)
        .map(|_| {
            (
                span.mul_f64(rng.random::<f64>()),
                Duration::from_millis(rng.random_range(0..1500)),
            )
        })
        .collect();
    call_at.sort();
    let mut kills: Vec<(Duration, KillAt, Duration)> = (0..n_kills)
        .map(|_| {
            let at = Duration::from_secs(1) + span.mul_f64(rng.random::<f64>());
            let kind = if rng.random_bool(0.5) {
                KillAt::MidSend
            } else {
                KillAt::Random
            };
            (at, kind, Duration::from_millis(rng.random_range(0..1000)))
        })
        .collect();
    kills.sort_by_key(|k| k.0);

    let (sim, mut site, mut daemon) = start_daemon(&Settings::default()).await;
    sim.inject(
        textback_sim::Route::MessagesCreate,
        vec![Fault::Delay(SEND_DELAY); 20 * n_calls],
    );

    let t0 = tokio::time::Instant::now();
    let placing = {
        let sim = Arc::clone(&sim);
        tokio::spawn(async move {
            let mut placed = Vec::new();
            for (i, (at, ring)) in call_at.into_iter().enumerate() {
                tokio::time::sleep_until(t0 + at).await;
                let from = caller(i);
                placed.push((missed_call(&sim, &from, ring), from));
            }
            placed
        })
    };

    let mut mid_send = 0;
    let mut last_start = daemon.started;
    for (at, kind, downtime) in &kills {
        tokio::time::sleep_until(t0 + *at).await;
        if *kind == KillAt::MidSend {
            let before = sim.message_requests();
            let send_started = textback_faults::site::until(Duration::from_secs(3), || {
                sim.message_requests() > before
            })
            .await;
            if send_started.is_ok() {
                mid_send += 1;
                let into = rng.random_range(0..SEND_DELAY.as_millis() as u64);
                tokio::time::sleep(Duration::from_millis(into)).await;
            }
        }
        assert!(
            daemon.running(),
            "the daemon was still running when the kill came"
        );
        daemon.kill();
        tokio::time::sleep(*downtime).await;
        daemon = site.start(&sim).await;
        last_start = daemon.started;
    }
    let calls = placing.await.expect("placing calls finishes");
    let sids: Vec<String> = calls.iter().map(|(sid, _)| sid.clone()).collect();

    let quiet = quiesce(&site.db_path(), &sids, limit).await;
    // NOTE: a killed daemon's last POST may still be inside the sim's delay; once it has run
    // out, the sim's record is final.
    tokio::time::sleep(SEND_DELAY + Duration::from_millis(200)).await;
    sim.clear_faults();
    let db = Db::open(&site.db_path()).expect("the daemon's database opens read-only");
    let t = audit_text_backs(&sim, &db, &calls);
    let recovery = last_text_at(&sim).map(|at| at.saturating_duration_since(last_start));
    report(
        &Row {
            case: "kill -9".into(),
            calls: n_calls,
            kills: kills.len(),
            text_backs: t.texted,
            duplicates: t.duplicates,
            misses: t.misses,
            recovery,
            wall: wall.elapsed(),
            ..Row::default()
        },
        &[
            format!(
                "seed {seed}; {mid_send} kills landed while a send was inside the sim's {SEND_DELAY:?} delay, the rest at random moments; restart after 0-1 s"
            ),
            format!(
                "{} POST Messages attempts for {} text-backs; database: {} recorded sent, {} skipped as already messaged (the provider's log had the text)",
                sim.message_requests(),
                t.texted,
                t.recorded_sent,
                t.recorded_already_messaged
            ),
            "recovery latency: from the last restart to the last text-back".into(),
            quiet_note(&quiet, last_start, "the last restart"),
        ],
    );
    daemon.kill();

    if let Err(e) = quiet {
        panic!("every call gets a decision and the outbox drains after the kills: {e}");
    }
    assert_eq!(
        t.duplicates, 0,
        "a kill -9 at any moment never makes a caller get two text-backs"
    );
    assert_eq!(
        t.misses, 0,
        "a kill -9 at any moment never loses a text-back: every caller gets one"
    );
    assert_eq!(t.texted, n_calls, "every caller was texted back");
    assert!(
        t.odd.is_empty(),
        "every call's decision is a send, recorded sent or skipped as already messaged: {:#?}",
        t.odd
    );
}

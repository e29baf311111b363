//! Storm: for a period, the Calls and Messages routes answer mostly 429 (with and without
//! Retry-After), 500/503, an HTML 502 page, or (sends only) "created, then 500" while calls
//! arrive and replies are queued. Afterwards the daemon must still be running, have texted
//! every caller exactly once, and have delivered every reply once.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use textback_faults::db::Db;
use textback_faults::site::Settings;
use textback_faults::{
    Row, audit_replies, audit_text_backs, caller, last_text_at, long_form, missed_call, quiesce,
    quiet_note, recipient, report, seeded, serial, start_daemon,
};
use textback_sim::{Fault, Route};

/// Faults for reads (listing calls and messages, reading a call).
fn read_faults() -> Vec<Fault> {
    vec![
        Fault::RateLimit {
            retry_after: Some(2),
        },
        Fault::RateLimit { retry_after: None },
        Fault::ServerError(500),
        Fault::ServerError(503),
        Fault::HtmlError,
    ]
}

/// Faults for sends: as reads, plus a send the provider took but answered with a 500.
fn send_faults() -> Vec<Fault> {
    vec![
        Fault::RateLimit {
            retry_after: Some(1),
        },
        Fault::RateLimit {
            retry_after: Some(5),
        },
        Fault::RateLimit { retry_after: None },
        Fault::ServerError(500),
        Fault::ServerError(503),
        Fault::AcceptThenFail,
    ]
}

const ROUTES: [Route; 4] = [
    Route::CallsList,
    Route::CallsRead,
    Route::MessagesList,
    Route::MessagesCreate,
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_storm_of_429_and_5xx_crashes_nothing_and_everyone_is_texted_once_after() {
    let _serial = serial().await;
    let wall = Instant::now();
    let (storm, n_calls, n_replies, limit) = if long_form() {
        (Duration::from_secs(300), 150, 20, Duration::from_secs(240))
    } else {
        (Duration::from_secs(20), 20, 4, Duration::from_secs(90))
    };
    let (seed, mut rng) = seeded("storm");

    let (sim, site, mut daemon) = start_daemon(&Settings::default()).await;

    // Bursts of two seconds, each on one group of routes: listing calls, listing messages,
    // sending (the most often: sends only fail while syncing works), or everything. Four
    // faults a second per route in the burst: more than the daemon asks for, so nearly every
    // request to those routes fails; what is left over is dropped when the burst ends.
    let stop = Arc::new(AtomicBool::new(false));
    let injected = Arc::new(AtomicUsize::new(0));
    let injector = {
        let (sim, stop, injected) = (Arc::clone(&sim), Arc::clone(&stop), Arc::clone(&injected));
        let mut rng = StdRng::seed_from_u64(seed ^ 0x5eed);
        tokio::spawn(async move {
            let (reads, sends) = (read_faults(), send_faults());
            let groups: [&[Route]; 5] = [
                &[Route::CallsList, Route::CallsRead],
                &[Route::MessagesList],
                &[Route::MessagesCreate],
                &[Route::MessagesCreate],
                &ROUTES,
            ];
            let mut tick = 0u32;
            let mut group: &[Route] = &ROUTES;
            while !stop.load(Ordering::SeqCst) {
                if tick.is_multiple_of(8) {
                    sim.clear_faults();
                    group = groups.choose(&mut rng).copied().unwrap_or(&ROUTES);
                }
                tick += 1;
                for &route in group {
                    let pool = if route == Route::MessagesCreate {
                        &sends
                    } else {
                        &reads
                    };
                    if let Some(f) = pool.choose(&mut rng) {
                        sim.inject(route, vec![f.clone()]);
                        injected.fetch_add(1, Ordering::SeqCst);
                    }
                }
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        })
    };

    let started = tokio::time::Instant::now();
    let mut at = || storm.mul_f64(rng.random::<f64>());
    let mut timeline: Vec<(Duration, Option<usize>)> =
        (0..n_calls).map(|i| (at(), Some(i))).collect();
    timeline.extend((0..n_replies).map(|_| (at(), None)));
    timeline.sort_by_key(|(at, _)| *at);
    let mut calls = Vec::new();
    let mut replies = Vec::new();
    let mut crashed_during = false;
    for (at, what) in timeline {
        tokio::time::sleep_until(started + at).await;
        crashed_during |= !daemon.running();
        match what {
            Some(i) => {
                let from = caller(i);
                calls.push((missed_call(&sim, &from, Duration::ZERO), from));
            }
            None => {
                let j = replies.len();
                let to = recipient(j % 2);
                let body = format!(
                    "Reply {} of {n_replies} (to {to}, queued in the storm)",
                    j + 1
                );
                let out = site.reply(&to, &body).await;
                assert!(
                    out.status.success(),
                    "textback reply queues during the storm: {}",
                    String::from_utf8_lossy(&out.stderr)
                );
                replies.push((to, body));
            }
        }
    }
    tokio::time::sleep_until(started + storm).await;
    stop.store(true, Ordering::SeqCst);
    injector.await.expect("the fault injector stops");
    sim.clear_faults();
    let calm = Instant::now();
    let requests: Vec<String> = ROUTES
        .iter()
        .map(|r| format!("{r:?} {}", sim.requests(*r)))
        .collect();

    let sids: Vec<String> = calls.iter().map(|(sid, _)| sid.clone()).collect();
    let quiet = quiesce(&site.db_path(), &sids, limit).await;
    let alive = !crashed_during && daemon.running();
    let db = Db::open(&site.db_path()).expect("the daemon's database opens read-only");
    let t = audit_text_backs(&sim, &db, &calls);
    let r = audit_replies(&sim, &replies);
    let recovery = last_text_at(&sim).map(|at| at.saturating_duration_since(calm));
    report(
        &Row {
            case: "storm".into(),
            calls: n_calls,
            text_backs: t.texted,
            duplicates: t.duplicates + r.duplicates,
            misses: t.misses + r.missing,
            replies_delivered: r.delivered_once,
            replies_queued: r.queued,
            recovery,
            wall: wall.elapsed(),
            ..Row::default()
        },
        &[
            format!(
                "seed {seed}; storm {:.0} s: {} faults injected (429 with Retry-After 1/2/5 s and without, 500, 503, HTML 502, created-then-500 on sends); requests during and after: {}",
                storm.as_secs_f64(),
                injected.load(Ordering::SeqCst),
                requests.join(", ")
            ),
            format!(
                "daemon {}; database: {} recorded sent, {} skipped as already messaged; {} POST Messages attempts",
                if alive { "still running" } else { "CRASHED" },
                t.recorded_sent,
                t.recorded_already_messaged,
                sim.message_requests()
            ),
            format!(
                "replies out of order: {}",
                if r.out_of_order.is_empty() {
                    "none".to_owned()
                } else {
                    r.out_of_order.join("; ")
                }
            ),
            "recovery latency: from the storm's end to the last text".into(),
            quiet_note(&quiet, calm, "the storm"),
        ],
    );
    daemon.kill();

    assert!(alive, "the daemon survives the storm");
    if let Err(e) = quiet {
        panic!("every call gets a decision and the outbox drains after the storm: {e}");
    }
    assert_eq!(
        t.duplicates, 0,
        "no caller is texted twice, whatever the provider answered"
    );
    assert_eq!(t.misses, 0, "every caller is texted once the storm clears");
    assert!(
        t.odd.is_empty(),
        "every call is recorded sent: {:#?}",
        t.odd
    );
    assert_eq!(r.missing, 0, "every reply queued in the storm is delivered");
    assert_eq!(r.duplicates, 0, "no reply is delivered twice");
}

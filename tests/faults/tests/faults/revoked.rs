//! Credentials revoked mid-run: every request answers 401 / 20003 for a while, during which
//! calls arrive and replies are queued. Sending must pause (not hammer the provider, not give
//! up on anything), and once the credentials work again everything goes out exactly once.

use std::time::{Duration, Instant};

use rand::Rng;
use textback_faults::db::Db;
use textback_faults::site::{Settings, until};
use textback_faults::{
    Row, audit_replies, audit_text_backs, caller, last_text_at, long_form, missed_call, quiesce,
    quiet_note, recipient, report, seeded, serial, start_daemon, texts_by_recipient,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoked_credentials_pause_sending_and_lose_nothing() {
    let _serial = serial().await;
    let wall = Instant::now();
    let (revoked_for, n_calls, n_replies) = if long_form() {
        (Duration::from_secs(120), 50, 10)
    } else {
        (Duration::from_secs(10), 10, 3)
    };
    let (seed, mut rng) = seeded("revoked");

    let (sim, site, mut daemon) = start_daemon(&Settings::default()).await;

    // Two calls while all is well, to see the daemon texting before the fault.
    let mut calls = Vec::new();
    for i in 0..2 {
        let from = caller(i);
        calls.push((missed_call(&sim, &from, Duration::ZERO), from));
    }
    let before = until(Duration::from_secs(20), || {
        let texts = texts_by_recipient(&sim);
        calls.iter().all(|(_, from)| texts.contains_key(from))
    })
    .await;
    assert!(
        before.is_ok(),
        "the daemon texts back before the revocation"
    );

    sim.set_revoked(true);
    let posts_before = sim.message_requests();
    let sent_before = sim.sent_messages().len();
    let revoked_at = tokio::time::Instant::now();
    let mut at = || revoked_for.mul_f64(0.9 * rng.random::<f64>());
    let mut timeline: Vec<(Duration, Option<usize>)> =
        (2..2 + n_calls).map(|i| (at(), Some(i))).collect();
    timeline.extend((0..n_replies).map(|_| (at(), None)));
    timeline.sort_by_key(|(at, _)| *at);
    let mut replies = Vec::new();
    for (at, what) in timeline {
        tokio::time::sleep_until(revoked_at + at).await;
        match what {
            Some(i) => {
                let from = caller(i);
                calls.push((missed_call(&sim, &from, Duration::ZERO), from));
            }
            None => {
                let j = replies.len();
                let to = recipient(j);
                let body = format!("Reply {} of {n_replies} (queued while revoked)", j + 1);
                let out = site.reply(&to, &body).await;
                assert!(
                    out.status.success(),
                    "textback reply queues while the credentials are revoked: {}",
                    String::from_utf8_lossy(&out.stderr)
                );
                replies.push((to, body));
            }
        }
    }
    tokio::time::sleep_until(revoked_at + revoked_for).await;
    let posts_during = sim.message_requests() - posts_before;
    let sent_during = sim.sent_messages().len() - sent_before;
    let alive_during = daemon.running();
    sim.set_revoked(false);
    let restored = Instant::now();

    let sids: Vec<String> = calls.iter().map(|(sid, _)| sid.clone()).collect();
    let quiet = quiesce(&site.db_path(), &sids, Duration::from_secs(120)).await;
    let db = Db::open(&site.db_path()).expect("the daemon's database opens read-only");
    let t = audit_text_backs(&sim, &db, &calls);
    let r = audit_replies(&sim, &replies);
    let states = db.outbox_states().unwrap_or_default();
    let given_up: i64 = states
        .iter()
        .filter(|(s, _)| s == "failed" || s == "cancelled")
        .map(|(_, n)| n)
        .sum();
    let recovery = last_text_at(&sim).map(|at| at.saturating_duration_since(restored));
    report(
        &Row {
            case: "credentials revoked".into(),
            calls: calls.len(),
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
                "seed {seed}; revoked {:.0} s (every request 401 / 20003) while {n_calls} calls arrived and {n_replies} replies were queued; 2 calls before",
                revoked_for.as_secs_f64()
            ),
            format!(
                "POST Messages attempts while revoked: {posts_during}; outbox by state after: {states:?}"
            ),
            "recovery latency: from the credentials working again to the last text".into(),
            quiet_note(&quiet, restored, "the credentials were restored"),
        ],
    );
    daemon.kill();

    assert!(
        alive_during,
        "the daemon keeps running with revoked credentials"
    );
    assert_eq!(sent_during, 0, "nothing can be sent while revoked");
    assert!(
        posts_during <= 1,
        "sending pauses: at most the one send that discovers the revocation, not a retry loop ({posts_during} attempts)"
    );
    if let Err(e) = quiet {
        panic!("everything queued goes out once the credentials work again: {e}");
    }
    assert_eq!(
        given_up, 0,
        "nothing is failed or dropped because of the revocation"
    );
    assert_eq!(t.duplicates, 0, "no caller is texted twice");
    assert_eq!(
        t.misses, 0,
        "every caller is texted once the credentials work"
    );
    assert!(
        t.odd.is_empty(),
        "every call is recorded sent: {:#?}",
        t.odd
    );
    assert_eq!(
        r.missing, 0,
        "every reply queued while revoked is delivered"
    );
    assert_eq!(r.duplicates, 0, "no reply is delivered twice");
}

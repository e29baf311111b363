//! Outage: the network is cut (the sim drops every connection) while missed calls arrive and
//! staff queue replies with `textback reply`; then it comes back.
//!
//! Scaling: a real outage is hours against a 2 h freshness limit; here the limit is set to
//! seconds and the outage is a couple of times as long, so both kinds of call happen: those
//! that end long before the network returns are stale and must be recorded "missed while
//! offline" (late) and not texted; those just before it are fresh and must be texted once.
//! The daemon's reconnect back-off is not scaled (1 s doubling per failed poll, at most 60 s):
//! polls fail at about 0, 2, 6, 14, 30, 62, 122 s into the outage, so the outage lengths sit
//! just before a poll (27 s, 118 s) and the return is noticed within a few seconds.
//! The verdict for each call is checked against its own age when the daemon decided it
//! (the database's decided_at minus the call's end), not against a guess of the timing.

use std::time::{Duration, Instant};

use rand::Rng;
use rand::rngs::StdRng;
use textback_faults::db::Db;
use textback_faults::site::{Settings, until};
use textback_faults::{
    Row, audit_replies, caller, last_text_at, long_form, missed_call, quiesce, quiet_note,
    recipient, report, seeded, serial, start_daemon, texts_by_recipient,
};
use textback_sim::Route;
use textback_store::outbox;

enum Event {
    Call(usize),
    Reply(usize),
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outage_texts_fresh_calls_once_marks_stale_ones_late_and_keeps_replies_in_order() {
    let _serial = serial().await;
    let wall = Instant::now();
    let (outage, fresh_secs, n_calls, n_replies, n_recipients) = if long_form() {
        (Duration::from_secs(118), 60, 100, 20, 4)
    } else {
        (Duration::from_secs(27), 12, 20, 5, 2)
    };
    let freshness = chrono::Duration::seconds(fresh_secs);
    let (seed, mut rng) = seeded("outage");
    let margin = Duration::from_millis(500);
    let inside = |r: &mut StdRng| margin + (outage - 2 * margin).mul_f64(r.random::<f64>());
    let mut timeline: Vec<(Duration, Event)> = (0..n_calls)
        .map(|i| (inside(&mut rng), Event::Call(i)))
        .collect();
    timeline.extend((0..n_replies).map(|j| (inside(&mut rng), Event::Reply(j))));
    timeline.sort_by_key(|(at, _)| *at);

    let (sim, site, mut daemon) = start_daemon(&Settings {
        freshness_limit: format!("{fresh_secs}s"),
        ..Settings::default()
    })
    .await;

    sim.set_accepting(false);
    let cut = tokio::time::Instant::now();
    let mut calls = Vec::new();
    let mut replies = Vec::new();
    for (at, event) in timeline {
        tokio::time::sleep_until(cut + at).await;
        match event {
            Event::Call(i) => {
                let from = caller(i);
                calls.push((missed_call(&sim, &from, Duration::ZERO), from));
            }
            Event::Reply(j) => {
                let to = recipient(j % n_recipients);
                let body = format!("Reply {} of {n_replies} (to {to}, queued offline)", j + 1);
                let out = site.reply(&to, &body).await;
                assert!(
                    out.status.success(),
                    "textback reply queues while the daemon runs and the network is down: {}",
                    String::from_utf8_lossy(&out.stderr)
                );
                replies.push((to, body));
            }
        }
    }
    tokio::time::sleep_until(cut + outage).await;
    let polls_before = sim.requests(Route::CallsList);
    sim.set_accepting(true);
    let restored = Instant::now();
    let noticed = until(Duration::from_secs(70), || {
        sim.requests(Route::CallsList) > polls_before
    })
    .await;
    let sids: Vec<String> = calls.iter().map(|(sid, _)| sid.clone()).collect();
    let quiet = quiesce(&site.db_path(), &sids, Duration::from_secs(120)).await;
    let alive = daemon.running();

    let db = Db::open(&site.db_path()).expect("the daemon's database opens read-only");
    let texts = texts_by_recipient(&sim);
    let (mut fresh, mut late, mut duplicates, mut misses, mut wrong) = (0, 0, 0, 0, 0);
    let mut odd = Vec::new();
    for (sid, from) in &calls {
        let n = texts.get(from).map_or(0, Vec::len);
        let Ok(Some(view)) = db.call(sid) else {
            misses += 1;
            odd.push(format!("{sid} from {from}: not in the database"));
            continue;
        };
        let Some(d) = view.decision else {
            misses += 1;
            odd.push(format!("{sid} from {from}: no decision"));
            continue;
        };
        let ended = view.call.ended_at.or(view.call.started_at);
        let age = ended.map(|e| d.decided_at - e);
        let stale_when_decided = age.is_some_and(|a| a > freshness);
        match (d.action.as_str(), d.code.as_str()) {
            ("send", "send") => {
                fresh += 1;
                if n == 0 {
                    misses += 1;
                }
                duplicates += n.saturating_sub(1);
                if stale_when_decided {
                    odd.push(format!("{sid}: sent although {age:?} old when decided"));
                }
            }
            // Decided late, or queued fresh but still waiting when it went stale (the sender
            // then withdraws it: action skip, code late, outbox cancelled).
            ("late", "late") | ("skip", "late") => {
                late += 1;
                wrong += n;
                let withdrawn = view
                    .entry
                    .as_ref()
                    .is_some_and(|e| e.state == outbox::State::Cancelled);
                if d.action == "late" && !stale_when_decided {
                    odd.push(format!("{sid}: late although {age:?} old when decided"));
                }
                if d.action == "skip" && !withdrawn {
                    odd.push(format!(
                        "{sid}: late at send time but its outbox entry is {:?}",
                        view.entry.map(|e| e.state)
                    ));
                }
            }
            (action, code) => odd.push(format!(
                "{sid} from {from}: decision {action}/{code}, {n} texts"
            )),
        }
    }
    let r = audit_replies(&sim, &replies);
    let recovery = last_text_at(&sim).map(|at| at.saturating_duration_since(restored));
    let scale = 3600.0 / outage.as_secs_f64();
    report(
        &Row {
            case: "outage".into(),
            calls: n_calls,
            text_backs: texts_by_recipient(&sim)
                .keys()
                .filter(|to| calls.iter().any(|(_, c)| c == *to))
                .count(),
            duplicates: duplicates + r.duplicates,
            misses: misses + r.missing,
            late,
            wrong,
            replies_delivered: r.delivered_once,
            replies_queued: r.queued,
            recovery,
            wall: wall.elapsed(),
            ..Row::default()
        },
        &[
            format!(
                "seed {seed}; network down {:.0} s with freshness_limit {fresh_secs} s (at 1 s = {scale:.0} s: a 60-min outage with a {:.0}-min limit); {n_replies} replies to {n_recipients} customers queued offline",
                outage.as_secs_f64(),
                fresh_secs as f64 * scale / 60.0
            ),
            format!(
                "{fresh} calls fresh when decided (texted), {late} stale (recorded late, not texted)"
            ),
            match noticed {
                Ok(d) => format!(
                    "the daemon's first poll after the network returned came {:.1} s later (its back-off)",
                    d.as_secs_f64()
                ),
                Err(_) => "the daemon did not poll within 70 s of the network returning".into(),
            },
            "recovery latency: from the network's return to the last text".into(),
            quiet_note(&quiet, restored, "the network returned"),
        ],
    );
    daemon.kill();

    assert!(alive, "the daemon survives the outage");
    if let Err(e) = quiet {
        panic!("every call gets a decision and the outbox drains after the outage: {e}");
    }
    assert!(
        odd.is_empty(),
        "every call's verdict matches its age: {odd:#?}"
    );
    assert_eq!(duplicates, 0, "no fresh caller is texted twice");
    assert_eq!(misses, 0, "every fresh caller is texted");
    assert_eq!(
        wrong, 0,
        "no stale caller is texted with the instant template"
    );
    assert!(
        late >= 1 && fresh >= 1,
        "the schedule makes both kinds of call (stale {late}, fresh {fresh}); if fresh is 0 the daemon noticed the network late: see the back-off note"
    );
    assert_eq!(r.missing, 0, "every reply queued offline is delivered");
    assert_eq!(r.duplicates, 0, "no reply is delivered twice");
    assert!(
        r.out_of_order.is_empty(),
        "replies reach each customer in the order they were written: {:?}",
        r.out_of_order
    );
}

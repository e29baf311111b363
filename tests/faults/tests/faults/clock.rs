//! Sleep and clock jumps: every follow-up timer fires exactly once.
//!
//! Missed calls get their text-back, and each lead then has a follow-up sequence (touch 2
//! after a delay, touch 3 a delay after touch 2 actually went). The daemon and the simulator
//! run on one test clock ([`TestClock`]: `TEXTBACK_TEST_CLOCK` for the daemon), faster than
//! real time, and one fault strikes while timers are pending:
//!
//! - **sleep**: the daemon is frozen with SIGSTOP (a laptop asleep) across the due time of
//!   every touch 2, and woken well past it: each touch 2 goes once on waking, and touch 3 a
//!   full delay later (scheduled from when touch 2 went, not from when it was due);
//! - **forward**: the clock jumps ahead (an NTP correction) past every pending touch 2;
//! - **back**: the clock jumps back after every touch 2 went out: nothing fires again as the
//!   clock passes those moments a second time, and touch 3 still goes once, on time.
//!
//! Verdict from what the sim received (texts per caller, with the sim's time stamps, which
//! follow the same test clock) and the daemon's `jobs` table (read-only).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use textback_domain::HumanDuration;
use textback_faults::clock::{self, TestClock};
use textback_faults::db::{Db, FollowUpTimer};
use textback_faults::site::{Settings, Site, until};
use textback_faults::{caller, long_form, missed_call, report_table, serial};
use textback_sim::{Sim, SimConfig};

/// The lifecycle loop wakes at least this often (`textback_engine::lifecycle::MAX_SLEEP`), in
/// real time: the bound on noticing a clock that jumped ahead.
const MAX_SLEEP: Duration = Duration::from_secs(30);
/// Slack on top of [`MAX_SLEEP`] for a loaded 2-core machine: a poll, a send, a transaction.
const SLACK: Duration = Duration::from_secs(5);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    /// SIGSTOP across every touch 2's due time; woken `amount` after the last one was due.
    Sleep,
    /// The clock jumps ahead by `amount` while every touch 2 is pending.
    Forward,
    /// The clock jumps back by `amount` once every touch 2 went out.
    Back,
}

/// One case's numbers, in the daemon's (test) clock time unless said otherwise.
#[derive(Debug, Clone, Copy)]
struct Plan {
    fault: Fault,
    /// Clock seconds per real second.
    scale: f64,
    leads: usize,
    touch2: chrono::Duration,
    touch3: chrono::Duration,
    amount: chrono::Duration,
}

impl Plan {
    /// The short form (CI): ×30, delays of a few real seconds. The long form: ×180, the
    /// default's "2h" first follow-up, an hours-long sleep, +3 h and −1 h jumps.
    fn new(fault: Fault) -> Plan {
        let (m, h) = (chrono::Duration::minutes, chrono::Duration::hours);
        let long = long_form();
        let (scale, leads) = if long { (180.0, 12) } else { (30.0, 4) };
        let (touch2, touch3, amount) = match (fault, long) {
            // Asleep from just after the text-backs until 1.5 h past touch 2's due time: long
            // enough that a touch 3 scheduled from the due time would be overdue on waking.
            (Fault::Sleep, true) => (h(2), h(1), m(90)),
            (Fault::Sleep, false) => (m(2), m(1), m(2)),
            // NOTE: short form: touch 2 waits 5 min (10 s real), so the loop's wait before
            // the jump is 10 s rather than its 30 s cap; the long form shows the cap.
            (Fault::Forward, true) => (h(2), h(1), h(3)),
            (Fault::Forward, false) => (m(5), m(1), h(3)),
            (Fault::Back, true) => (h(2), h(1), h(1)),
            (Fault::Back, false) => (m(1), m(3), m(2)),
        };
        Plan {
            fault,
            scale,
            leads,
            touch2,
            touch3,
            amount,
        }
    }

    fn name(&self) -> &'static str {
        match self.fault {
            Fault::Sleep => "clock: laptop asleep (SIGSTOP)",
            Fault::Forward => "clock: jumps forward",
            Fault::Back => "clock: jumps back",
        }
    }

    /// The sequence, with sending hours off (and business hours always open, see `Site`), so
    /// every due time is exactly the delay after the previous touch.
    fn toml(&self) -> String {
        let human = |d: chrono::Duration| {
            HumanDuration::from_secs(u64::try_from(d.num_seconds()).unwrap_or(0)).to_string()
        };
        format!(
            r#"[followup]
enabled = true

[[followup.touches]]
delay = "{}"
template = "Follow-up 2 from {{business_name}}: still need a hand? Reply STOP to opt out."

[[followup.touches]]
delay = "{}"
template = "Follow-up 3 from {{business_name}}, one last time. Reply STOP to opt out."

[sending_hours]
enabled = false

[escalation]
enabled = false
"#,
            human(self.touch2),
            human(self.touch3)
        )
    }
}

/// Which touch of the sequence a text is, by its body.
fn touch_of(body: &str) -> u32 {
    if body.starts_with("Follow-up 2") {
        2
    } else if body.starts_with("Follow-up 3") {
        3
    } else {
        1
    }
}

/// One text the sim accepted: when by the (shared) test clock, and when in real time.
#[derive(Debug, Clone, Copy)]
struct Text {
    at: chrono::DateTime<chrono::Utc>,
    instant: Instant,
}

/// What the sim and the database say at one moment.
#[derive(Debug, Default)]
struct Snapshot {
    /// caller → touch → texts, in arrival order.
    texts: BTreeMap<String, BTreeMap<u32, Vec<Text>>>,
    timers: Vec<FollowUpTimer>,
    /// Outbox entries not finished.
    waiting: i64,
}

impl Snapshot {
    fn take(sim: &Sim, site: &Site) -> Result<Snapshot, String> {
        let mut texts: BTreeMap<String, BTreeMap<u32, Vec<Text>>> = BTreeMap::new();
        for m in sim.sent_messages() {
            texts
                .entry(m.to.clone())
                .or_default()
                .entry(touch_of(&m.body))
                .or_default()
                .push(Text {
                    at: m.received_at,
                    instant: m.instant,
                });
        }
        let db = Db::open(&site.db_path())?;
        Ok(Snapshot {
            texts,
            timers: db.follow_up_timers()?,
            waiting: db.waiting()?,
        })
    }

    fn count(&self, caller: &str, touch: u32) -> usize {
        self.texts
            .get(caller)
            .and_then(|t| t.get(&touch))
            .map_or(0, Vec::len)
    }

    fn first(&self, caller: &str, touch: u32) -> Option<Text> {
        self.texts
            .get(caller)
            .and_then(|t| t.get(&touch))
            .and_then(|v| v.first().copied())
    }

    fn timers(&self, touch: u32) -> impl Iterator<Item = &FollowUpTimer> {
        self.timers.iter().filter(move |t| t.touch == touch)
    }

    /// Every caller has had touch `touch`.
    fn all_got(&self, callers: &[String], touch: u32) -> bool {
        callers.iter().all(|c| self.count(c, touch) > 0)
    }

    /// Every lead has its touch `touch` timer, none of them fired yet.
    fn all_pending(&self, n: usize, touch: u32) -> bool {
        self.timers(touch).filter(|t| t.pending).count() == n
    }
}

/// Waits (polling) until `done` holds for a fresh snapshot; panics after `limit` with what
/// was last seen.
async fn wait_for(
    sim: &Sim,
    site: &Site,
    limit: Duration,
    what: &str,
    done: impl Fn(&Snapshot) -> bool,
) -> Snapshot {
    let mut last = None;
    let waited = until(limit, || match Snapshot::take(sim, site) {
        Ok(s) if done(&s) => {
            last = Some(Ok(s));
            true
        }
        other => {
            last = Some(other);
            false
        }
    })
    .await;
    match (waited, last) {
        (Ok(_), Some(Ok(s))) => s,
        (_, last) => panic!(
            "{what} within {limit:?}; last seen: {last:#?}; daemon log: {}",
            site.log_path().display()
        ),
    }
}

/// The case's figures.
#[derive(Debug, Default)]
struct Figures {
    due: usize,
    fired: usize,
    duplicates: usize,
    missed: usize,
    /// Follow-ups whose text reached the sim before the clock reached their due time.
    early: usize,
    /// Timers the fault was about: due during the sleep, made due by the forward jump, or
    /// (back) texts whose clock time the clock passed a second time.
    struck: usize,
    max_lateness: Duration,
    /// Touch 2 → touch 3, by the clock, the smallest over the leads.
    min_gap: Option<chrono::Duration>,
    /// Anything odd, one line per lead.
    odd: Vec<String>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_laptop_asleep_across_follow_ups_sends_each_once_on_waking() {
    run(Plan::new(Fault::Sleep)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clock_jumping_forward_fires_each_pending_follow_up_once() {
    run(Plan::new(Fault::Forward)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clock_jumping_back_fires_nothing_again_and_the_last_touch_once() {
    run(Plan::new(Fault::Back)).await;
}

async fn run(plan: Plan) {
    let _serial = serial().await;
    let wall = Instant::now();
    let sim = Sim::start(SimConfig::default())
        .await
        .expect("the simulator binds 127.0.0.1");
    let mut site = Site::new(
        &sim,
        &Settings {
            extra_toml: plan.toml(),
            ..Settings::default()
        },
    );
    let mut clock = TestClock::start(&site.root().join("clock"), plan.scale, &sim);
    site.set_env(clock::ENV, &clock.path().display().to_string());
    let mut daemon = site.start(&sim).await;
    assert!(
        site.last_log().contains("TEST CLOCK IN USE"),
        "the daemon says loudly that it runs on a test clock; see {}",
        site.log_path().display()
    );
    let n = plan.leads;
    let callers: Vec<String> = (0..n).map(caller).collect();
    for from in &callers {
        missed_call(&sim, from, Duration::ZERO);
    }
    let patience = Duration::from_secs(30);

    // Every caller texted back, every touch 2 scheduled and pending.
    let before = wait_for(
        &sim,
        &site,
        patience,
        "every caller gets a text-back and every lead a pending touch-2 timer",
        |s| s.all_got(&callers, 1) && s.all_pending(n, 2),
    )
    .await;
    let due2 = |s: &Snapshot| s.timers(2).map(|t| t.run_at).collect::<Vec<_>>();
    let first_due2 = due2(&before).into_iter().min().expect("n timers");
    let last_due2 = due2(&before).into_iter().max().expect("n timers");

    let mut resumed = None;
    let mut notes = Vec::new();
    let struck = match plan.fault {
        Fault::Sleep => {
            daemon.freeze();
            let sent_before = sim.sent_messages().len();
            let asleep_at = clock.now();
            assert!(
                first_due2 > asleep_at,
                "the laptop goes to sleep before any touch 2 is due ({asleep_at} vs {first_due2}): the machine was too slow for this plan"
            );
            let wake_at = last_due2 + plan.amount;
            let asleep = until(clock.real(wake_at - asleep_at) + SLACK, || {
                clock.now() >= wake_at
            })
            .await;
            assert!(asleep.is_ok(), "the test clock reaches the wake-up time");
            let sent_asleep = sim.sent_messages().len() - sent_before;
            daemon.thaw();
            resumed = Some(Instant::now());
            assert_eq!(
                sent_asleep, 0,
                "nothing is sent while the daemon is frozen (else it was not asleep)"
            );
            let struck = due2(&before)
                .iter()
                .filter(|d| **d > asleep_at && **d <= wake_at)
                .count();
            notes.push(format!(
                "asleep {} by the clock ({:.0} s real), from {} before the first touch 2 was due to {} after the last",
                clock_span(wake_at - asleep_at),
                clock.real(wake_at - asleep_at).as_secs_f64(),
                clock_span(first_due2 - asleep_at),
                clock_span(plan.amount),
            ));
            struck
        }
        Fault::Forward => {
            let jumped_from = clock.now();
            assert!(
                first_due2 > jumped_from + chrono::Duration::seconds(1),
                "every touch 2 is still pending when the clock jumps"
            );
            clock.jump(plan.amount, &sim);
            let struck = due2(&before)
                .iter()
                .filter(|d| **d <= jumped_from + plan.amount)
                .count();
            notes.push(format!(
                "jumped +{} with touch 2 due in {} to {}",
                clock_span(plan.amount),
                clock_span(first_due2 - jumped_from),
                clock_span(last_due2 - jumped_from),
            ));
            struck
        }
        Fault::Back => {
            let went = wait_for(
                &sim,
                &site,
                clock.real(last_due2 - clock.now()) + patience,
                "every touch 2 goes out and every touch 3 is scheduled",
                |s| s.all_got(&callers, 2) && s.timers(3).count() == n,
            )
            .await;
            let jumped_from = clock.now();
            let first_due3 = went.timers(3).map(|t| t.run_at).min().expect("n timers");
            assert!(
                went.all_pending(n, 3) && first_due3 > jumped_from,
                "no touch 3 has fired before the jump ({jumped_from} vs {first_due3}): the machine was too slow for this plan"
            );
            clock.jump(-plan.amount, &sim);
            // Texts already sent whose moment the clock will pass a second time.
            let struck = went
                .texts
                .values()
                .flat_map(|t| t.values().flatten())
                .filter(|t| t.at > jumped_from - plan.amount)
                .count();
            notes.push(format!(
                "jumped -{}, {} after the last touch 2 went out",
                clock_span(plan.amount),
                clock_span(
                    jumped_from
                        - callers
                            .iter()
                            .filter_map(|c| went.first(c, 2).map(|t| t.at))
                            .max()
                            .unwrap_or(jumped_from)
                ),
            ));
            struck
        }
    };

    // Everything runs out: every touch 3 sent, no follow-up timer pending, the outbox idle.
    let left = (last_due2 + plan.touch3 + plan.amount.abs()) - clock.now();
    let after = wait_for(
        &sim,
        &site,
        clock.real(left) + MAX_SLEEP + patience,
        "every lead gets touch 3 and nothing is left pending",
        |s| {
            s.all_got(&callers, 3)
                && s.timers.len() == 2 * n
                && s.timers.iter().all(|t| !t.pending)
                && s.waiting == 0
        },
    )
    .await;
    let alive = daemon.running();
    let end = clock.now();
    daemon.kill();

    let f = figures(&plan, &clock, &callers, &after, end, resumed, struck);
    let real = |d: Duration| format!("{:.1} s", d.as_secs_f64());
    let line = format!(
        "| {} | ×{} | {n} | {} | {} | {} | {} | {} | {} | {} ({} by the clock) | {} (delay {}) | {:.0} s |",
        plan.name().trim_start_matches("clock: "),
        plan.scale,
        f.due,
        f.fired,
        f.duplicates,
        f.missed,
        f.early,
        f.struck,
        real(f.max_lateness),
        clock_span(
            chrono::Duration::from_std(f.max_lateness.mul_f64(plan.scale)).unwrap_or_default()
        ),
        f.min_gap.map_or("-".to_owned(), clock_span),
        clock_span(plan.touch3),
        wall.elapsed().as_secs_f64(),
    );
    notes.push(format!(
        "sequence: touch 2 {} after the text-back, touch 3 {} after touch 2; sending hours off, open around the clock",
        clock_span(plan.touch2),
        clock_span(plan.touch3)
    ));
    notes.push(
        "struck: timers due during the sleep / made due by the jump; for the jump back, texts whose moment the clock passed again".into(),
    );
    notes.push(format!(
        "lateness: from the later of the clock reaching the due time and the daemon waking, to the sim accepting the text (real time; the loop wakes at least every {MAX_SLEEP:?})"
    ));
    report_table(
        plan.name(),
        "| case | scale | leads | timers due | fired | duplicates | missed | early | struck | max lateness | touch 2 → 3 (min) | wall |",
        &[line],
        &notes,
    );

    assert!(alive, "the daemon keeps running through the fault");
    assert!(
        f.odd.is_empty(),
        "every lead's sequence ran as planned: {:#?}",
        f.odd
    );
    assert_eq!(f.duplicates, 0, "no touch is sent twice");
    assert_eq!(f.missed, 0, "no due touch is lost");
    assert_eq!(f.due, 2 * n, "both follow-ups of every lead fell due");
    assert_eq!(f.fired, f.due, "every due timer fired");
    assert_eq!(
        f.early, 0,
        "no follow-up goes before its due time by the clock"
    );
    match plan.fault {
        Fault::Sleep | Fault::Forward => assert_eq!(
            f.struck, n,
            "the fault struck every touch 2 (due while asleep, or made due by the jump)"
        ),
        Fault::Back => assert!(
            f.struck >= n,
            "the clock passes every touch 2's moment a second time after the jump back ({} texts)",
            f.struck
        ),
    }
    assert!(
        f.max_lateness <= MAX_SLEEP + SLACK,
        "a due timer fires within the loop's {MAX_SLEEP:?} wake-up (+{SLACK:?}) of falling due or of the daemon waking: {:?}",
        f.max_lateness
    );
    let tolerance = plan.touch3 / 20;
    assert!(
        f.min_gap.is_some_and(|g| g >= plan.touch3 - tolerance),
        "touch 3 waits its full delay after touch 2 actually went (scheduled from the send, not the due time): smallest gap {:?}, delay {}",
        f.min_gap,
        plan.touch3
    );
}

/// A span of the test clock, in hours or minutes.
fn clock_span(d: chrono::Duration) -> String {
    let s = d.num_milliseconds() as f64 / 1000.0;
    if s.abs() >= 3600.0 {
        format!("{:.2} h", s / 3600.0)
    } else {
        format!("{:.1} min", s / 60.0)
    }
}

/// Counts, per lead and touch, against what the plan wants: one text-back, one touch 2, one
/// touch 3, none before its due time.
fn figures(
    plan: &Plan,
    clock: &TestClock,
    callers: &[String],
    s: &Snapshot,
    end: chrono::DateTime<chrono::Utc>,
    resumed: Option<Instant>,
    struck: usize,
) -> Figures {
    let mut f = Figures {
        struck,
        ..Figures::default()
    };
    for c in callers {
        let n = s.count(c, 1);
        f.duplicates += n.saturating_sub(1);
        if n == 0 {
            f.missed += 1;
            f.odd.push(format!("{c}: no text-back"));
        }
    }
    for t in &s.timers {
        if t.run_at > end {
            f.odd.push(format!(
                "{}: touch {} not due by the end ({})",
                t.phone, t.touch, t.run_at
            ));
            continue;
        }
        f.due += 1;
        let texts = s
            .texts
            .get(&t.phone)
            .and_then(|m| m.get(&t.touch))
            .cloned()
            .unwrap_or_default();
        f.duplicates += texts.len().saturating_sub(1);
        let Some(first) = texts.first() else {
            f.missed += 1;
            f.odd.push(format!(
                "{}: touch {} due {} never sent ({})",
                t.phone, t.touch, t.run_at, t.state
            ));
            continue;
        };
        if t.state == "done" {
            f.fired += 1;
        } else {
            f.odd.push(format!(
                "{}: touch {} sent but its timer is {}",
                t.phone, t.touch, t.state
            ));
        }
        // The sim's stamps follow the same clock; a millisecond of real time apart is
        // `scale` ms of clock.
        let grain = chrono::Duration::milliseconds(plan.scale.ceil() as i64 * 5);
        if first.at + grain < t.run_at {
            f.early += 1;
            f.odd.push(format!(
                "{}: touch {} went at {} before its due {}",
                t.phone, t.touch, first.at, t.run_at
            ));
        }
        let ready = clock.reached(t.run_at).into_iter().chain(resumed).max();
        if let Some(ready) = ready {
            f.max_lateness = f
                .max_lateness
                .max(first.instant.saturating_duration_since(ready));
        }
    }
    f.min_gap = callers
        .iter()
        .filter_map(|c| Some(s.first(c, 3)?.at - s.first(c, 2)?.at))
        .min();
    f
}

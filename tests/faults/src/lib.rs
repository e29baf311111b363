//! Fault injection against the real `textback daemon`: the binary runs as a child process
//! against the Twilio simulator (in the test's own process, on 127.0.0.1), faults are injected
//! (kill -9, a network outage, 429/5xx storms, revoked credentials), and the figures are read
//! from what the simulator received, the daemon's database (read-only) and the clock.
//!
//! - [`bin`] builds and finds the `textback` binary.
//! - [`site`] is one installation in a temp dir: config file, data dir, daemon, `textback reply`.
//! - [`db`] reads the daemon's SQLite file while it runs.
//! - [`clock`] runs the daemon and the simulator on one test clock (faster than real time, and
//!   jumped forward or back while they run).
//! - This module: the pieces every case shares (callers, waiting for quiescence, counting
//!   texts, the report table).
//!
//! To add a case: a module in `tests/faults/`, holding [`serial`] for its whole run, that ends by
//! printing a [`Row`] with [`report`] and then asserting on the same figures.

pub mod bin;
pub mod clock;
pub mod db;
pub mod site;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use textback_sim::{CallScript, LegScript, SentMessage, Sim};

use crate::db::{CallView, Db};

/// The long form: `TEXTBACK_FAULTS_LONG=1`.
pub fn long_form() -> bool {
    std::env::var("TEXTBACK_FAULTS_LONG").is_ok_and(|v| v == "1")
}

/// The cases run one at a time: each measures latencies on a 2-core machine, and two daemons
/// polling at once would measure each other. (An async lock: held across the whole case, and a
/// failed case does not poison it for the next.)
pub async fn serial() -> tokio::sync::MutexGuard<'static, ()> {
    static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    SERIAL.lock().await
}

/// The case's seed (printed, so a failure can be replayed) and a random generator from it.
pub fn seeded(case: &str) -> (u64, rand::rngs::StdRng) {
    let seed = seed();
    println!("{case}: seed {seed} (TEXTBACK_FAULTS_SEED={seed} replays this schedule)");
    (seed, rand::SeedableRng::seed_from_u64(seed))
}

/// A simulator on 127.0.0.1, a site configured with `settings` against it, and the daemon
/// started there: how every case begins.
pub async fn start_daemon(
    settings: &site::Settings,
) -> (std::sync::Arc<Sim>, site::Site, site::Daemon) {
    let sim = std::sync::Arc::new(
        Sim::start(textback_sim::SimConfig::default())
            .await
            .expect("the simulator binds 127.0.0.1"),
    );
    let mut site = site::Site::new(&sim, settings);
    let daemon = site.start(&sim).await;
    (sim, site, daemon)
}

/// The report's line for [`quiesce`]'s verdict: how long after `since` (the fault's end, in
/// the words `after`) everything settled, or why it did not.
pub fn quiet_note(quiet: &Result<Instant, String>, since: Instant, after: &str) -> String {
    match quiet {
        Ok(at) => format!(
            "quiet {:.1} s after {after}",
            at.saturating_duration_since(since).as_secs_f64()
        ),
        Err(e) => format!("NOT QUIET: {e}"),
    }
}

/// The seed for a case's random schedule: `TEXTBACK_FAULTS_SEED`, else from the clock. Printed
/// by every case so a failing schedule can be replayed.
pub fn seed() -> u64 {
    std::env::var("TEXTBACK_FAULTS_SEED")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(0)
        })
}

/// The `i`th distinct caller: ordinary US mobile numbers.
pub fn caller(i: usize) -> String {
    assert!(i < 8000, "callers are numbered below 8000");
    format!("+1415555{:04}", 2000 + i)
}

/// The `i`th customer a person replies to (never one of the callers).
pub fn recipient(i: usize) -> String {
    assert!(i < 1000, "recipients are numbered below 1000");
    format!("+1628555{:04}", 3000 + i)
}

/// A missed call from `from`: the office phone rings for `ring`, nobody picks up.
pub fn missed_call(sim: &Sim, from: &str, ring: Duration) -> String {
    sim.place_call(CallScript::inbound(
        from,
        site::BUSINESS,
        Some(ring),
        vec![LegScript::no_answer("+14155550100")],
    ))
}

/// Waits until every call in `sids` has a decision in the database and the outbox has nothing
/// pending, in flight or unknown. Ok(when it was first seen quiet); Err with what was still
/// open.
pub async fn quiesce(db_path: &Path, sids: &[String], limit: Duration) -> Result<Instant, String> {
    let started = Instant::now();
    let mut db = None;
    loop {
        if db.is_none() {
            db = Db::open(db_path).ok();
        }
        let mut open = String::from("the database does not exist yet");
        if let Some(db) = &db {
            let mut undecided = Vec::new();
            for sid in sids {
                if db.call(sid)?.is_none_or(|v| v.decision.is_none()) {
                    undecided.push(sid.as_str());
                }
            }
            let waiting = db.waiting()?;
            if undecided.is_empty() && waiting == 0 {
                return Ok(Instant::now());
            }
            open = format!(
                "{} of {} calls undecided (first: {:?}); {waiting} outbox entries unfinished; outbox by state: {:?}",
                undecided.len(),
                sids.len(),
                undecided.iter().take(5).collect::<Vec<_>>(),
                db.outbox_states()?
            );
        }
        if started.elapsed() >= limit {
            return Err(format!("not quiet after {limit:?}: {open}"));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Every message the sim accepted, by recipient, in arrival order.
pub fn texts_by_recipient(sim: &Sim) -> BTreeMap<String, Vec<SentMessage>> {
    let mut by: BTreeMap<String, Vec<SentMessage>> = BTreeMap::new();
    for m in sim.sent_messages() {
        by.entry(m.to.clone()).or_default().push(m);
    }
    by
}

/// When the sim accepted its last message, if any.
pub fn last_text_at(sim: &Sim) -> Option<Instant> {
    sim.sent_messages().iter().map(|m| m.instant).max()
}

/// The text-back figures for calls that must each get exactly one text (fresh missed calls
/// from distinct callers), from the simulator's record and the daemon's database.
#[derive(Debug, Clone, Default)]
pub struct TextBacks {
    /// Callers who got at least one text.
    pub texted: usize,
    /// Texts beyond the first to the same caller.
    pub duplicates: usize,
    /// Callers who got no text.
    pub misses: usize,
    /// Calls whose decision and outbox entry say "sent".
    pub recorded_sent: usize,
    /// Calls the sender skipped because the provider's log already had a text to the caller
    /// (the caller got one; the database calls it "already messaged").
    pub recorded_already_messaged: usize,
    /// Anything else the database says, one line per call.
    pub odd: Vec<String>,
}

pub fn audit_text_backs(sim: &Sim, db: &Db, calls: &[(String, String)]) -> TextBacks {
    let texts = texts_by_recipient(sim);
    let mut t = TextBacks::default();
    for (sid, from) in calls {
        let n = texts.get(from).map_or(0, Vec::len);
        if n == 0 {
            t.misses += 1;
        } else {
            t.texted += 1;
            t.duplicates += n - 1;
        }
        match db.call(sid) {
            Ok(Some(CallView {
                decision: Some(d),
                entry,
                ..
            })) => match (d.action.as_str(), d.code.as_str(), entry.map(|e| e.state)) {
                ("send", _, Some(textback_store::outbox::State::Sent)) => t.recorded_sent += 1,
                ("skip", "already_messaged", _) => t.recorded_already_messaged += 1,
                (action, code, state) => t.odd.push(format!(
                    "{sid} from {from}: decision {action}/{code}, outbox {state:?}, {n} texts"
                )),
            },
            Ok(other) => t
                .odd
                .push(format!("{sid} from {from}: no decision ({other:?})")),
            Err(e) => t.odd.push(format!("{sid}: {e}")),
        }
    }
    t
}

/// Staff replies: `(recipient, body)` in the order they were queued.
#[derive(Debug, Clone, Default)]
pub struct Replies {
    pub queued: usize,
    /// Replies the sim received exactly once.
    pub delivered_once: usize,
    /// Extra copies.
    pub duplicates: usize,
    pub missing: usize,
    /// Recipients whose texts arrived in another order than they were queued.
    pub out_of_order: Vec<String>,
}

pub fn audit_replies(sim: &Sim, queued: &[(String, String)]) -> Replies {
    let texts = texts_by_recipient(sim);
    let mut r = Replies {
        queued: queued.len(),
        ..Replies::default()
    };
    let mut recipients: Vec<&String> = queued.iter().map(|(to, _)| to).collect();
    recipients.dedup();
    recipients.sort();
    recipients.dedup();
    for to in recipients {
        let wanted: Vec<&str> = queued
            .iter()
            .filter(|(t, _)| t == to)
            .map(|(_, b)| b.as_str())
            .collect();
        let got: Vec<&str> = texts
            .get(to)
            .map(|v| v.iter().map(|m| m.body.as_str()).collect())
            .unwrap_or_default();
        for body in &wanted {
            match got.iter().filter(|g| *g == body).count() {
                0 => r.missing += 1,
                1 => r.delivered_once += 1,
                n => {
                    r.delivered_once += 1;
                    r.duplicates += n - 1;
                }
            }
        }
        let mut seen = got.clone();
        seen.dedup();
        let in_queue_order: Vec<&str> = seen
            .iter()
            .copied()
            .filter(|b| wanted.contains(b))
            .collect();
        let delivered: Vec<&str> = wanted.iter().copied().filter(|b| got.contains(b)).collect();
        if in_queue_order != delivered {
            r.out_of_order.push(format!("{to}: got {got:?}"));
        }
    }
    r
}

/// One line of the report table.
#[derive(Debug, Clone, Default)]
pub struct Row {
    pub case: String,
    pub calls: usize,
    pub kills: usize,
    pub text_backs: usize,
    pub duplicates: usize,
    pub misses: usize,
    /// Calls recorded "missed while offline" (late), not texted.
    pub late: usize,
    /// Texts that must not have gone (a late call texted anyway).
    pub wrong: usize,
    pub replies_delivered: usize,
    pub replies_queued: usize,
    /// From the end of the fault to the last text the sim accepted.
    pub recovery: Option<Duration>,
    pub wall: Duration,
}

const HEADER: &str = "| case | calls | kills | text-backs | duplicates | misses | late (not texted) | wrong texts | replies delivered | recovery latency | wall |";

impl Row {
    fn line(&self) -> String {
        format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {}/{} | {} | {:.0} s |",
            self.case,
            self.calls,
            self.kills,
            self.text_backs,
            self.duplicates,
            self.misses,
            self.late,
            self.wrong,
            self.replies_delivered,
            self.replies_queued,
            self.recovery
                .map_or("-".to_owned(), |d| format!("{:.1} s", d.as_secs_f64())),
            self.wall.as_secs_f64()
        )
    }
}

/// Prints the case's table (header, row, notes) to stdout and appends it to
/// `<target dir>/faults-report.txt`, so CI logs can show it whatever `cargo test` captured.
pub fn report(row: &Row, notes: &[String]) {
    report_table(&row.case, HEADER, &[row.line()], notes);
}

/// [`report`] for a case with its own columns: `header` is a markdown table header
/// (`| a | b |`), each of `lines` one row.
pub fn report_table(case: &str, header: &str, lines: &[String], notes: &[String]) {
    let mode = if long_form() { "long" } else { "short" };
    let rule = format!(
        "|{}",
        "---|".repeat(header.matches('|').count().saturating_sub(1))
    );
    let mut text = format!(
        "\n## faults: {case} ({mode} form, {})\n{header}\n{rule}\n",
        chrono::Utc::now().format("%Y-%m-%d %H:%M:%S UTC"),
    );
    for line in lines {
        text.push_str(&format!("{line}\n"));
    }
    for n in notes {
        text.push_str(&format!("- {n}\n"));
    }
    print!("{text}");
    if let Ok(layout) = bin::layout() {
        let path = layout.target_dir.join("faults-report.txt");
        match std::fs::File::options()
            .create(true)
            .append(true)
            .open(&path)
            .and_then(|mut f| f.write_all(text.as_bytes()))
        {
            Ok(()) => println!("(appended to {})", path.display()),
            Err(e) => println!("(could not append to {}: {e})", path.display()),
        }
    }
}

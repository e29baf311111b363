//! The engine benchmark: prints figures, asserts nothing about timing.
//!
//! ```text
//! cargo build --release -p textback-cli      # the daemon measured in part 3
//! cargo bench -p textback-engine --bench textback_engine
//! BENCH_CALLS=60 BENCH_IDLE_SECS=5 cargo bench -p textback-engine --bench textback_engine   # CI
//! ```
//!
//! 1. **Latency**: the engine runs as in production ([`Engine::start`], the system clock, a
//!    1 s poll) against the simulator; `BENCH_CALLS` missed calls from distinct callers are
//!    placed a few a second, each ringing 200–400 ms. Latency is from the instant the sim made
//!    the call final to the instant the text-back's POST reached the sim.
//! 2. **Throughput**: `BENCH_CALLS` calls that are already over when the engine starts (placed
//!    after its first sync, so they are not history); the time until every text-back arrived.
//! 3. **Daemon idle**: the real `textback daemon` (release build if present) polling a sim in
//!    this process, RSS and CPU over `BENCH_IDLE_SECS`, then SIGTERM and its exit code; once on
//!    an empty account and once on an account holding `BENCH_IDLE_HISTORY` calls and texts of
//!    earlier today (each poll re-reads the whole day: idle CPU grows with it).
//!
//! Knobs: `BENCH_CALLS` (default 500), `BENCH_RATE` (calls placed per second, default 5),
//! `BENCH_IDLE_SECS` (default 20), `BENCH_IDLE_HISTORY` (default 100, 0 skips that run), `BENCH_TEXTBACK_BIN`
//! (the daemon binary to measure instead of the one next to this bench).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::Rng;

use textback_domain::{Caller, PhoneNumber, Region, SystemClock, classify_caller};
use textback_engine::{Config, Engine};
use textback_providers::Secret;
use textback_providers::twilio::{TwilioAuth, TwilioClient};
use textback_sim::{CallScript, LegScript, Route, Sim, SimConfig};
use textback_store::Store;

/// The business number (Twilio's magic SMS-capable test number, the sim's default).
const BUSINESS: &str = SimConfig::DEFAULT_NUMBER;
/// The phone the business number forwards to; nobody picks up.
const FORWARD_TO: &str = "+14155550100";
/// Area codes for callers; each gives 100 numbers in the fictional NXX-555-01XX range.
const AREA_CODES: [u16; 16] = [
    512, 415, 212, 213, 305, 312, 617, 702, 206, 303, 404, 503, 602, 713, 801, 919,
];

const ROUTES: [(Route, &str); 5] = [
    (Route::CallsList, "GET Calls.json"),
    (Route::CallsRead, "GET Calls/{Sid}.json"),
    (Route::RecordingsList, "GET Recordings.json"),
    (Route::MessagesList, "GET Messages.json"),
    (Route::MessagesCreate, "POST Messages.json"),
];

fn env_num<T: std::str::FromStr>(name: &str, default: T) -> T {
    match std::env::var(name) {
        Ok(v) if !v.trim().is_empty() => v
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("{name}={v:?} is not a number")),
        _ => default,
    }
}

/// `n` distinct callers, each one the engine will text (checked, not assumed).
fn callers(n: usize) -> Vec<String> {
    let max = AREA_CODES.len() * 100;
    assert!(n <= max, "at most {max} distinct callers, asked for {n}");
    (0..n)
        .map(|i| {
            let number = format!("+1{}55501{:02}", AREA_CODES[i / 100], i % 100);
            let parsed = PhoneNumber::parse_e164(&number)
                .unwrap_or_else(|e| panic!("generated caller {number}: {e}"));
            assert_eq!(parsed.as_str(), number, "the caller is already E.164");
            assert!(
                matches!(classify_caller(&number, Region::US), Caller::Textable(_)),
                "generated caller {number} is not textable"
            );
            number
        })
        .collect()
}

fn config(sim: &Sim) -> Config {
    let text = format!(
        r#"
[business]
name = "Bench Plumbing"
booking_link = "https://book.example.com/bench"
hours = {{ mon = "00:00-24:00", tue = "00:00-24:00", wed = "00:00-24:00", thu = "00:00-24:00", fri = "00:00-24:00", sat = "00:00-24:00", sun = "00:00-24:00" }}

[[numbers]]
number = "{BUSINESS}"

[engine]
poll_interval = "1s"
"#
    );
    let mut config =
        Config::from_toml(&text, Path::new("bench.toml")).expect("the bench config is valid");
    config.provider.api_base = sim.base_url();
    config
}

fn engine(sim: &Sim, dir: &Path) -> Engine<TwilioClient> {
    let config = config(sim);
    let client = TwilioClient::new(
        &config.provider.api_base,
        TwilioAuth::AuthToken {
            account_sid: sim.account_sid().to_owned(),
            auth_token: Secret::new(sim.auth_token()),
        },
        config.provider.request_timeout.as_std(),
    )
    .expect("a client for the sim");
    let store = Store::open(&dir.join("bench.db")).expect("the store opens");
    Engine::new(
        Arc::new(config),
        Arc::new(store),
        Arc::new(client),
        Arc::new(SystemClock),
        sim.account_sid(),
    )
}

fn missed_call(from: &str, ring: Duration) -> CallScript {
    CallScript::inbound(
        from,
        BUSINESS,
        Some(ring),
        vec![LegScript::no_answer(FORWARD_TO)],
    )
}

fn request_counts(sim: &Sim) -> [usize; ROUTES.len()] {
    ROUTES.map(|(r, _)| sim.requests(r))
}

fn describe_requests(
    before: [usize; ROUTES.len()],
    after: [usize; ROUTES.len()],
    per: f64,
) -> String {
    ROUTES
        .iter()
        .zip(before.iter().zip(after))
        .filter(|(_, (b, a))| a > *b)
        .map(|((_, name), (b, a))| format!("{name} {:.1}", (a - b) as f64 / per))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Waits until every caller in `want` has been texted (or `deadline`); returns the arrival
/// instant of the first message to each.
async fn wait_texted(sim: &Sim, want: &[String], deadline: Instant) -> HashMap<String, Instant> {
    loop {
        let mut arrived: HashMap<String, Instant> = HashMap::new();
        for m in sim.sent_messages() {
            arrived.entry(m.to).or_insert(m.instant);
        }
        let done = want.iter().all(|c| arrived.contains_key(c));
        if done || Instant::now() >= deadline {
            return arrived;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn percentile(sorted: &[Duration], q: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

struct Latency {
    p50: Duration,
    p95: Duration,
    max: Duration,
    measured: usize,
    missing: usize,
    /// What one poll costs once all of the run's calls and texts are on the account.
    poll_cost: String,
}

/// Part 1: final → SMS latency at a 1 s poll, engine running as in production.
async fn latency(n: usize, rate: f64) -> Latency {
    let sim = Sim::start(SimConfig::default())
        .await
        .expect("the sim binds");
    let dir = tempfile::tempdir().expect("a temp dir");
    let engine = engine(&sim, dir.path());
    let running = engine.start();
    // Calls placed after the first pass are new, not history.
    tokio::time::timeout(Duration::from_secs(10), engine.wait_synced())
        .await
        .expect("the first sync completes");

    let callers = callers(n);
    let mean_gap_ms = (1000.0 / rate).max(1.0);
    let mut sids = Vec::with_capacity(n);
    let placing = Instant::now();
    for (i, caller) in callers.iter().enumerate() {
        let (ring_ms, gap_ms) = {
            let mut rng = rand::rng();
            (
                rng.random_range(200..=400u64),
                rng.random_range(0.5 * mean_gap_ms..=1.5 * mean_gap_ms),
            )
        };
        sids.push(sim.place_call(missed_call(caller, Duration::from_millis(ring_ms))));
        if i + 1 < n {
            tokio::time::sleep(Duration::from_secs_f64(gap_ms / 1000.0)).await;
        }
        if (i + 1) % 100 == 0 {
            eprintln!(
                "  latency: placed {}/{n} calls in {:.0} s",
                i + 1,
                placing.elapsed().as_secs_f64()
            );
        }
    }
    let arrived = wait_texted(&sim, &callers, Instant::now() + Duration::from_secs(30)).await;
    running.shutdown().await;

    let mut latencies = Vec::with_capacity(n);
    let mut missing = 0;
    for (caller, sid) in callers.iter().zip(&sids) {
        match (sim.final_at(sid), arrived.get(caller)) {
            (Some(fin), Some(sms)) => latencies.push(sms.saturating_duration_since(fin)),
            _ => missing += 1,
        }
    }
    latencies.sort();

    // Diagnosis: what one poll costs with all of today's calls and texts on the account.
    let before = request_counts(&sim);
    let passes = 5;
    let t = Instant::now();
    for _ in 0..passes {
        engine
            .sync_once()
            .await
            .expect("a sync against the sim works");
    }
    let per_pass = t.elapsed() / passes;
    let after = request_counts(&sim);
    let poll_cost = format!(
        "{:.1} ms per sync pass with {n} calls + {} texts on the account today ({})",
        per_pass.as_secs_f64() * 1000.0,
        arrived.len(),
        describe_requests(before, after, f64::from(passes)),
    );
    sim.shutdown().await;

    Latency {
        p50: percentile(&latencies, 0.50),
        p95: percentile(&latencies, 0.95),
        max: latencies.last().copied().unwrap_or_default(),
        measured: latencies.len(),
        missing,
        poll_cost,
    }
}

/// Part 2: how fast a backlog of ended missed calls is decided and texted.
async fn throughput(n: usize) -> (f64, usize, Duration, String) {
    let sim = Sim::start(SimConfig::default())
        .await
        .expect("the sim binds");
    let dir = tempfile::tempdir().expect("a temp dir");
    let engine = engine(&sim, dir.path());
    // The first sync marks the watch start, so the calls placed next are new, not history.
    engine.sync_once().await.expect("the first sync works");
    let callers = callers(n);
    let sids: Vec<String> = callers
        .iter()
        .map(|c| sim.place_call(missed_call(c, Duration::ZERO)))
        .collect();
    for sid in &sids {
        tokio::time::timeout(Duration::from_secs(10), sim.wait_final(sid))
            .await
            .expect("the sim ends a zero-ring call at once");
    }
    let before = request_counts(&sim);
    let t = Instant::now();
    let running = engine.start();
    let arrived = wait_texted(&sim, &callers, Instant::now() + Duration::from_secs(120)).await;
    let last = arrived.values().max().copied().unwrap_or(t);
    let elapsed = last.saturating_duration_since(t);
    running.shutdown().await;
    let after = request_counts(&sim);
    let sent = callers.iter().filter(|c| arrived.contains_key(*c)).count();
    let per_call = describe_requests(before, after, n as f64);
    sim.shutdown().await;
    (
        sent as f64 / elapsed.as_secs_f64().max(1e-9),
        sent,
        elapsed,
        per_call,
    )
}

/// The `textback` binary next to this bench: target/{release,debug}/textback.
fn textback_bin() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("BENCH_TEXTBACK_BIN") {
        return Some(PathBuf::from(p));
    }
    let exe = std::env::current_exe().ok()?;
    // target/<profile>/deps/textback_engine-<hash>
    let target = exe.parent()?.parent()?.parent()?;
    let name = format!("textback{}", std::env::consts::EXE_SUFFIX);
    ["release", "debug"]
        .iter()
        .map(|p| target.join(p).join(&name))
        .find(|p| p.is_file())
}

fn proc_status_kb(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
}

/// utime + stime in clock ticks.
fn proc_cpu_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces; fields after it are plain.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After "pid (comm) ", state is field 3; utime and stime are fields 14 and 15.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

fn clock_ticks_per_sec() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}

struct Idle {
    binary: PathBuf,
    rss_mb: f64,
    rss_max_mb: f64,
    hwm_mb: f64,
    cpu_pct: f64,
    secs: f64,
    requests: String,
    exit: String,
    exit_ok: bool,
}

/// Part 3: the real daemon idle-polling a sim in this process.
async fn daemon_idle(idle_secs: u64, history: usize) -> Result<Idle, String> {
    let binary = textback_bin().ok_or(
        "no textback binary next to this bench; run `cargo build --release -p textback-cli`",
    )?;
    let sim = Sim::start(SimConfig::default())
        .await
        .expect("the sim binds");
    // Earlier today's calls and texts: history to the daemon (listed and re-read on every
    // poll, never texted).
    for c in callers(history) {
        let sid = sim.place_call(missed_call(&c, Duration::ZERO));
        let _ = tokio::time::timeout(Duration::from_secs(5), sim.wait_final(&sid)).await;
        sim.inbound_sms(&c, BUSINESS, "Hi, can someone call me back?");
    }
    let dir = tempfile::tempdir().expect("a temp dir");
    let config_path = dir.path().join("textback.toml");
    std::fs::write(
        &config_path,
        format!(
            "[business]\nname = \"Bench Plumbing\"\n\n[[numbers]]\nnumber = \"{BUSINESS}\"\n\n[engine]\npoll_interval = \"1s\"\n"
        ),
    )
    .map_err(|e| format!("writing the config: {e}"))?;
    let data_dir = dir.path().join("data");
    let log = std::fs::File::create(dir.path().join("daemon.log"))
        .map_err(|e| format!("creating the log: {e}"))?;
    let mut cmd = Command::new(&binary);
    cmd.arg("daemon")
        .arg("--config")
        .arg(&config_path)
        .env("TEXTBACK_TWILIO_ACCOUNT_SID", sim.account_sid())
        .env("TEXTBACK_TWILIO_AUTH_TOKEN", sim.auth_token())
        .env("TEXTBACK_TWILIO_API_BASE", sim.base_url())
        .env("TEXTBACK_DATA_DIR", &data_dir)
        .env_remove("TEXTBACK_CONFIG")
        .env_remove("TEXTBACK_TWILIO_API_KEY_SID")
        .env_remove("TEXTBACK_TWILIO_API_KEY_SECRET")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log);
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("starting {}: {e}", binary.display()))?;
    let pid = child.id();
    let log_tail = || {
        std::fs::read_to_string(dir.path().join("daemon.log"))
            .unwrap_or_default()
            .lines()
            .rev()
            .take(10)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect::<Vec<_>>()
            .join("\n")
    };

    tokio::time::sleep(Duration::from_secs(5)).await;
    if let Ok(Some(status)) = child.try_wait() {
        return Err(format!(
            "the daemon exited during warm-up ({status}):\n{}",
            log_tail()
        ));
    }
    let hz = clock_ticks_per_sec();
    let before = request_counts(&sim);
    let ticks0 = proc_cpu_ticks(pid).ok_or("cannot read /proc/<pid>/stat")?;
    let t0 = Instant::now();
    let mut rss = Vec::new();
    let end = t0 + Duration::from_secs(idle_secs);
    while Instant::now() < end {
        if let Some(kb) = proc_status_kb(pid, "VmRSS:") {
            rss.push(kb);
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let ticks1 = proc_cpu_ticks(pid).ok_or("cannot read /proc/<pid>/stat")?;
    let secs = t0.elapsed().as_secs_f64();
    let after = request_counts(&sim);
    let hwm = proc_status_kb(pid, "VmHWM:").unwrap_or(0);

    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(pid.to_string())
        .status();
    let stop = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break Some(s),
            Ok(None) if stop.elapsed() < Duration::from_secs(10) => {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            _ => break None,
        }
    };
    let (exit, exit_ok) = match status {
        Some(s) if s.success() => (
            format!("exit 0 after SIGTERM in {} ms", stop.elapsed().as_millis()),
            true,
        ),
        Some(s) => (format!("{s} after SIGTERM:\n{}", log_tail()), false),
        None => {
            let _ = child.kill();
            let _ = child.wait();
            (
                "did not exit within 10 s of SIGTERM (killed)".to_owned(),
                false,
            )
        }
    };
    sim.shutdown().await;

    let mb = |kb: u64| kb as f64 / 1024.0;
    Ok(Idle {
        binary,
        rss_mb: mb(rss.iter().sum::<u64>() / rss.len().max(1) as u64),
        rss_max_mb: mb(rss.iter().copied().max().unwrap_or(0)),
        hwm_mb: mb(hwm),
        cpu_pct: (ticks1 - ticks0) as f64 / hz / secs * 100.0,
        secs,
        requests: describe_requests(before, after, secs),
        exit,
        exit_ok,
    })
}

fn s(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

fn print_idle(label: &str, idle: &Result<Idle, String>) {
    match idle {
        Ok(i) => {
            let ok = i.rss_max_mb <= 30.0 && i.cpu_pct <= 1.0;
            println!(
                "{label:<20}RSS {:.1} MB (max {:.1}, peak {:.1})   CPU {:.2} % of a core over {:.0} s   (targets ≤ 30 MB, ≤ 1 %){}",
                i.rss_mb,
                i.rss_max_mb,
                i.hwm_mb,
                i.cpu_pct,
                i.secs,
                if ok { "  ok" } else { "  MISSED" },
            );
            println!("{:<20}requests/s: {}", "", i.requests);
            println!(
                "{:<20}shutdown: {}{}",
                "",
                i.exit,
                if i.exit_ok { "  ok" } else { "  FAILED" }
            );
        }
        Err(e) => println!("{label:<20}not measured: {e}"),
    }
}

#[tokio::main]
async fn main() {
    // `cargo bench` passes `--bench`; filters are not supported: everything runs.
    let n: usize = env_num("BENCH_CALLS", 500);
    let rate: f64 = env_num("BENCH_RATE", 5.0);
    let idle_secs: u64 = env_num("BENCH_IDLE_SECS", 20);
    let history: usize = env_num("BENCH_IDLE_HISTORY", 100);

    eprintln!("part 1/3: latency, {n} missed calls at ~{rate}/s, poll 1 s");
    let lat = latency(n, rate).await;
    eprintln!("part 2/3: throughput, {n} ended missed calls");
    let (tput, sent, elapsed, per_call) = throughput(n).await;
    eprintln!("part 3/3: daemon idle for {idle_secs} s after a 5 s warm-up, empty account");
    let idle_empty = daemon_idle(idle_secs, 0).await;
    let idle_busy = if history > 0 {
        eprintln!(
            "part 3/3: daemon idle for {idle_secs} s after a 5 s warm-up, {history} calls + texts today"
        );
        Some(daemon_idle(idle_secs, history).await)
    } else {
        None
    };

    println!();
    println!("textback engine bench (N={n} missed calls, poll 1s)");
    println!(
        "latency final→SMS   p50 {}   p95 {}   max {}   (target p95 ≤ 1.5 s){}{}",
        s(lat.p50),
        s(lat.p95),
        s(lat.max),
        if lat.p95 <= Duration::from_millis(1500) {
            "  ok"
        } else {
            "  MISSED"
        },
        if lat.missing > 0 {
            format!("   {} of {n} calls got no text-back!", lat.missing)
        } else {
            format!("   ({} calls measured)", lat.measured)
        },
    );
    println!("{:<20}poll cost: {}", "", lat.poll_cost);
    println!(
        "throughput          {tput:.0} missed calls/s decided+sent   ({sent}/{n} texted in {})",
        s(elapsed)
    );
    println!("{:<20}requests per call: {per_call}", "");
    print_idle("daemon idle", &idle_empty);
    if let Some(busy) = &idle_busy {
        print_idle(&format!("  +{history} calls/texts"), busy);
    }
    if let Ok(i) = &idle_empty {
        println!("daemon binary       {}", i.binary.display());
    }
}

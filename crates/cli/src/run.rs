//! The three commands. Each returns the process exit code: 0 ok, 1 a problem the message
//! explains, 2 usage.

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use textback_domain::{Clock, PhoneNumber, SystemClock};
use textback_engine::config::{self, Config};
use textback_engine::credentials::{self, Source};
use textback_engine::{DomainEvent, Engine};
use textback_providers::Provider;
use textback_providers::twilio::{TwilioAuth, TwilioClient};
use textback_sim::{Scenario, Sim, SimConfig};
use textback_store::Store;

fn env_var(k: &str) -> Option<String> {
    std::env::var(k).ok()
}

fn load_config(flag: Option<&Path>) -> Result<(Config, std::path::PathBuf), String> {
    let path = config::resolve_path(flag, &env_var);
    let cfg = Config::load(&path, &env_var).map_err(|e| e.to_string())?;
    Ok((cfg, path))
}

fn fail(msg: impl std::fmt::Display) -> ExitCode {
    eprintln!("textback: {msg}");
    ExitCode::FAILURE
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("cannot start the async runtime: {e}"))
}

/// Waits for Ctrl-C or SIGTERM.
async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

fn client(cfg: &Config, auth: TwilioAuth) -> Result<TwilioClient, String> {
    TwilioClient::new(
        &cfg.provider.api_base,
        auth,
        cfg.provider.request_timeout.as_std(),
    )
    .map_err(|e| e.to_string())
}

pub fn daemon(flag: Option<&Path>) -> ExitCode {
    let (cfg, path) = match load_config(flag) {
        Ok(c) => c,
        Err(e) => return fail(e),
    };
    if cfg.numbers.is_empty() {
        return fail(format!(
            "numbers: no business numbers are configured in {}; add\n\n[[numbers]]\nnumber = \"+15551234567\"\n\n(or run `textback demo` to try it against the simulator)",
            path.display()
        ));
    }
    let data_dir = cfg.data_dir();
    let _guard = crate::logging::init(Some(&data_dir));
    let (auth, source) = match credentials::load(&env_var) {
        Ok(a) => a,
        Err(e) => return fail(e),
    };
    tracing::info!(config = %path.display(), data_dir = %data_dir.display(), credentials = ?source, responder = cfg.engine.responder, "starting the daemon");
    let account = auth.account_sid().to_owned();
    let client = match client(&cfg, auth) {
        Ok(c) => c,
        Err(e) => return fail(format!("provider.api_base: {e}")),
    };
    let clock = match daemon_clock() {
        Ok(c) => c,
        Err(e) => return fail(e),
    };
    let store = match Store::open(&data_dir.join(format!("textback-{account}.db"))) {
        Ok(s) => Arc::new(s),
        Err(e) => return fail(e),
    };
    runtime().block_on(async move {
        let engine = Engine::new(Arc::new(cfg), store, Arc::new(client), clock, &account);
        let mut running = engine.start();
        engine.start_bookings(&mut running, &env_var);
        let mut events = engine.subscribe();
        let log_events = async {
            loop {
                match events.recv().await {
                    Ok(e) => log_event(&e),
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                        tracing::warn!("{n} events not logged")
                    }
                    Err(_) => break,
                }
            }
        };
        tokio::select! {
            _ = stop_signal() => tracing::info!("stopping"),
            _ = log_events => {}
        }
        running.shutdown().await;
        tracing::info!("stopped cleanly");
    });
    ExitCode::SUCCESS
}

/// The system clock, or the test clock `TEXTBACK_TEST_CLOCK` names (said loudly: a daemon
/// on a test clock stamps and schedules everything in made-up time).
fn daemon_clock() -> Result<Arc<dyn Clock>, crate::test_clock::TestClockError> {
    let Some(clock) = crate::test_clock::FileClock::from_env(&env_var)? else {
        return Ok(Arc::new(SystemClock));
    };
    let pace = clock.pace();
    let warning = format!(
        "TEST CLOCK IN USE ({}={}): now = {} + (wall - origin) x {} + {} s; it reads {} while the wall clock reads {}. Never run a real office on this.",
        crate::test_clock::ENV,
        clock.path().display(),
        pace.origin.to_rfc3339(),
        pace.scale,
        pace.offset.num_milliseconds() as f64 / 1000.0,
        clock.now().to_rfc3339(),
        chrono::Utc::now().to_rfc3339(),
    );
    eprintln!("textback: {warning}");
    tracing::warn!("{warning}");
    Ok(Arc::new(clock))
}

/// Events to the log at info level: ids and numbers, never message bodies.
fn log_event(e: &DomainEvent) {
    match e {
        DomainEvent::MessageReceived {
            conversation_id,
            from,
            ..
        } => {
            tracing::info!(conversation_id, from, "message received")
        }
        other => tracing::info!(event = %serde_json::to_string(other).unwrap_or_default(), "event"),
    }
}

pub fn demo(flag: Option<&Path>) -> ExitCode {
    let (mut cfg, _) = match load_config(flag) {
        Ok(c) => c,
        Err(e) => return fail(e),
    };
    runtime().block_on(async move {
        let sim = match Sim::start(SimConfig::default()).await {
            Ok(s) => s,
            Err(e) => {
                return fail(format!(
                    "cannot start the phone simulator on 127.0.0.1: {e}"
                ));
            }
        };
        let number = match PhoneNumber::parse_e164(SimConfig::DEFAULT_NUMBER) {
            Ok(n) => n,
            Err(e) => return fail(e),
        };
        cfg.use_demo_simulator(&sim.base_url(), number);
        // Demo data has its own database, never mixed with a real account's.
        let dir = std::env::temp_dir().join(format!("textback-demo-{}", std::process::id()));
        let store = match Store::open(&dir.join("demo.db")) {
            Ok(s) => Arc::new(s),
            Err(e) => return fail(e),
        };
        let auth = TwilioAuth::AuthToken {
            account_sid: sim.account_sid().to_owned(),
            auth_token: textback_providers::Secret::new(sim.auth_token()),
        };
        let client = match client(&cfg, auth) {
            Ok(c) => c,
            Err(e) => return fail(e),
        };
        println!(
            "Textback demo — {} on the built-in simulator at {}",
            cfg.business.name,
            sim.base_url()
        );
        println!("Demo data: {}  (Ctrl-C to stop)\n", dir.display());
        let engine = Engine::new(
            Arc::new(cfg),
            store,
            Arc::new(client),
            Arc::new(SystemClock),
            sim.account_sid(),
        );
        let mut events = engine.subscribe();
        let running = engine.start();
        let scenario = sim.run_scenario(&Scenario::demo());
        let print = async {
            while let Ok(e) = events.recv().await {
                println!(
                    "{}  {}",
                    chrono::Local::now().format("%H:%M:%S"),
                    describe(&e)
                );
            }
        };
        tokio::select! {
            _ = stop_signal() => {}
            _ = print => {}
        }
        scenario.stop();
        running.shutdown().await;
        sim.shutdown().await;
        let _ = std::fs::remove_dir_all(&dir);
        println!("\nDemo stopped.");
        ExitCode::SUCCESS
    })
}

fn describe(e: &DomainEvent) -> String {
    match e {
        DomainEvent::CallMissed { caller, reason, .. } => {
            format!("Missed call from {caller}: {reason}")
        }
        DomainEvent::TextBackSent { to, .. } => format!("Texted back {to}"),
        DomainEvent::TextBackSkipped { reason, .. } => format!("No text-back: {reason}"),
        DomainEvent::LateTextBackOffered { .. } => {
            "Missed while offline: a late text-back is offered".into()
        }
        DomainEvent::SendFailed { reason, .. } => format!("Send failed: {reason}"),
        DomainEvent::MessageSent { .. } => "Reply sent".into(),
        DomainEvent::MessageReceived { from, preview, .. } => {
            format!("Text from {from}: {preview}")
        }
        DomainEvent::MessageStatus {
            status, error_code, ..
        } => match error_code {
            Some(c) => format!("Delivery: {status} (error {c})"),
            None => format!("Delivery: {status}"),
        },
        DomainEvent::OptedOut { phone, .. } => format!("{phone} opted out"),
        DomainEvent::OptedIn { phone } => format!("{phone} opted back in"),
        DomainEvent::ProviderAuthFailed { message } => format!("Credentials rejected: {message}"),
        DomainEvent::AccountBlocked { message, .. } => format!("Account cannot send: {message}"),
        DomainEvent::WentOffline { reason, .. } => format!("Offline: {reason}"),
        DomainEvent::WentOnline { .. } => "Back online".into(),
        DomainEvent::SendingResumed => "Sending resumed".into(),
        DomainEvent::ConversationChanged { conversation_id } => {
            format!("Conversation {conversation_id} updated")
        }
        DomainEvent::StorageProblem { message } => format!("Cannot save: {message}"),
        DomainEvent::StorageRecovered => "Saving works again".into(),
        DomainEvent::BackupMade { path } => format!("Backup made: {path}"),
        DomainEvent::BackupFailed { message } => format!("Backup failed: {message}"),
        DomainEvent::EscalationRaised { reason, .. } => format!("Escalated: {reason}"),
        DomainEvent::EscalationPaged { staff, summary, .. } => {
            format!("Paged {}: {summary}", staff.join(", "))
        }
        DomainEvent::EscalationAcknowledged { by, .. } => format!("Escalation taken by {by}"),
    }
}

/// One line of the doctor's report.
fn check(ok: bool, what: &str, detail: impl std::fmt::Display) -> bool {
    println!("{} {what}: {detail}", if ok { "ok  " } else { "FAIL" });
    ok
}

pub fn doctor(flag: Option<&Path>) -> ExitCode {
    let mut healthy = true;
    let path = config::resolve_path(flag, &env_var);
    let cfg = match Config::load(&path, &env_var) {
        Ok(c) => {
            check(
                true,
                "config",
                format!(
                    "{} {}",
                    path.display(),
                    if path.exists() {
                        "is valid"
                    } else {
                        "does not exist (defaults in use)"
                    }
                ),
            );
            c
        }
        Err(e) => {
            check(false, "config", e);
            return ExitCode::FAILURE;
        }
    };
    if !cfg.env_locked.is_empty() {
        check(true, "environment overrides", cfg.env_locked.join(", "));
    }
    healthy &= check(
        !cfg.numbers.is_empty(),
        "business numbers",
        if cfg.numbers.is_empty() {
            "none configured: add [[numbers]] number = \"+1...\"".to_owned()
        } else {
            cfg.numbers
                .iter()
                .map(|n| n.number.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        },
    );
    if cfg.engine.responder {
        check(
            true,
            "responder",
            "this process sends automatic text-backs (engine.responder = true)",
        );
    } else {
        check(
            false,
            "responder",
            "engine.responder = false: this desk will NOT text back missed callers; make sure exactly one other desk or daemon is the responder for each number",
        );
    }
    let data_dir = cfg.data_dir();
    let writable = std::fs::create_dir_all(&data_dir).and_then(|_| {
        let probe = data_dir.join(".write-test");
        std::fs::write(&probe, b"ok").and_then(|_| std::fs::remove_file(&probe))
    });
    healthy &= check(
        writable.is_ok(),
        "data dir",
        match &writable {
            Ok(()) => format!("{} is writable", data_dir.display()),
            Err(e) => format!("{}: {e}", data_dir.display()),
        },
    );
    let (auth, source) = match credentials::load(&env_var) {
        Ok((a, s)) => {
            check(
                true,
                "credentials",
                match s {
                    Source::Environment => "from TEXTBACK_TWILIO_* environment variables",
                    Source::Keychain => "from the OS keychain",
                },
            );
            (a, s)
        }
        Err(e) => {
            check(false, "credentials", e);
            return ExitCode::FAILURE;
        }
    };
    let _ = source;
    let account = auth.account_sid().to_owned();
    let db = data_dir.join(format!("textback-{account}.db"));
    if db.exists() {
        match Store::open(&db) {
            Ok(store) => {
                check(true, "database", db.display());
                // Evidence from the provider's log, as synced here: a fresh missed call that got
                // no text-back means no responder is running for the number.
                for n in &cfg.numbers {
                    let seen = store.read(|c| {
                        textback_store::calls::recent_missed_texted(
                            c,
                            n.number.as_str(),
                            chrono::Utc::now(),
                        )
                    });
                    if let Ok(Some(false)) = seen {
                        healthy &= check(
                            false,
                            &format!("responder for {}", n.number),
                            "the latest missed call got no text-back within 2 minutes: no responder seems to be running, so nothing is texted back",
                        );
                    }
                }
            }
            Err(e) => healthy &= check(false, "database", e),
        }
    }
    let client = match client(&cfg, auth) {
        Ok(c) => c,
        Err(e) => {
            check(false, "provider.api_base", e);
            return ExitCode::FAILURE;
        }
    };
    let ok = runtime().block_on(async {
        let t = std::time::Instant::now();
        let account_ok =
            match tokio::time::timeout(Duration::from_secs(20), client.check_credentials()).await {
                Ok(Ok(info)) => check(
                    true,
                    "provider",
                    format!(
                        "{} reached in {} ms; account {} is {}",
                        cfg.provider.api_base,
                        t.elapsed().as_millis(),
                        info.sid,
                        info.status
                    ),
                ),
                Ok(Err(e)) => check(false, "provider", e),
                Err(_) => check(
                    false,
                    "provider",
                    format!("{} did not answer within 20 s", cfg.provider.api_base),
                ),
            };
        if !account_ok {
            return false;
        }
        match client.list_numbers().await {
            Ok(owned) => {
                let mut all = true;
                for n in &cfg.numbers {
                    let found = owned.iter().find(|o| o.phone_number == n.number.as_str());
                    all &= check(
                        found.is_some_and(|o| o.sms_capable),
                        &format!("number {}", n.number),
                        match found {
                            Some(o) if o.sms_capable => "on the account and can send SMS",
                            Some(_) => "on the account but cannot send SMS",
                            None => "is not a number on this account",
                        },
                    );
                }
                all
            }
            Err(e) => check(false, "numbers on the account", e),
        }
    });
    if healthy && ok {
        println!("\nAll checks passed.");
        ExitCode::SUCCESS
    } else {
        println!("\nSome checks failed: see FAIL lines above.");
        ExitCode::FAILURE
    }
}

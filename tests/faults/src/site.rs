//! One installation of Textback in a temp dir: its config file, its data dir (database and
//! logs), the daemon process and the `textback reply` command, all pointed at a simulator on
//! 127.0.0.1.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use textback_sim::{Route, Sim};

use crate::bin;

/// The business number (the sim's default, SMS-capable).
pub const BUSINESS: &str = textback_sim::SimConfig::DEFAULT_NUMBER;

/// What a case changes in the config file.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `textback.freshness_limit`, e.g. "12s" (default "2h").
    pub freshness_limit: String,
    /// `provider.request_timeout`.
    pub request_timeout: String,
    /// Appended to the file as it is: sections the defaults leave out (`[followup]`, say).
    pub extra_toml: String,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            freshness_limit: "2h".into(),
            request_timeout: "5s".into(),
            extra_toml: String::new(),
        }
    }
}

/// A config file and data dir in a temp dir. Kept on disk (and its path printed) when the
/// test panics, so the daemon's log and database can be read afterwards.
#[derive(Debug)]
pub struct Site {
    dir: Option<tempfile::TempDir>,
    root: PathBuf,
    config: PathBuf,
    data: PathBuf,
    account: String,
    token: String,
    starts: usize,
    /// Environment variables for the daemon and commands beyond the clean set.
    env: Vec<(String, String)>,
}

impl Site {
    pub fn new(sim: &Sim, settings: &Settings) -> Site {
        let dir = tempfile::Builder::new()
            .prefix("textback-faults-")
            .tempdir()
            .expect("a temp dir for the installation");
        let root = dir.path().to_path_buf();
        let data = root.join("data");
        let config = root.join("textback.toml");
        // Open around the clock: the template does not depend on when the suite runs.
        let days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
            .iter()
            .map(|d| format!("{d} = \"00:00-24:00\"\n"))
            .collect::<String>();
        let text = format!(
            r#"[business]
name = "Faults Plumbing"
booking_link = "https://book.example.com/faults"
time_zone = "America/New_York"

[business.hours]
{days}
[[numbers]]
number = "{BUSINESS}"

[textback]
freshness_limit = "{fresh}"

[provider]
api_base = "{base}"
request_timeout = "{timeout}"

[engine]
responder = true
poll_interval = "1s"
data_dir = "{data}"

{extra}"#,
            fresh = settings.freshness_limit,
            base = sim.base_url(),
            timeout = settings.request_timeout,
            data = data.display(),
            extra = settings.extra_toml,
        );
        std::fs::write(&config, text).expect("the config file is written");
        Site {
            dir: Some(dir),
            root,
            config,
            data,
            account: sim.account_sid().to_owned(),
            token: sim.auth_token().to_owned(),
            starts: 0,
            env: Vec::new(),
        }
    }

    /// Gives every later start (and command) the variable `key`, e.g. `TEXTBACK_TEST_CLOCK`.
    pub fn set_env(&mut self, key: &str, value: &str) {
        self.env.retain(|(k, _)| k != key);
        self.env.push((key.to_owned(), value.to_owned()));
    }

    /// The daemon's database: `<data dir>/textback-<account>.db`.
    pub fn db_path(&self) -> PathBuf {
        self.data.join(format!("textback-{}.db", self.account))
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `textback --config <file> ARGS` with a clean environment: credentials in
    /// `TEXTBACK_TWILIO_*` (so no keychain is touched), `HOME` inside the temp dir (so nothing
    /// of the user's is read or written), nothing else inherited.
    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(bin::textback());
        cmd.arg("--config")
            .arg(&self.config)
            .args(args)
            .env_clear()
            .env("HOME", &self.root)
            .env("TEXTBACK_TWILIO_ACCOUNT_SID", &self.account)
            .env("TEXTBACK_TWILIO_AUTH_TOKEN", &self.token)
            .env(
                "TEXTBACK_LOG",
                std::env::var("TEXTBACK_FAULTS_LOG").unwrap_or_else(|_| "info".into()),
            )
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null());
        cmd
    }

    /// Starts `textback daemon` and waits until it has begun its first sync (a Calls list
    /// request reached the sim), so calls placed afterwards are after its watch started.
    pub async fn start(&mut self, sim: &Sim) -> Daemon {
        let before = sim.requests(Route::CallsList);
        let mut daemon = self.spawn();
        let first_sync = until(Duration::from_secs(20), || {
            sim.requests(Route::CallsList) > before || !daemon.running()
        })
        .await;
        assert!(
            first_sync.is_ok() && daemon.running(),
            "the daemon starts and polls within 20 s; see {}",
            self.log_path().display()
        );
        daemon
    }

    /// Starts `textback daemon` without waiting for anything (the network may be down).
    pub fn spawn(&mut self) -> Daemon {
        self.starts += 1;
        let mut log = File::options()
            .create(true)
            .append(true)
            .open(self.log_path())
            .expect("the daemon log opens");
        let _ = writeln!(log, "===== start {} =====", self.starts);
        let err = log.try_clone().expect("the daemon log handle clones");
        let child = self
            .command(&["daemon"])
            .stdout(Stdio::from(log))
            .stderr(Stdio::from(err))
            .spawn()
            .expect("textback daemon starts");
        Daemon {
            child,
            started: Instant::now(),
        }
    }

    /// The daemons' stdout and stderr, every start appended.
    pub fn log_path(&self) -> PathBuf {
        self.root.join("daemon.log")
    }

    /// The log of the latest start only.
    pub fn last_log(&self) -> String {
        let text = std::fs::read_to_string(self.log_path()).unwrap_or_default();
        let marker = format!("===== start {} =====", self.starts);
        text.rfind(&marker)
            .map_or(String::new(), |at| text[at..].to_owned())
    }

    /// Runs `textback reply --to <to> <body>` to completion (off the async threads).
    pub async fn reply(&self, to: &str, body: &str) -> Output {
        let mut cmd = self.command(&["reply", "--to", to, "--", body]);
        tokio::task::spawn_blocking(move || cmd.output())
            .await
            .expect("the reply command's thread finishes")
            .expect("textback reply runs")
    }
}

impl Drop for Site {
    fn drop(&mut self) {
        if std::thread::panicking()
            && let Some(dir) = self.dir.take()
        {
            let kept = dir.keep();
            eprintln!(
                "faults: kept {} (textback.toml, data/, daemon.log) for inspection",
                kept.display()
            );
        }
    }
}

/// A running `textback daemon`. Dropping it kills it.
#[derive(Debug)]
pub struct Daemon {
    child: Child,
    pub started: Instant,
}

impl Daemon {
    /// `kill -9`: SIGKILL, then reap it.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Still running (it has not exited or crashed).
    pub fn running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGSTOP: the process is frozen as on a laptop put to sleep (its sockets stay open, its
    /// timers run out meanwhile), until [`Daemon::thaw`].
    pub fn freeze(&self) {
        self.signal("-STOP");
    }

    /// SIGCONT after [`Daemon::freeze`]: the laptop wakes.
    pub fn thaw(&self) {
        self.signal("-CONT");
    }

    fn signal(&self, which: &str) {
        // NOTE: `kill(1)` rather than a libc binding: this crate's dependencies must match the
        // workspace's (see Cargo.toml), and a signal a second is not hot.
        let status = Command::new("kill")
            .args([which, &self.pid().to_string()])
            .status()
            .unwrap_or_else(|e| panic!("kill {which} runs: {e}"));
        assert!(
            status.success(),
            "kill {which} {} succeeds (the daemon is still there)",
            self.pid()
        );
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Polls `done` every 50 ms until it holds; Err after `limit`. How long it took.
pub async fn until(limit: Duration, mut done: impl FnMut() -> bool) -> Result<Duration, Duration> {
    let started = Instant::now();
    loop {
        if done() {
            return Ok(started.elapsed());
        }
        if started.elapsed() >= limit {
            return Err(started.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

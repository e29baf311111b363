//! The end-to-end harness: the real app binary in a real window, driven over WebDriver.
//!
//! It builds nothing. `scripts/e2e.sh` builds the UI and the app, then runs these tests inside
//! Xvfb, a private D-Bus session, an unlocked gnome-keyring and dunst, and sets
//! [`SESSION_ENV`]. Outside that session every test that needs the display, the bus or the
//! keychain prints why and passes without doing anything (see [`require_session!`]), so a plain
//! `cargo test --workspace` stays green on any machine.
//!
//! Adding a test: put it in a module of `tests/e2e/main.rs`, start it with
//! `require_session!()`, and drive the window through [`AppSession::start`]. Sessions run one at
//! a time (the app is single-instance); save screenshots with [`AppSession::screenshot`].

use std::net::{Ipv4Addr, SocketAddrV4, TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub use fantoccini;
use fantoccini::{Client, ClientBuilder};
use hyper_util::client::legacy::connect::HttpConnector;

/// Set (to `1`) by `scripts/e2e.sh` inside its Xvfb + D-Bus + keyring + dunst session.
pub const SESSION_ENV: &str = "TEXTBACK_E2E_SESSION";

/// Returns from the test, with a printed reason, unless it runs inside `scripts/e2e.sh`.
#[macro_export]
macro_rules! require_session {
    () => {
        if !$crate::in_session() {
            $crate::print_skip(concat!(module_path!(), ":", line!()));
            return;
        }
    };
}

/// Prints why a test is skipped, past the test harness's output capture (`eprintln!` from a
/// passing test is swallowed), so a plain `cargo test` shows it.
pub fn print_skip(test: &str) {
    use std::io::Write;
    let _ = writeln!(
        std::io::stderr(),
        "{test}: skipped: needs the display, D-Bus, keychain and notification daemon that \
         scripts/e2e.sh provides ({SESSION_ENV} is not set); run `bash scripts/e2e.sh`"
    );
}

pub fn in_session() -> bool {
    std::env::var_os(SESSION_ENV).is_some_and(|v| !v.is_empty())
}

pub type Error = Box<dyn std::error::Error + Send + Sync>;
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The repository root (tests run with their crate folder as working directory).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("the e2e crate lives two levels below the repository root")
}

/// The app binary: `TEXTBACK_APP_BIN`, else `<repo>/target/debug/textback-desktop`. Absolute,
/// because WebKitWebDriver starts it from its own working directory.
pub fn app_binary() -> Result<PathBuf> {
    let path = match std::env::var_os("TEXTBACK_APP_BIN") {
        Some(path) => PathBuf::from(path),
        None => repo_root().join("target/debug/textback-desktop"),
    };
    path.canonicalize().map_err(|error| {
        format!(
            "app binary {} not found ({error}); build it with \
             `cargo build -p textback-desktop --features custom-protocol` or set TEXTBACK_APP_BIN",
            path.display()
        )
        .into()
    })
}

/// Where screenshots go: `TEXTBACK_E2E_ARTIFACTS`, else `<repo>/artifacts/e2e`. Created.
pub fn artifacts_dir() -> Result<PathBuf> {
    let dir = match std::env::var_os("TEXTBACK_E2E_ARTIFACTS") {
        Some(dir) => PathBuf::from(dir),
        None => repo_root().join("artifacts/e2e"),
    };
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// A loopback port nobody listens on right now.
fn free_port() -> Result<u16> {
    let listener = TcpListener::bind(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 0))?;
    Ok(listener.local_addr()?.port())
}

fn port_is_free(port: u16) -> bool {
    TcpListener::bind(SocketAddrV4::new(Ipv4Addr::LOCALHOST, port)).is_ok()
}

/// Two distinct free ports for tauri-driver and the WebKitWebDriver behind it.
fn driver_ports() -> Result<(u16, u16)> {
    for _ in 0..20 {
        let (port, native_port) = (free_port()?, free_port()?);
        if port != native_port && port_is_free(port) && port_is_free(native_port) {
            return Ok((port, native_port));
        }
    }
    Err("no two free loopback ports for the WebDriver".into())
}

/// A running `tauri-driver` (and the WebKitWebDriver and app it starts), in a process group of
/// its own so that dropping it ends all of them, even when a test panics.
#[derive(Debug)]
pub struct Driver {
    child: Child,
    port: u16,
}

impl Driver {
    pub fn start() -> Result<Self> {
        Self::start_with_env(None)
    }

    /// Starts the driver with an environment for the app: tauri-driver has no `tauri:options`
    /// for environment variables, and the app inherits the driver's (through WebKitWebDriver).
    /// With `Some(vars)`, every inherited `TEXTBACK_*` variable is removed first, so the app
    /// sees exactly `vars` of its own settings.
    pub fn start_with_env(app_env: Option<&[(&str, String)]>) -> Result<Self> {
        let (port, native_port) = driver_ports()?;
        let program = std::env::var_os("TAURI_DRIVER").unwrap_or_else(|| "tauri-driver".into());
        let mut command = Command::new(&program);
        if let Some(vars) = app_env {
            for (key, _) in std::env::vars_os() {
                if key.to_string_lossy().starts_with("TEXTBACK_") {
                    command.env_remove(key);
                }
            }
            command.envs(vars.iter().map(|(k, v)| (k, v)));
        }
        let child = command
            .args(["--port", &port.to_string()])
            .args(["--native-port", &native_port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            // NOTE: its own group, so Drop can signal the driver, WebKitWebDriver and the app
            // together; killing tauri-driver alone leaves WebKitWebDriver running.
            .process_group(0)
            .spawn()
            .map_err(|error| {
                format!(
                    "could not start {program:?} ({error}); install it with \
                     `cargo install tauri-driver --locked`"
                )
            })?;
        let driver = Self { child, port };
        // NOTE: wait for WebKitWebDriver too: tauri-driver listens at once but answers a new
        // session by forwarding it to the native driver, and if that one is not up yet (a slow
        // first start on a loaded machine) it drops the connection ("IncompleteMessage").
        driver.wait_until_listening(port, Duration::from_secs(15))?;
        driver.wait_until_listening(native_port, Duration::from_secs(30))?;
        Ok(driver)
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn wait_until_listening(&self, port: u16, timeout: Duration) -> Result<()> {
        let deadline = Instant::now() + timeout;
        let addr = SocketAddrV4::new(Ipv4Addr::LOCALHOST, port);
        while Instant::now() < deadline {
            if TcpStream::connect_timeout(&addr.into(), Duration::from_millis(200)).is_ok() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Err(format!(
            "the WebDriver (tauri-driver or its WebKitWebDriver) did not listen on {addr} \
             within {timeout:?}"
        )
        .into())
    }

    fn signal_group(&self, signal: &str) {
        // `kill` the command: signalling a process group from Rust needs `unsafe` libc.
        let _ = Command::new("kill")
            .args([signal, "--", &format!("-{}", self.child.id())])
            .stderr(Stdio::null())
            .status();
    }

    /// Whether a live (not zombie) process is left in the driver's group.
    fn group_alive(&self) -> bool {
        let Ok(output) = Command::new("ps")
            .args(["-e", "-o", "pgid=,stat="])
            .output()
        else {
            return false;
        };
        let group = self.child.id().to_string();
        String::from_utf8_lossy(&output.stdout).lines().any(|line| {
            let mut fields = line.split_whitespace();
            fields.next() == Some(group.as_str()) && !fields.next().unwrap_or("Z").starts_with('Z')
        })
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        self.signal_group("-TERM");
        let _ = self.child.try_wait();
        // NOTE: wait for the whole group, not just tauri-driver: the next test's app would hand
        // over to a still-dying one (single instance) and exit at once.
        let gone = wait_for(Duration::from_secs(5), || {
            let _ = self.child.try_wait();
            (!self.group_alive()).then_some(())
        });
        if gone.is_none() {
            self.signal_group("-KILL");
        }
        let _ = self.child.wait();
    }
}

/// Only one app window at a time: the app is single-instance, so a second session's app would
/// hand over to the first and exit. An async lock: tests hold it across their awaits (each test
/// has its own runtime and thread, and a panicking test just releases it).
static ONE_APP: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The app running under WebDriver. Call [`AppSession::finish`] at the end; dropping it without
/// (a failed test) still ends the driver and the app.
#[derive(Debug)]
pub struct AppSession {
    pub client: Client,
    // Field order: the client goes before the driver, the lock last.
    driver: Driver,
    _one_app: tokio::sync::MutexGuard<'static, ()>,
}

impl AppSession {
    /// Starts tauri-driver and the app, and waits for its WebDriver session.
    pub async fn start() -> Result<Self> {
        Self::launch(None).await
    }

    /// Like [`AppSession::start`], with the app's `TEXTBACK_*` environment exactly `vars`
    /// (inherited `TEXTBACK_*` variables are not passed on), e.g. `TEXTBACK_CONFIG`,
    /// `TEXTBACK_DATA_DIR` and `TEXTBACK_TWILIO_*` pointing at a [`textback_sim::Sim`].
    pub async fn start_with_env(vars: &[(&str, String)]) -> Result<Self> {
        Self::launch(Some(vars)).await
    }

    async fn launch(app_env: Option<&[(&str, String)]>) -> Result<Self> {
        let one_app = ONE_APP.lock().await;
        let application = app_binary()?;
        let driver = Driver::start_with_env(app_env)?;
        let capabilities = serde_json::json!({
            "browserName": "wry",
            "tauri:options": { "application": application },
        });
        let serde_json::Value::Object(capabilities) = capabilities else {
            unreachable!("json! of an object literal is an object")
        };
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities)
            .connect(&driver.url())
            .await?;
        Ok(Self {
            client,
            driver,
            _one_app: one_app,
        })
    }

    /// Saves what the webview shows as `<artifacts>/<name>.png`.
    pub async fn screenshot(&self, name: &str) -> Result<PathBuf> {
        let png = self.client.screenshot().await?;
        let path = artifacts_dir()?.join(format!("{name}.png"));
        std::fs::write(&path, png)?;
        Ok(path)
    }

    /// Ends the WebDriver session, then the driver and the app.
    pub async fn finish(self) -> Result<()> {
        let Self { client, driver, .. } = self;
        let closed = client.close().await;
        drop(driver);
        closed?;
        Ok(())
    }
}

/// Saves the whole X display (window frame and all, as a person would see it) as
/// `<artifacts>/<name>.png`, with ImageMagick's `import`.
pub fn display_screenshot(name: &str) -> Result<PathBuf> {
    let path = artifacts_dir()?.join(format!("{name}.png"));
    let status = Command::new("import")
        .args(["-window", "root"])
        .arg(&path)
        .status()?;
    if !status.success() {
        return Err(format!("`import -window root` failed: {status}").into());
    }
    Ok(path)
}

/// Polls `check` every 100 ms until it returns `Some` or `timeout` passes.
pub fn wait_for<T>(timeout: Duration, mut check: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = check() {
            return Some(value);
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The async twin of [`wait_for`], for checks that talk to the WebDriver: awaits `check`
/// every 100 ms until it returns `Some` or `timeout` passes (then returns the last `None`).
pub async fn poll<T, F, Fut>(timeout: Duration, mut check: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if let Some(value) = check().await {
            return Some(value);
        }
        if tokio::time::Instant::now() >= deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Runs a command and returns its stdout; an error carries its stderr.
pub fn run(program: &str, args: &[&str]) -> Result<String> {
    let output = Command::new(program).args(args).output()?;
    if !output.status.success() {
        return Err(format!(
            "`{program} {}` failed ({}): {}",
            args.join(" "),
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        )
        .into());
    }
    Ok(String::from_utf8(output.stdout)?)
}

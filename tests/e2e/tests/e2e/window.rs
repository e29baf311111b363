//! The app window over WebDriver: it opens, shows the UI, and the security config holds.

use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value;
use textback_e2e::fantoccini::Locator;
use textback_e2e::{AppSession, app_binary, display_screenshot, require_session, wait_for};

const UI_TIMEOUT: Duration = Duration::from_secs(20);

async fn start_and_wait_for_ui() -> AppSession {
    let app = AppSession::start()
        .await
        .expect("the app should start under tauri-driver");
    app.client
        .wait()
        .at_most(UI_TIMEOUT)
        .for_element(Locator::Css("#app > *"))
        .await
        .expect("the UI should mount something into its #app root");
    app
}

#[tokio::test]
async fn main_window_opens_and_shows_the_ui() {
    require_session!();
    let app = start_and_wait_for_ui().await;

    let title = app.client.title().await.expect("the page has a title");
    assert!(
        title.contains("Textback"),
        "the embedded UI (ui/dist or the placeholder) is titled Textback, got {title:?}"
    );
    let (_, _, width, height) = app
        .client
        .get_window_rect()
        .await
        .expect("the window reports its size");
    assert!(
        width >= 960 && height >= 640,
        "the window must open at least at its minimum size 960x640, got {width}x{height}"
    );

    let shot = app
        .screenshot("main-window")
        .await
        .expect("webview screenshot");
    let display = display_screenshot("main-window-display").expect("display screenshot");
    eprintln!("screenshots: {} {}", shot.display(), display.display());
    app.finish().await.expect("the session ends cleanly");
}

/// The capability grants individual commands only: what is listed works, the rest is denied.
#[tokio::test]
async fn ipc_allows_only_the_granted_commands() {
    require_session!();
    let app = start_and_wait_for_ui().await;

    let outcome = app
        .client
        .execute_async(
            r#"
            const done = arguments[arguments.length - 1];
            const tauri = window.__TAURI_INTERNALS__;
            const attempt = (cmd, args) => tauri.invoke(cmd, args).then(
                () => "allowed",
                (e) => "denied: " + (typeof e === "string" ? e : JSON.stringify(e)));
            Promise.all([
                attempt("plugin:event|listen", {
                    event: "textback://events",
                    target: { kind: "Any" },
                    handler: tauri.transformCallback(() => {}),
                }),
                attempt("plugin:window|set_title", { label: "main", value: "not granted" }),
                attempt("plugin:updater|check", { timeout: 3000 }),
            ]).then(done);
            "#,
            vec![],
        )
        .await
        .expect("the IPC probe script runs");
    let outcome: Vec<String> = serde_json::from_value(outcome).expect("three outcomes");

    assert_eq!(
        outcome[0], "allowed",
        "core:event:allow-listen is granted so the UI can receive textback://events"
    );
    assert!(
        outcome[1].contains("not allowed"),
        "window commands are not granted to the UI, so set_title must be refused: {:?}",
        outcome[1]
    );
    assert!(
        !outcome[2].contains("not allowed"),
        "updater:allow-check is granted; the check may fail offline but must not be refused: {:?}",
        outcome[2]
    );
    app.finish().await.expect("the session ends cleanly");
}

/// The CSP keeps the page to its own origin: remote images and fetches are blocked.
#[tokio::test]
async fn csp_blocks_remote_hosts() {
    require_session!();
    let app = start_and_wait_for_ui().await;

    let violations = app
        .client
        .execute_async(
            r#"
            const done = arguments[arguments.length - 1];
            const seen = [];
            document.addEventListener("securitypolicyviolation", (e) => {
                seen.push(e.effectiveDirective);
                if (seen.length === 2) done(seen.sort());
            });
            const img = document.createElement("img");
            img.src = "https://example.com/pixel.png";
            document.body.appendChild(img);
            fetch("https://example.com/data.json").catch(() => {});
            setTimeout(() => done(seen.sort()), 5000);
            "#,
            vec![],
        )
        .await
        .expect("the CSP probe script runs");
    assert_eq!(
        violations,
        Value::from(vec!["connect-src", "img-src"]),
        "a remote image and a remote fetch must both be blocked by the CSP: all network goes through Rust"
    );
    app.finish().await.expect("the session ends cleanly");
}

/// A second launch hands over to the running app and exits instead of opening a second window.
#[tokio::test]
async fn a_second_launch_hands_over_to_the_first() {
    require_session!();
    let app = start_and_wait_for_ui().await;

    let mut second = Command::new(app_binary().expect("app binary"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the second instance starts");
    let exited = wait_for(Duration::from_secs(15), || second.try_wait().ok().flatten());
    if exited.is_none() {
        let _ = second.kill();
        let _ = second.wait();
    }
    let status = exited.expect("the second instance must exit once it handed over");
    assert!(
        status.success(),
        "handing over is a normal exit, got {status}"
    );
    let title = app.client.title().await;
    assert!(
        title.is_ok(),
        "the first instance keeps running after the hand-over: {title:?}"
    );
    app.finish().await.expect("the session ends cleanly");
}

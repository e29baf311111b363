//! The settings screens in the real app: Settings → Staff & rota shows who is on shift now and
//! the week, from the rota in the config file (demo mode; no provider needed).

use std::path::Path;
use std::time::Duration;

use serde_json::Value;
use textback_e2e::fantoccini::{Client, Locator};
use textback_e2e::{AppSession, poll, require_session};

const UI_TIMEOUT: Duration = Duration::from_secs(30);

/// Dana works around the clock every day, so whenever the test runs she is on now; Eli works
/// nights, which the week view shows as overnight shifts.
const CONFIG: &str = r#"
[business]
name = "Acme Plumbing"
time_zone = "America/New_York"

[[staff]]
name = "Dana"
role = "owner"

[[staff]]
name = "Eli"

[shifts]
on_call = "Eli"
rota = [
  { who = "Dana", days = "daily", hours = "00:00-24:00" },
  { who = "Eli", days = "mon-fri", hours = "22:00-06:00" },
]
"#;

fn path_str(p: &Path) -> String {
    p.to_str().expect("temp paths are UTF-8").to_owned()
}

async fn click(client: &Client, locator: Locator<'_>, step: &str) {
    client
        .wait()
        .at_most(UI_TIMEOUT)
        .for_element(locator)
        .await
        .unwrap_or_else(|e| panic!("{step}: the control must be on screen: {e}"))
        .click()
        .await
        .unwrap_or_else(|e| panic!("{step}: the control must take a click: {e}"));
}

/// What the rota screen shows.
async fn rota_screen(client: &Client) -> Value {
    let js = r#"
        const line = document.querySelector('[data-testid="on-shift-now"]');
        const days = [...document.querySelectorAll('[data-testid="week-day"]')];
        return {
            line: line?.textContent ?? null,
            visible: !!line && line.getBoundingClientRect().height > 0,
            days: days.length,
            today: days.filter((d) => d.getAttribute('aria-current') === 'date')
                .map((d) => [...d.querySelectorAll('[data-testid="week-shift"]')].map((s) => s.dataset.who)),
            overnight: document.querySelectorAll('[data-testid="week-shift"][data-overnight="true"][data-who="Eli"]').length,
            error: document.querySelector('[data-testid="roster-error"]')?.textContent ?? null,
        };
    "#;
    client
        .execute(js, vec![])
        .await
        .expect("the rota probe runs")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rota_screen_shows_who_is_on_shift_now() {
    require_session!();
    let dir = tempfile::tempdir().expect("a temp dir");
    let config = dir.path().join("textback.toml");
    std::fs::write(&config, CONFIG).expect("the config is written");
    let app = AppSession::start_with_env(&[
        ("TEXTBACK_CONFIG", path_str(&config)),
        ("TEXTBACK_DATA_DIR", path_str(&dir.path().join("data"))),
    ])
    .await
    .expect("the app starts under tauri-driver");
    let client = &app.client;

    click(
        client,
        Locator::XPath("//nav//button[normalize-space()='Settings']"),
        "open settings",
    )
    .await;
    click(
        client,
        Locator::Css("[data-testid='settings-tab-rota']"),
        "open Staff & rota",
    )
    .await;
    let ready = poll(UI_TIMEOUT, || async {
        let s = rota_screen(client).await;
        (s["line"].is_string() && s["days"] == 7).then_some(s)
    })
    .await;
    let screen = match ready {
        Some(s) => s,
        None => panic!(
            "the rota screen must show the on-shift line and a 7-day week within {UI_TIMEOUT:?}; it shows {:#}",
            rota_screen(client).await
        ),
    };
    let line = screen["line"].as_str().unwrap_or_default();
    assert!(
        line.starts_with("On shift now: ") && line.contains("Dana"),
        "Dana's rota covers every hour, so the screen must say she is on now: {line:?} ({screen:#})"
    );
    assert_eq!(
        screen["visible"], true,
        "the on-shift line must be visible, not just in the DOM"
    );
    assert!(
        screen["today"][0]
            .as_array()
            .is_some_and(|who| who.iter().any(|w| w == "Dana")),
        "today's column must list Dana: {screen:#}"
    );
    assert_eq!(
        screen["overnight"], 5,
        "Eli's five weeknight shifts (Mon-Fri 22:00-06:00) each show as overnight on the day they start: {screen:#}"
    );
    app.screenshot("settings-rota")
        .await
        .expect("screenshot of the rota screen");
    app.finish().await.expect("the session ends cleanly");
}

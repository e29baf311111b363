//! Desktop alerts through the real notification daemon (dunst, started by scripts/e2e.sh).

use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;
use textback_desktop_lib::alerts::{self, Alert, Shown};
use textback_e2e::{require_session, run, wait_for};

fn dunstctl(args: &[&str]) -> String {
    run("dunstctl", args).expect("dunstctl talks to the dunst in this session")
}

fn displayed() -> u32 {
    dunstctl(&["count", "displayed"])
        .trim()
        .parse()
        .expect("a count")
}

/// The history entries as (appname, summary, body).
fn history() -> Vec<(String, String, String)> {
    let json: Value = serde_json::from_str(&dunstctl(&["history"])).expect("history is JSON");
    let field = |entry: &Value, name: &str| entry[name]["data"].as_str().unwrap_or("").to_owned();
    json["data"][0]
        .as_array()
        .map(|entries| {
            entries
                .iter()
                .map(|e| (field(e, "appname"), field(e, "summary"), field(e, "body")))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn an_alert_is_shown_and_a_click_opens_its_conversation() {
    require_session!();
    dunstctl(&["close-all"]);
    let before = displayed();

    let (clicked, opened) = mpsc::channel();
    let alert = Alert {
        title: "New text from +1 555 0100".to_owned(),
        body: "Can you come <b>Tuesday</b> & fix the sink?".to_owned(),
        conversation_id: Some(42),
    };
    let shown = alerts::show(&alert, move |id| {
        let _ = clicked.send(id);
    })
    .expect("the notification daemon takes the alert");
    assert_eq!(
        shown,
        Shown::ClickOpens,
        "with free watcher places the alert reports clicks"
    );

    let appeared = wait_for(Duration::from_secs(5), || {
        (displayed() > before).then_some(())
    });
    assert!(
        appeared.is_some(),
        "the alert must be on screen (dunstctl count displayed went up)"
    );

    // A click on the notification is dunst's "action" on the newest one.
    dunstctl(&["action", "0"]);
    let opened = opened.recv_timeout(Duration::from_secs(5));
    assert_eq!(
        opened,
        Ok(42),
        "clicking the alert must report its conversation id so the shell opens it"
    );

    dunstctl(&["close-all"]);
    let entry = wait_for(Duration::from_secs(5), || {
        history()
            .into_iter()
            .find(|(_, summary, _)| summary == "New text from +1 555 0100")
    })
    .expect("the closed alert is in dunst's history");
    assert_eq!(
        entry.0,
        alerts::APP_NAME,
        "alerts are grouped under the app's name"
    );
    assert!(
        entry.2.contains("<b>Tuesday</b>") || entry.2.contains("&lt;b&gt;Tuesday&lt;/b&gt;"),
        "the SMS text reaches the daemon as text, its tags escaped rather than rendered: {:?}",
        entry.2
    );
}

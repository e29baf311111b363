//! The inbox against a simulated phone provider: the real app in live mode on a
//! `textback_sim::Sim` in this process (missed call → text-back → reply → alert → answer →
//! search → booked → hostile text), and demo mode with no provider at all.
//!
//! The live flow is one app launch with named steps (a launch costs seconds, and each step
//! builds on the previous one's conversation); assertion messages name the step.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value;
use textback_e2e::fantoccini::{Client, Locator};
use textback_e2e::{AppSession, poll, require_session, run};
use textback_sim::{CallScript, LegScript, Route, Sim, SimConfig};

const BUSINESS: &str = "+15005550006";
/// The caller whose conversation the live flow follows.
const CALLER: &str = "+15125550123";
const CALLER_SHOWN: &str = "(512) 555-0123";
/// A second missed caller, so that search has something to leave out and the first
/// conversation can be off screen when its reply arrives.
const OTHER: &str = "+15125550177";
const OTHER_SHOWN: &str = "(512) 555-0177";
const FORWARD_TO: &str = "+15125550100";

const UI_TIMEOUT: Duration = Duration::from_secs(30);
/// Sim → sync (1 s poll) → store → event → window, with slack for a loaded CI machine.
const LIVE_TIMEOUT: Duration = Duration::from_secs(30);

const CUSTOMER_TEXT: &str = "Can you come at 3?";
const REPLY_TEXT: &str = "Yes, 3pm works. The tech is Kumquat, see you then!";
const SEARCH_TERM: &str = "kumquat";
const HOSTILE_TEXT: &str = "<img src=x onerror=alert(1)> <script>window.__pwned=1</script>";

/// What the inbox list shows, row by row.
#[derive(Debug, Clone)]
struct Row {
    id: i64,
    name: String,
    snippet: String,
    unread: u64,
    lead: Option<String>,
}

async fn rows(client: &Client) -> Vec<Row> {
    let js = r#"
        return [...document.querySelectorAll('[data-testid="conversation-row"]')].map((r) => ({
            id: Number(r.dataset.conversationId),
            name: r.querySelector('.name')?.textContent ?? '',
            snippet: r.querySelector('.snippet')?.textContent ?? '',
            unread: Number(r.querySelector('.count')?.textContent ?? 0),
            lead: r.querySelector('[data-testid="lead-badge"]')?.dataset.leadState ?? null,
        }));
    "#;
    let value = client
        .execute(js, vec![])
        .await
        .expect("the row probe runs");
    value
        .as_array()
        .expect("an array of rows")
        .iter()
        .map(|r| Row {
            id: r["id"].as_i64().expect("rows carry data-conversation-id"),
            name: r["name"].as_str().unwrap_or_default().to_owned(),
            snippet: r["snippet"].as_str().unwrap_or_default().to_owned(),
            unread: r["unread"].as_u64().unwrap_or(0),
            lead: r["lead"].as_str().map(str::to_owned),
        })
        .collect()
}

async fn row_named(client: &Client, shown: &str) -> Option<Row> {
    rows(client).await.into_iter().find(|r| r.name == shown)
}

/// What the open thread shows (`Value::Null` when no thread pane is there).
async fn thread(client: &Client) -> Value {
    let js = r#"
        const t = document.querySelector('[data-testid="thread"]');
        if (!t) return null;
        const items = [...t.querySelectorAll('[data-testid="timeline-item"]')];
        return {
            title: t.querySelector('h2')?.textContent ?? '',
            lead: t.querySelector('header [data-testid="lead-badge"]')?.dataset.leadState ?? null,
            calls: items.filter((i) => i.dataset.kind === 'call').map((i) => ({
                outcome: i.querySelector('[data-testid="call-outcome"]')?.dataset.outcome ?? null,
                label: i.querySelector('[data-testid="call-outcome"]')?.textContent ?? '',
                decision: i.querySelector('[data-testid="textback-decision"]')?.dataset.decision ?? null,
            })),
            messages: items.filter((i) => i.dataset.kind === 'message').map((i) => ({
                body: i.querySelector('[data-testid="message-body"]')?.textContent ?? null,
                status: i.querySelector('[data-testid="message-status"]')?.dataset.status ?? null,
            })),
            replyReady: !!t.querySelector('[data-testid="reply-input"]:not([disabled])'),
        };
    "#;
    client
        .execute(js, vec![])
        .await
        .expect("the thread probe runs")
}

/// The thread once it shows `shown`'s conversation.
async fn thread_of(client: &Client, shown: &str) -> Option<Value> {
    let t = thread(client).await;
    (t["title"].as_str() == Some(shown)).then_some(t)
}

fn messages_with_body<'a>(thread: &'a Value, body: &str) -> Vec<&'a Value> {
    thread["messages"]
        .as_array()
        .map(|ms| {
            ms.iter()
                .filter(|m| m["body"].as_str() == Some(body))
                .collect()
        })
        .unwrap_or_default()
}

async fn click(client: &Client, css: &str, step: &str) {
    client
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{step}: `{css}` must be on screen: {e}"))
        .click()
        .await
        .unwrap_or_else(|e| panic!("{step}: `{css}` must take a click: {e}"));
}

async fn open_row(client: &Client, id: i64, shown: &str, step: &str) -> Value {
    click(
        client,
        &format!("[data-testid='conversation-row'][data-conversation-id='{id}']"),
        step,
    )
    .await;
    poll(UI_TIMEOUT, || thread_of(client, shown))
        .await
        .unwrap_or_else(|| panic!("{step}: clicking the row must open {shown}'s thread"))
}

fn dunstctl(args: &[&str]) -> String {
    run("dunstctl", args).expect("dunstctl talks to the dunst in this session")
}

/// (summary, body) of every notification in dunst's history.
fn alert_history() -> Vec<(String, String)> {
    let json: Value = serde_json::from_str(&dunstctl(&["history"])).expect("history is JSON");
    json["data"][0]
        .as_array()
        .map(|entries| {
            entries
                .iter()
                .map(|e| {
                    let field = |n: &str| e[n]["data"].as_str().unwrap_or("").to_owned();
                    (field("summary"), field("body"))
                })
                .collect()
        })
        .unwrap_or_default()
}

fn displayed_alerts() -> u32 {
    dunstctl(&["count", "displayed"])
        .trim()
        .parse()
        .expect("a count")
}

fn sent_to(sim: &Sim, to: &str) -> Vec<String> {
    sim.sent_messages()
        .into_iter()
        .filter(|m| m.to == to)
        .map(|m| m.body)
        .collect()
}

fn path_str(p: &Path) -> String {
    p.to_str().expect("temp paths are UTF-8").to_owned()
}

fn lap(started: Instant, step: &str) {
    eprintln!("inbox e2e: {step} done at {:.1?}", started.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missed_call_is_texted_back_and_worked_from_the_inbox() {
    require_session!();
    let started = Instant::now();
    let sim = Sim::start(SimConfig::default())
        .await
        .expect("the simulator starts");
    let dir = tempfile::tempdir().expect("a temp dir");
    let config = dir.path().join("textback.toml");
    std::fs::write(
        &config,
        format!(
            "[business]\nname = \"Acme Plumbing\"\nbooking_link = \"https://acme.example/book\"\n\n\
             [[numbers]]\nnumber = \"{BUSINESS}\"\n"
        ),
    )
    .expect("the config is written");
    let app = AppSession::start_with_env(&[
        ("TEXTBACK_CONFIG", path_str(&config)),
        ("TEXTBACK_DATA_DIR", path_str(&dir.path().join("data"))),
        ("TEXTBACK_TWILIO_ACCOUNT_SID", sim.account_sid().to_owned()),
        ("TEXTBACK_TWILIO_AUTH_TOKEN", sim.auth_token().to_owned()),
        ("TEXTBACK_TWILIO_API_BASE", sim.base_url()),
    ])
    .await
    .expect("the app starts under tauri-driver");
    let client = &app.client;

    // --- Setup: the inbox is up, in live mode, and the engine has started watching. --------
    client
        .wait()
        .at_most(UI_TIMEOUT)
        .for_element(Locator::Css("[data-testid='search-input']"))
        .await
        .expect("setup: the inbox (its search box) must show");
    let demo = client
        .find_all(Locator::Css("[data-testid='demo-banner']"))
        .await
        .expect("banner lookup");
    assert!(
        demo.is_empty(),
        "setup: config + TEXTBACK_TWILIO_* credentials must start live mode, not the demo"
    );
    // Calls that start before the first sync are history and never texted: wait until the
    // engine has polled calls twice (the watch start is recorded before the first poll).
    let watching = poll(UI_TIMEOUT, || async {
        (sim.requests(Route::CallsList) >= 2).then_some(())
    })
    .await;
    assert!(
        watching.is_some(),
        "setup: the app must poll the simulator's Calls.json (live mode against the sim)"
    );
    lap(started, "setup");

    // --- Step 1: a missed call shows up live with its text-back. ----------------------------
    for caller in [CALLER, OTHER] {
        sim.place_call(CallScript::inbound(
            caller,
            BUSINESS,
            Some(Duration::from_millis(200)),
            vec![LegScript::no_answer(FORWARD_TO)],
        ));
    }
    let (row, other_row) = poll(LIVE_TIMEOUT, || async {
        Some((
            row_named(client, CALLER_SHOWN).await?,
            row_named(client, OTHER_SHOWN).await?,
        ))
    })
    .await
    .unwrap_or_else(|| {
        panic!("step 1 (missed call): rows for both missed callers must appear without a reload")
    });
    let text_back = tokio::time::timeout(
        LIVE_TIMEOUT,
        sim.wait_message(|m| m.to == CALLER && m.direction.starts_with("outbound")),
    )
    .await
    .expect("step 1 (missed call): the simulator must receive a text-back to the caller")
    .body;
    assert!(
        text_back.contains("https://acme.example/book"),
        "step 1 (missed call): the text-back uses the configured booking link: {text_back:?}"
    );
    open_row(client, row.id, CALLER_SHOWN, "step 1 (missed call)").await;
    let shown = poll(LIVE_TIMEOUT, || async {
        let t = thread_of(client, CALLER_SHOWN).await?;
        let texted = t["calls"]
            .as_array()?
            .iter()
            .any(|c| c["decision"] == "send");
        (texted && !messages_with_body(&t, &text_back).is_empty()).then_some(t)
    })
    .await;
    let Some(t) = shown else {
        panic!(
            "step 1 (missed call): the thread must show the call texted back and the text-back \
             message {text_back:?}; it shows {:#}",
            thread(client).await
        )
    };
    let call = &t["calls"][0];
    assert!(
        call["label"].as_str().unwrap_or("").starts_with("Missed"),
        "step 1 (missed call): the call outcome reads as missed: {call}"
    );
    assert_eq!(
        sent_to(&sim, CALLER),
        vec![text_back.clone()],
        "step 1 (missed call): the simulator must receive exactly one SMS to the caller"
    );
    app.screenshot("inbox-live")
        .await
        .expect("screenshot of the inbox");
    lap(started, "step 1");

    // --- Step 2: the customer's reply arrives live and raises an alert. ---------------------
    // Look at the other conversation so this one's reply stays unread.
    open_row(client, other_row.id, OTHER_SHOWN, "step 2 (reply arrives)").await;
    let before = row_named(client, CALLER_SHOWN)
        .await
        .expect("the row is there");
    assert_eq!(
        before.unread, 0,
        "step 2 (reply arrives): the conversation was read when opened in step 1"
    );
    let displayed_before = displayed_alerts();
    sim.inbound_sms(CALLER, BUSINESS, CUSTOMER_TEXT);
    let updated = poll(LIVE_TIMEOUT, || async {
        row_named(client, CALLER_SHOWN)
            .await
            .filter(|r| r.snippet.contains(CUSTOMER_TEXT) && r.unread > 0)
    })
    .await;
    assert!(
        updated.is_some(),
        "step 2 (reply arrives): without a reload the caller's row must show the reply and an \
         unread badge; rows: {:?}",
        rows(client).await
    );
    // The alert: in dunst's history, or on screen (then closed into the history to read it).
    let alerted = poll(LIVE_TIMEOUT, || async {
        let found = |h: Vec<(String, String)>| {
            h.iter()
                .any(|(s, b)| s.starts_with("Text from") && b.contains(CUSTOMER_TEXT))
        };
        if found(alert_history()) {
            return Some(());
        }
        if displayed_alerts() > displayed_before {
            dunstctl(&["close-all"]);
            return found(alert_history()).then_some(());
        }
        None
    })
    .await;
    assert!(
        alerted.is_some(),
        "step 2 (reply arrives): a desktop alert \"Text from …\" with the reply must be shown; \
         dunst history: {:?}",
        alert_history()
    );
    lap(started, "step 2");

    // --- Step 3: the user answers; the provider gets exactly that text. ---------------------
    open_row(client, row.id, CALLER_SHOWN, "step 3 (reply)").await;
    let input = client
        .find(Locator::Css("[data-testid='reply-input']"))
        .await
        .expect("step 3 (reply): the reply box is there");
    input
        .send_keys(REPLY_TEXT)
        .await
        .expect("step 3 (reply): the reply box takes typing");
    click(client, "[data-testid='reply-send']", "step 3 (reply)").await;
    let sent = poll(LIVE_TIMEOUT, || async {
        let to_caller = sent_to(&sim, CALLER);
        to_caller
            .iter()
            .any(|b| b == REPLY_TEXT)
            .then_some(to_caller)
    })
    .await
    .unwrap_or_else(|| {
        panic!(
            "step 3 (reply): the simulator must receive the typed reply; it got {:?}",
            sent_to(&sim, CALLER)
        )
    });
    assert_eq!(
        sent,
        vec![text_back.clone(), REPLY_TEXT.to_owned()],
        "step 3 (reply): the caller gets the one text-back and then exactly the typed reply, once"
    );
    // Shown once, also after sync imports the sent message from the provider's log and its
    // delivery status arrives (the sim delivers after 1 s).
    let delivered = poll(LIVE_TIMEOUT, || async {
        let t = thread_of(client, CALLER_SHOWN).await?;
        let shown = messages_with_body(&t, REPLY_TEXT);
        (shown.len() == 1 && shown[0]["status"] == "delivered").then_some(())
    })
    .await;
    assert!(
        delivered.is_some(),
        "step 3 (reply): the reply must show once in the thread and reach \"delivered\"; the \
         thread shows {:#}",
        thread(client).await["messages"]
    );
    app.screenshot("thread-live")
        .await
        .expect("screenshot of the thread");
    lap(started, "step 3");

    // --- Step 4: search finds the conversation by its text. ---------------------------------
    let search = client
        .find(Locator::Css("[data-testid='search-input']"))
        .await
        .expect("step 4 (search): the search box is there");
    search
        .send_keys(SEARCH_TERM)
        .await
        .expect("step 4 (search): the search box takes typing");
    let found = poll(LIVE_TIMEOUT, || async {
        let r = rows(client).await;
        (r.len() == 1 && r[0].id == row.id).then_some(())
    })
    .await;
    assert!(
        found.is_some(),
        "step 4 (search): searching {SEARCH_TERM:?} must leave only {CALLER_SHOWN}'s \
         conversation (its reply contains it, {OTHER_SHOWN}'s does not); rows: {:?}",
        rows(client).await
    );
    search
        .send_keys("\u{E00C}")
        .await
        .expect("step 4 (search): Escape clears the search");
    let cleared = poll(LIVE_TIMEOUT, || async {
        (rows(client).await.len() >= 2).then_some(())
    })
    .await;
    assert!(
        cleared.is_some(),
        "step 4 (search): Escape in the search box must bring every conversation back"
    );
    lap(started, "step 4");

    // --- Step 5: marking booked updates the list. -------------------------------------------
    click(client, "[data-testid='mark-booked']", "step 5 (booked)").await;
    let value_input = client
        .wait()
        .at_most(UI_TIMEOUT)
        .for_element(Locator::Css("dialog[open] input"))
        .await
        .expect("step 5 (booked): the job value dialog opens");
    value_input
        .send_keys("250")
        .await
        .expect("step 5 (booked): the job value takes typing");
    click(
        client,
        "dialog[open] button[type='submit']",
        "step 5 (booked)",
    )
    .await;
    let booked = poll(LIVE_TIMEOUT, || async {
        let r = row_named(client, CALLER_SHOWN).await?;
        (r.lead.as_deref() == Some("booked")).then_some(())
    })
    .await;
    assert!(
        booked.is_some(),
        "step 5 (booked): the row's lead badge must show booked; rows: {:?}",
        rows(client).await
    );
    let still = row_named(client, OTHER_SHOWN).await;
    assert_ne!(
        still.and_then(|r| r.lead),
        Some("booked".to_owned()),
        "step 5 (booked): only the open conversation is marked booked"
    );
    lap(started, "step 5");

    // --- Step 6: hostile text is shown as text and runs nothing. ----------------------------
    sim.inbound_sms(CALLER, BUSINESS, HOSTILE_TEXT);
    let shown = poll(LIVE_TIMEOUT, || async {
        let t = thread_of(client, CALLER_SHOWN).await?;
        (!messages_with_body(&t, HOSTILE_TEXT).is_empty()).then_some(())
    })
    .await;
    assert!(
        shown.is_some(),
        "step 6 (hostile text): the thread must show the SMS's literal text as its message body; \
         it shows {:#}",
        thread(client).await["messages"]
    );
    let probe = client
        .execute(
            r#"
            const t = document.querySelector('[data-testid="thread"]');
            return {
                inThread: t.querySelectorAll('img, script').length,
                injected: document.querySelectorAll('img[src="x"], img[onerror]').length,
                pwned: typeof window.__pwned,
            };
            "#,
            vec![],
        )
        .await
        .expect("step 6 (hostile text): the DOM probe runs");
    assert_eq!(
        probe["inThread"], 0,
        "step 6 (hostile text): no <img>/<script> element may exist in the thread: {probe}"
    );
    assert_eq!(
        probe["injected"], 0,
        "step 6 (hostile text): the SMS's <img> must not exist anywhere (row snippet included)"
    );
    assert_eq!(
        probe["pwned"], "undefined",
        "step 6 (hostile text): the SMS's <script> must never run"
    );
    let alert = client.get_alert_text().await;
    assert!(
        alert.is_err(),
        "step 6 (hostile text): no alert() dialog may be open, got {alert:?}"
    );
    lap(started, "step 6");

    // --- Finally: exactly once, after many sync passes. -------------------------------------
    assert_eq!(
        sent_to(&sim, CALLER),
        vec![text_back, REPLY_TEXT.to_owned()],
        "the caller got exactly one text-back and one reply over the whole run"
    );
    assert_eq!(
        sent_to(&sim, OTHER).len(),
        1,
        "the other missed caller got exactly one text-back"
    );
    app.finish().await.expect("the session ends cleanly");
    sim.shutdown().await;
    lap(started, "live inbox flow");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_no_provider_the_app_runs_the_demo() {
    require_session!();
    let started = Instant::now();
    let dir = tempfile::tempdir().expect("a temp dir");
    let app = AppSession::start_with_env(&[
        (
            "TEXTBACK_CONFIG",
            path_str(&dir.path().join("missing.toml")),
        ),
        ("TEXTBACK_DATA_DIR", path_str(&dir.path().join("data"))),
    ])
    .await
    .expect("the app starts under tauri-driver");
    let client = &app.client;
    let banner = client
        .wait()
        .at_most(UI_TIMEOUT)
        .for_element(Locator::Css("[data-testid='demo-banner']"))
        .await
        .expect("demo: with no config and no credentials the demo banner must show");
    assert!(
        banner.is_displayed().await.unwrap_or(false),
        "demo: the demo banner must be visible, not just in the DOM"
    );
    let row = poll(Duration::from_secs(60), || async {
        rows(client).await.into_iter().next()
    })
    .await;
    assert!(
        row.is_some(),
        "demo: the simulated calls must put a conversation in the inbox within 60 s"
    );
    app.screenshot("inbox-demo")
        .await
        .expect("screenshot of the demo inbox");
    app.finish().await.expect("the session ends cleanly");
    lap(started, "demo");
}

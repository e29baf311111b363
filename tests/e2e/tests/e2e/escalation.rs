//! A lead from missed call to escalation to "I've got it", in the real app against a simulated
//! provider: the reply nobody answers escalates after a few seconds (the config shortens the
//! rule), the person on shift is paged by text, the inbox flags the conversation, the thread
//! shows why and who was paged, and taking it stops the paging. Then the owner's results count
//! the call.
//!
//! One app launch with named steps; assertion messages name the step.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value;
use textback_e2e::fantoccini::{Client, Locator};
use textback_e2e::{AppSession, poll, require_session};
use textback_sim::{CallScript, LegScript, Route, Sim, SimConfig};

const BUSINESS: &str = "+15005550006";
const CALLER: &str = "+15125550142";
const CALLER_SHOWN: &str = "(512) 555-0142";
/// On shift around the clock (the rota below): paged by text.
const ON_SHIFT_PHONE: &str = "+15125550161";

const UI_TIMEOUT: Duration = Duration::from_secs(30);
const LIVE_TIMEOUT: Duration = Duration::from_secs(30);
/// Pages repeat this often until someone takes the escalation (the shortest the config allows).
const REPEAT_EVERY_SECS: u64 = 10;

fn path_str(p: &Path) -> String {
    p.to_str().expect("temp paths are UTF-8").to_owned()
}

fn lap(started: Instant, step: &str) {
    eprintln!("escalation e2e: {step} done at {:.1?}", started.elapsed());
}

/// Rows as the list shows them: id, name, lead state, escalated marker.
async fn rows(client: &Client) -> Vec<Value> {
    let js = r#"
        return [...document.querySelectorAll('[data-testid="conversation-row"]')].map((r) => ({
            id: Number(r.dataset.conversationId),
            name: r.querySelector('.name')?.textContent ?? '',
            lead: r.querySelector('[data-testid="lead-badge"]')?.dataset.leadState ?? null,
            escalated: !!r.querySelector('[data-testid="escalated-marker"]'),
        }));
    "#;
    let value = client
        .execute(js, vec![])
        .await
        .expect("the row probe runs");
    value.as_array().cloned().unwrap_or_default()
}

async fn row_of(client: &Client, shown: &str) -> Option<Value> {
    rows(client)
        .await
        .into_iter()
        .find(|r| r["name"].as_str() == Some(shown))
}

/// The open thread's escalation banner and lead activity (`Value::Null` without a thread).
async fn thread(client: &Client) -> Value {
    let js = r#"
        const t = document.querySelector('[data-testid="thread"]');
        if (!t) return null;
        const b = t.querySelector('[data-testid="escalation-banner"]');
        return {
            title: t.querySelector('h2')?.textContent ?? '',
            banner: b ? {
                state: b.dataset.state,
                reasons: [...b.querySelectorAll('[data-testid="escalation-reason"]')].map((r) => r.textContent),
                pages: [...b.querySelectorAll('[data-testid="escalation-page"]')].map((p) => p.textContent),
                taken: b.querySelector('[data-testid="escalation-taken"]')?.textContent ?? null,
            } : null,
            activity: [...t.querySelectorAll('[data-testid="activity"]')].map((a) => a.dataset.action),
        };
    "#;
    client
        .execute(js, vec![])
        .await
        .expect("the thread probe runs")
}

/// Clicks the filter chip labelled `label` (chips are buttons in the filter group).
async fn filter(client: &Client, label: &str, step: &str) {
    let clicked = client
        .execute(
            r#"
            const b = [...document.querySelectorAll('[aria-label="Filter conversations"] button')]
                .find((b) => b.textContent.trim() === arguments[0]);
            if (b) b.click();
            return !!b;
            "#,
            vec![Value::String(label.to_owned())],
        )
        .await
        .expect("the filter click runs");
    assert_eq!(
        clicked,
        Value::Bool(true),
        "{step}: the inbox offers a {label:?} filter"
    );
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

fn pages_to_on_shift(sim: &Sim) -> usize {
    sim.sent_messages()
        .iter()
        .filter(|m| m.to == ON_SHIFT_PHONE)
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missed_call_escalates_and_is_taken_in_the_app() {
    require_session!();
    let started = Instant::now();
    let sim = Sim::start(SimConfig::default())
        .await
        .expect("the simulator starts");
    let dir = tempfile::tempdir().expect("a temp dir");
    let config = dir.path().join("textback.toml");
    // Sam is on shift around the clock; a reply nobody answers escalates after 3 s, open or
    // closed, and pages repeat every 10 s until someone takes it.
    std::fs::write(
        &config,
        format!(
            "[business]\nname = \"Acme Plumbing\"\n\n\
             [[numbers]]\nnumber = \"{BUSINESS}\"\n\n\
             [[staff]]\nname = \"Dee\"\nrole = \"owner\"\n\n\
             [[staff]]\nname = \"Sam\"\nrole = \"staff\"\nphone = \"{ON_SHIFT_PHONE}\"\n\n\
             [[shifts.rota]]\nwho = \"Sam\"\ndays = \"daily\"\nhours = \"00:00-24:00\"\n\n\
             [escalation]\nrepeat_every = \"{REPEAT_EVERY_SECS}s\"\n\n\
             [escalation.unanswered]\nbusiness_hours = \"3s\"\nafter_hours = \"3s\"\n"
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
    // Who the app says took it: the desk's user (the shell names it after $USER).
    let desk_user = std::env::var("USER")
        .ok()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| "This desk".into());

    // --- Setup: live mode, watching the simulator. -----------------------------------------
    client
        .wait()
        .at_most(UI_TIMEOUT)
        .for_element(Locator::Css("[data-testid='search-input']"))
        .await
        .expect("setup: the inbox (its search box) must show");
    let watching = poll(UI_TIMEOUT, || async {
        (sim.requests(Route::CallsList) >= 2).then_some(())
    })
    .await;
    assert!(
        watching.is_some(),
        "setup: the app must poll the simulator's Calls.json (live mode against the sim)"
    );
    lap(started, "setup");

    // --- Step 1: a missed call is texted back; the caller replies and nobody answers. -------
    sim.place_call(CallScript::inbound(
        CALLER,
        BUSINESS,
        Some(Duration::from_millis(200)),
        vec![LegScript::no_answer("+15125550100")],
    ));
    tokio::time::timeout(
        LIVE_TIMEOUT,
        sim.wait_message(|m| m.to == CALLER && m.direction.starts_with("outbound")),
    )
    .await
    .expect("step 1 (missed call): the simulator must receive a text-back to the caller");
    sim.inbound_sms(CALLER, BUSINESS, "Can you come at 3?");
    lap(started, "step 1");

    // --- Step 2: three seconds on, it escalates: Sam is paged, the row is flagged. ----------
    let page = tokio::time::timeout(LIVE_TIMEOUT, sim.wait_message(|m| m.to == ON_SHIFT_PHONE))
        .await
        .expect("step 2 (escalated): the person on shift must be paged by text");
    assert!(
        page.direction.starts_with("outbound"),
        "step 2 (escalated): the page is sent from the business number: {page:?}"
    );
    let flagged = poll(LIVE_TIMEOUT, || async {
        row_of(client, CALLER_SHOWN)
            .await
            .filter(|r| r["escalated"] == true)
    })
    .await;
    let Some(row) = flagged else {
        panic!(
            "step 2 (escalated): the caller's row must show the escalated marker without a \
             reload; rows: {:?}",
            rows(client).await
        )
    };
    assert_eq!(
        row["lead"], "replied",
        "step 2 (escalated): the lead state chip says the caller replied: {row}"
    );
    filter(client, "Escalated", "step 2 (escalated)").await;
    let only = poll(UI_TIMEOUT, || async {
        let r = rows(client).await;
        (r.len() == 1 && r[0]["id"] == row["id"]).then_some(())
    })
    .await;
    assert!(
        only.is_some(),
        "step 2 (escalated): the escalated filter must show exactly this conversation; rows: {:?}",
        rows(client).await
    );
    lap(started, "step 2");

    // --- Step 3: the thread says why and who was paged. -------------------------------------
    let id = row["id"].as_i64().expect("rows carry their id");
    click(
        client,
        &format!("[data-testid='conversation-row'][data-conversation-id='{id}']"),
        "step 3 (thread)",
    )
    .await;
    let shown = poll(UI_TIMEOUT, || async {
        let t = thread(client).await;
        (t["title"] == CALLER_SHOWN && t["banner"]["state"] == "open").then_some(t)
    })
    .await
    .unwrap_or_else(|| {
        panic!("step 3 (thread): the thread must open with an open escalation banner")
    });
    let banner = &shown["banner"];
    assert!(
        banner["reasons"].as_array().is_some_and(|r| r
            .iter()
            .any(|r| r.as_str().unwrap_or("").contains("nobody has answered"))),
        "step 3 (thread): the banner says why: {banner}"
    );
    assert!(
        banner["pages"].as_array().is_some_and(|p| p
            .iter()
            .any(|p| p.as_str().unwrap_or("").contains("Sam (texted)"))),
        "step 3 (thread): the banner says Sam was paged by text: {banner}"
    );
    let activity = shown["activity"].as_array().cloned().unwrap_or_default();
    assert!(
        activity.contains(&Value::from("escalated"))
            && activity.contains(&Value::from("escalation_paged")),
        "step 3 (thread): the timeline shows the escalation and the page: {activity:?}"
    );
    app.screenshot("escalation-open")
        .await
        .expect("screenshot of the escalated thread");
    lap(started, "step 3");

    // --- Step 4: "I've got it" takes it; paging stops. --------------------------------------
    click(client, "[data-testid='escalation-ack']", "step 4 (taken)").await;
    let taken = poll(LIVE_TIMEOUT, || async {
        let t = thread(client).await;
        let acked = t["activity"]
            .as_array()
            .is_some_and(|a| a.contains(&Value::from("escalation_acknowledged")));
        (t["banner"]["state"] == "taken" && acked).then_some(t)
    })
    .await
    .unwrap_or_else(|| {
        panic!("step 4 (taken): the banner must say it was taken and the timeline must show it")
    });
    let line = taken["banner"]["taken"].as_str().unwrap_or("");
    assert!(
        line.contains(&format!("Taken by {desk_user}")),
        "step 4 (taken): the banner names who took it ({desk_user}): {line:?}"
    );
    let acked_at = Instant::now();
    let pages_at_ack = pages_to_on_shift(&sim);
    let left = poll(LIVE_TIMEOUT, || async {
        rows(client).await.is_empty().then_some(())
    })
    .await;
    assert!(
        left.is_some(),
        "step 4 (taken): a taken escalation leaves the escalated filter; rows: {:?}",
        rows(client).await
    );
    app.screenshot("escalation-taken")
        .await
        .expect("screenshot of the taken escalation");
    // Without the take, the next round would go out within REPEAT_EVERY_SECS.
    tokio::time::sleep(
        Duration::from_secs(REPEAT_EVERY_SECS + 3).saturating_sub(acked_at.elapsed()),
    )
    .await;
    assert_eq!(
        pages_to_on_shift(&sim),
        pages_at_ack,
        "step 4 (taken): no page goes out after the escalation was taken"
    );
    lap(started, "step 4");

    // --- Step 5: the owner's results count the call. ----------------------------------------
    click(client, "[data-testid='nav-results']", "step 5 (results)").await;
    let counted = poll(UI_TIMEOUT, || async {
        let v = client
            .execute(
                r#"return {
                    missed: document.querySelector('[data-testid="total-missed"]')?.textContent ?? null,
                    rows: document.querySelectorAll('[data-testid="results-table"] tbody tr').length,
                };"#,
                vec![],
            )
            .await
            .ok()?;
        (v["missed"] == "1").then_some(v)
    })
    .await;
    let Some(counted) = counted else {
        panic!("step 5 (results): the results must count the one missed call")
    };
    assert_eq!(
        counted["rows"], 28,
        "step 5 (results): the default period is the last 4 weeks, one row per day: {counted}"
    );
    app.screenshot("results")
        .await
        .expect("screenshot of the results");
    lap(started, "step 5");

    app.finish().await.expect("the session ends cleanly");
    sim.shutdown().await;
    lap(started, "escalation flow");
}

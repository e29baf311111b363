//! Scenarios: the built-in demo and reactive replies.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use textback_sim::{Scenario, ScenarioEvent};

use crate::common::{self, BIZ, PATIENCE};

#[test]
fn demo_has_the_calls_a_demo_needs() {
    let demo = Scenario::demo();
    assert_eq!(
        demo.name, "demo",
        "the built-in file parsed (a broken one falls back to an empty timeline)"
    );
    let calls: Vec<_> = demo
        .events
        .iter()
        .filter_map(|e| match e {
            ScenarioEvent::Call {
                at_secs,
                call,
                replies,
            } => Some((at_secs, call, replies)),
            ScenarioEvent::Sms { .. } => None,
        })
        .collect();
    assert!(calls.len() >= 4, "several calls in the first minute");
    assert!(
        calls.iter().all(|(at, _, _)| **at <= 60.0),
        "all within the first minute"
    );
    assert!(
        calls.iter().any(|(_, c, _)| c.voicemail),
        "one leaves a voicemail"
    );
    assert!(
        calls
            .iter()
            .any(|(_, c, _)| c.legs.iter().any(|l| l.outcome == "answered")),
        "one is answered"
    );
    assert!(
        calls.iter().any(|(_, c, _)| c.from == "+266696687"),
        "one is anonymous"
    );
    assert!(
        calls
            .iter()
            .any(|(_, _, r)| r.iter().any(|t| t.contains("kitchen sink"))),
        "callers reply to text-backs"
    );
    let repeat = demo.repeat.expect("the demo keeps going");
    assert!(
        (repeat.every_min_secs, repeat.every_max_secs) == (45.0, 90.0),
        "a new missed call every 45-90 s"
    );
}

#[tokio::test]
async fn replies_react_to_the_text_back_after_the_delay() {
    let h = common::start().await;
    let toml = r#"
        name = "reply"
        reply_delay_secs = 0.2
        [[event]]
        kind = "call"
        at_secs = 0
        from = "+15125550123"
        ring_secs = 0.01
        legs = [{ to = "+15125550199", outcome = "no-answer" }]
        replies = ["Yes please, the kitchen sink is leaking", "Can you come tomorrow morning?"]
    "#;
    let scenario = Scenario::from_toml(toml).expect("the scenario parses");
    let run = h.sim.run_scenario(&scenario);
    tokio::time::timeout(PATIENCE, run.finished())
        .await
        .expect("a timeline without repeat ends");
    let (calls, _) = h.list_all("/Calls.json?To=%2B15005550006", "calls").await;
    assert_eq!(calls.len(), 1, "the scenario placed its call");
    let sid = calls[0]["sid"].as_str().expect("sid").to_owned();
    tokio::time::timeout(PATIENCE, h.sim.wait_final(&sid))
        .await
        .expect("its ring ends");
    assert!(
        !h.sim.messages().iter().any(|m| m.direction == "inbound"),
        "no reply before the business texts: replies are reactive"
    );

    let texted = Instant::now();
    let (status, _) = h
        .send_sms(
            BIZ,
            "+15125550123",
            "Sorry we missed your call, how can we help?",
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "the text-back is sent");
    let reply = tokio::time::timeout(PATIENCE, h.sim.wait_message(|m| m.direction == "inbound"))
        .await
        .expect("the caller replies");
    assert!(
        texted.elapsed() >= Duration::from_millis(200),
        "not before the configured reply delay"
    );
    assert_eq!(
        reply.body, "Yes please, the kitchen sink is leaking",
        "the first scripted reply"
    );
    assert_eq!(
        (reply.from.as_str(), reply.to.as_str()),
        ("+15125550123", BIZ),
        "from the caller to the business"
    );

    h.send_sms(BIZ, "+15125550123", "Sure, what time?").await;
    let second = tokio::time::timeout(
        PATIENCE,
        h.sim.wait_message(|m| m.body.starts_with("Can you come")),
    )
    .await
    .expect("the second text gets the second reply");
    assert_eq!(second.direction, "inbound", "replies are inbound texts");
}

#[tokio::test]
async fn demo_plays_fast_and_stops_on_request() {
    let h = common::start().await;
    let mut demo = Scenario::demo();
    demo.time_scale = 0.001;
    let run = h.sim.run_scenario(&demo);
    // The last timed event is the customer's own text at 55 s (55 ms here).
    tokio::time::timeout(
        PATIENCE,
        h.sim.wait_message(|m| m.body.contains("furnace tune-up")),
    )
    .await
    .expect("the whole first minute plays");
    let (calls, _) = h.list_all("/Calls.json?To=%2B15005550006", "calls").await;
    assert!(
        calls.len() >= 5,
        "every scripted call was placed, got {}",
        calls.len()
    );
    assert!(!run.is_finished(), "the repeat tail keeps the demo going");
    run.stop();
    assert!(
        tokio::time::timeout(PATIENCE, run.finished()).await.is_ok(),
        "stop ends the tail"
    );
}

#[test]
fn broken_scenarios_are_refused_with_a_reason() {
    let bad_scale = "name = \"x\"\ntime_scale = 0\n";
    assert!(
        Scenario::from_toml(bad_scale).is_err(),
        "time_scale 0 would fire everything at once forever"
    );
    let bad_at =
        "name = \"x\"\n[[event]]\nkind = \"sms\"\nat_secs = -1\nfrom = \"+1\"\nbody = \"b\"\n";
    assert!(
        Scenario::from_toml(bad_at).is_err(),
        "negative offsets are not durations"
    );
    let bad_repeat = "name = \"x\"\n[repeat]\nevery_min_secs = 9\nevery_max_secs = 3\n";
    assert!(
        Scenario::from_toml(bad_repeat).is_err(),
        "min above max is refused"
    );
}

#[tokio::test]
async fn an_invalid_scenario_built_in_code_is_not_played() {
    let h = common::start().await;
    let mut demo = Scenario::demo();
    demo.time_scale = 0.0;
    let run = h.sim.run_scenario(&demo);
    tokio::time::timeout(PATIENCE, run.finished())
        .await
        .expect("an invalid scenario ends at once");
    let (calls, _) = h.list_all("/Calls.json", "calls").await;
    assert!(
        calls.is_empty(),
        "time_scale 0 would have placed calls in a tight loop; none were placed"
    );
}

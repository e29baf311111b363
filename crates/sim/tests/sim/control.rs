//! The `/_sim` control API, as another process would drive it.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::{self, BIZ, CUSTOMER, PATIENCE, json_of};

async fn post(h: &common::Harness, path: &str, body: Value) -> (StatusCode, Option<Value>) {
    let resp = h
        .http
        .post(format!("{}{path}", h.sim.base_url()))
        .json(&body)
        .send()
        .await
        .expect("the sim answers");
    let status = resp.status();
    let text = resp.text().await.expect("body arrives");
    (status, serde_json::from_str(&text).ok())
}

async fn get(h: &common::Harness, path: &str) -> Value {
    let resp = h
        .http
        .get(format!("{}{path}", h.sim.base_url()))
        .send()
        .await
        .expect("the sim answers");
    assert_eq!(resp.status(), StatusCode::OK, "GET {path} works");
    json_of(resp).await.1
}

#[tokio::test]
async fn calls_are_placed_and_ended_over_http() {
    let h = common::start().await;
    let health = get(&h, "/_sim/health").await;
    assert_eq!(
        health["account_sid"],
        h.sim.account_sid(),
        "health tells a separate process the credentials"
    );
    let (status, body) = post(
        &h,
        "/_sim/calls",
        json!({"from": CUSTOMER, "legs": [{"to": "+15125550199", "outcome": "no-answer"}], "voicemail": true}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "a call spec is accepted: {body:?}");
    let sid = body
        .and_then(|b| b["sid"].as_str().map(str::to_owned))
        .expect("the parent sid is returned");
    let (_, call) = h.get_json(&format!("/Calls/{sid}.json")).await;
    assert_eq!(call["to"], BIZ, "`to` defaults to the first owned number");
    assert_eq!(
        get(&h, &format!("/_sim/calls/{sid}/final")).await["final"],
        false,
        "no ring time: still ringing"
    );
    let (status, _) = post(&h, &format!("/_sim/calls/{sid}/end"), json!({})).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "ending is acknowledged");
    assert_eq!(
        get(&h, &format!("/_sim/calls/{sid}/final")).await["final"],
        true,
        "and the call is final"
    );
    let (_, recs) = h.get_json(&format!("/Calls/{sid}/Recordings.json")).await;
    assert_eq!(
        recs["recordings"].as_array().map(Vec::len),
        Some(1),
        "voicemail over the control API too"
    );

    let (status, body) = post(
        &h,
        "/_sim/calls",
        json!({"from": CUSTOMER, "legs": [{"to": "x", "outcome": "maybe"}]}),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "an unknown leg outcome is refused"
    );
    assert!(
        body.is_some_and(|b| b["error"].is_string()),
        "with an error message"
    );
}

#[tokio::test]
async fn texts_faults_and_switches_over_http() {
    let h = common::start().await;
    let (status, body) = post(&h, "/_sim/sms", json!({"from": CUSTOMER, "body": "STOP"})).await;
    assert_eq!(status, StatusCode::OK, "inbound sms accepted: {body:?}");
    assert!(
        h.sim.is_opted_out(CUSTOMER, BIZ),
        "the control API's STOP goes through keyword handling"
    );

    let (status, _) = post(
        &h,
        "/_sim/faults",
        json!({"route": "messages_create", "faults": [{"kind": "rate_limit", "retry_after": 1}]}),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "faults are queued");
    let (status, _) = h.send_sms(BIZ, "+15125550100", "hi").await;
    assert_eq!(
        status,
        StatusCode::TOO_MANY_REQUESTS,
        "the queued fault hits the next send"
    );
    let (status, _) = h.send_sms(BIZ, "+15125550100", "hi").await;
    assert_eq!(status, StatusCode::CREATED, "then sends work");
    let sent = get(&h, "/_sim/sent").await;
    assert_eq!(
        sent.as_array().map(Vec::len),
        Some(1),
        "the sent list has the one created message"
    );
    assert_eq!(sent[0]["body"], "hi", "with its body");
    assert_eq!(
        get(&h, "/_sim/message_requests").await["count"],
        2,
        "both attempts counted"
    );

    let (status, _) = post(
        &h,
        "/_sim/faults",
        json!({"route": "calls_list", "faults": [{"kind": "explode"}]}),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "unknown fault kinds are refused"
    );
    let (status, _) = post(&h, "/_sim/landline", json!({"number": "+15125550111"})).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "landline set");
    let (status, _) = h.send_sms(BIZ, "+15125550111", "hi").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "and enforced");
    let (status, _) = post(&h, "/_sim/revoked", json!({"revoked": true})).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "revocation set");
    let (status, _) = h.get_json(".json").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "and enforced");
    post(&h, "/_sim/revoked", json!({"revoked": false})).await;

    let (status, _) = post(
        &h,
        "/_sim/clock_offset",
        json!({"seconds": 9_000_000_000_000_000i64}),
    )
    .await;
    assert!(
        status.is_success() || status.is_client_error(),
        "an absurd clock offset is handled, got {status}"
    );
    let (status, _) = h.get_json("/Calls.json").await;
    assert_eq!(
        status,
        StatusCode::OK,
        "and the sim keeps serving (no overflow panic)"
    );
    h.sim.set_clock_offset(chrono::Duration::zero());

    let (status, _) = post(&h, "/_sim/scenario", json!({"toml": "name = \"tiny\"\n[[event]]\nkind = \"sms\"\nat_secs = 0\nfrom = \"+15125550321\"\nbody = \"hello\"\n"})).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "a TOML scenario starts");
    let m = tokio::time::timeout(PATIENCE, h.sim.wait_message(|m| m.from == "+15125550321"))
        .await
        .expect("its text arrives");
    assert_eq!(m.body, "hello", "the scenario's event played");
    let (status, _) = post(&h, "/_sim/scenario", json!({"toml": "not = [toml"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "broken TOML is refused");
}

#[tokio::test]
async fn the_clock_runs_at_a_scale_from_an_origin_like_the_daemons_test_clock() {
    let h = common::start().await;
    let hour = chrono::Duration::hours(1);
    let origin = chrono::Utc::now() - chrono::Duration::seconds(2);
    h.sim
        .set_clock_scale(origin, 3600.0)
        .expect("a finite positive scale is accepted");
    let ahead = h.sim.now() - origin;
    assert!(
        ahead >= hour * 2 && ahead < hour * 3,
        "two real seconds after the origin an hour-a-second clock reads about two hours on: {ahead}"
    );
    h.sim.set_clock_offset(-hour);
    let with_offset = h.sim.now() - origin;
    assert!(
        with_offset >= hour && with_offset < hour * 2,
        "the offset is added on top of the scaled reading: {with_offset}"
    );
    let (_, sent) = h.send_sms(BIZ, CUSTOMER, "stamped").await;
    let stamped = chrono::DateTime::parse_from_rfc2822(sent["date_created"].as_str().unwrap_or(""))
        .expect("the message carries an RFC 2822 date");
    assert!(
        stamped.with_timezone(&chrono::Utc) - origin >= hour - chrono::Duration::seconds(1),
        "time stamps (whole seconds) follow the scaled clock: {stamped}"
    );
    assert!(
        h.sim.set_clock_scale(origin, 0.0).is_err()
            && h.sim.set_clock_scale(origin, f64::NAN).is_err(),
        "a clock that stands still or has no pace is refused"
    );
    h.sim.set_clock_offset(chrono::Duration::zero());
    h.sim
        .set_clock_scale(origin, 1.0)
        .expect("scale 1 is real time again");
    let drift = (h.sim.now() - chrono::Utc::now()).num_milliseconds().abs();
    assert!(drift < 1000, "scale 1: the wall clock again ({drift} ms)");

    let (status, _) = post(
        &h,
        "/_sim/clock_scale",
        json!({"scale": 60, "origin": origin.to_rfc3339()}),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::NO_CONTENT,
        "the control API sets a scale"
    );
    let ahead = h.sim.now() - origin;
    assert!(
        ahead >= chrono::Duration::minutes(2) && ahead < hour,
        "at 60x, two-odd real seconds are two-odd minutes: {ahead}"
    );
    for bad in [
        json!({"scale": 0}),
        json!({"scale": -1}),
        json!({"scale": 1e300}),
        json!({"scale": 2, "origin": "yesterday"}),
    ] {
        let (status, body) = post(&h, "/_sim/clock_scale", bad.clone()).await;
        assert_eq!(
            status,
            StatusCode::BAD_REQUEST,
            "{bad} is refused with a reason: {body:?}"
        );
    }
    let (status, _) = post(&h, "/_sim/clock_scale", json!({"scale": 1})).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "scale 1 resets");
    let drift = (h.sim.now() - chrono::Utc::now()).num_milliseconds().abs();
    assert!(drift < 1000, "reset to the wall clock ({drift} ms)");
}

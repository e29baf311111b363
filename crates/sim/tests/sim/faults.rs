//! Injected faults, one per request, in order; revocation and a downed network.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use textback_sim::{Fault, Route};

use crate::common::{self, BIZ, CUSTOMER, assert_twilio_error, json_of};

#[tokio::test]
async fn rate_limit_then_normal_answers_in_order() {
    let h = common::start().await;
    h.sim.inject(
        Route::CallsList,
        vec![
            Fault::RateLimit {
                retry_after: Some(3),
            },
            Fault::RateLimit { retry_after: None },
        ],
    );
    let first = h.get("/Calls.json").await;
    assert_eq!(
        first
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok()),
        Some("3"),
        "Retry-After is sent when the fault has one"
    );
    let (status, body) = json_of(first).await;
    assert_twilio_error(
        status,
        &body,
        429,
        20429,
        "the first queued fault is a rate limit",
    );
    let second = h.get("/Calls.json").await;
    assert!(
        second.headers().get("retry-after").is_none(),
        "no Retry-After when the fault has none"
    );
    assert_eq!(
        second.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "the second fault applies to the second request"
    );
    let (status, _) = h.get_json("/Calls.json").await;
    assert_eq!(
        status,
        StatusCode::OK,
        "once the queue is empty the route answers normally"
    );
}

#[tokio::test]
async fn faults_only_hit_their_route_unless_any() {
    let h = common::start().await;
    h.sim
        .inject(Route::MessagesList, vec![Fault::ServerError(503)]);
    let (status, _) = h.get_json("/Calls.json").await;
    assert_eq!(
        status,
        StatusCode::OK,
        "a Messages fault leaves Calls alone"
    );
    let (status, body) = h.get_json("/Messages.json").await;
    assert_twilio_error(
        status,
        &body,
        503,
        20503,
        "the Messages list gets its 503 as Twilio JSON",
    );

    h.sim.inject(Route::Any, vec![Fault::ServerError(500)]);
    let (status, body) = h.get_json("/IncomingPhoneNumbers.json").await;
    assert_twilio_error(
        status,
        &body,
        500,
        20500,
        "an Any fault hits whichever route comes next",
    );
    let (status, _) = h.get_json("/IncomingPhoneNumbers.json").await;
    assert_eq!(status, StatusCode::OK, "and only once");
}

#[tokio::test]
async fn html_error_page_is_a_502_with_html() {
    let h = common::start().await;
    h.sim.inject(Route::Account, vec![Fault::HtmlError]);
    let resp = h.get(".json").await;
    assert_eq!(
        resp.status(),
        StatusCode::BAD_GATEWAY,
        "load balancer pages come as 502"
    );
    assert!(
        resp.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|c| c.starts_with("text/html")),
        "the body is HTML, not JSON"
    );
    let text = resp.text().await.expect("body arrives");
    assert!(
        serde_json::from_str::<serde_json::Value>(&text).is_err(),
        "the adapter must cope with non-JSON errors"
    );
}

#[tokio::test]
async fn truncated_json_is_a_200_that_does_not_parse() {
    let h = common::start().await;
    h.sim.place_call(textback_sim::CallScript::inbound(
        CUSTOMER,
        BIZ,
        None,
        vec![],
    ));
    h.sim.inject(Route::CallsList, vec![Fault::TruncatedJson]);
    let resp = h.get("/Calls.json").await;
    assert_eq!(resp.status(), StatusCode::OK, "the status line looks fine");
    let text = resp.text().await.expect("the (short) body arrives whole");
    assert!(!text.is_empty(), "something arrives");
    assert!(
        serde_json::from_str::<serde_json::Value>(&text).is_err(),
        "but it is cut-off JSON: {text}"
    );
}

#[tokio::test]
async fn delay_answers_late_but_normally() {
    let h = common::start().await;
    let delay = Duration::from_millis(150);
    h.sim.inject(Route::Account, vec![Fault::Delay(delay)]);
    let started = Instant::now();
    let (status, _) = h.get_json(".json").await;
    assert_eq!(
        status,
        StatusCode::OK,
        "a delayed answer is still the normal answer"
    );
    assert!(
        started.elapsed() >= delay,
        "and it arrives no sooner than the delay"
    );
}

#[tokio::test]
async fn hang_never_answers_so_the_client_times_out() {
    let h = common::start().await;
    h.sim.inject(Route::MessagesCreate, vec![Fault::Hang]);
    let impatient = reqwest::Client::builder()
        .timeout(Duration::from_millis(200))
        .build()
        .expect("client builds");
    let err = impatient
        .post(h.api("/Messages.json"))
        .basic_auth(h.sim.account_sid(), Some(h.sim.auth_token()))
        .form(&[("From", BIZ), ("To", CUSTOMER), ("Body", "hi")])
        .send()
        .await
        .expect_err("a hanging sim must not answer");
    assert!(err.is_timeout(), "the client sees a timeout: {err}");
    assert!(
        h.sim.sent_messages().is_empty(),
        "a hung request did not create a message"
    );
    assert_eq!(h.sim.message_requests(), 1, "but it counts as an attempt");
    let (status, _) = h.send_sms(BIZ, CUSTOMER, "hi").await;
    assert_eq!(status, StatusCode::CREATED, "the next request is served");
    // Shutdown must not wait forever for the hanging request.
    tokio::time::timeout(common::PATIENCE, h.sim.shutdown())
        .await
        .expect("shutdown ends hanging requests");
}

#[tokio::test]
async fn accept_then_fail_sends_the_message_but_answers_500() {
    let h = common::start().await;
    h.sim
        .inject(Route::MessagesCreate, vec![Fault::AcceptThenFail]);
    let (status, body) = h.send_sms(BIZ, CUSTOMER, "Sorry we missed you").await;
    assert_twilio_error(status, &body, 500, 20500, "the answer says failure");
    let sent = h.sim.sent_messages();
    assert_eq!(
        sent.len(),
        1,
        "yet the message was created: the outcome-unknown case"
    );
    let (list, _) = h
        .list_all(
            "/Messages.json?From=%2B15005550006&To=%2B15125550123",
            "messages",
        )
        .await;
    assert_eq!(list.len(), 1, "reconciliation by listing finds it");
    assert_eq!(list[0]["sid"], sent[0].sid.as_str(), "the same message");
}

#[tokio::test]
async fn auth_fault_is_a_single_401() {
    let h = common::start().await;
    h.sim.inject(Route::CallsRead, vec![Fault::Auth]);
    let (status, body) = h
        .get_json("/Calls/CAffffffffffffffffffffffffffffffff.json")
        .await;
    assert_twilio_error(
        status,
        &body,
        401,
        20003,
        "the injected 401 looks like bad credentials",
    );
    let (status, _) = h
        .get_json("/Calls/CAffffffffffffffffffffffffffffffff.json")
        .await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "the next request is authenticated normally"
    );
}

#[tokio::test]
async fn a_downed_network_refuses_connections_until_restored() {
    let h = common::start().await;
    let (status, _) = h.get_json(".json").await;
    assert_eq!(
        status,
        StatusCode::OK,
        "up at first (and a kept-alive connection now exists)"
    );
    h.sim.set_accepting(false);
    let err = h
        .http
        .get(h.api(".json"))
        .send()
        .await
        .expect_err("no answer while the network is down");
    assert!(
        !err.is_status(),
        "the failure is at the connection, not an HTTP status: {err}"
    );
    let fresh = reqwest::Client::new();
    assert!(
        fresh.get(h.api(".json")).send().await.is_err(),
        "new connections fail as well"
    );
    h.sim.set_accepting(true);
    let (status, _) = h.get_json(".json").await;
    assert_eq!(status, StatusCode::OK, "the network comes back");
}

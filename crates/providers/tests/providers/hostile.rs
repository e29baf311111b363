use std::time::Duration;

use base64::Engine as _;
use chrono::NaiveDate;
use serde_json::{Value, json};
use textback_domain::CallStatus;
use textback_providers::twilio::{TwilioAuth, TwilioClient};
use textback_providers::{Provider, ProviderError, Secret};

use crate::canned::{Canned, Recorded, Reply};
use crate::support::{business, customer};

const AC: &str = "AC0123456789abcdef0123456789abcdef";
const CALLS: &str = "/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Calls.json";

fn client(server: &Canned) -> TwilioClient {
    TwilioClient::new(
        server.base_url(),
        TwilioAuth::AuthToken {
            account_sid: AC.to_owned(),
            auth_token: Secret::new("canned-token"),
        },
        Duration::from_secs(5),
    )
    .expect("valid config")
}

fn call(sid: &str, status: &str) -> Value {
    json!({"sid": sid, "status": status, "direction": "inbound", "to": "+15005550006",
           "from": "+14155551001", "parent_call_sid": null, "duration": null})
}

fn page(calls: Vec<Value>, next: Option<String>) -> Reply {
    Reply::json(
        200,
        &json!({"calls": calls, "next_page_uri": next, "page_size": 100}),
    )
}

fn since() -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, 5, 1).expect("valid date")
}

#[tokio::test]
async fn the_query_and_credentials_go_out_as_twilio_expects() {
    let server = Canned::start(|_, _| page(vec![], None)).await;
    client(&server)
        .list_calls_to(&business(), since())
        .await
        .expect("an empty page is an empty list");
    let requests = server.requests();
    assert_eq!(requests.len(), 1, "one page, one request");
    let r = &requests[0];
    assert_eq!(r.method, "GET", "lists are GETs");
    let (path, query) = r
        .target
        .split_once('?')
        .expect("the filters travel in the query");
    assert_eq!(path, CALLS, "the account SID is in the path");
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(query).expect("the query is form-encoded");
    assert!(
        pairs.contains(&("StartTime>=".to_owned(), "2024-05-01".to_owned())),
        "the literal `StartTime>=` key (URL-encoded) carries the day: {query}"
    );
    assert!(
        pairs.contains(&("To".to_owned(), "+15005550006".to_owned())),
        "To is the E.164 number, '+' encoded: {query}"
    );
    assert!(
        pairs.contains(&("PageSize".to_owned(), "100".to_owned())),
        "100 a page keeps requests few: {query}"
    );
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{AC}:canned-token"))
    );
    assert_eq!(
        r.header("authorization"),
        Some(expected.as_str()),
        "HTTP Basic with SID:token"
    );
}

#[tokio::test]
async fn a_send_is_form_encoded() {
    let server = Canned::start(|_, _| {
        Reply::json(
            201,
            &json!({"sid": "SM1", "status": "queued", "direction": "outbound-api"}),
        )
    })
    .await;
    let sent = client(&server)
        .send_message(&business(), &customer(1), "Fish & chips = 100% 👍")
        .await
        .expect("201 with a message");
    assert_eq!(sent.sid.as_str(), "SM1", "the created sid is returned");
    let r = &server.requests()[0];
    assert_eq!(r.method, "POST", "a send is a POST");
    assert_eq!(
        r.header("content-type"),
        Some("application/x-www-form-urlencoded"),
        "Twilio only takes form bodies"
    );
    let form: Vec<(String, String)> =
        serde_urlencoded::from_bytes(&r.body).expect("the body is form-encoded");
    assert_eq!(
        form,
        [
            ("From".to_owned(), "+15005550006".to_owned()),
            ("To".to_owned(), customer(1).as_str().to_owned()),
            ("Body".to_owned(), "Fish & chips = 100% 👍".to_owned()),
        ],
        "From, To and Body survive encoding exactly"
    );
}

#[tokio::test]
async fn an_absolute_next_page_uri_never_takes_the_credentials_elsewhere() {
    let evil = Canned::start(|_, _| page(vec![], None)).await;
    let evil_next = format!("{}{CALLS}?Page=1", evil.base_url());
    let server =
        Canned::start(move |_, _| page(vec![call("CA1", "completed")], Some(evil_next.clone())))
            .await;
    let err = client(&server)
        .list_calls_to(&business(), since())
        .await
        .expect_err("the hostile link must not be followed");
    assert!(
        matches!(err, ProviderError::Malformed { .. }),
        "refused as malformed: {err:?}"
    );
    assert!(
        evil.requests().is_empty(),
        "the other server must never see a request (it would carry our credentials)"
    );
}

#[tokio::test]
async fn a_next_page_on_another_account_or_resource_is_refused() {
    for next in [
        "/2010-04-01/Accounts/ACffffffffffffffffffffffffffffffff/Calls.json?Page=1",
        "/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Messages.json?Page=1",
        "//evil.example/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Calls.json",
    ] {
        let next_owned = next.to_owned();
        let server = Canned::start(move |_, _| page(vec![], Some(next_owned.clone()))).await;
        let err = client(&server)
            .list_calls_to(&business(), since())
            .await
            .expect_err("refused");
        assert!(
            matches!(err, ProviderError::Malformed { .. }),
            "{next}: {err:?}"
        );
        assert_eq!(server.requests().len(), 1, "{next} must not be requested");
    }
}

#[tokio::test]
async fn endless_paging_stops_at_the_bound_with_a_clear_error() {
    let server = Canned::start(|_, n| {
        page(
            vec![call(&format!("CA{n}"), "completed")],
            Some(format!("{CALLS}?Page={}&PageToken=PA{n}", n + 1)),
        )
    })
    .await;
    let err = client(&server)
        .with_max_pages(5)
        .list_calls_to(&business(), since())
        .await
        .expect_err("a list that never ends is an error, not a hang");
    assert!(
        matches!(&err, ProviderError::Malformed { message } if message.contains("5 pages")),
        "the error names the bound: {err:?}"
    );
    assert_eq!(
        server.requests().len(),
        5,
        "exactly the bound's pages were fetched"
    );
}

#[tokio::test]
async fn a_next_page_loop_is_detected() {
    let server = Canned::start(|_, _| {
        page(
            vec![call("CA1", "completed")],
            Some(format!("{CALLS}?Page=1&PageToken=PACA1")),
        )
    })
    .await;
    let err = client(&server)
        .list_calls_to(&business(), since())
        .await
        .expect_err("a loop is an error");
    assert!(
        matches!(&err, ProviderError::Malformed { message } if message.contains("already read")),
        "the loop is named: {err:?}"
    );
    assert_eq!(
        server.requests().len(),
        2,
        "the repeated page is fetched once more, then refused"
    );
}

#[tokio::test]
async fn items_repeated_across_pages_are_kept_once_with_the_fresher_copy() {
    let server = Canned::start(|r: &Recorded, _| {
        if r.target.contains("Page=1") {
            page(vec![call("CA2", "completed"), call("CA3", "ringing")], None)
        } else {
            page(
                vec![call("CA1", "completed"), call("CA2", "ringing")],
                Some(format!("{CALLS}?PageSize=100&Page=1&PageToken=PACA2")),
            )
        }
    })
    .await;
    let calls = client(&server)
        .list_calls_to(&business(), since())
        .await
        .expect("two pages");
    let sids: Vec<&str> = calls.iter().map(|c| c.sid.as_str()).collect();
    assert_eq!(
        sids,
        ["CA1", "CA2", "CA3"],
        "each call once, in first-seen order"
    );
    assert_eq!(
        calls[1].status,
        CallStatus::Completed,
        "the later page's copy (fresher) replaces the earlier one"
    );
}

#[tokio::test]
async fn a_page_with_missing_fields_keeps_every_usable_call() {
    let server = Canned::start(|_, _| {
        Reply::json(
            200,
            &json!({
                "calls": [
                    call("CA1", "completed"),
                    {"status": "completed"},
                    {"sid": null},
                    {"sid": "CA2"},
                    {"sid": "CA3", "status": "teleported", "start_time": "yesterday-ish",
                     "duration": "n/a", "direction": 7, "to": null},
                    42
                ],
                "next_page_uri": null,
                "uri": null, "page": null
            }),
        )
    })
    .await;
    let calls = client(&server)
        .list_calls_to(&business(), since())
        .await
        .expect("bad items do not fail the page");
    let sids: Vec<&str> = calls.iter().map(|c| c.sid.as_str()).collect();
    assert_eq!(
        sids,
        ["CA1", "CA2", "CA3"],
        "the three items with a sid are kept"
    );
    assert_eq!(
        calls[2].status,
        CallStatus::Unknown("teleported".into()),
        "an unknown status is kept, not an error"
    );
    assert_eq!(calls[2].start_time, None, "an unparseable date is absent");
    assert_eq!(
        calls[2].duration_secs, None,
        "an unparseable duration is absent"
    );
}

#[tokio::test]
async fn a_huge_page_is_read_and_an_oversized_one_refused() {
    let big: Vec<Value> = (0..1000)
        .map(|n| call(&format!("CA{n}"), "completed"))
        .collect();
    let body = json!({"calls": big, "next_page_uri": null});
    let size = body.to_string().len();
    let server = Canned::start(move |_, _| Reply::json(200, &body)).await;
    let calls = client(&server)
        .list_calls_to(&business(), since())
        .await
        .expect("a 1,000-call page is within the default cap");
    assert_eq!(calls.len(), 1000, "every call of a large page is read");

    let err = client(&server)
        .with_max_body_bytes(size - 1)
        .list_calls_to(&business(), since())
        .await
        .expect_err("one byte over the cap");
    assert!(
        matches!(&err, ProviderError::Malformed { message } if message.contains("larger than")),
        "an oversized read is refused, not buffered: {err:?}"
    );
}

#[tokio::test]
async fn an_oversized_answer_to_a_send_is_outcome_unknown() {
    let server =
        Canned::start(|_, _| Reply::json(201, &json!({"sid": "SM1", "body": "x".repeat(10_000)})))
            .await;
    let err = client(&server)
        .with_max_body_bytes(1024)
        .send_message(&business(), &customer(1), "hi")
        .await
        .expect_err("answer too large");
    assert!(
        matches!(err, ProviderError::OutcomeUnknown { .. }),
        "the 201 said created; we just could not read it: {err:?}"
    );
}

#[tokio::test]
async fn a_created_message_without_a_sid_is_outcome_unknown() {
    let server = Canned::start(|_, _| Reply::json(201, &json!({"status": "queued"}))).await;
    let err = client(&server)
        .send_message(&business(), &customer(1), "hi")
        .await
        .expect_err("no sid to track");
    assert!(
        matches!(err, ProviderError::OutcomeUnknown { .. }),
        "something was created but we cannot tell what: {err:?}"
    );
}

#[tokio::test]
async fn an_invalid_to_from_twilio_is_permanent() {
    let server = Canned::start(|_, _| {
        Reply::json(
            400,
            &json!({"code": 21211, "message": "The 'To' number +1555 is not a valid phone number.",
                    "more_info": "https://www.twilio.com/docs/errors/21211", "status": 400}),
        )
    })
    .await;
    let err = client(&server)
        .send_message(&business(), &customer(1), "hi")
        .await
        .expect_err("400");
    assert!(
        matches!(err, ProviderError::Permanent { code: 21211, .. }),
        "21211 is permanent for this number: {err:?}"
    );
    assert!(
        err.to_string().contains("not a valid phone number"),
        "Twilio's words are kept: {err}"
    );
}

#[tokio::test]
async fn a_redirect_is_not_followed() {
    let evil = Canned::start(|_, _| page(vec![], None)).await;
    let location = format!("{}{CALLS}", evil.base_url());
    let server = Canned::start(move |_, _| Reply {
        status: 302,
        headers: vec![("Location".into(), location.clone())],
        body: Vec::new(),
    })
    .await;
    let err = client(&server)
        .list_calls_to(&business(), since())
        .await
        .expect_err("a redirect is not an answer");
    assert!(
        matches!(err, ProviderError::Malformed { .. }),
        "unexpected redirect: {err:?}"
    );
    assert!(
        evil.requests().is_empty(),
        "credentials never follow a redirect"
    );
}

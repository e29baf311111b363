//! Messages: creation and its error codes, delivery progress, listing, STOP/START/HELP.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;

use crate::common::{self, BIZ, CUSTOMER, PATIENCE, assert_twilio_error, keys, set};

const MESSAGE_FIELDS: &[&str] = &[
    "body",
    "num_segments",
    "direction",
    "from",
    "to",
    "date_updated",
    "price",
    "error_message",
    "uri",
    "account_sid",
    "num_media",
    "status",
    "messaging_service_sid",
    "sid",
    "date_sent",
    "date_created",
    "error_code",
    "price_unit",
    "api_version",
    "subresource_uris",
];

#[tokio::test]
async fn post_creates_a_queued_message_that_gets_delivered() {
    let h = common::start().await;
    h.sim.set_delivery_delay(Duration::from_millis(40));
    let (status, m) = h
        .send_sms(BIZ, CUSTOMER, "Sorry we missed your call!")
        .await;
    assert_eq!(
        status,
        StatusCode::CREATED,
        "Twilio answers 201 to a created message: {m}"
    );
    assert_eq!(
        keys(&m),
        set(MESSAGE_FIELDS),
        "every field of api.v2010.account.message is present"
    );
    assert_eq!(m["status"], "queued", "a new message starts queued");
    assert_eq!(
        m["direction"], "outbound-api",
        "REST-created messages are outbound-api"
    );
    assert_eq!(m["num_segments"], "1", "num_segments is a string");
    assert_eq!(m["num_media"], "0", "num_media is a string");
    assert_eq!(m["error_code"], Value::Null, "no error yet");
    let sid = m["sid"].as_str().expect("sid").to_owned();
    assert!(
        sid.len() == 34 && sid.starts_with("SM") && sid[2..].bytes().all(|b| b.is_ascii_hexdigit()),
        "sid is SM + 32 hex: {sid}"
    );
    let sent = h.sim.sent_messages();
    assert_eq!(sent.len(), 1, "the POST is recorded");
    assert_eq!(
        (
            sent[0].sid.as_str(),
            sent[0].to.as_str(),
            sent[0].body.as_str()
        ),
        (sid.as_str(), CUSTOMER, "Sorry we missed your call!"),
        "with its fields"
    );
    assert_eq!(h.sim.message_requests(), 1, "one attempt so far");

    let delivered = tokio::time::timeout(
        PATIENCE,
        h.sim
            .wait_message(|x| x.sid == sid && x.status == "delivered"),
    )
    .await
    .expect("the message is delivered after the delivery delay");
    assert_eq!(
        delivered.error_code, None,
        "delivered messages carry no error"
    );
    let (status, fetched) = h.get_json(&format!("/Messages/{sid}.json")).await;
    assert_eq!(status, StatusCode::OK, "single message fetch: {fetched}");
    assert_eq!(
        fetched["status"], "delivered",
        "polling the message shows the new status"
    );
}

#[tokio::test]
async fn undeliverable_numbers_end_undelivered_with_their_code() {
    let h = common::start().await;
    h.sim.set_delivery_delay(Duration::from_millis(10));
    h.sim.set_undeliverable(CUSTOMER, 30006);
    let (status, m) = h.send_sms(BIZ, CUSTOMER, "Hi").await;
    assert_eq!(
        status,
        StatusCode::CREATED,
        "the send itself is accepted: {m}"
    );
    let sid = m["sid"].as_str().expect("sid").to_owned();
    let done = tokio::time::timeout(
        PATIENCE,
        h.sim
            .wait_message(|x| x.sid == sid && x.status == "undelivered"),
    )
    .await
    .expect("delivery fails after the delay");
    assert_eq!(
        done.error_code,
        Some(30006),
        "the configured carrier error is reported"
    );
    let (_, fetched) = h.get_json(&format!("/Messages/{sid}.json")).await;
    assert_eq!(
        fetched["error_code"], 30006,
        "error_code is an integer on the wire"
    );
    assert!(fetched["error_message"].is_string(), "with a message");
}

/// (form, HTTP status, Twilio code, why)
type RejectionCase<'a> = (Vec<(&'a str, &'a str)>, u16, u64, &'a str);

#[tokio::test]
async fn every_rejection_has_its_twilio_code() {
    let h = common::start().await;
    let long = "x".repeat(1601);
    h.sim.set_landline("+15125550111");
    h.sim.opt_out(CUSTOMER, BIZ);
    let cases: Vec<RejectionCase> = vec![
        (
            vec![("From", BIZ), ("Body", "hi")],
            400,
            21604,
            "To is required",
        ),
        (
            vec![("To", CUSTOMER), ("Body", "hi")],
            400,
            21603,
            "From is required",
        ),
        (
            vec![("From", BIZ), ("To", "+15125550100")],
            400,
            21602,
            "Body is required",
        ),
        (
            vec![("From", BIZ), ("To", "+15125550100"), ("Body", &long)],
            400,
            21617,
            "Body over 1600 chars",
        ),
        (
            vec![("From", BIZ), ("To", "5125550100"), ("Body", "hi")],
            400,
            21211,
            "To without + is not E.164",
        ),
        (
            vec![("From", BIZ), ("To", "+1512abc0100"), ("Body", "hi")],
            400,
            21211,
            "To with letters",
        ),
        (
            vec![
                ("From", "+15125550999"),
                ("To", "+15125550100"),
                ("Body", "hi"),
            ],
            400,
            21606,
            "From not owned",
        ),
        (
            vec![("From", BIZ), ("To", "+15125550111"), ("Body", "hi")],
            400,
            21614,
            "To is a landline",
        ),
        (
            vec![("From", BIZ), ("To", CUSTOMER), ("Body", "hi")],
            400,
            21610,
            "To opted out of this sender",
        ),
    ];
    for (form, status_want, code, why) in &cases {
        let (status, body) = h.send_form(form).await;
        assert_twilio_error(status, &body, *status_want, *code, why);
    }
    let exactly = "y".repeat(1600);
    let (status, _) = h.send_sms(BIZ, "+15125550100", &exactly).await;
    assert_eq!(
        status,
        StatusCode::CREATED,
        "exactly 1600 characters is allowed"
    );

    let resp = h
        .http
        .post(h.api("/Messages.json"))
        .basic_auth(h.sim.account_sid(), Some(h.sim.auth_token()))
        .json(&serde_json::json!({"From": BIZ, "To": "+15125550100", "Body": "hi"}))
        .send()
        .await
        .expect("the sim answers");
    let (status, body) = common::json_of(resp).await;
    assert_twilio_error(
        status,
        &body,
        415,
        20415,
        "JSON bodies are refused: the API is form-encoded",
    );

    assert_eq!(
        h.sim.message_requests(),
        cases.len() + 2,
        "every POST attempt is counted"
    );
    assert_eq!(
        h.sim.sent_messages().len(),
        1,
        "only the valid POST created a message"
    );
}

#[tokio::test]
async fn hostile_input_is_refused_without_breaking_the_sim() {
    let h = common::start().await;
    let auth =
        |r: reqwest::RequestBuilder| r.basic_auth(h.sim.account_sid(), Some(h.sim.auth_token()));
    let resp = auth(h.http.post(h.api("/Messages.json")))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(vec![0xff, 0xfe, b'=', 0x80, b'&', b'%', b'Z'])
        .send()
        .await
        .expect("the sim answers");
    assert!(
        resp.status().is_client_error(),
        "a non-UTF-8 form is a client error, got {}",
        resp.status()
    );
    let resp = auth(h.http.post(h.api("/Messages.json")))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(vec![b'a'; 300 * 1024])
        .send()
        .await
        .expect("the sim answers");
    assert!(
        resp.status().is_client_error(),
        "an oversized body is refused, got {}",
        resp.status()
    );
    let (status, _) = h.get_json("/Messages.json?To=%FF%FE&PageSize=%80").await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "a garbled PageSize is a 400"
    );
    let (status, _) = h.get_json("/Calls.json?%FF=%FE").await;
    assert_eq!(
        status,
        StatusCode::OK,
        "unknown (garbled) parameters are ignored"
    );
    let resp = auth(h.http.delete(h.api("/Messages.json")))
        .send()
        .await
        .expect("the sim answers");
    assert_eq!(
        resp.status(),
        StatusCode::METHOD_NOT_ALLOWED,
        "unsupported methods are 405"
    );
    let (status, _) = h.get_json(".json").await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the sim still serves after all that"
    );
}

#[tokio::test]
async fn messages_list_filters_and_pages_newest_first() {
    let h = common::start().await;
    let inbound = h.sim.inbound_sms(CUSTOMER, BIZ, "Is anyone there?");
    let mut outbound = Vec::new();
    for i in 0..5 {
        let (_, m) = h.send_sms(BIZ, CUSTOMER, &format!("reply {i}")).await;
        outbound.push(m["sid"].as_str().expect("sid").to_owned());
    }
    h.send_sms(BIZ, "+15125550100", "someone else").await;

    let (to_biz, _) = h
        .list_all("/Messages.json?To=%2B15005550006", "messages")
        .await;
    assert_eq!(to_biz.len(), 1, "To=business selects the inbound text");
    assert_eq!(
        to_biz[0]["sid"],
        inbound.as_str(),
        "which is the customer's"
    );
    assert_eq!(to_biz[0]["direction"], "inbound", "inbound direction");
    assert_eq!(
        to_biz[0]["status"], "received",
        "inbound messages are received"
    );

    let today = h.sim.now().date_naive();
    let rel = format!(
        "/Messages.json?From=%2B15005550006&To=%2B15125550123&DateSent>={today}&PageSize=2"
    );
    let (between, pages) = h.list_all(&rel, "messages").await;
    let sids: Vec<String> = between
        .iter()
        .map(|m| m["sid"].as_str().unwrap_or_default().to_owned())
        .collect();
    let newest_first: Vec<String> = outbound.iter().rev().cloned().collect();
    assert_eq!(
        sids, newest_first,
        "all five texts to the customer, newest first, across pages"
    );
    assert_eq!(pages.len(), 3, "five at two a page is three pages");
    assert!(
        pages[0]["next_page_uri"]
            .as_str()
            .is_some_and(|u| u.contains("DateSent%3E=")),
        "the date filter is kept on next pages, encoded as Twilio does: {}",
        pages[0]["next_page_uri"]
    );
    let tomorrow = today.succ_opt().expect("tomorrow exists");
    let (later, _) = h
        .list_all(&format!("/Messages.json?DateSent>={tomorrow}"), "messages")
        .await;
    assert!(later.is_empty(), "nothing was sent tomorrow");
    let (on_day, _) = h
        .list_all(&format!("/Messages.json?DateSent={today}"), "messages")
        .await;
    assert_eq!(on_day.len(), 7, "DateSent=today matches every message");
}

#[tokio::test]
async fn stop_opts_out_with_a_canned_reply_until_start() {
    let h = common::start().await;
    h.sim.set_delivery_delay(Duration::ZERO);
    let (status, _) = h.send_sms(BIZ, CUSTOMER, "We missed your call").await;
    assert_eq!(status, StatusCode::CREATED, "sending works before STOP");

    h.sim.inbound_sms(CUSTOMER, BIZ, "  sToP \n");
    assert!(
        h.sim.is_opted_out(CUSTOMER, BIZ),
        "a trimmed, case-insensitive STOP opts out"
    );
    let confirmation = h
        .sim
        .messages()
        .into_iter()
        .find(|m| m.direction == "outbound-reply")
        .expect("Twilio answers STOP with a confirmation");
    assert_eq!(
        (confirmation.from.as_str(), confirmation.to.as_str()),
        (BIZ, CUSTOMER),
        "from the business to the customer"
    );
    assert!(
        confirmation.body.contains("unsubscribed"),
        "the canned opt-out text"
    );
    assert_eq!(
        h.sim.sent_messages().len(),
        1,
        "canned replies are not POSTed messages"
    );

    let (status, body) = h.send_sms(BIZ, CUSTOMER, "One more thing").await;
    assert_twilio_error(
        status,
        &body,
        400,
        21610,
        "sends to an opted-out customer fail",
    );
    let (status, _) = h.send_sms(BIZ, "+15125550100", "Hello").await;
    assert_eq!(
        status,
        StatusCode::CREATED,
        "opt-out is per customer: others still get texts"
    );

    h.sim.inbound_sms(CUSTOMER, BIZ, "start");
    assert!(!h.sim.is_opted_out(CUSTOMER, BIZ), "START opts back in");
    assert!(
        h.sim
            .messages()
            .iter()
            .any(|m| m.body.contains("re-subscribed")),
        "with the canned START text"
    );
    let (status, _) = h.send_sms(BIZ, CUSTOMER, "Welcome back").await;
    assert_eq!(
        status,
        StatusCode::CREATED,
        "sending works again after START"
    );
}

#[tokio::test]
async fn every_opt_out_word_counts_but_sentences_do_not() {
    let h = common::start().await;
    for (i, word) in [
        "STOP",
        "stopall",
        "Unsubscribe",
        "cancel",
        "END",
        "quit",
        "revoke",
        "optout",
    ]
    .iter()
    .enumerate()
    {
        let customer = format!("+1512555020{i}");
        h.sim.inbound_sms(&customer, BIZ, word);
        assert!(
            h.sim.is_opted_out(&customer, BIZ),
            "{word} is one of Twilio's default opt-out words"
        );
    }
    h.sim.inbound_sms(CUSTOMER, BIZ, "please stop the leak");
    assert!(
        !h.sim.is_opted_out(CUSTOMER, BIZ),
        "a sentence mentioning stop is not an opt-out"
    );
    h.sim.inbound_sms(CUSTOMER, BIZ, "help");
    assert!(
        h.sim
            .messages()
            .iter()
            .any(|m| m.direction == "outbound-reply"
                && m.to == CUSTOMER
                && m.body.contains("STOP")),
        "HELP gets the canned help text"
    );
    h.sim.inbound_sms(CUSTOMER, BIZ, "YES");
    assert!(
        !h.sim
            .messages()
            .iter()
            .any(|m| m.to == CUSTOMER && m.body.contains("re-subscribed")),
        "YES from someone who never opted out is just a message"
    );
}

const MEDIA_FIELDS: &[&str] = &[
    "account_sid",
    "content_type",
    "date_created",
    "date_updated",
    "parent_sid",
    "sid",
    "uri",
];

#[tokio::test]
async fn a_picture_message_serves_its_media_list_and_content_with_auth() {
    let h = common::start().await;
    let sid = h.sim.inbound_mms(
        CUSTOMER,
        BIZ,
        "photo",
        vec![("image/jpeg".into(), b"\xff\xd8\xff jpeg".to_vec())],
    );
    assert!(
        sid.starts_with("MM"),
        "Twilio gives picture messages MM sids: {sid}"
    );
    let (status, m) = h.get_json(&format!("/Messages/{sid}.json")).await;
    assert_eq!(status, StatusCode::OK, "the message reads: {m}");
    assert_eq!(m["num_media"], "1", "num_media is a string, as on the wire");

    let (status, list) = h.get_json(&format!("/Messages/{sid}/Media.json")).await;
    assert_eq!(status, StatusCode::OK, "the media list reads: {list}");
    let items = list["media_list"].as_array().expect("the media_list array");
    assert_eq!(items.len(), 1, "one attachment");
    assert_eq!(
        keys(&items[0]),
        set(MEDIA_FIELDS),
        "every field of the spec's media resource"
    );
    assert_eq!(
        items[0]["parent_sid"],
        sid.as_str(),
        "linked to its message"
    );
    let uri = items[0]["uri"].as_str().expect("uri");

    let content = h.get_path(uri.trim_end_matches(".json")).await;
    assert_eq!(content.status(), StatusCode::OK, "the content is served");
    assert_eq!(
        content.headers()["content-type"],
        "image/jpeg",
        "with the stored type"
    );
    assert_eq!(
        content.bytes().await.expect("body").as_ref(),
        b"\xff\xd8\xff jpeg",
        "the bytes as stored"
    );
    let anonymous = h
        .http
        .get(format!(
            "{}{}",
            h.sim.base_url(),
            uri.trim_end_matches(".json")
        ))
        .send()
        .await
        .expect("the sim answers");
    assert_eq!(
        anonymous.status(),
        StatusCode::UNAUTHORIZED,
        "media needs the account's credentials"
    );

    let (status, plain) = h
        .get_json(&format!(
            "/Messages/{}/Media.json",
            h.sim.inbound_sms(CUSTOMER, BIZ, "no photo")
        ))
        .await;
    assert_eq!(
        status,
        StatusCode::OK,
        "a plain text has an empty media list"
    );
    assert_eq!(plain["media_list"], serde_json::json!([]), "no attachments");
}

//! Authentication both ways, rejection, unknown accounts and paths, revocation.

use reqwest::StatusCode;
use serde_json::json;
use textback_sim::SimConfig;

use crate::common::{self, assert_twilio_error, json_of, keys, set};

const ACCOUNT_FIELDS: &[&str] = &[
    "auth_token",
    "date_created",
    "date_updated",
    "friendly_name",
    "owner_account_sid",
    "sid",
    "status",
    "subresource_uris",
    "type",
    "uri",
];

#[tokio::test]
async fn auth_token_opens_the_account() {
    let h = common::start().await;
    let resp = h.get(".json").await;
    assert!(
        resp.headers().contains_key("date"),
        "every Twilio answer carries a Date header"
    );
    let (status, body) = json_of(resp).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "account SID + auth token is valid Basic auth: {body}"
    );
    assert_eq!(
        body["sid"],
        h.sim.account_sid(),
        "the account fetched is the one in the URL"
    );
    assert_eq!(
        body["status"], "active",
        "the adapter's credential check reads status"
    );
    assert_eq!(
        keys(&body),
        set(ACCOUNT_FIELDS),
        "every field of api.v2010.account is present"
    );
    assert_eq!(
        body["uri"],
        format!("/2010-04-01/Accounts/{}.json", h.sim.account_sid()),
        "uri is the relative resource path"
    );
}

#[tokio::test]
async fn api_key_and_secret_open_the_account_in_the_url() {
    let h = common::start().await;
    let resp = h
        .http
        .get(h.api(".json"))
        .basic_auth(
            SimConfig::DEFAULT_API_KEY_SID,
            Some(SimConfig::DEFAULT_API_KEY_SECRET),
        )
        .send()
        .await
        .expect("the sim answers");
    let (status, body) = json_of(resp).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "an API key SID + secret authenticates like Twilio: {body}"
    );
    assert_eq!(
        body["sid"],
        h.sim.account_sid(),
        "the account comes from the URL with API keys"
    );
}

#[tokio::test]
async fn bad_or_missing_credentials_get_20003_with_www_authenticate() {
    let h = common::start().await;
    let attempts = [
        (
            Some((h.sim.account_sid().to_owned(), "wrong-token".to_owned())),
            "wrong auth token",
        ),
        (
            Some((
                SimConfig::DEFAULT_API_KEY_SID.to_owned(),
                "wrong-secret".to_owned(),
            )),
            "wrong key secret",
        ),
        (
            Some((
                "SK0000".to_owned(),
                SimConfig::DEFAULT_API_KEY_SECRET.to_owned(),
            )),
            "unknown key",
        ),
        (
            Some((
                SimConfig::DEFAULT_API_KEY_SECRET.to_owned(),
                h.sim.auth_token().to_owned(),
            )),
            "swapped",
        ),
        (None, "no credentials"),
    ];
    for (creds, why) in attempts {
        let mut req = h.http.get(h.api("/Calls.json"));
        if let Some((user, password)) = creds {
            req = req.basic_auth(user, Some(password));
        }
        let resp = req.send().await.expect("the sim answers");
        assert!(
            resp.headers()
                .get("www-authenticate")
                .is_some_and(|v| v.to_str().is_ok_and(|v| v.starts_with("Basic"))),
            "{why}: a 401 must challenge for Basic auth"
        );
        let (status, body) = json_of(resp).await;
        assert_eq!(
            body,
            json!({"code": 20003, "message": "Authenticate", "more_info": "https://www.twilio.com/docs/errors/20003", "status": 401}),
            "{why}: Twilio's exact 401 body"
        );
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{why}: HTTP 401");
    }
    let resp = h
        .http
        .get(h.api("/Calls.json"))
        .header("authorization", "Basic !!!not-base64")
        .send()
        .await
        .expect("the sim answers");
    assert_eq!(
        resp.status(),
        StatusCode::UNAUTHORIZED,
        "garbage Authorization headers are rejected, not a crash"
    );
}

#[tokio::test]
async fn unknown_account_and_unknown_paths_are_20404() {
    let h = common::start().await;
    let other = "AC00000000000000000000000000000000";
    let resp = h
        .http
        .get(format!(
            "{}/2010-04-01/Accounts/{other}/Calls.json",
            h.sim.base_url()
        ))
        .basic_auth(h.sim.account_sid(), Some(h.sim.auth_token()))
        .send()
        .await
        .expect("the sim answers");
    let (status, body) = json_of(resp).await;
    assert_twilio_error(
        status,
        &body,
        404,
        20404,
        "an account other than the sim's is not found",
    );

    for rel in [
        "/Nope.json",
        "/Calls/CAffff.json",
        "/Messages/SMffff.json",
        "/Calls/CAffff/Recordings.json",
    ] {
        let (status, body) = h.get_json(rel).await;
        assert_twilio_error(status, &body, 404, 20404, &format!("{rel} does not exist"));
    }
    let (status, body) = json_of(h.get_path("/favicon.ico").await).await;
    assert_twilio_error(
        status,
        &body,
        404,
        20404,
        "paths outside the API are Twilio 404s too",
    );
}

#[tokio::test]
async fn revoked_credentials_fail_until_restored() {
    let h = common::start().await;
    h.sim.set_revoked(true);
    let (status, body) = h.get_json(".json").await;
    assert_twilio_error(
        status,
        &body,
        401,
        20003,
        "revoked credentials answer like bad ones",
    );
    h.sim.set_revoked(false);
    let (status, _) = h.get_json(".json").await;
    assert_eq!(status, StatusCode::OK, "restored credentials work again");
}

#[tokio::test]
async fn incoming_phone_numbers_lists_the_owned_numbers() {
    let cfg = SimConfig {
        numbers: vec![common::BIZ.to_owned(), "+15125550100".to_owned()],
        ..SimConfig::default()
    };
    let h = common::start_with(cfg).await;
    let (items, pages) = h
        .list_all("/IncomingPhoneNumbers.json", "incoming_phone_numbers")
        .await;
    let numbers: Vec<_> = items
        .iter()
        .map(|n| n["phone_number"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        numbers,
        [common::BIZ, "+15125550100"],
        "every owned number is listed"
    );
    assert_eq!(
        items[0]["capabilities"]["sms"], true,
        "owned numbers are SMS-capable"
    );
    assert!(
        items[0]["sid"]
            .as_str()
            .is_some_and(|s| s.starts_with("PN") && s.len() == 34),
        "PN sids"
    );
    assert_eq!(pages[0]["page_size"], 50, "default page size is 50");
    assert_eq!(
        pages[0]["next_page_uri"],
        serde_json::Value::Null,
        "one page only"
    );
}

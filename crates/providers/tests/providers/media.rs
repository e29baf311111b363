//! MMS media: listing a message's attachments and downloading them, over the simulator (what
//! Twilio does) and a canned server (redirects to storage, hostile answers).

use std::time::Duration;

use serde_json::json;
use textback_domain::{ProviderMediaId, ProviderMessageId};
use textback_providers::twilio::{DEFAULT_MAX_MEDIA_BYTES, TwilioAuth, TwilioClient};
use textback_providers::{MediaRecord, Provider, ProviderError, Secret};

use crate::canned::{Canned, Reply};
use crate::support::{business, client, customer, sim, yesterday};

const AC: &str = "AC0123456789abcdef0123456789abcdef";
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n fake picture bytes";

fn canned_client(server: &Canned) -> TwilioClient {
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

fn canned_media() -> MediaRecord {
    MediaRecord {
        sid: ProviderMediaId::parse("ME1").expect("valid sid"),
        content_type: "image/png".into(),
        uri: format!("/2010-04-01/Accounts/{AC}/Messages/MM1/Media/ME1.json"),
    }
}

fn message(sid: &str) -> ProviderMessageId {
    ProviderMessageId::parse(sid).expect("valid message sid")
}

#[tokio::test]
async fn a_picture_message_lists_and_downloads_its_media() {
    let sim = sim().await;
    let client = client(&sim);
    let sid = sim.inbound_mms(
        customer(1).as_str(),
        business().as_str(),
        "Here's the leak",
        vec![
            ("image/png".into(), PNG.to_vec()),
            ("application/pdf".into(), b"%PDF-1.4".to_vec()),
        ],
    );
    let listed = client
        .list_messages(&business(), yesterday())
        .await
        .expect("messages list");
    let mms = listed
        .iter()
        .find(|m| m.sid.as_str() == sid)
        .expect("the picture message is listed like any text");
    assert_eq!(mms.num_media, 2, "num_media tells sync to look for media");

    let media = client
        .list_media(&mms.sid)
        .await
        .expect("the media list of an existing message");
    assert_eq!(media.len(), 2, "one record per attachment: {media:?}");
    let picture = media
        .iter()
        .find(|m| m.content_type == "image/png")
        .expect("the picture is listed with its type");
    assert!(
        picture
            .uri
            .ends_with(&format!("/Media/{}.json", picture.sid)),
        "the uri names the media resource: {}",
        picture.uri
    );

    let content = client
        .fetch_media(picture)
        .await
        .expect("the picture downloads");
    assert_eq!(content.bytes, PNG, "the bytes arrive unchanged");
    assert_eq!(content.content_type, "image/png", "with the stored type");
    sim.shutdown().await;
}

#[tokio::test]
async fn an_unknown_message_has_no_media_list() {
    let sim = sim().await;
    let err = client(&sim)
        .list_media(&message("MM0123456789abcdef0123456789abcdef"))
        .await
        .expect_err("Twilio answers 20404 for a message it does not know");
    assert!(
        matches!(err, ProviderError::Permanent { code: 20404, .. }),
        "not found is permanent: asking again will not help: {err:?}"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn a_picture_over_the_cap_is_a_typed_error() {
    let sim = sim().await;
    let sid = sim.inbound_mms(
        customer(2).as_str(),
        business().as_str(),
        "",
        vec![("image/jpeg".into(), vec![7u8; 2048])],
    );
    let client = client(&sim).with_max_media_bytes(1024);
    let media = client.list_media(&message(&sid)).await.expect("listed");
    let err = client
        .fetch_media(&media[0])
        .await
        .expect_err("2 KiB is over a 1 KiB cap");
    assert_eq!(
        err,
        ProviderError::MediaTooLarge { limit_bytes: 1024 },
        "oversize is its own error, never retried"
    );
    assert!(!err.is_retry_safe(), "repeating will not shrink the file");
    assert_eq!(
        DEFAULT_MAX_MEDIA_BYTES,
        5 * 1024 * 1024,
        "Twilio's MMS limit"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn an_announced_oversize_answer_is_not_read() {
    let server = Canned::start(|_, _| Reply {
        status: 200,
        headers: vec![("Content-Type".into(), "image/png".into())],
        body: vec![0u8; 4096],
    })
    .await;
    let err = canned_client(&server)
        .with_max_media_bytes(100)
        .fetch_media(&canned_media())
        .await
        .expect_err("over the cap");
    assert!(
        matches!(err, ProviderError::MediaTooLarge { limit_bytes: 100 }),
        "{err:?}"
    );
}

#[tokio::test]
async fn the_storage_redirect_is_followed_without_credentials() {
    let storage = Canned::start(|_, _| Reply {
        status: 200,
        headers: vec![("Content-Type".into(), "image/png".into())],
        body: PNG.to_vec(),
    })
    .await;
    let location = format!("{}/bucket/ME1?Signature=abc", storage.base_url());
    let api = Canned::start(move |_, _| Reply {
        status: 307,
        headers: vec![("Location".into(), location.clone())],
        body: Vec::new(),
    })
    .await;
    let content = canned_client(&api)
        .fetch_media(&canned_media())
        .await
        .expect("the redirect to storage is followed");
    assert_eq!(content.bytes, PNG, "the storage's bytes are returned");
    let asked = api.requests();
    assert_eq!(
        asked[0].target,
        format!("/2010-04-01/Accounts/{AC}/Messages/MM1/Media/ME1"),
        "the content is the media resource without .json"
    );
    assert!(
        asked[0].header("authorization").is_some(),
        "Twilio itself gets the credentials"
    );
    let fetched = storage.requests();
    assert_eq!(fetched.len(), 1, "storage is asked once");
    assert_eq!(
        fetched[0].header("authorization"),
        None,
        "another host must never see the auth token"
    );
}

#[tokio::test]
async fn a_redirect_off_https_or_looping_is_refused() {
    let api = Canned::start(|_, _| Reply {
        status: 302,
        headers: vec![("Location".into(), "http://media.example/ME1".into())],
        body: Vec::new(),
    })
    .await;
    let err = canned_client(&api)
        .fetch_media(&canned_media())
        .await
        .expect_err("plain http to another machine is refused");
    assert!(matches!(err, ProviderError::Malformed { .. }), "{err:?}");

    let looping = Canned::start(|_, _| Reply {
        status: 302,
        headers: vec![("Location".into(), "/again".into())],
        body: Vec::new(),
    })
    .await;
    let err = canned_client(&looping)
        .fetch_media(&canned_media())
        .await
        .expect_err("endless redirects end");
    assert!(
        matches!(&err, ProviderError::Malformed { message } if message.contains("redirects")),
        "{err:?}"
    );
    assert_eq!(
        looping.requests().len(),
        4,
        "the first request and 3 redirects"
    );
    assert!(
        looping.requests()[1..]
            .iter()
            .all(|r| r.header("authorization").is_none()),
        "credentials ride only on the first request, even to the same host"
    );
}

#[tokio::test]
async fn a_media_uri_outside_the_message_is_never_fetched() {
    let server = Canned::start(|_, _| {
        Reply::json(
            200,
            &json!({"media_list": [
                {"sid": "ME1", "content_type": "image/png",
                 "uri": format!("/2010-04-01/Accounts/{AC}/Messages/MM1/Media/ME1.json")},
                {"sid": "ME2", "content_type": "image/png",
                 "uri": format!("/2010-04-01/Accounts/{AC}/Messages/MMother/Media/ME2.json")},
                {"sid": "ME3", "content_type": "image/png",
                 "uri": "https://evil.example/ME3.json"},
            ], "next_page_uri": null}),
        )
    })
    .await;
    let client = canned_client(&server);
    let media = client.list_media(&message("MM1")).await.expect("listed");
    assert_eq!(
        media.iter().map(|m| m.sid.as_str()).collect::<Vec<_>>(),
        ["ME1"],
        "only the message's own media are kept"
    );
    let mut hostile = canned_media();
    hostile.uri = "https://evil.example/2010-04-01/Accounts/x/Messages/MM1/Media/ME1.json".into();
    let err = client
        .fetch_media(&hostile)
        .await
        .expect_err("a uri off the account is refused");
    assert!(matches!(err, ProviderError::Malformed { .. }), "{err:?}");
    assert_eq!(server.requests().len(), 1, "only the list was requested");
}

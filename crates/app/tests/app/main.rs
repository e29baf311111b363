//! The desk in demo mode, end to end without a window: the built-in simulator, a real SQLite
//! file, the same functions the app's commands call.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use textback_app::dto::{InboxFilter, InboxQuery, LeadState, TimelineItem};
use textback_app::{Desk, DeskOptions};
use textback_engine::DomainEvent;

mod leads;

mod lifecycle_settings;

/// The environment the desk sees: only a data dir inside the test's temp dir, so the
/// developer's own config, keychain and data are never touched.
fn vars(dir: &Path) -> textback_app::Vars {
    let data = dir.join("data").display().to_string();
    Arc::new(move |k| (k == "TEXTBACK_DATA_DIR").then(|| data.clone()))
}

async fn until<T>(
    rx: &mut tokio::sync::broadcast::Receiver<DomainEvent>,
    mut f: impl FnMut(&DomainEvent) -> Option<T>,
) -> T {
    tokio::time::timeout(Duration::from_secs(60), async {
        loop {
            match rx.recv().await {
                Ok(e) => {
                    if let Some(t) = f(&e) {
                        return t;
                    }
                }
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                Err(e) => panic!("event stream ended: {e}"),
            }
        }
    })
    .await
    .expect("the demo scenario produces this event within a minute")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_mode_shows_missed_calls_text_backs_and_replies_and_takes_actions() {
    let dir = tempfile::tempdir().unwrap();
    let desk = Desk::start(DeskOptions {
        config_path: dir.path().join("textback.toml"),
        vars: vars(dir.path()),
        desk_user: "Front desk".into(),
    })
    .await
    .expect("with no provider configured the desk starts in demo mode");
    assert_eq!(
        desk.mode().await,
        textback_app::dto::Mode::Demo,
        "no credentials and no numbers: demo mode"
    );
    let mut rx = desk.subscribe();
    let conv = until(&mut rx, |e| match e {
        DomainEvent::TextBackSent {
            conversation_id, ..
        } => *conversation_id,
        _ => None,
    })
    .await;
    let reply_from = until(&mut rx, |e| match e {
        DomainEvent::MessageReceived {
            conversation_id, ..
        } if *conversation_id == conv => Some(*conversation_id),
        _ => None,
    })
    .await;
    assert_eq!(
        reply_from, conv,
        "the simulated caller replies to the text-back in the same conversation"
    );

    let store = desk.store().await;
    let page = textback_app::inbox::list(
        &store,
        &InboxQuery {
            limit: 50,
            ..Default::default()
        },
    )
    .unwrap();
    let row = page
        .items
        .iter()
        .find(|c| c.id == conv)
        .expect("the conversation is in the inbox");
    assert!(row.unread > 0, "a reply nobody has read is unread");
    assert!(row.missed_call, "it started with a missed call");
    assert_eq!(
        row.lead_state,
        Some(LeadState::Replied),
        "texted, then the caller replied"
    );

    let thread = textback_app::inbox::open(&store, conv).unwrap();
    assert!(
        thread
            .items
            .iter()
            .any(|i| matches!(i, TimelineItem::Call { decision: Some(d), .. } if d == "send")),
        "the thread shows the call and that Textback texted back"
    );
    assert!(
        thread.items.iter().any(|i| matches!(
            i,
            TimelineItem::Message {
                automatic: true,
                ..
            }
        )),
        "the text-back is on the timeline, marked automatic"
    );
    let reopened = textback_app::inbox::list(
        &store,
        &InboxQuery {
            limit: 50,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(
        reopened.items.iter().find(|c| c.id == conv).unwrap().unread,
        0,
        "opening a thread marks it read"
    );

    let item = desk
        .reply(conv, "We can come at 3pm today")
        .await
        .expect("a reply is queued");
    assert!(
        matches!(item, TimelineItem::Message { ref status, .. } if status == "pending"),
        "a queued reply shows pending at once"
    );
    until(&mut rx, |e| {
        matches!(e, DomainEvent::MessageSent { conversation_id: Some(c), .. } if *c == conv)
            .then_some(())
    })
    .await;

    desk.mark_booked(conv, Some(45_000)).await.unwrap();
    let booked = textback_app::inbox::list(
        &store,
        &InboxQuery {
            filter: InboxFilter::Booked,
            limit: 50,
            ..Default::default()
        },
    )
    .unwrap();
    assert!(
        booked.items.iter().any(|c| c.id == conv),
        "marking booked moves it to the booked filter"
    );
    assert_eq!(
        textback_app::inbox::open(&store, conv)
            .unwrap()
            .job_value_cents,
        Some(45_000),
        "the job value is kept"
    );

    let note = desk
        .add_note(conv, "Customer prefers mornings")
        .await
        .unwrap();
    assert!(matches!(note, TimelineItem::Note { .. }));
    let found = textback_app::inbox::list(
        &store,
        &InboxQuery {
            search: Some("kitchen sink".into()),
            limit: 50,
            ..Default::default()
        },
    )
    .unwrap();
    assert!(
        !found.items.is_empty(),
        "search finds the caller's reply text"
    );

    let status = desk.status().await.unwrap();
    assert_eq!(status.responders.len(), 1);
    assert!(
        status.responders[0].this_desk && status.responders[0].running,
        "the demo desk is the running responder"
    );
    desk.shutdown().await;
}

#[tokio::test]
async fn settings_errors_name_the_field_and_template_preview_reports_placeholders() {
    let dir = tempfile::tempdir().unwrap();
    let desk = Desk::start(DeskOptions {
        config_path: dir.path().join("textback.toml"),
        vars: vars(dir.path()),
        desk_user: "Front desk".into(),
    })
    .await
    .expect("the desk starts in demo mode");
    let p = desk.template_preview("Hi {frist_name}", "Acme", "https://a.example");
    assert!(
        p.error.as_deref().is_some_and(|e| e.contains("frist_name")),
        "an unknown placeholder is named: {p:?}"
    );
    let ok = desk.template_preview(
        "Hi {first_name}, book at {booking_link}",
        "Acme",
        "https://a.example",
    );
    assert_eq!(
        ok.rendered.as_deref(),
        Some("Hi Alex, book at https://a.example")
    );
    let mut s = desk.settings().await;
    s.dedupe_window = "soon".into();
    let err = desk.save_settings(s).await.unwrap_err();
    assert_eq!(err.code, "invalid_input");
    assert!(
        err.message.contains("Dedupe window"),
        "the error names the field: {}",
        err.message
    );
    assert!(
        !dir.path().join("textback.toml").exists(),
        "an invalid save writes nothing"
    );
    desk.shutdown().await;
}

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n a photo of the leak";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn picture_messages_show_served_images_and_only_images_are_served() {
    use textback_sim::{Route, Sim, SimConfig};

    let dir = tempfile::tempdir().unwrap();
    let sim = Sim::start(SimConfig::default()).await.unwrap();
    let config = dir.path().join("textback.toml");
    std::fs::write(
        &config,
        format!("[[numbers]]\nnumber = \"{}\"\n", SimConfig::DEFAULT_NUMBER),
    )
    .unwrap();
    // Live mode against our own simulator: credentials from the environment, never the keychain.
    let data = dir.path().join("data");
    let env: Vec<(&str, String)> = vec![
        ("TEXTBACK_DATA_DIR", data.display().to_string()),
        ("TEXTBACK_TWILIO_ACCOUNT_SID", sim.account_sid().to_owned()),
        ("TEXTBACK_TWILIO_AUTH_TOKEN", sim.auth_token().to_owned()),
        ("TEXTBACK_TWILIO_API_BASE", sim.base_url()),
    ];
    let desk = Desk::start(DeskOptions {
        config_path: config,
        vars: Arc::new(move |k| env.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone())),
        desk_user: "Front desk".into(),
    })
    .await
    .expect("the desk starts live on the simulator");
    assert_eq!(
        desk.mode().await,
        textback_app::dto::Mode::Live,
        "numbers and credentials: live"
    );
    desk.wait_synced().await;
    let mut rx = desk.subscribe();
    let mms = sim.inbound_mms(
        "+14155550142",
        SimConfig::DEFAULT_NUMBER,
        "",
        vec![
            ("image/png".into(), PNG.to_vec()),
            ("application/pdf".into(), b"%PDF-1.4 invoice".to_vec()),
        ],
    );
    let conv = until(&mut rx, |e| match e {
        DomainEvent::MessageReceived {
            conversation_id, ..
        } => Some(*conversation_id),
        _ => None,
    })
    .await;
    until(&mut rx, |e| {
        matches!(e, DomainEvent::ConversationChanged { conversation_id } if *conversation_id == conv)
            .then_some(())
    })
    .await;

    let thread = desk.open_conversation(conv).await.unwrap();
    let (urls, attachments) = thread
        .items
        .iter()
        .find_map(|i| match i {
            TimelineItem::Message {
                media_urls,
                attachments,
                ..
            } => Some((media_urls.clone(), attachments.clone())),
            _ => None,
        })
        .expect("the picture message is on the timeline");
    assert_eq!(urls.len(), 1, "one served URL per picture: {urls:?}");
    assert_eq!(
        attachments,
        ["application/pdf"],
        "a non-picture is listed by type, without a URL"
    );
    let sid = urls[0].rsplit('/').next().unwrap().to_owned();
    assert_eq!(
        urls[0],
        textback_app::media::url(&sid),
        "the URL is the shell's textback-media form for this platform"
    );
    assert!(
        !urls[0].contains(&sim.base_url()) && !urls[0].contains(&mms),
        "the webview never gets the provider's own URL"
    );

    let (content_type, bytes) = desk.media(&sid).await.expect("the picture is served");
    assert_eq!(content_type, "image/png", "with its type");
    assert_eq!(bytes, PNG, "and its bytes, fetched from the provider");
    assert_eq!(
        std::fs::read(data.join("media").join(&sid)).unwrap(),
        PNG,
        "cached on disk under the data dir"
    );
    let fetches = sim.requests(Route::MediaContent);
    assert_eq!(fetches, 1, "fetched once");
    let again = desk.media(&sid).await.expect("served again");
    assert_eq!(again.1, PNG, "the same bytes");
    assert_eq!(
        sim.requests(Route::MediaContent),
        fetches,
        "the second view comes from the disk cache"
    );

    let pdf = desk
        .store()
        .await
        .read(|c| {
            let m = textback_store::messages::by_provider_id(c, "twilio", &mms)?.unwrap();
            textback_store::media::for_messages(c, &[m.id])
        })
        .unwrap()
        .into_iter()
        .find(|m| m.content_type == "application/pdf")
        .expect("the pdf has a row");
    let refused = desk
        .media(&pdf.provider_media_id)
        .await
        .expect_err("non-pictures are not served");
    assert_eq!(refused.code, "invalid_input", "{refused:?}");
    assert_eq!(
        sim.requests(Route::MediaContent),
        fetches,
        "and not even downloaded"
    );
    assert_eq!(
        desk.media("ME0000").await.unwrap_err().code,
        "not_found",
        "an unknown attachment is not found"
    );
    assert_eq!(
        desk.media("../textback.toml").await.unwrap_err().code,
        "invalid_input",
        "a path is never an attachment id"
    );
    desk.shutdown().await;
    sim.shutdown().await;
}

//! The desk in demo mode, end to end without a window: the built-in simulator, a real SQLite
//! file, the same functions the app's commands call.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use textback_app::dto::{InboxFilter, InboxQuery, LeadState, TimelineItem};
use textback_app::{Desk, DeskOptions};
use textback_engine::DomainEvent;

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

//! Picture messages: sync lists the attachments of a new inbound MMS and records them (the
//! bytes are fetched later, on first view); a failing listing never loses the message and is
//! retried on the next pass.

use textback_engine::DomainEvent;
use textback_sim::{Fault, Route};
use textback_store::{media, messages};

use crate::common::{BUSINESS, CALLER, Harness, count};

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n picture";

fn stored(h: &Harness, sid: &str) -> (messages::Message, Vec<media::Media>) {
    h.store
        .read(|c| {
            let m = messages::by_provider_id(c, "twilio", sid)?.expect("the MMS is stored");
            let rows = media::for_messages(c, &[m.id])?;
            Ok((m, rows))
        })
        .expect("reading the store works")
}

#[tokio::test]
async fn an_inbound_picture_message_gets_its_media_rows() {
    let mut h = Harness::start().await;
    h.sync().await;
    let sid = h.sim.inbound_mms(
        CALLER,
        BUSINESS,
        "",
        vec![
            ("image/png".into(), PNG.to_vec()),
            ("application/pdf".into(), b"%PDF".to_vec()),
        ],
    );
    h.drain_events();
    let report = h.sync().await;
    assert_eq!(report.messages_new, 1, "the MMS arrives like any text");
    assert_eq!(
        report.media_listed, 1,
        "and its attachments are listed in the same pass"
    );
    let (message, rows) = stored(&h, &sid);
    assert_eq!(message.num_media, 2, "num_media is kept");
    assert_eq!(
        rows.iter()
            .map(|m| m.content_type.as_str())
            .collect::<Vec<_>>(),
        ["image/png", "application/pdf"],
        "one row per attachment, with its type"
    );
    assert!(
        rows.iter().all(|m| m.local_path.is_none()),
        "sync never downloads: bytes are fetched on first view"
    );
    assert_eq!(
        h.sim.requests(Route::MediaContent),
        0,
        "no media content was requested during sync"
    );
    let events = h.drain_events();
    assert_eq!(
        count(&events, |e| matches!(
            e,
            DomainEvent::ConversationChanged { conversation_id } if *conversation_id == message.conversation_id
        )),
        1,
        "the open thread is told its pictures arrived: {events:?}"
    );

    let lists = h.sim.requests(Route::MediaList);
    let report = h.sync().await;
    assert_eq!(
        report.media_listed, 0,
        "a listed message is not listed again"
    );
    assert_eq!(
        h.sim.requests(Route::MediaList),
        lists,
        "no further media requests for it"
    );
    assert_eq!(stored(&h, &sid).1.len(), 2, "and no duplicate rows");
}

#[tokio::test]
async fn a_failing_media_list_keeps_the_message_and_is_retried() {
    let h = Harness::start().await;
    h.sync().await;
    let sid = h.sim.inbound_mms(
        CALLER,
        BUSINESS,
        "the leak",
        vec![("image/jpeg".into(), PNG.to_vec())],
    );
    h.sim.inject(
        Route::MediaList,
        vec![Fault::ServerError(503), Fault::HtmlError],
    );
    let report = h
        .try_sync()
        .await
        .expect("a failing media list does not fail the sync pass");
    assert_eq!(report.messages_new, 1, "the message itself is stored");
    assert_eq!(report.media_listed, 0, "its media could not be listed yet");
    let (message, rows) = stored(&h, &sid);
    assert_eq!(message.body, "the leak", "nothing of the message is lost");
    assert!(rows.is_empty(), "no media rows yet");
    assert!(
        h.engine.health().online,
        "a media listing failure does not mark the provider offline"
    );

    h.try_sync()
        .await
        .expect("still fine with a second failure");
    assert!(
        stored(&h, &sid).1.is_empty(),
        "the second fault was consumed too"
    );

    let report = h.sync().await;
    assert_eq!(report.media_listed, 1, "the next healthy pass lists it");
    assert_eq!(stored(&h, &sid).1.len(), 1, "and records the picture");
}

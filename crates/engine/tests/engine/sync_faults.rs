//! Malformed or failing provider answers during a sync: a typed error (no panic), offline
//! announced at most once, and the next sync catches up so the missed call is texted once.

use textback_engine::{DomainEvent, EngineError, SendStep};
use textback_sim::{Fault, Route};

use crate::common::{CALLER, Harness, count};

async fn sync_survives(route: Route, fault: Fault) {
    let mut h = Harness::start().await;
    h.sync().await;
    h.missed_call(CALLER).await;
    h.drain_events();
    h.sim.inject(route, vec![fault.clone()]);
    let failed = h.try_sync().await;
    assert!(
        matches!(failed, Err(EngineError::Provider(_))),
        "{fault:?} on {route:?} is a typed provider error: {failed:?}"
    );
    let events = h.drain_events();
    let offline = count(&events, |e| matches!(e, DomainEvent::WentOffline { .. }));
    assert!(
        offline <= 1,
        "offline is announced at most once: {events:?}"
    );

    h.sync().await;
    h.sync().await;
    let events = h.drain_events();
    if offline == 1 {
        assert_eq!(
            count(&events, |e| matches!(e, DomainEvent::WentOnline { .. })),
            1,
            "coming back is announced once: {events:?}"
        );
    }
    assert_eq!(
        count(&events, |e| matches!(e, DomainEvent::WentOffline { .. })),
        0,
        "healthy syncs do not go offline: {events:?}"
    );
    assert!(h.engine.health().online, "online after a good sync");
    assert_eq!(
        h.send_all().await,
        vec![SendStep::Sent, SendStep::Empty],
        "the missed call is texted after the failed sync"
    );
    assert_eq!(
        h.sim.sent_messages().len(),
        1,
        "exactly one text-back: {fault:?} on {route:?}"
    );
}

#[tokio::test]
async fn truncated_json_on_calls_list() {
    sync_survives(Route::CallsList, Fault::TruncatedJson).await;
}

#[tokio::test]
async fn html_error_page_on_calls_list() {
    sync_survives(Route::CallsList, Fault::HtmlError).await;
}

#[tokio::test]
async fn server_error_503_on_calls_list() {
    sync_survives(Route::CallsList, Fault::ServerError(503)).await;
}

#[tokio::test]
async fn rate_limit_on_calls_list() {
    sync_survives(
        Route::CallsList,
        Fault::RateLimit {
            retry_after: Some(1),
        },
    )
    .await;
}

#[tokio::test]
async fn truncated_json_on_messages_list() {
    sync_survives(Route::MessagesList, Fault::TruncatedJson).await;
}

#[tokio::test]
async fn html_error_page_on_messages_list() {
    sync_survives(Route::MessagesList, Fault::HtmlError).await;
}

#[tokio::test]
async fn server_error_503_on_messages_list() {
    sync_survives(Route::MessagesList, Fault::ServerError(503)).await;
}

#[tokio::test]
async fn rate_limit_on_messages_list() {
    sync_survives(Route::MessagesList, Fault::RateLimit { retry_after: None }).await;
}

#[tokio::test]
async fn truncated_json_on_recordings_list() {
    sync_survives(Route::RecordingsList, Fault::TruncatedJson).await;
}

#[tokio::test]
async fn html_error_page_on_recordings_list() {
    sync_survives(Route::RecordingsList, Fault::HtmlError).await;
}

#[tokio::test]
async fn server_error_503_on_recordings_list() {
    sync_survives(Route::RecordingsList, Fault::ServerError(503)).await;
}

#[tokio::test]
async fn rate_limit_on_recordings_list() {
    sync_survives(
        Route::RecordingsList,
        Fault::RateLimit {
            retry_after: Some(1),
        },
    )
    .await;
}

#[tokio::test]
async fn a_503_is_offline_then_online_exactly_once() {
    let mut h = Harness::start().await;
    h.sync().await;
    h.drain_events();
    // Both call lists of two passes fail.
    h.sim
        .inject(Route::CallsList, vec![Fault::ServerError(503); 4]);
    assert!(h.try_sync().await.is_err(), "a 503 fails the sync");
    assert!(h.try_sync().await.is_err(), "and the next one");
    h.sync().await;
    let events = h.drain_events();
    assert_eq!(
        count(&events, |e| matches!(e, DomainEvent::WentOffline { .. })),
        1,
        "two failed syncs are one outage: {events:?}"
    );
    assert_eq!(
        count(&events, |e| matches!(e, DomainEvent::WentOnline { .. })),
        1,
        "and one recovery: {events:?}"
    );
}

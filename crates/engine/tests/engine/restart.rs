//! A crash in the middle of sending: the in-flight row is reconciled against the provider's
//! log by the next process before any resend.

use textback_engine::SendStep;
use textback_store::outbox;

use crate::common::{CALLER, Harness};

/// A queued text-back, marked in flight as the sender does just before its HTTP call.
async fn in_flight() -> (Harness, outbox::Entry) {
    let h = Harness::start().await;
    let sid = h.queued_text_back(CALLER).await;
    let entry = h.textback_entry(&sid);
    let now = h.now();
    let marked = h
        .store
        .immediate(|tx| outbox::mark_in_flight(tx, entry.id, now))
        .expect("marking in flight works");
    assert!(marked, "a pending entry can be marked in flight");
    (h, entry)
}

#[tokio::test]
async fn a_crash_before_the_http_call_resends_exactly_once() {
    let (mut h, entry) = in_flight().await;
    h.restart();
    assert_eq!(
        h.send_step().await,
        SendStep::Empty,
        "an in-flight row is never sent blind"
    );
    // The provider never got it.
    h.assert_reconciled_and_resent_once(entry.id).await;
}

#[tokio::test]
async fn a_crash_after_the_provider_accepted_is_recorded_not_resent() {
    let (mut h, entry) = in_flight().await;
    // The provider took the message; the process died before recording its answer.
    let accepted = h.send_directly(CALLER, &entry.body).await;
    h.restart();
    h.assert_reconciled_as_sent(entry.id, accepted.sid.as_str())
        .await;
    h.sync().await;
    assert_eq!(
        h.send_all().await,
        vec![SendStep::Empty],
        "still nothing after a sync"
    );
    assert_eq!(
        h.sim.sent_messages().len(),
        1,
        "the caller got exactly one text"
    );
}

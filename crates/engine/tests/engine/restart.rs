//! A crash in the middle of sending: the in-flight row is reconciled against the provider's
//! log by the next process before any resend.

use textback_domain::PhoneNumber;
use textback_engine::SendStep;
use textback_providers::Provider;
use textback_store::outbox;

use crate::common::{BUSINESS, CALLER, Harness};

/// A queued text-back, marked in flight as the sender does just before its HTTP call.
async fn in_flight() -> (Harness, outbox::Entry) {
    let h = Harness::start().await;
    h.sync().await;
    let sid = h.missed_call(CALLER).await;
    h.sync().await;
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
    assert_eq!(
        h.engine.reconcile().await.expect("reconcile works"),
        1,
        "resolved"
    );
    assert_eq!(
        h.outbox_entry(entry.id).state,
        outbox::State::Pending,
        "the provider never got it: back to pending"
    );
    assert_eq!(
        h.send_all().await,
        vec![SendStep::Sent, SendStep::Empty],
        "resent"
    );
    assert_eq!(
        h.sim.sent_messages().len(),
        1,
        "exactly one text reached the caller"
    );
    assert_eq!(
        h.outbox_entry(entry.id).state,
        outbox::State::Sent,
        "recorded as sent"
    );
}

#[tokio::test]
async fn a_crash_after_the_provider_accepted_is_recorded_not_resent() {
    let (mut h, entry) = in_flight().await;
    // The provider took the message; the process died before recording its answer.
    let from = PhoneNumber::parse_e164(BUSINESS).expect("E.164");
    let to = PhoneNumber::parse_e164(CALLER).expect("E.164");
    let accepted = h
        .client()
        .send_message(&from, &to, &entry.body)
        .await
        .expect("the sim accepts the send");
    h.restart();
    assert_eq!(
        h.engine.reconcile().await.expect("reconcile works"),
        1,
        "resolved"
    );
    let after = h.outbox_entry(entry.id);
    assert_eq!(
        after.state,
        outbox::State::Sent,
        "found in the provider's log: sent"
    );
    assert_eq!(
        after.provider_message_id.as_deref(),
        Some(accepted.sid.as_str()),
        "the entry is tied to the message the provider took"
    );
    assert_eq!(
        h.send_all().await,
        vec![SendStep::Empty],
        "nothing to resend"
    );
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

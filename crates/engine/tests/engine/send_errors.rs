//! Every class of provider error on a send, handled by what it means: retry-safe errors
//! retry after the right wait, unknown outcomes are reconciled before any resend, account
//! problems pause sending without losing anything.

use std::time::Duration;

use chrono::Duration as Span;
use chrono::DurationRound;
use textback_domain::PhoneNumber;
use textback_engine::config::BusinessNumber;
use textback_engine::{DomainEvent, SendStep};
use textback_sim::{CallScript, Fault, LegScript, Route};
use textback_store::outbox;

use crate::common::{CALLER, Harness, config, count};

/// A harness with one text-back queued for a fresh missed call; returns the call's sid.
async fn queued() -> (Harness, String) {
    let h = Harness::start().await;
    let sid = h.queued_text_back(CALLER).await;
    (h, sid)
}

/// Injects `fault` on the next send and checks the sender cannot tell whether the provider
/// acted on it: the entry is left unknown (`why` says why), for reconcile, never retried blind.
async fn send_with_unknown_outcome(h: &Harness, sid: &str, fault: Fault, why: &str) {
    h.sim.inject(Route::MessagesCreate, vec![fault]);
    assert_eq!(
        h.send_step().await,
        SendStep::RetryLater,
        "the outcome is unknown"
    );
    assert_eq!(h.textback_entry(sid).state, outbox::State::Unknown, "{why}");
}

/// A 429 on the send: not due before `earliest`, due by `latest`, then sent exactly once.
async fn rate_limited(retry_after: Option<u64>, earliest: Span, latest: Span) {
    let (h, sid) = queued().await;
    h.sim.inject(
        Route::MessagesCreate,
        vec![Fault::RateLimit { retry_after }],
    );
    // Whole milliseconds: the store keeps times to the millisecond.
    let at = h
        .now()
        .duration_trunc(Span::milliseconds(1))
        .expect("in range");
    h.clock.set(at);
    assert_eq!(
        h.send_step().await,
        SendStep::RetryLater,
        "a 429 is retried later"
    );
    let entry = h.textback_entry(&sid);
    assert_eq!(
        entry.state,
        outbox::State::Pending,
        "a 429 was not acted on: retry-safe"
    );
    assert!(
        entry.next_attempt_at >= at + earliest && entry.next_attempt_at <= at + latest,
        "the retry falls between {earliest} and {latest} from now: {entry:?}"
    );
    h.clock.set(at + earliest - Span::milliseconds(1));
    assert_eq!(
        h.send_step().await,
        SendStep::Empty,
        "nothing is due before the retry time"
    );
    assert_eq!(
        h.sim.message_requests(),
        1,
        "no early retry reached the provider"
    );
    h.clock.set(at + latest);
    assert_eq!(
        h.send_all().await,
        vec![SendStep::Sent, SendStep::Empty],
        "sent once the wait is over"
    );
    assert_eq!(
        h.sim.message_requests(),
        2,
        "one refused request, one accepted"
    );
    assert_eq!(
        h.sim.sent_messages().len(),
        1,
        "the message went out exactly once"
    );
    assert!(h.engine.health().online, "throttling is not being offline");
}

#[tokio::test]
async fn a_429_with_retry_after_waits_as_told_then_sends_once() {
    rate_limited(Some(3), Span::seconds(3), Span::seconds(3)).await;
}

#[tokio::test]
async fn a_429_without_retry_after_backs_off_then_sends_once() {
    // The first backoff is 1 s ± 20 %.
    rate_limited(None, Span::milliseconds(800), Span::milliseconds(1200)).await;
}

#[tokio::test]
async fn a_500_on_send_is_reconciled_and_resent_exactly_once() {
    let (h, sid) = queued().await;
    send_with_unknown_outcome(
        &h,
        &sid,
        Fault::ServerError(500),
        "a 5xx on a send may have been acted on: never retried blind",
    )
    .await;
    assert_eq!(
        h.send_step().await,
        SendStep::Empty,
        "an unknown entry is not resent"
    );
    h.assert_reconciled_and_resent_once(h.textback_entry(&sid).id)
        .await;
}

#[tokio::test]
async fn a_send_accepted_then_failed_is_found_by_reconcile_and_not_resent() {
    let (h, sid) = queued().await;
    send_with_unknown_outcome(&h, &sid, Fault::AcceptThenFail, "unknown, not failed").await;
    let accepted = h.sim.sent_messages();
    let accepted = accepted.first().expect("the provider took the message");
    h.assert_reconciled_as_sent(h.textback_entry(&sid).id, &accepted.sid)
        .await;
    assert_eq!(
        h.sim.sent_messages().len(),
        1,
        "NOT resent: the caller got one text"
    );
}

#[tokio::test]
async fn a_hanging_send_times_out_and_is_reconciled() {
    let h = Harness::with_timeout(Duration::from_millis(400)).await;
    let sid = h.fresh_missed_call(CALLER).await;
    send_with_unknown_outcome(
        &h,
        &sid,
        Fault::Hang,
        "a send that timed out may have been acted on",
    )
    .await;
    h.assert_reconciled_and_resent_once(h.textback_entry(&sid).id)
        .await;
}

#[tokio::test]
async fn rejected_credentials_pause_sending_lose_nothing_and_resume() {
    let (mut h, sid) = queued().await;
    h.sim.inject(Route::MessagesCreate, vec![Fault::Auth]);
    assert_eq!(
        h.send_step().await,
        SendStep::RetryLater,
        "a 401 cannot send now"
    );
    assert!(
        h.engine.health().sending_paused.is_some(),
        "rejected credentials pause sending"
    );
    // The credentials stay revoked for a while: syncs fail, sends wait.
    h.sim.set_revoked(true);
    assert!(
        h.try_sync().await.is_err(),
        "a sync with revoked credentials fails"
    );
    assert_eq!(h.send_step().await, SendStep::RetryLater, "still paused");
    h.clock.advance(Span::minutes(10));
    assert_eq!(
        h.send_step().await,
        SendStep::RetryLater,
        "paused, whatever is due"
    );
    let events = h.drain_events();
    assert_eq!(
        count(&events, |e| matches!(
            e,
            DomainEvent::ProviderAuthFailed { .. }
        )),
        1,
        "the user is told once, not on every attempt: {events:?}"
    );
    assert_eq!(
        h.textback_entry(&sid).state,
        outbox::State::Pending,
        "nothing is dropped while paused"
    );
    assert_eq!(h.sim.sent_messages().len(), 0, "nothing went out");

    h.sim.set_revoked(false);
    h.sync().await;
    let events = h.drain_events();
    assert_eq!(
        count(&events, |e| matches!(e, DomainEvent::SendingResumed)),
        1,
        "a successful sync proves the credentials again: {events:?}"
    );
    assert!(
        h.engine.health().sending_paused.is_none(),
        "no longer paused"
    );
    assert_eq!(
        h.send_all().await,
        vec![SendStep::Sent, SendStep::Empty],
        "sent"
    );
    assert_eq!(
        h.sim.sent_messages().len(),
        1,
        "the message went out exactly once"
    );
}

#[tokio::test]
async fn a_number_that_cannot_send_pauses_sending_and_says_so_once() {
    // The engine watches a number the account does not own for SMS: POST answers 21606.
    const NOT_OURS: &str = "+15005550009";
    let mut config = config();
    config.numbers = vec![BusinessNumber {
        number: PhoneNumber::parse_e164(NOT_OURS).expect("E.164"),
        answered_by_ivr: false,
    }];
    let mut h = Harness::with_config(config).await;
    h.sync().await;
    let sid = h
        .call(CallScript::inbound(
            CALLER,
            NOT_OURS,
            Some(Duration::ZERO),
            vec![LegScript::no_answer("+14155550100")],
        ))
        .await;
    h.sync().await;
    assert_eq!(
        h.send_step().await,
        SendStep::RetryLater,
        "21606 cannot send now"
    );
    assert!(
        h.engine.health().sending_paused.is_some(),
        "an account problem pauses sending"
    );
    assert_eq!(
        h.textback_entry(&sid).state,
        outbox::State::Pending,
        "the text-back is kept for when the number can send"
    );
    // Polling goes on; the account problem is not solved by a successful read.
    for _ in 0..3 {
        h.sync().await;
        h.clock.advance(Span::minutes(10));
        h.send_step().await;
    }
    let events = h.drain_events();
    assert_eq!(
        count(&events, |e| matches!(
            e,
            DomainEvent::AccountBlocked { code: 21606, .. }
        )),
        1,
        "the user is told once: {events:?}"
    );
    assert_eq!(
        count(&events, |e| matches!(e, DomainEvent::SendingResumed)),
        0,
        "reading calls does not prove the number can send: {events:?}"
    );
    assert_eq!(
        h.sim.message_requests(),
        1,
        "one refused attempt, no hammering"
    );
    assert!(h.sim.sent_messages().is_empty(), "nothing was sent");
}

#[tokio::test]
async fn an_opt_out_only_the_provider_knows_is_learnt_from_21610() {
    let (mut h, sid) = queued().await;
    // Opted out at the provider (e.g. a STOP to another number of a messaging service) with no
    // STOP text in this number's log for the engine to sync.
    h.sim.opt_out(CALLER, crate::common::BUSINESS);
    assert_eq!(
        h.send_step().await,
        SendStep::Sent,
        "21610 resolves the entry for good"
    );
    assert_eq!(
        h.textback_entry(&sid).state,
        outbox::State::Failed,
        "an opted-out recipient is never retried"
    );
    let contact = h.contact(CALLER);
    assert!(
        contact.opted_out(),
        "21610 marks the contact opted out: {contact:?}"
    );
    let events = h.drain_events();
    assert_eq!(
        count(
            &events,
            |e| matches!(e, DomainEvent::OptedOut { source, .. } if source == "provider")
        ),
        1,
        "the opt-out is announced: {events:?}"
    );
    assert!(
        h.sim.sent_messages().is_empty(),
        "nothing reached the caller"
    );
}

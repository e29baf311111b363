//! The text-back policy over real HTTP: dedupe window, grace window, freshness, the
//! pre-send check against the provider's log, after-hours template, one lead per caller.

use std::time::Duration;

use chrono::Duration as Span;
use textback_domain::{HumanDuration, Template};
use textback_engine::{DomainEvent, SendStep};
use textback_sim::CallScript;
use textback_store::{leads, outbox};

use crate::common::{BUSINESS, CALLER, Harness, config, count, render};

/// The open lead of conversation `conv`, if there is one.
fn open_lead(h: &Harness, conv: i64) -> Option<leads::Lead> {
    h.store
        .read(|c| leads::open_for(c, conv))
        .expect("reading leads works")
}

/// Sends what is queued and asserts it was one text, and that the texts the caller has got are
/// exactly `template` with a tracked booking link (`why` says why that template).
async fn assert_texted_once_with(h: &Harness, template: &Template, why: &str) {
    assert_eq!(
        h.send_all().await,
        vec![SendStep::Sent, SendStep::Empty],
        "one text is sent"
    );
    assert_eq!(h.untracked_bodies(), [render(&h.config, template)], "{why}");
}

/// Asserts the inbox was offered a late text-back for call `sid` (once); returns the call's id.
fn assert_late_text_back_offered(h: &mut Harness, sid: &str) -> i64 {
    let events = h.drain_events();
    let call_id = h.stored_call(sid).id;
    assert_eq!(
        count(
            &events,
            |e| matches!(e, DomainEvent::LateTextBackOffered { call_id: c, .. } if *c == call_id)
        ),
        1,
        "the inbox is offered a late text-back: {events:?}"
    );
    call_id
}

#[tokio::test]
async fn a_caller_is_texted_at_most_once_per_dedupe_window() {
    let h = Harness::start().await;
    let first = h.fresh_missed_call(CALLER).await;
    assert_eq!(
        h.send_all().await,
        vec![SendStep::Sent, SendStep::Empty],
        "first text-back"
    );

    h.advance(Span::hours(1));
    let second = h.missed_call(CALLER).await;
    h.sync().await;
    let d = h.decision(&second).expect("the second call is decided");
    assert_eq!(
        (d.action.as_str(), d.code.as_str()),
        ("skip", "already_texted"),
        "a second missed call within 24 h is not texted again: {d:?}"
    );
    assert_eq!(
        h.send_all().await,
        vec![SendStep::Empty],
        "nothing new was queued"
    );
    assert_eq!(h.sim.sent_messages().len(), 1, "one text within the window");

    h.advance(Span::hours(25));
    let third = h.missed_call(CALLER).await;
    h.sync().await;
    let d = h.decision(&third).expect("the third call is decided");
    assert_eq!(
        d.action, "send",
        "a missed call after the window is texted again: {d:?}"
    );
    assert_eq!(
        h.send_all().await,
        vec![SendStep::Sent, SendStep::Empty],
        "second text-back"
    );
    let sent = h.sim.sent_messages();
    assert_eq!(sent.len(), 2, "two windows, two texts: {sent:?}");
    assert!(
        sent[1].received_at - sent[0].received_at >= Span::hours(24),
        "the provider saw the two texts at least 24 h apart: {sent:?}"
    );
    assert_ne!(first, third, "different calls");
}

#[tokio::test]
async fn an_answered_call_back_within_the_grace_window_cancels_the_text_back() {
    let mut config = config();
    config.textback.grace_window = HumanDuration::from_secs(60);
    let mut h = Harness::with_config(config).await;
    let missed = h.fresh_missed_call(CALLER).await;
    assert!(
        h.decision(&missed).is_none(),
        "the decision waits for the grace window to pass"
    );
    assert_eq!(
        h.send_all().await,
        vec![SendStep::Empty],
        "nothing is queued during grace"
    );

    // Staff call the customer back a little later and talk.
    h.advance(Span::seconds(20));
    h.call(CallScript::outbound_api(
        BUSINESS,
        CALLER,
        Some(Duration::ZERO),
        Some(Duration::from_secs(90)),
    ))
    .await;
    h.clock.advance(Span::seconds(61));
    h.sync().await;
    let d = h
        .decision(&missed)
        .expect("decided once the grace window passed");
    assert_eq!(
        (d.action.as_str(), d.code.as_str()),
        ("skip", "answered_later"),
        "the two already spoke: a 'sorry we missed you' would read as a bot: {d:?}"
    );
    h.assert_nothing_sent("nothing was queued", "no text after an answered call-back")
        .await;
    let events = h.drain_events();
    assert_eq!(
        count(
            &events,
            |e| matches!(e, DomainEvent::TextBackSkipped { code, .. } if code == "answered_later")
        ),
        1,
        "the skip is announced with its reason: {events:?}"
    );
}

#[tokio::test]
async fn a_call_first_seen_after_the_freshness_limit_is_offered_as_a_late_text_back() {
    let mut h = Harness::start().await;
    h.sync().await;
    let sid = h.missed_call(CALLER).await;
    // The desk was offline: its next sync comes three hours after the call ended.
    h.clock.set(h.sim.now() + Span::hours(3));
    h.sync().await;
    let d = h.decision(&sid).expect("the call is decided");
    assert_eq!(
        (d.action.as_str(), d.outbox_id),
        ("late", None),
        "a call missed longer ago than the freshness limit is not texted blindly: {d:?}"
    );
    h.assert_nothing_sent("nothing was queued", "no instant text-back 3 h late")
        .await;
    let call_id = assert_late_text_back_offered(&mut h, &sid);

    // A person clicks "text them".
    h.engine
        .send_late_text_back(call_id, None)
        .expect("a late text-back can be queued once");
    assert!(
        h.engine.send_late_text_back(call_id, None).is_err(),
        "a second click does not queue a second late text"
    );
    assert_texted_once_with(
        &h,
        &h.config.textback.late_template,
        "the late template is used, once, with the lead's tracked booking link",
    )
    .await;
    let lead = open_lead(&h, h.conversation_of(&sid)).expect("the late call opened a lead");
    assert_eq!(
        (lead.first_call_id, lead.touches, lead.state.as_str()),
        (Some(call_id), 1, "texted"),
        "the late text-back is the first touch of the lead the late call started"
    );
    assert!(
        h.sent_bodies()[0].contains(lead.booking_ref.as_deref().unwrap_or("no ref")),
        "its booking link carries that lead's reference"
    );
}

#[tokio::test]
async fn a_text_sent_by_someone_else_before_the_sender_runs_skips_the_text_back() {
    let mut h = Harness::start().await;
    let sid = h.queued_text_back(CALLER).await;
    let entry = h.textback_entry(&sid);

    // A person texts the caller from the provider's console (or another desk) first.
    h.send_directly(CALLER, "Hi, it's Sam: I'll call you in 5 minutes.")
        .await;

    assert_eq!(
        h.send_all().await,
        vec![SendStep::Sent, SendStep::Empty],
        "the entry is resolved by the pre-send check"
    );
    assert_eq!(
        h.outbox_entry(entry.id).state,
        outbox::State::Cancelled,
        "the text-back is cancelled, not sent"
    );
    let d = h.decision(&sid).expect("decided");
    assert_eq!(
        (d.action.as_str(), d.code.as_str()),
        ("skip", "already_messaged"),
        "the decision says someone already texted the caller: {d:?}"
    );
    let sent = h.sim.sent_messages();
    assert_eq!(
        sent.len(),
        1,
        "only the person's own text reached the caller: {sent:?}"
    );
    let events = h.drain_events();
    assert_eq!(
        count(
            &events,
            |e| matches!(e, DomainEvent::TextBackSkipped { code, .. } if code == "already_messaged")
        ),
        1,
        "the skip is announced: {events:?}"
    );
}

#[tokio::test]
async fn the_after_hours_template_is_used_while_closed() {
    let mut config = config();
    for spec in config.business.hours.values_mut() {
        *spec = "closed".into();
    }
    let h = Harness::with_config(config).await;
    h.fresh_missed_call(CALLER).await;
    assert_texted_once_with(
        &h,
        &h.config.textback.after_hours_template,
        "a call missed while the business is closed gets the after-hours text",
    )
    .await;
}

#[tokio::test]
async fn repeat_calls_fold_into_one_open_lead() {
    let h = Harness::start().await;
    let first = h.fresh_missed_call(CALLER).await;
    h.send_all().await;
    h.advance(Span::minutes(10));
    let second = h.missed_call(CALLER).await;
    h.sync().await;
    let conv = h.conversation_of(&first);
    assert_eq!(
        h.stored_call(&second).conversation_id,
        Some(conv),
        "the same caller's calls share one conversation"
    );
    let lead = open_lead(&h, conv).expect("a missed call opens a lead");
    assert_eq!(
        lead.first_call_id,
        Some(h.stored_call(&first).id),
        "the second call joins the lead the first opened: {lead:?}"
    );
    assert_eq!(
        lead.state, "texted",
        "the lead remembers it was texted: {lead:?}"
    );
    assert_eq!(h.sim.sent_messages().len(), 1, "one text for the two calls");
}

#[tokio::test]
async fn a_text_back_still_queued_past_the_freshness_limit_becomes_a_late_offer() {
    let mut h = Harness::start().await;
    let sid = h.queued_text_back(CALLER).await;
    let entry = h.textback_entry(&sid);
    // The provider is unreachable for three hours after the decision: every attempt fails
    // before reaching it, and the entry waits in the outbox.
    h.sim.set_accepting(false);
    assert_eq!(
        h.send_step().await,
        SendStep::RetryLater,
        "no network: retry later"
    );
    h.sim.set_accepting(true);
    h.advance(Span::hours(3));
    h.sync().await;
    h.drain_events();
    assert_eq!(
        h.send_all().await,
        vec![SendStep::Sent, SendStep::Empty],
        "the stale entry is resolved, not left pending"
    );
    assert!(
        h.sim.sent_messages().is_empty(),
        "\"sorry we missed your call, we'll call you back shortly\" is not sent 3 h late"
    );
    assert_eq!(
        h.outbox_entry(entry.id).state,
        outbox::State::Cancelled,
        "the instant text-back is withdrawn"
    );
    let d = h.decision(&sid).expect("decided");
    assert_eq!(
        d.code, "late",
        "the call is offered as a late text-back instead: {d:?}"
    );
    let call_id = assert_late_text_back_offered(&mut h, &sid);
    h.engine
        .send_late_text_back(call_id, None)
        .expect("the late text-back can be chosen");
    assert_texted_once_with(
        &h,
        &h.config.textback.late_template,
        "only the late template reached the caller",
    )
    .await;
}

#[tokio::test]
async fn the_dedupe_window_counts_from_when_the_text_went_out() {
    let h = Harness::start().await;
    h.fresh_missed_call(CALLER).await;
    // The provider was unreachable for 90 minutes: the text-back goes out late but fresh.
    h.advance(Span::minutes(90));
    assert_eq!(
        h.send_all().await,
        vec![SendStep::Sent, SendStep::Empty],
        "first text-back"
    );
    // 23 h after that text (24.5 h after the first call) the caller calls again.
    h.advance(Span::hours(23));
    let second = h.missed_call(CALLER).await;
    h.sync().await;
    h.send_all().await;
    let sent = h.sim.sent_messages();
    assert!(
        sent.len() == 1 || sent[1].received_at - sent[0].received_at >= Span::hours(24),
        "the caller was texted less than 24 h ago: {:?} for call {second}",
        h.decision(&second)
    );
}

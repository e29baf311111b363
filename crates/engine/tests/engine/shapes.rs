//! Every shape of missed call gets exactly one text-back with the right text; answered,
//! outbound, foreign, anonymous, landline, opted-out and historical calls get none.

use std::time::Duration;

use textback_engine::{DomainEvent, EngineError, SendStep};
use textback_sim::{CallScript, LegOutcome, LegScript, SimConfig};
use textback_store::outbox;

use crate::common::{BUSINESS, CALLER, CALLERS, Harness, config, count, untracked};

fn leg(outcome: LegOutcome) -> LegScript {
    LegScript {
        to: "+14155550100".into(),
        outcome,
        answered_by: None,
    }
}

/// Syncs, checks the call was classified `outcome` and decided "send", sends, and checks
/// exactly one text with the business-hours template went to the caller, even after more
/// syncs and sender steps.
async fn assert_one_text_back(h: &mut Harness, sid: &str, outcome: &str) {
    h.sync().await;
    let call = h.stored_call(sid);
    assert_eq!(
        call.outcome.as_deref(),
        Some(outcome),
        "the call must be classified {outcome}: {call:?}"
    );
    let decision = h
        .decision(sid)
        .expect("a missed call is decided in the same sync");
    assert_eq!(
        (decision.action.as_str(), decision.code.as_str()),
        ("send", "send"),
        "a fresh missed call from a textable caller must be texted back: {decision:?}"
    );
    assert_eq!(
        h.send_all().await,
        vec![SendStep::Sent, SendStep::Empty],
        "the sender sends the one queued text-back, then finds nothing"
    );
    // More passes must not text again: exactly-once is in the schema, not in memory.
    h.sync().await;
    assert_eq!(
        h.send_all().await,
        vec![SendStep::Empty],
        "nothing more to send"
    );
    let sent = h.sim.sent_messages();
    assert_eq!(
        sent.len(),
        1,
        "exactly one text-back per missed call: {sent:?}"
    );
    assert_eq!(
        (sent[0].from.as_str(), sent[0].to.as_str()),
        (BUSINESS, CALLER),
        "the text-back goes from the business number to the caller"
    );
    assert_eq!(
        untracked(&sent[0].body),
        h.business_hours_text(),
        "while the business is open the business-hours template is used"
    );
    assert_eq!(
        h.textback_entry(sid).state,
        outbox::State::Sent,
        "the outbox records the text-back as sent"
    );
    let events = h.drain_events();
    assert_eq!(
        count(
            &events,
            |e| matches!(e, DomainEvent::CallMissed { outcome: o, .. } if o == outcome)
        ),
        1,
        "the missed call is announced once: {events:?}"
    );
    assert_eq!(
        count(&events, |e| matches!(e, DomainEvent::TextBackSent { .. })),
        1,
        "the text-back is announced once: {events:?}"
    );
}

/// Runs `legs` as a missed call after the engine started watching and checks the text-back.
async fn missed_shape(legs: Vec<LegScript>, voicemail: bool, outcome: &str) {
    let mut h = Harness::start().await;
    h.sync().await;
    let mut script = CallScript::inbound(CALLER, BUSINESS, Some(Duration::ZERO), legs);
    script.voicemail = voicemail;
    let sid = h.call(script).await;
    assert_one_text_back(&mut h, &sid, outcome).await;
}

#[tokio::test]
async fn no_answer_is_texted_back_once() {
    missed_shape(vec![leg(LegOutcome::NoAnswer)], false, "no_answer").await;
}

#[tokio::test]
async fn busy_is_texted_back_once() {
    missed_shape(vec![leg(LegOutcome::Busy)], false, "busy").await;
}

#[tokio::test]
async fn caller_hanging_up_while_ringing_is_texted_back_once() {
    missed_shape(vec![leg(LegOutcome::Canceled)], false, "caller_hung_up").await;
}

#[tokio::test]
async fn voicemail_is_texted_back_once() {
    missed_shape(vec![leg(LegOutcome::NoAnswer)], true, "voicemail").await;
}

#[tokio::test]
async fn a_cell_phones_own_voicemail_answering_is_missed() {
    let machine = LegScript {
        answered_by: Some("machine_start".into()),
        ..LegScript::answered("+14155550100", Duration::from_secs(25))
    };
    missed_shape(vec![machine], false, "no_answer").await;
}

#[tokio::test]
async fn picking_up_for_under_three_seconds_is_missed() {
    missed_shape(
        vec![LegScript::answered("+14155550100", Duration::from_secs(2))],
        false,
        "no_answer",
    )
    .await;
}

#[tokio::test]
async fn simultaneous_ring_answered_by_one_phone_is_not_texted() {
    let mut h = Harness::start().await;
    h.sync().await;
    let sid = h
        .inbound(
            CALLER,
            vec![
                LegScript::no_answer("+14155550100"),
                LegScript::answered("+14155550101", Duration::from_secs(60)),
            ],
        )
        .await;
    h.sync().await;
    assert_eq!(
        h.stored_call(&sid).outcome.as_deref(),
        Some("answered"),
        "one phone picking up answers the call"
    );
    let d = h
        .decision(&sid)
        .expect("answered inbound calls are decided too");
    assert_eq!(
        (d.action.as_str(), d.code.as_str(), d.outbox_id),
        ("skip", "answered", None),
        "an answered call is never texted: {d:?}"
    );
    h.assert_nothing_sent("nothing was queued", "no text after an answered call")
        .await;
    let events = h.drain_events();
    assert_eq!(
        count(&events, |e| matches!(e, DomainEvent::CallMissed { .. })),
        0,
        "an answered call is not announced as missed: {events:?}"
    );
}

#[tokio::test]
async fn a_call_still_ringing_is_revisited_until_it_ends() {
    let mut h = Harness::start().await;
    h.sync().await;
    let sid = h.sim.place_call(CallScript::inbound(
        CALLER,
        BUSINESS,
        None,
        vec![LegScript::no_answer("+14155550100")],
    ));
    h.sync().await;
    let call = h.stored_call(&sid);
    assert_eq!(
        (call.status.as_str(), call.outcome.as_deref()),
        ("ringing", None),
        "a ringing call is stored but not classified: {call:?}"
    );
    assert!(
        h.decision(&sid).is_none(),
        "a ringing call is not decided yet"
    );
    h.sync().await;
    h.assert_nothing_sent(
        "nothing to send while it rings",
        "no text while the phone still rings",
    )
    .await;

    h.sim.end_call(&sid);
    h.wait_final(&sid).await;
    assert_one_text_back(&mut h, &sid, "no_answer").await;
}

#[tokio::test]
async fn outbound_calls_are_not_texted() {
    let mut h = Harness::start().await;
    h.sync().await;
    let answered = h
        .call(CallScript::outbound_api(
            BUSINESS,
            CALLER,
            Some(Duration::ZERO),
            Some(Duration::from_secs(30)),
        ))
        .await;
    let unanswered = h
        .call(CallScript::outbound_api(
            BUSINESS,
            CALLERS[1],
            Some(Duration::ZERO),
            None,
        ))
        .await;
    h.sync().await;
    for sid in [&answered, &unanswered] {
        let call = h.stored_call(sid);
        assert_eq!(
            call.direction, "outbound-api",
            "staff call-backs are synced: {call:?}"
        );
        assert!(
            h.decision(sid).is_none_or(|d| d.action != "send"),
            "a call the business made is never texted back"
        );
    }
    h.assert_nothing_sent("nothing was queued", "no text for outbound calls")
        .await;
    let events = h.drain_events();
    assert_eq!(
        count(&events, |e| matches!(e, DomainEvent::CallMissed { .. })),
        0,
        "an unanswered outbound call is not a missed call: {events:?}"
    );
}

#[tokio::test]
async fn calls_to_an_unconfigured_number_on_the_account_are_ignored() {
    const OTHER: &str = "+15005550007";
    let sim_config = SimConfig {
        numbers: vec![BUSINESS.into(), OTHER.into()],
        ..SimConfig::default()
    };
    let h = Harness::with(config(), sim_config).await;
    h.sync().await;
    let sid = h
        .call(CallScript::inbound(
            CALLER,
            OTHER,
            Some(Duration::ZERO),
            vec![LegScript::no_answer("+14155550100")],
        ))
        .await;
    h.sync().await;
    let stored = h
        .store
        .read(|c| textback_store::calls::by_provider_id(c, "twilio", &sid))
        .expect("reading calls works");
    assert!(
        stored.is_none(),
        "a number Textback was not told to watch is not mirrored: {stored:?}"
    );
    h.assert_nothing_sent("nothing was queued", "no text for another number's calls")
        .await;
}

#[tokio::test]
async fn anonymous_callers_are_not_texted() {
    let mut h = Harness::start().await;
    h.sync().await;
    let mut sids = Vec::new();
    for from in ["+266696687", "anonymous"] {
        sids.push(h.missed_call(from).await);
    }
    h.sync().await;
    for sid in &sids {
        let d = h
            .decision(sid)
            .expect("a missed call from a hidden number is decided");
        assert_eq!(
            (d.action.as_str(), d.code.as_str()),
            ("skip", "caller_withheld"),
            "a hidden number cannot be texted: {d:?}"
        );
    }
    h.assert_nothing_sent("nothing was queued", "no text to a withheld number")
        .await;
    let events = h.drain_events();
    assert_eq!(
        count(
            &events,
            |e| matches!(e, DomainEvent::TextBackSkipped { code, .. } if code == "caller_withheld")
        ),
        2,
        "each skipped missed call says why: {events:?}"
    );
}

#[tokio::test]
async fn a_landline_fails_once_is_remembered_and_never_retried() {
    let mut h = Harness::start().await;
    h.sim.set_landline(CALLER);
    let sid = h.fresh_missed_call(CALLER).await;
    assert_eq!(
        h.send_all().await,
        vec![SendStep::Sent, SendStep::Empty],
        "a permanent failure resolves the entry"
    );
    let entry = h.textback_entry(&sid);
    assert_eq!(
        entry.state,
        outbox::State::Failed,
        "21614 fails the message for good"
    );
    let contact = h.contact(CALLER);
    assert!(
        contact.landline,
        "the caller is remembered as a landline: {contact:?}"
    );
    let events = h.drain_events();
    assert_eq!(
        count(&events, |e| matches!(
            e,
            DomainEvent::SendFailed {
                code: Some(21614),
                ..
            }
        )),
        1,
        "the failure is announced with Twilio's code: {events:?}"
    );
    assert_eq!(h.sim.message_requests(), 1, "one attempt only");

    // A new process on the same database must not try again, nor text the next call.
    h.restart();
    assert_eq!(h.reconcile().await, 0, "nothing unresolved");
    h.sync().await;
    assert_eq!(
        h.send_all().await,
        vec![SendStep::Empty],
        "a failed entry is never retried"
    );
    h.advance(chrono::Duration::minutes(5));
    let again = h.missed_call(CALLER).await;
    h.sync().await;
    let d = h.decision(&again).expect("the next missed call is decided");
    assert_eq!(
        (d.action.as_str(), d.outbox_id),
        ("skip", None),
        "a known landline is not texted again: {d:?}"
    );
    assert_eq!(
        h.send_all().await,
        vec![SendStep::Empty],
        "nothing was queued"
    );
    assert_eq!(
        h.sim.message_requests(),
        1,
        "the landline was tried exactly once"
    );
    assert!(
        h.sim.sent_messages().is_empty(),
        "nothing reached a landline"
    );
}

#[tokio::test]
async fn an_opted_out_caller_is_never_texted() {
    let mut h = Harness::start().await;
    h.sync().await;
    h.sim.inbound_sms(CALLER, BUSINESS, "STOP");
    h.sync().await;
    let events = h.drain_events();
    assert_eq!(
        count(
            &events,
            |e| matches!(e, DomainEvent::OptedOut { phone, .. } if phone == CALLER)
        ),
        1,
        "the STOP is seen and announced once: {events:?}"
    );

    h.advance(chrono::Duration::seconds(5));
    let sid = h.missed_call(CALLER).await;
    h.sync().await;
    let d = h.decision(&sid).expect("the missed call is decided");
    assert_eq!(
        (d.action.as_str(), d.code.as_str()),
        ("skip", "opted_out"),
        "someone who texted STOP is not texted back: {d:?}"
    );
    assert_eq!(
        h.send_all().await,
        vec![SendStep::Empty],
        "nothing was queued"
    );

    let conversation = h.conversation_of(&sid);
    let refused = h
        .engine
        .queue_reply(conversation, "Are you still there?", Some("Sam"));
    assert!(
        matches!(refused, Err(EngineError::OptedOut { .. })),
        "a person cannot text an opted-out number either: {refused:?}"
    );
    h.assert_nothing_sent(
        "the refused reply was not queued",
        "nothing was sent to the opted-out caller",
    )
    .await;
    assert_eq!(
        h.sim.message_requests(),
        0,
        "not even an attempt reached the provider"
    );
}

#[tokio::test]
async fn history_is_never_texted_and_a_restart_is_not_a_first_start() {
    let mut h = Harness::start().await;
    let old = h.missed_call(CALLER).await;
    // Provider time stamps are whole seconds; a call in the same second as the first watch
    // counts as new, so let the history be clearly older.
    h.advance(chrono::Duration::seconds(2));
    h.sync().await;
    let call = h.stored_call(&old);
    assert!(
        call.before_textback,
        "a call before the first sync is history: {call:?}"
    );
    let d = h.decision(&old).expect("history is decided (as a skip)");
    assert_eq!(
        (d.action.as_str(), d.code.as_str()),
        ("skip", "before_textback"),
        "history is shown, never texted: {d:?}"
    );
    assert_eq!(
        h.send_all().await,
        vec![SendStep::Empty],
        "nothing was queued"
    );

    // Down for a while; a call is missed meanwhile; a new process starts on the same file.
    h.restart();
    h.advance(chrono::Duration::minutes(10));
    let while_down = h.missed_call(CALLERS[1]).await;
    h.advance(chrono::Duration::seconds(30));
    h.sync().await;
    let d = h
        .decision(&while_down)
        .expect("the call missed while down is decided");
    assert_eq!(
        (d.action.as_str(), d.code.as_str()),
        ("send", "send"),
        "a restart keeps the watch start: a fresh call missed while down is texted: {d:?}"
    );
    assert_eq!(
        h.send_all().await,
        vec![SendStep::Sent, SendStep::Empty],
        "one text-back"
    );
    let sent = h.sim.sent_messages();
    assert_eq!(
        sent.len(),
        1,
        "only the call missed while down is texted: {sent:?}"
    );
    assert_eq!(
        sent[0].to, CALLERS[1],
        "the text goes to the caller missed while down"
    );
}

#[tokio::test]
async fn stop_then_start_in_the_same_second_ends_opted_in() {
    let h = Harness::start().await;
    h.sync().await;
    // Provider time stamps are whole seconds: both texts usually share one. The provider's
    // own order (newest first) must decide, not the random message sids.
    for caller in CALLERS {
        h.sim.inbound_sms(caller, BUSINESS, "STOP");
        h.sim.inbound_sms(caller, BUSINESS, "START");
    }
    h.sync().await;
    for caller in CALLERS {
        let contact = h.contact(caller);
        assert!(
            !contact.opted_out(),
            "{caller}'s last word was START: they are opted in, as the provider has them: {contact:?}"
        );
        assert!(
            !h.sim.is_opted_out(caller, BUSINESS),
            "the provider agrees {caller} is opted in"
        );
    }
}

//! The lead lifecycle through the real engine: follow-ups, their stop conditions, quiet hours,
//! escalation to whoever is on shift, acknowledgement by text, keyword replies, and timers
//! that survive a restart and a clock jump. Time moves only when the test moves it.

use std::time::Duration as StdDuration;

use chrono::{Datelike, Duration, TimeZone, Timelike};
use textback_domain::PhoneNumber;
use textback_domain::compliance::ReplyMode;
use textback_domain::shifts::{Role, RotaShift};
use textback_engine::config::Staff;
use textback_engine::{Config, DomainEvent, lifecycle};
use textback_sim::CallScript;
use textback_store::{audit, escalations, jobs, leads, outbox};

use crate::common::{BUSINESS, CALLER, CALLERS, Harness, config, count};

const DANA: &str = "+14155550190";
const OWEN: &str = "+14155550191";

/// Open around the clock, no quiet hours (the tests run at any real hour), Dana on shift all
/// week and Owen the owner (the backup).
fn lifecycle_config() -> Config {
    let mut c = config();
    c.sending_hours.enabled = false;
    c.staff = vec![
        Staff {
            name: "Dana".into(),
            role: Role::Staff,
            phone: Some(PhoneNumber::parse_e164(DANA).unwrap()),
            desk: Some("front".into()),
        },
        Staff {
            name: "Owen".into(),
            role: Role::Owner,
            phone: Some(PhoneNumber::parse_e164(OWEN).unwrap()),
            desk: None,
        },
    ];
    c.shifts.rota = vec![RotaShift {
        who: "Dana".into(),
        days: "daily".parse().unwrap(),
        hours: "00:00-24:00".parse().unwrap(),
    }];
    c
}

/// Messages the simulator received for `to`, oldest first.
fn texts_to(h: &Harness, to: &str) -> Vec<String> {
    h.sim
        .sent_messages()
        .into_iter()
        .filter(|m| m.to == to)
        .map(|m| m.body)
        .collect()
}

/// Runs due timers and sends what they queued.
async fn tick(h: &Harness) {
    h.engine.run_due_timers().await.expect("timers run");
    h.send_all().await;
}

/// A missed call from `caller`, texted back.
async fn texted_back(h: &Harness, caller: &str) -> leads::Lead {
    h.fresh_missed_call(caller).await;
    h.send_all().await;
    assert_eq!(texts_to(h, caller).len(), 1, "the text-back went out");
    open_lead(h)
}

fn open_lead(h: &Harness) -> leads::Lead {
    h.store
        .read(|c| {
            let id: i64 = c.query_row(
                "SELECT id FROM leads WHERE closed_at IS NULL ORDER BY id DESC LIMIT 1",
                [],
                |r| r.get(0),
            )?;
            leads::get(c, id)
        })
        .expect("an open lead")
}

fn lead(h: &Harness, id: i64) -> leads::Lead {
    h.store.read(|c| leads::get(c, id)).unwrap()
}

#[tokio::test]
async fn the_default_sequence_sends_three_touches_then_stops() {
    let h = Harness::with_config(lifecycle_config()).await;
    let l = texted_back(&h, CALLER).await;
    assert_eq!((l.state.as_str(), l.touches), ("texted", 1));

    h.advance(Duration::minutes(119));
    tick(&h).await;
    assert_eq!(texts_to(&h, CALLER).len(), 1, "not before two hours");
    h.advance(Duration::minutes(1));
    tick(&h).await;
    let texts = texts_to(&h, CALLER);
    assert_eq!(texts.len(), 2, "the first follow-up at two hours");
    assert!(texts[1].contains("just checking in"), "{texts:?}");
    assert!(
        texts[1].contains("metadata%5Btextback_ref%5D="),
        "follow-ups carry the lead's tracked booking link: {texts:?}"
    );

    // The last touch: the next business day at opening (open around the clock: midnight).
    h.advance(Duration::days(1));
    tick(&h).await;
    let texts = texts_to(&h, CALLER);
    assert_eq!(texts.len(), 3, "the final touch the next business day");
    assert!(texts[2].contains("one last time"), "{texts:?}");
    let l = lead(&h, l.id);
    assert_eq!((l.touches, l.state.as_str()), (3, "texted"));

    for _ in 0..5 {
        h.advance(Duration::days(1));
        tick(&h).await;
    }
    assert_eq!(
        texts_to(&h, CALLER).len(),
        3,
        "at most three touches counting the text-back"
    );
}

#[tokio::test]
async fn a_reply_stops_the_sequence_and_nobody_answering_pages_whoever_is_on_shift() {
    let mut h = Harness::with_config(lifecycle_config()).await;
    let l = texted_back(&h, CALLER).await;
    h.advance(Duration::minutes(30));
    h.sim
        .inbound_sms(CALLER, BUSINESS, "Yes please, the sink is leaking");
    h.sync().await;
    assert_eq!(lead(&h, l.id).state, "replied");

    h.advance(Duration::minutes(4));
    tick(&h).await;
    assert!(texts_to(&h, DANA).is_empty(), "not before five minutes");
    h.drain_events();
    h.advance(Duration::minutes(1));
    tick(&h).await;
    let page = texts_to(&h, DANA);
    assert_eq!(page.len(), 1, "Dana is on shift: paged once");
    assert!(
        page[0].contains(CALLER) && page[0].contains("Reply OK"),
        "{page:?}"
    );
    assert!(texts_to(&h, OWEN).is_empty(), "the owner is not paged yet");
    let events = h.drain_events();
    assert_eq!(
        count(&events, |e| matches!(
            e,
            DomainEvent::EscalationRaised { .. }
        )),
        1,
        "{events:?}"
    );
    assert!(lead(&h, l.id).escalated);

    // Nobody answers: repeats every five minutes; after ten the owner is paged too.
    h.advance(Duration::minutes(5));
    tick(&h).await;
    assert_eq!(texts_to(&h, DANA).len(), 2, "repeat");
    assert!(texts_to(&h, OWEN).is_empty());
    h.advance(Duration::minutes(5));
    tick(&h).await;
    assert_eq!(texts_to(&h, DANA).len(), 3);
    assert_eq!(
        texts_to(&h, OWEN).len(),
        1,
        "ten minutes unanswered: the backup"
    );

    // A restart in between changes nothing: the next round is a durable timer.
    h.restart();
    // Dana texts OK from her phone: the newest open escalation paged to her is taken.
    h.sim.inbound_sms(DANA, BUSINESS, "ok thanks");
    h.sync().await;
    let esc = h
        .store
        .read(|c| escalations::latest_for_conversation(c, l.conversation_id))
        .unwrap()
        .unwrap();
    assert_eq!(esc.acked_by.as_deref(), Some("Dana (by text)"));
    for _ in 0..4 {
        h.advance(Duration::minutes(5));
        tick(&h).await;
    }
    assert_eq!(
        (texts_to(&h, DANA).len(), texts_to(&h, OWEN).len()),
        (3, 1),
        "no pages after the acknowledgement"
    );
    assert_eq!(
        texts_to(&h, CALLER).len(),
        1,
        "no follow-up after the reply"
    );
    assert!(
        h.store
            .read(|c| leads::open_for(c, l.conversation_id))
            .unwrap()
            .is_some(),
        "an escalation does not close the lead: a person still has to book it"
    );
}

#[tokio::test]
async fn an_urgent_word_escalates_at_once_and_a_second_rule_adds_to_the_same_escalation() {
    let mut h = Harness::with_config(lifecycle_config()).await;
    let l = texted_back(&h, CALLER).await;
    h.sim
        .inbound_sms(CALLER, BUSINESS, "Water everywhere, it's an EMERGENCY!");
    h.sync().await;
    tick(&h).await;
    assert_eq!(texts_to(&h, DANA).len(), 1, "paged at once");
    // Five minutes later "nobody answered" fires for the same lead: no second page.
    h.advance(Duration::minutes(5));
    h.drain_events();
    h.engine.run_due_timers().await.unwrap();
    let esc = h
        .store
        .read(|c| escalations::open_for_lead(c, l.id))
        .unwrap()
        .expect("still open");
    assert_eq!(esc.reasons.len(), 2, "{:?}", esc.reasons);
    assert!(esc.reasons[0].contains("emergency"), "{:?}", esc.reasons);
    assert_eq!(
        count(&h.drain_events(), |e| matches!(
            e,
            DomainEvent::EscalationRaised { .. }
        )),
        0,
        "one open escalation per lead"
    );
}

#[tokio::test]
async fn a_booked_lead_stops_every_automation() {
    let h = Harness::with_config(lifecycle_config()).await;
    let l = texted_back(&h, CALLER).await;
    h.store
        .immediate(|tx| lifecycle::stop_lead(tx, l.id, "booked", "booked", "Sam", h.now()))
        .unwrap();
    for _ in 0..4 {
        h.advance(Duration::hours(12));
        tick(&h).await;
    }
    assert_eq!(texts_to(&h, CALLER).len(), 1, "nothing after the booking");
    assert!(
        texts_to(&h, DANA).is_empty(),
        "no 'still unbooked' escalation"
    );
    assert_eq!(lead(&h, l.id).state, "booked");
}

#[tokio::test]
async fn a_person_texting_the_customer_stops_the_sequence() {
    let h = Harness::with_config(lifecycle_config()).await;
    let l = texted_back(&h, CALLER).await;
    h.engine
        .queue_reply(
            l.conversation_id,
            "Hi, Sam here, calling you in 5",
            Some("Sam"),
        )
        .unwrap();
    h.send_all().await;
    for _ in 0..3 {
        h.advance(Duration::hours(12));
        tick(&h).await;
    }
    let texts = texts_to(&h, CALLER);
    assert_eq!(
        texts.len(),
        2,
        "the text-back and Sam's text, no follow-up: {texts:?}"
    );
}

#[tokio::test]
async fn a_call_back_that_connects_stops_the_sequence_and_one_nobody_answers_does_not() {
    let h = Harness::with_config(lifecycle_config()).await;
    let answered = texted_back(&h, CALLER).await;
    h.advance(Duration::minutes(3));
    h.call(CallScript::outbound_api(
        BUSINESS,
        CALLER,
        Some(StdDuration::ZERO),
        Some(StdDuration::from_secs(90)),
    ))
    .await;
    h.sync().await;

    let unanswered = texted_back(&h, CALLERS[1]).await;
    h.advance(Duration::minutes(3));
    h.call(CallScript::outbound_api(
        BUSINESS,
        CALLERS[1],
        Some(StdDuration::ZERO),
        None,
    ))
    .await;
    h.sync().await;

    for _ in 0..3 {
        h.advance(Duration::hours(12));
        tick(&h).await;
    }
    let to_answered = texts_to(&h, CALLER);
    assert_eq!(to_answered.len(), 1, "only the text-back: {to_answered:?}");
    let to_unanswered = texts_to(&h, CALLERS[1]);
    assert_eq!(
        to_unanswered.len(),
        3,
        "a call-back nobody picked up leaves the sequence running: {to_unanswered:?}"
    );
    let stopped = h
        .store
        .read(|c| audit::for_subject(c, &format!("lead:{}", answered.id)))
        .unwrap();
    assert!(
        stopped.iter().any(|e| e.action == "sequence_stopped"
            && e.detail
                .as_deref()
                .is_some_and(|d| d.contains("called back"))),
        "the audit log says why the sequence stopped: {stopped:?}"
    );
    assert_ne!(answered.id, unanswered.id);
}

#[tokio::test]
async fn unbooked_after_a_day_escalates_once() {
    let h = Harness::with_config(lifecycle_config()).await;
    texted_back(&h, CALLER).await;
    h.advance(Duration::hours(23));
    tick(&h).await;
    assert!(texts_to(&h, DANA).is_empty());
    h.advance(Duration::hours(1));
    tick(&h).await;
    let page = texts_to(&h, DANA);
    assert_eq!(page.len(), 1, "{page:?}");
    assert!(page[0].contains("not booked"), "{page:?}");
}

#[tokio::test]
async fn a_pending_follow_up_fires_once_after_a_restart_and_once_after_a_clock_jump() {
    let mut h = Harness::with_config(lifecycle_config()).await;
    let l = texted_back(&h, CALLER).await;
    h.restart();
    // The machine slept for three days: both later touches are overdue, only the next fires.
    h.advance(Duration::days(3));
    tick(&h).await;
    tick(&h).await;
    assert_eq!(
        texts_to(&h, CALLER).len(),
        2,
        "one follow-up, not two at once"
    );
    h.restart();
    h.engine.run_due_timers().await.unwrap();
    h.send_all().await;
    assert_eq!(
        texts_to(&h, CALLER).len(),
        2,
        "nothing runs twice after a restart"
    );
    let pending = h
        .store
        .read(|c| jobs::pending_with_key(c, &format!("lead:{}:touch:3", l.id)))
        .unwrap()
        .expect("the last touch is scheduled from when the second went out");
    assert!(pending.run_at > h.now());
}

#[tokio::test]
async fn follow_ups_wait_for_the_customers_morning() {
    let mut c = lifecycle_config();
    c.sending_hours.enabled = true;
    c.sending_hours.state_rules = false;
    let h = Harness::with_config(c).await;
    // Move to 20:30 in Los Angeles (the caller's 415 area code): the follow-up would be 22:30.
    let la = chrono_tz::America::Los_Angeles;
    let now = h.now().with_timezone(&la);
    let mut target = la
        .with_ymd_and_hms(now.year(), now.month(), now.day(), 20, 30, 0)
        .single()
        .unwrap();
    if target <= now {
        target += Duration::days(1);
    }
    h.advance(target.with_timezone(&chrono::Utc) - h.now());
    let l = texted_back(&h, CALLER).await;
    h.advance(Duration::hours(3));
    tick(&h).await;
    assert_eq!(texts_to(&h, CALLER).len(), 1, "not at 23:30 in Los Angeles");
    let job = h
        .store
        .read(|c| jobs::pending_with_key(c, &format!("lead:{}:touch:2", l.id)))
        .unwrap()
        .expect("moved, not dropped");
    let at = job.run_at.with_timezone(&la);
    assert_eq!(
        (at.hour(), at.minute()),
        (8, 0),
        "the next 08:00 there: {at}"
    );
    h.advance(job.run_at - h.now());
    tick(&h).await;
    assert_eq!(texts_to(&h, CALLER).len(), 2);
}

#[tokio::test]
async fn opt_out_variants_get_one_confirmation_and_the_provider_s_own_keywords_none() {
    let h = Harness::with_config(lifecycle_config()).await;
    texted_back(&h, CALLERS[0]).await;
    texted_back(&h, CALLERS[1]).await;
    h.sim
        .inbound_sms(CALLERS[0], BUSINESS, "Stop texting me please");
    h.sim.inbound_sms(CALLERS[1], BUSINESS, "STOP");
    h.sync().await;
    h.send_all().await;
    h.sync().await;
    h.send_all().await;
    let first = texts_to(&h, CALLERS[0]);
    assert_eq!(
        first.len(),
        2,
        "one confirmation for a variant Twilio does not catch: {first:?}"
    );
    assert!(first[1].contains("no more texts"), "{first:?}");
    assert_eq!(
        texts_to(&h, CALLERS[1]).len(),
        1,
        "Twilio confirms its own STOP: nothing from us"
    );
    for _ in 0..3 {
        h.advance(Duration::hours(12));
        tick(&h).await;
    }
    assert_eq!(
        texts_to(&h, CALLERS[0]).len(),
        2,
        "nothing after the confirmation"
    );
    assert_eq!(texts_to(&h, CALLERS[1]).len(), 1);
}

#[tokio::test]
async fn help_gets_our_reply_at_most_once_a_day_when_switched_on() {
    let mut c = lifecycle_config();
    c.compliance.help = ReplyMode::Always;
    let h = Harness::with_config(c).await;
    texted_back(&h, CALLER).await;
    h.sim.inbound_sms(CALLER, BUSINESS, "HELP");
    h.sync().await;
    h.send_all().await;
    h.sim.inbound_sms(CALLER, BUSINESS, "help");
    h.sync().await;
    h.send_all().await;
    let texts = texts_to(&h, CALLER);
    assert_eq!(
        texts.len(),
        2,
        "one reply for two HELPs the same day: {texts:?}"
    );
    assert!(texts[1].contains("Reply STOP to opt out"), "{texts:?}");
    assert!(texts[1].contains("Rapid Rooter Plumbing"), "{texts:?}");
    h.advance(Duration::hours(25));
    h.sim.inbound_sms(CALLER, BUSINESS, "Help");
    h.sync().await;
    h.send_all().await;
    assert_eq!(texts_to(&h, CALLER).len(), 3, "again the next day");
}

#[tokio::test]
async fn by_default_help_is_left_to_the_provider_which_answers_it_itself() {
    let h = Harness::with_config(lifecycle_config()).await;
    texted_back(&h, CALLER).await;
    h.sim.inbound_sms(CALLER, BUSINESS, "HELP");
    h.sync().await;
    h.send_all().await;
    assert_eq!(
        texts_to(&h, CALLER).len(),
        1,
        "no second answer to Twilio's own keyword"
    );
}

#[tokio::test]
async fn a_staff_phone_never_becomes_a_lead_or_gets_a_text_back() {
    let h = Harness::with_config(lifecycle_config()).await;
    h.fresh_missed_call(DANA).await;
    h.send_all().await;
    assert!(texts_to(&h, DANA).is_empty());
    let open: i64 = h
        .store
        .read(|c| Ok(c.query_row("SELECT COUNT(*) FROM leads", [], |r| r.get(0))?))
        .unwrap();
    assert_eq!(open, 0);
    let queued = h.store.read(outbox::count_waiting).unwrap();
    assert_eq!(queued, 0);
}

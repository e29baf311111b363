//! The lead lifecycle as the app shows it: the escalated filter and marker, the escalation on
//! the thread and its "I've got it", the lead's history on the timeline, and the owner's
//! funnel. A live desk against the simulator (the engine escalates for real), and the funnel
//! on a store filled by hand with calls and leads at chosen times.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use textback_app::dto::{
    FunnelBucket, FunnelQuery, InboxFilter, InboxQuery, LeadState, TimelineItem,
};
use textback_app::{Desk, DeskOptions};
use textback_engine::DomainEvent;
use textback_sim::{CallScript, LegScript, Sim, SimConfig};
use textback_store::{Store, calls, contacts, conversations, decisions, jobs, leads};

use crate::until;

const CALLER: &str = "+15125550123";
const OWNER_PHONE: &str = "+15125550188";
const URGENT_TEXT: &str = "Water is pouring through the ceiling, this is an emergency";

fn lead_activity(desk_items: &[TimelineItem]) -> Vec<(String, String)> {
    desk_items
        .iter()
        .filter_map(|i| match i {
            TimelineItem::Activity { action, actor, .. } => Some((action.clone(), actor.clone())),
            _ => None,
        })
        .collect()
}

async fn list(desk: &Desk, filter: InboxFilter) -> Vec<textback_app::dto::ConversationSummary> {
    desk.inbox_list(InboxQuery {
        filter,
        limit: 50,
        ..Default::default()
    })
    .await
    .expect("the inbox lists")
    .items
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_escalated_lead_is_flagged_shown_and_taken_from_the_desk() {
    let dir = tempfile::tempdir().unwrap();
    let sim = Sim::start(SimConfig::default()).await.unwrap();
    let config = dir.path().join("textback.toml");
    // No rota: nobody is on shift, so the owner is paged (by text, having a phone).
    std::fs::write(
        &config,
        format!(
            "[[numbers]]\nnumber = \"{}\"\n\n[[staff]]\nname = \"Dee\"\nrole = \"owner\"\nphone = \"{OWNER_PHONE}\"\n",
            SimConfig::DEFAULT_NUMBER
        ),
    )
    .unwrap();
    let env: Vec<(&str, String)> = vec![
        (
            "TEXTBACK_DATA_DIR",
            dir.path().join("data").display().to_string(),
        ),
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
    desk.wait_synced().await;
    let mut rx = desk.subscribe();

    // A missed call is texted back; the caller answers with an urgent word.
    sim.place_call(CallScript::inbound(
        CALLER,
        SimConfig::DEFAULT_NUMBER,
        Some(Duration::from_millis(200)),
        vec![LegScript::no_answer("+15125550100")],
    ));
    let conv = until(&mut rx, |e| match e {
        DomainEvent::TextBackSent {
            conversation_id, ..
        } => *conversation_id,
        _ => None,
    })
    .await;
    sim.inbound_sms(CALLER, SimConfig::DEFAULT_NUMBER, URGENT_TEXT);
    let esc_id = until(&mut rx, |e| match e {
        DomainEvent::EscalationPaged {
            escalation_id,
            conversation_id,
            ..
        } if *conversation_id == conv => Some(*escalation_id),
        _ => None,
    })
    .await;

    // The inbox flags it, and the escalated filter finds exactly it.
    let escalated = list(&desk, InboxFilter::Escalated).await;
    assert_eq!(
        escalated.iter().map(|c| c.id).collect::<Vec<_>>(),
        vec![conv],
        "the escalated filter shows the one conversation whose lead has an open escalation"
    );
    assert!(
        escalated[0].escalated,
        "its row carries the escalated marker"
    );
    assert_eq!(escalated[0].lead_state, Some(LeadState::Replied));

    // The thread shows why, who was paged and when, and the history on the timeline.
    let thread = desk.open_conversation(conv).await.unwrap();
    let esc = thread
        .escalation
        .clone()
        .expect("the thread carries the escalation");
    assert_eq!(esc.id, esc_id);
    assert!(
        esc.reasons.iter().any(|r| r.contains("emergency")),
        "the reason names the urgent word: {:?}",
        esc.reasons
    );
    assert_eq!(esc.acknowledged_at, None, "nobody has taken it yet");
    assert_eq!(
        esc.pages.len(),
        1,
        "one page in the first round: {:?}",
        esc.pages
    );
    assert_eq!(
        esc.pages[0].staff, "Dee",
        "nobody on shift: the owner is paged"
    );
    assert_eq!(esc.pages[0].phone.as_deref(), Some(OWNER_PHONE));
    assert_eq!(esc.pages[0].round, 0);
    let history = lead_activity(&thread.items);
    assert!(
        history.contains(&("escalated".into(), "engine".into()))
            && history.contains(&("escalation_paged".into(), "engine".into())),
        "the timeline shows the escalation and the page: {history:?}"
    );
    let page_text = tokio::time::timeout(
        Duration::from_secs(30),
        sim.wait_message(|m| m.to == OWNER_PHONE),
    )
    .await
    .expect("the page reaches the owner's phone through the provider");
    assert!(
        page_text.body.contains(CALLER) || page_text.body.contains("512"),
        "the page says which customer: {:?}",
        page_text.body
    );
    let next_round = format!("esc:{esc_id}:round:1");
    assert!(
        desk.store()
            .await
            .read(|c| jobs::pending_with_key(c, &next_round))
            .unwrap()
            .is_some(),
        "a second round is scheduled while nobody has taken it"
    );

    // "I've got it".
    let taken = desk.acknowledge_escalation(esc_id).await.unwrap();
    assert_eq!(
        taken.acknowledged_by.as_deref(),
        Some("Front desk"),
        "taken by this desk's user"
    );
    assert!(taken.acknowledged_at.is_some());
    until(&mut rx, |e| {
        matches!(e, DomainEvent::EscalationAcknowledged { escalation_id, by, .. }
            if *escalation_id == esc_id && by == "Front desk")
        .then_some(())
    })
    .await;
    assert!(
        desk.store()
            .await
            .read(|c| jobs::pending_with_key(c, &next_round))
            .unwrap()
            .is_none(),
        "paging stops: the next round is cancelled"
    );
    assert!(
        list(&desk, InboxFilter::Escalated).await.is_empty(),
        "a taken escalation leaves the escalated filter"
    );
    let row = list(&desk, InboxFilter::All).await;
    let row = row.iter().find(|c| c.id == conv).unwrap();
    assert!(!row.escalated, "and the row loses its marker");
    let thread = desk.open_conversation(conv).await.unwrap();
    assert_eq!(
        thread
            .escalation
            .as_ref()
            .and_then(|e| e.acknowledged_by.as_deref()),
        Some("Front desk"),
        "the thread says who took it"
    );
    assert!(
        lead_activity(&thread.items)
            .contains(&("escalation_acknowledged".into(), "Front desk".into())),
        "and its timeline shows it: {:?}",
        lead_activity(&thread.items)
    );

    // Taking it again changes nothing: the first to take it keeps it.
    let again = desk.acknowledge_escalation(esc_id).await.unwrap();
    assert_eq!(
        again.acknowledged_at, taken.acknowledged_at,
        "the first take stands"
    );
    assert_eq!(
        desk.acknowledge_escalation(esc_id + 1000)
            .await
            .unwrap_err()
            .code,
        "not_found",
        "an unknown escalation is not found"
    );

    // Booked with a job value: the thread shows the state after, and the funnel counts it.
    desk.mark_booked(conv, Some(48_000)).await.unwrap();
    let thread = desk.open_conversation(conv).await.unwrap();
    assert_eq!(thread.conversation.lead_state, Some(LeadState::Booked));
    assert_eq!(thread.job_value_cents, Some(48_000));
    assert!(
        lead_activity(&thread.items).contains(&("lead_booked".into(), "Front desk".into())),
        "the timeline shows who booked it"
    );
    let tz = desk.config().await.business_hours().unwrap().tz;
    let today = Utc::now().with_timezone(&tz).date_naive().to_string();
    let funnel = desk
        .funnel(FunnelQuery {
            from: today.clone(),
            to: today.clone(),
            bucket: FunnelBucket::Day,
        })
        .await
        .unwrap();
    let t = &funnel.totals;
    assert_eq!(
        (
            t.missed_calls,
            t.texted_back,
            t.replied,
            t.booked,
            t.job_value_cents
        ),
        (1, 1, 1, 1, 48_000),
        "today: one missed call, texted back, replied, booked for $480: {t:?}"
    );
    desk.shutdown().await;
    sim.shutdown().await;
}

/// 2026-03-03 in Chicago (UTC-6 until DST starts on 2026-03-08).
fn chicago(day: u32, hour: u32, minute: u32) -> DateTime<Utc> {
    let tz: chrono_tz::Tz = "America/Chicago".parse().unwrap();
    tz.with_ymd_and_hms(2026, 3, day, hour, minute, 0)
        .single()
        .unwrap()
        .with_timezone(&Utc)
}

/// What happened to one missed call, for [`seed`].
struct Seed {
    at: DateTime<Utc>,
    phone: &'static str,
    outcome: &'static str,
    decision: &'static str,
    before_textback: bool,
    /// Touches sent, replied, final state, job value; None: no lead opened.
    lead: Option<(i64, bool, &'static str, Option<i64>)>,
}

fn seed(store: &Store, rows: &[Seed]) {
    store
        .immediate(|tx| {
            for (i, s) in rows.iter().enumerate() {
                let contact = contacts::ensure(tx, s.phone, s.at)?;
                let conv = conversations::ensure(tx, "+15005550006", contact, s.at)?;
                let (call, _) = calls::upsert(
                    tx,
                    &calls::Upsert {
                        provider: "twilio",
                        provider_call_id: &format!("CA{i:032}"),
                        business_number: "+15005550006",
                        caller_raw: s.phone,
                        contact_id: Some(contact),
                        conversation_id: Some(conv),
                        direction: "inbound",
                        status: "no-answer",
                        started_at: Some(s.at),
                        ended_at: Some(s.at + chrono::Duration::seconds(25)),
                        duration_secs: Some(0),
                        before_textback: s.before_textback,
                    },
                    s.at,
                )?;
                calls::set_outcome(tx, call.id, s.outcome, "test", s.at)?;
                decisions::insert(
                    tx,
                    &decisions::New {
                        call_id: call.id,
                        action: if s.decision == "send" { "send" } else { "skip" },
                        code: s.decision,
                        reason: "test",
                        outbox_id: None,
                    },
                    s.at,
                )?;
                let Some((touches, replied, state, value)) = s.lead else {
                    continue;
                };
                // Opened a few seconds after the call ends, as the engine decides.
                let opened = s.at + chrono::Duration::seconds(30);
                let lead = leads::ensure_open(tx, conv, Some(call.id), opened)?;
                for _ in 0..touches {
                    leads::record_touch(tx, lead.id, opened)?;
                }
                if replied {
                    leads::record_reply(tx, lead.id, opened + chrono::Duration::hours(1))?;
                }
                if state != "open" {
                    leads::close(
                        tx,
                        lead.id,
                        state,
                        state,
                        opened + chrono::Duration::days(2),
                    )?;
                }
                leads::set_job_value(tx, lead.id, value)?;
            }
            Ok(())
        })
        .unwrap();
}

#[test]
fn the_funnel_counts_by_the_business_day_and_week() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("funnel.db")).unwrap();
    let tz: chrono_tz::Tz = "America/Chicago".parse().unwrap();
    let none = |at, phone| Seed {
        at,
        phone,
        outcome: "no_answer",
        decision: "send",
        before_textback: false,
        lead: None,
    };
    seed(
        &store,
        &[
            // Tue 3 Mar, 23:50 in Chicago (Wed 05:50 UTC): Tuesday's. Texted, replied, booked $250.
            Seed {
                lead: Some((1, true, "booked", Some(25_000))),
                ..none(chicago(3, 23, 50), "+15125550101")
            },
            // Wed 4 Mar: texted and replied, still open.
            Seed {
                lead: Some((2, true, "open", None)),
                ..none(chicago(4, 9, 0), "+15125550102")
            },
            // Wed 4 Mar: texted, booked by phone without a value.
            Seed {
                lead: Some((1, false, "booked", None)),
                ..none(chicago(4, 10, 0), "+15125550103")
            },
            // Wed 4 Mar: a landline, not texted, lost.
            Seed {
                decision: "landline",
                lead: Some((0, false, "lost", None)),
                ..none(chicago(4, 11, 0), "+15125550104")
            },
            // Mon 9 Mar (a new week): texted, booked $1,200.50.
            Seed {
                lead: Some((1, true, "booked", Some(120_050))),
                ..none(chicago(9, 8, 0), "+15125550105")
            },
            // Not missed calls of the funnel: answered, imported history, a staff member.
            Seed {
                outcome: "answered",
                decision: "answered",
                ..none(chicago(4, 12, 0), "+15125550106")
            },
            Seed {
                before_textback: true,
                decision: "before_textback",
                ..none(chicago(4, 13, 0), "+15125550107")
            },
            Seed {
                decision: "staff_number",
                ..none(chicago(4, 14, 0), "+15125550108")
            },
            // Outside the period: Mon 2 Mar 23:59 and Wed 11 Mar 00:00 in Chicago.
            Seed {
                lead: Some((1, true, "booked", Some(99_900))),
                ..none(chicago(2, 23, 59), "+15125550109")
            },
            none(chicago(11, 0, 0), "+15125550110"),
        ],
    );
    // A lead a person opened by marking a conversation booked: not a recovered missed call.
    store
        .immediate(|tx| {
            let contact = contacts::ensure(tx, "+15125550111", chicago(4, 15, 0))?;
            let conv = conversations::ensure(tx, "+15005550006", contact, chicago(4, 15, 0))?;
            let lead = leads::ensure_open(tx, conv, None, chicago(4, 15, 0))?;
            leads::set_job_value(tx, lead.id, Some(500_000))?;
            leads::close(tx, lead.id, "booked", "booked", chicago(4, 15, 0))?;
            Ok(())
        })
        .unwrap();

    let q = |bucket| FunnelQuery {
        from: "2026-03-03".into(),
        to: "2026-03-10".into(),
        bucket,
    };
    let days = textback_app::funnel::build(&store, tz, &q(FunnelBucket::Day)).unwrap();
    assert_eq!(days.time_zone, "America/Chicago");
    assert_eq!(days.rows.len(), 8, "3 to 10 March, both included");
    let by_day: Vec<(&str, u32, u32, u32, u32, i64, u32)> = days
        .rows
        .iter()
        .filter(|r| r.missed_calls > 0)
        .map(|r| {
            (
                r.start.as_str(),
                r.missed_calls,
                r.texted_back,
                r.replied,
                r.booked,
                r.job_value_cents,
                r.booked_without_value,
            )
        })
        .collect();
    assert_eq!(
        by_day,
        vec![
            ("2026-03-03", 1, 1, 1, 1, 25_000, 0),
            ("2026-03-04", 3, 2, 1, 1, 0, 1),
            ("2026-03-09", 1, 1, 1, 1, 120_050, 0),
        ],
        "each call on its Chicago day (23:50 on the 3rd is the 3rd, not the UTC 4th); answered, \
         history and staff calls are not missed calls of the funnel; a lead a person opened is no \
         recovered missed call"
    );
    let t = &days.totals;
    assert_eq!(
        (
            t.missed_calls,
            t.texted_back,
            t.replied,
            t.booked,
            t.job_value_cents
        ),
        (5, 4, 3, 3, 145_050),
        "the period's totals; revenue recovered is the booked leads' job values"
    );
    assert_eq!(t.booked_without_value, 1);

    let weeks = textback_app::funnel::build(&store, tz, &q(FunnelBucket::Week)).unwrap();
    let spans: Vec<(&str, &str, u32)> = weeks
        .rows
        .iter()
        .map(|r| (r.start.as_str(), r.end.as_str(), r.missed_calls))
        .collect();
    assert_eq!(
        spans,
        vec![
            ("2026-03-03", "2026-03-08", 4),
            ("2026-03-09", "2026-03-10", 1)
        ],
        "weeks run Monday to Sunday, cut to the period"
    );
    assert_eq!(weeks.totals, days.totals, "the same totals either way");

    for (from, to, why) in [
        ("2026-03-10", "2026-03-03", "ends before it starts"),
        ("2026-02-30", "2026-03-03", "not a date"),
        ("March 3", "2026-03-03", "not a date"),
        ("2025-01-01", "2026-03-03", "longer than 366 days"),
    ] {
        let err = textback_app::funnel::build(
            &store,
            tz,
            &FunnelQuery {
                from: from.into(),
                to: to.into(),
                bucket: FunnelBucket::Day,
            },
        )
        .unwrap_err();
        assert_eq!(err.code, "invalid_input", "{why}: {err:?}");
    }
}

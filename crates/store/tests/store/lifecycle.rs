//! The lead lifecycle's tables: leads' touches and references, escalations, bookings, jobs.

use chrono::Duration;
use textback_store::escalations::{self, Raised};
use textback_store::{bookings, contacts, conversations, jobs, leads};

use super::{open, t0};

fn lead(store: &textback_store::Store, phone: &str) -> (i64, i64) {
    store
        .immediate(|tx| {
            let contact = contacts::ensure(tx, phone, t0())?;
            let conv = conversations::ensure(tx, "+15005550006", contact, t0())?;
            Ok((conv, leads::ensure_open(tx, conv, None, t0())?.id))
        })
        .unwrap()
}

#[test]
fn a_second_rule_adds_to_the_open_escalation_instead_of_paging_again() {
    let (_dir, store) = open();
    let (conv, lead) = lead(&store, "+14155550101");
    store
        .immediate(|tx| {
            let first = escalations::raise(tx, lead, conv, "replied, nobody answered", t0())?;
            let Raised::Opened(opened) = first else {
                panic!("the first rule opens an escalation, got {first:?}")
            };
            let second = escalations::raise(tx, lead, conv, "urgent: flood", t0())?;
            assert_eq!(
                second,
                Raised::Added(escalations::Escalation {
                    reasons: vec!["replied, nobody answered".into(), "urgent: flood".into()],
                    ..opened.clone()
                })
            );
            // The same reason again adds nothing.
            let again = escalations::raise(tx, lead, conv, "urgent: flood", t0())?;
            let Raised::Added(e) = again else {
                panic!("still open")
            };
            assert_eq!(e.reasons.len(), 2);
            assert!(escalations::acknowledge(tx, opened.id, "Dana", t0())?);
            assert!(
                !escalations::acknowledge(tx, opened.id, "Sam", t0())?,
                "the first acknowledgement wins"
            );
            let next = escalations::raise(tx, lead, conv, "still unbooked", t0())?;
            assert!(
                matches!(next, Raised::Opened(ref e) if e.id != opened.id),
                "after an acknowledgement a new rule opens a new escalation: {next:?}"
            );
            Ok(())
        })
        .unwrap();
}

#[test]
fn an_ok_from_a_staff_phone_finds_the_newest_open_escalation_paged_to_it() {
    let (_dir, store) = open();
    let (c1, l1) = lead(&store, "+14155550101");
    let (c2, l2) = lead(&store, "+14155550102");
    store
        .immediate(|tx| {
            let Raised::Opened(a) = escalations::raise(tx, l1, c1, "a", t0())? else {
                panic!()
            };
            let Raised::Opened(b) = escalations::raise(tx, l2, c2, "b", t0())? else {
                panic!()
            };
            let dana = Some("+14155550199");
            assert!(escalations::record_page(
                tx,
                a.id,
                "Dana",
                dana,
                0,
                None,
                t0()
            )?);
            assert!(
                !escalations::record_page(tx, a.id, "Dana", dana, 0, None, t0())?,
                "one page per person per round"
            );
            escalations::record_page(tx, b.id, "Dana", dana, 0, None, t0() + Duration::minutes(1))?;
            escalations::record_page(tx, a.id, "Sam", Some("+14155550198"), 0, None, t0())?;
            let newest = escalations::newest_open_paged_to(tx, "+14155550199")?.unwrap();
            assert_eq!(newest.id, b.id, "the newest page to that phone");
            escalations::acknowledge(tx, b.id, "Dana", t0())?;
            let next = escalations::newest_open_paged_to(tx, "+14155550199")?.unwrap();
            assert_eq!(next.id, a.id, "then the older one still open");
            assert_eq!(escalations::newest_open_paged_to(tx, "+14155550100")?, None);
            Ok(())
        })
        .unwrap();
}

#[test]
fn leads_count_touches_close_once_and_carry_a_unique_reference() {
    let (_dir, store) = open();
    let (_, id) = lead(&store, "+14155550101");
    store
        .immediate(|tx| {
            leads::set_ref(tx, id, "r-abc")?;
            leads::set_ref(tx, id, "r-other")?;
            assert_eq!(
                leads::by_ref(tx, "r-abc")?.map(|l| l.id),
                Some(id),
                "set once"
            );
            leads::record_touch(tx, id, t0())?;
            leads::record_touch(tx, id, t0() + Duration::hours(2))?;
            let l = leads::get(tx, id)?;
            assert_eq!(
                (l.touches, l.last_touch_at),
                (2, Some(t0() + Duration::hours(2)))
            );
            assert_eq!(
                leads::open_inactive_since(tx, t0() + Duration::hours(1))?.len(),
                0,
                "a touch is activity"
            );
            assert_eq!(
                leads::open_inactive_since(tx, t0() + Duration::days(8))?.len(),
                1
            );
            assert!(leads::close(tx, id, "booked", "booked", t0())?);
            assert!(!leads::close(tx, id, "lost", "lost", t0())?, "closes once");
            assert_eq!(leads::get(tx, id)?.state, "booked");
            Ok(())
        })
        .unwrap();
}

#[test]
fn a_booking_seen_twice_is_stored_once_and_changes_are_reported() {
    let (_dir, store) = open();
    let (_, lead_id) = lead(&store, "+14155550101");
    store
        .immediate(|tx| {
            let seen = bookings::Seen {
                source: "calcom",
                external_id: "uid-1",
                lead_id: Some(lead_id),
                status: "accepted",
                starts_at: Some(t0()),
                attendee_name: Some("Ana"),
                attendee_phone: None,
            };
            let (b, changed) = bookings::upsert(tx, &seen, t0())?;
            assert!(changed);
            let (again, changed) = bookings::upsert(tx, &seen, t0())?;
            assert!(!changed, "the same booking polled again is not news");
            assert_eq!(again.id, b.id);
            let (c, changed) = bookings::upsert(
                tx,
                &bookings::Seen {
                    status: "cancelled",
                    lead_id: None,
                    ..seen
                },
                t0(),
            )?;
            assert!(changed);
            assert_eq!(
                c.lead_id,
                Some(lead_id),
                "a later poll never unlinks the lead"
            );
            Ok(())
        })
        .unwrap();
}

#[test]
fn a_lead_s_timers_cancel_together_and_a_key_never_runs_twice() {
    let (_dir, store) = open();
    store
        .immediate(|tx| {
            assert!(jobs::schedule(
                tx,
                "lead:1:touch:2",
                "followup",
                t0(),
                "{}",
                t0()
            )?);
            assert!(jobs::schedule(
                tx,
                "lead:1:unbooked",
                "unbooked",
                t0(),
                "{}",
                t0()
            )?);
            assert!(jobs::schedule(
                tx,
                "lead:10:unbooked",
                "unbooked",
                t0(),
                "{}",
                t0()
            )?);
            assert_eq!(jobs::cancel_prefixed(tx, "lead:1:", t0())?, 2);
            let left = jobs::due(tx, t0(), 10)?;
            assert_eq!(left.len(), 1, "lead 10's timer is not lead 1's");
            assert!(
                !jobs::schedule(tx, "lead:1:touch:2", "followup", t0(), "{}", t0())?,
                "a cancelled intent is not scheduled again"
            );
            let job = &left[0];
            assert!(jobs::postpone(tx, job.id, t0() + Duration::hours(1), t0())?);
            assert!(jobs::due(tx, t0(), 10)?.is_empty());
            assert!(jobs::complete(tx, job.id, t0())?);
            assert!(!jobs::complete(tx, job.id, t0())?, "runs once");
            Ok(())
        })
        .unwrap();
}

//! Bookings through the real Cal.com client against the Cal.com simulator: a booking made
//! through the text-back's tracked link marks that lead booked and stops its follow-ups; a
//! cancellation reopens it; a booking polled twice changes nothing twice.

use std::time::Duration as StdDuration;

use chrono::Duration;
use textback_providers::Secret;
use textback_providers::calcom::CalcomClient;
use textback_sim::calcom::{CalcomSim, CalcomSimConfig};
use textback_store::leads;

use crate::common::{CALLER, Harness, config};

fn tracked_link(body: &str) -> String {
    body.split_whitespace()
        .find(|w| w.contains("textback_ref"))
        .unwrap_or_else(|| panic!("a tracked link in {body:?}"))
        .to_owned()
}

#[tokio::test]
async fn a_booking_through_the_tracked_link_books_the_lead_and_stops_follow_ups() {
    let mut c = config();
    c.sending_hours.enabled = false;
    let h = Harness::with_config(c).await;
    let cal = CalcomSim::start(CalcomSimConfig::default()).await.unwrap();
    let client = CalcomClient::new(
        &cal.base_url(),
        Secret::new(cal.api_key()),
        StdDuration::from_secs(5),
    )
    .unwrap();

    h.fresh_missed_call(CALLER).await;
    h.send_all().await;
    let body = h.sent_bodies().remove(0);
    // The customer opens the link and types their name and email on the booking page.
    let typed = format!(
        "{}&name=Ana%20Ruiz&email=ana@example.com",
        tracked_link(&body)
    );
    let uid = cal
        .book_via_link(&typed, h.now() + Duration::days(1))
        .expect("the simulator books through the link");

    assert_eq!(h.engine.poll_bookings(&client).await.unwrap(), 1);
    let lead = h
        .store
        .read(|c| {
            let conv: i64 = c.query_row("SELECT id FROM conversations", [], |r| r.get(0))?;
            leads::latest_for(c, conv)
        })
        .unwrap()
        .unwrap();
    assert_eq!(
        (lead.state.as_str(), lead.close_reason.as_deref()),
        ("booked", Some("booked via calcom"))
    );
    assert_eq!(
        h.engine.poll_bookings(&client).await.unwrap(),
        0,
        "the same booking polled again changes nothing"
    );
    h.advance(Duration::hours(3));
    h.engine.run_due_timers().await.unwrap();
    h.send_all().await;
    assert_eq!(h.sent_bodies().len(), 1, "no follow-up after the booking");

    cal.cancel(&uid, Some("found someone else")).unwrap();
    assert_eq!(h.engine.poll_bookings(&client).await.unwrap(), 1);
    let lead = h.store.read(|c| leads::get(c, lead.id)).unwrap();
    assert_eq!(
        (lead.state.as_str(), lead.closed_at),
        ("replied", None),
        "a cancelled booking reopens the lead for a person"
    );
}

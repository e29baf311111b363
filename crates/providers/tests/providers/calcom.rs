//! The Cal.com bookings source over real HTTP against the Cal.com simulator
//! (`textback_sim::calcom`), plus the tracked booking link read back by the simulated
//! booking page.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use textback_domain::ManualClock;
use textback_providers::Secret;
use textback_providers::booking::{
    Booking, BookingCursor, BookingError, BookingLink, BookingSource, BookingStatus, LeadRef,
    LeadRefKey, REF_METADATA_KEY, tracked_link,
};
use textback_providers::calcom::{CalcomClient, LIST_API_VERSION, PAGE_LIMIT};
use textback_sim::calcom::{BookingSpec, CalcomFault, CalcomRoute, CalcomSim, CalcomSimConfig};

const TIMEOUT: Duration = Duration::from_secs(5);
const LINK: &str = "https://cal.com/northside-plumbing/consultation";

async fn sim() -> CalcomSim {
    CalcomSim::start(CalcomSimConfig::default())
        .await
        .expect("the Cal.com simulator binds a loopback port")
}

fn client(sim: &CalcomSim) -> CalcomClient {
    CalcomClient::new(&sim.base_url(), Secret::new(sim.api_key()), TIMEOUT)
        .expect("a loopback http base URL is a valid configuration")
}

fn key() -> LeadRefKey {
    LeadRefKey::from_bytes([0x5a; 32])
}

fn in_days(days: i64) -> DateTime<Utc> {
    Utc::now() + chrono::Duration::days(days)
}

/// A poll that sees everything the sim made in the last hour.
fn recent(client: &CalcomClient) -> BookingCursor {
    client.start_cursor(Utc::now() - chrono::Duration::hours(1))
}

fn by_uid<'a>(bookings: &'a [Booking], uid: &str) -> &'a Booking {
    bookings
        .iter()
        .find(|b| b.uid.as_str() == uid)
        .unwrap_or_else(|| panic!("booking {uid} is missing from {bookings:?}"))
}

#[tokio::test]
async fn a_booking_made_through_a_tracked_link_comes_back_with_its_lead() {
    let sim = sim().await;
    let client = client(&sim);
    let lead_ref = key().lead_ref(42);
    let link = format!(
        "{}&name=Jane%20Doe&email=jane%40example.com&attendeePhoneNumber=%2B14155552671",
        tracked_link(LINK, lead_ref.as_str()).expect("a valid booking link")
    );
    let start = in_days(3);
    let uid = sim
        .book_via_link(&link, start)
        .expect("the simulated booking page accepts the link");

    let page = client
        .bookings_since(&recent(&client))
        .await
        .expect("the poll succeeds");
    assert_eq!(page.bookings.len(), 1, "exactly the one booking: {page:?}");
    assert_eq!(page.skipped, 0);
    let b = &page.bookings[0];
    assert_eq!(b.source, "calcom");
    assert_eq!(b.uid.as_str(), uid);
    assert_eq!(b.status, BookingStatus::Accepted);
    assert!(b.status.is_booked(), "an accepted booking books the lead");
    assert_eq!(
        b.start.timestamp_millis(),
        start.timestamp_millis(),
        "start survives the wire (millisecond precision)"
    );
    assert_eq!(
        b.end.map(|e| (e - b.start).num_minutes()),
        Some(30),
        "the consultation is 30 minutes"
    );
    assert_eq!(b.event_type_id, Some(CalcomSimConfig::CONSULTATION));
    let attendee = b.attendee.as_ref().expect("the attendee is reported");
    assert_eq!(attendee.name, "Jane Doe");
    assert_eq!(attendee.email.as_deref(), Some("jane@example.com"));
    assert_eq!(
        attendee.phone.as_ref().map(|p| p.as_str()),
        Some("+14155552671"),
        "the prefilled phone comes back as attendees[0].phoneNumber"
    );
    let got = b
        .lead_ref
        .as_ref()
        .expect("metadata.textback_ref came back");
    assert_eq!(got, &lead_ref);
    assert_eq!(
        key().lead_id(got),
        Some(42),
        "the engine resolves the reference to the lead that got the link"
    );
    assert!(
        DateTime::parse_from_rfc3339(
            page.next_cursor
                .as_str()
                .strip_prefix("calcom:v1:")
                .expect("a Cal.com cursor")
        )
        .is_ok_and(|t| t.with_timezone(&Utc) >= b.created_at.expect("createdAt")),
        "the next poll starts at the booking's change time: {:?}",
        page.next_cursor
    );

    let log = sim.request_log();
    let lists: Vec<_> = log.iter().filter(|r| r.path == "/v2/bookings").collect();
    assert_eq!(lists.len(), 2, "one listing by updatedAt, one by createdAt");
    for r in &lists {
        assert_eq!(
            r.api_version.as_deref(),
            Some(LIST_API_VERSION),
            "the cursor-paged version is asked for explicitly"
        );
        assert!(r.authorization, "every request is authenticated");
        assert_eq!(r.param("limit"), Some(PAGE_LIMIT.to_string().as_str()));
        assert_eq!(
            r.param("status"),
            None,
            "no status filter: cancelled and rescheduled bookings must come back too"
        );
    }
    assert!(lists[0].param("afterUpdatedAt").is_some());
    assert!(lists[1].param("afterCreatedAt").is_some());
    sim.shutdown().await;
}

#[tokio::test]
async fn every_page_is_read_and_duplicates_collapse() {
    let sim = sim().await;
    for i in 0..250 {
        sim.add_booking(BookingSpec::new(
            &format!("Customer {i}"),
            &format!("c{i}@example.com"),
            in_days(1) + chrono::Duration::minutes(i),
        ))
        .expect("valid booking");
    }
    let client = client(&sim);
    let page = client
        .bookings_since(&recent(&client))
        .await
        .expect("the poll pages to the end");
    assert_eq!(
        page.bookings.len(),
        250,
        "all three pages of each listing, merged by uid"
    );
    let mut uids: Vec<_> = page.bookings.iter().map(|b| b.uid.clone()).collect();
    uids.sort();
    uids.dedup();
    assert_eq!(uids.len(), 250, "no booking twice");
    assert_eq!(
        sim.requests(CalcomRoute::BookingsList),
        6,
        "two listings of 100 + 100 + 50"
    );
    let cursors: Vec<_> = sim
        .request_log()
        .iter()
        .filter_map(|r| r.param("cursor").map(str::to_owned))
        .collect();
    assert_eq!(
        cursors.len(),
        4,
        "pages 2 and 3 of each listing follow nextCursor (base64 with '=' and '/' survive the query): {cursors:?}"
    );
    let changed: Vec<_> = page.bookings.iter().map(Booking::changed_at).collect();
    assert!(
        changed.windows(2).all(|w| w[0] <= w[1]),
        "oldest change first, so the engine applies changes in order"
    );

    let capped = client.clone().with_max_pages(2);
    let err = capped
        .bookings_since(&recent(&capped))
        .await
        .expect_err("three pages do not fit a cap of two");
    assert!(
        matches!(&err, BookingError::Malformed { message } if message.contains("2 pages")),
        "the cap ends the poll with a message a person can act on: {err:?}"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn the_cursor_and_event_type_filters_narrow_the_poll() {
    let sim = sim().await;
    let two_days_ago = Utc::now() - chrono::Duration::days(2);
    let old = sim
        .add_booking(
            BookingSpec::new("Old", "old@example.com", in_days(1)).created_at(two_days_ago),
        )
        .expect("valid");
    let old_but_changed = sim
        .add_booking(
            BookingSpec::new("Moved", "moved@example.com", in_days(1))
                .created_at(two_days_ago)
                .updated_at(Utc::now()),
        )
        .expect("valid");
    let no_updated_at = sim
        .add_booking(BookingSpec::new("New", "new@example.com", in_days(2)).without_updated_at())
        .expect("valid");
    let visit = sim
        .add_booking(
            BookingSpec::new("Visit", "visit@example.com", in_days(2))
                .event_type(CalcomSimConfig::SITE_VISIT),
        )
        .expect("valid");

    let client = client(&sim);
    let page = client.bookings_since(&recent(&client)).await.expect("poll");
    let uids: Vec<&str> = page.bookings.iter().map(|b| b.uid.as_str()).collect();
    assert!(
        !uids.contains(&old.as_str()),
        "untouched for two days: before the cursor"
    );
    assert!(
        uids.contains(&old_but_changed.as_str()),
        "an old booking changed now is reported"
    );
    assert!(
        uids.contains(&no_updated_at.as_str()),
        "a new booking with a null updatedAt is found by createdAt"
    );
    assert!(uids.contains(&visit.as_str()));

    let visits_only = client
        .clone()
        .with_event_types([CalcomSimConfig::SITE_VISIT]);
    let page = visits_only
        .bookings_since(&recent(&visits_only))
        .await
        .expect("poll");
    assert_eq!(
        page.bookings
            .iter()
            .map(|b| b.uid.as_str())
            .collect::<Vec<_>>(),
        vec![visit.as_str()],
        "only the configured event type"
    );
    let last = sim.request_log().pop().expect("logged");
    assert_eq!(
        last.param("eventTypeIds"),
        Some(CalcomSimConfig::SITE_VISIT.to_string().as_str()),
        "the filter is applied by the server, not only here"
    );

    // The next poll starts where this one ended: a cancellation a moment later shows up.
    let next = page.next_cursor.clone();
    sim.cancel(&visit, Some("Found someone else"))
        .expect("known uid");
    let after = visits_only.bookings_since(&next).await.expect("poll");
    let cancelled = by_uid(&after.bookings, &visit);
    assert_eq!(cancelled.status, BookingStatus::Cancelled);
    assert_eq!(
        cancelled.cancellation_reason.as_deref(),
        Some("Found someone else")
    );
    assert!(!cancelled.status.is_booked());
    sim.shutdown().await;
}

#[tokio::test]
async fn a_reschedule_is_reported_on_both_bookings_and_keeps_the_lead() {
    let sim = sim().await;
    let client = client(&sim);
    let lead_ref = key().lead_ref(7);
    let first = sim
        .add_booking(
            BookingSpec::new("Sam", "sam@example.com", in_days(1))
                .metadata(REF_METADATA_KEY, lead_ref.as_str()),
        )
        .expect("valid");
    let moved_to = in_days(4);
    // Cal.com may drop the link's metadata on the new booking (unconfirmed): the worst case.
    let second = sim
        .reschedule(&first, moved_to, false)
        .expect("an accepted booking can be moved");

    let page = client.bookings_since(&recent(&client)).await.expect("poll");
    let old = by_uid(&page.bookings, &first);
    assert_eq!(
        old.status,
        BookingStatus::Rescheduled,
        "cancelled + rescheduledToUid"
    );
    assert_eq!(
        old.rescheduled_to.as_ref().map(|u| u.as_str()),
        Some(second.as_str())
    );
    let new = by_uid(&page.bookings, &second);
    assert_eq!(new.status, BookingStatus::Accepted);
    assert_eq!(
        new.rescheduled_from.as_ref().map(|u| u.as_str()),
        Some(first.as_str())
    );
    assert_eq!(new.start.timestamp_millis(), moved_to.timestamp_millis());
    assert_eq!(
        new.lead_ref.as_ref(),
        Some(&lead_ref),
        "the new booking inherits the reference of the booking it replaces"
    );

    let pending = sim
        .add_booking(BookingSpec::new("Pat", "pat@example.com", in_days(2)).status("pending"))
        .expect("valid");
    sim.set_status(&pending, "awaiting_host").expect("known");
    let page = client.bookings_since(&recent(&client)).await.expect("poll");
    let p = by_uid(&page.bookings, &pending);
    assert_eq!(
        p.status,
        BookingStatus::Pending,
        "awaiting_host (beyond the spec's enum) is a pending booking"
    );
    assert!(
        p.status.is_booked(),
        "a booking awaiting confirmation still books the lead"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn only_references_made_with_our_key_resolve() {
    let sim = sim().await;
    let client = client(&sim);
    let foreign = LeadRefKey::from_bytes([1; 32]).lead_ref(42);
    let edited = {
        let mut s = key().lead_ref(42).to_string();
        let last = if s.ends_with('A') { "B" } else { "A" };
        s.replace_range(s.len() - 1.., last);
        s
    };
    let specs = [
        ("foreign", foreign.to_string()),
        ("edited", edited),
        ("malformed", "../../etc/passwd".to_owned()),
    ];
    let mut uids = Vec::new();
    for (name, value) in &specs {
        uids.push(
            sim.add_booking(
                BookingSpec::new(name, &format!("{name}@example.com"), in_days(1))
                    .metadata(REF_METADATA_KEY, value),
            )
            .expect("valid"),
        );
    }
    let page = client.bookings_since(&recent(&client)).await.expect("poll");
    let foreign_b = by_uid(&page.bookings, &uids[0]);
    assert!(
        foreign_b.lead_ref.is_some(),
        "well-formed, so it is reported"
    );
    assert_eq!(
        foreign_b.lead_ref.as_ref().and_then(|r| key().lead_id(r)),
        None,
        "another key's reference resolves to no lead"
    );
    let edited_b = by_uid(&page.bookings, &uids[1]);
    assert_eq!(
        edited_b.lead_ref.as_ref().and_then(|r| key().lead_id(r)),
        None,
        "an edited reference cannot point at another lead"
    );
    assert_eq!(
        by_uid(&page.bookings, &uids[2]).lead_ref,
        None,
        "a malformed value is no reference (the booking is still reported)"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn rejected_keys_are_auth_errors_and_good_ones_identify_the_account() {
    let sim = sim().await;
    let wrong = CalcomClient::new(&sim.base_url(), Secret::new("cal_live_wrong"), TIMEOUT)
        .expect("valid config");
    let err = wrong
        .bookings_since(&recent(&wrong))
        .await
        .expect_err("a wrong key");
    assert!(
        matches!(&err, BookingError::Auth { message } if message.contains("401")),
        "a wrong key stops polling and asks the user to reconnect: {err:?}"
    );
    assert!(
        !err.is_retry_safe(),
        "repeating with the same key is pointless"
    );
    assert!(
        matches!(wrong.me().await, Err(BookingError::Auth { .. })),
        "the credentials check agrees"
    );

    let good = client(&sim);
    let me = good.me().await.expect("GET /v2/me with the right key");
    assert_eq!(me.id, 4242);
    assert_eq!(me.username, "northside-plumbing");
    assert_eq!(me.time_zone, "America/New_York");
    let me_request = sim.request_log().pop().expect("logged");
    assert_eq!(
        (me_request.path.as_str(), me_request.api_version),
        ("/v2/me", None),
        "GET /v2/me takes no cal-api-version"
    );

    sim.set_revoked(true);
    assert!(
        matches!(
            good.bookings_since(&recent(&good)).await,
            Err(BookingError::Auth { .. })
        ),
        "a key revoked in Cal.com's settings"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn rate_limits_carry_the_wait_when_cal_com_gives_one() {
    let sim = sim().await;
    let client = client(&sim);
    sim.inject(
        CalcomRoute::BookingsList,
        vec![
            CalcomFault::RateLimit {
                retry_after: Some(7),
            },
            CalcomFault::RateLimit { retry_after: None },
        ],
    );
    let first = client
        .bookings_since(&recent(&client))
        .await
        .expect_err("429");
    assert_eq!(
        first,
        BookingError::RateLimited {
            retry_after: Some(Duration::from_secs(7))
        },
        "Retry-After: 7 becomes a 7 s wait"
    );
    assert_eq!(first.retry_after(), Some(Duration::from_secs(7)));
    assert!(first.is_retry_safe());
    let second = client
        .bookings_since(&recent(&client))
        .await
        .expect_err("429");
    assert_eq!(
        second,
        BookingError::RateLimited { retry_after: None },
        "without the header the engine uses its own backoff"
    );
    client
        .bookings_since(&recent(&client))
        .await
        .expect("the faults are used up and polling works again");
    sim.shutdown().await;
}

#[tokio::test]
async fn broken_answers_are_typed_and_safe_to_repeat() {
    let sim = sim().await;
    sim.add_booking(BookingSpec::new("A", "a@example.com", in_days(1)))
        .expect("valid");
    let client = client(&sim);
    let cases = [
        (CalcomFault::TruncatedJson, "malformed"),
        (CalcomFault::WrongShape, "malformed"),
        (CalcomFault::HtmlError, "transient"),
        (CalcomFault::ServerError(503), "transient"),
    ];
    for (fault, kind) in cases {
        sim.inject(CalcomRoute::BookingsList, vec![fault.clone()]);
        let err = client
            .bookings_since(&recent(&client))
            .await
            .expect_err("a broken answer");
        let got = match &err {
            BookingError::Malformed { .. } => "malformed",
            BookingError::Transient { .. } => "transient",
            _ => "other",
        };
        assert_eq!(got, kind, "{fault:?} gave {err:?}");
        assert!(err.is_retry_safe(), "{fault:?}: a read can be repeated");
    }
    sim.inject(CalcomRoute::BookingsList, vec![CalcomFault::HtmlError]);
    let err = client
        .bookings_since(&recent(&client))
        .await
        .expect_err("502");
    assert!(
        err.to_string().contains("502 Bad Gateway"),
        "an HTML page is quoted so a person can tell a proxy answered: {err}"
    );
    sim.inject(CalcomRoute::BookingsList, vec![CalcomFault::TruncatedJson]);
    let err = client
        .bookings_since(&recent(&client))
        .await
        .expect_err("cut off");
    assert!(
        !err.to_string().contains("a@example.com"),
        "a JSON body is never quoted (customer data): {err}"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn hostile_items_are_skipped_and_the_page_survives() {
    let sim = sim().await;
    let good = sim
        .add_booking(BookingSpec::new("Good", "good@example.com", in_days(1)))
        .expect("valid");
    let hostile: [Value; 6] = [
        json!("just a string"),
        json!({"uid": null, "status": "accepted", "start": "2026-05-04T10:00:00Z"}),
        json!({"uid": "x\r\nSet-Cookie: a=b", "status": "accepted", "start": "2026-05-04T10:00:00Z"}),
        json!({"uid": "nostart", "status": "accepted", "start": "soon"}),
        json!({"uid": "backwards", "status": "accepted",
               "start": "2026-05-04T10:00:00Z", "end": "2026-05-03T10:00:00Z"}),
        json!({"uid": "future", "status": 12, "start": "2026-05-04T10:00:00Z"}),
    ];
    for item in &hostile {
        sim.add_raw_item(item.clone());
    }
    // Odd but usable: kept, with the odd parts dropped or capped.
    sim.add_raw_item(json!({
        "uid": "odd-but-usable", "status": "no_show", "start": "2026-05-04T10:00:00.000Z",
        "attendees": [{"name": "\u{202e}evil\u{0}".repeat(1000), "email": 5, "phoneNumber": "call me"}],
        "metadata": {"textback_ref": {"nested": true}},
        "eventType": {"id": -3}, "createdAt": "yesterday", "updatedAt": 12
    }));
    let client = client(&sim);
    let page = client
        .bookings_since(&recent(&client))
        .await
        .expect("one bad item never costs the page");
    assert_eq!(
        page.skipped,
        hostile.len() * 2,
        "each unusable item is skipped in both listings and counted"
    );
    by_uid(&page.bookings, &good);
    let odd = by_uid(&page.bookings, "odd-but-usable");
    assert_eq!(odd.status, BookingStatus::Other("no_show".to_owned()));
    let attendee = odd.attendee.as_ref().expect("kept");
    assert!(attendee.name.chars().count() <= 201, "names are capped");
    assert!(
        !attendee.name.contains('\u{0}'),
        "control characters are dropped"
    );
    assert_eq!(
        (attendee.email.as_ref(), attendee.phone.as_ref()),
        (None, None)
    );
    assert_eq!(
        (odd.lead_ref.as_ref(), odd.event_type_id, odd.changed_at()),
        (None, None, None)
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn a_far_future_time_stamp_never_moves_the_cursor_past_now() {
    let sim = sim().await;
    let now = Utc::now();
    let clock = ManualClock::new(now);
    let client = client(&sim).with_clock(Arc::new(clock.clone()));
    let far = DateTime::parse_from_rfc3339("2099-01-01T00:00:00Z")
        .expect("literal")
        .with_timezone(&Utc);
    sim.add_booking(
        BookingSpec::new("Skewed", "skew@example.com", in_days(1))
            .created_at(now)
            .updated_at(far),
    )
    .expect("valid");
    let page = client
        .bookings_since(&client.start_cursor(now - chrono::Duration::hours(1)))
        .await
        .expect("poll");
    assert_eq!(page.bookings.len(), 1);
    assert_eq!(
        page.next_cursor,
        client.start_cursor(now),
        "capped at this machine's now, so later changes are still seen"
    );
    let stale = BookingCursor::from_stored("calcom:v1:not a time");
    assert!(
        matches!(
            client.bookings_since(&stale).await,
            Err(BookingError::BadCursor { .. })
        ),
        "a damaged stored cursor asks the engine to restart"
    );
    assert_eq!(
        sim.requests(CalcomRoute::BookingsList),
        2,
        "a bad cursor is refused before any request"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn single_bookings_are_fetched_by_uid() {
    let sim = sim().await;
    let client = client(&sim);
    let uid = sim
        .add_booking(BookingSpec::new("One", "one@example.com", in_days(1)).phone("+442079460958"))
        .expect("valid");
    let parsed = textback_providers::booking::BookingUid::parse(&uid).expect("sim uids are plain");
    let found = client.booking(&parsed).await.expect("known uid");
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].uid, parsed);
    assert_eq!(
        sim.request_log()
            .pop()
            .and_then(|r| r.api_version)
            .as_deref(),
        Some("2026-02-25"),
        "GET /v2/bookings/{{uid}} uses its own version"
    );
    let missing = textback_providers::booking::BookingUid::parse("nope").expect("plain");
    let err = client.booking(&missing).await.expect_err("unknown uid");
    assert!(
        matches!(
            &err,
            BookingError::Permanent { status: 404, code: Some(code), .. } if code == "NotFoundException"
        ),
        "Cal.com's own error name is kept: {err:?}"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn the_simulator_honours_the_version_header_as_cal_com_does() {
    let sim = sim().await;
    sim.add_booking(BookingSpec::new("A", "a@example.com", in_days(1)))
        .expect("valid");
    let http = reqwest::Client::new();
    let get = |version: Option<&'static str>, query: &'static str| {
        let mut request = http
            .get(format!("{}/v2/bookings?{query}", sim.base_url()))
            .bearer_auth(sim.api_key());
        if let Some(v) = version {
            request = request.header("cal-api-version", v);
        }
        request.send()
    };
    let old: Value = get(None, "")
        .await
        .expect("answer")
        .json()
        .await
        .expect("JSON");
    assert!(
        old["pagination"]["hasNextPage"].is_boolean() && old["pagination"].get("hasMore").is_none(),
        "without the header an older take/skip version answers: {old}"
    );
    let two = get(Some(LIST_API_VERSION), "status=upcoming,past")
        .await
        .expect("answer");
    assert_eq!(two.status(), 400, "2026-05-01 takes one status at most");
    assert!(two.headers().contains_key("x-request-id"));
    let body: Value = two.json().await.expect("JSON");
    assert_eq!(body["status"], "error");
    assert_eq!(body["error"]["code"], "BadRequestException");
    assert!(body["timestamp"].is_string() && body["path"].is_string());
    sim.shutdown().await;
}

#[tokio::test]
async fn tracked_links_append_one_reference_whatever_the_link_looks_like() {
    const P: &str = "metadata%5Btextback_ref%5D=q7Xf2K";
    let cases = [
        (LINK, format!("{LINK}?{P}")),
        (
            "https://cal.com/jane/30min?name=Jane%20Doe&email=jane%40ex.com",
            format!("https://cal.com/jane/30min?name=Jane%20Doe&email=jane%40ex.com&{P}"),
        ),
        (
            "https://northside.example/book?embed=1#calendar",
            format!("https://northside.example/book?embed=1&{P}#calendar"),
        ),
        (
            "https://northside.example/book#",
            format!("https://northside.example/book?{P}#"),
        ),
        (
            "https://cal.com/jane/30min?",
            format!("https://cal.com/jane/30min?{P}"),
        ),
        (
            "https://cal.com/zoë/visite?note=café",
            format!("https://cal.com/zo%C3%AB/visite?note=caf%C3%A9&{P}"),
        ),
        (
            "https://bücher.example/termin",
            format!("https://xn--bcher-kva.example/termin?{P}"),
        ),
        (
            "https://cal.com/jane/30min?metadata[textback_ref]=old&x=1",
            format!("https://cal.com/jane/30min?x=1&{P}"),
        ),
        (
            "https://cal.com/jane/30min?metadata%5btextback_ref%5d=old&metadata%5Bother%5D=keep",
            format!("https://cal.com/jane/30min?metadata%5Bother%5D=keep&{P}"),
        ),
    ];
    for (link, want) in &cases {
        let got = tracked_link(link, "q7Xf2K").expect("a valid link");
        assert_eq!(&got, want, "tracked_link({link:?})");
    }
    // A reference with characters of its own is encoded, never breaks the query.
    let odd = BookingLink::parse(LINK)
        .expect("valid")
        .tracked("a&b=c d#é");
    assert!(
        odd.ends_with("?metadata%5Btextback_ref%5D=a%26b%3Dc%20d%23%C3%A9"),
        "encoded: {odd}"
    );

    // The proof that matters: Cal.com's booking page reads every shape back.
    let sim = sim().await;
    let client = client(&sim);
    let lead_ref = key().lead_ref(1234);
    let mut expected = Vec::new();
    for (link, _) in &cases {
        let link = link.replace("northside.example/book", "cal.com/northside/consultation");
        let tracked = BookingLink::parse(&link)
            .expect("valid")
            .tracked(lead_ref.as_str());
        // The person fills in their name and email on the page.
        let filled = match tracked.split_once('#') {
            Some((before, after)) => format!("{before}&name=Lee&email=lee%40example.com#{after}"),
            None => format!("{tracked}&name=Lee&email=lee%40example.com"),
        };
        expected.push(
            sim.book_via_link(&filled, in_days(2))
                .unwrap_or_else(|e| panic!("{filled} books: {e}")),
        );
    }
    let page = client.bookings_since(&recent(&client)).await.expect("poll");
    for uid in &expected {
        let b = by_uid(&page.bookings, uid);
        assert_eq!(
            b.lead_ref.as_ref().and_then(|r| key().lead_id(r)),
            Some(1234),
            "booking {uid} carries the reference back"
        );
    }
    assert!(
        LeadRef::parse(lead_ref.as_str()).is_ok(),
        "references are valid link text"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn another_process_can_drive_the_simulator_over_its_control_api() {
    let sim = sim().await;
    let client = client(&sim);
    let http = reqwest::Client::new();
    let url = |path: &str| format!("{}/_sim/{path}", sim.base_url());
    let made: Value = http
        .post(url("bookings/via_link"))
        .json(&json!({
            "link": format!("{LINK}?name=Ada&email=ada%40example.com&metadata%5Btextback_ref%5D={}", key().lead_ref(9)),
            "start": in_days(1),
        }))
        .send()
        .await
        .expect("control answer")
        .json()
        .await
        .expect("JSON");
    let uid = made["uid"].as_str().expect("the new uid").to_owned();
    let status = http
        .post(url(&format!("bookings/{uid}/cancel")))
        .json(&json!({"reason": "sick"}))
        .send()
        .await
        .expect("control answer")
        .status();
    assert_eq!(status, 204);
    let unknown = http
        .post(url("bookings/nope/cancel"))
        .json(&json!({}))
        .send()
        .await
        .expect("control answer")
        .status();
    assert_eq!(unknown, 404, "an unknown uid is reported, not ignored");
    let status = http
        .post(url("faults"))
        .json(&json!({"route": "bookings_list", "faults": [{"kind": "rate_limit", "retry_after": 2}]}))
        .send()
        .await
        .expect("control answer")
        .status();
    assert_eq!(status, 204);
    assert_eq!(
        client.bookings_since(&recent(&client)).await,
        Err(BookingError::RateLimited {
            retry_after: Some(Duration::from_secs(2))
        }),
        "the fault queued over HTTP is served"
    );
    let page = client.bookings_since(&recent(&client)).await.expect("poll");
    let b = by_uid(&page.bookings, &uid);
    assert_eq!(b.status, BookingStatus::Cancelled);
    assert_eq!(b.lead_ref.as_ref().and_then(|r| key().lead_id(r)), Some(9));
    sim.shutdown().await;
}

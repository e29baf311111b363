//! Calls: parent and child legs, finalisation (end_call and ring timer), recordings,
//! filters, pagination.

use std::collections::HashSet;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;
use textback_sim::{CallKind, CallScript, LegOutcome, LegScript, ParentOutcome};

use crate::common::{self, BIZ, CELL, CUSTOMER, DESK, PATIENCE, assert_twilio_error, keys, set};

const CALL_FIELDS: &[&str] = &[
    "sid",
    "date_created",
    "date_updated",
    "parent_call_sid",
    "account_sid",
    "to",
    "to_formatted",
    "from",
    "from_formatted",
    "phone_number_sid",
    "status",
    "start_time",
    "end_time",
    "duration",
    "price",
    "price_unit",
    "direction",
    "answered_by",
    "api_version",
    "forwarded_from",
    "group_sid",
    "caller_name",
    "queue_time",
    "trunk_sid",
    "uri",
    "subresource_uris",
];

const LIST_FIELDS: &[&str] = &[
    "first_page_uri",
    "next_page_uri",
    "previous_page_uri",
    "uri",
    "page",
    "page_size",
    "start",
    "end",
];

fn two_phones(cell: LegOutcome, desk: LegOutcome) -> CallScript {
    CallScript::inbound(
        CUSTOMER,
        BIZ,
        None,
        vec![
            LegScript {
                to: CELL.into(),
                outcome: cell,
                answered_by: None,
            },
            LegScript {
                to: DESK.into(),
                outcome: desk,
                answered_by: None,
            },
        ],
    )
}

fn by_sid<'a>(items: &'a [Value], sid: &str) -> &'a Value {
    items
        .iter()
        .find(|c| c["sid"] == sid)
        .unwrap_or_else(|| panic!("call {sid} is listed"))
}

#[tokio::test]
async fn inbound_call_shows_ringing_parent_and_dial_legs_until_ended() {
    let h = common::start().await;
    let parent = h.sim.place_call(two_phones(
        LegOutcome::NoAnswer,
        LegOutcome::Answered {
            talk: Duration::from_secs(42),
        },
    ));

    let (items, pages) = h.list_all("/Calls.json", "calls").await;
    assert_eq!(
        items.len(),
        3,
        "a parent and two child legs exist while ringing"
    );
    let p = by_sid(&items, &parent);
    assert_eq!(
        keys(p),
        set(CALL_FIELDS),
        "every field of api.v2010.account.call is present"
    );
    assert!(
        set(LIST_FIELDS).iter().all(|k| pages[0].get(k).is_some()),
        "list envelope fields present"
    );
    assert_eq!(p["direction"], "inbound", "the caller's leg is inbound");
    assert_eq!(p["to"], BIZ, "the parent is to the business number");
    assert_eq!(p["status"], "ringing", "not final before ring/end_call");
    assert_eq!(p["parent_call_sid"], Value::Null, "parents have no parent");
    assert_eq!(p["duration"], Value::Null, "ongoing calls have no duration");
    assert_eq!(p["end_time"], Value::Null, "ongoing calls have no end_time");
    assert!(
        p["sid"]
            .as_str()
            .is_some_and(|s| s.starts_with("CA") && s.len() == 34),
        "CA + 32 hex"
    );
    assert!(
        p["phone_number_sid"]
            .as_str()
            .is_some_and(|s| s.starts_with("PN")),
        "inbound names the PN"
    );
    assert_eq!(
        p["subresource_uris"]["recordings"],
        format!(
            "/2010-04-01/Accounts/{}/Calls/{parent}/Recordings.json",
            h.sim.account_sid()
        ),
        "recordings subresource is the relative path the adapter follows"
    );
    assert!(h.sim.final_at(&parent).is_none(), "not final yet");

    let (children, _) = h
        .list_all(&format!("/Calls.json?ParentCallSid={parent}"), "calls")
        .await;
    assert_eq!(
        children.len(),
        2,
        "ParentCallSid selects exactly the two legs"
    );
    for c in &children {
        assert_eq!(
            c["direction"], "outbound-dial",
            "<Dial> legs are outbound-dial"
        );
        assert_eq!(
            c["parent_call_sid"],
            parent.as_str(),
            "legs point at their parent"
        );
        assert_eq!(c["status"], "ringing", "legs ring with the parent");
    }

    h.sim.end_call(&parent);
    assert!(
        h.sim.final_at(&parent).is_some(),
        "end_call finalises synchronously"
    );
    let (items, _) = h.list_all("/Calls.json", "calls").await;
    let p = by_sid(&items, &parent);
    assert_eq!(
        p["status"], "completed",
        "Twilio answered and ran TwiML: parent completed"
    );
    assert!(
        p["duration"]
            .as_str()
            .is_some_and(|d| d.parse::<u32>().is_ok_and(|d| d >= 42)),
        "parent duration covers the talk: {p}"
    );
    assert!(p["end_time"].is_string(), "final calls have an end_time");
    let cell = items
        .iter()
        .find(|c| c["to"] == CELL)
        .expect("cell leg listed");
    let desk = items
        .iter()
        .find(|c| c["to"] == DESK)
        .expect("desk leg listed");
    assert_eq!(cell["status"], "no-answer", "the cell rang out");
    assert_eq!(
        cell["duration"],
        Value::Null,
        "unanswered legs have no duration"
    );
    assert_eq!(desk["status"], "completed", "the desk answered");
    assert_eq!(
        desk["duration"], "42",
        "answered leg duration is the talk time, as a string"
    );

    h.sim.end_call(&parent);
    let (_, again) = h.get_json(&format!("/Calls/{parent}.json")).await;
    assert_eq!(again["status"], "completed", "ending twice changes nothing");
}

#[tokio::test]
async fn ring_timer_finalises_without_anyone_ending_the_call() {
    let h = common::start().await;
    let mut script = two_phones(LegOutcome::NoAnswer, LegOutcome::Busy);
    script.ring = Some(Duration::from_millis(30));
    let parent = h.sim.place_call(script);
    let at = tokio::time::timeout(PATIENCE, h.sim.wait_final(&parent))
        .await
        .expect("the ring timer fires");
    assert_eq!(
        h.sim.final_at(&parent),
        Some(at),
        "final_at reports the same instant wait_final saw"
    );
    let (status, p) = h.get_json(&format!("/Calls/{parent}.json")).await;
    assert_eq!(status, StatusCode::OK, "single call fetch works: {p}");
    assert_eq!(
        keys(&p),
        set(CALL_FIELDS),
        "the single resource has every field too"
    );
    assert_eq!(p["status"], "completed", "parent completes by default");
    let (children, _) = h
        .list_all(&format!("/Calls.json?ParentCallSid={parent}"), "calls")
        .await;
    let statuses: HashSet<_> = children
        .iter()
        .map(|c| c["status"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        statuses,
        HashSet::from(["no-answer", "busy"]),
        "each leg ends as scripted"
    );
}

#[tokio::test]
async fn voicemail_leaves_a_recording_on_the_parent_only() {
    let h = common::start().await;
    let mut script = two_phones(LegOutcome::NoAnswer, LegOutcome::NoAnswer);
    script.voicemail = true;
    let parent = h.sim.place_call(script);
    let other = h
        .sim
        .place_call(two_phones(LegOutcome::NoAnswer, LegOutcome::Canceled));
    let (_, before) = h
        .get_json(&format!("/Calls/{parent}/Recordings.json"))
        .await;
    assert_eq!(
        before["recordings"],
        serde_json::json!([]),
        "no recording before the call ends"
    );
    h.sim.end_call(&parent);
    h.sim.end_call(&other);

    let (status, list) = h
        .get_json(&format!("/Calls/{parent}/Recordings.json"))
        .await;
    assert_eq!(status, StatusCode::OK, "recordings list works: {list}");
    let recs = list["recordings"].as_array().expect("recordings array");
    assert_eq!(recs.len(), 1, "a voicemail is one recording");
    assert_eq!(
        recs[0]["call_sid"],
        parent.as_str(),
        "the recording belongs to the parent"
    );
    assert!(
        recs[0]["sid"].as_str().is_some_and(|s| s.starts_with("RE")),
        "RE sids"
    );
    assert!(
        recs[0]["duration"].is_string(),
        "recording duration is a string"
    );
    let (_, none) = h.get_json(&format!("/Calls/{other}/Recordings.json")).await;
    assert_eq!(
        none["recordings"],
        serde_json::json!([]),
        "no voicemail, no recording"
    );
}

#[tokio::test]
async fn answered_by_and_parent_outcomes_follow_the_script() {
    let h = common::start().await;
    let machine = h.sim.place_call(CallScript::inbound(
        CUSTOMER,
        BIZ,
        None,
        vec![LegScript {
            to: CELL.into(),
            outcome: LegOutcome::Answered {
                talk: Duration::from_secs(25),
            },
            answered_by: Some("machine_start".into()),
        }],
    ));
    let mut busy = two_phones(LegOutcome::Canceled, LegOutcome::Canceled);
    busy.parent_outcome = ParentOutcome::Busy;
    let busy = h.sim.place_call(busy);
    h.sim.end_call(&machine);
    h.sim.end_call(&busy);

    let (legs, _) = h
        .list_all(&format!("/Calls.json?ParentCallSid={machine}"), "calls")
        .await;
    assert_eq!(
        legs[0]["answered_by"], "machine_start",
        "AMD verdict is passed through"
    );
    assert_eq!(
        legs[0]["status"], "completed",
        "a voicemail pickup still completes the leg"
    );
    let (_, b) = h.get_json(&format!("/Calls/{busy}.json")).await;
    assert_eq!(b["status"], "busy", "parent outcome busy is reported");
    assert_eq!(
        b["duration"],
        Value::Null,
        "a call Twilio never answered has no duration"
    );
}

#[tokio::test]
async fn outbound_api_call_back_is_listed_from_the_business() {
    let h = common::start().await;
    let sid = h.sim.place_call(CallScript::outbound_api(
        BIZ,
        CUSTOMER,
        None,
        Some(Duration::from_secs(90)),
    ));
    h.sim.end_call(&sid);
    let (items, _) = h
        .list_all(&format!("/Calls.json?From=%2B{}", &BIZ[1..]), "calls")
        .await;
    assert_eq!(
        items.len(),
        1,
        "only the call-back is from the business number"
    );
    let c = &items[0];
    assert_eq!(
        c["direction"], "outbound-api",
        "REST-created calls are outbound-api"
    );
    assert_eq!(c["to"], CUSTOMER, "the customer is called");
    assert_eq!(c["status"], "completed", "the customer answered");
    assert!(
        c["duration"]
            .as_str()
            .is_some_and(|d| d.parse::<u32>().is_ok_and(|d| d >= 90)),
        "talk counted: {c}"
    );
    let (legs, _) = h
        .list_all(&format!("/Calls.json?ParentCallSid={sid}"), "calls")
        .await;
    assert!(legs.is_empty(), "outbound-api calls have no child legs");

    let unanswered = CallScript::outbound_api(BIZ, CUSTOMER, None, None);
    assert_eq!(
        unanswered.direction,
        CallKind::OutboundApi,
        "the helper builds an outbound-api script"
    );
    let unanswered = h.sim.place_call(unanswered);
    h.sim.end_call(&unanswered);
    let (_, u) = h.get_json(&format!("/Calls/{unanswered}.json")).await;
    assert_eq!(
        u["status"], "no-answer",
        "a call-back nobody picks up ends no-answer"
    );
}

#[tokio::test]
async fn pagination_follows_relative_next_page_uris_newest_first() {
    let h = common::start().await;
    let mut placed = Vec::new();
    for _ in 0..7 {
        placed.push(
            h.sim
                .place_call(CallScript::inbound(CUSTOMER, BIZ, None, vec![])),
        );
    }
    let (first_status, first) = h.get_json("/Calls.json?To=%2B15005550006&PageSize=3").await;
    assert_eq!(first_status, StatusCode::OK, "first page: {first}");
    let next = first["next_page_uri"]
        .as_str()
        .expect("more pages exist")
        .to_owned();
    assert!(
        next.contains("PageToken=PA"),
        "next page carries a PageToken: {next}"
    );
    assert!(
        next.contains("To=%2B15005550006"),
        "filters are kept on the next page: {next}"
    );
    assert_eq!(
        first["previous_page_uri"],
        Value::Null,
        "page 0 has no previous page"
    );
    assert_eq!(
        (
            first["page"].as_u64(),
            first["start"].as_u64(),
            first["end"].as_u64()
        ),
        (Some(0), Some(0), Some(2)),
        "indices of page 0"
    );

    // A call arriving mid-walk must not shift later pages (PageToken anchors on a sid).
    let late = h
        .sim
        .place_call(CallScript::inbound(CUSTOMER, BIZ, None, vec![]));
    let mut seen: Vec<String> = first["calls"]
        .as_array()
        .expect("calls")
        .iter()
        .map(|c| c["sid"].as_str().unwrap_or_default().to_owned())
        .collect();
    let mut next = Some(next);
    let mut page_count = 1;
    while let Some(uri) = next {
        let (status, page) = common::json_of(h.get_path(&uri).await).await;
        assert_eq!(status, StatusCode::OK, "following {uri}: {page}");
        assert!(
            page["previous_page_uri"].is_string(),
            "later pages link back"
        );
        seen.extend(
            page["calls"]
                .as_array()
                .expect("calls")
                .iter()
                .map(|c| c["sid"].as_str().unwrap_or_default().to_owned()),
        );
        next = page["next_page_uri"].as_str().map(str::to_owned);
        page_count += 1;
    }
    assert_eq!(page_count, 3, "7 calls at 3 a page are 3 pages");
    let newest_first: Vec<String> = placed.iter().rev().cloned().collect();
    assert_eq!(
        seen, newest_first,
        "every call once, newest first, despite the late arrival"
    );
    assert!(
        !seen.contains(&late),
        "the late call belongs to page 0 of a fresh listing"
    );

    let (_, beyond) = h.get_json("/Calls.json?PageSize=3&Page=99").await;
    assert_eq!(
        beyond["calls"],
        serde_json::json!([]),
        "a page past the end is empty, not an error"
    );
    assert_eq!(beyond["next_page_uri"], Value::Null, "and has no next page");
    let (status, huge) = h
        .get_json("/Calls.json?PageSize=1000&Page=18446744073709551615")
        .await;
    assert_eq!(
        status,
        StatusCode::OK,
        "a huge Page must not overflow: {huge}"
    );
    assert_eq!(
        huge["calls"],
        serde_json::json!([]),
        "and is simply past the end"
    );
}

#[tokio::test]
async fn page_size_out_of_range_is_a_twilio_400() {
    let h = common::start().await;
    for bad in ["0", "1001", "abc", "99999999999999999999999", "-1"] {
        let (status, body) = h.get_json(&format!("/Calls.json?PageSize={bad}")).await;
        assert_twilio_error(
            status,
            &body,
            400,
            20001,
            &format!("PageSize={bad} is outside 1..=1000"),
        );
    }
    let (status, body) = h.get_json("/Calls.json?Page=minus").await;
    assert_twilio_error(status, &body, 400, 20001, "Page must be a number");
    let (status, body) = h.get_json("/Calls.json?StartTime%3E=yesterday").await;
    assert_twilio_error(status, &body, 400, 20001, "dates are YYYY-MM-DD");
    let (status, ok) = h.get_json("/Calls.json?PageSize=1000").await;
    assert_eq!(
        status,
        StatusCode::OK,
        "1000 is the largest allowed page: {ok}"
    );
}

#[tokio::test]
async fn filters_select_by_number_status_and_utc_day() {
    let h = common::start().await;
    let answered = h.sim.place_call(CallScript::inbound(
        CUSTOMER,
        BIZ,
        None,
        vec![LegScript::answered(CELL, Duration::from_secs(30))],
    ));
    let other = h
        .sim
        .place_call(CallScript::inbound("+15125550777", BIZ, None, vec![]));
    h.sim.end_call(&answered);

    let today = h.sim.now().date_naive();
    let tomorrow = today.succ_opt().expect("tomorrow exists");
    let yesterday = today.pred_opt().expect("yesterday exists");
    let count = |v: &Vec<Value>| v.len();

    let (from, _) = h.list_all("/Calls.json?From=%2B15125550777", "calls").await;
    assert_eq!(from.len(), 1, "From selects the one caller");
    assert_eq!(
        from[0]["sid"],
        other.as_str(),
        "and it is that caller's call"
    );
    let (to_cell, _) = h
        .list_all(
            &format!("/Calls.json?To={}", CELL.replace('+', "%2B")),
            "calls",
        )
        .await;
    assert_eq!(count(&to_cell), 1, "To selects the leg to the cell");
    let (ringing, _) = h.list_all("/Calls.json?Status=ringing", "calls").await;
    assert_eq!(
        ringing.len(),
        1,
        "Status=ringing selects only the unfinished call"
    );
    let (on_or_after_today, _) = h
        .list_all(&format!("/Calls.json?StartTime>={today}"), "calls")
        .await;
    assert_eq!(
        count(&on_or_after_today),
        3,
        "StartTime>= today (unencoded) includes today's calls"
    );
    let (encoded, _) = h
        .list_all(&format!("/Calls.json?StartTime%3E%3D={today}"), "calls")
        .await;
    assert_eq!(
        count(&encoded),
        3,
        "StartTime>= with both characters encoded means the same"
    );
    let (after_tomorrow, _) = h
        .list_all(&format!("/Calls.json?StartTime>={tomorrow}"), "calls")
        .await;
    assert_eq!(count(&after_tomorrow), 0, "nothing started tomorrow");
    let (before_yesterday, _) = h
        .list_all(&format!("/Calls.json?StartTime<={yesterday}"), "calls")
        .await;
    assert_eq!(
        count(&before_yesterday),
        0,
        "nothing started yesterday or before"
    );
    let (exact, _) = h
        .list_all(&format!("/Calls.json?StartTime={today}"), "calls")
        .await;
    assert_eq!(count(&exact), 3, "StartTime=today is the exact day");

    h.sim.set_clock_offset(chrono::Duration::days(2));
    let shifted = h
        .sim
        .place_call(CallScript::inbound(CUSTOMER, BIZ, None, vec![]));
    let in_two_days = today + chrono::Days::new(2);
    let (future, _) = h
        .list_all(&format!("/Calls.json?StartTime>={in_two_days}"), "calls")
        .await;
    assert_eq!(
        future.len(),
        1,
        "the clock offset moves the sim's now (and its dates)"
    );
    assert_eq!(
        future[0]["sid"],
        shifted.as_str(),
        "only the call placed after the shift"
    );
}

use std::collections::HashSet;
use std::time::Duration;

use textback_domain::{CallDirection, CallStatus, ProviderCallId};
use textback_providers::Provider;
use textback_sim::{CallScript, LegOutcome, LegScript, ParentOutcome};

use crate::support::{business, client, customer, sim, tomorrow, yesterday};

fn call_id(sid: &str) -> ProviderCallId {
    ProviderCallId::parse(sid).expect("the sim hands out valid call sids")
}

#[tokio::test]
async fn calls_to_a_number_come_back_from_every_page_exactly_once() {
    let sim = sim().await;
    let mut placed = HashSet::new();
    // 250 calls at 100 a page: three pages, the last one partial.
    for n in 0..250 {
        let sid = sim.place_call(CallScript::inbound(
            customer(n % 40).as_str(),
            business().as_str(),
            None,
            vec![],
        ));
        placed.insert(sid);
    }
    let calls = client(&sim)
        .list_calls_to(&business(), yesterday())
        .await
        .expect("listing all pages works");
    let listed: HashSet<String> = calls.iter().map(|c| c.sid.as_str().to_owned()).collect();
    assert_eq!(
        calls.len(),
        250,
        "every call once: no page lost, none duplicated"
    );
    assert_eq!(listed, placed, "exactly the placed calls are listed");
    assert!(
        calls
            .iter()
            .all(|c| c.direction == CallDirection::Inbound && c.parent_sid.is_none()),
        "calls to the business number are the callers' parent legs"
    );
    assert!(
        calls.iter().all(|c| c.status == CallStatus::Ringing),
        "unended calls are still ringing, to be revisited"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn the_start_date_filter_is_applied() {
    let sim = sim().await;
    sim.place_call(CallScript::inbound(
        customer(1).as_str(),
        business().as_str(),
        None,
        vec![],
    ));
    let client = client(&sim);
    let recent = client
        .list_calls_to(&business(), yesterday())
        .await
        .expect("list since yesterday");
    assert_eq!(
        recent.len(),
        1,
        "a call placed now started on or after yesterday"
    );
    let future = client
        .list_calls_to(&business(), tomorrow())
        .await
        .expect("list since tomorrow");
    assert!(
        future.is_empty(),
        "StartTime>=tomorrow must exclude today's call, so the filter reached the sim: {future:?}"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn child_legs_show_who_picked_up() {
    let sim = sim().await;
    let owner = customer(100);
    let desk = customer(101);
    let mut machine = LegScript::answered(desk.as_str(), Duration::from_secs(12));
    machine.answered_by = Some("machine_start".to_owned());
    let parent = sim.place_call(CallScript::inbound(
        customer(1).as_str(),
        business().as_str(),
        None,
        vec![LegScript::no_answer(owner.as_str()), machine],
    ));
    let other_parent = sim.place_call(CallScript::inbound(
        customer(2).as_str(),
        business().as_str(),
        None,
        vec![LegScript::answered(owner.as_str(), Duration::from_secs(30))],
    ));
    let client = client(&sim);

    let ringing = client
        .list_child_legs(&call_id(&parent))
        .await
        .expect("children while ringing");
    assert_eq!(ringing.len(), 2, "both forwarded phones ring as child legs");
    assert!(
        ringing.iter().all(|c| !c.status.is_terminal()),
        "before the call ends no leg is final: {ringing:?}"
    );

    sim.end_call(&parent);
    let mut legs = client
        .list_child_legs(&call_id(&parent))
        .await
        .expect("children after the end");
    legs.sort_by(|a, b| a.to.cmp(&b.to));
    assert_eq!(
        legs.len(),
        2,
        "only this parent's legs, not the other call's"
    );
    for leg in &legs {
        assert_eq!(
            leg.parent_sid.as_ref().map(ProviderCallId::as_str),
            Some(parent.as_str()),
            "every child points at its parent"
        );
        assert_eq!(
            leg.direction,
            CallDirection::OutboundDial,
            "<Dial> legs are outbound-dial"
        );
    }
    assert_eq!(legs[0].to, owner.as_str(), "sorted by number: owner first");
    assert_eq!(
        legs[0].status,
        CallStatus::NoAnswer,
        "the owner did not pick up"
    );
    assert_eq!(
        legs[0].duration_secs, None,
        "an unanswered leg has no duration"
    );
    assert_eq!(
        legs[1].status,
        CallStatus::Completed,
        "the desk's voicemail answered"
    );
    assert_eq!(
        legs[1].duration_secs,
        Some(12),
        "the answered leg's duration is parsed"
    );
    assert_eq!(
        legs[1].answered_by.as_deref(),
        Some("machine_start"),
        "the AMD verdict reaches the classifier"
    );
    assert!(
        legs.iter().all(|l| l.end_time.is_some()),
        "ended legs have an end time"
    );

    let parents = client
        .list_calls_to(&business(), yesterday())
        .await
        .expect("parents");
    let ended = parents
        .iter()
        .find(|c| c.sid.as_str() == parent)
        .expect("the ended parent is listed");
    assert_eq!(
        ended.status,
        CallStatus::Completed,
        "Twilio answered the parent and ran TwiML"
    );
    assert!(
        ended.start_time.is_some(),
        "start time parsed from RFC 2822"
    );
    assert!(
        parents.iter().any(|c| c.sid.as_str() == other_parent),
        "the other call is still listed"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn a_parent_that_twilio_never_answered_keeps_its_status() {
    let sim = sim().await;
    let mut script = CallScript::inbound(customer(3).as_str(), business().as_str(), None, vec![]);
    script.parent_outcome = ParentOutcome::Busy;
    let sid = sim.place_call(script);
    sim.end_call(&sid);
    let calls = client(&sim)
        .list_calls_to(&business(), yesterday())
        .await
        .expect("list");
    let call = calls
        .iter()
        .find(|c| c.sid.as_str() == sid)
        .expect("listed");
    assert_eq!(
        call.status,
        CallStatus::Busy,
        "a busy parent is reported as busy"
    );
    assert!(call.status.is_terminal(), "busy is final");
    sim.shutdown().await;
}

#[tokio::test]
async fn calls_from_a_business_number_are_the_staff_call_backs() {
    let sim = sim().await;
    let back = sim.place_call(CallScript::outbound_api(
        business().as_str(),
        customer(5).as_str(),
        None,
        Some(Duration::from_secs(40)),
    ));
    sim.place_call(CallScript::inbound(
        customer(5).as_str(),
        business().as_str(),
        None,
        vec![],
    ));
    sim.end_call(&back);
    let from = client(&sim)
        .list_calls_from(&business(), yesterday())
        .await
        .expect("calls from the business number");
    assert_eq!(
        from.len(),
        1,
        "only the call placed from the business number: {from:?}"
    );
    assert_eq!(from[0].sid.as_str(), back, "it is the call back");
    assert_eq!(
        from[0].direction,
        CallDirection::OutboundApi,
        "created over the REST API"
    );
    assert_eq!(from[0].to, customer(5).as_str(), "to the customer");
    sim.shutdown().await;
}

#[tokio::test]
async fn recordings_mark_a_voicemail() {
    let sim = sim().await;
    let mut with_vm = CallScript::inbound(
        customer(7).as_str(),
        business().as_str(),
        None,
        vec![LegScript {
            to: customer(100).as_str().to_owned(),
            outcome: LegOutcome::NoAnswer,
            answered_by: None,
        }],
    );
    with_vm.voicemail = true;
    let voicemail = sim.place_call(with_vm);
    let silent = sim.place_call(CallScript::inbound(
        customer(8).as_str(),
        business().as_str(),
        None,
        vec![LegScript::no_answer(customer(100).as_str())],
    ));
    sim.end_call(&voicemail);
    sim.end_call(&silent);
    let client = client(&sim);
    assert!(
        client
            .has_recording(&call_id(&voicemail))
            .await
            .expect("recordings list"),
        "the caller left a voicemail, so the parent has a recording"
    );
    assert!(
        !client
            .has_recording(&call_id(&silent))
            .await
            .expect("recordings list"),
        "no voicemail, no recording"
    );
    sim.shutdown().await;
}

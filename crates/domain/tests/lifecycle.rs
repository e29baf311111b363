//! The lead lifecycle end to end, on fixed instants: the default follow-up sequence across a
//! weekend, a holiday and both 2026 US DST changes; quiet hours in the caller's zone; and
//! escalation paging across shift boundaries, overnight shifts and overrides, until it is
//! acknowledged, capped, or handed to the backup.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use textback_domain::escalation::{LeadFacts, Reply, evaluate, is_ack_text, plan_page, raise};
use textback_domain::followup::SequenceFacts;
use textback_domain::shifts::RotaShift;
use textback_domain::{
    BusinessHours, Escalation, EscalationPolicy, HumanDuration, LeadEvent, LeadState,
    MissedCallLead, Override, PhoneNumber, Raise, Role, Roster, SendingHours, SequenceConfig,
    ShiftsConfig, StaffMember, StopCondition, Trigger, Via, WeeklyHours, lead_for_missed_call,
    next_touch, stop_reason, transition,
};

fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, min, 0)
        .single()
        .expect("test instants are valid UTC")
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("test dates are valid")
}

fn phone(n: &str) -> PhoneNumber {
    PhoneNumber::parse_e164(n).expect("test numbers are valid")
}

/// A New York business open weekdays 08:00-17:00, closed on the given holidays.
fn new_york(holidays: Vec<NaiveDate>) -> BusinessHours {
    BusinessHours::new(
        chrono_tz::America::New_York,
        WeeklyHours::default(),
        holidays,
    )
}

/// Every touch time of the default sequence after a text-back at `text_back_at`.
fn schedule(
    hours: &BusinessHours,
    caller: &PhoneNumber,
    text_back_at: DateTime<Utc>,
) -> Vec<DateTime<Utc>> {
    let config = SequenceConfig::default();
    let sending = SendingHours::default();
    let mut touches = vec![text_back_at];
    while let Some(at) = next_touch(
        &config,
        touches.len() as u32,
        *touches.last().expect("never empty"),
        hours,
        &sending,
        caller,
    ) {
        assert!(
            touches.len() < 10,
            "the sequence must end; it ran away: {touches:?}"
        );
        touches.push(at);
    }
    touches
}

#[test]
fn default_sequence_across_a_weekend_a_holiday_and_spring_forward() {
    // Monday 9 March 2026 is a holiday; clocks go forward on Sunday 8 March.
    let hours = new_york(vec![date(2026, 3, 9)]);
    // Friday 6 March 16:30 EST.
    let touches = schedule(&hours, &phone("+12125550123"), utc(2026, 3, 6, 21, 30));
    assert_eq!(
        touches,
        vec![
            utc(2026, 3, 6, 21, 30),
            // Two hours later, 18:30 EST: inside the caller's 08:00-21:00.
            utc(2026, 3, 6, 23, 30),
            // Saturday and Sunday closed, Monday a holiday: Tuesday 08:00, now EDT (UTC-4).
            utc(2026, 3, 10, 12, 0),
        ],
        "three touches in all, the last at the next business day's opening"
    );
}

#[test]
fn default_sequence_across_fall_back() {
    let hours = new_york(vec![]);
    // Friday 30 October 2026 20:00 EDT; clocks go back on Sunday 1 November.
    let touches = schedule(&hours, &phone("+12125550123"), utc(2026, 10, 31, 0, 0));
    assert_eq!(
        touches,
        vec![
            utc(2026, 10, 31, 0, 0),
            // 22:00 EDT is past the caller's 21:00: moved to Saturday 08:00 EDT, not dropped.
            utc(2026, 10, 31, 12, 0),
            // The next business day after Saturday: Monday 08:00 EST (UTC-5).
            utc(2026, 11, 2, 13, 0),
        ],
        "the follow-up waits for morning, the last touch for Monday after the clocks change"
    );
}

#[test]
fn quiet_hours_are_the_callers_not_the_business() {
    let hours = new_york(vec![]);
    // Monday 16 March 2026 08:00 EDT; the caller is in San Francisco (UTC-7).
    let touches = schedule(&hours, &phone("+14155552671"), utc(2026, 3, 16, 12, 0));
    assert_eq!(
        touches,
        vec![
            utc(2026, 3, 16, 12, 0),
            // 10:00 in New York is 07:00 in San Francisco: held until 08:00 PDT.
            utc(2026, 3, 16, 15, 0),
            // Tuesday's 08:00 EDT opening is 05:00 PDT: held until 08:00 PDT, 11:00 EDT,
            // when the business is open too.
            utc(2026, 3, 17, 15, 0),
        ],
        "each touch waits for the caller's morning"
    );
    let same_instant = schedule(&hours, &phone("+12125550123"), utc(2026, 3, 16, 12, 0));
    assert_eq!(
        same_instant[1],
        utc(2026, 3, 16, 14, 0),
        "a New York caller gets the follow-up on the dot"
    );
}

#[test]
fn a_reply_stops_the_sequence_before_its_next_touch() {
    let missed = lead_for_missed_call(
        false,
        None,
        utc(2026, 3, 16, 12, 0),
        HumanDuration::from_secs(86_400),
    );
    assert_eq!(
        missed,
        MissedCallLead::NewLead {
            supersedes_open: false
        },
        "a first missed call opens a lead"
    );
    let texted = transition(LeadState::New, LeadEvent::TouchSent { touch: 1 }).expect("valid");
    let replied = transition(texted.to, LeadEvent::CustomerReplied).expect("valid");
    let facts = SequenceFacts {
        state: replied.to,
        opted_out: false,
        customer_replied: true,
        staff_messaged: false,
        staff_called_back: false,
    };
    assert_eq!(
        stop_reason(&facts),
        Some(StopCondition::CustomerReplied),
        "the engine checks this before touch 2 and sends nothing"
    );
}

/// Ana owns the business; Ben works weekdays 08:00-17:00 at the front desk; Dee works the
/// weekend nights (Friday to Sunday, 22:00-06:00); Cara is on call.
fn roster(overrides: Vec<Override>) -> Roster {
    let person = |name: &str, role, number: &str, desk: Option<&str>| StaffMember {
        name: name.into(),
        role,
        phone: Some(phone(number)),
        desk: desk.map(str::to_owned),
    };
    let shift = |who: &str, days: &str, hours: &str| RotaShift {
        who: who.into(),
        days: days.parse().expect("valid days"),
        hours: hours.parse().expect("valid hours"),
    };
    Roster::new(
        chrono_tz::America::New_York,
        vec![
            person("Ana", Role::Owner, "+12125550101", Some("office")),
            person("Ben", Role::Staff, "+12125550102", Some("front")),
            person("Cara", Role::Manager, "+12125550103", None),
            person("Dee", Role::Staff, "+12125550104", None),
        ],
        ShiftsConfig {
            rota: vec![
                shift("Ben", "mon-fri", "08:00-17:00"),
                shift("Dee", "fri-sun", "22:00-06:00"),
            ],
            overrides,
            on_call: Some("Cara".into()),
        },
    )
    .expect("the test roster is consistent")
}

fn urgent() -> Trigger {
    Trigger::Urgent {
        phrase: "flood".into(),
    }
}

fn opened_at(at: DateTime<Utc>) -> Escalation {
    match raise(None, &urgent(), at) {
        Raise::Open(e) => e,
        other => panic!("nothing was open, so the escalation opens: {other:?}"),
    }
}

fn names(plan: &textback_domain::PagePlan) -> Vec<&str> {
    plan.recipients.iter().map(|m| m.name.as_str()).collect()
}

#[test]
fn pages_follow_the_shift_boundary() {
    let policy = EscalationPolicy::default();
    let r = roster(vec![]);
    // Tuesday 17 March 2026 16:58 EDT.
    let esc = opened_at(utc(2026, 3, 17, 20, 58));
    let first = plan_page(&policy, &esc, esc.opened_at, &r);
    assert_eq!(
        (names(&first), first.via),
        (vec!["Ben"], Via::Rota),
        "Ben is on shift"
    );
    assert_eq!(first.desks(), vec!["front"], "his desk is alerted");
    let next_at = first.next_page_at.expect("repeats until acknowledged");
    let second = plan_page(
        &policy,
        &Escalation {
            pages_sent: 1,
            ..esc.clone()
        },
        next_at,
        &r,
    );
    assert_eq!(
        (names(&second), second.via),
        (vec!["Cara"], Via::OnCall),
        "at 17:03 Ben's shift is over: the repeat goes to the on-call person"
    );
}

#[test]
fn pages_reach_the_overnight_shift_and_follow_overrides() {
    let policy = EscalationPolicy::default();
    let r = roster(vec![
        Override::Off {
            who: "Ben".into(),
            from: date(2026, 3, 18),
            to: None,
            note: Some("sick".into()),
        },
        Override::Cover {
            who: "Dee".into(),
            covers: "Ben".into(),
            date: date(2026, 3, 19),
            note: None,
        },
        Override::Off {
            who: "Cara".into(),
            from: date(2026, 3, 18),
            to: None,
            note: None,
        },
    ]);
    let page = |at| plan_page(&policy, &opened_at(at), at, &r);
    // Saturday 21 March 02:00 EDT: Friday night's shift.
    let night = page(utc(2026, 3, 21, 6, 0));
    assert_eq!(
        (names(&night), night.via),
        (vec!["Dee"], Via::Rota),
        "Friday's overnight shift runs into Saturday"
    );
    // Wednesday 18 March 10:00 EDT: Ben is sick and Cara, on call, is off too.
    let nobody = page(utc(2026, 3, 18, 14, 0));
    assert_eq!(
        (names(&nobody), nobody.via),
        (vec!["Ana"], Via::Nobody),
        "nobody on shift or on call: the owner is paged"
    );
    // Thursday 19 March 10:00 EDT: Dee covers Ben.
    let covered = page(utc(2026, 3, 19, 14, 0));
    assert_eq!(
        (names(&covered), covered.via),
        (vec!["Dee"], Via::Override),
        "the cover is paged, not the person on the rota"
    );
}

/// Pages an escalation round after round, as the engine's timers would, until the plan stops.
/// Returns each round's minute (from opening) and whether the backup joined on it.
fn run_pages(policy: &EscalationPolicy, r: &Roster, start: DateTime<Utc>) -> Vec<(i64, bool)> {
    let mut esc = opened_at(start);
    let mut at = start;
    let mut rounds = Vec::new();
    loop {
        let plan = plan_page(policy, &esc, at, r);
        let backup_paged = plan.recipients.iter().any(|m| m.name == "Ana");
        assert_eq!(
            backup_paged,
            esc.backup_added || plan.add_backup,
            "the backup is paged exactly from the round it joins"
        );
        rounds.push(((at - start).num_minutes(), plan.add_backup));
        esc.pages_sent += 1;
        esc.backup_added |= plan.add_backup;
        match plan.next_page_at {
            Some(next) => at = next,
            None => return rounds,
        }
        assert!(rounds.len() <= 60, "paging must stop: {rounds:?}");
    }
}

#[test]
fn repeats_until_the_cap_with_the_backup_from_ten_minutes() {
    let r = roster(vec![]);
    // Tuesday 17 March 10:00 EDT: Ben is on shift.
    let start = utc(2026, 3, 17, 14, 0);
    assert_eq!(
        run_pages(&EscalationPolicy::default(), &r, start),
        vec![
            (0, false),
            (5, false),
            (10, true),
            (15, false),
            (20, false),
            (25, false)
        ],
        "every 5 minutes, 6 pages in all; the owner joins at 10 minutes and stays"
    );
    let uneven = EscalationPolicy {
        repeat_every: HumanDuration::from_secs(7 * 60),
        ..EscalationPolicy::default()
    };
    assert_eq!(
        run_pages(&uneven, &r, start),
        vec![
            (0, false),
            (7, false),
            (10, true),
            (17, false),
            (24, false),
            (31, false)
        ],
        "the backup is paged at 10 minutes, not at the next 7-minute repeat"
    );
    let one_page = EscalationPolicy {
        max_pages: 1,
        ..EscalationPolicy::default()
    };
    assert_eq!(
        run_pages(&one_page, &r, start),
        vec![(0, false), (10, true)],
        "the cap stops the repeats but never the backup's page"
    );
}

#[test]
fn an_ok_from_a_staff_phone_acknowledges_and_paging_stops() {
    let policy = EscalationPolicy::default();
    let r = roster(vec![]);
    let start = utc(2026, 3, 17, 14, 0);
    let esc = opened_at(start);
    let first = plan_page(&policy, &esc, start, &r);
    let ben = first.recipients[0].phone.clone().expect("Ben has a phone");
    let reply = "Ok thanks!";
    assert!(is_ack_text(reply), "an OK text acknowledges");
    assert_eq!(
        r.member_by_phone(&ben).map(|m| m.name.as_str()),
        Some("Ben"),
        "and the phone says who took it"
    );
    let acked = Escalation {
        pages_sent: 1,
        acknowledged_at: Some(start + Duration::minutes(2)),
        ..esc
    };
    let after = plan_page(&policy, &acked, start + Duration::minutes(5), &r);
    assert!(
        after.recipients.is_empty() && after.next_page_at.is_none(),
        "an acknowledged escalation pages nobody again"
    );
}

#[test]
fn a_second_rule_adds_its_reason_instead_of_paging() {
    let policy = EscalationPolicy::default();
    let hours = new_york(vec![]);
    let text_back = utc(2026, 3, 17, 14, 0);
    let reply_at = utc(2026, 3, 18, 13, 0);
    let facts = LeadFacts {
        state: LeadState::Replied,
        text_back_at: Some(text_back),
        last_reply: Some(Reply {
            at: reply_at,
            body: "the basement is flooding",
            answered: false,
        }),
    };
    let trigger = evaluate(&policy, &facts, &hours, reply_at).expect("urgent at once");
    let Raise::Open(esc) = raise(None, &trigger, reply_at) else {
        panic!("the first rule opens the escalation");
    };
    // Someone answered the reply, but a day after the text-back the lead is still unbooked.
    let answered = LeadFacts {
        last_reply: Some(Reply {
            answered: true,
            ..facts.last_reply.expect("set above")
        }),
        ..facts
    };
    let later = evaluate(&policy, &answered, &hours, utc(2026, 3, 18, 14, 0))
        .expect("still unbooked a day after the text-back");
    assert_eq!(later.code(), "unbooked", "the second rule");
    assert_eq!(
        raise(Some(&esc), &later, utc(2026, 3, 18, 14, 0)),
        Raise::AddReason("still not booked 1d after the text-back".into()),
        "one open escalation per lead: the reason is added, nobody is paged again"
    );
}

/// The lifecycle sections as a user writes them in textback.toml.
const CONFIG: &str = r#"
[leads]
inactivity = "3d"

[followup]
touches = [
    { delay = "90s", template = "Hi {first_name}, still need a hand?" },
    { delay = "0s", snap = "next_business_day", business_hours = true, template = "Last one from {business_name}" },
]

[sending_hours]
window = "09:00-20:00"
state_rules = true

[keywords]
confirm_opt_out = "always"
help_interval = "12h"

[escalation]
repeat_every = "2m"
max_pages = 3
backup = ["Ana"]
unanswered = { business_hours = "3m" }
urgent = { phrases = ["sewage", "no hot water"] }

[[staff]]
name = "Ana"
role = "owner"
phone = "+12125550101"

[[staff]]
name = "Ben"
desk = "front"

[shifts]
on_call = "Ana"

[[shifts.rota]]
who = "Ben"
days = "fri-mon"
hours = "22:00-06:00"

[[shifts.overrides]]
kind = "cover"
who = "Ana"
for = "Ben"
date = "2026-03-13"
"#;

#[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Sections {
    leads: textback_domain::LeadRules,
    followup: SequenceConfig,
    sending_hours: SendingHours,
    keywords: textback_domain::KeywordReplies,
    escalation: EscalationPolicy,
    staff: Vec<StaffMember>,
    shifts: ShiftsConfig,
}

#[test]
fn every_section_reads_from_and_writes_to_toml() {
    let sections: Sections = toml::from_str(CONFIG).expect("the documented TOML loads");
    assert_eq!(
        sections.leads.inactivity,
        HumanDuration::from_secs(3 * 86_400),
        "leads"
    );
    assert_eq!(
        sections.followup.total_touches(),
        3,
        "two touches after the text-back"
    );
    assert_eq!(
        sections.escalation.unanswered.after_hours,
        HumanDuration::from_secs(900),
        "keys left out keep their defaults inside a section"
    );
    assert_eq!(
        sections.staff[1].role,
        Role::Staff,
        "role defaults to staff"
    );
    let roster = Roster::new(
        chrono_tz::America::New_York,
        sections.staff.clone(),
        sections.shifts.clone(),
    )
    .expect("the TOML roster is consistent");
    assert_eq!(
        sections.escalation.validate(&roster),
        Ok(()),
        "the backup is on the staff list"
    );
    assert_eq!(
        sections.keywords.validate(),
        Ok(()),
        "keyword replies are valid"
    );
    let written = toml::to_string_pretty(&sections).expect("the app can write the file back");
    let again: Sections = toml::from_str(&written).expect("what the app writes loads again");
    assert_eq!(again, sections, "the config round-trips:\n{written}");
    let typo = CONFIG.replace("repeat_every", "repeat_evry");
    assert!(
        toml::from_str::<Sections>(&typo).is_err(),
        "a misspelt key is reported, not ignored"
    );
}

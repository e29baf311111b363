//! The lead-lifecycle settings screens through the desk: the new sections round-trip through
//! the config file, errors name the field, the rota's week view and "on shift now", and the
//! do-not-text list (hostile CSV in, spreadsheet-safe CSV out, and a listed number really
//! cannot be texted).

use std::path::Path;
use std::sync::Arc;

use chrono::{TimeZone, Utc};
use textback_app::dto::{
    FollowUpTouch, KeywordReplyMode, OnShiftVia, OverrideKind, RotaLine, RotaOverride, Settings,
    ShiftOrigin, StaffMember, StaffRole, TouchSnap,
};
use textback_app::{Desk, DeskOptions};
use textback_engine::config::Config;

async fn demo_desk(dir: &Path) -> Arc<Desk> {
    Desk::start(DeskOptions {
        config_path: dir.join("textback.toml"),
        vars: super::vars(dir),
        desk_user: "Front desk".into(),
    })
    .await
    .expect("with no provider configured the desk starts in demo mode")
}

fn person(name: &str, role: StaffRole, phone: Option<&str>, desk: Option<&str>) -> StaffMember {
    StaffMember {
        name: name.into(),
        phone: phone.map(Into::into),
        role,
        desk: desk.map(Into::into),
    }
}

fn line(who: &str, days: &str, hours: &str) -> RotaLine {
    RotaLine {
        who: who.into(),
        days: days.into(),
        hours: hours.into(),
    }
}

fn touch(delay: &str, snap: TouchSnap, business_hours: bool, template: &str) -> FollowUpTouch {
    FollowUpTouch {
        delay: delay.into(),
        snap,
        business_hours,
        template: template.into(),
    }
}

/// Every new section changed from its default.
fn edited(mut s: Settings) -> Settings {
    s.followup.enabled = true;
    s.followup.touches = vec![
        touch(
            "90s",
            TouchSnap::None,
            false,
            "Hi {first_name}, still need us?",
        ),
        touch(
            "2h",
            TouchSnap::NextOpening,
            true,
            "{business_name} again: book at {booking_link}",
        ),
        touch("1d", TouchSnap::NextBusinessDay, true, "Last note from us."),
    ];
    s.sending_hours.enabled = true;
    s.sending_hours.window = "09:00-20:00".into();
    s.sending_hours.state_rules = false;
    s.sending_hours.textback = true;
    s.escalation.enabled = true;
    s.escalation.unanswered_enabled = true;
    s.escalation.unanswered_business_hours = "3m".into();
    s.escalation.unanswered_after_hours = "20m".into();
    s.escalation.unbooked_enabled = false;
    s.escalation.unbooked_after = "2d".into();
    s.escalation.urgent_enabled = true;
    s.escalation.urgent_words = vec!["no  water".into(), "leak".into(), " ".into()];
    s.escalation.repeat_every = "10m".into();
    s.escalation.max_pages = 4;
    s.escalation.backup_after = "15m".into();
    s.escalation.backup = vec!["Ben".into()];
    s.compliance.confirm_opt_out = KeywordReplyMode::Always;
    s.compliance.opt_out_confirmation =
        "{business_name}: no more texts. Reply START to undo.".into();
    s.compliance.help = KeywordReplyMode::Never;
    s.compliance.help_reply = "{business_name}: call us. Reply STOP to opt out.".into();
    s.compliance.help_interval = "12h".into();
    s.staff = vec![
        person("Ana", StaffRole::Owner, Some("(212) 555-0101"), None),
        person("Ben", StaffRole::Staff, None, Some("front")),
        person("Cara", StaffRole::Manager, Some("+12125550103"), None),
    ];
    s.shifts.rota = vec![
        line("Ana", "mon-fri", "08:00-17:00"),
        line("Ben", "fri-sun", "22:00-06:00"),
    ];
    s.shifts.overrides = vec![
        RotaOverride {
            kind: OverrideKind::Off,
            who: "Ana".into(),
            date: "2026-03-11".into(),
            until: Some("2026-03-12".into()),
            covers: None,
            hours: None,
            note: Some("dentist".into()),
        },
        RotaOverride {
            kind: OverrideKind::Cover,
            who: "Cara".into(),
            date: "2026-03-13".into(),
            until: None,
            covers: Some("Ben".into()),
            hours: None,
            note: None,
        },
        RotaOverride {
            kind: OverrideKind::Extra,
            who: "Ben".into(),
            date: "2026-03-10".into(),
            until: None,
            covers: None,
            hours: Some("10:00-14:00".into()),
            note: Some("stocktake".into()),
        },
    ];
    s.shifts.on_call = Some("Cara".into());
    s
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lifecycle_sections_round_trip_through_the_config_file() {
    let dir = tempfile::tempdir().unwrap();
    let desk = demo_desk(dir.path()).await;
    let defaults = desk.settings().await;
    assert_eq!(
        defaults.followup.touches.len() + 1,
        3,
        "three touches by default, the text-back included"
    );
    assert_eq!(
        defaults.followup.max_touches, 10,
        "the domain's cap is shown"
    );
    let sent = edited(defaults);
    let saved = desk
        .save_settings(sent.clone())
        .await
        .expect("a valid save");

    let mut expected = sent.clone();
    // Written back the way the file keeps them.
    expected.shifts.rota[0].days = "mon,tue,wed,thu,fri".into();
    expected.shifts.rota[1].days = "fri,sat,sun".into();
    expected.followup.touches[0].delay = "1m30s".into();
    expected.staff[0].phone = Some("+12125550101".into());
    expected.escalation.urgent_words = vec!["no water".into(), "leak".into()];
    assert_eq!(
        saved, expected,
        "what the desk returns is what was saved, normalised"
    );

    let on_disk =
        Config::load(&dir.path().join("textback.toml"), &|_| None).expect("the saved file loads");
    assert_eq!(
        on_disk.followup.touches[1].delay.as_secs(),
        7200,
        "the touches are in the file"
    );
    assert_eq!(
        on_disk.sending_hours.window.to_string(),
        "09:00-20:00",
        "so is the sending window"
    );
    assert_eq!(
        on_disk.escalation.backup,
        vec!["Ben".to_owned()],
        "and the backup"
    );
    assert_eq!(on_disk.shifts.overrides.len(), 3, "and each override kind");
    desk.shutdown().await;

    let reopened = demo_desk(dir.path()).await;
    assert_eq!(
        reopened.settings().await,
        expected,
        "a new desk reads back exactly what was saved"
    );
    reopened.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lifecycle_errors_name_the_field_and_save_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let desk = demo_desk(dir.path()).await;
    let good = edited(desk.settings().await);
    type Edit = Box<dyn Fn(&mut Settings)>;
    let cases: Vec<(&str, Edit)> = vec![
        (
            "followup.touches[1].delay: ",
            Box::new(|s| s.followup.touches[1].delay = "soon".into()),
        ),
        (
            "followup.touches[0].template: ",
            Box::new(|s| s.followup.touches[0].template = "Hi {frist_name}".into()),
        ),
        (
            "followup.touches: ",
            Box::new(|s| {
                let t = s.followup.touches[0].clone();
                s.followup.touches = vec![t; 10];
            }),
        ),
        (
            "sending_hours.window: ",
            Box::new(|s| s.sending_hours.window = "21:00-08:00".into()),
        ),
        (
            "escalation.repeat_every: ",
            Box::new(|s| s.escalation.repeat_every = "5s".into()),
        ),
        (
            "escalation.max_pages: ",
            Box::new(|s| s.escalation.max_pages = 0),
        ),
        (
            "escalation.backup: ",
            Box::new(|s| s.escalation.backup = vec!["Dave".into()]),
        ),
        (
            "compliance.help_reply: ",
            Box::new(|s| s.compliance.help_reply = "Call us any time.".into()),
        ),
        (
            "compliance.opt_out_confirmation: ",
            Box::new(|s| s.compliance.opt_out_confirmation = "Bye! {booking_link}".into()),
        ),
        (
            "staff[1].phone: ",
            Box::new(|s| s.staff[1].phone = Some("12".into())),
        ),
        (
            "staff[2].name: ",
            Box::new(|s| s.staff[2].name = "ana".into()),
        ),
        (
            "staff[1].name: ",
            Box::new(|s| s.staff[1].name = "  ".into()),
        ),
        (
            "shifts.rota[0].who",
            Box::new(|s| s.shifts.rota[0].who = "Dave".into()),
        ),
        (
            "shifts.rota[1].hours: ",
            Box::new(|s| s.shifts.rota[1].hours = "8-17".into()),
        ),
        (
            "shifts.rota[0].days: ",
            Box::new(|s| s.shifts.rota[0].days = "funday".into()),
        ),
        (
            "shifts.overrides[1].for: ",
            Box::new(|s| s.shifts.overrides[1].covers = Some("Cara".into())),
        ),
        (
            "shifts.overrides[0].to: ",
            Box::new(|s| s.shifts.overrides[0].until = Some("2026-03-01".into())),
        ),
        (
            "shifts.overrides[2].date: ",
            Box::new(|s| s.shifts.overrides[2].date = "next tuesday".into()),
        ),
        (
            "shifts.on_call",
            Box::new(|s| s.shifts.on_call = Some("Dave".into())),
        ),
    ];
    for (field, break_it) in cases {
        let mut s = good.clone();
        break_it(&mut s);
        let err = desk.save_settings(s).await.expect_err(field);
        assert_eq!(err.code, "invalid_input", "{field}: {err:?}");
        assert!(
            err.message.starts_with(field),
            "the error leads with the field it is about ({field}): {}",
            err.message
        );
        assert!(
            !dir.path().join("textback.toml").exists(),
            "{field}: an invalid save writes nothing"
        );
    }
    let overnight = {
        let mut s = good.clone();
        s.shifts.rota[0].hours = "22:00-06:00".into();
        s
    };
    desk.save_settings(overnight)
        .await
        .expect("an overnight shift is valid");
    desk.shutdown().await;
}

/// Ana weekdays 08-17, Ben Friday to Sunday nights, Cara on call; New York time.
const ROTA_TOML: &str = r#"
[business]
name = "Acme"
time_zone = "America/New_York"

[[staff]]
name = "Ana"
role = "owner"

[[staff]]
name = "Ben"

[[staff]]
name = "Cara"
role = "manager"

[shifts]
on_call = "Cara"
rota = [
  { who = "Ana", days = "mon-fri", hours = "08:00-17:00" },
  { who = "Ben", days = "fri-sun", hours = "22:00-06:00" },
]
overrides = [
  { kind = "off", who = "Ana", from = "2026-03-11", note = "dentist" },
  { kind = "extra", who = "Cara", date = "2026-03-10", hours = "12:00-14:00" },
]
"#;

#[test]
fn week_view_and_on_shift_now_follow_the_rota() {
    let config = Config::from_toml(ROTA_TOML, Path::new("test.toml")).expect("valid config");
    // Saturday 2026-03-14 03:00 EDT: Friday's night shift, Ben's.
    let sat_3am = Utc.with_ymd_and_hms(2026, 3, 14, 7, 0, 0).unwrap();
    let week = textback_app::team::week(&config, None, sat_3am).expect("a valid roster");
    assert_eq!(
        week.week_start, "2026-03-09",
        "by default the week starts on this week's Monday in the business's zone"
    );
    assert_eq!(week.days.len(), 7, "seven days");
    let today: Vec<&str> = week
        .days
        .iter()
        .filter(|d| d.today)
        .map(|d| d.weekday.as_str())
        .collect();
    assert_eq!(today, vec!["sat"], "Saturday is today in New York");
    let friday = &week.days[4];
    let ben = friday
        .shifts
        .iter()
        .find(|s| s.who == "Ben")
        .expect("Ben works Friday night");
    assert!(
        ben.overnight && ben.hours == "22:00-06:00",
        "shown as an overnight shift: {ben:?}"
    );
    assert!(ben.on_now, "Friday's night shift is on at 03:00 Saturday");
    assert_eq!(
        (ben.starts_at.as_str(), ben.ends_at.as_str()),
        ("2026-03-14T02:00:00.000Z", "2026-03-14T10:00:00.000Z"),
        "22:00 to 06:00 EDT"
    );
    assert_eq!(
        week.days[2]
            .off
            .first()
            .map(|a| (a.who.as_str(), a.note.as_deref())),
        Some(("Ana", Some("dentist"))),
        "Wednesday shows Ana's day off"
    );
    assert!(
        week.days[2].shifts.is_empty(),
        "and nobody works that Wednesday"
    );
    let tuesday: Vec<_> = week.days[1]
        .shifts
        .iter()
        .map(|s| (s.who.as_str(), s.origin))
        .collect();
    assert_eq!(
        tuesday,
        vec![("Ana", ShiftOrigin::Rota), ("Cara", ShiftOrigin::Extra)],
        "Tuesday: Ana's rota shift and Cara's extra one"
    );
    assert_eq!(
        week.days[0].on_call.as_deref(),
        Some("Cara"),
        "on call each day"
    );

    let now = textback_app::team::now(&config, sat_3am).expect("a valid roster");
    assert_eq!(now.via, OnShiftVia::Rota, "as planned");
    assert_eq!(
        now.people
            .iter()
            .map(|p| (p.name.as_str(), p.until.as_deref()))
            .collect::<Vec<_>>(),
        vec![("Ben", Some("06:00"))],
        "Ben until 06:00 this morning"
    );
    // Friday 23:00 EDT: the same shift ends tomorrow.
    let fri_11pm = Utc.with_ymd_and_hms(2026, 3, 14, 3, 0, 0).unwrap();
    let now = textback_app::team::now(&config, fri_11pm).unwrap();
    assert_eq!(
        now.people[0].until.as_deref(),
        Some("06:00 tomorrow"),
        "an overnight shift ends tomorrow"
    );
    // Tuesday 20:00 EDT: nobody on shift.
    let tue_8pm = Utc.with_ymd_and_hms(2026, 3, 11, 0, 0, 0).unwrap();
    let now = textback_app::team::now(&config, tue_8pm).unwrap();
    assert_eq!(
        (
            now.via,
            now.people[0].name.as_str(),
            now.people[0].until.clone()
        ),
        (OnShiftVia::OnCall, "Cara", None),
        "after hours: the on-call person, with no end time"
    );
    assert_eq!(now.owners, vec!["Ana".to_owned()], "the owners are named");
    let err = textback_app::team::parse_week_start(Some("last week")).expect_err("not a date");
    assert!(
        err.message.starts_with("weekStart: "),
        "names the argument: {}",
        err.message
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_desk_says_who_is_on_shift_now() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("textback.toml"),
        "[[staff]]\nname = \"Dana\"\nrole = \"owner\"\n\n\
         [shifts]\nrota = [{ who = \"Dana\", days = \"daily\", hours = \"00:00-24:00\" }]\n",
    )
    .unwrap();
    let desk = demo_desk(dir.path()).await;
    let now = desk.roster_now().await.expect("a valid roster");
    assert_eq!(
        now.people
            .iter()
            .map(|p| p.name.as_str())
            .collect::<Vec<_>>(),
        vec!["Dana"],
        "a rota covering every hour has Dana on now"
    );
    let week = desk.roster_week(None).await.expect("a valid roster");
    assert!(
        week.days.iter().all(|d| d.shifts.len() == 1),
        "Dana works each day of the week"
    );
    assert_eq!(
        week.days.iter().filter(|d| d.today).count(),
        1,
        "this week holds today"
    );
    assert!(
        week.days
            .iter()
            .flat_map(|d| &d.shifts)
            .filter(|s| s.on_now)
            .count()
            >= 1,
        "today's shift is marked on now"
    );
    let other = desk
        .roster_week(Some("2026-03-09"))
        .await
        .expect("any week can be shown");
    assert_eq!(
        other.days[6].date, "2026-03-15",
        "seven days from the given start"
    );
    desk.shutdown().await;
}

/// A spreadsheet's export at its worst: BOM, CRLF, a header in words, quoted commas and
/// quotes, formula cells, bad rows, an unclosed quote, a bad date and a duplicate.
const HOSTILE_CSV: &str = "\u{feff}Phone Number,Opted out at,Source,Note\r\n\
\"(415) 555-2671\",2026-03-08T14:00:00Z,keyword,\"said \"\"stop\"\", twice\"\r\n\
=HYPERLINK(\"http://evil\"),,,\r\n\
'+12125550123,2026-03-01,=cmd|' /C calc'!A0,@SUM(1+1)\r\n\
not a number,,,\r\n\
\"3125550123,,unclosed\r\n\
6175550123,yesterday,,\r\n\
415.555.2671,,,dup\r\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn do_not_text_import_export_and_a_listed_number_cannot_be_texted() {
    let dir = tempfile::tempdir().unwrap();
    let desk = demo_desk(&dir.path().join("a")).await;
    let conv = desk
        .start_conversation("+14155552671", "Hi, this is Acme")
        .await
        .expect("a number not yet listed can be texted");

    let result = desk
        .dnt_import(HOSTILE_CSV.to_owned())
        .await
        .expect("bad rows never refuse the whole file");
    assert_eq!(result.added, 3, "three numbers are listed: {result:?}");
    assert_eq!(result.duplicates_merged, 1, "415.555.2671 is a duplicate");
    assert_eq!(
        result.rejected.iter().map(|r| r.line).collect::<Vec<_>>(),
        vec![3, 5, 6],
        "each bad row by its line: the formula, the words, the unclosed quote"
    );
    assert!(
        result.rejected[2].reason.contains("never closed"),
        "the unclosed quote is explained: {}",
        result.rejected[2].reason
    );
    assert_eq!(
        result.warnings.iter().map(|r| r.line).collect::<Vec<_>>(),
        vec![7],
        "an unreadable date is a warning, the number still listed"
    );

    let list = desk.dnt_list().await.unwrap();
    let row = |p: &str| list.iter().find(|n| n.phone == p);
    assert_eq!(
        row("+14155552671").and_then(|n| n.opted_out_at.as_deref()),
        Some("2026-03-08T14:00:00.000Z"),
        "the file's date is kept"
    );
    assert_eq!(
        row("+12125550123").and_then(|n| n.source.as_deref()),
        Some("=cmd|' /C calc'!A0"),
        "a spreadsheet's quote guard is dropped on import; the text is kept as text"
    );
    assert_eq!(
        row("+16175550123").and_then(|n| n.source.as_deref()),
        Some("import"),
        "a row without a source says it was imported"
    );

    let refused = desk
        .reply(conv, "Are you still there?")
        .await
        .expect_err("an imported number blocks a reply");
    assert_eq!(refused.code, "opted_out", "{refused:?}");

    let again = desk.dnt_import(HOSTILE_CSV.to_owned()).await.unwrap();
    assert_eq!(
        (again.added, again.already_listed),
        (0, 3),
        "importing twice changes nothing"
    );

    let csv = desk.dnt_export().await.unwrap();
    assert!(
        csv.starts_with("phone,opted_out_at,source,note\r\n"),
        "the documented header, CRLF: {csv:?}"
    );
    for cell in csv.lines().skip(1).flat_map(|l| l.split(',')) {
        assert!(
            !cell
                .trim_start_matches('"')
                .starts_with(['=', '+', '-', '@']),
            "no cell a spreadsheet would run as a formula: {cell:?} in {csv:?}"
        );
    }
    assert!(
        csv.contains("'=cmd|' /C calc'!A0"),
        "the formula is quoted off: {csv:?}"
    );

    let other = demo_desk(&dir.path().join("b")).await;
    let into_b = other.dnt_import(csv.clone()).await.unwrap();
    assert!(
        into_b.added == 3 && into_b.rejected.is_empty() && into_b.warnings.is_empty(),
        "the export imports cleanly: {into_b:?}"
    );
    assert_eq!(
        other.dnt_export().await.unwrap(),
        csv,
        "and exports again identically"
    );
    other.shutdown().await;

    let bad = desk.dnt_add("555").await.expect_err("not a phone number");
    assert!(
        bad.code == "invalid_input" && bad.message.starts_with("phone: "),
        "{bad:?}"
    );
    let added = desk.dnt_add("(303) 555-0142").await.unwrap();
    assert_eq!(
        (added.phone.as_str(), added.source.as_deref()),
        ("+13035550142", Some("staff")),
        "a number added by hand, read in the business's country"
    );

    desk.dnt_remove("+1 415 555 2671", Some("asked to be texted again".into()))
        .await
        .expect("a listed number can be removed");
    desk.reply(conv, "Welcome back")
        .await
        .expect("off the list, the number can be texted again");
    let missing = desk
        .dnt_remove("+14155552671", None)
        .await
        .expect_err("no longer listed");
    assert_eq!(missing.code, "not_found", "{missing:?}");
    let audit = desk
        .store()
        .await
        .read(|c| textback_store::audit::for_subject(c, "contact:+14155552671"))
        .unwrap();
    let trail: Vec<(&str, &str)> = audit
        .iter()
        .map(|e| (e.action.as_str(), e.actor.as_str()))
        .collect();
    assert_eq!(
        trail,
        vec![("opted_out", "Front desk"), ("opted_in", "Front desk")],
        "the import and the removal are both audited, by this desk"
    );
    assert!(
        audit[1]
            .detail
            .as_deref()
            .is_some_and(|d| d.contains("asked to be texted again")),
        "with the reason: {:?}",
        audit[1].detail
    );
    desk.shutdown().await;
}

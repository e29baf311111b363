//! Staff and the rota as the settings screen edits them, and who is on shift: the week view
//! and the "on shift now" line, both from `textback_domain::shifts`, the same rules that route
//! escalations.
//!
//! Every error names the config key it is about (`shifts.rota[2].hours: …`,
//! `staff[1].phone: …`) so the screen can show it beside that field.

use chrono::{DateTime, Datelike, Days, NaiveDate, Timelike, Utc};
use chrono_tz::Tz;
use textback_domain::PhoneNumber;
use textback_domain::shifts::{
    Override, Role, Roster, RosterError, RotaShift, ShiftSource, ShiftsConfig, StaffMember, Via,
    on_shift, week_view,
};
use textback_engine::config::Config;

use crate::dto::{
    IpcError, OnShiftPerson, OnShiftVia, OverrideKind, RosterAbsence, RosterDay, RosterNow,
    RosterShift, RosterWeek, RotaLine, RotaOverride, RotaSettings, ShiftOrigin, StaffRole,
};
use crate::inbox::rfc3339;
use crate::lead_settings::at;

const MAX_NAME_CHARS: usize = 100;
const MAX_NOTE_CHARS: usize = 200;

fn role_dto(r: Role) -> StaffRole {
    match r {
        Role::Owner => StaffRole::Owner,
        Role::Manager => StaffRole::Manager,
        Role::Staff => StaffRole::Staff,
    }
}

fn role_of(r: StaffRole) -> Role {
    match r {
        StaffRole::Owner => Role::Owner,
        StaffRole::Manager => Role::Manager,
        StaffRole::Staff => Role::Staff,
    }
}

/// Trimmed text, or None when blank.
fn text(s: Option<&str>) -> Option<String> {
    s.map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

pub fn staff_of(c: &Config) -> Vec<crate::dto::StaffMember> {
    c.staff
        .iter()
        .map(|s| crate::dto::StaffMember {
            name: s.name.clone(),
            phone: s.phone.as_ref().map(ToString::to_string),
            role: role_dto(s.role),
            desk: s.desk.clone(),
        })
        .collect()
}

pub fn shifts_of(c: &Config) -> RotaSettings {
    let s = &c.shifts;
    RotaSettings {
        rota: s
            .rota
            .iter()
            .map(|r| RotaLine {
                who: r.who.clone(),
                days: r.days.to_string(),
                hours: r.hours.to_string(),
            })
            .collect(),
        overrides: s.overrides.iter().map(override_dto).collect(),
        on_call: s.on_call.clone(),
    }
}

fn override_dto(o: &Override) -> RotaOverride {
    match o {
        Override::Off {
            who,
            from,
            to,
            note,
        } => RotaOverride {
            kind: OverrideKind::Off,
            who: who.clone(),
            date: from.to_string(),
            until: to.map(|d| d.to_string()),
            covers: None,
            hours: None,
            note: note.clone(),
        },
        Override::Cover {
            who,
            covers,
            date,
            note,
        } => RotaOverride {
            kind: OverrideKind::Cover,
            who: who.clone(),
            date: date.to_string(),
            until: None,
            covers: Some(covers.clone()),
            hours: None,
            note: note.clone(),
        },
        Override::Extra {
            who,
            date,
            hours,
            note,
        } => RotaOverride {
            kind: OverrideKind::Extra,
            who: who.clone(),
            date: date.to_string(),
            until: None,
            covers: None,
            hours: Some(hours.to_string()),
            note: note.clone(),
        },
    }
}

fn date(path: &str, raw: &str) -> Result<NaiveDate, IpcError> {
    raw.trim().parse().map_err(|_| {
        at(
            path,
            format!("\"{}\" is not a date; write it like 2026-03-09", raw.trim()),
        )
    })
}

fn name(path: &str, raw: &str) -> Result<String, IpcError> {
    let n = raw.trim();
    if n.is_empty() {
        return Err(at(path, "choose a person"));
    }
    if n.chars().count() > MAX_NAME_CHARS {
        return Err(at(
            path,
            format!("a name may be at most {MAX_NAME_CHARS} characters"),
        ));
    }
    Ok(n.to_owned())
}

fn note(path: &str, raw: Option<&str>) -> Result<Option<String>, IpcError> {
    let n = text(raw);
    if n.as_ref()
        .is_some_and(|n| n.chars().count() > MAX_NOTE_CHARS)
    {
        return Err(at(
            path,
            format!("a note may be at most {MAX_NOTE_CHARS} characters"),
        ));
    }
    Ok(n)
}

/// Sets the staff list and the rota from the screen, checked together: every name the rota
/// uses must be on the staff list, covers need a shift to cover, and so on.
pub fn apply(
    c: &mut Config,
    staff: &[crate::dto::StaffMember],
    shifts: &RotaSettings,
) -> Result<(), IpcError> {
    let region = c.business.region;
    let staff = staff
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let path = |key: &str| format!("staff[{i}].{key}");
            let name = m.name.trim();
            if name.is_empty() {
                return Err(at(
                    &path("name"),
                    "every person needs a name; fill it in or remove the row",
                ));
            }
            if name.chars().count() > MAX_NAME_CHARS {
                return Err(at(
                    &path("name"),
                    format!("a name may be at most {MAX_NAME_CHARS} characters"),
                ));
            }
            Ok(StaffMember {
                name: name.to_owned(),
                role: role_of(m.role),
                phone: text(m.phone.as_deref())
                    .map(|p| PhoneNumber::parse(&p, region).map_err(|e| at(&path("phone"), e)))
                    .transpose()?,
                desk: text(m.desk.as_deref()),
            })
        })
        .collect::<Result<Vec<_>, IpcError>>()?;
    let rota = shifts
        .rota
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let path = |key: &str| format!("shifts.rota[{i}].{key}");
            Ok(RotaShift {
                who: name(&path("who"), &r.who)?,
                days: r.days.trim().parse().map_err(|e| at(&path("days"), e))?,
                hours: r.hours.trim().parse().map_err(|e| at(&path("hours"), e))?,
            })
        })
        .collect::<Result<Vec<_>, IpcError>>()?;
    let overrides = shifts
        .overrides
        .iter()
        .enumerate()
        .map(|(i, o)| parse_override(i, o))
        .collect::<Result<Vec<_>, IpcError>>()?;
    let shifts = ShiftsConfig {
        rota,
        overrides,
        on_call: text(shifts.on_call.as_deref()),
    };
    let tz = c.business_hours().map_or(chrono_tz::UTC, |h| h.tz);
    Roster::new(tz, staff.clone(), shifts.clone()).map_err(|e| roster_error(&e, &staff))?;
    c.staff = staff;
    c.shifts = shifts;
    Ok(())
}

fn parse_override(i: usize, o: &RotaOverride) -> Result<Override, IpcError> {
    let path = |key: &str| format!("shifts.overrides[{i}].{key}");
    let who = name(&path("who"), &o.who)?;
    let day = date(&path("date"), &o.date)?;
    let note = note(&path("note"), o.note.as_deref())?;
    Ok(match o.kind {
        OverrideKind::Off => Override::Off {
            who,
            from: day,
            to: text(o.until.as_deref())
                .map(|d| date(&path("to"), &d))
                .transpose()?,
            note,
        },
        OverrideKind::Cover => Override::Cover {
            who,
            covers: name(&path("for"), o.covers.as_deref().unwrap_or(""))?,
            date: day,
            note,
        },
        OverrideKind::Extra => {
            let hours = text(o.hours.as_deref())
                .ok_or_else(|| at(&path("hours"), "write the hours like 10:00-14:00"))?;
            Override::Extra {
                who,
                date: day,
                hours: hours.parse().map_err(|e| at(&path("hours"), e))?,
                note,
            }
        }
    })
}

/// The roster error, led by the key of the field it is about.
fn roster_error(e: &RosterError, staff: &[StaffMember]) -> IpcError {
    let key = |n: &str| n.trim().to_lowercase();
    // The second of two clashing entries is the one to change.
    let last_named = |n: &str| staff.iter().rposition(|m| key(&m.name) == key(n));
    let (field, path) = match e {
        RosterError::EmptyName { index } => (None, format!("staff[{index}].name")),
        RosterError::DuplicateName { name } => (
            None,
            format!("staff[{}].name", last_named(name).unwrap_or(0)),
        ),
        RosterError::DuplicatePhone { second, .. } => (
            None,
            format!("staff[{}].phone", last_named(second).unwrap_or(0)),
        ),
        RosterError::UnknownPerson { field, .. } => (Some(field), field.clone()),
        RosterError::BadRange { field, .. } => (Some(field), format!("{field}.to")),
        RosterError::OffButWorking { field, .. } => (Some(field), format!("{field}.who")),
        RosterError::DoubleCover { field, .. }
        | RosterError::NothingToCover { field, .. }
        | RosterError::CoversSelf { field, .. } => (Some(field), format!("{field}.for")),
        // Hours and days are parsed (and reported) before the roster is built.
        RosterError::BadHours { .. }
        | RosterError::EmptyShift { .. }
        | RosterError::BadDays { .. } => (None, "shifts".to_owned()),
    };
    let message = e.to_string();
    let message = field
        .and_then(|f| message.strip_prefix(&format!("{f}: ")))
        .unwrap_or(&message);
    if message.starts_with(&path) {
        IpcError::new("invalid_input", message)
    } else {
        at(&path, message)
    }
}

/// The config's roster, checked (a hand-edited file may name someone not on the staff list).
pub fn roster(c: &Config) -> Result<Roster, IpcError> {
    let tz = c
        .business_hours()
        .map_err(|e| IpcError::new("invalid_input", e.to_string()))?
        .tz;
    Roster::new(tz, c.staff.clone(), c.shifts.clone()).map_err(|e| roster_error(&e, &c.staff))
}

/// Reads the `weekStart` a command was given ("2026-03-09").
pub fn parse_week_start(raw: Option<&str>) -> Result<Option<NaiveDate>, IpcError> {
    text(raw).map(|d| date("weekStart", &d)).transpose()
}

/// Monday of the week holding `day`.
fn monday_of(day: NaiveDate) -> NaiveDate {
    day.checked_sub_days(Days::new(u64::from(day.weekday().num_days_from_monday())))
        .unwrap_or(day)
}

/// Seven days of the rota from `week_start` (default: this week's Monday in the business's
/// zone), with the shifts on at `now` marked.
pub fn week(
    c: &Config,
    week_start: Option<NaiveDate>,
    now: DateTime<Utc>,
) -> Result<RosterWeek, IpcError> {
    let roster = roster(c)?;
    let tz = roster.tz();
    let today = now.with_timezone(&tz).date_naive();
    let start = week_start.unwrap_or_else(|| monday_of(today));
    let view = week_view(&roster, start);
    Ok(RosterWeek {
        week_start: start.to_string(),
        time_zone: tz.name().to_owned(),
        days: view
            .days
            .into_iter()
            .map(|d| RosterDay {
                date: d.date.to_string(),
                weekday: d.date.weekday().to_string().to_lowercase(),
                today: d.date == today,
                shifts: d
                    .shifts
                    .into_iter()
                    .map(|s| RosterShift {
                        on_now: s.is_on_at(now),
                        who: s.who,
                        hours: s.hours.to_string(),
                        overnight: s.hours.ends_next_day(),
                        starts_at: rfc3339(s.starts_at),
                        ends_at: rfc3339(s.ends_at),
                        origin: match &s.source {
                            ShiftSource::Rota => ShiftOrigin::Rota,
                            ShiftSource::Cover { .. } => ShiftOrigin::Cover,
                            ShiftSource::Extra => ShiftOrigin::Extra,
                        },
                        covers: match s.source {
                            ShiftSource::Cover { covers } => Some(covers),
                            _ => None,
                        },
                    })
                    .collect(),
                off: d
                    .off
                    .into_iter()
                    .map(|a| RosterAbsence {
                        who: a.who,
                        note: a.note,
                    })
                    .collect(),
                on_call: d.on_call,
            })
            .collect(),
    })
}

/// Who is on shift at `now`, and until when.
pub fn now(c: &Config, now: DateTime<Utc>) -> Result<RosterNow, IpcError> {
    let roster = roster(c)?;
    let tz = roster.tz();
    let on = on_shift(&roster, now);
    let today = now.with_timezone(&tz).date_naive();
    let running: Vec<_> = [today.pred_opt(), Some(today)]
        .into_iter()
        .flatten()
        .flat_map(|d| roster.shifts_on(d))
        .filter(|s| s.is_on_at(now))
        .collect();
    let people = on
        .people
        .iter()
        .map(|m| OnShiftPerson {
            name: m.name.clone(),
            role: role_dto(m.role),
            until: running
                .iter()
                .filter(|s| s.who.trim().eq_ignore_ascii_case(m.name.trim()))
                .map(|s| s.ends_at)
                .max()
                .filter(|_| on.via != Via::OnCall)
                .map(|end| until(end, today, tz)),
        })
        .collect();
    Ok(RosterNow {
        at: rfc3339(now),
        time_zone: tz.name().to_owned(),
        people,
        via: match on.via {
            Via::Rota => OnShiftVia::Rota,
            Via::Override => OnShiftVia::Override,
            Via::OnCall => OnShiftVia::OnCall,
            Via::Nobody => OnShiftVia::Nobody,
        },
        owners: roster
            .with_role(Role::Owner)
            .into_iter()
            .map(|m| m.name)
            .collect(),
    })
}

/// A shift's end as the screen says it: "17:00", "midnight", "06:00 tomorrow".
fn until(end: DateTime<Utc>, today: NaiveDate, tz: Tz) -> String {
    let local = end.with_timezone(&tz);
    let midnight = local.hour() == 0 && local.minute() == 0;
    let next_day = today.succ_opt();
    if midnight && Some(local.date_naive()) == next_day {
        return "midnight".to_owned();
    }
    let time = local.format("%H:%M").to_string();
    if local.date_naive() == today {
        time
    } else if Some(local.date_naive()) == next_day {
        format!("{time} tomorrow")
    } else {
        format!("{time} on {}", local.format("%a %-d %b"))
    }
}

//! Who is on shift: staff, a weekly rota in the business's time zone (overnight shifts
//! included), one-off overrides, and an on-call person for after hours.
//!
//! [`on_shift`] is the one answer to "who is on now" that every part uses: escalation routing,
//! the desk's alerts, the shifts screen. [`week_view`] lays the same rules out for a week.
//!
//! A shift belongs to the day it starts: Friday 22:00-06:00 is Friday's shift, so a sick day
//! on Saturday does not cut it short. Wall-clock times are turned into instants in the
//! business's zone, DST included: a shift starting in a spring-forward gap starts when the
//! clocks jump; in the fall-back hour a shift starts at the first reading of its start time
//! and ends at the second reading of its end time, so hand-overs overlap and never leave a gap.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Datelike, Days, NaiveDate, NaiveTime, Utc, Weekday};
use chrono_tz::Tz;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use thiserror::Error;

use crate::phone::PhoneNumber;
use crate::sending_hours::{Ambiguous, resolve_local};

const DAY_SECS: u32 = 24 * 3600;
/// The longest sick leave or holiday one override may cover.
const MAX_OFF_DAYS: i64 = 366;

/// Why the staff list, rota or overrides from the config cannot be used. Each names the entry.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RosterError {
    #[error("staff[{index}] has no name")]
    EmptyName { index: usize },
    #[error("two staff members are called \"{name}\"; names must differ")]
    DuplicateName { name: String },
    #[error(
        "{first} and {second} have the same phone {phone}; an \"OK\" text could not tell them apart"
    )]
    DuplicatePhone {
        first: String,
        second: String,
        phone: String,
    },
    #[error("{field} names \"{name}\", who is not on the staff list")]
    UnknownPerson { field: String, name: String },
    #[error(
        "\"{input}\" is not shift hours; write them like 08:00-17:00 or 22:00-06:00 (overnight)"
    )]
    BadHours { input: String },
    #[error("\"{input}\" starts and ends at the same time; write 00:00-24:00 for a whole day")]
    EmptyShift { input: String },
    #[error("\"{input}\" is not a list of days; write it like mon, mon-fri, sat,sun or fri-mon")]
    BadDays { input: String },
    #[error(
        "{field}: the days off run from {from} to {to}, which is backwards or longer than a year"
    )]
    BadRange {
        field: String,
        from: NaiveDate,
        to: NaiveDate,
    },
    #[error("{field}: {who} is off on {date}, so cannot also work that day")]
    OffButWorking {
        field: String,
        who: String,
        date: NaiveDate,
    },
    #[error("{field}: {covers} is already covered on {date}")]
    DoubleCover {
        field: String,
        covers: String,
        date: NaiveDate,
    },
    #[error("{field}: {covers} has no shift or on-call duty on {date} to cover")]
    NothingToCover {
        field: String,
        covers: String,
        date: NaiveDate,
    },
    #[error("{field}: {who} cannot cover for themselves")]
    CoversSelf { field: String, who: String },
}

/// What a member of staff may do; escalations fall back to owners.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Owner,
    Manager,
    #[default]
    Staff,
}

/// A member of staff, as listed in the config's `[[staff]]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StaffMember {
    pub name: String,
    #[serde(default)]
    pub role: Role,
    /// Where pages are texted; calls and texts from it are never leads.
    #[serde(default)]
    pub phone: Option<PhoneNumber>,
    /// The desk (computer) this person works at, for desktop alerts.
    #[serde(default)]
    pub desk: Option<String>,
}

/// A shift's wall-clock hours. An end at or before the start ends the next day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ShiftHours {
    start: u32,
    /// Seconds from midnight, 1..=86400 (24:00).
    end: u32,
}

impl ShiftHours {
    pub fn start(&self) -> NaiveTime {
        secs_to_time(self.start)
    }

    /// The end's wall-clock time (00:00 for a shift ending at midnight).
    pub fn end(&self) -> NaiveTime {
        secs_to_time(self.end % DAY_SECS)
    }

    /// The shift ends on the next calendar day (it crosses midnight, or ends at 24:00).
    pub fn ends_next_day(&self) -> bool {
        self.end <= self.start || self.end == DAY_SECS
    }
}

fn secs_to_time(secs: u32) -> NaiveTime {
    NaiveTime::from_num_seconds_from_midnight_opt(secs, 0).unwrap_or(NaiveTime::MIN)
}

fn hhmm(secs: u32) -> String {
    format!("{:02}:{:02}", secs / 3600, secs % 3600 / 60)
}

impl fmt::Display for ShiftHours {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", hhmm(self.start), hhmm(self.end))
    }
}

impl FromStr for ShiftHours {
    type Err = RosterError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || RosterError::BadHours {
            input: s.to_owned(),
        };
        let (start, end) = s.split_once('-').ok_or_else(bad)?;
        let time = |t: &str| -> Result<u32, RosterError> {
            let t = t.trim();
            if t == "24:00" {
                return Ok(DAY_SECS);
            }
            NaiveTime::parse_from_str(t, "%H:%M")
                .map(|t| chrono::Timelike::num_seconds_from_midnight(&t))
                .map_err(|_| bad())
        };
        let (start, end) = (time(start)?, time(end)?);
        if start == DAY_SECS {
            return Err(bad());
        }
        // 00:00 as an end means midnight, the same as 24:00 ("00:00-00:00" is a whole day).
        let end = if end == 0 { DAY_SECS } else { end };
        if start == end {
            return Err(RosterError::EmptyShift {
                input: s.to_owned(),
            });
        }
        Ok(Self { start, end })
    }
}

impl Serialize for ShiftHours {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ShiftHours {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

/// A set of weekdays, written "mon", "mon-fri", "sat,sun", "fri-mon" or "daily".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Weekdays(u8);

impl Weekdays {
    pub fn contains(&self, day: Weekday) -> bool {
        self.0 & (1 << day.num_days_from_monday()) != 0
    }
}

impl FromStr for Weekdays {
    type Err = RosterError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || RosterError::BadDays {
            input: s.to_owned(),
        };
        let day = |t: &str| Weekday::from_str(t.trim()).map_err(|_| bad());
        if s.trim().eq_ignore_ascii_case("daily") {
            return Ok(Weekdays(0x7f));
        }
        let mut set = 0u8;
        for part in s.split(',') {
            let (first, last) = match part.split_once('-') {
                Some((a, b)) => (day(a)?, day(b)?),
                None => (day(part)?, day(part)?),
            };
            // Ranges wrap around the week end: fri-mon is fri, sat, sun, mon.
            let mut d = first;
            loop {
                set |= 1 << d.num_days_from_monday();
                if d == last {
                    break;
                }
                d = d.succ();
            }
        }
        Ok(Weekdays(set))
    }
}

impl fmt::Display for Weekdays {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const NAMES: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
        let names: Vec<&str> = (0..7)
            .filter(|i| self.0 & (1 << i) != 0)
            .map(|i| NAMES[i])
            .collect();
        f.write_str(&names.join(","))
    }
}

impl Serialize for Weekdays {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Weekdays {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

/// One line of the weekly rota: `who` works `hours` on each of `days`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RotaShift {
    pub who: String,
    pub days: Weekdays,
    pub hours: ShiftHours,
}

/// A one-off change to the rota.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Override {
    /// `who` is off (sick, on holiday) from `from` to `to`, both included: their shifts that
    /// start on those days and their on-call duty are dropped.
    Off {
        who: String,
        from: NaiveDate,
        /// The last day off; the same day as `from` when left out.
        #[serde(default)]
        to: Option<NaiveDate>,
        #[serde(default)]
        note: Option<String>,
    },
    /// `who` works `covers`'s shifts (and on-call duty) on `date`: a swap.
    Cover {
        who: String,
        #[serde(rename = "for")]
        covers: String,
        date: NaiveDate,
        #[serde(default)]
        note: Option<String>,
    },
    /// An extra shift for `who` on `date`.
    Extra {
        who: String,
        date: NaiveDate,
        hours: ShiftHours,
        #[serde(default)]
        note: Option<String>,
    },
}

/// The rota, overrides and on-call person from the config's `[shifts]` section.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ShiftsConfig {
    pub rota: Vec<RotaShift>,
    pub overrides: Vec<Override>,
    /// Who is paged when nobody is on shift.
    pub on_call: Option<String>,
}

/// Staff and their shifts, checked, in the business's time zone.
#[derive(Debug, Clone, PartialEq)]
pub struct Roster {
    tz: Tz,
    staff: Vec<StaffMember>,
    shifts: ShiftsConfig,
}

/// Where a shift on the day's plan comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ShiftSource {
    Rota,
    /// Worked instead of `covers`.
    Cover {
        covers: String,
    },
    Extra,
}

/// A shift as it will be worked on a given day, with its real start and end instants.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WorkedShift {
    pub who: String,
    /// The day it starts.
    pub date: NaiveDate,
    pub hours: ShiftHours,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub source: ShiftSource,
}

impl WorkedShift {
    pub fn is_on_at(&self, at: DateTime<Utc>) -> bool {
        self.starts_at <= at && at < self.ends_at
    }
}

/// How [`on_shift`] found its people.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Via {
    /// The weekly rota, as planned.
    Rota,
    /// The rota as changed by an override (a sick day, a swap, an extra shift).
    Override,
    /// Nobody is on shift: the on-call person.
    OnCall,
    /// Nobody on shift and no on-call person available.
    Nobody,
}

/// Who is on shift at one instant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OnShift {
    /// In order of shift start, then name.
    pub people: Vec<StaffMember>,
    pub via: Via,
}

/// Someone off on a day, for the week view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Absence {
    pub who: String,
    pub note: Option<String>,
}

/// One day of the week view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DayView {
    pub date: NaiveDate,
    /// Shifts starting this day, by start time.
    pub shifts: Vec<WorkedShift>,
    pub off: Vec<Absence>,
    /// Who is on call this day, overrides applied.
    pub on_call: Option<String>,
}

/// Seven days from `week_start`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WeekView {
    pub days: Vec<DayView>,
}

fn same_name(a: &str, b: &str) -> bool {
    a.trim().eq_ignore_ascii_case(b.trim())
}

impl Roster {
    /// Checks every name, range and override against the staff list.
    pub fn new(tz: Tz, staff: Vec<StaffMember>, shifts: ShiftsConfig) -> Result<Self, RosterError> {
        let roster = Self { tz, staff, shifts };
        roster.check_staff()?;
        roster.check_shifts()?;
        Ok(roster)
    }

    pub fn tz(&self) -> Tz {
        self.tz
    }

    pub fn staff(&self) -> &[StaffMember] {
        &self.staff
    }

    pub fn shifts(&self) -> &ShiftsConfig {
        &self.shifts
    }

    /// The member called `name` (names match case-insensitively).
    pub fn member(&self, name: &str) -> Option<&StaffMember> {
        self.staff.iter().find(|m| same_name(&m.name, name))
    }

    /// The member whose phone is `phone`: their calls and texts are never leads, and their
    /// "OK" acknowledges a page.
    pub fn member_by_phone(&self, phone: &PhoneNumber) -> Option<&StaffMember> {
        self.staff.iter().find(|m| m.phone.as_ref() == Some(phone))
    }

    pub fn with_role(&self, role: Role) -> Vec<StaffMember> {
        self.staff
            .iter()
            .filter(|m| m.role == role)
            .cloned()
            .collect()
    }

    fn check_staff(&self) -> Result<(), RosterError> {
        let mut names = BTreeSet::new();
        for (index, m) in self.staff.iter().enumerate() {
            if m.name.trim().is_empty() {
                return Err(RosterError::EmptyName { index });
            }
            if !names.insert(m.name.trim().to_lowercase()) {
                return Err(RosterError::DuplicateName {
                    name: m.name.clone(),
                });
            }
        }
        for (i, a) in self.staff.iter().enumerate() {
            if let Some(b) = self.staff[i + 1..]
                .iter()
                .find(|b| a.phone.is_some() && b.phone == a.phone)
            {
                return Err(RosterError::DuplicatePhone {
                    first: a.name.clone(),
                    second: b.name.clone(),
                    phone: a
                        .phone
                        .as_ref()
                        .map(ToString::to_string)
                        .unwrap_or_default(),
                });
            }
        }
        Ok(())
    }

    fn known(&self, field: String, name: &str) -> Result<(), RosterError> {
        match self.member(name) {
            Some(_) => Ok(()),
            None => Err(RosterError::UnknownPerson {
                field,
                name: name.to_owned(),
            }),
        }
    }

    fn check_shifts(&self) -> Result<(), RosterError> {
        for (i, shift) in self.shifts.rota.iter().enumerate() {
            self.known(format!("shifts.rota[{i}].who"), &shift.who)?;
        }
        if let Some(on_call) = &self.shifts.on_call {
            self.known("shifts.on_call".into(), on_call)?;
        }
        let mut covered = BTreeSet::new();
        for (i, o) in self.shifts.overrides.iter().enumerate() {
            let field = format!("shifts.overrides[{i}]");
            match o {
                Override::Off { who, from, to, .. } => {
                    self.known(format!("{field}.who"), who)?;
                    let to = to.unwrap_or(*from);
                    let days = (to - *from).num_days();
                    if !(0..MAX_OFF_DAYS).contains(&days) {
                        return Err(RosterError::BadRange {
                            field,
                            from: *from,
                            to,
                        });
                    }
                }
                Override::Cover {
                    who, covers, date, ..
                } => {
                    self.known(format!("{field}.who"), who)?;
                    self.known(format!("{field}.for"), covers)?;
                    if same_name(who, covers) {
                        return Err(RosterError::CoversSelf {
                            field,
                            who: who.clone(),
                        });
                    }
                    if self.is_off(who, *date) {
                        return Err(RosterError::OffButWorking {
                            field,
                            who: who.clone(),
                            date: *date,
                        });
                    }
                    if !covered.insert((covers.trim().to_lowercase(), *date)) {
                        return Err(RosterError::DoubleCover {
                            field,
                            covers: covers.clone(),
                            date: *date,
                        });
                    }
                    let has_shift = self.rota_for(covers, date.weekday()).next().is_some();
                    let on_call = self
                        .shifts
                        .on_call
                        .as_deref()
                        .is_some_and(|o| same_name(o, covers));
                    if !has_shift && !on_call {
                        return Err(RosterError::NothingToCover {
                            field,
                            covers: covers.clone(),
                            date: *date,
                        });
                    }
                }
                Override::Extra { who, date, .. } => {
                    self.known(format!("{field}.who"), who)?;
                    if self.is_off(who, *date) {
                        return Err(RosterError::OffButWorking {
                            field,
                            who: who.clone(),
                            date: *date,
                        });
                    }
                }
            }
        }
        Ok(())
    }

    fn rota_for<'a>(&'a self, who: &'a str, day: Weekday) -> impl Iterator<Item = &'a RotaShift> {
        self.shifts
            .rota
            .iter()
            .filter(move |s| same_name(&s.who, who) && s.days.contains(day))
    }

    fn absence(&self, who: &str, date: NaiveDate) -> Option<&Option<String>> {
        self.shifts.overrides.iter().find_map(|o| match o {
            Override::Off {
                who: off,
                from,
                to,
                note,
            } if same_name(off, who) && *from <= date && date <= to.unwrap_or(*from) => Some(note),
            _ => None,
        })
    }

    fn is_off(&self, who: &str, date: NaiveDate) -> bool {
        self.absence(who, date).is_some()
    }

    /// Who covers `who` on `date`, if anyone.
    fn cover_for(&self, who: &str, date: NaiveDate) -> Option<&str> {
        self.shifts.overrides.iter().find_map(|o| match o {
            Override::Cover {
                who: by,
                covers,
                date: d,
                ..
            } if *d == date && same_name(covers, who) => Some(by.as_str()),
            _ => None,
        })
    }

    fn worked(
        &self,
        who: &str,
        date: NaiveDate,
        hours: ShiftHours,
        source: ShiftSource,
    ) -> Option<WorkedShift> {
        let end_date = if hours.ends_next_day() {
            date.checked_add_days(Days::new(1))?
        } else {
            date
        };
        let who = self.member(who).map_or(who, |m| m.name.as_str());
        Some(WorkedShift {
            who: who.to_owned(),
            date,
            hours,
            starts_at: resolve_local(self.tz, date.and_time(hours.start()), Ambiguous::Earliest)?,
            ends_at: resolve_local(self.tz, end_date.and_time(hours.end()), Ambiguous::Latest)?,
            source,
        })
    }

    /// The rota's shifts starting on `date`, as planned (no overrides).
    fn planned_on(&self, date: NaiveDate) -> Vec<WorkedShift> {
        self.shifts
            .rota
            .iter()
            .filter(|s| s.days.contains(date.weekday()))
            .filter_map(|s| self.worked(&s.who, date, s.hours, ShiftSource::Rota))
            .collect()
    }

    /// The shifts starting on `date` as they will be worked: people off removed, covers
    /// swapped in, extra shifts added. Ordered by start, then name.
    pub fn shifts_on(&self, date: NaiveDate) -> Vec<WorkedShift> {
        let mut shifts: Vec<WorkedShift> = self
            .shifts
            .rota
            .iter()
            .filter(|s| s.days.contains(date.weekday()) && !self.is_off(&s.who, date))
            .filter_map(|s| match self.cover_for(&s.who, date) {
                Some(by) => self.worked(
                    by,
                    date,
                    s.hours,
                    ShiftSource::Cover {
                        covers: s.who.clone(),
                    },
                ),
                None => self.worked(&s.who, date, s.hours, ShiftSource::Rota),
            })
            .collect();
        shifts.extend(self.shifts.overrides.iter().filter_map(|o| match o {
            Override::Extra {
                who,
                date: d,
                hours,
                ..
            } if *d == date => self.worked(who, date, *hours, ShiftSource::Extra),
            _ => None,
        }));
        shifts.sort_by(|a, b| (a.starts_at, &a.who).cmp(&(b.starts_at, &b.who)));
        shifts
    }

    /// The on-call person on `date`, covers and days off applied.
    pub fn on_call_on(&self, date: NaiveDate) -> Option<&StaffMember> {
        let planned = self.shifts.on_call.as_deref()?;
        let who = self.cover_for(planned, date).unwrap_or(planned);
        if self.is_off(who, date) {
            return None;
        }
        self.member(who)
    }
}

/// Names of the people whose shifts (from the day before `at` and the day of `at`) are on at
/// `at`, in shift order, each once.
fn on_at(shifts: impl Iterator<Item = WorkedShift>, at: DateTime<Utc>) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for s in shifts.filter(|s| s.is_on_at(at)) {
        if !names.iter().any(|n| same_name(n, &s.who)) {
            names.push(s.who);
        }
    }
    names
}

/// Who is on shift at `at`: the people whose shifts cover it, else the on-call person.
pub fn on_shift(roster: &Roster, at: DateTime<Utc>) -> OnShift {
    let today = at.with_timezone(&roster.tz).date_naive();
    // An overnight shift from yesterday may still be running.
    let days: Vec<NaiveDate> = [today.pred_opt(), Some(today)]
        .into_iter()
        .flatten()
        .collect();
    let actual = on_at(days.iter().flat_map(|d| roster.shifts_on(*d)), at);
    if !actual.is_empty() {
        let planned = on_at(days.iter().flat_map(|d| roster.planned_on(*d)), at);
        let via = if planned == actual {
            Via::Rota
        } else {
            Via::Override
        };
        let people = actual
            .iter()
            .filter_map(|n| roster.member(n).cloned())
            .collect();
        return OnShift { people, via };
    }
    match roster.on_call_on(today) {
        Some(m) => OnShift {
            people: vec![m.clone()],
            via: Via::OnCall,
        },
        None => OnShift {
            people: Vec::new(),
            via: Via::Nobody,
        },
    }
}

/// Who works, who is off and who is on call on each of the seven days from `week_start`.
pub fn week_view(roster: &Roster, week_start: NaiveDate) -> WeekView {
    let days = (0..7)
        .filter_map(|d| week_start.checked_add_days(Days::new(d)))
        .map(|date| DayView {
            date,
            shifts: roster.shifts_on(date),
            off: roster
                .staff
                .iter()
                .filter_map(|m| {
                    roster.absence(&m.name, date).map(|note| Absence {
                        who: m.name.clone(),
                        note: note.clone(),
                    })
                })
                .collect(),
            on_call: roster.on_call_on(date).map(|m| m.name.clone()),
        })
        .collect();
    WeekView { days }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use proptest::prelude::*;

    fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, min, 0)
            .single()
            .expect("valid test instant")
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("valid test date")
    }

    fn member(name: &str, role: Role) -> StaffMember {
        StaffMember {
            name: name.into(),
            role,
            phone: None,
            desk: None,
        }
    }

    fn rota(who: &str, days: &str, hours: &str) -> RotaShift {
        RotaShift {
            who: who.into(),
            days: days.parse().expect("valid days"),
            hours: hours.parse().expect("valid hours"),
        }
    }

    #[test]
    fn shift_hours_read_overnight_and_whole_days() {
        let night: ShiftHours = "22:00-06:00".parse().expect("overnight is allowed");
        assert!(night.ends_next_day(), "22:00-06:00 crosses midnight");
        assert_eq!(night.to_string(), "22:00-06:00", "displays as written");
        let day: ShiftHours = "00:00-24:00".parse().expect("a whole day");
        assert!(day.ends_next_day(), "24:00 is the next midnight");
        let to_midnight: ShiftHours = "18:00-00:00".parse().expect("until midnight");
        assert_eq!(
            to_midnight.to_string(),
            "18:00-24:00",
            "00:00 as an end is midnight"
        );
        for bad in ["8-17", "08:00", "25:00-26:00", "24:00-08:00"] {
            assert!(
                matches!(bad.parse::<ShiftHours>(), Err(RosterError::BadHours { .. })),
                "{bad:?} is not shift hours"
            );
        }
        assert!(
            matches!(
                "08:00-08:00".parse::<ShiftHours>(),
                Err(RosterError::EmptyShift { .. })
            ),
            "a shift that starts when it ends is ambiguous"
        );
    }

    #[test]
    fn days_read_lists_and_wrapping_ranges() {
        let weekend: Weekdays = "fri-mon".parse().expect("wraps the week end");
        assert_eq!(
            weekend.to_string(),
            "mon,fri,sat,sun",
            "fri-mon is four days"
        );
        let mixed: Weekdays = "Mon-Wed, sat".parse().expect("lists and ranges mix");
        assert!(
            mixed.contains(Weekday::Tue) && mixed.contains(Weekday::Sat),
            "both parts count"
        );
        assert!(!mixed.contains(Weekday::Thu), "thu is not listed");
        assert_eq!(
            "daily".parse::<Weekdays>().map(|d| d.to_string()),
            Ok("mon,tue,wed,thu,fri,sat,sun".to_owned()),
            "daily is every day"
        );
        assert!(
            "funday".parse::<Weekdays>().is_err(),
            "unknown day names fail"
        );
    }

    #[test]
    fn roster_rejects_bad_references_with_the_field() {
        let staff = vec![member("Ana", Role::Owner), member("Ben", Role::Staff)];
        let err = Roster::new(
            chrono_tz::America::New_York,
            staff.clone(),
            ShiftsConfig {
                rota: vec![rota("Cara", "mon", "08:00-17:00")],
                ..ShiftsConfig::default()
            },
        )
        .expect_err("Cara is not staff");
        assert_eq!(
            err.to_string(),
            "shifts.rota[0].who names \"Cara\", who is not on the staff list",
            "the error names the field"
        );
        let err = Roster::new(
            chrono_tz::America::New_York,
            staff.clone(),
            ShiftsConfig {
                overrides: vec![Override::Cover {
                    who: "Ben".into(),
                    covers: "Ana".into(),
                    date: date(2026, 3, 9),
                    note: None,
                }],
                ..ShiftsConfig::default()
            },
        )
        .expect_err("Ana has nothing to cover");
        assert!(
            matches!(err, RosterError::NothingToCover { .. }),
            "a cover needs a shift: {err}"
        );
        let dup = vec![member("Ana", Role::Owner), member("ana", Role::Staff)];
        assert!(
            matches!(
                Roster::new(chrono_tz::America::New_York, dup, ShiftsConfig::default()),
                Err(RosterError::DuplicateName { .. })
            ),
            "names differ case-insensitively"
        );
    }

    #[test]
    fn serde_reads_the_config_shape() {
        let json = r#"{
            "rota": [{"who": "Ana", "days": "mon-fri", "hours": "08:00-17:00"}],
            "overrides": [
                {"kind": "off", "who": "Ana", "from": "2026-03-09", "to": "2026-03-10", "note": "sick"},
                {"kind": "cover", "who": "Ben", "for": "Ana", "date": "2026-03-11"},
                {"kind": "extra", "who": "Ben", "date": "2026-03-14", "hours": "10:00-14:00"}
            ],
            "on_call": "Ben"
        }"#;
        let shifts: ShiftsConfig = serde_json::from_str(json).expect("the documented shape loads");
        assert_eq!(shifts.overrides.len(), 3, "each kind of override is read");
        let roster = Roster::new(
            chrono_tz::America::New_York,
            vec![member("Ana", Role::Owner), member("Ben", Role::Staff)],
            shifts,
        );
        assert!(roster.is_ok(), "a consistent rota is accepted: {roster:?}");
        assert!(
            serde_json::from_str::<ShiftsConfig>(r#"{"oncall": "Ben"}"#).is_err(),
            "misspelt keys are errors"
        );
        assert!(
            serde_json::from_str::<ShiftsConfig>(
                r#"{"overrides":[{"kind":"off","who":"Ana","from":"2026-03-09","unit":1}]}"#
            )
            .is_err(),
            "unknown keys inside an override are errors"
        );
        let member: StaffMember =
            serde_json::from_str(r#"{"name":"Ana","phone":"+14155552671"}"#).expect("loads");
        assert_eq!(member.role, Role::Staff, "the role defaults to staff");
    }
    /// Ana works weekdays, Ben the weekend nights (Friday to Sunday, 22:00-06:00), Cara
    /// Saturday mornings and is on call.
    fn roster(overrides: Vec<Override>) -> Roster {
        let mut ana = member("Ana", Role::Owner);
        ana.phone = Some(PhoneNumber::parse_e164("+12125550101").expect("valid"));
        let mut ben = member("Ben", Role::Staff);
        ben.desk = Some("front".into());
        Roster::new(
            chrono_tz::America::New_York,
            vec![ana, ben, member("Cara", Role::Manager)],
            ShiftsConfig {
                rota: vec![
                    rota("Ana", "mon-fri", "08:00-17:00"),
                    rota("Ben", "fri-sun", "22:00-06:00"),
                    rota("Cara", "sat", "09:00-13:00"),
                ],
                overrides,
                on_call: Some("Cara".into()),
            },
        )
        .expect("the test roster is consistent")
    }

    fn names(on: &OnShift) -> Vec<&str> {
        on.people.iter().map(|m| m.name.as_str()).collect()
    }

    #[test]
    fn the_rota_by_day_and_the_on_call_person_after_hours() {
        let r = roster(vec![]);
        // Tuesday 2026-03-10 is EDT (UTC-4).
        let on = on_shift(&r, utc(2026, 3, 10, 14, 0));
        assert_eq!(
            (names(&on), on.via),
            (vec!["Ana"], Via::Rota),
            "10:00 Tuesday is Ana's"
        );
        let on = on_shift(&r, utc(2026, 3, 10, 21, 0));
        assert_eq!(
            (names(&on), on.via),
            (vec!["Cara"], Via::OnCall),
            "17:00 is the end of Ana's shift (exclusive): the on-call person"
        );
        assert_eq!(
            names(&on_shift(&r, utc(2026, 3, 10, 20, 59))),
            vec!["Ana"],
            "16:59 is still Ana's"
        );
    }

    #[test]
    fn overnight_shifts_cross_midnight_and_the_week_end() {
        let r = roster(vec![]);
        // Friday 2026-03-13 23:00 EDT.
        assert_eq!(
            names(&on_shift(&r, utc(2026, 3, 14, 3, 0))),
            vec!["Ben"],
            "Friday night is Ben's"
        );
        // Monday 2026-03-16 05:30 EDT: Sunday's shift runs into the new week.
        assert_eq!(
            names(&on_shift(&r, utc(2026, 3, 16, 9, 30))),
            vec!["Ben"],
            "Sunday's night shift runs into Monday morning"
        );
        assert_eq!(
            on_shift(&r, utc(2026, 3, 16, 10, 0)).via,
            Via::OnCall,
            "06:00 Monday Ben is done and Ana not yet in"
        );
        // Saturday 2026-03-14 09:30 EDT: Cara's morning.
        assert_eq!(
            names(&on_shift(&r, utc(2026, 3, 14, 13, 30))),
            vec!["Cara"],
            "Saturday morning is Cara's"
        );
    }

    #[test]
    fn overnight_shifts_follow_dst() {
        let r = roster(vec![]);
        // Saturday 2026-03-07 22:00 EST (03:00 UTC) to Sunday 06:00 EDT (10:00 UTC): 7 hours.
        assert_eq!(
            names(&on_shift(&r, utc(2026, 3, 8, 9, 59))),
            vec!["Ben"],
            "05:59 EDT on the spring-forward Sunday is still Ben's"
        );
        assert_eq!(
            on_shift(&r, utc(2026, 3, 8, 10, 0)).via,
            Via::OnCall,
            "06:00 EDT ends it, though only 7 hours have passed"
        );
        // Saturday 2026-10-31 22:00 EDT (02:00 UTC) to Sunday 06:00 EST (11:00 UTC): 9 hours.
        assert_eq!(
            names(&on_shift(&r, utc(2026, 11, 1, 10, 30))),
            vec!["Ben"],
            "05:30 EST on the fall-back Sunday is still Ben's"
        );
        assert_eq!(
            on_shift(&r, utc(2026, 11, 1, 11, 0)).via,
            Via::OnCall,
            "06:00 EST ends it after 9 hours"
        );
    }

    #[test]
    fn overrides_sick_day_swap_and_extra_shift() {
        let r = roster(vec![
            Override::Off {
                who: "Ana".into(),
                from: date(2026, 3, 11),
                to: None,
                note: Some("sick".into()),
            },
            Override::Cover {
                who: "Ben".into(),
                covers: "Ana".into(),
                date: date(2026, 3, 12),
                note: None,
            },
            Override::Extra {
                who: "Cara".into(),
                date: date(2026, 3, 10),
                hours: "12:00-14:00".parse().expect("valid"),
                note: None,
            },
        ]);
        let on = on_shift(&r, utc(2026, 3, 11, 14, 0));
        assert_eq!(
            (names(&on), on.via),
            (vec!["Cara"], Via::OnCall),
            "Ana is off sick on Wednesday and nobody covers: on call"
        );
        let on = on_shift(&r, utc(2026, 3, 12, 14, 0));
        assert_eq!(
            (names(&on), on.via),
            (vec!["Ben"], Via::Override),
            "Ben covers Ana's Thursday"
        );
        let on = on_shift(&r, utc(2026, 3, 10, 17, 0));
        assert_eq!(
            (names(&on), on.via),
            (vec!["Ana", "Cara"], Via::Override),
            "Cara's extra shift adds her beside Ana"
        );
    }

    #[test]
    fn a_day_off_does_not_cut_the_night_before_short() {
        let r = roster(vec![Override::Off {
            who: "Ben".into(),
            from: date(2026, 3, 14),
            to: Some(date(2026, 3, 15)),
            note: None,
        }]);
        // Saturday 2026-03-14 03:00 EDT: Friday's shift, which Ben still works.
        assert_eq!(
            names(&on_shift(&r, utc(2026, 3, 14, 7, 0))),
            vec!["Ben"],
            "a shift belongs to the day it starts"
        );
        // Saturday 23:00 EDT: Ben is off.
        assert_eq!(
            on_shift(&r, utc(2026, 3, 15, 3, 0)).via,
            Via::OnCall,
            "Saturday night falls to the on-call person"
        );
    }

    #[test]
    fn the_on_call_person_can_be_covered_or_off() {
        let covered = roster(vec![Override::Cover {
            who: "Ben".into(),
            covers: "Cara".into(),
            date: date(2026, 3, 10),
            note: None,
        }]);
        let on = on_shift(&covered, utc(2026, 3, 11, 1, 0));
        assert_eq!(
            (names(&on), on.via),
            (vec!["Ben"], Via::OnCall),
            "Ben takes Cara's on-call duty on Tuesday"
        );
        let off = roster(vec![Override::Off {
            who: "Cara".into(),
            from: date(2026, 3, 10),
            to: None,
            note: None,
        }]);
        let on = on_shift(&off, utc(2026, 3, 11, 1, 0));
        assert!(
            on.people.is_empty() && on.via == Via::Nobody,
            "nobody on shift or on call: the caller falls back to the owner"
        );
    }

    #[test]
    fn the_week_view_shows_shifts_absences_and_on_call() {
        let r = roster(vec![Override::Off {
            who: "Ana".into(),
            from: date(2026, 3, 11),
            to: None,
            note: Some("dentist".into()),
        }]);
        let week = week_view(&r, date(2026, 3, 9));
        assert_eq!(week.days.len(), 7, "a week is seven days");
        let who = |d: usize| -> Vec<&str> {
            week.days[d].shifts.iter().map(|s| s.who.as_str()).collect()
        };
        assert_eq!(who(0), vec!["Ana"], "Monday: Ana");
        assert_eq!(who(2), Vec::<&str>::new(), "Wednesday: Ana is off");
        assert_eq!(
            week.days[2].off,
            vec![Absence {
                who: "Ana".into(),
                note: Some("dentist".into())
            }],
            "the absence is shown with its note"
        );
        assert_eq!(
            who(4),
            vec!["Ana", "Ben"],
            "Friday: Ana by day, Ben from 22:00"
        );
        assert_eq!(
            who(5),
            vec!["Cara", "Ben"],
            "Saturday: Cara's morning, Ben's night"
        );
        let sunday = &week.days[6].shifts[0];
        assert_eq!(
            (sunday.starts_at, sunday.ends_at),
            (utc(2026, 3, 16, 2, 0), utc(2026, 3, 16, 10, 0)),
            "Sunday's night shift ends Monday 06:00 EDT"
        );
        assert_eq!(
            week.days[0].on_call.as_deref(),
            Some("Cara"),
            "the on-call person is shown every day"
        );
    }

    #[test]
    fn staff_phones_are_recognised() {
        let r = roster(vec![]);
        let ana = PhoneNumber::parse_e164("+12125550101").expect("valid");
        assert_eq!(
            r.member_by_phone(&ana).map(|m| m.name.as_str()),
            Some("Ana"),
            "a staff phone names its owner"
        );
        assert_eq!(
            r.with_role(Role::Owner).len(),
            1,
            "one owner to fall back on"
        );
    }

    proptest! {
        // NOTE: tests write nothing outside temp dirs, so no proptest-regressions files; a
        // failing case worth keeping becomes a named test.
        #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::default() })]

        #[test]
        fn parsers_never_panic(s in "\\PC{0,30}") {
            let _ = s.parse::<ShiftHours>();
            let _ = s.parse::<Weekdays>();
        }

        #[test]
        fn everyone_on_shift_is_on_a_shift_that_covers_the_instant(minutes in 0i64..(366 * 24 * 60)) {
            let r = roster(vec![]);
            let at = utc(2026, 1, 1, 0, 0) + chrono::Duration::minutes(minutes);
            let on = on_shift(&r, at);
            let local = at.with_timezone(&r.tz()).date_naive();
            let shifts: Vec<WorkedShift> = [local.pred_opt().unwrap_or(local), local]
                .into_iter()
                .flat_map(|d| r.shifts_on(d))
                .collect();
            match on.via {
                Via::Rota | Via::Override => {
                    prop_assert!(!on.people.is_empty(), "on shift means someone");
                    for m in &on.people {
                        prop_assert!(
                            shifts.iter().any(|s| s.who == m.name && s.is_on_at(at)),
                            "{} is on a shift covering {}", m.name, at
                        );
                    }
                }
                Via::OnCall => prop_assert!(
                    !shifts.iter().any(|s| s.is_on_at(at)),
                    "the on-call person is paged only when no shift covers {}", at
                ),
                Via::Nobody => prop_assert!(false, "the test roster always has someone on call"),
            }
        }
    }
}

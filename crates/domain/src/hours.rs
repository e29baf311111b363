//! Business hours in the business's own time zone: weekly intervals and holidays, DST-correct.
//! Decides the business-hours vs after-hours template and when the business next opens.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use chrono::{
    DateTime, Datelike, Days, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Timelike,
    Utc, Weekday,
};
use chrono_tz::Tz;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use thiserror::Error;

const DAY_SECS: u32 = 24 * 3600;

/// Why business hours from the config could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum HoursError {
    #[error(
        "\"{input}\" is not a list of opening hours; write it like 08:00-17:00, 08:00-12:00,13:00-17:00, or closed"
    )]
    BadRange { input: String },
    #[error("\"{input}\" is not a time; write it as 24-hour HH:MM, like 08:00 or 17:30")]
    BadTime { input: String },
    #[error(
        "opening hours {open}-{close} close before they open; an interval cannot cross midnight"
    )]
    CloseBeforeOpen { open: String, close: String },
    #[error("opening hours {first} and {second} overlap on the same day")]
    Overlap { first: String, second: String },
    #[error("\"{input}\" is not a day; use mon, tue, wed, thu, fri, sat or sun")]
    UnknownDay { input: String },
    #[error("\"{input}\" is not a time zone; use a name like America/New_York or Europe/London")]
    UnknownTimeZone { input: String },
}

/// One opening interval within a day, `open` inclusive, `close` exclusive. `close` may be
/// 24:00 (open until midnight).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OpenInterval {
    open: u32,
    close: u32,
}

fn hhmm(secs: u32) -> String {
    format!("{:02}:{:02}", secs / 3600, secs % 3600 / 60)
}

fn parse_hhmm(s: &str) -> Result<u32, HoursError> {
    let bad = || HoursError::BadTime {
        input: s.to_owned(),
    };
    let t = s.trim();
    if t == "24:00" {
        return Ok(DAY_SECS);
    }
    let time = NaiveTime::parse_from_str(t, "%H:%M").map_err(|_| bad())?;
    Ok(time.num_seconds_from_midnight())
}

impl OpenInterval {
    pub fn new(open: NaiveTime, close: NaiveTime) -> Result<Self, HoursError> {
        Self::from_secs(
            open.num_seconds_from_midnight(),
            close.num_seconds_from_midnight(),
        )
    }

    /// Open from `open` until midnight.
    pub fn until_midnight(open: NaiveTime) -> Self {
        Self {
            open: open.num_seconds_from_midnight(),
            close: DAY_SECS,
        }
    }

    fn from_secs(open: u32, close: u32) -> Result<Self, HoursError> {
        if close <= open {
            return Err(HoursError::CloseBeforeOpen {
                open: hhmm(open),
                close: hhmm(close),
            });
        }
        Ok(Self { open, close })
    }

    pub fn open(&self) -> NaiveTime {
        NaiveTime::from_num_seconds_from_midnight_opt(self.open, 0).unwrap_or(NaiveTime::MIN)
    }

    /// The closing time, or `None` when open until midnight.
    pub fn close(&self) -> Option<NaiveTime> {
        NaiveTime::from_num_seconds_from_midnight_opt(self.close, 0)
            .filter(|_| self.close < DAY_SECS)
    }

    fn contains(&self, secs: u32) -> bool {
        self.open <= secs && secs < self.close
    }
}

impl fmt::Display for OpenInterval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", hhmm(self.open), hhmm(self.close))
    }
}

impl FromStr for OpenInterval {
    type Err = HoursError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (open, close) = s.split_once('-').ok_or_else(|| HoursError::BadRange {
            input: s.to_owned(),
        })?;
        Self::from_secs(parse_hhmm(open)?, parse_hhmm(close)?)
    }
}

/// Opening intervals for each day of the week, sorted and non-overlapping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WeeklyHours {
    days: [Vec<OpenInterval>; 7],
}

const DAY_NAMES: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

fn day_index(day: Weekday) -> usize {
    day.num_days_from_monday() as usize
}

impl WeeklyHours {
    /// Closed every day.
    pub fn closed() -> Self {
        Self {
            days: Default::default(),
        }
    }

    /// Sets one day's intervals, rejecting overlaps.
    pub fn set(
        &mut self,
        day: Weekday,
        mut intervals: Vec<OpenInterval>,
    ) -> Result<(), HoursError> {
        intervals.sort();
        if let Some(pair) = intervals.windows(2).find(|w| w[1].open < w[0].close) {
            return Err(HoursError::Overlap {
                first: pair[0].to_string(),
                second: pair[1].to_string(),
            });
        }
        self.days[day_index(day)] = intervals;
        Ok(())
    }

    /// Builder form of [`WeeklyHours::set`] from config text ("08:00-12:00,13:00-17:00", "closed").
    pub fn with_day(mut self, day: Weekday, spec: &str) -> Result<Self, HoursError> {
        self.set(day, parse_day(spec)?)?;
        Ok(self)
    }

    pub fn intervals(&self, day: Weekday) -> &[OpenInterval] {
        &self.days[day_index(day)]
    }

    /// The config text for one day: "08:00-17:00", "08:00-12:00,13:00-17:00" or "closed".
    pub fn day_spec(&self, day: Weekday) -> String {
        let intervals = self.intervals(day);
        if intervals.is_empty() {
            return "closed".to_owned();
        }
        intervals
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// Reads one day's config text.
pub fn parse_day(spec: &str) -> Result<Vec<OpenInterval>, HoursError> {
    let trimmed = spec.trim();
    if trimmed.eq_ignore_ascii_case("closed") || trimmed.is_empty() {
        return Ok(Vec::new());
    }
    trimmed
        .split(',')
        .map(|part| {
            part.parse::<OpenInterval>().map_err(|e| match e {
                HoursError::BadRange { .. } => HoursError::BadRange {
                    input: spec.to_owned(),
                },
                other => other,
            })
        })
        .collect()
}

fn weekday_from_name(name: &str) -> Result<Weekday, HoursError> {
    // chrono reads "mon" and "monday" alike, case-insensitively.
    Weekday::from_str(name.trim()).map_err(|_| HoursError::UnknownDay {
        input: name.to_owned(),
    })
}

impl Default for WeeklyHours {
    /// Monday to Friday, 08:00–17:00.
    fn default() -> Self {
        let nine_to_five = OpenInterval {
            open: 8 * 3600,
            close: 17 * 3600,
        };
        let mut days: [Vec<OpenInterval>; 7] = Default::default();
        for day in days.iter_mut().take(5) {
            day.push(nine_to_five);
        }
        Self { days }
    }
}

impl Serialize for WeeklyHours {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(7))?;
        for (i, name) in DAY_NAMES.iter().enumerate() {
            let day = Weekday::try_from(i as u8).map_err(serde::ser::Error::custom)?;
            map.serialize_entry(name, &self.day_spec(day))?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for WeeklyHours {
    /// Days left out of the map are closed.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let map = BTreeMap::<String, String>::deserialize(deserializer)?;
        let mut weekly = WeeklyHours::closed();
        for (name, spec) in map {
            let day = weekday_from_name(&name).map_err(serde::de::Error::custom)?;
            let intervals = parse_day(&spec).map_err(serde::de::Error::custom)?;
            weekly
                .set(day, intervals)
                .map_err(serde::de::Error::custom)?;
        }
        Ok(weekly)
    }
}

/// When the business is open, in its own time zone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BusinessHours {
    #[serde(serialize_with = "serialize_tz", deserialize_with = "deserialize_tz")]
    pub tz: Tz,
    #[serde(default)]
    pub weekly: WeeklyHours,
    #[serde(default)]
    pub holidays: Vec<NaiveDate>,
}

fn serialize_tz<S: Serializer>(tz: &Tz, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(tz.name())
}

fn deserialize_tz<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Tz, D::Error> {
    let s = String::deserialize(deserializer)?;
    parse_tz(&s).map_err(serde::de::Error::custom)
}

/// Reads an IANA time zone name such as "America/New_York".
pub fn parse_tz(s: &str) -> Result<Tz, HoursError> {
    s.trim()
        .parse::<Tz>()
        .map_err(|_| HoursError::UnknownTimeZone {
            input: s.to_owned(),
        })
}

impl Default for BusinessHours {
    /// Monday to Friday, 08:00–17:00, US Eastern; the app fills in the computer's zone on setup.
    fn default() -> Self {
        Self {
            tz: chrono_tz::America::New_York,
            weekly: WeeklyHours::default(),
            holidays: Vec::new(),
        }
    }
}

/// How far ahead `next_opening` looks before giving up.
const LOOKAHEAD_DAYS: u64 = 366;

impl BusinessHours {
    pub fn new(tz: Tz, weekly: WeeklyHours, holidays: Vec<NaiveDate>) -> Self {
        Self {
            tz,
            weekly,
            holidays,
        }
    }

    fn open_on(&self, date: NaiveDate) -> &[OpenInterval] {
        if self.holidays.contains(&date) {
            &[]
        } else {
            self.weekly.intervals(date.weekday())
        }
    }

    /// Whether the business is open at `at`, by the wall clock in its time zone.
    pub fn is_open(&self, at: DateTime<Utc>) -> bool {
        let local = at.with_timezone(&self.tz);
        let secs = local.time().num_seconds_from_midnight();
        self.open_on(local.date_naive())
            .iter()
            .any(|i| i.contains(secs))
    }

    /// The first moment at or after `after` when the business goes from closed to open.
    /// While open, that is the start of the next opening, not `after`. An opening time that
    /// falls in a spring-forward gap opens when the clocks jump; one that occurs twice in a
    /// fall-back hour opens the first time. `None` if the business does not go from closed to
    /// open within 366 days (never open, or never closed).
    pub fn next_opening(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let start = after.with_timezone(&self.tz).date_naive();
        (0..=LOOKAHEAD_DAYS)
            .filter_map(|d| start.checked_add_days(Days::new(d)))
            .flat_map(|date| {
                self.open_on(date)
                    .iter()
                    .map(move |i| date.and_time(i.open()))
            })
            .filter_map(|local| self.resolve(local))
            // Candidates come in time order (days ascending, intervals sorted), so the first
            // real opening is the answer. An interval that continues one ending at midnight
            // the day before is not an opening.
            .find(|&t| {
                t >= after && self.is_open(t) && !self.is_open(t - chrono::Duration::seconds(1))
            })
    }

    /// The UTC instant the local wall clock first shows `local` or, in a DST gap, the instant
    /// the clocks jump past it.
    fn resolve(&self, local: NaiveDateTime) -> Option<DateTime<Utc>> {
        match self.tz.from_local_datetime(&local) {
            LocalResult::Single(t) => Some(t.with_timezone(&Utc)),
            LocalResult::Ambiguous(first, _) => Some(first.with_timezone(&Utc)),
            // In a spring-forward gap the wall clock skips `local`; the first whole minute
            // that exists afterwards is the moment of the jump.
            LocalResult::None => (1..=180).find_map(|m| {
                let later = local.checked_add_signed(chrono::Duration::minutes(m))?;
                self.tz
                    .from_local_datetime(&later)
                    .earliest()
                    .map(|t| t.with_timezone(&Utc))
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::America::New_York;
    use proptest::prelude::*;

    fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, min, 0)
            .single()
            .expect("test instants are valid UTC")
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("test dates are valid")
    }

    fn new_york(weekly: WeeklyHours, holidays: Vec<NaiveDate>) -> BusinessHours {
        BusinessHours::new(New_York, weekly, holidays)
    }

    #[test]
    fn default_is_weekdays_eight_to_five() {
        let weekly = WeeklyHours::default();
        assert_eq!(
            weekly.day_spec(Weekday::Mon),
            "08:00-17:00",
            "the design's default hours"
        );
        assert_eq!(
            weekly.day_spec(Weekday::Fri),
            "08:00-17:00",
            "weekdays are open"
        );
        assert_eq!(
            weekly.day_spec(Weekday::Sat),
            "closed",
            "weekends are closed"
        );
        assert_eq!(
            weekly.day_spec(Weekday::Sun),
            "closed",
            "weekends are closed"
        );
    }

    #[test]
    fn is_open_follows_the_local_wall_clock_across_dst() {
        let hours = new_york(WeeklyHours::default(), vec![]);
        // Friday 6 March 2026 is still EST (UTC-5).
        assert!(
            !hours.is_open(utc(2026, 3, 6, 12, 59)),
            "07:59 EST is before opening"
        );
        assert!(hours.is_open(utc(2026, 3, 6, 13, 0)), "08:00 EST opens");
        assert!(
            hours.is_open(utc(2026, 3, 6, 21, 59)),
            "16:59 EST is still open"
        );
        assert!(
            !hours.is_open(utc(2026, 3, 6, 22, 0)),
            "17:00 EST is closed: close is exclusive"
        );
        // Monday 9 March 2026 is EDT (UTC-4): the same wall times are an hour earlier in UTC.
        assert!(
            hours.is_open(utc(2026, 3, 9, 12, 0)),
            "08:00 EDT opens after spring-forward"
        );
        assert!(
            !hours.is_open(utc(2026, 3, 9, 21, 0)),
            "17:00 EDT closes after spring-forward"
        );
        // Monday 2 November 2026 is EST again.
        assert!(
            !hours.is_open(utc(2026, 11, 2, 12, 30)),
            "07:30 EST after fall-back is closed"
        );
        assert!(
            hours.is_open(utc(2026, 11, 2, 13, 0)),
            "08:00 EST after fall-back opens"
        );
    }

    #[test]
    fn split_days_and_holidays() {
        let weekly = WeeklyHours::closed()
            .with_day(Weekday::Thu, "08:00-12:00,13:00-17:00")
            .expect("valid hours");
        let hours = new_york(weekly, vec![date(2026, 12, 31)]);
        assert!(
            hours.is_open(utc(2026, 12, 24, 16, 0)),
            "11:00 on a Thursday is open"
        );
        assert!(
            !hours.is_open(utc(2026, 12, 24, 17, 30)),
            "12:30 is the lunch break"
        );
        assert!(
            !hours.is_open(utc(2026, 12, 31, 16, 0)),
            "a holiday is closed all day"
        );
    }

    #[test]
    fn next_opening_across_the_spring_forward_weekend() {
        let hours = new_york(WeeklyHours::default(), vec![]);
        assert_eq!(
            hours.next_opening(utc(2026, 3, 6, 22, 0)),
            Some(utc(2026, 3, 9, 12, 0)),
            "closing Friday EST, the next opening is Monday 08:00 EDT = 12:00 UTC, not 13:00"
        );
    }

    #[test]
    fn next_opening_across_the_fall_back_weekend() {
        let hours = new_york(WeeklyHours::default(), vec![]);
        assert_eq!(
            hours.next_opening(utc(2026, 10, 30, 21, 0)),
            Some(utc(2026, 11, 2, 13, 0)),
            "closing Friday EDT, the next opening is Monday 08:00 EST = 13:00 UTC, not 12:00"
        );
    }

    #[test]
    fn next_opening_skips_a_holiday_and_the_weekend() {
        let hours = new_york(WeeklyHours::default(), vec![date(2026, 12, 25)]);
        assert_eq!(
            hours.next_opening(utc(2026, 12, 24, 22, 0)),
            Some(utc(2026, 12, 28, 13, 0)),
            "Christmas Friday is a holiday, so Thursday's close is followed by Monday 08:00 EST"
        );
        assert!(
            !hours.is_open(utc(2026, 12, 25, 15, 0)),
            "10:00 on the holiday is closed"
        );
    }

    #[test]
    fn next_opening_while_open_and_at_opening() {
        let hours = new_york(WeeklyHours::default(), vec![]);
        let opening = utc(2026, 3, 10, 12, 0);
        assert_eq!(
            hours.next_opening(opening),
            Some(opening),
            "at the opening instant, that is the next opening"
        );
        assert_eq!(
            hours.next_opening(utc(2026, 3, 10, 15, 0)),
            Some(utc(2026, 3, 11, 12, 0)),
            "while open, the next opening is tomorrow's"
        );
        let split = WeeklyHours::closed()
            .with_day(Weekday::Tue, "08:00-12:00,13:00-17:00")
            .expect("valid");
        assert_eq!(
            new_york(split, vec![]).next_opening(utc(2026, 3, 10, 16, 30)),
            Some(utc(2026, 3, 10, 17, 0)),
            "during lunch, the next opening is 13:00 the same day"
        );
    }

    #[test]
    fn an_opening_in_the_spring_forward_gap_opens_at_the_jump() {
        let weekly = WeeklyHours::closed()
            .with_day(Weekday::Sun, "02:30-05:00")
            .expect("valid");
        let hours = new_york(weekly, vec![]);
        let opening = hours
            .next_opening(utc(2026, 3, 7, 12, 0))
            .expect("opens on Sunday");
        assert_eq!(
            opening,
            utc(2026, 3, 8, 7, 0),
            "02:30 does not exist on 8 March; clocks jump to 03:00 EDT = 07:00 UTC"
        );
        assert!(
            hours.is_open(opening),
            "the business is open at the moment it opens"
        );
    }

    #[test]
    fn an_opening_in_the_fall_back_hour_opens_the_first_time() {
        let weekly = WeeklyHours::closed()
            .with_day(Weekday::Sun, "01:30-03:00")
            .expect("valid");
        let hours = new_york(weekly, vec![]);
        assert_eq!(
            hours.next_opening(utc(2026, 10, 31, 12, 0)),
            Some(utc(2026, 11, 1, 5, 30)),
            "01:30 happens twice on 1 November; the first is 01:30 EDT = 05:30 UTC"
        );
    }

    #[test]
    fn never_open_or_always_open_has_no_next_opening() {
        let closed = new_york(WeeklyHours::closed(), vec![]);
        assert_eq!(
            closed.next_opening(utc(2026, 1, 1, 0, 0)),
            None,
            "a business that never opens has no opening"
        );
        let mut always = WeeklyHours::closed();
        for day in [
            Weekday::Mon,
            Weekday::Tue,
            Weekday::Wed,
            Weekday::Thu,
            Weekday::Fri,
            Weekday::Sat,
            Weekday::Sun,
        ] {
            always = always
                .with_day(day, "00:00-24:00")
                .expect("24:00 closes at midnight");
        }
        let always = new_york(always, vec![]);
        assert!(
            always.is_open(utc(2026, 3, 8, 7, 30)),
            "open all day, even across the DST jump"
        );
        assert_eq!(
            always.next_opening(utc(2026, 1, 1, 0, 0)),
            None,
            "a business that never closes never opens: midnight continues the day before"
        );
    }

    #[test]
    fn serde_reads_the_config_shape() {
        let json = r#"{"tz":"America/Chicago","weekly":{"mon":"08:00-12:00,13:00-17:00","tue":"09:00-17:30","sat":"closed"},"holidays":["2026-12-25"]}"#;
        let hours: BusinessHours =
            serde_json::from_str(json).expect("the documented config shape must load");
        assert_eq!(
            hours.tz,
            chrono_tz::America::Chicago,
            "time zone by IANA name"
        );
        assert_eq!(
            hours.weekly.day_spec(Weekday::Mon),
            "08:00-12:00,13:00-17:00",
            "split day"
        );
        assert_eq!(
            hours.weekly.day_spec(Weekday::Wed),
            "closed",
            "a day left out is closed"
        );
        assert_eq!(
            hours.holidays,
            vec![date(2026, 12, 25)],
            "holidays as ISO dates"
        );
        let written = serde_json::to_string(&hours).expect("serializing cannot fail");
        let back: BusinessHours =
            serde_json::from_str(&written).expect("written config must load again");
        assert_eq!(back, hours, "config round-trips through the writer");
        assert!(
            written.contains(r#""wed":"closed""#),
            "every day is written out so the user sees it: {written}"
        );
    }

    #[test]
    fn config_errors_are_clear() {
        let cases: [(&str, &str); 6] = [
            ("8am-5pm", "is not a time; write it as 24-hour HH:MM"),
            ("08:00", "write it like 08:00-17:00"),
            ("17:00-08:00", "close before they open"),
            ("08:00-12:00,11:00-17:00", "overlap"),
            ("25:00-26:00", "is not a time"),
            ("08:00-12:00;13:00-17:00", "is not a time"),
        ];
        for (spec, expected) in cases {
            let err = WeeklyHours::closed()
                .with_day(Weekday::Mon, spec)
                .expect_err("bad hours must be rejected");
            assert!(
                err.to_string().contains(expected),
                "{spec:?} must explain itself, got: {err}"
            );
        }
        let bad_day =
            serde_json::from_str::<WeeklyHours>(r#"{"funday":"closed"}"#).expect_err("unknown day");
        assert!(
            bad_day.to_string().contains("is not a day"),
            "unknown day names are reported: {bad_day}"
        );
        assert!(
            parse_tz("Mars/Olympus")
                .expect_err("unknown zone")
                .to_string()
                .contains("America/New_York"),
            "the time zone error shows a valid example"
        );
    }

    proptest! {
        #[test]
        fn next_opening_is_an_opening(offset_min in 0i64..(2 * 366 * 24 * 60), holiday_day in 0u64..400) {
            let after = utc(2026, 1, 1, 0, 0) + chrono::Duration::minutes(offset_min);
            let holidays = vec![date(2026, 1, 1) + Days::new(holiday_day)];
            let hours = new_york(WeeklyHours::default(), holidays);
            let next = hours.next_opening(after);
            prop_assert!(next.is_some(), "a weekday business always opens within a year");
            if let Some(t) = next {
                prop_assert!(t >= after, "the next opening is not in the past");
                prop_assert!(hours.is_open(t), "the business is open at its opening");
                prop_assert!(!hours.is_open(t - chrono::Duration::seconds(1)), "and closed just before");
                prop_assert!(t - after <= chrono::Duration::days(5), "never more than a long weekend plus a holiday away");
            }
        }
    }
}

//! When an automatic message may reach a customer: a daily window in the recipient's own time
//! zone (default 08:00–21:00), stricter where a state's telemarketing law asks for it. The
//! recipient's zone comes from their area code (US and Canada), else the business's zone.
//!
//! A message that falls outside the window is moved to the next allowed instant, never dropped.
//!
//! To add a state rule, add a [`QuietHoursLaw`] to `LAWS` naming the statute you confirmed, and
//! a test. To add an area code, add it to its region's row in `AREA_CODES`.

use std::fmt;

use chrono::{
    DateTime, Datelike, Days, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Timelike,
    Utc, Weekday,
};
use chrono_tz::{America, Pacific, Tz};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::hours::OpenInterval;
use crate::phone::PhoneNumber;

const DAY_SECS: u32 = 24 * 3600;
const HOUR: u32 = 3600;

/// The sending window: when follow-ups (and, if asked, text-backs) may go out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SendingHours {
    /// Off: automatic messages go out at any hour.
    pub enabled: bool,
    /// The daily window in the recipient's time zone, like "08:00-21:00" (the federal TCPA
    /// hours for telephone solicitations, 47 CFR 64.1200(c)(1)).
    #[serde(serialize_with = "write_interval", deserialize_with = "read_interval")]
    pub window: OpenInterval,
    /// Also apply the stricter hours of the recipient's state (see [`QuietHoursLaw`]).
    pub state_rules: bool,
    /// Hold the immediate text-back to the window too. Off by default: it answers a call the
    /// person just made, so it is a reply, not a solicitation (PROVIDERS.md §4).
    pub textback: bool,
}

impl Default for SendingHours {
    fn default() -> Self {
        Self {
            enabled: true,
            window: interval(8, 21),
            state_rules: true,
            textback: false,
        }
    }
}

fn interval(open_hour: u32, close_hour: u32) -> OpenInterval {
    let time = |h: u32| NaiveTime::from_hms_opt(h, 0, 0).unwrap_or(NaiveTime::MIN);
    // Whole hours below 24 with open < close always make a valid interval.
    OpenInterval::new(time(open_hour), time(close_hour))
        .unwrap_or_else(|_| OpenInterval::until_midnight(time(open_hour)))
}

fn write_interval<S: Serializer>(i: &OpenInterval, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(i)
}

fn read_interval<'de, D: Deserializer<'de>>(deserializer: D) -> Result<OpenInterval, D::Error> {
    let s = String::deserialize(deserializer)?;
    s.parse().map_err(serde::de::Error::custom)
}

/// A state's quiet hours for telephone solicitations, which these laws apply to text messages.
/// Each is only what could be confirmed from the statute or a law firm's reading of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuietHoursLaw {
    /// USPS code of the state.
    pub region: &'static str,
    /// Where the rule is written.
    pub statute: &'static str,
    /// Allowed hours Monday to Saturday, in the recipient's local time.
    weekdays: (u32, u32),
    /// Allowed hours on Sunday; `None`: no messages on Sunday.
    sunday: Option<(u32, u32)>,
}

impl QuietHoursLaw {
    /// The allowed (open, close) seconds of the day on `day`, if any.
    fn on(&self, day: Weekday) -> Option<(u32, u32)> {
        if day == Weekday::Sun {
            self.sunday
        } else {
            Some(self.weekdays)
        }
    }
}

const EIGHT_TO_EIGHT: (u32, u32) = (8 * HOUR, 20 * HOUR);

// NOTE: left out because no current text could be confirmed here: Connecticut (reported
// 9:00-20:00 after P.A. 23-98), Texas (reported 9:00-21:00, Sunday from noon), Rhode Island and
// New Jersey. Add them once the statute is read.
const LAWS: &[QuietHoursLaw] = &[
    QuietHoursLaw {
        region: "FL",
        // Amended by ch. 2021-185 (SB 1120): "before 8 a.m. or after 8 p.m. local time in the
        // called person's time zone".
        statute: "Fla. Stat. § 501.616(6)(a)",
        weekdays: EIGHT_TO_EIGHT,
        sunday: Some(EIGHT_TO_EIGHT),
    },
    QuietHoursLaw {
        region: "OK",
        // HB 3168, in force 1 Nov 2022: calls and texts 8:00 a.m. to 8:00 p.m.
        statute: "Telephone Solicitation Act of 2022, 15 O.S. § 775C.1 et seq.",
        weekdays: EIGHT_TO_EIGHT,
        sunday: Some(EIGHT_TO_EIGHT),
    },
    QuietHoursLaw {
        region: "MD",
        // Stop the Spam Calls Act of 2023 (SB 90), in force 1 Jan 2024: 8:00 a.m. to 8:00 p.m.
        // in the called party's time zone.
        statute: "Md. Code, Com. Law § 14-4501 et seq.",
        weekdays: EIGHT_TO_EIGHT,
        sunday: Some(EIGHT_TO_EIGHT),
    },
    QuietHoursLaw {
        region: "WA",
        // "shall not place calls ... received before 8:00 a.m. or after 8:00 p.m. at the call
        // recipient's local time".
        statute: "RCW 19.158.040(2)",
        weekdays: EIGHT_TO_EIGHT,
        sunday: Some(EIGHT_TO_EIGHT),
    },
    QuietHoursLaw {
        region: "MS",
        // 8:00 a.m. to 8:00 p.m. "Central Standard Time", never on a Sunday. Read here as the
        // local wall clock (all of Mississippi is on Central time).
        statute: "Miss. Code Ann. § 77-3-723",
        weekdays: EIGHT_TO_EIGHT,
        sunday: None,
    },
];

/// The quiet-hours law of `region` (a USPS code such as "FL"), if one applies.
pub fn quiet_hours_law(region: &str) -> Option<&'static QuietHoursLaw> {
    LAWS.iter().find(|l| l.region.eq_ignore_ascii_case(region))
}

/// Where a US or Canadian number's area code places its owner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NanpArea {
    pub area_code: u16,
    /// USPS or Canada Post code of the state, province or territory ("CA", "ON", "PR").
    pub region: &'static str,
    pub tz: Tz,
}

impl fmt::Display for NanpArea {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} ({}, {})",
            self.area_code,
            self.region,
            self.tz.name()
        )
    }
}

/// The area code's place, or `None` for numbers outside the US and Canada, toll-free and other
/// non-geographic codes, and codes newer than this table.
pub fn nanp_area(number: &PhoneNumber) -> Option<NanpArea> {
    // No other country calling code starts with 1, so "+1" is the NANP.
    let digits = number.as_str().strip_prefix("+1")?;
    let area_code: u16 = digits.get(..3)?.parse().ok()?;
    AREA_CODES
        .iter()
        .find(|(_, _, codes)| codes.contains(&area_code))
        .map(|&(region, tz, _)| NanpArea {
            area_code,
            region,
            tz,
        })
}

/// The recipient's time zone: from the area code, else `fallback` (the business's zone).
pub fn recipient_tz(number: &PhoneNumber, fallback: Tz) -> Tz {
    nanp_area(number).map_or(fallback, |a| a.tz)
}

impl SendingHours {
    /// Whether an automatic message may reach `recipient` at `at`.
    pub fn is_allowed(&self, recipient: &PhoneNumber, fallback_tz: Tz, at: DateTime<Utc>) -> bool {
        if !self.enabled {
            return true;
        }
        let rule = self.rule_for(recipient, fallback_tz);
        rule.allows(at, true)
    }

    /// The first instant at or after `at` when a message may reach `recipient`: `at` itself
    /// when allowed. A window that never overlaps the recipient's state law gives way to the law.
    pub fn next_allowed(
        &self,
        recipient: &PhoneNumber,
        fallback_tz: Tz,
        at: DateTime<Utc>,
    ) -> DateTime<Utc> {
        if !self.enabled {
            return at;
        }
        let rule = self.rule_for(recipient, fallback_tz);
        rule.next_allowed(at, true)
            .or_else(|| rule.next_allowed(at, false))
            .unwrap_or(at)
    }

    fn rule_for(&self, recipient: &PhoneNumber, fallback_tz: Tz) -> Rule {
        let area = nanp_area(recipient);
        let law = area
            .filter(|_| self.state_rules)
            .and_then(|a| quiet_hours_law(a.region));
        let close = self
            .window
            .close()
            .map_or(DAY_SECS, |t| t.num_seconds_from_midnight());
        Rule {
            tz: area.map_or(fallback_tz, |a| a.tz),
            window: (self.window.open().num_seconds_from_midnight(), close),
            law,
        }
    }
}

/// The window and the law, resolved for one recipient.
struct Rule {
    tz: Tz,
    window: (u32, u32),
    law: Option<&'static QuietHoursLaw>,
}

impl Rule {
    /// Allowed (open, close) seconds of the day on `date`: the configured window narrowed to
    /// the law's hours, or (`with_window` false) the law's hours alone.
    fn on(&self, date: NaiveDate, with_window: bool) -> Option<(u32, u32)> {
        let law = self.law.map(|l| l.on(date.weekday()));
        match (with_window, law) {
            (true, None) => Some(self.window),
            (true, Some(Some((open, close)))) => {
                Some((self.window.0.max(open), self.window.1.min(close))).filter(|(o, c)| o < c)
            }
            (true, Some(None)) | (false, None) => None,
            (false, Some(law)) => law,
        }
    }

    fn allows(&self, at: DateTime<Utc>, with_window: bool) -> bool {
        let local = at.with_timezone(&self.tz);
        let secs = local.time().num_seconds_from_midnight();
        self.on(local.date_naive(), with_window)
            .is_some_and(|(open, close)| open <= secs && secs < close)
    }

    fn next_allowed(&self, at: DateTime<Utc>, with_window: bool) -> Option<DateTime<Utc>> {
        if self.allows(at, with_window) {
            return Some(at);
        }
        let start = at.with_timezone(&self.tz).date_naive();
        // A week and a day covers every weekly pattern, whatever day `at` falls on.
        (0..=8)
            .filter_map(|d| start.checked_add_days(Days::new(d)))
            .filter_map(|date| {
                let (open, _) = self.on(date, with_window)?;
                let time = NaiveTime::from_num_seconds_from_midnight_opt(open, 0)?;
                resolve_local(self.tz, date.and_time(time), Ambiguous::Earliest)
            })
            .find(|&t| t >= at && self.allows(t, with_window))
    }
}

/// Which reading of a wall-clock time that occurs twice (the fall-back hour) to take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ambiguous {
    Earliest,
    Latest,
}

/// The UTC instant the wall clock in `tz` shows `local`. In a spring-forward gap, where the
/// wall clock skips `local`, the moment the clocks jump.
pub(crate) fn resolve_local(
    tz: Tz,
    local: NaiveDateTime,
    ambiguous: Ambiguous,
) -> Option<DateTime<Utc>> {
    match tz.from_local_datetime(&local) {
        LocalResult::Single(t) => Some(t.with_timezone(&Utc)),
        LocalResult::Ambiguous(first, second) => Some(match ambiguous {
            Ambiguous::Earliest => first.with_timezone(&Utc),
            Ambiguous::Latest => second.with_timezone(&Utc),
        }),
        // Gaps are at most a few hours; the first whole minute that exists is the jump.
        LocalResult::None => (1..=180).find_map(|m| {
            let later = local.checked_add_signed(chrono::Duration::minutes(m))?;
            tz.from_local_datetime(&later)
                .earliest()
                .map(|t| t.with_timezone(&Utc))
        }),
    }
}

use America::{
    Anchorage, Boise, Chicago, Denver, Edmonton, Halifax, Los_Angeles, New_York, Phoenix,
    Puerto_Rico, Regina, St_Johns, St_Thomas, Toronto, Vancouver, Winnipeg,
};
use Pacific::{Guam, Honolulu, Pago_Pago, Saipan};

/// Area codes by region and time zone. Built from the NANPA assignments as listed in
/// libphonenumber's geocoding data (2026), overlays included.
///
/// Where a region spans zones, each code takes the zone most of its people live in:
/// - FL: 850/448 (the panhandle) are mostly Central, west of the Apalachicola; the rest Eastern.
/// - IN: 219 (the northwest, by Chicago) is Central; 812/930 are mostly Eastern (Evansville's
///   corner is Central).
/// - KY: 270/364 (the west) are mostly Central; 502, 606, 859 Eastern.
/// - TN: 423 (Chattanooga, the Tri-Cities) and 865 (Knoxville) are Eastern; the rest Central.
/// - MI: 906 is mostly Eastern (four counties by Wisconsin are Central). TX: 915 (El Paso) is
///   Mountain. ND/SD/NE/KS: the western strips are Mountain, the people mostly Central.
/// - ID: 208/986 take Boise (Mountain), the north is Pacific. OR: 541/458 Pacific (Malheur
///   County is Mountain). NV: Pacific (West Wendover is Mountain). AZ: no DST (Phoenix); the
///   Navajo Nation keeps DST.
/// - BC: Pacific (the Peace River and Kootenays keep Mountain time). ON: 807 takes Thunder Bay's
///   Eastern (Kenora is Central). QC: Eastern. SK: no DST (Regina). NL: Newfoundland time
///   (Labrador is Atlantic).
/// - 867 (Yukon, Northwest Territories, Nunavut): the three have about as many people each;
///   Mountain time with DST (Yellowknife) is taken.
const AREA_CODES: &[(&str, Tz, &[u16])] = &[
    ("AL", Chicago, &[205, 251, 256, 334, 659, 938]),
    ("AK", Anchorage, &[907]),
    ("AZ", Phoenix, &[480, 520, 602, 623, 928]),
    ("AR", Chicago, &[327, 479, 501, 870]),
    (
        "CA",
        Los_Angeles,
        &[
            209, 213, 279, 323, 341, 350, 369, 408, 415, 424, 442, 510, 530, 559, 562, 619, 626,
            628, 650, 657, 661, 669, 707, 714, 738, 747, 760, 805, 818, 820, 831, 840, 858, 909,
            916, 925, 949, 951,
        ],
    ),
    ("CO", Denver, &[303, 719, 720, 748, 970, 983]),
    ("CT", New_York, &[203, 475, 860, 959]),
    ("DE", New_York, &[302]),
    ("DC", New_York, &[202, 771]),
    (
        "FL",
        New_York,
        &[
            239, 305, 321, 324, 352, 386, 407, 561, 645, 656, 689, 727, 728, 754, 772, 786, 813,
            863, 904, 941, 954,
        ],
    ),
    ("FL", Chicago, &[448, 850]),
    (
        "GA",
        New_York,
        &[229, 404, 470, 478, 678, 706, 762, 770, 912, 943],
    ),
    ("HI", Honolulu, &[808]),
    ("ID", Boise, &[208, 986]),
    (
        "IL",
        Chicago,
        &[
            217, 224, 309, 312, 331, 447, 464, 618, 630, 708, 730, 773, 779, 815, 847, 872,
        ],
    ),
    ("IN", New_York, &[260, 317, 463, 574, 765, 812, 930]),
    ("IN", Chicago, &[219]),
    ("IA", Chicago, &[319, 515, 563, 641, 712]),
    ("KS", Chicago, &[316, 620, 785, 913]),
    ("KY", New_York, &[502, 606, 859]),
    ("KY", Chicago, &[270, 364]),
    ("LA", Chicago, &[225, 318, 337, 504, 985]),
    ("ME", New_York, &[207]),
    ("MD", New_York, &[227, 240, 301, 410, 443, 667]),
    (
        "MA",
        New_York,
        &[339, 351, 413, 508, 617, 774, 781, 857, 978],
    ),
    (
        "MI",
        New_York,
        &[231, 248, 269, 313, 517, 586, 616, 734, 810, 906, 947, 989],
    ),
    ("MN", Chicago, &[218, 320, 507, 612, 651, 763, 952]),
    ("MS", Chicago, &[228, 601, 662, 769]),
    (
        "MO",
        Chicago,
        &[235, 314, 417, 557, 573, 636, 660, 816, 975],
    ),
    ("MT", Denver, &[406]),
    ("NE", Chicago, &[308, 402, 531]),
    ("NV", Los_Angeles, &[702, 725, 775]),
    ("NH", New_York, &[603]),
    (
        "NJ",
        New_York,
        &[201, 551, 609, 640, 732, 848, 856, 862, 908, 973],
    ),
    ("NM", Denver, &[505, 575]),
    (
        "NY",
        New_York,
        &[
            212, 315, 329, 332, 347, 363, 516, 518, 585, 607, 631, 646, 680, 716, 718, 838, 845,
            914, 917, 929, 934,
        ],
    ),
    (
        "NC",
        New_York,
        &[252, 336, 472, 704, 743, 828, 910, 919, 980, 984],
    ),
    ("ND", Chicago, &[701]),
    (
        "OH",
        New_York,
        &[
            216, 220, 234, 283, 326, 330, 380, 419, 440, 513, 567, 614, 740, 937,
        ],
    ),
    ("OK", Chicago, &[405, 539, 572, 580, 918]),
    ("OR", Los_Angeles, &[458, 503, 541, 971]),
    (
        "PA",
        New_York,
        &[
            215, 223, 267, 272, 412, 445, 484, 570, 582, 610, 717, 724, 814, 835, 878,
        ],
    ),
    ("RI", New_York, &[401]),
    ("SC", New_York, &[803, 821, 839, 843, 854, 864]),
    ("SD", Chicago, &[605]),
    ("TN", Chicago, &[615, 629, 731, 901, 931]),
    ("TN", New_York, &[423, 865]),
    (
        "TX",
        Chicago,
        &[
            210, 214, 254, 281, 325, 346, 361, 409, 430, 432, 469, 512, 682, 713, 726, 737, 806,
            817, 830, 832, 903, 936, 940, 945, 956, 972, 979,
        ],
    ),
    ("TX", Denver, &[915]),
    ("UT", Denver, &[385, 435, 801]),
    ("VT", New_York, &[802]),
    (
        "VA",
        New_York,
        &[276, 434, 540, 571, 686, 703, 757, 804, 826, 948],
    ),
    ("WA", Los_Angeles, &[206, 253, 360, 425, 509, 564]),
    ("WV", New_York, &[304, 681]),
    ("WI", Chicago, &[262, 274, 353, 414, 534, 608, 715, 920]),
    ("WY", Denver, &[307]),
    // US territories.
    ("PR", Puerto_Rico, &[787, 939]),
    ("VI", St_Thomas, &[340]),
    ("GU", Guam, &[671]),
    ("MP", Saipan, &[670]),
    ("AS", Pago_Pago, &[684]),
    // Canada.
    ("AB", Edmonton, &[368, 403, 587, 780, 825]),
    ("BC", Vancouver, &[236, 250, 257, 604, 672, 778]),
    ("MB", Winnipeg, &[204, 431, 584]),
    ("NB", Halifax, &[428, 506]),
    ("NL", St_Johns, &[709, 879]),
    ("NS", Halifax, &[782, 902]),
    ("NT", Edmonton, &[867]),
    (
        "ON",
        Toronto,
        &[
            226, 249, 289, 343, 365, 382, 416, 437, 519, 548, 613, 647, 683, 705, 742, 753, 807,
            905, 942,
        ],
    ),
    (
        "QC",
        Toronto,
        &[263, 354, 367, 418, 438, 450, 468, 514, 579, 581, 819, 873],
    ),
    ("SK", Regina, &[306, 474, 639]),
];

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, min, 0)
            .single()
            .expect("test instants are valid UTC")
    }

    fn number(s: &str) -> PhoneNumber {
        PhoneNumber::parse_e164(s).expect("test numbers are valid")
    }

    #[test]
    fn every_area_code_is_listed_once_in_a_real_zone() {
        let mut seen = BTreeSet::new();
        for (region, _, codes) in AREA_CODES {
            for code in *codes {
                assert!((200..=999).contains(code), "{code} is not a NANP area code");
                assert!(
                    seen.insert(*code),
                    "{code} ({region}) is listed twice; a number must have one zone"
                );
            }
        }
        assert!(
            seen.len() > 400,
            "the table covers the US and Canada ({} codes)",
            seen.len()
        );
    }

    #[test]
    fn area_codes_name_their_region_and_zone() {
        for (n, region, tz) in [
            ("+14155552671", "CA", chrono_tz::America::Los_Angeles),
            ("+12125550123", "NY", chrono_tz::America::New_York),
            ("+13055550123", "FL", chrono_tz::America::New_York),
            ("+18505550123", "FL", chrono_tz::America::Chicago),
            ("+19155550123", "TX", chrono_tz::America::Denver),
            ("+16025550123", "AZ", chrono_tz::America::Phoenix),
            ("+14165550123", "ON", chrono_tz::America::Toronto),
            ("+13065550123", "SK", chrono_tz::America::Regina),
            ("+17875550123", "PR", chrono_tz::America::Puerto_Rico),
        ] {
            let area = nanp_area(&number(n)).expect("a listed area code is found");
            assert_eq!(
                (area.region, area.tz),
                (region, tz),
                "{n} lives in {region}"
            );
        }
    }

    #[test]
    fn unknown_and_foreign_numbers_fall_back_to_the_business_zone() {
        let chicago = chrono_tz::America::Chicago;
        assert_eq!(
            recipient_tz(&number("+442079460018"), chicago),
            chicago,
            "a UK number has no NANP area code"
        );
        assert_eq!(
            recipient_tz(&number("+18005550123"), chicago),
            chicago,
            "toll-free numbers have no place"
        );
        assert_eq!(
            nanp_area(&number("+18765550123")),
            None,
            "Jamaica shares +1 but is not the US or Canada"
        );
    }

    #[test]
    fn default_window_is_eight_to_nine_in_the_recipients_zone() {
        let hours = SendingHours::default();
        let new_york = chrono_tz::America::New_York;
        let sf = number("+14155552671");
        // 2026-03-10 is EDT (UTC-4) in New York and PDT (UTC-7) in San Francisco.
        assert!(
            !hours.is_allowed(&sf, new_york, utc(2026, 3, 10, 14, 59)),
            "07:59 in San Francisco is too early, though it is 10:59 at the business"
        );
        assert!(
            hours.is_allowed(&sf, new_york, utc(2026, 3, 10, 15, 0)),
            "08:00 PDT opens the window"
        );
        assert_eq!(
            hours.next_allowed(&sf, new_york, utc(2026, 3, 11, 4, 30)),
            utc(2026, 3, 11, 15, 0),
            "21:30 PDT moves to 08:00 PDT the next morning"
        );
    }

    #[test]
    fn florida_stops_at_eight_pm_and_new_york_at_nine() {
        let hours = SendingHours::default();
        let tz = chrono_tz::America::New_York;
        // 20:30 EDT on 2026-06-01.
        let at = utc(2026, 6, 2, 0, 30);
        assert!(
            hours.is_allowed(&number("+12125550123"), tz, at),
            "20:30 is fine in New York (federal 21:00)"
        );
        assert!(
            !hours.is_allowed(&number("+13055550123"), tz, at),
            "Fla. Stat. 501.616 ends solicitations at 20:00"
        );
        assert_eq!(
            hours.next_allowed(&number("+13055550123"), tz, at),
            utc(2026, 6, 2, 12, 0),
            "the Florida message waits for 08:00 EDT"
        );
        let off = SendingHours {
            state_rules: false,
            ..SendingHours::default()
        };
        assert!(
            off.is_allowed(&number("+13055550123"), tz, at),
            "with state rules off only the window applies"
        );
    }

    #[test]
    fn mississippi_skips_sunday() {
        let hours = SendingHours::default();
        let tz = chrono_tz::America::Chicago;
        // Sunday 2026-06-07 10:00 CDT.
        let sunday = utc(2026, 6, 7, 15, 0);
        assert_eq!(
            hours.next_allowed(&number("+16015550123"), tz, sunday),
            utc(2026, 6, 8, 13, 0),
            "Miss. Code 77-3-723 forbids Sundays: Monday 08:00 CDT"
        );
    }

    #[test]
    fn switched_off_allows_any_hour() {
        let hours = SendingHours {
            enabled: false,
            ..SendingHours::default()
        };
        let at = utc(2026, 6, 2, 7, 0);
        let n = number("+13055550123");
        assert!(
            hours.is_allowed(&n, chrono_tz::America::New_York, at),
            "03:00 is allowed when switched off"
        );
        assert_eq!(
            hours.next_allowed(&n, chrono_tz::America::New_York, at),
            at,
            "nothing is moved when switched off"
        );
    }

    #[test]
    fn a_window_outside_the_law_gives_way_to_the_law() {
        let hours = SendingHours {
            window: "20:30-22:00".parse().expect("valid"),
            ..SendingHours::default()
        };
        let at = utc(2026, 6, 2, 0, 45);
        assert_eq!(
            hours.next_allowed(&number("+13055550123"), chrono_tz::America::New_York, at),
            utc(2026, 6, 2, 12, 0),
            "never dropped: the Florida law's own hours are used"
        );
    }

    #[test]
    fn the_window_follows_dst() {
        let hours = SendingHours::default();
        let tz = chrono_tz::America::New_York;
        let n = number("+12125550123");
        // Saturday 2026-03-07 22:00 EST; Sunday's 08:00 is EDT after the 02:00 jump.
        assert_eq!(
            hours.next_allowed(&n, tz, utc(2026, 3, 8, 3, 0)),
            utc(2026, 3, 8, 12, 0),
            "08:00 EDT on the spring-forward Sunday is 12:00 UTC"
        );
        // Saturday 2026-10-31 22:00 EDT; Sunday's 08:00 is EST after fall-back.
        assert_eq!(
            hours.next_allowed(&n, tz, utc(2026, 11, 1, 2, 0)),
            utc(2026, 11, 1, 13, 0),
            "08:00 EST on the fall-back Sunday is 13:00 UTC"
        );
    }

    #[test]
    fn serde_reads_the_config_shape_with_defaults() {
        let hours: SendingHours =
            serde_json::from_str(r#"{"window":"09:00-20:00"}"#).expect("a partial section loads");
        assert_eq!(
            hours.window.to_string(),
            "09:00-20:00",
            "the window is read"
        );
        assert!(
            hours.enabled && hours.state_rules,
            "unset keys take their defaults"
        );
        let written = serde_json::to_string(&SendingHours::default()).expect("serializes");
        assert!(
            written.contains(r#""window":"08:00-21:00""#),
            "the window is written as text: {written}"
        );
        assert!(
            serde_json::from_str::<SendingHours>(r#"{"window":"21:00-08:00"}"#).is_err(),
            "a window may not cross midnight"
        );
        assert!(
            serde_json::from_str::<SendingHours>(r#"{"windw":"09:00-20:00"}"#).is_err(),
            "a misspelt key is an error, not silently ignored"
        );
    }

    #[test]
    fn resolve_local_handles_gaps_and_repeats() {
        let tz = chrono_tz::America::New_York;
        let gap = NaiveDate::from_ymd_opt(2026, 3, 8)
            .and_then(|d| d.and_hms_opt(2, 30, 0))
            .expect("valid");
        assert_eq!(
            resolve_local(tz, gap, Ambiguous::Earliest),
            Some(utc(2026, 3, 8, 7, 0)),
            "02:30 does not exist; the clocks jump at 07:00 UTC"
        );
        let twice = NaiveDate::from_ymd_opt(2026, 11, 1)
            .and_then(|d| d.and_hms_opt(1, 30, 0))
            .expect("valid");
        assert_eq!(
            resolve_local(tz, twice, Ambiguous::Earliest),
            Some(utc(2026, 11, 1, 5, 30)),
            "the first 01:30 is EDT"
        );
        assert_eq!(
            resolve_local(tz, twice, Ambiguous::Latest),
            Some(utc(2026, 11, 1, 6, 30)),
            "the second 01:30 is EST"
        );
    }

    proptest! {
        // NOTE: tests write nothing outside temp dirs, so no proptest-regressions files; a
        // failing case worth keeping becomes a named test.
        #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::default() })]

        #[test]
        fn next_allowed_is_allowed_and_never_early(
            minutes in 0i64..(366 * 24 * 60),
            code in proptest::sample::select(vec![212u16, 305, 415, 405, 601, 808, 907, 306, 709, 787]),
        ) {
            let hours = SendingHours::default();
            let n = number(&format!("+1{code}5550123"));
            let at = utc(2026, 1, 1, 0, 0) + chrono::Duration::minutes(minutes);
            let next = hours.next_allowed(&n, chrono_tz::America::New_York, at);
            prop_assert!(next >= at, "never earlier than asked");
            prop_assert!(hours.is_allowed(&n, chrono_tz::America::New_York, next), "allowed at {}", next);
            prop_assert!(next - at <= chrono::Duration::days(2), "a Mississippi Saturday night waits longest");
        }
    }
}

//! Durations as people write them in the config file: "90s", "15m", "2h", "7d", "1h30m".

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use thiserror::Error;

const MINUTE: u64 = 60;
const HOUR: u64 = 60 * MINUTE;
const DAY: u64 = 24 * HOUR;

/// Units from largest to smallest; a duration lists each at most once, in this order.
const UNITS: [(char, u64); 4] = [('d', DAY), ('h', HOUR), ('m', MINUTE), ('s', 1)];

/// Why a duration from the config could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DurationError {
    #[error("the duration is empty; write it like 90s, 15m, 2h or 7d")]
    Empty,
    #[error("\"{input}\" has a number without a unit; write it like 90s, 15m, 2h or 7d")]
    MissingUnit { input: String },
    #[error("\"{input}\" has a unit without a number before it; write it like 90s, 15m, 2h or 7d")]
    MissingNumber { input: String },
    #[error(
        "\"{input}\" uses the unknown unit '{unit}'; use s (seconds), m (minutes), h (hours) or d (days)"
    )]
    UnknownUnit { input: String, unit: char },
    #[error(
        "\"{input}\" repeats or misorders its units; write the largest first, each once, like 1h30m"
    )]
    UnitOrder { input: String },
    #[error("\"{input}\" is too long a duration")]
    Overflow { input: String },
}

/// A whole number of seconds, written and read in human form.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug, Hash, Default)]
pub struct HumanDuration(Duration);

impl HumanDuration {
    /// Zero seconds.
    pub const ZERO: HumanDuration = HumanDuration(Duration::ZERO);

    /// Reads "90s", "15m", "2h", "7d", "1h30m" or "1d 2h" (case-insensitive).
    pub fn parse(s: &str) -> Result<Self, DurationError> {
        let input = s.trim();
        if input.is_empty() {
            return Err(DurationError::Empty);
        }
        let err_input = || input.to_owned();
        let mut total: u64 = 0;
        let mut number: Option<u64> = None;
        // Index into UNITS of the next unit allowed, so "30m1h" and "1h1h" are rejected.
        let mut next_unit = 0;
        for ch in input.chars() {
            if let Some(digit) = ch.to_digit(10) {
                let n = number
                    .unwrap_or(0)
                    .checked_mul(10)
                    .and_then(|n| n.checked_add(u64::from(digit)))
                    .ok_or_else(|| DurationError::Overflow { input: err_input() })?;
                number = Some(n);
            } else if ch.is_whitespace() {
                if number.is_some() {
                    return Err(DurationError::MissingUnit { input: err_input() });
                }
            } else {
                let unit = ch.to_ascii_lowercase();
                let Some(index) = UNITS.iter().position(|(u, _)| *u == unit) else {
                    return Err(DurationError::UnknownUnit {
                        input: err_input(),
                        unit: ch,
                    });
                };
                let Some(n) = number.take() else {
                    return Err(DurationError::MissingNumber { input: err_input() });
                };
                if index < next_unit {
                    return Err(DurationError::UnitOrder { input: err_input() });
                }
                next_unit = index + 1;
                total = n
                    .checked_mul(UNITS[index].1)
                    .and_then(|secs| total.checked_add(secs))
                    .ok_or_else(|| DurationError::Overflow { input: err_input() })?;
            }
        }
        if number.is_some() {
            return Err(DurationError::MissingUnit { input: err_input() });
        }
        Ok(Self::from_secs(total))
    }

    pub fn from_secs(secs: u64) -> Self {
        Self(Duration::from_secs(secs))
    }

    pub fn as_secs(&self) -> u64 {
        self.0.as_secs()
    }

    pub fn as_std(&self) -> Duration {
        self.0
    }

    /// As a chrono duration; saturates for durations beyond chrono's range (~292 million years).
    pub fn as_chrono(&self) -> chrono::Duration {
        i64::try_from(self.0.as_secs())
            .ok()
            .and_then(chrono::Duration::try_seconds)
            .unwrap_or(chrono::Duration::MAX)
    }
}

impl From<HumanDuration> for Duration {
    fn from(d: HumanDuration) -> Self {
        d.0
    }
}

impl fmt::Display for HumanDuration {
    /// The canonical form: largest units first, zero parts left out ("1m30s", "1d2h"); "0s" for zero.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rest = self.0.as_secs();
        if rest == 0 {
            return f.write_str("0s");
        }
        for (unit, size) in UNITS {
            let n = rest / size;
            rest %= size;
            if n > 0 {
                write!(f, "{n}{unit}")?;
            }
        }
        Ok(())
    }
}

impl FromStr for HumanDuration {
    type Err = DurationError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for HumanDuration {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for HumanDuration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_the_forms_people_write() {
        for (input, secs) in [
            ("1s", 1),
            ("90s", 90),
            ("15m", 900),
            ("2h", 7200),
            ("24h", 86_400),
            ("7d", 604_800),
            ("1h30m", 5400),
            ("0s", 0),
            (" 1H 30M ", 5400),
            ("1d2h3m4s", 93_784),
        ] {
            assert_eq!(
                HumanDuration::parse(input),
                Ok(HumanDuration::from_secs(secs)),
                "{input:?} is a documented config form and must mean {secs} seconds"
            );
        }
    }

    #[test]
    fn displays_canonically() {
        for (secs, shown) in [
            (0, "0s"),
            (90, "1m30s"),
            (7200, "2h"),
            (86_400, "1d"),
            (5400, "1h30m"),
        ] {
            assert_eq!(
                HumanDuration::from_secs(secs).to_string(),
                shown,
                "the config writer shows {secs}s in its shortest canonical form"
            );
        }
    }

    #[test]
    fn rejects_malformed_input_with_a_clear_reason() {
        type Check = fn(&DurationError) -> bool;
        let cases: [(&str, Check); 7] = [
            ("", |e| matches!(e, DurationError::Empty)),
            ("90", |e| matches!(e, DurationError::MissingUnit { .. })),
            ("1 h", |e| matches!(e, DurationError::MissingUnit { .. })),
            ("h", |e| matches!(e, DurationError::MissingNumber { .. })),
            ("5w", |e| {
                matches!(e, DurationError::UnknownUnit { unit: 'w', .. })
            }),
            ("30m1h", |e| matches!(e, DurationError::UnitOrder { .. })),
            ("99999999999999999999s", |e| {
                matches!(e, DurationError::Overflow { .. })
            }),
        ];
        for (input, expected) in cases {
            let err =
                HumanDuration::parse(input).expect_err("malformed durations must be rejected");
            assert!(
                expected(&err),
                "{input:?} must fail for the right reason, got {err:?}"
            );
            assert!(
                !err.to_string().is_empty(),
                "a user sees this message; it must say something"
            );
        }
    }

    #[test]
    fn serde_uses_the_human_string() {
        let d = HumanDuration::from_secs(5400);
        let json = serde_json::to_string(&d).expect("serializing a duration cannot fail");
        assert_eq!(
            json, "\"1h30m\"",
            "config files hold durations as human strings"
        );
        let back: HumanDuration = serde_json::from_str("\"24h\"").expect("24h is valid");
        assert_eq!(
            back,
            HumanDuration::from_secs(86_400),
            "deserializing must parse the string"
        );
        assert!(
            serde_json::from_str::<HumanDuration>("\"24\"").is_err(),
            "deserializing must validate like parse does"
        );
    }

    #[test]
    fn as_chrono_saturates_instead_of_panicking() {
        assert_eq!(
            HumanDuration::from_secs(u64::MAX).as_chrono(),
            chrono::Duration::MAX,
            "an absurd config value must not crash the engine"
        );
        assert_eq!(
            HumanDuration::from_secs(90).as_chrono(),
            chrono::Duration::seconds(90),
            "ordinary durations convert exactly"
        );
    }

    proptest! {
        #[test]
        fn display_then_parse_round_trips(secs in any::<u64>()) {
            let d = HumanDuration::from_secs(secs);
            prop_assert_eq!(HumanDuration::parse(&d.to_string()), Ok(d), "the config writer's output must read back unchanged");
        }

        #[test]
        fn parse_never_panics(s in ".{0,40}") {
            let _ = HumanDuration::parse(&s);
        }
    }
}

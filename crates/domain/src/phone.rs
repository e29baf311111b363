//! Phone numbers: E.164 values parsed at the boundary, and what a provider's raw caller id
//! means for texting back.

use std::fmt;
use std::str::FromStr;

use phonenumber::country::Id;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use thiserror::Error;

/// Why a phone number or region could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PhoneError {
    #[error("the phone number is empty")]
    Empty,
    #[error("\"{input}\" is not a phone number ({reason})")]
    NotANumber { input: String, reason: String },
    #[error(
        "\"{input}\" is not a valid phone number for {region}; for another country, start with + and the country code"
    )]
    Invalid { input: String, region: Region },
    #[error(
        "\"{input}\" must be in international format, starting with + and the country code (like +15551234567)"
    )]
    NotE164 { input: String },
    #[error("\"{input}\" is not a country code; use a two-letter code such as US, CA or GB")]
    UnknownRegion { input: String },
}

/// ISO 3166 alpha-2 region used for numbers written without a country code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Region {
    id: Id,
    // The two-letter code, kept beside the id so `as_str` can borrow it.
    code: [u8; 2],
}

impl Region {
    pub const US: Region = Region {
        id: Id::US,
        code: *b"US",
    };

    /// Reads "US", "gb", " ca " and the like.
    pub fn parse(s: &str) -> Result<Self, PhoneError> {
        let unknown = || PhoneError::UnknownRegion {
            input: s.to_owned(),
        };
        let upper = s.trim().to_ascii_uppercase();
        // Only two letters: the underlying list also holds "001"-style non-geographic ids.
        let code: [u8; 2] = upper.as_bytes().try_into().map_err(|_| unknown())?;
        if !code.iter().all(u8::is_ascii_uppercase) {
            return Err(unknown());
        }
        let id = Id::from_str(&upper).map_err(|_| unknown())?;
        Ok(Region { id, code })
    }

    pub fn as_str(&self) -> &str {
        // Only ASCII letters ever get in (see `parse`).
        std::str::from_utf8(&self.code).unwrap_or("??")
    }
}

impl Default for Region {
    fn default() -> Self {
        Region::US
    }
}

impl fmt::Display for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Region {
    type Err = PhoneError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for Region {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Region {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// A valid phone number in E.164 form, always starting with '+'.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PhoneNumber(String);

impl PhoneNumber {
    /// Reads a number as a person or provider writes it. Numbers without a country code are
    /// read as numbers of `default_region` (the business's country).
    pub fn parse(input: &str, default_region: Region) -> Result<Self, PhoneError> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(PhoneError::Empty);
        }
        // NOTE: phonenumber 0.3 strips the default region's national prefix even from a number
        // that carries its own country code: with US, "+49 151 …" lost its "1" and became
        // another (valid) number. A number written with "+" needs no default region.
        let region = (!trimmed.starts_with('+')).then_some(default_region.id);
        let parsed = phonenumber::parse(region, trimmed).map_err(|e| PhoneError::NotANumber {
            input: trimmed.to_owned(),
            reason: e.to_string(),
        })?;
        let e164 = parsed.format().mode(phonenumber::Mode::E164).to_string();
        // Refused rather than changed: a number dialled with an international prefix whose
        // digits did not survive (the same bug, "011 49 151 …"), and one valid only when
        // dialled nationally, whose E.164 form would not read back from the store. E.164
        // allows 15 digits; the metadata accepts some longer German numbers.
        if !parsed.is_valid()
            || e164.len() > 16
            || !keeps_digits(trimmed, &parsed, &e164)
            || !reads_back(&e164)
        {
            return Err(PhoneError::Invalid {
                input: trimmed.to_owned(),
                region: default_region,
            });
        }
        Ok(Self(e164))
    }

    /// Reads a number that must already carry its country code ("+15551234567"), as stored
    /// values and config entries do.
    pub fn parse_e164(input: &str) -> Result<Self, PhoneError> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(PhoneError::Empty);
        }
        if !trimmed.starts_with('+') {
            return Err(PhoneError::NotE164 {
                input: trimmed.to_owned(),
            });
        }
        Self::parse(trimmed, Region::US)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The country calling code, e.g. 1 for the US and Canada, 44 for the UK.
    pub fn country_calling_code(&self) -> u16 {
        // The stored value was produced by the same library, so it always parses again.
        phonenumber::parse(None, &self.0)
            .map(|n| n.code().value())
            .unwrap_or(0)
    }
}

impl fmt::Display for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for PhoneNumber {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl FromStr for PhoneNumber {
    type Err = PhoneError;
    /// Strict: requires E.164 (see [`PhoneNumber::parse_e164`]).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse_e164(s)
    }
}

impl Serialize for PhoneNumber {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for PhoneNumber {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        Self::parse_e164(&s).map_err(serde::de::Error::custom)
    }
}

/// Whether the digits of `input` end with the country code and number `e164` names (give or
/// take an extension and a written trunk "(0)"), when the input carried a country code.
fn keeps_digits(input: &str, parsed: &phonenumber::PhoneNumber, e164: &str) -> bool {
    if parsed.code().source() == phonenumber::country::Source::Default {
        return true;
    }
    let mut digits: String = input.chars().filter(char::is_ascii_digit).collect();
    if let Some(extension) = parsed.extension()
        && let Some(rest) = digits.strip_suffix(extension.as_ref())
    {
        digits.truncate(rest.len());
    }
    let full = e164.trim_start_matches('+');
    let code = parsed.code().value().to_string();
    let trunk = format!("{code}0{}", &full[code.len().min(full.len())..]);
    digits.ends_with(full) || digits.ends_with(&trunk)
}

fn reads_back(e164: &str) -> bool {
    phonenumber::parse(None, e164)
        .is_ok_and(|n| n.is_valid() && n.format().mode(phonenumber::Mode::E164).to_string() == e164)
}

/// What a provider's raw `from` means for texting back.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Caller {
    /// A real number we can text.
    Textable(PhoneNumber),
    /// The caller hid their number (anonymous, restricted, private...).
    Withheld { raw: String },
    /// A 3–8 digit short code: a service, not a person.
    ShortCode { raw: String },
    /// Something that is not a valid number.
    Invalid { raw: String },
}

impl Caller {
    pub fn textable(&self) -> Option<&PhoneNumber> {
        match self {
            Caller::Textable(number) => Some(number),
            _ => None,
        }
    }
}

/// Words carriers and providers put in `from` when the caller hid their number.
const WITHHELD_WORDS: [&str; 10] = [
    "anonymous",
    "restricted",
    "unknown",
    "unavailable",
    "private",
    "blocked",
    "withheld",
    "private number",
    "no caller id",
    "not available",
];

/// Twilio's stand-in numbers for hidden caller ids (they spell ANONYMOUS, RESTRICTED, BLOCKED,
/// UNKNOWN and UNAVAILABLE on a keypad); they parse as numbers but reach nobody.
const TWILIO_WITHHELD: [&str; 5] = [
    "+266696687",
    "+7378742833",
    "+2562533",
    "+8656696",
    "+86282452253",
];

/// Sorts a raw `from` value into textable, withheld, short code or invalid.
pub fn classify_caller(raw: &str, region: Region) -> Caller {
    let trimmed = raw.trim();
    let lowered = trimmed.to_lowercase();
    if lowered.is_empty() || WITHHELD_WORDS.contains(&lowered.as_str()) {
        return Caller::Withheld {
            raw: raw.to_owned(),
        };
    }
    let compact: String = trimmed
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '(' | ')' | '.'))
        .collect();
    let with_plus = if compact.starts_with('+') {
        compact.clone()
    } else {
        format!("+{compact}")
    };
    if TWILIO_WITHHELD.contains(&with_plus.as_str()) {
        return Caller::Withheld {
            raw: raw.to_owned(),
        };
    }
    if (3..=8).contains(&compact.len()) && compact.chars().all(|c| c.is_ascii_digit()) {
        return Caller::ShortCode {
            raw: raw.to_owned(),
        };
    }
    match PhoneNumber::parse(trimmed, region) {
        Ok(number) => Caller::Textable(number),
        Err(_) => Caller::Invalid {
            raw: raw.to_owned(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_local_us_formats_to_e164() {
        for input in [
            "(415) 555-2671",
            "415-555-2671",
            "4155552671",
            "+1 415 555 2671",
            "1-415-555-2671",
        ] {
            let number =
                PhoneNumber::parse(input, Region::US).expect("a well-formed US number must parse");
            assert_eq!(
                number.as_str(),
                "+14155552671",
                "{input:?} must normalise to one E.164 value so dedupe works"
            );
        }
    }

    #[test]
    fn reads_numbers_of_other_regions() {
        let gb = Region::parse("gb").expect("GB is a region");
        let number =
            PhoneNumber::parse("020 7946 0018", gb).expect("a London number must parse as GB");
        assert_eq!(
            number.as_str(),
            "+442079460018",
            "the default region supplies the country code"
        );
        assert_eq!(
            number.country_calling_code(),
            44,
            "UK numbers carry calling code 44"
        );
        let us =
            PhoneNumber::parse("+14155552671", gb).expect("an explicit +1 overrides the region");
        assert_eq!(
            us.country_calling_code(),
            1,
            "NANP numbers carry calling code 1"
        );
    }

    #[test]
    fn rejects_invalid_numbers() {
        assert_eq!(
            PhoneNumber::parse("  ", Region::US),
            Err(PhoneError::Empty),
            "blank input is its own error"
        );
        assert!(
            matches!(
                PhoneNumber::parse("555-0000", Region::US),
                Err(PhoneError::Invalid { .. })
            ),
            "a 7-digit number has no area code and reaches nobody"
        );
        assert!(
            PhoneNumber::parse("hello", Region::US).is_err(),
            "letters are not a phone number"
        );
        assert!(
            matches!(
                PhoneNumber::parse_e164("4155552671"),
                Err(PhoneError::NotE164 { .. })
            ),
            "stored numbers must carry their country code"
        );
    }

    #[test]
    fn serde_is_the_e164_string_and_validates() {
        let number = PhoneNumber::parse("(415) 555-2671", Region::US).expect("valid");
        assert_eq!(
            serde_json::to_string(&number).expect("serializing cannot fail"),
            "\"+14155552671\"",
            "stored and sent numbers are bare E.164 strings"
        );
        assert!(
            serde_json::from_str::<PhoneNumber>("\"+1555\"").is_err(),
            "deserializing must validate"
        );
        assert_eq!(
            serde_json::to_string(&Region::US).expect("serializing cannot fail"),
            "\"US\"",
            "regions are stored as their two-letter code"
        );
        assert_eq!(
            Region::default(),
            Region::US,
            "the default region is the US"
        );
        assert!(Region::parse("ZZ").is_err(), "unknown codes are rejected");
        assert!(
            Region::parse("001").is_err(),
            "non-geographic ids are not regions"
        );
        assert_eq!(
            Region::parse("ca").map(|r| r.as_str().to_owned()),
            Ok("CA".to_owned()),
            "as_str gives the upper-case code"
        );
    }

    #[test]
    fn classifies_withheld_callers() {
        for raw in [
            "",
            "  ",
            "anonymous",
            "Anonymous",
            "Restricted",
            "unknown",
            "Unavailable",
            "private",
            "+266696687",
            "+7378742833",
            "+2562533",
            "+8656696",
            "+86282452253",
            "266696687",
        ] {
            assert!(
                matches!(classify_caller(raw, Region::US), Caller::Withheld { .. }),
                "{raw:?} hides the caller's number; texting it reaches nobody"
            );
        }
    }

    #[test]
    fn classifies_short_codes_textable_and_invalid() {
        assert_eq!(
            classify_caller("72345", Region::US),
            Caller::ShortCode {
                raw: "72345".into()
            },
            "a 5-digit sender is a service, not a customer"
        );
        assert_eq!(
            classify_caller("(415) 555-2671", Region::US),
            Caller::Textable(PhoneNumber::parse_e164("+14155552671").expect("valid")),
            "a real number is textable"
        );
        assert!(
            matches!(
                classify_caller("+1 999 000", Region::US),
                Caller::Invalid { .. }
            ),
            "a malformed number cannot be texted"
        );
    }

    proptest! {
        #[test]
        fn display_then_parse_round_trips(
            area in proptest::sample::select(vec![212u32, 415, 617, 312, 713, 206, 303, 404, 305, 702]),
            exchange in 200u32..=999,
            line in 0u32..=9999,
        ) {
            let raw = format!("({area}) {exchange}-{line:04}");
            let parsed = PhoneNumber::parse(&raw, Region::US);
            prop_assert!(parsed.is_ok(), "{raw} is a well-formed number in a real area code: {parsed:?}");
            if let Ok(number) = parsed {
                prop_assert_eq!(PhoneNumber::parse_e164(&format!("{number}")), Ok(number.clone()), "E.164 display must read back unchanged");
                prop_assert_eq!(PhoneNumber::parse(number.as_str(), Region::US), Ok(number), "parsing E.164 is idempotent");
            }
        }

        #[test]
        fn classify_caller_never_panics(raw in ".{0,30}") {
            let _ = classify_caller(&raw, Region::US);
        }

        #[test]
        fn classify_caller_never_panics_on_digits(raw in "[+]?[0-9 ()-]{0,20}") {
            let _ = classify_caller(&raw, Region::US);
        }
    }
}

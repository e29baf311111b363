//! SMS segment counting for the composer and cost display (PROVIDERS.md §4): GSM-7 when every
//! character is in the GSM 03.38 tables, otherwise UCS-2.

use serde::{Deserialize, Serialize};

/// The encoding a message will be sent in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Encoding {
    Gsm7,
    Ucs2,
}

/// How a message body will be split for sending.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Segments {
    pub encoding: Encoding,
    /// Septets for GSM-7, UTF-16 code units for UCS-2.
    pub units: usize,
    pub segments: usize,
}

const GSM7_SINGLE: usize = 160;
const GSM7_MULTI: usize = 153;
const UCS2_SINGLE: usize = 70;
const UCS2_MULTI: usize = 67;

/// GSM 03.38 basic character set (one septet each).
const GSM7_BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?\
¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";

/// GSM 03.38 extension table: an escape septet plus one, so two septets each.
const GSM7_EXTENSION: &str = "\u{0C}^{}\\[~]|€";

/// Septets `c` costs in GSM-7, or `None` when it forces UCS-2.
fn gsm7_cost(c: char) -> Option<usize> {
    if GSM7_BASIC.contains(c) {
        Some(1)
    } else if GSM7_EXTENSION.contains(c) {
        Some(2)
    } else {
        None
    }
}

/// Counts segments the way carriers split: a character (an escape pair, or a surrogate pair)
/// is never split across two segments.
fn pack(costs: impl Iterator<Item = usize> + Clone, single: usize, multi: usize) -> (usize, usize) {
    let units: usize = costs.clone().sum();
    if units == 0 {
        return (0, 0);
    }
    if units <= single {
        return (units, 1);
    }
    let mut segments = 1;
    let mut used = 0;
    for cost in costs {
        if used + cost > multi {
            segments += 1;
            used = 0;
        }
        used += cost;
    }
    (units, segments)
}

/// Encoding, length and segment count of `body`. An empty body is 0 segments.
pub fn segments(body: &str) -> Segments {
    if body.chars().all(|c| gsm7_cost(c).is_some()) {
        let (units, segments) = pack(body.chars().filter_map(gsm7_cost), GSM7_SINGLE, GSM7_MULTI);
        Segments {
            encoding: Encoding::Gsm7,
            units,
            segments,
        }
    } else {
        let (units, segments) = pack(body.chars().map(char::len_utf16), UCS2_SINGLE, UCS2_MULTI);
        Segments {
            encoding: Encoding::Ucs2,
            units,
            segments,
        }
    }
}

/// The characters of `body` that force UCS-2, in order, once each: what the composer highlights
/// ("’ is not a plain apostrophe").
pub fn non_gsm_chars(body: &str) -> Vec<char> {
    let mut found = Vec::new();
    for c in body.chars().filter(|c| gsm7_cost(*c).is_none()) {
        if !found.contains(&c) {
            found.push(c);
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn check(body: &str, encoding: Encoding, units: usize, count: usize, why: &str) {
        assert_eq!(
            segments(body),
            Segments {
                encoding,
                units,
                segments: count
            },
            "{why}"
        );
    }

    #[test]
    fn empty_is_zero_segments() {
        check("", Encoding::Gsm7, 0, 0, "nothing to send costs nothing");
    }

    #[test]
    fn gsm7_boundaries() {
        check(
            &"a".repeat(160),
            Encoding::Gsm7,
            160,
            1,
            "160 GSM-7 chars fit one SMS",
        );
        check(
            &"a".repeat(161),
            Encoding::Gsm7,
            161,
            2,
            "161 needs concatenation",
        );
        check(
            &"a".repeat(306),
            Encoding::Gsm7,
            306,
            2,
            "two concatenated parts hold 2 x 153",
        );
        check(
            &"a".repeat(307),
            Encoding::Gsm7,
            307,
            3,
            "one more needs a third part",
        );
    }

    #[test]
    fn extension_chars_cost_two_septets() {
        check(
            "€",
            Encoding::Gsm7,
            2,
            1,
            "the euro sign is in the extension table",
        );
        check(
            &"{".repeat(80),
            Encoding::Gsm7,
            160,
            1,
            "80 extension chars are 160 septets: one SMS",
        );
        check(
            &format!("{}€", "a".repeat(159)),
            Encoding::Gsm7,
            161,
            2,
            "159 + an escape pair crosses 160",
        );
        check(
            "^{}\\[~]|€\u{0C}",
            Encoding::Gsm7,
            20,
            1,
            "every extension char costs 2",
        );
        // 152 plain septets then an escape pair: the pair may not straddle the 153 boundary.
        check(
            &format!("{}€{}", "a".repeat(152), "a".repeat(152)),
            Encoding::Gsm7,
            306,
            3,
            "an escape pair is never split",
        );
    }

    #[test]
    fn gsm7_covers_its_basic_table() {
        check(
            "Hi! Ça va? £5 @ 10% — no",
            Encoding::Ucs2,
            24,
            1,
            "an em dash is not GSM-7",
        );
        check(
            "Hi! Ça va? £5 @ 10% - ok",
            Encoding::Gsm7,
            24,
            1,
            "accents and £ @ are in the basic table",
        );
        assert_eq!(
            non_gsm_chars("It’s — it's"),
            vec!['’', '—'],
            "the composer must point at what forces UCS-2"
        );
    }

    #[test]
    fn ucs2_boundaries() {
        check(
            &"ş".repeat(69),
            Encoding::Ucs2,
            69,
            1,
            "69 UCS-2 units fit one SMS",
        );
        check(
            &"ş".repeat(70),
            Encoding::Ucs2,
            70,
            1,
            "70 UCS-2 chars fit one SMS",
        );
        check(
            &"ş".repeat(71),
            Encoding::Ucs2,
            71,
            2,
            "71 needs concatenation",
        );
        check(
            &"ş".repeat(134),
            Encoding::Ucs2,
            134,
            2,
            "two concatenated parts hold 2 x 67",
        );
        check(
            &"ş".repeat(135),
            Encoding::Ucs2,
            135,
            3,
            "one more needs a third part",
        );
    }

    #[test]
    fn astral_chars_take_two_units() {
        check(
            "😀",
            Encoding::Ucs2,
            2,
            1,
            "emoji outside the BMP are surrogate pairs",
        );
        check(
            &"😀".repeat(35),
            Encoding::Ucs2,
            70,
            1,
            "35 emoji are exactly 70 units",
        );
        // 36 emoji = 72 units; 33 fit the first 67-unit part (66), the pair is never split.
        check(
            &"😀".repeat(36),
            Encoding::Ucs2,
            72,
            2,
            "36 emoji need two parts",
        );
        check(
            &format!("{}😀", "a".repeat(69)),
            Encoding::Ucs2,
            71,
            2,
            "one emoji turns the whole message UCS-2",
        );
    }

    proptest! {
        #[test]
        fn counts_are_consistent(body in ".{0,400}") {
            let s = segments(&body);
            prop_assert_eq!(s.segments == 0, body.is_empty(), "only an empty body is free");
            let (single, multi) = match s.encoding { Encoding::Gsm7 => (160, 153), Encoding::Ucs2 => (70, 67) };
            if s.units <= single {
                prop_assert!(s.segments <= 1, "a body within the single limit is one SMS");
            } else {
                prop_assert!(s.segments >= s.units.div_ceil(multi), "never fewer parts than the units allow");
            }
        }
    }
}

//! Message templates: parsed and checked when the user saves them, rendered per call.
//!
//! To add a placeholder, add a [`Placeholder`] variant, its name in [`Placeholder::ALL`] and
//! its value in [`RenderContext`].

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use thiserror::Error;

/// Twilio's cap on a message body, in characters.
pub const MAX_TEMPLATE_CHARS: usize = 1600;

/// Why a template could not be used. Positions count characters from 1.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TemplateError {
    #[error("the message is empty; write what the caller should receive")]
    Empty,
    #[error(
        "the message is {len} characters long; the most a text can carry is {MAX_TEMPLATE_CHARS}"
    )]
    TooLong { len: usize },
    #[error(
        "unknown placeholder {{{name}}} at position {position}; use {{business_name}}, {{booking_link}} or {{first_name}}"
    )]
    UnknownPlaceholder { name: String, position: usize },
    #[error(
        "empty placeholder {{}} at position {position}; use {{business_name}}, {{booking_link}} or {{first_name}}"
    )]
    EmptyPlaceholder { position: usize },
    #[error(
        "the {{ at position {position} is never closed; write placeholders like {{first_name}}, or {{{{ for a literal brace"
    )]
    Unclosed { position: usize },
    #[error("the }} at position {position} has no opening {{; write }}}} for a literal brace")]
    UnmatchedClose { position: usize },
}

/// A value filled in when the template is rendered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Placeholder {
    BusinessName,
    BookingLink,
    FirstName,
}

impl Placeholder {
    pub const ALL: [Placeholder; 3] = [Self::BusinessName, Self::BookingLink, Self::FirstName];

    pub fn name(&self) -> &'static str {
        match self {
            Self::BusinessName => "business_name",
            Self::BookingLink => "booking_link",
            Self::FirstName => "first_name",
        }
    }

    fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.name() == name)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Text(String),
    Value(Placeholder),
}

/// A checked template. `Display` gives back the text as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    source: String,
    pieces: Vec<Piece>,
}

/// Values for one rendering.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RenderContext<'a> {
    pub business_name: &'a str,
    pub booking_link: &'a str,
    /// The caller's first name if known; "there" otherwise ("Hi there").
    pub first_name: Option<&'a str>,
}

impl Template {
    /// Parses `src`. `{{` and `}}` are literal braces.
    pub fn parse(src: &str) -> Result<Self, TemplateError> {
        if src.trim().is_empty() {
            return Err(TemplateError::Empty);
        }
        let len = src.chars().count();
        if len > MAX_TEMPLATE_CHARS {
            return Err(TemplateError::TooLong { len });
        }
        let mut pieces = Vec::new();
        let mut text = String::new();
        let mut chars = src.chars().enumerate().peekable();
        while let Some((index, c)) = chars.next() {
            let position = index + 1;
            match c {
                '{' if chars.peek().is_some_and(|(_, n)| *n == '{') => {
                    chars.next();
                    text.push('{');
                }
                '}' if chars.peek().is_some_and(|(_, n)| *n == '}') => {
                    chars.next();
                    text.push('}');
                }
                '}' => return Err(TemplateError::UnmatchedClose { position }),
                '{' => {
                    let mut name = String::new();
                    let mut closed = false;
                    for (_, n) in chars.by_ref() {
                        match n {
                            '}' => {
                                closed = true;
                                break;
                            }
                            // A brace or line break inside means the first brace was left open.
                            '{' | '\n' => break,
                            _ => name.push(n),
                        }
                    }
                    if !closed {
                        return Err(TemplateError::Unclosed { position });
                    }
                    let name = name.trim();
                    if name.is_empty() {
                        return Err(TemplateError::EmptyPlaceholder { position });
                    }
                    let Some(placeholder) = Placeholder::from_name(name) else {
                        return Err(TemplateError::UnknownPlaceholder {
                            name: name.to_owned(),
                            position,
                        });
                    };
                    if !text.is_empty() {
                        pieces.push(Piece::Text(std::mem::take(&mut text)));
                    }
                    pieces.push(Piece::Value(placeholder));
                }
                _ => text.push(c),
            }
        }
        if !text.is_empty() {
            pieces.push(Piece::Text(text));
        }
        Ok(Self {
            source: src.to_owned(),
            pieces,
        })
    }

    /// Fills in the placeholders.
    pub fn render(&self, ctx: &RenderContext<'_>) -> String {
        let first_name = ctx
            .first_name
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .unwrap_or("there");
        let mut out = String::with_capacity(self.source.len() + 64);
        for piece in &self.pieces {
            match piece {
                Piece::Text(text) => out.push_str(text),
                Piece::Value(Placeholder::BusinessName) => out.push_str(ctx.business_name),
                Piece::Value(Placeholder::BookingLink) => out.push_str(ctx.booking_link),
                Piece::Value(Placeholder::FirstName) => out.push_str(first_name),
            }
        }
        out
    }

    /// Whether the template uses `placeholder`; the settings screen warns when a booking link
    /// is configured but never used.
    pub fn uses(&self, placeholder: Placeholder) -> bool {
        self.pieces.contains(&Piece::Value(placeholder))
    }

    pub fn as_str(&self) -> &str {
        &self.source
    }
}

impl fmt::Display for Template {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

impl FromStr for Template {
    type Err = TemplateError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for Template {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.source)
    }
}

impl<'de> Deserialize<'de> for Template {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// Which situation a template is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TemplateKind {
    /// Missed during business hours.
    BusinessHours,
    /// Missed while closed.
    AfterHours,
    /// Missed a while ago (offline catch-up); sent only when a person clicks.
    Late,
}

impl TemplateKind {
    pub const ALL: [TemplateKind; 3] = [Self::BusinessHours, Self::AfterHours, Self::Late];

    pub fn as_str(&self) -> &'static str {
        match self {
            Self::BusinessHours => "business_hours",
            Self::AfterHours => "after_hours",
            Self::Late => "late",
        }
    }
}

impl fmt::Display for TemplateKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

// NOTE: defaults stay within GSM-7 (no curly quotes or dashes) so they cost 160/153 per part,
// not 70/67, and carry the opt-out line carriers expect in a first message.
const BUSINESS_HOURS: &str = "Hi {first_name}, this is {business_name}. Sorry we missed your call! \
We're with a customer and will call you back shortly. Or book a time that suits you: {booking_link}\n\
Reply STOP to opt out.";
const AFTER_HOURS: &str = "Hi {first_name}, thanks for calling {business_name}. We're closed right now, \
but we'll call you back as soon as we open. You can also book a time here: {booking_link}\n\
Reply STOP to opt out.";
const LATE: &str = "Hi {first_name}, this is {business_name}. Sorry we missed your call earlier. \
Do you still need a hand? Reply here, or book a time: {booking_link}\nReply STOP to opt out.";

/// The built-in text for `kind`: friendly, with the booking link and the opt-out line.
pub fn default_template(kind: TemplateKind) -> &'static str {
    match kind {
        TemplateKind::BusinessHours => BUSINESS_HOURS,
        TemplateKind::AfterHours => AFTER_HOURS,
        TemplateKind::Late => LATE,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::segments::{Encoding, segments};
    use proptest::prelude::*;

    const CTX: RenderContext<'static> = RenderContext {
        business_name: "Rapid Rooter Plumbing",
        booking_link: "https://book.example.com/rapid-rooter",
        first_name: Some("Maria"),
    };

    #[test]
    fn renders_placeholders_and_literal_braces() {
        let t = Template::parse(
            "Hi {first_name}, {business_name} here {{not a placeholder}}: {booking_link}",
        )
        .expect("a template with known placeholders parses");
        assert_eq!(
            t.render(&CTX),
            "Hi Maria, Rapid Rooter Plumbing here {not a placeholder}: https://book.example.com/rapid-rooter",
            "placeholders are filled and doubled braces become literal"
        );
        assert!(
            t.uses(Placeholder::BookingLink),
            "the template does use the booking link"
        );
    }

    #[test]
    fn unknown_first_name_reads_as_there() {
        let t = Template::parse("Hi {first_name}!").expect("valid");
        for first_name in [None, Some(""), Some("  ")] {
            let ctx = RenderContext { first_name, ..CTX };
            assert_eq!(
                t.render(&ctx),
                "Hi there!",
                "an unknown name must read naturally"
            );
        }
    }

    #[test]
    fn display_and_serde_give_back_the_source() {
        let src = "Hi {first_name} {{x}}";
        let t = Template::parse(src).expect("valid");
        assert_eq!(
            t.to_string(),
            src,
            "the settings screen shows exactly what was typed"
        );
        assert_eq!(
            serde_json::to_string(&t).expect("serializing cannot fail"),
            "\"Hi {first_name} {{x}}\"",
            "stored as typed"
        );
        assert!(
            serde_json::from_str::<Template>("\"{oops}\"").is_err(),
            "deserializing validates"
        );
    }

    #[test]
    fn errors_point_at_the_mistake() {
        assert_eq!(
            Template::parse("   "),
            Err(TemplateError::Empty),
            "a blank message cannot be sent"
        );
        assert_eq!(
            Template::parse(&"a".repeat(1601)),
            Err(TemplateError::TooLong { len: 1601 }),
            "Twilio rejects bodies over 1600 characters"
        );
        assert!(
            Template::parse(&"a".repeat(1600)).is_ok(),
            "exactly 1600 is allowed"
        );
        let err =
            Template::parse("Hi there, {frist_name}!").expect_err("a typo must be caught on save");
        assert_eq!(
            err,
            TemplateError::UnknownPlaceholder {
                name: "frist_name".into(),
                position: 11
            },
            "the error names the placeholder and where it is"
        );
        assert_eq!(
            err.to_string(),
            "unknown placeholder {frist_name} at position 11; use {business_name}, {booking_link} or {first_name}",
            "the message tells the user what to write instead"
        );
        assert_eq!(
            Template::parse("Hi {first_name"),
            Err(TemplateError::Unclosed { position: 4 }),
            "unclosed brace"
        );
        assert_eq!(
            Template::parse("Hi {first_name\n}"),
            Err(TemplateError::Unclosed { position: 4 }),
            "a placeholder does not run across lines"
        );
        assert_eq!(
            Template::parse("a {} b"),
            Err(TemplateError::EmptyPlaceholder { position: 3 }),
            "empty braces"
        );
        assert_eq!(
            Template::parse("a } b"),
            Err(TemplateError::UnmatchedClose { position: 3 }),
            "stray close brace"
        );
        assert!(
            Template::parse("Hi {first_name")
                .expect_err("unclosed")
                .to_string()
                .contains("{{"),
            "the message explains how to write a literal brace"
        );
    }

    #[test]
    fn defaults_are_valid_friendly_and_cheap() {
        for kind in TemplateKind::ALL {
            let src = default_template(kind);
            let t = Template::parse(src).expect("built-in templates must parse");
            assert!(
                t.uses(Placeholder::BookingLink),
                "{kind}: the default offers the booking link"
            );
            assert!(
                src.contains("Reply STOP to opt out"),
                "{kind}: the default carries opt-out instructions"
            );
            let body = t.render(&CTX);
            let s = segments(&body);
            assert_eq!(
                s.encoding,
                Encoding::Gsm7,
                "{kind}: defaults must not force UCS-2: {body}"
            );
            assert!(
                s.segments <= 2,
                "{kind}: a default text-back costs at most two parts, got {}",
                s.segments
            );
        }
        assert!(
            default_template(TemplateKind::Late).contains("Sorry we missed your call earlier"),
            "the late template acknowledges the delay"
        );
    }

    proptest! {
        #[test]
        fn parse_never_panics(src in "\\PC{0,300}") {
            if let Ok(t) = Template::parse(&src) {
                prop_assert_eq!(t.to_string(), src, "a parsed template displays as written");
                let _ = t.render(&CTX);
            }
        }

        #[test]
        fn parse_never_panics_on_brace_soup(src in "[{}a-z_ ]{0,60}") {
            let _ = Template::parse(&src);
        }
    }
}

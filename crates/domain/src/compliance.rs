//! Keyword replies the law and the carriers expect: one confirmation of an opt-out, and the
//! HELP text (PROVIDERS.md §4).
//!
//! The opt-out confirmation is the last message an opted-out number ever gets: at most one per
//! opt-out, sent within five minutes and with no marketing (the FCC's revocation rule, 47 CFR
//! 64.1200(a)(10)-(12), in force 11 Apr 2025), and nothing after it until the person opts
//! back in. Twilio confirms its own single-word keywords, so by default Textback confirms only the
//! variants Twilio does not catch. Should Twilio catch a variant after all, its block turns our
//! confirmation into error 21610 and nothing is delivered twice.
//!
//! The HELP reply goes at most once per number per `help_interval` (default a day): a HELP
//! texted twice in a row gets one answer, one asked again tomorrow gets another. It is never
//! sent to an opted-out number.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::duration::HumanDuration;
use crate::keywords::{Keyword, classify_keyword, provider_keyword};
use crate::template::{Placeholder, Template};

/// How long after the opt-out its confirmation may still go out.
pub const CONFIRMATION_DEADLINE_SECS: i64 = 5 * 60;

/// Whether Textback sends a keyword reply itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReplyMode {
    /// Only when the provider does not answer that message itself.
    #[default]
    Auto,
    Always,
    Never,
}

/// The keyword replies from the config file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KeywordReplies {
    pub confirm_opt_out: ReplyMode,
    pub opt_out_confirmation: Template,
    pub help: ReplyMode,
    pub help_reply: Template,
    /// At most one HELP reply per number in this period.
    pub help_interval: HumanDuration,
}

// NOTE: GSM-7 only, one segment with a business name of up to ~60 characters.
const CONFIRMATION: &str = "{business_name}: you are unsubscribed and will get no more texts \
from us. Reply START to resubscribe.";
const HELP: &str = "{business_name}: for help, reply to this text or call this number. \
Msg & data rates may apply. Reply STOP to opt out.";

fn builtin(src: &str) -> Template {
    // The built-in texts are checked by this module's tests.
    Template::parse(src).unwrap_or_else(|e| panic!("built-in keyword reply: {e}"))
}

impl Default for KeywordReplies {
    fn default() -> Self {
        Self {
            confirm_opt_out: ReplyMode::Auto,
            opt_out_confirmation: builtin(CONFIRMATION),
            help: ReplyMode::Auto,
            help_reply: builtin(HELP),
            help_interval: HumanDuration::from_secs(24 * 3600),
        }
    }
}

/// Why keyword replies from the config cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ComplianceError {
    #[error(
        "keywords.opt_out_confirmation must not carry {{booking_link}}: an opt-out confirmation may not market"
    )]
    MarketingInConfirmation,
    #[error("keywords.help_reply must tell people how to opt out; add \"Reply STOP to opt out.\"")]
    HelpWithoutStop,
}

impl KeywordReplies {
    pub fn validate(&self) -> Result<(), ComplianceError> {
        if self.opt_out_confirmation.uses(Placeholder::BookingLink) {
            return Err(ComplianceError::MarketingInConfirmation);
        }
        if !self.help_reply.as_str().to_uppercase().contains("STOP") {
            return Err(ComplianceError::HelpWithoutStop);
        }
        Ok(())
    }
}

/// Whether to send a keyword reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyDecision {
    Send,
    Skip(SkipReply),
}

/// Why no keyword reply goes out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SkipReply {
    /// The message is not that keyword.
    NotTheKeyword,
    /// The provider answers this exact keyword itself.
    ProviderReplies,
    /// Switched off in the config.
    Disabled,
    /// This opt-out was already confirmed.
    AlreadyConfirmed,
    /// More than five minutes passed since the opt-out.
    TooLate,
    /// The number is opted out: nothing but the one confirmation reaches it.
    OptedOut,
    /// A HELP reply went to this number within the help interval.
    RecentlySent { at: DateTime<Utc> },
}

fn provider_answers(mode: ReplyMode, body: &str, keyword: Keyword) -> Option<SkipReply> {
    match mode {
        ReplyMode::Never => Some(SkipReply::Disabled),
        ReplyMode::Auto if provider_keyword(body) == Some(keyword) => {
            Some(SkipReply::ProviderReplies)
        }
        ReplyMode::Auto | ReplyMode::Always => None,
    }
}

/// Whether to confirm the opt-out `body` (received at `opted_out_at`). `already_confirmed`: a
/// confirmation went out since this number's latest opt-out.
pub fn opt_out_confirmation(
    replies: &KeywordReplies,
    body: &str,
    already_confirmed: bool,
    opted_out_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> ReplyDecision {
    if classify_keyword(body) != Keyword::OptOut {
        return ReplyDecision::Skip(SkipReply::NotTheKeyword);
    }
    if let Some(skip) = provider_answers(replies.confirm_opt_out, body, Keyword::OptOut) {
        return ReplyDecision::Skip(skip);
    }
    if already_confirmed {
        return ReplyDecision::Skip(SkipReply::AlreadyConfirmed);
    }
    if (now - opted_out_at).num_seconds() > CONFIRMATION_DEADLINE_SECS {
        return ReplyDecision::Skip(SkipReply::TooLate);
    }
    ReplyDecision::Send
}

/// Whether to answer the HELP message `body`. `last_help_at`: the last HELP reply to this
/// number.
pub fn help_reply(
    replies: &KeywordReplies,
    body: &str,
    opted_out: bool,
    last_help_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> ReplyDecision {
    if classify_keyword(body) != Keyword::Help {
        return ReplyDecision::Skip(SkipReply::NotTheKeyword);
    }
    if opted_out {
        return ReplyDecision::Skip(SkipReply::OptedOut);
    }
    if let Some(skip) = provider_answers(replies.help, body, Keyword::Help) {
        return ReplyDecision::Skip(skip);
    }
    let recent = last_help_at.filter(|at| {
        at.checked_add_signed(replies.help_interval.as_chrono())
            .is_none_or(|until| now < until)
    });
    match recent {
        Some(at) => ReplyDecision::Skip(SkipReply::RecentlySent { at }),
        None => ReplyDecision::Send,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::segments::{Encoding, segments};
    use crate::template::RenderContext;
    use chrono::TimeZone;

    fn at(min: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 10, 14, min, 0)
            .single()
            .expect("valid test instant")
    }

    fn confirm(mode: ReplyMode, body: &str) -> ReplyDecision {
        let replies = KeywordReplies {
            confirm_opt_out: mode,
            ..KeywordReplies::default()
        };
        opt_out_confirmation(&replies, body, false, at(0), at(1))
    }

    /// Twilio's own single-word opt-outs (PROVIDERS.md §1.6).
    const PROVIDER_WORDS: [&str; 8] = [
        "STOP",
        "STOPALL",
        "UNSUBSCRIBE",
        "CANCEL",
        "END",
        "QUIT",
        "REVOKE",
        "OPTOUT",
    ];
    /// Opt-outs Twilio does not catch.
    const VARIANTS: [&str; 11] = [
        "stop please",
        "Stop.",
        "STOP!!",
        "stop texting me",
        "OPT OUT",
        "opt-out",
        "stop all",
        "ARRET",
        "REMOVE",
        "Please stop, thanks",
        "STOP 🛑",
    ];

    #[test]
    fn auto_confirms_only_what_the_provider_does_not() {
        for word in PROVIDER_WORDS {
            for body in [word.to_owned(), word.to_lowercase(), format!("  {word}\n")] {
                assert_eq!(
                    confirm(ReplyMode::Auto, &body),
                    ReplyDecision::Skip(SkipReply::ProviderReplies),
                    "{body:?}: Twilio already confirmed; a second text would break the one-confirmation rule"
                );
            }
        }
        for body in VARIANTS {
            assert_eq!(
                confirm(ReplyMode::Auto, body),
                ReplyDecision::Send,
                "{body:?}: Twilio does not catch it, so Textback confirms"
            );
        }
    }

    #[test]
    fn always_and_never() {
        for body in PROVIDER_WORDS.iter().chain(VARIANTS.iter()) {
            assert_eq!(
                confirm(ReplyMode::Always, body),
                ReplyDecision::Send,
                "{body:?}: always confirms"
            );
            assert_eq!(
                confirm(ReplyMode::Never, body),
                ReplyDecision::Skip(SkipReply::Disabled),
                "{body:?}: never confirms"
            );
        }
    }

    #[test]
    fn only_opt_outs_are_confirmed_once_and_promptly() {
        for body in [
            "Don't stop",
            "can you stop by?",
            "START",
            "HELP",
            "hello",
            "",
        ] {
            assert_eq!(
                confirm(ReplyMode::Always, body),
                ReplyDecision::Skip(SkipReply::NotTheKeyword),
                "{body:?} is not an opt-out"
            );
        }
        let replies = KeywordReplies::default();
        assert_eq!(
            opt_out_confirmation(&replies, "stop please", true, at(0), at(1)),
            ReplyDecision::Skip(SkipReply::AlreadyConfirmed),
            "at most one confirmation per opt-out"
        );
        assert_eq!(
            opt_out_confirmation(&replies, "stop please", false, at(0), at(5)),
            ReplyDecision::Send,
            "five minutes is still in time"
        );
        assert_eq!(
            opt_out_confirmation(&replies, "stop please", false, at(0), at(6)),
            ReplyDecision::Skip(SkipReply::TooLate),
            "after five minutes (say, the desk was offline) no confirmation goes"
        );
    }

    #[test]
    fn help_once_a_day_never_when_opted_out() {
        let replies = KeywordReplies::default();
        assert_eq!(
            help_reply(&replies, "HELP", false, None, at(0)),
            ReplyDecision::Skip(SkipReply::ProviderReplies),
            "Twilio answers a bare HELP itself"
        );
        assert_eq!(
            help_reply(&replies, "help?", false, None, at(0)),
            ReplyDecision::Send,
            "a variant gets our reply"
        );
        assert_eq!(
            help_reply(&replies, "help?", false, Some(at(0)), at(30)),
            ReplyDecision::Skip(SkipReply::RecentlySent { at: at(0) }),
            "one reply per day per number"
        );
        let tomorrow = at(0) + chrono::Duration::hours(24);
        assert_eq!(
            help_reply(&replies, "help?", false, Some(at(0)), tomorrow),
            ReplyDecision::Send,
            "a day later, asking again gets an answer"
        );
        assert_eq!(
            help_reply(&replies, "help?", true, None, at(0)),
            ReplyDecision::Skip(SkipReply::OptedOut),
            "nothing goes to an opted-out number"
        );
        assert_eq!(
            help_reply(&replies, "I need help with my sink", false, None, at(0)),
            ReplyDecision::Skip(SkipReply::NotTheKeyword),
            "a customer asking for service is not a HELP keyword"
        );
        let always = KeywordReplies {
            help: ReplyMode::Always,
            ..KeywordReplies::default()
        };
        assert_eq!(
            help_reply(&always, "HELP", false, None, at(0)),
            ReplyDecision::Send,
            "always answers even a bare HELP"
        );
    }

    #[test]
    fn defaults_are_valid_plain_and_one_segment() {
        let replies = KeywordReplies::default();
        assert_eq!(
            replies.validate(),
            Ok(()),
            "the defaults pass their own checks"
        );
        let ctx = RenderContext {
            business_name: "Rapid Rooter Plumbing & Heating",
            booking_link: "",
            first_name: None,
        };
        for template in [&replies.opt_out_confirmation, &replies.help_reply] {
            let body = template.render(&ctx);
            let s = segments(&body);
            assert_eq!(
                (s.encoding, s.segments),
                (Encoding::Gsm7, 1),
                "one plain segment: {body}"
            );
        }
        assert!(
            replies
                .help_reply
                .as_str()
                .contains("Reply STOP to opt out"),
            "HELP tells people how to opt out"
        );
    }

    #[test]
    fn validate_refuses_marketing_and_a_help_without_stop() {
        let marketing = KeywordReplies {
            opt_out_confirmation: Template::parse("Bye! Book again: {booking_link}")
                .expect("valid template"),
            ..KeywordReplies::default()
        };
        assert_eq!(
            marketing.validate(),
            Err(ComplianceError::MarketingInConfirmation),
            "no marketing in an opt-out confirmation"
        );
        let no_stop = KeywordReplies {
            help_reply: Template::parse("{business_name}: call us").expect("valid template"),
            ..KeywordReplies::default()
        };
        assert_eq!(
            no_stop.validate(),
            Err(ComplianceError::HelpWithoutStop),
            "HELP must carry the opt-out line"
        );
        let replies: KeywordReplies =
            serde_json::from_str(r#"{"confirm_opt_out":"always","help_interval":"12h"}"#)
                .expect("config shape");
        assert_eq!(replies.confirm_opt_out, ReplyMode::Always, "mode is read");
        assert!(
            serde_json::from_str::<KeywordReplies>(r#"{"confirm_opt_out":"sometimes"}"#).is_err(),
            "unknown modes are refused"
        );
    }
}

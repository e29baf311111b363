//! Inbound SMS keywords: opt-out, opt-in and help (PROVIDERS.md §4). Compliance first: a
//! message that plainly means "stop" opts out, and one that only mentions stopping is flagged
//! for a person instead of guessed at.
//!
//! To add a keyword, add it to the matching list below and a test case for it.

/// What an inbound message asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Keyword {
    /// Stop texting me.
    OptOut,
    /// Start texting me again.
    OptIn,
    /// Send the help text.
    Help,
    /// Mentions stopping inside a longer message ("we have got to stop this leak", "don't
    /// stop"): not an opt-out, but a person should look.
    MentionsStop,
    /// An ordinary message.
    None,
}

impl Keyword {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::OptOut => "opt_out",
            Self::OptIn => "opt_in",
            Self::Help => "help",
            Self::MentionsStop => "mentions_stop",
            Self::None => "none",
        }
    }
}

/// Words that opt out on their own (carrier/CTIA, FCC and provider lists).
pub const OPT_OUT: &[&str] = &[
    "stop",
    "stopall",
    "unsubscribe",
    "cancel",
    "end",
    "quit",
    "revoke",
    "optout",
    "arret",
    "remove",
];
/// Two-word opt-outs, matched as a pair of tokens.
pub const OPT_OUT_PAIRS: &[[&str; 2]] = &[["opt", "out"], ["stop", "all"]];
/// Words that, inside a longer message, suggest the sender may want to stop.
pub const STOP_MENTIONS: &[&str] = &["stop", "stopall", "unsubscribe", "optout", "revoke"];
/// Words that opt back in.
pub const OPT_IN: &[&str] = &["start", "unstop", "yes"];
/// Words that ask for the help text.
pub const HELP: &[&str] = &["help", "info"];
/// Words that may surround an opt-out keyword without changing its meaning.
pub const FILLER: &[&str] = &[
    "please",
    "pls",
    "plz",
    "thanks",
    "thank",
    "thankyou",
    "thx",
    "ty",
    "you",
    "now",
    "texting",
    "messaging",
    "messages",
    "message",
    "texts",
    "text",
    "calling",
    "me",
    "it",
    "all",
    "ok",
    "okay",
    "the",
    "these",
    "sms",
    "just",
];

/// Lower-cased words of `body`. Apostrophes join ("don't" → "dont") so a negation stays one
/// word; every other non-alphanumeric character separates words.
fn tokens(body: &str) -> Vec<String> {
    let mut cleaned = String::with_capacity(body.len());
    for c in body.chars() {
        if matches!(c, '\'' | '’' | '‘' | '`') {
            continue;
        }
        if c.is_alphanumeric() {
            cleaned.extend(c.to_lowercase());
        } else {
            cleaned.push(' ');
        }
    }
    cleaned.split_whitespace().map(str::to_owned).collect()
}

/// Classifies an inbound message body.
pub fn classify_keyword(body: &str) -> Keyword {
    let words = tokens(body);
    if words.is_empty() {
        return Keyword::None;
    }
    let is = |list: &[&str], w: &str| list.contains(&w);

    if words.len() == 1 {
        let w = words[0].as_str();
        if is(OPT_OUT, w) {
            return Keyword::OptOut;
        }
        if is(OPT_IN, w) {
            return Keyword::OptIn;
        }
        if is(HELP, w) {
            return Keyword::Help;
        }
        return Keyword::None;
    }

    // Walk the words: a keyword (or keyword pair) or filler may appear; anything else means
    // this is a sentence, not a command.
    let mut saw_keyword = false;
    let mut only_keywords_and_filler = true;
    let mut i = 0;
    while i < words.len() {
        let w = words[i].as_str();
        if let Some(next) = words.get(i + 1)
            && OPT_OUT_PAIRS.iter().any(|[a, b]| *a == w && b == next)
        {
            saw_keyword = true;
            i += 2;
            continue;
        }
        if is(OPT_OUT, w) {
            saw_keyword = true;
        } else if !is(FILLER, w) {
            only_keywords_and_filler = false;
        }
        i += 1;
    }
    if saw_keyword && only_keywords_and_filler {
        return Keyword::OptOut;
    }
    let mentions = words.iter().any(|w| is(STOP_MENTIONS, w))
        || words
            .windows(2)
            .any(|pair| pair[0] == "opt" && pair[1] == "out");
    if mentions {
        return Keyword::MentionsStop;
    }
    Keyword::None
}

/// Twilio's default keywords on long codes (PROVIDERS.md §1.6, from
/// twilio.com/docs/messaging/tutorials/advanced-opt-out; REVOKE and OPTOUT since 29 Apr 2025).
/// Twilio answers these itself, and blocks sends after an opt-out with error 21610.
const PROVIDER_OPT_OUT: &[&str] = &[
    "stop",
    "unsubscribe",
    "end",
    "quit",
    "stopall",
    "revoke",
    "optout",
    "cancel",
];
const PROVIDER_OPT_IN: &[&str] = &["start", "yes", "unstop"];
const PROVIDER_HELP: &[&str] = &["help", "info"];

/// The keyword the provider answers itself: `body` is exactly one of Twilio's default
/// single-word keywords, in any case, surrounding spaces aside. `None` for everything else,
/// including variants Twilio does not catch ("STOP please", "OPT OUT", "Stop.": "only
/// single-word messages will trigger the block", Twilio support article 223134027).
pub fn provider_keyword(body: &str) -> Option<Keyword> {
    let word = body.trim().to_lowercase();
    let is = |list: &[&str]| list.contains(&word.as_str());
    if is(PROVIDER_OPT_OUT) {
        Some(Keyword::OptOut)
    } else if is(PROVIDER_OPT_IN) {
        Some(Keyword::OptIn)
    } else if is(PROVIDER_HELP) {
        Some(Keyword::Help)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn expect(body: &str, keyword: Keyword, why: &str) {
        assert_eq!(classify_keyword(body), keyword, "{body:?}: {why}");
    }

    #[test]
    fn opt_out_forms() {
        for body in [
            "STOP",
            "stop",
            "Stop.",
            " stop ",
            "STOP please",
            "Stop. Thank you",
            "stop texting me",
            "OPT OUT",
            "opt-out",
            "optout",
            "STOPALL",
            "stop all",
            "Unsubscribe",
            "CANCEL",
            "end",
            "quit",
            "Revoke",
            "Please stop!!",
            "stop it",
            "STOP 🛑",
            "Stop messaging me now, thanks",
            "stop stop stop",
        ] {
            expect(
                body,
                Keyword::OptOut,
                "a plain request to stop must opt out (FCC: conclusively revokes)",
            );
        }
    }

    #[test]
    fn mentions_of_stop_are_flagged_not_opted_out() {
        for body in [
            "we have got to stop this leak",
            "Don't stop",
            "don’t stop",
            "can you stop by tomorrow?",
            "please unsubscribe me from your newsletter list",
            "Stop start",
        ] {
            expect(
                body,
                Keyword::MentionsStop,
                "stopping is mentioned in a sentence: a person decides",
            );
        }
    }

    #[test]
    fn opt_in_and_help() {
        for body in ["Yes", "YES!", "start", "Unstop"] {
            expect(body, Keyword::OptIn, "START/UNSTOP/YES alone resubscribe");
        }
        for body in ["help", "HELP?", "Info"] {
            expect(body, Keyword::Help, "HELP/INFO alone ask for the help text");
        }
        expect(
            "yes I can do 3pm",
            Keyword::None,
            "yes inside a sentence is a reply, not an opt-in",
        );
        expect(
            "I need help with my sink",
            Keyword::None,
            "help inside a sentence is a customer asking for service",
        );
    }

    #[test]
    fn ordinary_messages() {
        for body in [
            "",
            "   ",
            "...",
            "Can you come Tuesday?",
            "cancel my appointment",
            "the end of the day works",
        ] {
            expect(
                body,
                Keyword::None,
                "an ordinary message is neither a command nor a stop mention",
            );
        }
    }

    #[test]
    fn provider_keywords_are_exact_single_words() {
        for body in [
            "STOP",
            "stop",
            " Stop ",
            "STOPALL",
            "Unsubscribe",
            "END",
            "quit",
            "REVOKE",
            "OptOut",
            "cancel",
        ] {
            assert_eq!(
                provider_keyword(body),
                Some(Keyword::OptOut),
                "{body:?}: Twilio opts the sender out and confirms itself"
            );
            assert_eq!(
                classify_keyword(body),
                Keyword::OptOut,
                "{body:?} is also an opt-out for us"
            );
        }
        for body in [
            "stop please",
            "Stop.",
            "OPT OUT",
            "opt-out",
            "stop all",
            "ARRET",
            "REMOVE",
            "stop texting me",
        ] {
            assert_eq!(
                provider_keyword(body),
                None,
                "{body:?} is a variant Twilio does not catch"
            );
            assert_eq!(
                classify_keyword(body),
                Keyword::OptOut,
                "{body:?} still opts out here"
            );
        }
        assert_eq!(
            provider_keyword("HELP"),
            Some(Keyword::Help),
            "Twilio answers HELP"
        );
        assert_eq!(provider_keyword("info"), Some(Keyword::Help), "and INFO");
        assert_eq!(provider_keyword("Help?"), None, "not the bare word");
        assert_eq!(
            provider_keyword("unstop"),
            Some(Keyword::OptIn),
            "opt-in words"
        );
    }

    proptest! {
        #[test]
        fn never_panics(body in "\\PC{0,200}") {
            let _ = classify_keyword(&body);
        }

        #[test]
        fn stop_with_any_filler_opts_out(filler in proptest::collection::vec(proptest::sample::select(FILLER.to_vec()), 0..4), punct in "[.!?, ]{0,3}") {
            let body = format!("Stop{punct} {}", filler.join(" "));
            prop_assert_eq!(classify_keyword(&body), Keyword::OptOut, "stop plus filler words must opt out");
        }
    }
}

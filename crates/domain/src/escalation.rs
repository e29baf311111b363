//! Escalation: when a lead needs a person now, who is paged, how often, and what stops it.
//!
//! Three rules raise an escalation: a reply nobody answered within a few minutes, a lead still
//! unbooked a day after the text-back, and an urgent word in a reply. A lead has at most one
//! open escalation; a second rule firing adds its reason instead of paging again. Pages go to
//! whoever [`on_shift`] names (else the owners), repeat until acknowledged or capped, and bring
//! in the backup when nobody acknowledges in time. An "OK" text from a staff phone acknowledges.
//!
//! Everything here is a pure function of the escalation's state, the policy, the roster and
//! the time; the engine stores the state and runs the timers.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::duration::HumanDuration;
use crate::hours::BusinessHours;
use crate::lead::LeadState;
use crate::phone::PhoneNumber;
use crate::segments::{Encoding, segments};
use crate::shifts::{Role, Roster, StaffMember, Via, on_shift};

/// The most pages one escalation may send.
const MAX_PAGES: u32 = 50;

/// Rule (a): the customer replied and nobody answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UnansweredRule {
    pub enabled: bool,
    /// How long a reply may wait while the business is open.
    pub business_hours: HumanDuration,
    /// How long it may wait while closed.
    pub after_hours: HumanDuration,
}

impl Default for UnansweredRule {
    fn default() -> Self {
        Self {
            enabled: true,
            business_hours: HumanDuration::from_secs(5 * 60),
            after_hours: HumanDuration::from_secs(15 * 60),
        }
    }
}

/// Rule (b): the lead is still not booked long after the text-back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UnbookedRule {
    pub enabled: bool,
    pub after: HumanDuration,
}

impl Default for UnbookedRule {
    fn default() -> Self {
        Self {
            enabled: true,
            after: HumanDuration::from_secs(24 * 3600),
        }
    }
}

/// Rule (c): a reply with an urgent word or phrase escalates at once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UrgentRule {
    pub enabled: bool,
    /// Matched as whole words, case-insensitively ("flood" does not match "floodlight").
    pub phrases: Vec<String>,
}

impl Default for UrgentRule {
    fn default() -> Self {
        let phrases = [
            "emergency",
            "flood",
            "flooded",
            "flooding",
            "locked out",
            "no heat",
            "no heating",
            "burst",
            "gas leak",
            "smell gas",
        ];
        Self {
            enabled: true,
            phrases: phrases.iter().map(|p| p.to_string()).collect(),
        }
    }
}

/// The escalation settings from the config file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EscalationPolicy {
    pub enabled: bool,
    pub unanswered: UnansweredRule,
    pub unbooked: UnbookedRule,
    pub urgent: UrgentRule,
    /// Pages repeat this often until acknowledged.
    pub repeat_every: HumanDuration,
    /// At most this many pages, the first included.
    pub max_pages: u32,
    /// Unacknowledged this long after opening, the backup is paged too.
    pub backup_after: HumanDuration,
    /// The backup, by staff name; empty: the owners.
    pub backup: Vec<String>,
}

impl Default for EscalationPolicy {
    fn default() -> Self {
        Self {
            enabled: true,
            unanswered: UnansweredRule::default(),
            unbooked: UnbookedRule::default(),
            urgent: UrgentRule::default(),
            repeat_every: HumanDuration::from_secs(5 * 60),
            max_pages: 6,
            backup_after: HumanDuration::from_secs(10 * 60),
            backup: Vec::new(),
        }
    }
}

/// Why an escalation policy from the config cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PolicyError {
    #[error("escalation.repeat_every must be at least 10s, got \"{0}\"")]
    RepeatTooOften(HumanDuration),
    #[error("escalation.max_pages must be between 1 and {MAX_PAGES}, got {0}")]
    MaxPages(u32),
    #[error("escalation.urgent.phrases[{0}] has no words")]
    EmptyPhrase(usize),
    #[error("escalation.backup names \"{0}\", who is not on the staff list")]
    UnknownBackup(String),
}

impl EscalationPolicy {
    /// Checks the limits, and the backup names against `roster`.
    pub fn validate(&self, roster: &Roster) -> Result<(), PolicyError> {
        if self.repeat_every.as_secs() < 10 {
            return Err(PolicyError::RepeatTooOften(self.repeat_every));
        }
        if !(1..=MAX_PAGES).contains(&self.max_pages) {
            return Err(PolicyError::MaxPages(self.max_pages));
        }
        if let Some(i) = self.urgent.phrases.iter().position(|p| words(p).is_empty()) {
            return Err(PolicyError::EmptyPhrase(i));
        }
        if let Some(name) = self.backup.iter().find(|n| roster.member(n).is_none()) {
            return Err(PolicyError::UnknownBackup(name.clone()));
        }
        Ok(())
    }

    /// When a reply at `replied_at` becomes "unanswered", if the rule is on. The wait depends
    /// on whether the business was open when the customer wrote.
    pub fn unanswered_due(
        &self,
        replied_at: DateTime<Utc>,
        hours: &BusinessHours,
    ) -> Option<DateTime<Utc>> {
        if !self.enabled || !self.unanswered.enabled {
            return None;
        }
        let wait = if hours.is_open(replied_at) {
            self.unanswered.business_hours
        } else {
            self.unanswered.after_hours
        };
        replied_at.checked_add_signed(wait.as_chrono())
    }

    /// When a lead texted back at `text_back_at` becomes "still unbooked", if the rule is on.
    pub fn unbooked_due(&self, text_back_at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        if !self.enabled || !self.unbooked.enabled {
            return None;
        }
        text_back_at.checked_add_signed(self.unbooked.after.as_chrono())
    }

    /// The configured urgent phrase `body` contains as whole words, if any.
    pub fn urgent_match(&self, body: &str) -> Option<&str> {
        if !self.enabled || !self.urgent.enabled {
            return None;
        }
        let text = words(body);
        self.urgent
            .phrases
            .iter()
            .find(|phrase| {
                let phrase = words(phrase);
                !phrase.is_empty() && text.windows(phrase.len()).any(|w| w == phrase.as_slice())
            })
            .map(String::as_str)
    }
}

/// Lower-cased words; apostrophes join ("can't" is one word), anything else not a letter or
/// digit separates.
fn words(text: &str) -> Vec<String> {
    let mut cleaned = String::with_capacity(text.len());
    for c in text.chars() {
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

/// The customer's newest message on the lead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reply<'a> {
    pub at: DateTime<Utc>,
    pub body: &'a str,
    /// A person wrote or called the customer after it.
    pub answered: bool,
}

/// What the rules look at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeadFacts<'a> {
    pub state: LeadState,
    pub text_back_at: Option<DateTime<Utc>>,
    pub last_reply: Option<Reply<'a>>,
}

/// A rule that fired.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trigger {
    Urgent {
        phrase: String,
    },
    Unanswered {
        replied_at: DateTime<Utc>,
        minutes: i64,
    },
    Unbooked {
        after: HumanDuration,
    },
}

impl Trigger {
    pub fn code(&self) -> &'static str {
        match self {
            Trigger::Urgent { .. } => "urgent",
            Trigger::Unanswered { .. } => "unanswered",
            Trigger::Unbooked { .. } => "unbooked",
        }
    }

    /// One line for the escalation's reasons and the page text.
    pub fn reason(&self) -> String {
        match self {
            Trigger::Urgent { phrase } => format!("urgent: the customer wrote \"{phrase}\""),
            Trigger::Unanswered { minutes, .. } => {
                format!("replied {minutes} min ago and nobody has answered")
            }
            Trigger::Unbooked { after } => format!("still not booked {after} after the text-back"),
        }
    }
}

/// The rule that fires for this lead at `now`, if any: an urgent word first, then an
/// unanswered reply, then the unbooked check. Closed leads never escalate. An urgent word in a
/// reply a person already answered does not escalate (someone is on it).
pub fn evaluate(
    policy: &EscalationPolicy,
    facts: &LeadFacts<'_>,
    hours: &BusinessHours,
    now: DateTime<Utc>,
) -> Option<Trigger> {
    if !policy.enabled || facts.state.is_closed() {
        return None;
    }
    if let Some(reply) = facts.last_reply.filter(|r| !r.answered) {
        if let Some(phrase) = policy.urgent_match(reply.body) {
            return Some(Trigger::Urgent {
                phrase: phrase.to_owned(),
            });
        }
        if policy
            .unanswered_due(reply.at, hours)
            .is_some_and(|due| now >= due)
        {
            return Some(Trigger::Unanswered {
                replied_at: reply.at,
                minutes: (now - reply.at).num_minutes().max(1),
            });
        }
    }
    let unbooked = facts
        .text_back_at
        .and_then(|t| policy.unbooked_due(t))
        .is_some_and(|due| now >= due);
    unbooked.then_some(Trigger::Unbooked {
        after: policy.unbooked.after,
    })
}

/// An escalation's state, as the engine stores it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Escalation {
    pub opened_at: DateTime<Utc>,
    /// One line per rule that fired, oldest first.
    pub reasons: Vec<String>,
    /// Pages sent so far.
    pub pages_sent: u32,
    /// The backup has been paged (and gets every page from then on).
    pub backup_added: bool,
    pub acknowledged_at: Option<DateTime<Utc>>,
}

impl Escalation {
    pub fn open(trigger: &Trigger, now: DateTime<Utc>) -> Self {
        Self {
            opened_at: now,
            reasons: vec![trigger.reason()],
            pages_sent: 0,
            backup_added: false,
            acknowledged_at: None,
        }
    }

    pub fn is_open(&self) -> bool {
        self.acknowledged_at.is_none()
    }
}

/// What a rule firing does to the lead's escalations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Raise {
    /// No escalation was open: open this one and page now.
    Open(Escalation),
    /// Add this reason to the open escalation; nobody is paged again for it.
    AddReason(String),
    /// The open escalation already gives this reason.
    AlreadyListed,
}

/// Opens an escalation for `trigger`, or adds its reason to the `open` one.
pub fn raise(open: Option<&Escalation>, trigger: &Trigger, now: DateTime<Utc>) -> Raise {
    match open.filter(|e| e.is_open()) {
        None => Raise::Open(Escalation::open(trigger, now)),
        Some(e) if e.reasons.contains(&trigger.reason()) => Raise::AlreadyListed,
        Some(_) => Raise::AddReason(trigger.reason()),
    }
}

/// One page round.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PagePlan {
    /// Everyone to alert (desk) and text (phone) this round.
    pub recipients: Vec<StaffMember>,
    /// How the people on shift were found; `Nobody` means the owners were paged instead.
    pub via: Via,
    /// The backup joins from this round on: record it, so later rounds include them.
    pub add_backup: bool,
    /// When the next round is due; `None`: paging stops (acknowledged or capped).
    pub next_page_at: Option<DateTime<Utc>>,
}

impl PagePlan {
    /// The desks to alert, each once.
    pub fn desks(&self) -> Vec<String> {
        let desks: BTreeSet<&str> = self
            .recipients
            .iter()
            .filter_map(|m| m.desk.as_deref())
            .collect();
        desks.into_iter().map(str::to_owned).collect()
    }
}

/// Who is paged at `now` for `escalation`, and when the next round is due.
///
/// The round goes to whoever is on shift (the on-call person after hours), else the owners
/// (else the managers, else everyone). Once `backup_after` has passed unacknowledged, the
/// backup (else the owners) is paged too, on this round and every later one; a round is
/// scheduled for that moment if the repeats would not land on it. Rounds repeat every
/// `repeat_every` up to `max_pages`; the backup's first page is never cut by the cap, so the
/// owner always hears of an escalation nobody took.
pub fn plan_page(
    policy: &EscalationPolicy,
    escalation: &Escalation,
    now: DateTime<Utc>,
    roster: &Roster,
) -> PagePlan {
    if !escalation.is_open() {
        return PagePlan {
            recipients: Vec::new(),
            via: Via::Nobody,
            add_backup: false,
            next_page_at: None,
        };
    }
    let on = on_shift(roster, now);
    let mut recipients = if on.people.is_empty() {
        fallback(roster)
    } else {
        on.people
    };
    let backup_due = escalation
        .opened_at
        .checked_add_signed(policy.backup_after.as_chrono())
        .unwrap_or(DateTime::<Utc>::MAX_UTC);
    let backup_in = escalation.backup_added || now >= backup_due;
    if backup_in {
        for member in backup(policy, roster) {
            if !recipients.iter().any(|r| r.name == member.name) {
                recipients.push(member);
            }
        }
    }
    let next_repeat = (escalation.pages_sent + 1 < policy.max_pages)
        .then(|| now.checked_add_signed(policy.repeat_every.as_chrono()))
        .flatten();
    let next_backup = (!backup_in).then_some(backup_due);
    let next_page_at = match (next_repeat, next_backup) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    PagePlan {
        recipients,
        via: on.via,
        add_backup: backup_in && !escalation.backup_added,
        next_page_at,
    }
}

/// Owners, else managers, else everyone: somebody always hears of it.
fn fallback(roster: &Roster) -> Vec<StaffMember> {
    [Role::Owner, Role::Manager]
        .into_iter()
        .map(|role| roster.with_role(role))
        .find(|people| !people.is_empty())
        .unwrap_or_else(|| roster.staff().to_vec())
}

fn backup(policy: &EscalationPolicy, roster: &Roster) -> Vec<StaffMember> {
    if policy.backup.is_empty() {
        return roster.with_role(Role::Owner);
    }
    policy
        .backup
        .iter()
        .filter_map(|name| roster.member(name).cloned())
        .collect()
}

/// Phrases that acknowledge a page by text.
const ACK_PHRASES: &[&[&str]] = &[
    &["ok"],
    &["okay"],
    &["k"],
    &["kk"],
    &["ack"],
    &["got", "it"],
    &["on", "it"],
    &["will", "do"],
    &["roger"],
    &["👍"],
];
/// Words that may follow an acknowledgement without changing it ("ok thanks", "got it, on my
/// way").
const ACK_FILLER: &[&str] = &[
    "thanks", "thank", "you", "thx", "ty", "im", "i", "ill", "call", "calling", "them", "now",
    "on", "my", "way", "sure", "will", "do", "it",
];

/// Whether a text from a staff phone acknowledges a page: "OK", "ok thanks", "Got it!",
/// "👍" and the like, case and punctuation aside. Anything else ("ok but I can't", "not ok")
/// is a message for a person, not an acknowledgement.
pub fn is_ack_text(body: &str) -> bool {
    let mut cleaned = String::with_capacity(body.len());
    for c in body.chars() {
        if matches!(c, '\'' | '’') {
            continue;
        }
        if c.is_alphanumeric() {
            cleaned.extend(c.to_lowercase());
        } else if c == '👍' {
            cleaned.push_str(" 👍 ");
        } else {
            cleaned.push(' ');
        }
    }
    let tokens: Vec<&str> = cleaned.split_whitespace().collect();
    let Some(rest) = ACK_PHRASES
        .iter()
        .find_map(|phrase| tokens.strip_prefix(*phrase))
    else {
        return false;
    };
    rest.iter()
        .all(|t| ACK_FILLER.contains(t) || ACK_PHRASES.iter().any(|p| p == &[*t]))
}

/// The page texted to staff: who, why, and how to take it, in one SMS segment where
/// possible. The summary is shortened at a word to fit. Accented letters outside GSM-7 are
/// written plain; a name with other characters (emoji, other scripts) is left out, since it
/// would cut the segment from 160 characters to 70: the number is enough to find the lead,
/// and the app shows the name.
pub fn page_text(lead_name: Option<&str>, lead_number: &PhoneNumber, summary: &str) -> String {
    let summary = plain(summary);
    let summary = summary.trim_end_matches(['.', ' ']);
    let name = lead_name
        .map(plain)
        .filter(|n| !n.is_empty() && segments(n).encoding == Encoding::Gsm7)
        .map(|n| n.chars().take(24).collect::<String>());
    let who = match name {
        Some(n) => format!("Lead {n} ({lead_number})"),
        None => format!("Lead {lead_number}"),
    };
    fit(&who, summary).unwrap_or_else(|| format!("{who}: {summary}. Reply OK to take it."))
}

/// "{who}: {summary}. Reply OK to take it." in one segment, cutting the summary at a word.
fn fit(who: &str, summary: &str) -> Option<String> {
    let words: Vec<&str> = summary.split(' ').collect();
    (0..=words.len()).rev().find_map(|n| {
        let cut = if n == words.len() {
            format!("{summary}.")
        } else {
            format!(
                "{}...",
                words[..n].join(" ").trim_end_matches([',', ';', ':'])
            )
        };
        let text = format!("{who}: {cut} Reply OK to take it.");
        (segments(&text).segments <= 1).then_some(text)
    })
}

/// One line of GSM-7 friendly text: line breaks and controls become spaces, typographic quotes
/// and dashes their plain forms, common accented letters outside GSM-7 their base letter,
/// runs of spaces one space.
fn plain(text: &str) -> String {
    let mapped: String = text
        .chars()
        .map(|c| match c {
            '‘' | '’' => '\'',
            '“' | '”' => '"',
            '–' | '—' => '-',
            'á' | 'â' | 'ã' | 'ā' | 'ă' | 'ą' => 'a',
            'Á' | 'Â' | 'Ã' | 'À' | 'Ā' => 'A',
            'ç' | 'ć' | 'č' => 'c',
            'Ć' | 'Č' => 'C',
            'ê' | 'ë' | 'ē' | 'ė' | 'ę' | 'ě' => 'e',
            'È' | 'Ê' | 'Ë' => 'E',
            'í' | 'î' | 'ï' | 'ī' => 'i',
            'Í' | 'Î' | 'Ï' | 'Ì' => 'I',
            'ł' => 'l',
            'Ł' => 'L',
            'ń' | 'ň' => 'n',
            'ó' | 'ô' | 'õ' | 'ō' | 'ő' => 'o',
            'Ó' | 'Ô' | 'Õ' | 'Ò' => 'O',
            'ř' => 'r',
            'ś' | 'š' => 's',
            'Ś' | 'Š' => 'S',
            'ú' | 'û' | 'ū' | 'ů' | 'ű' => 'u',
            'Ú' | 'Û' | 'Ù' => 'U',
            'ý' | 'ÿ' => 'y',
            'ź' | 'ż' | 'ž' => 'z',
            'Ź' | 'Ż' | 'Ž' => 'Z',
            c if c.is_control() || c.is_whitespace() => ' ',
            c => c,
        })
        .collect();
    mapped.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hours::WeeklyHours;
    use crate::shifts::{RotaShift, ShiftsConfig};
    use chrono::TimeZone;
    use proptest::prelude::*;

    fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, min, 0)
            .single()
            .expect("valid test instant")
    }

    fn hours() -> BusinessHours {
        BusinessHours::new(chrono_tz::America::New_York, WeeklyHours::default(), vec![])
    }

    fn facts(reply: Option<Reply<'_>>) -> LeadFacts<'_> {
        LeadFacts {
            state: LeadState::Replied,
            text_back_at: Some(utc(2026, 3, 10, 13, 0)),
            last_reply: reply,
        }
    }

    #[test]
    fn unanswered_waits_five_minutes_open_and_fifteen_closed() {
        let policy = EscalationPolicy::default();
        // Tuesday 2026-03-10 10:00 EDT: open.
        let open_reply = Reply {
            at: utc(2026, 3, 10, 14, 0),
            body: "Can you come today?",
            answered: false,
        };
        let f = facts(Some(open_reply));
        assert_eq!(
            evaluate(&policy, &f, &hours(), utc(2026, 3, 10, 14, 4)),
            None,
            "4 minutes is not yet too long"
        );
        assert_eq!(
            evaluate(&policy, &f, &hours(), utc(2026, 3, 10, 14, 5)),
            Some(Trigger::Unanswered {
                replied_at: open_reply.at,
                minutes: 5
            }),
            "5 minutes in business hours escalates"
        );
        // 20:00 EDT: closed.
        let late = Reply {
            at: utc(2026, 3, 11, 0, 0),
            ..open_reply
        };
        assert_eq!(
            policy.unanswered_due(late.at, &hours()),
            Some(utc(2026, 3, 11, 0, 15)),
            "after hours the wait is 15 minutes"
        );
        let answered = Reply {
            answered: true,
            ..open_reply
        };
        assert_eq!(
            evaluate(
                &policy,
                &facts(Some(answered)),
                &hours(),
                utc(2026, 3, 10, 15, 0)
            ),
            None,
            "an answered reply does not escalate"
        );
    }

    #[test]
    fn urgent_words_escalate_at_once_as_whole_words() {
        let policy = EscalationPolicy::default();
        for (body, phrase) in [
            ("EMERGENCY pipe burst in kitchen", "emergency"),
            ("we're Locked   Out!!", "locked out"),
            ("There's no heat since last night", "no heat"),
            ("I think I smell gas", "smell gas"),
            ("basement is flooding", "flooding"),
        ] {
            assert_eq!(
                policy.urgent_match(body),
                Some(phrase),
                "{body:?} is urgent"
            );
        }
        for body in [
            "the floodlight is out",
            "bursting with joy",
            "heating is fine",
        ] {
            assert_eq!(
                policy.urgent_match(body),
                None,
                "{body:?} only contains an urgent word inside another word"
            );
        }
        let reply = Reply {
            at: utc(2026, 3, 10, 14, 0),
            body: "Gas leak!",
            answered: false,
        };
        assert_eq!(
            evaluate(&policy, &facts(Some(reply)), &hours(), reply.at),
            Some(Trigger::Urgent {
                phrase: "gas leak".into()
            }),
            "at once, not after five minutes"
        );
    }

    #[test]
    fn unbooked_a_day_after_the_text_back() {
        let policy = EscalationPolicy::default();
        let f = LeadFacts {
            state: LeadState::Texted,
            text_back_at: Some(utc(2026, 3, 10, 13, 0)),
            last_reply: None,
        };
        assert_eq!(
            evaluate(&policy, &f, &hours(), utc(2026, 3, 11, 12, 59)),
            None,
            "23h59m is not yet a day"
        );
        let t = evaluate(&policy, &f, &hours(), utc(2026, 3, 11, 13, 0)).expect("a day later");
        assert_eq!(
            t.reason(),
            "still not booked 1d after the text-back",
            "the reason reads on a page"
        );
        let booked = LeadFacts {
            state: LeadState::Booked,
            ..f
        };
        assert_eq!(
            evaluate(&policy, &booked, &hours(), utc(2026, 3, 12, 0, 0)),
            None,
            "closed leads never escalate"
        );
    }

    #[test]
    fn one_open_escalation_per_lead() {
        let now = utc(2026, 3, 10, 14, 0);
        let urgent = Trigger::Urgent {
            phrase: "flood".into(),
        };
        let Raise::Open(open) = raise(None, &urgent, now) else {
            panic!("nothing open: the first trigger opens one");
        };
        assert_eq!(
            raise(Some(&open), &urgent, now),
            Raise::AlreadyListed,
            "the same reason twice pages nobody"
        );
        let unbooked = Trigger::Unbooked {
            after: HumanDuration::from_secs(86_400),
        };
        assert_eq!(
            raise(Some(&open), &unbooked, now),
            Raise::AddReason("still not booked 1d after the text-back".into()),
            "a second rule adds its reason instead of paging again"
        );
        let acked = Escalation {
            acknowledged_at: Some(now),
            ..open
        };
        assert!(
            matches!(raise(Some(&acked), &unbooked, now), Raise::Open(_)),
            "after an acknowledgement a new escalation may open"
        );
    }

    #[test]
    fn acknowledgement_texts() {
        for yes in [
            "OK",
            "ok",
            "Ok.",
            "OK!",
            " ok ",
            "okay",
            "K",
            "ok thanks",
            "OK, thank you!",
            "Got it",
            "got it!",
            "GOT IT, on my way",
            "on it",
            "will do",
            "👍",
            "ok 👍",
            "Ok, I'll call them now",
        ] {
            assert!(is_ack_text(yes), "{yes:?} acknowledges the page");
        }
        for no in [
            "",
            "  ",
            "not ok",
            "ok but I can't",
            "who is this?",
            "okey dokey",
            "no",
            "it",
            "thanks",
        ] {
            assert!(!is_ack_text(no), "{no:?} is not an acknowledgement");
        }
    }

    #[test]
    fn page_text_fits_one_segment() {
        let number = PhoneNumber::parse_e164("+14155552671").expect("valid");
        let text = page_text(
            Some("Maria"),
            &number,
            "replied 6 min ago and nobody has answered",
        );
        assert_eq!(
            text,
            "Lead Maria (+14155552671): replied 6 min ago and nobody has answered. Reply OK to take it.",
            "who, why and how to reply"
        );
        let long = "urgent: the customer wrote \"flood\" ".repeat(10);
        let text = page_text(
            Some("Maria\nJosé “MJ” Fernández-López de la Vega"),
            &number,
            &long,
        );
        let s = segments(&text);
        assert_eq!(
            (s.encoding, s.segments),
            (Encoding::Gsm7, 1),
            "shortened into one GSM-7 segment: {text}"
        );
        assert!(
            text.ends_with("... Reply OK to take it."),
            "the summary is cut, never the instruction: {text}"
        );
        assert!(
            text.starts_with("Lead Maria José \"MJ\" Fernande (+14155552671): urgent: the"),
            "the name is kept on one line in GSM-7 letters, cut at 24: {text}"
        );
        let emoji = page_text(
            Some("🔧 Bob"),
            &number,
            "replied 6 min ago and nobody has answered",
        );
        assert_eq!(
            emoji,
            "Lead +14155552671: replied 6 min ago and nobody has answered. Reply OK to take it.",
            "a name that would force UCS-2 is left out"
        );
        assert_eq!(
            page_text(None, &number, "urgent"),
            "Lead +14155552671: urgent. Reply OK to take it.",
            "an unknown name is left out"
        );
    }

    #[test]
    fn validate_checks_limits_and_backup_names() {
        let roster = Roster::new(
            chrono_tz::America::New_York,
            vec![StaffMember {
                name: "Ana".into(),
                role: Role::Owner,
                phone: None,
                desk: None,
            }],
            ShiftsConfig {
                rota: vec![RotaShift {
                    who: "Ana".into(),
                    days: "mon-fri".parse().expect("valid"),
                    hours: "08:00-17:00".parse().expect("valid"),
                }],
                ..ShiftsConfig::default()
            },
        )
        .expect("valid roster");
        assert_eq!(
            EscalationPolicy::default().validate(&roster),
            Ok(()),
            "defaults are valid"
        );
        let bad = EscalationPolicy {
            backup: vec!["Zed".into()],
            ..EscalationPolicy::default()
        };
        assert_eq!(
            bad.validate(&roster),
            Err(PolicyError::UnknownBackup("Zed".into())),
            "the backup must be staff"
        );
        let spammy = EscalationPolicy {
            repeat_every: HumanDuration::from_secs(1),
            ..EscalationPolicy::default()
        };
        assert!(spammy.validate(&roster).is_err(), "pages at most every 10s");
        let policy: EscalationPolicy = serde_json::from_str(
            r#"{"unanswered":{"business_hours":"2m"},"urgent":{"phrases":["sewage"]}}"#,
        )
        .expect("partial config loads");
        assert_eq!(
            (
                policy.unanswered.business_hours,
                policy.unanswered.after_hours
            ),
            (HumanDuration::from_secs(120), HumanDuration::from_secs(900)),
            "unset keys keep their defaults"
        );
        assert_eq!(
            policy.urgent_match("SEWAGE everywhere"),
            Some("sewage"),
            "phrases are configurable"
        );
    }

    proptest! {
        // NOTE: tests write nothing outside temp dirs, so no proptest-regressions files; a
        // failing case worth keeping becomes a named test.
        #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::default() })]

        #[test]
        fn text_readers_never_panic(body in "\\PC{0,200}") {
            let _ = is_ack_text(&body);
            let _ = EscalationPolicy::default().urgent_match(&body);
        }

        #[test]
        fn page_text_always_ends_with_the_instruction(name in "\\PC{0,60}", summary in "\\PC{0,300}") {
            let number = PhoneNumber::parse_e164("+14155552671").map_err(|e| TestCaseError::fail(e.to_string()))?;
            let text = page_text(Some(&name), &number, &summary);
            prop_assert!(text.ends_with("Reply OK to take it."), "{}", text);
            prop_assert!(text.contains("+14155552671"), "the number is always there: {}", text);
            prop_assert!(!text.contains('\n'), "one line: {:?}", text);
        }
    }
}

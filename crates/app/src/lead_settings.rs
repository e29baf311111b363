//! The lead-lifecycle sections of the settings screen (follow-ups, sending hours, escalation,
//! compliance replies) to and from the config file.
//!
//! Every error names the key it is about, as the config file spells it
//! (`followup.touches[1].delay: …`), so the screen can show it beside that field.

use textback_domain::compliance::{ComplianceError, KeywordReplies, ReplyMode};
use textback_domain::escalation::{
    EscalationPolicy, PolicyError, UnansweredRule, UnbookedRule, UrgentRule,
};
use textback_domain::followup::{MAX_TOUCHES, SequenceConfig, SequenceError, Snap, Touch};
use textback_domain::{HumanDuration, Template};
use textback_engine::config::{Config, MAX_DURATION_SECS};

use crate::dto::{
    ComplianceReplies, EscalationRules, FollowUpSettings, FollowUpTouch, IpcError,
    KeywordReplyMode, SendingHoursSettings, TouchSnap,
};

const MAX_URGENT_WORDS: usize = 100;
const MAX_URGENT_WORD_CHARS: usize = 60;

/// An `invalid_input` error about the config key `path`: "path: message".
pub(crate) fn at(path: &str, e: impl std::fmt::Display) -> IpcError {
    IpcError::new("invalid_input", format!("{path}: {e}"))
}

/// Like [`at`] for a domain error whose text may already begin with a key of its own
/// ("escalation.max_pages must be …"): that key is replaced by `path`.
fn keyed(path: &str, e: impl std::fmt::Display) -> IpcError {
    let message = e.to_string();
    let rest = match message.split_once(' ') {
        Some((first, rest)) if first.contains('.') && !first.ends_with('.') => rest,
        _ => &message,
    };
    at(path, rest)
}

/// A duration from 0 up to the longest any key accepts.
fn duration(path: &str, raw: &str) -> Result<HumanDuration, IpcError> {
    let d = HumanDuration::parse(raw).map_err(|e| at(path, e))?;
    if d.as_secs() > MAX_DURATION_SECS {
        let most = HumanDuration::from_secs(MAX_DURATION_SECS);
        return Err(at(
            path,
            format!("\"{d}\" is too long; the most is \"{most}\""),
        ));
    }
    Ok(d)
}

fn template(path: &str, raw: &str) -> Result<Template, IpcError> {
    Template::parse(raw).map_err(|e| at(path, e))
}

pub fn followup_of(c: &Config) -> FollowUpSettings {
    FollowUpSettings {
        enabled: c.followup.enabled,
        touches: c
            .followup
            .touches
            .iter()
            .map(|t| FollowUpTouch {
                delay: t.delay.to_string(),
                snap: match t.snap {
                    Snap::None => TouchSnap::None,
                    Snap::NextOpening => TouchSnap::NextOpening,
                    Snap::NextBusinessDay => TouchSnap::NextBusinessDay,
                },
                business_hours: t.business_hours,
                template: t.template.to_string(),
            })
            .collect(),
        max_touches: u32::try_from(MAX_TOUCHES).unwrap_or(u32::MAX),
    }
}

pub fn sending_hours_of(c: &Config) -> SendingHoursSettings {
    let s = &c.sending_hours;
    SendingHoursSettings {
        enabled: s.enabled,
        window: s.window.to_string(),
        state_rules: s.state_rules,
        textback: s.textback,
    }
}

pub fn escalation_of(c: &Config) -> EscalationRules {
    let e = &c.escalation;
    EscalationRules {
        enabled: e.enabled,
        unanswered_enabled: e.unanswered.enabled,
        unanswered_business_hours: e.unanswered.business_hours.to_string(),
        unanswered_after_hours: e.unanswered.after_hours.to_string(),
        unbooked_enabled: e.unbooked.enabled,
        unbooked_after: e.unbooked.after.to_string(),
        urgent_enabled: e.urgent.enabled,
        urgent_words: e.urgent.phrases.clone(),
        repeat_every: e.repeat_every.to_string(),
        max_pages: e.max_pages,
        backup_after: e.backup_after.to_string(),
        backup: e.backup.clone(),
    }
}

fn mode_dto(m: ReplyMode) -> KeywordReplyMode {
    match m {
        ReplyMode::Auto => KeywordReplyMode::Auto,
        ReplyMode::Always => KeywordReplyMode::Always,
        ReplyMode::Never => KeywordReplyMode::Never,
    }
}

fn mode_of(m: KeywordReplyMode) -> ReplyMode {
    match m {
        KeywordReplyMode::Auto => ReplyMode::Auto,
        KeywordReplyMode::Always => ReplyMode::Always,
        KeywordReplyMode::Never => ReplyMode::Never,
    }
}

pub fn compliance_of(c: &Config) -> ComplianceReplies {
    let s = &c.compliance;
    ComplianceReplies {
        confirm_opt_out: mode_dto(s.confirm_opt_out),
        opt_out_confirmation: s.opt_out_confirmation.to_string(),
        help: mode_dto(s.help),
        help_reply: s.help_reply.to_string(),
        help_interval: s.help_interval.to_string(),
    }
}

pub fn apply_followup(c: &mut Config, s: &FollowUpSettings) -> Result<(), IpcError> {
    let touches = s
        .touches
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let path = |key: &str| format!("followup.touches[{i}].{key}");
            Ok(Touch {
                delay: duration(&path("delay"), &t.delay)?,
                snap: match t.snap {
                    TouchSnap::None => Snap::None,
                    TouchSnap::NextOpening => Snap::NextOpening,
                    TouchSnap::NextBusinessDay => Snap::NextBusinessDay,
                },
                business_hours: t.business_hours,
                template: template(&path("template"), &t.template)?,
            })
        })
        .collect::<Result<Vec<_>, IpcError>>()?;
    let sequence = SequenceConfig {
        enabled: s.enabled,
        touches,
    };
    sequence.validate().map_err(|e| match e {
        SequenceError::TooManyTouches { .. } => at("followup.touches", &e),
        // Touch 2 is the first follow-up, touches[0].
        SequenceError::DelayTooLong { touch, .. } => at(
            &format!("followup.touches[{}].delay", touch.saturating_sub(2)),
            &e,
        ),
    })?;
    c.followup = sequence;
    Ok(())
}

pub fn apply_sending_hours(c: &mut Config, s: &SendingHoursSettings) -> Result<(), IpcError> {
    let window = s.window.trim().parse().map_err(|e| {
        at(
            "sending_hours.window",
            format!("{e}; write the window like 08:00-21:00"),
        )
    })?;
    c.sending_hours.enabled = s.enabled;
    c.sending_hours.window = window;
    c.sending_hours.state_rules = s.state_rules;
    c.sending_hours.textback = s.textback;
    Ok(())
}

/// Escalation rules. Call after the staff list is set: the backup must be on it.
pub fn apply_escalation(c: &mut Config, s: &EscalationRules) -> Result<(), IpcError> {
    let d = |key: &str, raw: &str| duration(&format!("escalation.{key}"), raw);
    let mut phrases: Vec<String> = Vec::new();
    for (i, w) in s.urgent_words.iter().enumerate() {
        let w = w.split_whitespace().collect::<Vec<_>>().join(" ");
        if w.is_empty() || phrases.iter().any(|k| k.eq_ignore_ascii_case(&w)) {
            continue;
        }
        if w.chars().count() > MAX_URGENT_WORD_CHARS {
            return Err(at(
                &format!("escalation.urgent.phrases[{i}]"),
                format!("a word or phrase may be at most {MAX_URGENT_WORD_CHARS} characters"),
            ));
        }
        phrases.push(w);
    }
    if phrases.len() > MAX_URGENT_WORDS {
        return Err(at(
            "escalation.urgent.phrases",
            format!("at most {MAX_URGENT_WORDS} urgent words or phrases"),
        ));
    }
    let mut backup: Vec<String> = Vec::new();
    for name in s.backup.iter().map(|b| b.trim()).filter(|b| !b.is_empty()) {
        if !backup.iter().any(|b| b.eq_ignore_ascii_case(name)) {
            backup.push(name.to_owned());
        }
    }
    let policy = EscalationPolicy {
        enabled: s.enabled,
        unanswered: UnansweredRule {
            enabled: s.unanswered_enabled,
            business_hours: d("unanswered.business_hours", &s.unanswered_business_hours)?,
            after_hours: d("unanswered.after_hours", &s.unanswered_after_hours)?,
        },
        unbooked: UnbookedRule {
            enabled: s.unbooked_enabled,
            after: d("unbooked.after", &s.unbooked_after)?,
        },
        urgent: UrgentRule {
            enabled: s.urgent_enabled,
            phrases,
        },
        repeat_every: d("repeat_every", &s.repeat_every)?,
        max_pages: s.max_pages,
        backup_after: d("backup_after", &s.backup_after)?,
        backup,
    };
    policy.validate(&c.roster()).map_err(|e| match &e {
        PolicyError::RepeatTooOften(_) => keyed("escalation.repeat_every", &e),
        PolicyError::MaxPages(_) => keyed("escalation.max_pages", &e),
        PolicyError::EmptyPhrase(i) => keyed(&format!("escalation.urgent.phrases[{i}]"), &e),
        PolicyError::UnknownBackup(_) => keyed("escalation.backup", &e),
    })?;
    c.escalation = policy;
    Ok(())
}

pub fn apply_compliance(c: &mut Config, s: &ComplianceReplies) -> Result<(), IpcError> {
    let replies = KeywordReplies {
        confirm_opt_out: mode_of(s.confirm_opt_out),
        opt_out_confirmation: template("compliance.opt_out_confirmation", &s.opt_out_confirmation)?,
        help: mode_of(s.help),
        help_reply: template("compliance.help_reply", &s.help_reply)?,
        help_interval: duration("compliance.help_interval", &s.help_interval)?,
    };
    replies.validate().map_err(|e| match &e {
        ComplianceError::MarketingInConfirmation => keyed("compliance.opt_out_confirmation", &e),
        ComplianceError::HelpWithoutStop => keyed("compliance.help_reply", &e),
    })?;
    c.compliance = replies;
    Ok(())
}

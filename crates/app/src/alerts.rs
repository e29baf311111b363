//! Which domain events become desktop alerts, and the repeat rule for unread replies (the #1
//! complaint about shared inboxes is a missed alert). The shell only displays what this says.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use textback_engine::DomainEvent;
use textback_store::{Store, StoreError, conversations};

/// A desktop alert. Clicking it opens `conversation_id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    pub title: String,
    pub body: String,
    pub conversation_id: Option<i64>,
}

/// The alert for an event, if it deserves one. `responder`: this desk texts back, so a missed
/// call's alert says a text-back is on its way.
pub fn for_event(e: &DomainEvent, responder: bool) -> Option<Alert> {
    let alert = |title: String, body: String, conversation_id| {
        Some(Alert {
            title,
            body,
            conversation_id,
        })
    };
    match e {
        DomainEvent::CallMissed {
            caller,
            reason,
            conversation_id,
            ..
        } => alert(
            format!("Missed call from {caller}"),
            if responder && conversation_id.is_some() {
                format!("{reason}. Texting them back now.")
            } else {
                reason.clone()
            },
            *conversation_id,
        ),
        DomainEvent::MessageReceived {
            from,
            preview,
            conversation_id,
            ..
        } => alert(
            format!("Text from {from}"),
            preview.clone(),
            Some(*conversation_id),
        ),
        DomainEvent::SendFailed {
            reason,
            conversation_id,
            ..
        } => alert(
            "A text was not sent".into(),
            reason.clone(),
            *conversation_id,
        ),
        DomainEvent::ProviderAuthFailed { message } => alert(
            "Textback cannot reach your phone account".into(),
            format!(
                "{message}. Nothing is lost: texts wait until the credentials are fixed in Settings."
            ),
            None,
        ),
        DomainEvent::AccountBlocked { message, .. } => alert(
            "Your phone account cannot send texts".into(),
            message.clone(),
            None,
        ),
        // Every round, until someone takes it (in the app, or by texting OK).
        DomainEvent::EscalationPaged {
            staff,
            summary,
            conversation_id,
            ..
        } => alert(
            format!("Needs a person now: {}", staff.join(", ")),
            summary.clone(),
            Some(*conversation_id),
        ),
        _ => None,
    }
}

/// Remembers when each conversation was last alerted, to repeat alerts for replies that stay
/// unread.
#[derive(Debug, Default)]
pub struct RepeatAlerts {
    last: HashMap<i64, DateTime<Utc>>,
}

impl RepeatAlerts {
    /// Notes that an alert for this conversation was just shown.
    pub fn shown(&mut self, conversation_id: i64, at: DateTime<Utc>) {
        self.last.insert(conversation_id, at);
    }

    /// Alerts to repeat now: conversations still unread and awaiting a reply whose last alert
    /// is at least `every` old. Opening a conversation (read) stops its repeats.
    pub fn due(
        &mut self,
        store: &Store,
        now: DateTime<Utc>,
        every: chrono::Duration,
    ) -> Result<Vec<Alert>, StoreError> {
        let unread = store.read(|c| {
            conversations::list(
                c,
                &conversations::Query {
                    filter: conversations::Filter::Unread,
                    limit: 50,
                    ..Default::default()
                },
            )
        })?;
        self.last.retain(|id, _| unread.iter().any(|s| s.id == *id));
        let mut out = Vec::new();
        for s in unread.into_iter().filter(|s| s.awaiting_reply && !s.done) {
            let last = *self.last.entry(s.id).or_insert(s.last_activity_at);
            if now - last >= every {
                self.last.insert(s.id, now);
                out.push(Alert {
                    title: format!(
                        "Still waiting: {}",
                        s.contact_name.as_deref().unwrap_or(&s.contact_phone)
                    ),
                    body: s.snippet.clone(),
                    conversation_id: Some(s.id),
                });
            }
        }
        Ok(out)
    }
}

//! What the engine tells the world: plain domain events on a broadcast channel. The desktop
//! shell turns them into UI updates and desktop alerts; tests and the CLI read them directly.

use chrono::{DateTime, Utc};
use serde::Serialize;

/// One thing that happened. Ids are the store's row ids.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(
    tag = "kind",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum DomainEvent {
    /// A call to a business number went unanswered.
    CallMissed {
        call_id: i64,
        conversation_id: Option<i64>,
        caller: String,
        outcome: String,
        reason: String,
    },
    /// A text-back was accepted by the provider.
    TextBackSent {
        call_id: Option<i64>,
        conversation_id: Option<i64>,
        outbox_id: i64,
        to: String,
    },
    /// A missed call got no text-back, and why.
    TextBackSkipped {
        call_id: i64,
        conversation_id: Option<i64>,
        code: String,
        reason: String,
    },
    /// Missed longer ago than the freshness limit: waiting for a person to choose.
    LateTextBackOffered {
        call_id: i64,
        conversation_id: Option<i64>,
    },
    /// An outbound message failed for good.
    SendFailed {
        conversation_id: Option<i64>,
        outbox_id: i64,
        code: Option<u32>,
        reason: String,
    },
    /// A message a person wrote was accepted by the provider.
    MessageSent {
        conversation_id: Option<i64>,
        outbox_id: i64,
    },
    /// A customer texted in.
    MessageReceived {
        conversation_id: i64,
        message_id: i64,
        from: String,
        /// Up to 80 characters, for an alert (the full body stays in the store).
        preview: String,
    },
    /// A delivery status changed (delivered, failed with a carrier error...).
    MessageStatus {
        conversation_id: i64,
        message_id: i64,
        status: String,
        error_code: Option<u32>,
    },
    /// A number opted out (keyword or provider error 21610): nothing more is sent to it.
    OptedOut {
        phone: String,
        source: String,
    },
    OptedIn {
        phone: String,
    },
    /// The provider rejected the credentials: sending is paused until they work again.
    ProviderAuthFailed {
        message: String,
    },
    /// The account cannot send (number not SMS-capable, trial restrictions...).
    AccountBlocked {
        code: u32,
        message: String,
    },
    WentOffline {
        since: DateTime<Utc>,
        reason: String,
    },
    WentOnline {
        offline_since: DateTime<Utc>,
    },
    /// Sending resumed after an auth or account problem was fixed.
    SendingResumed,
    /// A lead needs a person: it is being paged to whoever is on shift.
    EscalationRaised {
        escalation_id: i64,
        conversation_id: i64,
        reason: String,
    },
    /// A paging round went out (desktop alert on these people's desks, SMS to their phones).
    EscalationPaged {
        escalation_id: i64,
        conversation_id: i64,
        /// Who was paged this round, by name.
        staff: Vec<String>,
        /// The desks those people sit at (empty: alert on every desk).
        desks: Vec<String>,
        /// The one-line summary they were sent.
        summary: String,
        round: i64,
    },
    /// Someone took the escalation (in the app, or by texting OK): paging stops.
    EscalationAcknowledged {
        escalation_id: i64,
        conversation_id: i64,
        by: String,
    },
    /// Anything else about a conversation changed (read, assigned, noted, booked...).
    ConversationChanged {
        conversation_id: i64,
    },
    /// The database cannot be written (disk full, locked by another program, damaged): the
    /// engine keeps retrying and loses nothing the provider has. Said once until it clears.
    StorageProblem {
        message: String,
    },
    /// The database is written again after a [`DomainEvent::StorageProblem`].
    StorageRecovered,
    /// A verified backup of the database was written.
    BackupMade {
        path: String,
    },
    /// A backup could not be made (folder not writable, disk full); tried again later. Said
    /// once until a backup succeeds.
    BackupFailed {
        message: String,
    },
}

impl DomainEvent {
    /// The conversation this event is about, if any.
    pub fn conversation_id(&self) -> Option<i64> {
        match self {
            DomainEvent::CallMissed {
                conversation_id, ..
            }
            | DomainEvent::TextBackSent {
                conversation_id, ..
            }
            | DomainEvent::TextBackSkipped {
                conversation_id, ..
            }
            | DomainEvent::LateTextBackOffered {
                conversation_id, ..
            }
            | DomainEvent::SendFailed {
                conversation_id, ..
            }
            | DomainEvent::MessageSent {
                conversation_id, ..
            } => *conversation_id,
            DomainEvent::MessageReceived {
                conversation_id, ..
            }
            | DomainEvent::MessageStatus {
                conversation_id, ..
            }
            | DomainEvent::EscalationRaised {
                conversation_id, ..
            }
            | DomainEvent::EscalationPaged {
                conversation_id, ..
            }
            | DomainEvent::EscalationAcknowledged {
                conversation_id, ..
            }
            | DomainEvent::ConversationChanged { conversation_id } => Some(*conversation_id),
            _ => None,
        }
    }
}

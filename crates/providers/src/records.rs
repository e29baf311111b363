use chrono::{DateTime, Utc};
use textback_domain::{
    CallDirection, CallStatus, ProviderCallId, ProviderMediaId, ProviderMessageId,
};

/// One call leg as the provider reports it. `from`/`to` are the provider's raw strings
/// (they may be "anonymous", a short code, or empty): the engine classifies them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallRecord {
    pub sid: ProviderCallId,
    /// Set on `<Dial>` child legs; `None` on the caller's own (parent) leg.
    pub parent_sid: Option<ProviderCallId>,
    pub from: String,
    pub to: String,
    pub direction: CallDirection,
    pub status: CallStatus,
    pub start_time: Option<DateTime<Utc>>,
    pub end_time: Option<DateTime<Utc>>,
    /// Empty on the wire for busy, failed, unanswered and ongoing calls.
    pub duration_secs: Option<u32>,
    /// `human`, `machine_start`, `machine_end_beep`, `fax`, `unknown`… when answering
    /// machine detection ran.
    pub answered_by: Option<String>,
    pub caller_name: Option<String>,
    pub date_updated: Option<DateTime<Utc>>,
}

/// One SMS/MMS as the provider reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageRecord {
    pub sid: ProviderMessageId,
    pub from: String,
    pub to: String,
    /// Customer content: never log it above debug level.
    pub body: String,
    pub direction: MessageDirection,
    pub status: MessageStatus,
    /// Set when `failed`/`undelivered` (e.g. 30003, 30007).
    pub error_code: Option<u32>,
    pub error_message: Option<String>,
    pub num_media: u32,
    pub date_created: Option<DateTime<Utc>>,
    pub date_sent: Option<DateTime<Utc>>,
    pub date_updated: Option<DateTime<Utc>>,
}

/// One picture or file attached to a message (an MMS), as the provider lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaRecord {
    pub sid: ProviderMediaId,
    /// The MIME type the provider states (`image/jpeg`); empty when it did not say.
    pub content_type: String,
    /// The media resource, relative to the provider's API origin, as listed (Twilio:
    /// `/2010-04-01/Accounts/AC…/Messages/MM…/Media/ME….json`). Checked again before every
    /// fetch, since it may come back from the store.
    pub uri: String,
}

/// The bytes of one attachment and their MIME type.
#[derive(Clone, PartialEq, Eq)]
pub struct MediaContent {
    /// Lower case, without parameters (`image/png`).
    pub content_type: String,
    /// Customer content: never log it.
    pub bytes: Vec<u8>,
}

impl std::fmt::Debug for MediaContent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MediaContent")
            .field("content_type", &self.content_type)
            .field("bytes", &self.bytes.len())
            .finish()
    }
}

/// Which way a message went. Unknown wire values are kept, never rejected.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum MessageDirection {
    Inbound,
    OutboundApi,
    OutboundCall,
    OutboundReply,
    Unknown(String),
}

impl MessageDirection {
    pub fn from_wire(s: &str) -> Self {
        match s {
            "inbound" => Self::Inbound,
            "outbound-api" => Self::OutboundApi,
            "outbound-call" => Self::OutboundCall,
            "outbound-reply" => Self::OutboundReply,
            other => Self::Unknown(other.to_owned()),
        }
    }

    pub fn as_wire(&self) -> &str {
        match self {
            Self::Inbound => "inbound",
            Self::OutboundApi => "outbound-api",
            Self::OutboundCall => "outbound-call",
            Self::OutboundReply => "outbound-reply",
            Self::Unknown(s) => s,
        }
    }

    /// Sent by the business (any outbound kind). `Unknown` is not outbound.
    pub fn is_outbound(&self) -> bool {
        matches!(
            self,
            Self::OutboundApi | Self::OutboundCall | Self::OutboundReply
        )
    }
}

/// A message's delivery state. Unknown wire values are kept, never rejected, so a new
/// status Twilio adds tomorrow does not break syncing.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum MessageStatus {
    Queued,
    Sending,
    Sent,
    Failed,
    Delivered,
    Undelivered,
    Receiving,
    Received,
    Accepted,
    Scheduled,
    Read,
    PartiallyDelivered,
    Canceled,
    Unknown(String),
}

impl MessageStatus {
    pub fn from_wire(s: &str) -> Self {
        match s {
            "queued" => Self::Queued,
            "sending" => Self::Sending,
            "sent" => Self::Sent,
            "failed" => Self::Failed,
            "delivered" => Self::Delivered,
            "undelivered" => Self::Undelivered,
            "receiving" => Self::Receiving,
            "received" => Self::Received,
            "accepted" => Self::Accepted,
            "scheduled" => Self::Scheduled,
            "read" => Self::Read,
            "partially_delivered" => Self::PartiallyDelivered,
            "canceled" => Self::Canceled,
            other => Self::Unknown(other.to_owned()),
        }
    }

    pub fn as_wire(&self) -> &str {
        match self {
            Self::Queued => "queued",
            Self::Sending => "sending",
            Self::Sent => "sent",
            Self::Failed => "failed",
            Self::Delivered => "delivered",
            Self::Undelivered => "undelivered",
            Self::Receiving => "receiving",
            Self::Received => "received",
            Self::Accepted => "accepted",
            Self::Scheduled => "scheduled",
            Self::Read => "read",
            Self::PartiallyDelivered => "partially_delivered",
            Self::Canceled => "canceled",
            Self::Unknown(s) => s,
        }
    }

    /// No further status change is expected (the engine stops re-polling it).
    /// `Unknown` is not final, so it keeps being looked at.
    pub fn is_final(&self) -> bool {
        matches!(
            self,
            Self::Delivered
                | Self::Undelivered
                | Self::Failed
                | Self::Received
                | Self::Read
                | Self::Canceled
        )
    }
}

/// A phone number the account owns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnedNumber {
    pub sid: String,
    /// E.164 as the provider gives it.
    pub phone_number: String,
    pub friendly_name: Option<String>,
    pub sms_capable: bool,
}

/// What `check_credentials` learns about the account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountInfo {
    pub sid: String,
    pub friendly_name: Option<String>,
    /// `active`, `suspended`, `closed` on Twilio; `unknown` when the provider did not say.
    pub status: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_status_round_trips_and_keeps_unknowns() {
        for wire in [
            "queued",
            "sending",
            "sent",
            "failed",
            "delivered",
            "undelivered",
            "receiving",
            "received",
            "accepted",
            "scheduled",
            "read",
            "partially_delivered",
            "canceled",
        ] {
            let status = MessageStatus::from_wire(wire);
            assert!(
                !matches!(status, MessageStatus::Unknown(_)),
                "{wire} is in the spec's enum and must be known"
            );
            assert_eq!(
                status.as_wire(),
                wire,
                "as_wire must give back the wire value"
            );
        }
        let new = MessageStatus::from_wire("teleported");
        assert_eq!(
            new,
            MessageStatus::Unknown("teleported".into()),
            "a status Twilio adds later is kept, not an error"
        );
        assert!(!new.is_final(), "an unknown status keeps being polled");
    }

    #[test]
    fn message_direction_outbound_kinds() {
        for wire in ["outbound-api", "outbound-call", "outbound-reply"] {
            let d = MessageDirection::from_wire(wire);
            assert!(d.is_outbound(), "{wire} was sent by the business");
            assert_eq!(d.as_wire(), wire, "round trip");
        }
        assert!(
            !MessageDirection::from_wire("inbound").is_outbound(),
            "inbound is from the customer"
        );
        assert_eq!(
            MessageDirection::from_wire("sideways"),
            MessageDirection::Unknown("sideways".into()),
            "unknown directions are kept"
        );
    }
}

use std::time::Duration;

/// Twilio error 21610: the recipient replied STOP to this sender.
pub const OPT_OUT_CODE: u32 = 21610;

/// Everything a provider call can fail with, sorted by what the caller does next.
///
/// The split that matters most is between [`ProviderError::Transient`] (the request was
/// certainly not acted on, or it was a read: repeat it) and [`ProviderError::OutcomeUnknown`]
/// (a send may or may not have happened: reconcile against the provider's message log
/// before any resend, never retry blind).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProviderError {
    /// Credentials rejected (HTTP 401/403, Twilio 20003): stop, ask the user to re-enter them.
    #[error("the provider rejected the credentials: {message}")]
    Auth { message: String },

    /// The account or sending number cannot send (Twilio 21606, 21608, 21408): stop sending
    /// from this account/number and tell the user; retrying will not help.
    #[error("the account cannot send (provider error {code}): {message}")]
    AccountBlocked { code: u32, message: String },

    /// Too many requests (HTTP 429, Twilio 20429). The request was not processed: safe to
    /// retry after `retry_after` (when the provider said) or a backoff.
    #[error("rate limited by the provider{}", retry_after.map(|d| format!(" (retry after {}s)", d.as_secs())).unwrap_or_default())]
    RateLimited { retry_after: Option<Duration> },

    /// Not done, safe to retry: the connection failed before the request was sent, or a
    /// read failed (5xx, timeout, body cut off).
    #[error("temporary provider failure: {message}")]
    Transient { message: String },

    /// A send may or may not have reached the provider (timeout after sending, 5xx, an
    /// unreadable success answer). Reconcile against the message log before any resend.
    #[error("the provider may or may not have accepted the message: {message}")]
    OutcomeUnknown { message: String },

    /// This one message (or resource) can never succeed: invalid number (21211), not
    /// textable (21614, 21635), opted out (21610), not found. `code` is the provider's
    /// error code, or the HTTP status when the provider gave none.
    #[error("the provider refused (error {code}): {message}")]
    Permanent { code: u32, message: String },

    /// A read answer that could not be understood (not JSON, wrong shape, too large).
    /// Only produced by reads, so repeating is safe; the engine logs it and retries later.
    #[error("could not understand the provider's answer: {message}")]
    Malformed { message: String },

    /// An attachment is larger than this client downloads (`limit_bytes`). Repeating will
    /// not shrink it: show it as an attachment that cannot be displayed.
    #[error("the attachment is larger than {limit_bytes} bytes; not downloading it")]
    MediaTooLarge { limit_bytes: usize },

    /// The adapter is configured wrongly (base URL, account SID): fix the settings.
    #[error("provider configuration: {message}")]
    Config { message: String },
}

impl ProviderError {
    /// True when repeating the same request cannot cause a duplicate side effect
    /// (nothing was processed, or the request was a read).
    pub fn is_retry_safe(&self) -> bool {
        matches!(
            self,
            Self::RateLimited { .. } | Self::Transient { .. } | Self::Malformed { .. }
        )
    }

    /// True when the recipient opted out of messages from this sender (Twilio 21610):
    /// record the opt-out, never retry.
    pub fn is_opt_out(&self) -> bool {
        self.code() == Some(OPT_OUT_CODE)
    }

    /// The provider's error code, when the error carries one.
    pub fn code(&self) -> Option<u32> {
        match self {
            Self::AccountBlocked { code, .. } | Self::Permanent { code, .. } => Some(*code),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_unprocessed_or_read_failures_are_retry_safe() {
        let safe = [
            ProviderError::RateLimited { retry_after: None },
            ProviderError::Transient {
                message: "x".into(),
            },
            ProviderError::Malformed {
                message: "x".into(),
            },
        ];
        for e in &safe {
            assert!(
                e.is_retry_safe(),
                "{e:?} is never a duplicated send, so retrying is safe"
            );
        }
        let unsafe_ = [
            ProviderError::OutcomeUnknown {
                message: "x".into(),
            },
            ProviderError::Auth {
                message: "x".into(),
            },
            ProviderError::Permanent {
                code: 21211,
                message: "x".into(),
            },
            ProviderError::AccountBlocked {
                code: 21606,
                message: "x".into(),
            },
            ProviderError::Config {
                message: "x".into(),
            },
            ProviderError::MediaTooLarge { limit_bytes: 5 },
        ];
        for e in &unsafe_ {
            assert!(!e.is_retry_safe(), "{e:?} must not be retried blindly");
        }
    }

    #[test]
    fn opt_out_is_21610_only() {
        let opted_out = ProviderError::Permanent {
            code: 21610,
            message: "unsubscribed".into(),
        };
        assert!(
            opted_out.is_opt_out(),
            "21610 means the recipient replied STOP"
        );
        assert_eq!(
            opted_out.code(),
            Some(21610),
            "the code is kept for the audit log"
        );
        let invalid = ProviderError::Permanent {
            code: 21211,
            message: "invalid".into(),
        };
        assert!(!invalid.is_opt_out(), "an invalid number is not an opt-out");
    }

    #[test]
    fn rate_limit_message_mentions_the_wait() {
        let e = ProviderError::RateLimited {
            retry_after: Some(Duration::from_secs(7)),
        };
        assert!(
            e.to_string().contains("7s"),
            "the wait is shown to the user: {e}"
        );
    }
}

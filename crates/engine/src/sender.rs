//! The outbox sender: one testable step ([`Engine::send_step`]) inside a thin loop.
//!
//! Per entry: re-check the opt-out list; for text-backs, check the provider's message log for
//! an outbound message to the caller since the call ended (another desk, a person, an
//! auto-reply); mark the entry in flight; send; record the answer. Errors are handled by what
//! they mean: retry-safe → back off and retry; outcome unknown → reconcile against the message
//! log before any resend; permanent → fail the message (21610 opts the contact out); account
//! problems → pause sending, keep the entry.

use chrono::{DateTime, Duration, Utc};
use rand::Rng;

use textback_domain::PhoneNumber;
use textback_providers::{MessageRecord, Provider, ProviderError};
use textback_store::{audit, contacts, conversations, decisions, messages, outbox};

use crate::{DomainEvent, Engine, EngineError};

/// What one step did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendStep {
    /// An entry was resolved (sent, failed for good, or cancelled): try the next one at once.
    Sent,
    /// Nothing is due.
    Empty,
    /// Something is due but cannot go now (retry scheduled, sending paused, provider trouble).
    RetryLater,
}

/// Backoff before attempt `attempts + 1`: 1 s doubling to 5 min, with ±20 % jitter so desks
/// that failed together do not retry together.
fn backoff(attempts: i64) -> Duration {
    let base = 1000i64
        .saturating_mul(1 << attempts.clamp(0, 9))
        .min(300_000);
    let jitter = rand::rng().random_range(-base / 5..=base / 5);
    Duration::milliseconds(base + jitter)
}

/// How far apart the desk's and the provider's clocks may be when matching a message we may
/// have sent against the provider's log.
const CLOCK_SKEW: i64 = 10 * 60;

impl<P: Provider> Engine<P> {
    /// Sends the oldest due outbox entry, if any, after settling entries whose outcome is
    /// unknown (see [`Engine::reconcile`]).
    pub async fn send_step(&self) -> Result<SendStep, EngineError> {
        if self.health().sending_paused.is_some() {
            return Ok(SendStep::RetryLater);
        }
        let now = self.now();
        // A send whose answer was lost (a timeout or a 5xx) is settled here, not only at the
        // next start: left alone it would never be sent at all.
        // NOTE: only `unknown` entries (their request has returned; an `in_flight` one may be
        // another process's live send), and only once due for longer than a request may take,
        // so a send still on its way has time to reach the provider's log first. Entries carry
        // no time of their last attempt; when they fell due is the closest bound kept.
        let settle = self.inner.config.provider.request_timeout.as_chrono();
        let settled: Vec<outbox::Entry> = self
            .inner
            .store
            .read(outbox::unresolved)?
            .into_iter()
            .filter(|e| {
                e.state == outbox::State::Unknown
                    && e.next_attempt_at
                        .checked_add_signed(settle)
                        .is_some_and(|at| at <= now)
            })
            .collect();
        if !settled.is_empty() {
            self.reconcile_entries(settled).await?;
        }
        let Some(entry) = self
            .inner
            .store
            .read(|c| outbox::due(c, now, 1))?
            .into_iter()
            .next()
        else {
            return Ok(SendStep::Empty);
        };
        let (Ok(from), Ok(to)) = (
            PhoneNumber::parse_e164(&entry.business_number),
            PhoneNumber::parse_e164(&entry.to_number),
        ) else {
            self.fail(&entry, None, "the number is not a valid phone number")?;
            return Ok(SendStep::Sent);
        };
        // Never text an opted-out number, whatever queued the message; the one exception is
        // the single confirmation queued in the same transaction that recorded the opt-out.
        if entry.kind != outbox::Kind::OptOutConfirmation
            && self
                .inner
                .store
                .read(|c| contacts::is_opted_out(c, to.as_str()))?
        {
            self.cancel(&entry, "the customer opted out")?;
            return Ok(SendStep::Sent);
        }
        // A text-back that waited in the outbox past the freshness limit (the provider was
        // unreachable, the desk asleep) is not sent with the instant template: like a call first
        // seen that late, it becomes a late text-back offer for a person to choose.
        if let (outbox::Kind::TextBack, Some(ended)) = (entry.kind, entry.check_since)
            && now.signed_duration_since(ended)
                > self.inner.config.policy().freshness_limit.as_chrono()
        {
            self.offer_late_instead(&entry)?;
            return Ok(SendStep::Sent);
        }
        if let (outbox::Kind::TextBack, Some(since)) = (entry.kind, entry.check_since) {
            match self.outbound_since(&from, &to, since, None).await {
                Ok(Some(found)) => {
                    tracing::info!(
                        outbox = entry.id,
                        sid = found.sid.as_str(),
                        "caller already texted; text-back skipped"
                    );
                    self.skip_already_messaged(&entry)?;
                    return Ok(SendStep::Sent);
                }
                Ok(None) => {}
                Err(e) => return self.retry_or_pause(&entry, e),
            }
        }
        if !self
            .inner
            .store
            .immediate(|tx| outbox::mark_in_flight(tx, entry.id, now))?
        {
            return Ok(SendStep::Sent);
        }
        let result = self
            .inner
            .provider
            .send_message(&from, &to, &entry.body)
            .await;
        match result {
            Ok(msg) => {
                self.record_sent(&entry, &msg)?;
                Ok(SendStep::Sent)
            }
            Err(e @ ProviderError::OutcomeUnknown { .. }) => {
                tracing::warn!(outbox = entry.id, error = %e, "send outcome unknown; will reconcile before any resend");
                self.inner.store.immediate(|tx| {
                    outbox::mark_unknown(tx, entry.id, &e.to_string(), self.now())
                })?;
                Ok(SendStep::RetryLater)
            }
            Err(ProviderError::Permanent { code, message }) => {
                self.permanent_failure(&entry, &to, code, &message)?;
                Ok(SendStep::Sent)
            }
            Err(e) => self.retry_or_pause(&entry, e),
        }
    }

    /// Resolves entries whose send may have reached the provider (in flight at a crash, or an
    /// unknown answer): if the provider's log has the message, it was sent; otherwise it goes
    /// back to pending. Runs at start and before the sender picks new work.
    pub async fn reconcile(&self) -> Result<usize, EngineError> {
        let entries = self.inner.store.read(outbox::unresolved)?;
        self.reconcile_entries(entries).await
    }

    async fn reconcile_entries(&self, entries: Vec<outbox::Entry>) -> Result<usize, EngineError> {
        let mut resolved = 0;
        for entry in entries {
            let (Ok(from), Ok(to)) = (
                PhoneNumber::parse_e164(&entry.business_number),
                PhoneNumber::parse_e164(&entry.to_number),
            ) else {
                self.fail(&entry, None, "the number is not a valid phone number")?;
                continue;
            };
            let since = entry.created_at - Duration::seconds(CLOCK_SKEW);
            match self
                .outbound_since(&from, &to, since, Some(&entry.body))
                .await
            {
                Ok(Some(msg)) => {
                    tracing::info!(
                        outbox = entry.id,
                        sid = msg.sid.as_str(),
                        "reconciled: the provider had taken the message"
                    );
                    self.record_sent(&entry, &msg)?;
                }
                Ok(None) => {
                    let now = self.now();
                    self.inner.store.immediate(|tx| {
                        outbox::mark_retry(
                            tx,
                            entry.id,
                            now,
                            "not in the provider's log after an interrupted send",
                            now,
                        )
                    })?;
                    self.inner.outbox_ready.notify_one();
                }
                Err(e) => {
                    self.note_provider_result(Err(&e));
                    return Err(e.into());
                }
            }
            resolved += 1;
        }
        Ok(resolved)
    }

    /// An outbound message from `from` to `to` created since `since` (and with this body, when
    /// given), per the provider's log.
    async fn outbound_since(
        &self,
        from: &PhoneNumber,
        to: &PhoneNumber,
        since: DateTime<Utc>,
        body: Option<&str>,
    ) -> Result<Option<MessageRecord>, ProviderError> {
        let day = (since - Duration::days(1)).date_naive();
        let found = self
            .inner
            .provider
            .list_messages_between(from, to, day)
            .await?;
        Ok(found.into_iter().find(|m| {
            m.direction.is_outbound()
                && m.date_created.or(m.date_sent).is_some_and(|t| t >= since)
                && body.is_none_or(|b| m.body == b)
        }))
    }

    fn record_sent(&self, entry: &outbox::Entry, msg: &MessageRecord) -> Result<(), EngineError> {
        let now = self.now();
        let provider = self.inner.provider.name();
        self.inner.store.immediate(|tx| {
            if !outbox::mark_sent(tx, entry.id, msg.sid.as_str(), now)? {
                return Ok(());
            }
            messages::attach_provider_id(
                tx,
                provider,
                entry.id,
                msg.sid.as_str(),
                msg.status.as_wire(),
                now,
            )?;
            if let Some(conv) = entry.conversation_id {
                conversations::touch(
                    tx,
                    conv,
                    now,
                    &entry.body,
                    conversations::Activity::Outbound,
                )?;
                if entry.kind.is_touch() {
                    self.touch_sent(tx, entry, conv, now)?;
                } else if entry.kind == outbox::Kind::Manual {
                    self.person_answered(tx, conv, now)?;
                }
            }
            audit::record(
                tx,
                now,
                entry.author.as_deref().unwrap_or("engine"),
                &format!("sent_{}", entry.kind.as_str()),
                entry
                    .conversation_id
                    .map(|c| format!("conversation:{c}"))
                    .as_deref(),
                Some(msg.sid.as_str()),
            )?;
            Ok(())
        })?;
        self.emit(match entry.kind {
            outbox::Kind::Manual
            | outbox::Kind::FollowUp
            | outbox::Kind::KeywordReply
            | outbox::Kind::OptOutConfirmation
            | outbox::Kind::Escalation => DomainEvent::MessageSent {
                conversation_id: entry.conversation_id,
                outbox_id: entry.id,
            },
            outbox::Kind::TextBack | outbox::Kind::LateTextBack => DomainEvent::TextBackSent {
                call_id: entry.call_id,
                conversation_id: entry.conversation_id,
                outbox_id: entry.id,
                to: entry.to_number.clone(),
            },
        });
        Ok(())
    }

    fn retry_or_pause(
        &self,
        entry: &outbox::Entry,
        e: ProviderError,
    ) -> Result<SendStep, EngineError> {
        let now = self.now();
        let wait = match &e {
            ProviderError::RateLimited {
                retry_after: Some(d),
            } => Duration::from_std(*d)
                .unwrap_or_else(|_| Duration::minutes(5))
                .max(backoff(entry.attempts)),
            _ => backoff(entry.attempts),
        };
        self.inner
            .store
            .immediate(|tx| outbox::mark_retry(tx, entry.id, now + wait, &e.to_string(), now))?;
        // Auth and account errors pause sending; network errors mark the desk offline.
        if !matches!(e, ProviderError::RateLimited { .. }) {
            self.note_provider_result(Err(&e));
        }
        tracing::info!(outbox = entry.id, error = %e, retry_in_ms = wait.num_milliseconds(), "send will be retried");
        Ok(SendStep::RetryLater)
    }

    fn permanent_failure(
        &self,
        entry: &outbox::Entry,
        to: &PhoneNumber,
        code: u32,
        message: &str,
    ) -> Result<(), EngineError> {
        let now = self.now();
        let opt_out = code == textback_providers::OPT_OUT_CODE;
        let landline = matches!(code, 21614 | 21635);
        self.inner.store.immediate(|tx| {
            if opt_out {
                contacts::set_opted_out(tx, to.as_str(), now, "provider_21610")?;
            }
            if landline {
                contacts::set_landline(tx, to.as_str(), now)?;
            }
            Ok(())
        })?;
        if opt_out {
            self.emit(DomainEvent::OptedOut {
                phone: to.as_str().to_owned(),
                source: "provider".into(),
            });
        }
        self.fail(entry, Some(code), message)
    }

    fn fail(&self, entry: &outbox::Entry, code: Option<u32>, why: &str) -> Result<(), EngineError> {
        let now = self.now();
        self.inner.store.immediate(|tx| {
            outbox::mark_failed(tx, entry.id, code.map(i64::from), why, now)?;
            messages::set_outgoing_status(
                tx,
                entry.id,
                "failed",
                code.map(i64::from),
                Some(why),
                now,
            )?;
            audit::record(
                tx,
                now,
                "provider",
                "send_failed",
                entry
                    .conversation_id
                    .map(|c| format!("conversation:{c}"))
                    .as_deref(),
                Some(why),
            )?;
            Ok(())
        })?;
        self.emit(DomainEvent::SendFailed {
            conversation_id: entry.conversation_id,
            outbox_id: entry.id,
            code,
            reason: why.to_owned(),
        });
        Ok(())
    }

    fn cancel(&self, entry: &outbox::Entry, why: &str) -> Result<(), EngineError> {
        let now = self.now();
        self.inner.store.immediate(|tx| {
            outbox::cancel(tx, entry.id, why, now)?;
            messages::set_outgoing_status(tx, entry.id, "failed", None, Some(why), now)?;
            Ok(())
        })?;
        if let Some(conversation_id) = entry.conversation_id {
            self.emit(DomainEvent::ConversationChanged { conversation_id });
        }
        Ok(())
    }

    fn offer_late_instead(&self, entry: &outbox::Entry) -> Result<(), EngineError> {
        let late = textback_domain::Decision::SendLate;
        // NOTE: the action becomes "skip" (nothing was sent, so the dedupe window does not count
        // it); the code "late" is what the inbox offers a late text-back on.
        self.withdraw_text_back(entry, late.code(), &late.describe(), |call_id| {
            DomainEvent::LateTextBackOffered {
                call_id,
                conversation_id: entry.conversation_id,
            }
        })
    }

    fn skip_already_messaged(&self, entry: &outbox::Entry) -> Result<(), EngineError> {
        let reason = textback_domain::SkipReason::AlreadyMessaged;
        self.withdraw_text_back(entry, reason.code(), &reason.describe(), |call_id| {
            DomainEvent::TextBackSkipped {
                call_id,
                conversation_id: entry.conversation_id,
                code: reason.code().to_owned(),
                reason: reason.describe(),
            }
        })
    }

    /// Takes back a queued text-back that will not go out: cancels the entry, removes its
    /// pending copy from the thread, records why on the call's decision, and says so.
    fn withdraw_text_back(
        &self,
        entry: &outbox::Entry,
        code: &str,
        reason: &str,
        event: impl FnOnce(i64) -> DomainEvent,
    ) -> Result<(), EngineError> {
        let now = self.now();
        self.inner.store.immediate(|tx| {
            outbox::cancel(tx, entry.id, reason, now)?;
            messages::delete_unsent(tx, entry.id)?;
            if let Some(call_id) = entry.call_id {
                decisions::mark_superseded(tx, call_id, code, reason)?;
            }
            Ok(())
        })?;
        if let Some(call_id) = entry.call_id {
            self.emit(event(call_id));
        }
        Ok(())
    }
}

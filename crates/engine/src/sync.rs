//! Sync: mirror the provider's calls and messages for each business number, classify calls that
//! have ended, decide text-backs, and list the attachments of new picture messages.
//!
//! Attachments are only *listed* here (one small JSON request per MMS, a bounded batch per
//! pass); their bytes are fetched on first view by the desktop app and cached on disk. A pass
//! therefore never waits on a large download, the always-on daemon (which shows nothing)
//! downloads nothing, and a listing that fails is retried on the next pass: the message itself
//! is already stored.

use chrono::{DateTime, Duration, NaiveDate, Utc};

use textback_domain::ProviderMessageId;
use textback_domain::{
    CallDirection, CallOutcome, CallStatus, Caller, Keyword, Leg, PhoneNumber, RenderContext,
    TextBackFacts, classify, classify_caller, classify_keyword, decide,
};
use textback_providers::{CallRecord, MessageRecord, Provider, ProviderError};
use textback_store::{
    Connection, audit, call_legs, calls, contacts, conversations, decisions, leads, media,
    messages, outbox,
    sync_cursors::{self, Resource},
};

use crate::lifecycle::{KeywordAnswer, Thread};
use crate::{DomainEvent, Engine, EngineError, first_name};

/// What one sync pass did, for tests and logs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncReport {
    pub calls_seen: usize,
    pub calls_classified: usize,
    pub decisions: usize,
    pub messages_new: usize,
    /// Picture messages whose attachments were listed this pass.
    pub media_listed: usize,
}

/// Picture messages whose attachments are listed per pass, newest first; the rest wait for the
/// next pass so a backlog (a first start importing history) cannot stretch one pass.
const MEDIA_LISTINGS_PER_PASS: u32 = 20;

impl<P: Provider> Engine<P> {
    /// One pass over every business number: calls, then decisions, then messages; then the
    /// attachments of new picture messages ([`Engine::sync_media`]). A provider
    /// failure for one number does not stop the others; the first error is returned after all
    /// numbers were tried.
    pub async fn sync_once(&self) -> Result<SyncReport, EngineError> {
        let mut report = SyncReport::default();
        let mut first_err = None;
        let mut all_ok = true;
        let numbers: Vec<PhoneNumber> = self
            .inner
            .config
            .numbers
            .iter()
            .map(|n| n.number.clone())
            .collect();
        for number in &numbers {
            match self.sync_number(number, &mut report).await {
                Ok(()) => {}
                Err(e) => {
                    all_ok = false;
                    if let EngineError::Provider(p) = &e {
                        self.note_provider_result(Err(p));
                    }
                    first_err.get_or_insert(e);
                }
            }
        }
        if all_ok {
            self.note_provider_result(Ok(()));
            self.inner.messages_synced.send_replace(true);
            // NOTE: only once every number's messages are stored (while offline it would only
            // fail again), and never failing the pass: a failed listing is retried next pass.
            match self.sync_media().await {
                Ok(n) => report.media_listed += n,
                Err(e) => {
                    tracing::warn!(error = %e, "listing picture messages' attachments failed; will retry");
                }
            }
        }
        match first_err {
            Some(e) => Err(e),
            None => Ok(report),
        }
    }

    /// Lists the attachments of inbound picture messages not listed yet and records them.
    /// Returns how many messages were listed. A message the provider no longer knows (or
    /// whose listing can never succeed) is marked listed with nothing, so it is not asked
    /// about forever; an unreadable answer skips that message until the next pass; any other
    /// failure (offline, throttled) stops this pass's listing and leaves the rest for the next.
    pub async fn sync_media(&self) -> Result<usize, EngineError> {
        let pending = self
            .inner
            .store
            .read(|c| media::unlisted(c, MEDIA_LISTINGS_PER_PASS))?;
        let mut listed = 0;
        for (message_id, sid) in pending {
            let Ok(message) = ProviderMessageId::parse(&sid) else {
                // Stored from a parsed record, so never expected; do not retry it forever.
                self.inner
                    .store
                    .immediate(|tx| media::record_listed(tx, message_id, &[], self.now()))?;
                continue;
            };
            let items = match self.inner.provider.list_media(&message).await {
                Ok(items) => items,
                Err(
                    e @ (ProviderError::Permanent { .. } | ProviderError::MediaTooLarge { .. }),
                ) => {
                    tracing::warn!(message = %sid, error = %e, "a picture message's attachments cannot be listed; showing it without them");
                    Vec::new()
                }
                Err(e @ ProviderError::Malformed { .. }) => {
                    // This message's answer is broken; the others may be fine. Try it again
                    // next pass without holding them up.
                    tracing::warn!(message = %sid, error = %e, "unreadable media list; will retry");
                    continue;
                }
                // Offline, throttled, credentials: the rest would fail the same way.
                Err(e) => return Err(e.into()),
            };
            let rows: Vec<media::Listed<'_>> = items
                .iter()
                .map(|m| media::Listed {
                    provider_media_id: &m.sid,
                    content_type: &m.content_type,
                    uri: &m.uri,
                })
                .collect();
            let now = self.now();
            let conversation_id = self.inner.store.immediate(|tx| {
                media::record_listed(tx, message_id, &rows, now)?;
                Ok(messages::get(tx, message_id)?.conversation_id)
            })?;
            listed += 1;
            if !rows.is_empty() {
                self.emit(DomainEvent::ConversationChanged { conversation_id });
            }
        }
        Ok(listed)
    }

    async fn sync_number(
        &self,
        number: &PhoneNumber,
        report: &mut SyncReport,
    ) -> Result<(), EngineError> {
        self.sync_calls(number, report).await?;
        if self.inner.config.engine.responder {
            report.decisions += self.decide_ready(number)?;
        }
        self.sync_messages(number, report).await?;
        Ok(())
    }

    /// The day to list from: the provider's date filters are whole UTC days, so go back one day
    /// before the last complete sync (or the first watch) and dedupe by id.
    fn since(
        &self,
        number: &PhoneNumber,
        res: Resource,
    ) -> Result<(NaiveDate, DateTime<Utc>, bool), EngineError> {
        let now = self.now();
        let (cursor, first) = self.inner.store.immediate(|tx| {
            sync_cursors::ensure(tx, &self.inner.account, number.as_str(), res, now)
        })?;
        // First start: import the last day as history. Afterwards: from the last complete sync
        // (less a margin for clock skew), and never later than the oldest call still ringing, so
        // it keeps being listed until it ends. The filter is whole UTC days either way.
        let from = match cursor.synced_through {
            None => cursor.watch_started_at - Duration::days(1),
            Some(synced) => {
                let oldest_open = match res {
                    Resource::Calls => self
                        .inner
                        .store
                        .read(|c| calls::oldest_unclassified_start(c, number.as_str()))?,
                    Resource::Messages => None,
                };
                let margin = synced - Duration::minutes(10);
                oldest_open.map_or(margin, |t| t.min(margin))
            }
        };
        Ok((from.date_naive(), cursor.watch_started_at, first))
    }

    async fn sync_calls(
        &self,
        number: &PhoneNumber,
        report: &mut SyncReport,
    ) -> Result<(), EngineError> {
        let (since, watch_started_at, _) = self.since(number, Resource::Calls)?;
        let started = self.now();
        let provider = &self.inner.provider;
        let (inbound, outbound) = tokio::join!(
            provider.list_calls_to(number, since),
            provider.list_calls_from(number, since)
        );
        let mut records = inbound?;
        records.extend(outbound?);
        report.calls_seen += records.len();
        let now = self.now();
        self.inner.store.immediate(|tx| {
            for r in records.iter().filter(|r| r.parent_sid.is_none()) {
                // A classified call is final: nothing in a later listing changes it.
                let known = calls::by_provider_id(tx, self.inner.provider.name(), r.sid.as_str())?;
                if known.is_some_and(|c| c.outcome.is_some()) {
                    continue;
                }
                self.upsert_call(tx, number, r, watch_started_at, now)?;
            }
            sync_cursors::mark_synced(
                tx,
                &self.inner.account,
                number.as_str(),
                Resource::Calls,
                started,
            )?;
            Ok(())
        })?;
        // Classify calls that have ended (each is revisited on every pass until it has).
        let pending = self
            .inner
            .store
            .read(|c| calls::unclassified(c, number.as_str()))?;
        for call in pending
            .into_iter()
            .filter(|c| CallStatus::from_wire(&c.status).is_terminal())
        {
            if self.classify_call(number, &call).await? {
                report.calls_classified += 1;
            }
        }
        Ok(())
    }

    fn upsert_call(
        &self,
        tx: &Connection,
        number: &PhoneNumber,
        r: &CallRecord,
        watch_started_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<(), textback_store::StoreError> {
        let inbound = r.direction == CallDirection::Inbound;
        let other_party = if inbound { &r.from } else { &r.to };
        let (contact_id, conversation_id) = match classify_caller(other_party, self.region()) {
            Caller::Textable(phone) => {
                let contact = contacts::ensure(tx, phone.as_str(), now)?;
                let conv = conversations::ensure(
                    tx,
                    number.as_str(),
                    contact,
                    r.start_time.unwrap_or(now),
                )?;
                (Some(contact), Some(conv))
            }
            _ => (None, None),
        };
        // A call that started before Textback first watched this number is history: shown,
        // never texted.
        // NOTE: provider times are whole seconds; a call in the same second as the watch start
        // counts as new, not history.
        let watch_second = watch_started_at
            - chrono::Duration::nanoseconds(i64::from(watch_started_at.timestamp_subsec_nanos()));
        let before = r.start_time.is_none_or(|t| t < watch_second);
        calls::upsert(
            tx,
            &calls::Upsert {
                provider: self.inner.provider.name(),
                provider_call_id: r.sid.as_str(),
                business_number: number.as_str(),
                caller_raw: other_party,
                contact_id,
                conversation_id,
                direction: r.direction.as_wire(),
                status: r.status.as_wire(),
                started_at: r.start_time,
                ended_at: r.end_time,
                duration_secs: r.duration_secs.map(i64::from),
                before_textback: before,
            },
            now,
        )?;
        Ok(())
    }

    /// Classifies one ended call (fetching its legs and recordings). Returns whether it was
    /// classified now.
    async fn classify_call(
        &self,
        number: &PhoneNumber,
        call: &calls::Call,
    ) -> Result<bool, EngineError> {
        let provider = &self.inner.provider;
        let now = self.now();
        let parent = Leg {
            status: CallStatus::from_wire(&call.status),
            duration_secs: call.duration_secs.and_then(|d| u32::try_from(d).ok()),
            answered_by: None,
        };
        if call.direction != CallDirection::Inbound.as_wire() {
            // An outbound call is a person at the business calling the customer. One that
            // connected is a person answering the lead: its follow-ups stop, as for a staff text.
            let connected = parent.status == CallStatus::Completed;
            let outcome = if connected { "answered" } else { "no_answer" };
            let done = self.inner.store.immediate(|tx| {
                let done = calls::set_outcome(tx, call.id, outcome, "outbound call", now)?;
                if done && connected && !call.before_textback {
                    self.called_back(tx, call, now)?;
                }
                Ok(done)
            })?;
            return Ok(done);
        }
        let sid = textback_domain::ProviderCallId::parse(&call.provider_call_id)
            .map_err(|e| EngineError::Invalid(e.to_string()))?;
        let (children, recorded) =
            tokio::join!(provider.list_child_legs(&sid), provider.has_recording(&sid));
        let children = children?;
        let recorded = recorded?;
        let legs: Vec<Leg> = children
            .iter()
            .map(|c| Leg {
                status: c.status.clone(),
                duration_secs: c.duration_secs,
                answered_by: c.answered_by.clone(),
            })
            .collect();
        let Some(class) = classify(
            &parent,
            &legs,
            recorded,
            &self.inner.config.classify_rules(number),
        ) else {
            return Ok(false);
        };
        let missed = class.outcome.is_missed();
        let classified = self.inner.store.immediate(|tx| {
            for c in &children {
                call_legs::upsert(
                    tx,
                    call.id,
                    &call_legs::Leg {
                        provider_call_id: c.sid.as_str().to_owned(),
                        to_raw: Some(c.to.clone()),
                        status: c.status.as_wire().to_owned(),
                        duration_secs: c.duration_secs.map(i64::from),
                        answered_by: c.answered_by.clone(),
                    },
                    now,
                )?;
            }
            if !calls::set_outcome(tx, call.id, class.outcome.as_str(), &class.reason, now)? {
                return Ok(false);
            }
            if let Some(conv) = call.conversation_id {
                let at = call.ended_at.or(call.started_at).unwrap_or(now);
                let snippet = if missed {
                    format!("Missed call: {}", class.reason)
                } else {
                    "Answered call".to_owned()
                };
                conversations::touch(tx, conv, at, &snippet, conversations::Activity::Other)?;
            }
            Ok(true)
        })?;
        if classified && missed && !call.before_textback {
            self.emit(DomainEvent::CallMissed {
                call_id: call.id,
                conversation_id: call.conversation_id,
                caller: call.caller_raw.clone(),
                outcome: class.outcome.as_str().to_owned(),
                reason: class.reason.clone(),
            });
        }
        Ok(classified)
    }

    /// Decides every classified, undecided inbound call whose grace window has passed.
    /// Returns how many were decided.
    fn decide_ready(&self, number: &PhoneNumber) -> Result<usize, EngineError> {
        let now = self.now();
        let rules = self.inner.config.policy();
        let ready: Vec<i64> = self
            .inner
            .store
            .read(|c| calls::undecided(c, number.as_str()))?
            .into_iter()
            .filter(|(_, ended)| rules.ready_at(*ended) <= now)
            .map(|(id, _)| id)
            .collect();
        let mut n = 0;
        for id in ready {
            if let Some(event) = self.decide_call(number, id)? {
                n += 1;
                if let Some(event) = event {
                    self.emit(event);
                }
            }
        }
        if n > 0 {
            self.inner.outbox_ready.notify_one();
        }
        Ok(n)
    }

    /// The decision for one call, recorded with its outbox row in one IMMEDIATE transaction:
    /// the checks (opted out? already texted?) and the write cannot interleave with another
    /// writer. Returns None if the call was already decided, else the event to emit, if any.
    fn decide_call(
        &self,
        number: &PhoneNumber,
        call_id: i64,
    ) -> Result<Option<Option<DomainEvent>>, EngineError> {
        let cfg = &self.inner.config;
        let now = self.now();
        let provider = self.inner.provider.name();
        let hours = cfg
            .business_hours()
            .map_err(|e| EngineError::Invalid(e.to_string()))?;
        let event = self.inner.store.immediate(|tx| {
            let call = calls::get(tx, call_id)?;
            if decisions::for_call(tx, call_id)?.is_some() {
                return Ok(None);
            }
            let outcome = call
                .outcome
                .as_deref()
                .and_then(|o| CallOutcome::parse(o).ok())
                .unwrap_or(CallOutcome::NoAnswer);
            let caller = classify_caller(&call.caller_raw, self.region());
            let ended = call.ended_at.or(call.started_at).unwrap_or(now);
            let contact = match call.contact_id {
                Some(id) => Some(contacts::get(tx, id)?),
                None => None,
            };
            let (last_text_back_at, answered_later_at) = match &contact {
                Some(c) => (
                    decisions::last_text_back_at(tx, c.id, number.as_str())?,
                    calls::answered_after(
                        tx,
                        c.id,
                        number.as_str(),
                        call.started_at.unwrap_or(ended),
                    )?,
                ),
                None => (None, None),
            };
            let facts = TextBackFacts {
                direction: CallDirection::from_wire(&call.direction),
                to_business_number: cfg
                    .numbers
                    .iter()
                    .any(|n| n.number.as_str() == call.business_number),
                is_staff: caller.textable().is_some_and(|p| cfg.is_staff(p)),
                caller,
                outcome,
                before_textback: call.before_textback,
                opted_out: contact
                    .as_ref()
                    .is_some_and(|c| c.opted_out() || c.landline),
                last_text_back_at,
                answered_later_at,
                call_ended_at: ended,
                now,
            };
            let decision = decide(&facts, &cfg.policy());
            let mut outbox_id = None;
            let action = match &decision {
                textback_domain::Decision::Send => "send",
                textback_domain::Decision::SendLate => "late",
                textback_domain::Decision::Skip(_) => "skip",
            };
            if let (textback_domain::Decision::Send, Some(contact), Some(conv)) =
                (&decision, &contact, call.conversation_id)
            {
                let template = if hours.is_open(ended) {
                    &cfg.textback.business_hours_template
                } else {
                    &cfg.textback.after_hours_template
                };
                // A missed call outside the dedupe window starts a new lead with its own
                // sequence; an open one from an earlier call closes as superseded.
                if let Some(open) = leads::open_for(tx, conv)? {
                    crate::lifecycle::stop_lead(tx, open.id, "lost", "superseded", "engine", now)?;
                }
                let lead = leads::ensure_open(tx, conv, Some(call.id), now)?;
                let first = first_name(contact.name.as_deref());
                let body = template.render(&RenderContext {
                    business_name: &cfg.business.name,
                    booking_link: &self.booking_link_for(tx, &lead)?,
                    first_name: first.as_deref(),
                });
                let key = format!("textback:{provider}:{}", call.provider_call_id);
                let id = outbox::enqueue(
                    tx,
                    &outbox::New {
                        idempotency_key: &key,
                        kind: outbox::Kind::TextBack,
                        business_number: number.as_str(),
                        to_number: &contact.phone,
                        body: &body,
                        conversation_id: Some(conv),
                        call_id: Some(call.id),
                        check_since: Some(ended),
                        author: None,
                        not_before: now,
                    },
                    now,
                )?;
                if let Some(id) = id {
                    outbox::set_lead(tx, id, lead.id)?;
                    messages::insert_outgoing(tx, provider, conv, id, &body, true, now)?;
                }
                outbox_id = id;
            }
            let is_missed = outcome.is_missed();
            if is_missed
                && !call.before_textback
                && let Some(conv) = call.conversation_id
                && !matches!(
                    decision,
                    textback_domain::Decision::Skip(textback_domain::SkipReason::StaffNumber)
                )
            {
                // A call first seen too late to text is still a missed call outside the dedupe
                // window (a recent text-back would have skipped it): it starts a lead of its own
                // once the open one has had a touch, so the late text-back a person may send
                // opens a fresh sequence instead of going over the old one's cap. An open lead
                // nobody has texted yet takes the call in.
                if decision == textback_domain::Decision::SendLate
                    && let Some(open) = leads::open_for(tx, conv)?
                    && open.touches > 0
                {
                    crate::lifecycle::stop_lead(tx, open.id, "lost", "superseded", "engine", now)?;
                }
                let lead = leads::ensure_open(tx, conv, Some(call.id), now)?;
                leads::record_activity(tx, lead.id, ended)?;
            }
            decisions::insert(
                tx,
                &decisions::New {
                    call_id: call.id,
                    action,
                    code: decision.code(),
                    reason: &decision.describe(),
                    outbox_id,
                },
                now,
            )?;
            audit::record(
                tx,
                now,
                "engine",
                &format!("textback_{action}"),
                Some(&format!("call:{}", call.provider_call_id)),
                Some(&decision.describe()),
            )?;
            Ok(Some(match decision {
                textback_domain::Decision::Send => None,
                textback_domain::Decision::SendLate => Some(DomainEvent::LateTextBackOffered {
                    call_id: call.id,
                    conversation_id: call.conversation_id,
                }),
                textback_domain::Decision::Skip(ref r) if is_missed => {
                    Some(DomainEvent::TextBackSkipped {
                        call_id: call.id,
                        conversation_id: call.conversation_id,
                        code: r.code().to_owned(),
                        reason: r.describe(),
                    })
                }
                textback_domain::Decision::Skip(_) => None,
            }))
        })?;
        Ok(event)
    }

    async fn sync_messages(
        &self,
        number: &PhoneNumber,
        report: &mut SyncReport,
    ) -> Result<(), EngineError> {
        let (since, watch_started_at, _) = self.since(number, Resource::Messages)?;
        let started = self.now();
        let mut records = self.inner.provider.list_messages(number, since).await?;
        // Oldest first, so STOP then START ends opted in, and the snippet is the newest text.
        // NOTE: provider times are whole seconds and sids are random, so texts within one second
        // keep the provider's own order: it lists newest first, hence the reverse before a
        // stable sort.
        records.reverse();
        records.sort_by_key(|m| m.date_created.or(m.date_sent));
        let now = self.now();
        let mut events = Vec::new();
        self.inner.store.immediate(|tx| {
            for m in &records {
                if let Some(e) = self.upsert_message(tx, number, m, watch_started_at, now)? {
                    events.extend(e);
                }
            }
            sync_cursors::mark_synced(
                tx,
                &self.inner.account,
                number.as_str(),
                Resource::Messages,
                started,
            )?;
            Ok(())
        })?;
        report.messages_new += events
            .iter()
            .filter(|e| matches!(e, DomainEvent::MessageReceived { .. }))
            .count();
        for e in events {
            self.emit(e);
        }
        Ok(())
    }

    fn upsert_message(
        &self,
        tx: &Connection,
        number: &PhoneNumber,
        m: &MessageRecord,
        watch_started_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Option<Vec<DomainEvent>>, textback_store::StoreError> {
        let provider = self.inner.provider.name();
        // Already stored with this status: nothing to do (most of every poll's list).
        if messages::by_provider_id(tx, provider, m.sid.as_str())?
            .is_some_and(|row| row.status == m.status.as_wire())
        {
            return Ok(None);
        }
        let outbound = m.direction.is_outbound();
        let other = if outbound { &m.to } else { &m.from };
        let phone = match classify_caller(other, self.region()) {
            Caller::Textable(p) => p.as_str().to_owned(),
            _ => other.trim().to_owned(),
        };
        if phone.is_empty() {
            return Ok(None);
        }
        let at = m.date_created.or(m.date_sent).unwrap_or(now);
        let contact = contacts::ensure(tx, &phone, now)?;
        let conv = conversations::ensure(tx, number.as_str(), contact, at)?;
        let direction = if outbound {
            messages::Direction::Outbound
        } else {
            messages::Direction::Inbound
        };
        // NOTE: read before the upsert: it writes the new status and returns the row as it is
        // afterwards, so comparing with that row would never see a change.
        let before = if outbound {
            messages::by_provider_id(tx, provider, m.sid.as_str())?
                .map(|r| (r.status, r.error_code))
        } else {
            None
        };
        let (row, inserted) = messages::upsert_synced(
            tx,
            &messages::Synced {
                provider,
                provider_message_id: m.sid.as_str(),
                conversation_id: conv,
                direction,
                body: &m.body,
                status: m.status.as_wire(),
                error_code: m.error_code.map(i64::from),
                error_message: m.error_message.as_deref(),
                num_media: i64::from(m.num_media),
                created_at: at,
            },
            now,
        )?;
        let mut events = Vec::new();
        if !inserted {
            let now_is = (m.status.as_wire().to_owned(), m.error_code.map(i64::from));
            if outbound && before.is_some_and(|b| b != now_is) {
                events.push(DomainEvent::MessageStatus {
                    conversation_id: conv,
                    message_id: row.id,
                    status: m.status.as_wire().to_owned(),
                    error_code: m.error_code,
                });
            }
            return Ok(Some(events));
        }
        let history = at < watch_started_at - chrono::Duration::seconds(1);
        if outbound {
            // Staff texting from elsewhere (or another desk): the conversation is answered.
            conversations::touch(tx, conv, at, &m.body, conversations::Activity::Outbound)?;
            if !history
                && !outbox::queued_same(tx, &phone, &m.body, at - chrono::Duration::days(1))?
            {
                self.person_answered(tx, conv, now)?;
            }
            return Ok(Some(events));
        }
        let activity = if history {
            conversations::Activity::Other
        } else {
            conversations::Activity::Inbound
        };
        let snippet = if m.body.is_empty() && m.num_media > 0 {
            "Picture message".to_owned()
        } else {
            m.body.clone()
        };
        conversations::touch(tx, conv, at, &snippet, activity)?;
        // Opt-outs count even from history: never text someone who said stop.
        let keyword = classify_keyword(&m.body);
        let thread = Thread {
            number,
            phone: &phone,
            conversation_id: conv,
        };
        match keyword {
            Keyword::OptOut => {
                contacts::set_opted_out(tx, &phone, at, "keyword")?;
                if let Some(lead) = leads::open_for(tx, conv)? {
                    crate::lifecycle::stop_lead(
                        tx,
                        lead.id,
                        "opted_out",
                        "opted out",
                        "customer",
                        now,
                    )?;
                }
                cancel_queued_to(tx, &phone, "the customer opted out", now)?;
                if !history {
                    self.answer_keyword(tx, KeywordAnswer::OptOutConfirmation, thread, m, now)?;
                }
                audit::record(
                    tx,
                    now,
                    "customer",
                    "opted_out",
                    Some(&format!("contact:{phone}")),
                    Some("keyword"),
                )?;
                events.push(DomainEvent::OptedOut {
                    phone: phone.clone(),
                    source: "keyword".into(),
                });
            }
            Keyword::OptIn => {
                if contacts::clear_opt_out(tx, &phone)? {
                    audit::record(
                        tx,
                        now,
                        "customer",
                        "opted_in",
                        Some(&format!("contact:{phone}")),
                        None,
                    )?;
                    events.push(DomainEvent::OptedIn {
                        phone: phone.clone(),
                    });
                }
            }
            Keyword::MentionsStop => {
                messages::flag(
                    tx,
                    row.id,
                    "mentions stopping: check whether they want no more texts",
                )?;
            }
            Keyword::Help => {
                if !history {
                    self.answer_keyword(tx, KeywordAnswer::Help, thread, m, now)?;
                }
            }
            Keyword::None => {}
        }
        if !history {
            let is_staff =
                PhoneNumber::parse_e164(&phone).is_ok_and(|p| self.inner.config.is_staff(&p));
            if is_staff {
                events.extend(self.staff_texted(tx, &phone, &m.body, now)?);
            } else if !matches!(keyword, Keyword::OptOut | Keyword::OptIn | Keyword::Help) {
                events.extend(self.customer_replied(tx, conv, row.id, &m.body, at, now)?);
            }
            events.push(DomainEvent::MessageReceived {
                conversation_id: conv,
                message_id: row.id,
                from: phone,
                preview: m.body.chars().take(80).collect(),
            });
        }
        Ok(Some(events))
    }
}

/// Cancels everything still queued to `phone` (an opt-out arrived).
fn cancel_queued_to(
    tx: &Connection,
    phone: &str,
    why: &str,
    now: DateTime<Utc>,
) -> Result<(), textback_store::StoreError> {
    for id in outbox::pending_to(tx, phone)? {
        outbox::cancel(tx, id, why, now)?;
        messages::set_outgoing_status(tx, id, "failed", None, Some(why), now)?;
    }
    Ok(())
}

/// Queues the late text-back a person chose for a call missed while offline.
pub(crate) fn queue_late_text_back<P: Provider>(
    engine: &Engine<P>,
    call_id: i64,
    author: Option<&str>,
) -> Result<i64, EngineError> {
    let cfg = &engine.inner.config;
    let now = engine.now();
    let provider = engine.inner.provider.name();
    let id = engine.inner.store.immediate(|tx| {
        let call = calls::get(tx, call_id)?;
        let (Some(contact_id), Some(conv)) = (call.contact_id, call.conversation_id) else {
            return Ok(Err(EngineError::Invalid(
                "this caller's number is hidden or not textable".into(),
            )));
        };
        let contact = contacts::get(tx, contact_id)?;
        if let Some(at) = contact.opted_out_at {
            return Ok(Err(EngineError::OptedOut {
                phone: contact.phone,
                since: format!(" on {}", at.format("%Y-%m-%d")),
            }));
        }
        // The open lead (normally the one this call started) counts it as a touch, unless it
        // has had every touch of its sequence: then it goes as a person's message would.
        let cap = i64::from(cfg.followup.total_touches());
        let lead = leads::open_for(tx, conv)?.filter(|l| l.touches < cap);
        let booking_link = match &lead {
            Some(lead) => engine.booking_link_for(tx, lead)?,
            None => cfg.business.booking_link.clone(),
        };
        let first = first_name(contact.name.as_deref());
        let body = cfg.textback.late_template.render(&RenderContext {
            business_name: &cfg.business.name,
            booking_link: &booking_link,
            first_name: first.as_deref(),
        });
        let key = format!("late:{provider}:{}", call.provider_call_id);
        let Some(id) = outbox::enqueue(
            tx,
            &outbox::New {
                idempotency_key: &key,
                kind: outbox::Kind::LateTextBack,
                business_number: &call.business_number,
                to_number: &contact.phone,
                body: &body,
                conversation_id: Some(conv),
                call_id: Some(call.id),
                check_since: call.ended_at,
                author,
                not_before: now,
            },
            now,
        )?
        else {
            return Ok(Err(EngineError::Invalid(
                "a late text-back for this call was already sent".into(),
            )));
        };
        if let Some(lead) = lead {
            outbox::set_lead(tx, id, lead.id)?;
        }
        messages::insert_outgoing(tx, provider, conv, id, &body, false, now)?;
        conversations::touch(tx, conv, now, &body, conversations::Activity::Outbound)?;
        Ok(Ok(id))
    })??;
    engine.inner.outbox_ready.notify_one();
    Ok(id)
}

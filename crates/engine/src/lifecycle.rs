//! The lead lifecycle: after the text-back, Textback works the lead until it books, says no,
//! opts out, or reaches a person on shift.
//!
//! Everything that must happen later is a durable timer in the `jobs` table, keyed by its
//! intent (`lead:<id>:touch:<n>`, `lead:<id>:unbooked`, `esc:<id>:round:<n>`), so a restart
//! neither loses nor repeats it: a job is claimed and acted on in one `IMMEDIATE` transaction
//! together with the outbox row it queues. Hooks in sync and the sender schedule and cancel
//! these timers as things happen (a touch went out, the customer replied, a person answered,
//! the lead booked).
//!
//! Timers are wall-clock instants compared with the engine's clock on every pass, and the loop
//! wakes at least every [`MAX_SLEEP`]: after the machine sleeps or the clock jumps, whatever
//! fell due fires once (the claim is a state change), and nothing fires twice.
//!
//! Only the responder desk schedules and runs these (they send automatic messages); every desk
//! keeps lead states and closes inactive leads.

use std::time::Duration as StdDuration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use textback_domain::escalation::{self, Trigger};
use textback_domain::{PhoneNumber, RenderContext, compliance};
use textback_providers::{MessageRecord, Provider};
use textback_store::{
    Connection, StoreError, audit, calls, contacts, conversations, escalations, jobs, leads,
    messages, outbox,
};

use crate::{DomainEvent, Engine, EngineError};

/// The longest the loop sleeps between passes, so a clock jump or a resume from sleep is
/// noticed promptly even when the next timer is hours away.
pub const MAX_SLEEP: StdDuration = StdDuration::from_secs(30);

/// How many due jobs one pass takes; the rest wait for the next pass (which starts at once).
const BATCH: u32 = 50;
/// The most passes [`Engine::run_due_timers`] makes before it yields to the loop.
const MAX_PASSES: u32 = 20;

/// Timer keys: unique per intent, forever (a cancelled or done key is never scheduled again).
pub(crate) mod keys {
    pub fn lead_prefix(lead: i64) -> String {
        format!("lead:{lead}:")
    }
    pub fn touch(lead: i64, touch: u32) -> String {
        format!("lead:{lead}:touch:{touch}")
    }
    pub fn touch_prefix(lead: i64) -> String {
        format!("lead:{lead}:touch:")
    }
    pub fn unanswered(lead: i64, message: i64) -> String {
        format!("lead:{lead}:unanswered:{message}")
    }
    pub fn unanswered_prefix(lead: i64) -> String {
        format!("lead:{lead}:unanswered:")
    }
    pub fn unbooked(lead: i64) -> String {
        format!("lead:{lead}:unbooked")
    }
    pub fn page(escalation: i64, round: i64) -> String {
        format!("esc:{escalation}:round:{round}")
    }
    pub fn page_prefix(escalation: i64) -> String {
        format!("esc:{escalation}:")
    }
}

/// What a timer is for, stored as the job's JSON payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub(crate) enum Timer {
    /// Send touch number `touch` (2 = the first follow-up) of the lead's sequence.
    FollowUp { lead: i64, touch: u32 },
    /// The customer replied (message `message`); escalate if nobody has answered by now.
    Unanswered { lead: i64, message: i64 },
    /// Escalate if the lead is still not booked.
    Unbooked { lead: i64 },
    /// Page round `round` of an escalation.
    Page { escalation: i64, round: i64 },
}

impl Timer {
    fn kind(&self) -> &'static str {
        match self {
            Timer::FollowUp { .. } => "followup",
            Timer::Unanswered { .. } => "unanswered",
            Timer::Unbooked { .. } => "unbooked",
            Timer::Page { .. } => "page",
        }
    }

    fn key(&self) -> String {
        match *self {
            Timer::FollowUp { lead, touch } => keys::touch(lead, touch),
            Timer::Unanswered { lead, message } => keys::unanswered(lead, message),
            Timer::Unbooked { lead } => keys::unbooked(lead),
            Timer::Page { escalation, round } => keys::page(escalation, round),
        }
    }
}

/// Schedules a timer (a no-op if that intent was ever scheduled before).
pub(crate) fn schedule(
    tx: &Connection,
    timer: &Timer,
    at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let payload = serde_json::to_string(timer)
        .map_err(|e| StoreError::Invalid(format!("timer payload: {e}")))?;
    jobs::schedule(tx, &timer.key(), timer.kind(), at, &payload, now)
}

/// What running one due timer decided.
pub(crate) enum Ran {
    /// Done: it acted (or found nothing left to do).
    Done(Vec<DomainEvent>),
    /// Not yet: move it to this instant (outside sending hours, say).
    Later(DateTime<Utc>),
}

impl<P: Provider> Engine<P> {
    /// Runs every timer that is due now, each in its own transaction. Returns how many ran.
    pub async fn run_due_timers(&self) -> Result<usize, EngineError> {
        let mut ran = 0;
        let mut passes = 0;
        loop {
            let now = self.now();
            let due = self.inner.store.read(|c| jobs::due(c, now, BATCH))?;
            let batch = due.len();
            for job in due {
                let events = self.inner.store.immediate(|tx| {
                    // Claimed by someone else (a second engine on this file) or cancelled since.
                    if jobs::pending_with_key(tx, &job.key)?.is_none() {
                        return Ok(Vec::new());
                    }
                    let timer: Timer = match serde_json::from_str(&job.payload) {
                        Ok(t) => t,
                        Err(e) => {
                            tracing::error!(job = job.id, error = %e, "unreadable timer; dropped");
                            jobs::complete(tx, job.id, now)?;
                            return Ok(Vec::new());
                        }
                    };
                    match self.run_timer(tx, &timer, now)? {
                        Ran::Done(events) => {
                            jobs::complete(tx, job.id, now)?;
                            Ok(events)
                        }
                        Ran::Later(at) => {
                            jobs::postpone(tx, job.id, at.max(now), now)?;
                            Ok(Vec::new())
                        }
                    }
                })?;
                ran += 1;
                for e in events {
                    self.emit(e);
                }
            }
            // A timer may schedule another for now (an escalation's first page): run until
            // nothing is due. Bounded, in case a clock runs backwards under us.
            passes += 1;
            if batch == 0 || passes >= MAX_PASSES {
                break;
            }
        }
        if ran > 0 {
            self.inner.outbox_ready.notify_one();
        }
        Ok(ran)
    }

    pub(crate) async fn lifecycle_loop(self, cancel: CancellationToken) {
        loop {
            if let Err(e) = self.run_due_timers().await {
                tracing::warn!(error = %e, "running due timers failed; will retry");
            }
            if let Err(e) = self.close_inactive_leads() {
                tracing::warn!(error = %e, "closing inactive leads failed; will retry");
            }
            let wait = match self.inner.store.read(jobs::next_run_at) {
                Ok(Some(at)) => self
                    .inner
                    .clock
                    .real_wait((at - self.now()).to_std().unwrap_or_default()),
                _ => MAX_SLEEP,
            }
            .min(MAX_SLEEP);
            tokio::select! {
                _ = cancel.cancelled() => return,
                _ = self.inner.timers_changed.notified() => {}
                _ = tokio::time::sleep(wait) => {}
            }
        }
    }
}

impl<P: Provider> Engine<P> {
    fn run_timer(
        &self,
        tx: &Connection,
        timer: &Timer,
        now: DateTime<Utc>,
    ) -> Result<Ran, StoreError> {
        match *timer {
            Timer::FollowUp { lead, touch } => self.send_follow_up(tx, lead, touch, now),
            Timer::Unanswered { lead, message } => {
                let l = leads::get(tx, lead)?;
                let inbound = messages::get(tx, message)?;
                if l.closed_at.is_some()
                    || messages::person_answered_after(tx, l.conversation_id, inbound.created_at)?
                {
                    return Ok(Ran::Done(Vec::new()));
                }
                let trigger = Trigger::Unanswered {
                    replied_at: inbound.created_at,
                    minutes: (now - inbound.created_at).num_minutes().max(1),
                };
                Ok(Ran::Done(self.escalate(tx, &l, &trigger.reason(), now)?))
            }
            Timer::Unbooked { lead } => {
                let l = leads::get(tx, lead)?;
                if l.closed_at.is_some() {
                    return Ok(Ran::Done(Vec::new()));
                }
                let trigger = Trigger::Unbooked {
                    after: self.inner.config.escalation.unbooked.after,
                };
                Ok(Ran::Done(self.escalate(tx, &l, &trigger.reason(), now)?))
            }
            Timer::Page { escalation, round } => self.page(tx, escalation, round, now),
        }
    }

    /// Touch `touch` of the lead's sequence, if the lead still wants it and it is a fine hour
    /// to text the customer.
    fn send_follow_up(
        &self,
        tx: &Connection,
        lead_id: i64,
        touch: u32,
        now: DateTime<Utc>,
    ) -> Result<Ran, StoreError> {
        let cfg = &self.inner.config;
        let lead = leads::get(tx, lead_id)?;
        // Stopped since: replied, booked, lost, opted out, superseded, or a person stepped in.
        if lead.closed_at.is_some()
            || !matches!(lead.state.as_str(), "new" | "texted")
            || lead.touches + 1 != i64::from(touch)
        {
            return Ok(Ran::Done(Vec::new()));
        }
        let conv = conversations::get(tx, lead.conversation_id)?;
        let contact = contacts::get(tx, conv.contact_id)?;
        if contact.opted_out() || contact.landline || !cfg.engine.responder {
            return Ok(Ran::Done(Vec::new()));
        }
        let Some(step) = cfg.followup.touch(touch) else {
            return Ok(Ran::Done(Vec::new()));
        };
        let Ok(recipient) = PhoneNumber::parse(&contact.phone, self.region()) else {
            return Ok(Ran::Done(Vec::new()));
        };
        let allowed = cfg.allowed_send_at(&recipient, now);
        if allowed > now {
            return Ok(Ran::Later(allowed));
        }
        let body = step.template.render(&RenderContext {
            business_name: &cfg.business.name,
            booking_link: &self.booking_link_for(tx, &lead)?,
            first_name: crate::first_name(contact.name.as_deref()).as_deref(),
        });
        let key = format!("followup:{lead_id}:{touch}");
        let Some(outbox_id) = outbox::enqueue(
            tx,
            &outbox::New {
                idempotency_key: &key,
                kind: outbox::Kind::FollowUp,
                business_number: &conv.business_number,
                to_number: &contact.phone,
                body: &body,
                conversation_id: Some(conv.id),
                call_id: None,
                check_since: None,
                author: None,
                not_before: now,
            },
            now,
        )?
        else {
            return Ok(Ran::Done(Vec::new()));
        };
        outbox::set_lead(tx, outbox_id, lead_id)?;
        messages::insert_outgoing(
            tx,
            self.inner.provider.name(),
            conv.id,
            outbox_id,
            &body,
            true,
            now,
        )?;
        audit::record(
            tx,
            now,
            "engine",
            "followup_queued",
            Some(&format!("lead:{lead_id}")),
            Some(&format!("touch {touch}")),
        )?;
        Ok(Ran::Done(vec![DomainEvent::ConversationChanged {
            conversation_id: conv.id,
        }]))
    }

    /// The configured booking link with this lead's reference (made on first use), so a
    /// booking made through it names the lead. The reference is random (120 bits), stored
    /// with the lead, and means nothing outside this desk's database.
    pub(crate) fn booking_link_for(
        &self,
        tx: &Connection,
        lead: &leads::Lead,
    ) -> Result<String, StoreError> {
        let link = self.inner.config.business.booking_link.trim();
        let Ok(parsed) = textback_providers::booking::BookingLink::parse(link) else {
            return Ok(link.to_owned());
        };
        let reference = match &lead.booking_ref {
            Some(r) => r.clone(),
            None => {
                let r = new_lead_ref();
                leads::set_ref(tx, lead.id, &r)?;
                r
            }
        };
        Ok(parsed.tracked(&reference))
    }

    /// Escalates a lead for `reason`: opens an escalation and pages now, or adds the reason to
    /// the one already open (nobody is paged again for it).
    pub(crate) fn escalate(
        &self,
        tx: &Connection,
        lead: &leads::Lead,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<DomainEvent>, StoreError> {
        if !self.inner.config.engine.responder || lead.closed_at.is_some() {
            return Ok(Vec::new());
        }
        let raised = escalations::raise(tx, lead.id, lead.conversation_id, reason, now)?;
        let subject = format!("lead:{}", lead.id);
        match raised {
            escalations::Raised::Opened(e) => {
                leads::set_escalated(tx, lead.id, true)?;
                schedule(
                    tx,
                    &Timer::Page {
                        escalation: e.id,
                        round: 0,
                    },
                    now,
                    now,
                )?;
                audit::record(tx, now, "engine", "escalated", Some(&subject), Some(reason))?;
                self.inner.timers_changed.notify_one();
                Ok(vec![DomainEvent::EscalationRaised {
                    escalation_id: e.id,
                    conversation_id: lead.conversation_id,
                    reason: reason.to_owned(),
                }])
            }
            escalations::Raised::Added(_) => {
                audit::record(
                    tx,
                    now,
                    "engine",
                    "escalation_reason_added",
                    Some(&subject),
                    Some(reason),
                )?;
                Ok(vec![DomainEvent::ConversationChanged {
                    conversation_id: lead.conversation_id,
                }])
            }
        }
    }

    /// One paging round: alert and text whoever is on shift (and the backup once it is due),
    /// then schedule the next round until the cap.
    fn page(
        &self,
        tx: &Connection,
        escalation_id: i64,
        round: i64,
        now: DateTime<Utc>,
    ) -> Result<Ran, StoreError> {
        let cfg = &self.inner.config;
        let esc = escalations::get(tx, escalation_id)?;
        if !esc.is_open() {
            return Ok(Ran::Done(Vec::new()));
        }
        let state = textback_domain::escalation::Escalation {
            opened_at: esc.opened_at,
            reasons: esc.reasons.clone(),
            pages_sent: u32::try_from(esc.pages).unwrap_or(u32::MAX),
            backup_added: esc.backup_added,
            acknowledged_at: esc.acked_at,
        };
        let plan = escalation::plan_page(&cfg.escalation, &state, now, &cfg.roster());
        escalations::record_round(tx, esc.id, plan.add_backup, now)?;
        let lead = leads::get(tx, esc.lead_id)?;
        let conv = conversations::get(tx, esc.conversation_id)?;
        let contact = contacts::get(tx, conv.contact_id)?;
        let summary = esc.reasons.last().map_or("needs a person", String::as_str);
        let text = match PhoneNumber::parse_e164(&contact.phone) {
            Ok(number) => escalation::page_text(contact.name.as_deref(), &number, summary),
            Err(_) => format!("Lead {}: {summary}. Reply OK to take it.", contact.phone),
        };
        let mut paged = Vec::new();
        for person in &plan.recipients {
            let mut outbox_id = None;
            if let Some(phone) = &person.phone
                && !contacts::is_opted_out(tx, phone.as_str())?
            {
                let key = format!("page:{}:{round}:{}", esc.id, person.name);
                outbox_id = outbox::enqueue(
                    tx,
                    &outbox::New {
                        idempotency_key: &key,
                        kind: outbox::Kind::Escalation,
                        business_number: &conv.business_number,
                        to_number: phone.as_str(),
                        body: &text,
                        conversation_id: None,
                        call_id: None,
                        check_since: None,
                        author: None,
                        not_before: now,
                    },
                    now,
                )?;
                if let Some(id) = outbox_id {
                    outbox::set_lead(tx, id, lead.id)?;
                }
            }
            escalations::record_page(
                tx,
                esc.id,
                &person.name,
                person.phone.as_ref().map(|p| p.as_str()),
                round,
                outbox_id,
                now,
            )?;
            paged.push(person.name.clone());
        }
        audit::record(
            tx,
            now,
            "engine",
            "escalation_paged",
            Some(&format!("lead:{}", lead.id)),
            Some(&format!("round {round}: {}", paged.join(", "))),
        )?;
        if let Some(next) = plan.next_page_at {
            schedule(
                tx,
                &Timer::Page {
                    escalation: esc.id,
                    round: round + 1,
                },
                next,
                now,
            )?;
        }
        Ok(Ran::Done(vec![DomainEvent::EscalationPaged {
            escalation_id: esc.id,
            conversation_id: esc.conversation_id,
            staff: paged,
            desks: plan.desks(),
            summary: text,
            round,
        }]))
    }

    /// Closes open leads with no activity for the configured period.
    fn close_inactive_leads(&self) -> Result<(), EngineError> {
        let now = self.now();
        let Ok(period) = chrono::Duration::from_std(self.inner.config.leads.inactivity.as_std())
        else {
            return Ok(());
        };
        let cutoff = now - period;
        // Most passes find nothing: look before taking the write lock.
        if self
            .inner
            .store
            .read(|c| leads::open_inactive_since(c, cutoff))?
            .is_empty()
        {
            return Ok(());
        }
        let events = self.inner.store.immediate(|tx| {
            let mut events = Vec::new();
            for lead in leads::open_inactive_since(tx, cutoff)? {
                if stop_lead(tx, lead.id, "lost", "inactive", "engine", now)? {
                    events.push(DomainEvent::ConversationChanged {
                        conversation_id: lead.conversation_id,
                    });
                }
            }
            Ok(events)
        })?;
        for e in events {
            self.emit(e);
        }
        Ok(())
    }
}

/// Closes a lead (booked, lost, opted out, superseded, inactive) and stops everything that
/// would still work it: its timers, its queued follow-ups, its open escalation. Returns false
/// if it was already closed. For the desk's "mark booked/lost" as much as for the engine.
pub fn stop_lead(
    tx: &Connection,
    lead_id: i64,
    state: &str,
    reason: &str,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    if !leads::close(tx, lead_id, state, reason, now)? {
        return Ok(false);
    }
    stop_automation(tx, lead_id, &format!("the lead was {reason}"), now)?;
    if let Some(open) = escalations::open_for_lead(tx, lead_id)? {
        escalations::acknowledge(tx, open.id, &format!("{actor} ({reason})"), now)?;
        jobs::cancel_prefixed(tx, &keys::page_prefix(open.id), now)?;
    }
    audit::record(
        tx,
        now,
        actor,
        &format!("lead_{state}"),
        Some(&format!("lead:{lead_id}")),
        Some(reason),
    )?;
    Ok(true)
}

/// Stops the lead's follow-up sequence: its pending touch timers and any follow-up queued but
/// not yet sent.
pub(crate) fn stop_sequence(
    tx: &Connection,
    lead_id: i64,
    why: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    jobs::cancel_prefixed(tx, &keys::touch_prefix(lead_id), now)?;
    for id in outbox::cancel_for_lead(tx, lead_id, why, now)? {
        messages::delete_unsent(tx, id)?;
    }
    Ok(())
}

/// Stops every timer of a lead and its queued follow-ups.
fn stop_automation(
    tx: &Connection,
    lead_id: i64,
    why: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    stop_sequence(tx, lead_id, why, now)?;
    jobs::cancel_prefixed(tx, &keys::lead_prefix(lead_id), now)?;
    Ok(())
}

/// Hooks: sync and the sender call these inside their transactions as things happen.
impl<P: Provider> Engine<P> {
    /// A touch of a lead's sequence (text-back or follow-up) was accepted by the provider:
    /// count it, and schedule the next touch and the "still unbooked" check.
    pub(crate) fn touch_sent(
        &self,
        tx: &Connection,
        entry: &outbox::Entry,
        conversation_id: i64,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let lead = match outbox::lead_of(tx, entry.id)? {
            Some(id) => Some(leads::get(tx, id)?),
            // A late text-back queued without a lead was for one whose sequence was complete.
            None if entry.kind == outbox::Kind::LateTextBack => None,
            None => leads::open_for(tx, conversation_id)?,
        };
        let Some(lead) = lead.filter(|l| l.closed_at.is_none()) else {
            return Ok(());
        };
        if lead.state == "new" {
            leads::set_state(tx, lead.id, "texted", false, now)?;
        }
        leads::record_touch(tx, lead.id, now)?;
        let lead = leads::get(tx, lead.id)?;
        let cfg = &self.inner.config;
        if !cfg.engine.responder || lead.state != "texted" {
            return Ok(());
        }
        let touches = u32::try_from(lead.touches).unwrap_or(u32::MAX);
        if let Ok(to) = PhoneNumber::parse_e164(&entry.to_number)
            && let Some(at) = cfg.next_follow_up_at(touches, now, &to)
        {
            schedule(
                tx,
                &Timer::FollowUp {
                    lead: lead.id,
                    touch: touches + 1,
                },
                at,
                now,
            )?;
        }
        if touches == 1
            && let Some(at) = cfg.escalation.unbooked_due(now)
        {
            schedule(tx, &Timer::Unbooked { lead: lead.id }, at, now)?;
        }
        self.inner.timers_changed.notify_one();
        Ok(())
    }

    /// A person wrote in the thread (from this desk, another desk, or the provider's console):
    /// the sequence stops and nobody needs paging for "no answer".
    pub(crate) fn person_answered(
        &self,
        tx: &Connection,
        conversation_id: i64,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let Some(lead) = leads::open_for(tx, conversation_id)? else {
            return Ok(());
        };
        stop_sequence(tx, lead.id, "a person answered", now)?;
        jobs::cancel_prefixed(tx, &keys::unanswered_prefix(lead.id), now)?;
        leads::record_activity(tx, lead.id, now)?;
        Ok(())
    }

    /// A call from the business to the customer connected: a person has the lead in hand, so
    /// its follow-ups and "nobody answered" check stop. A call that started before the lead
    /// opened (an older call synced late, after an outage) says nothing about this lead.
    pub(crate) fn called_back(
        &self,
        tx: &Connection,
        call: &calls::Call,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let Some(conversation_id) = call.conversation_id else {
            return Ok(());
        };
        let Some(lead) = leads::open_for(tx, conversation_id)? else {
            return Ok(());
        };
        if call.started_at.is_none_or(|t| t < lead.opened_at) {
            return Ok(());
        }
        self.person_answered(tx, conversation_id, now)?;
        audit::record(
            tx,
            now,
            "engine",
            "sequence_stopped",
            Some(&format!("lead:{}", lead.id)),
            Some(&format!("staff called back ({})", call.provider_call_id)),
        )
    }

    /// The customer replied (not a keyword): the lead is replied, its sequence stops, the
    /// "nobody answered" timer starts, and an urgent word escalates at once.
    pub(crate) fn customer_replied(
        &self,
        tx: &Connection,
        conversation_id: i64,
        message_id: i64,
        body: &str,
        at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Vec<DomainEvent>, StoreError> {
        let Some(lead) = leads::open_for(tx, conversation_id)? else {
            return Ok(Vec::new());
        };
        leads::record_reply(tx, lead.id, at)?;
        if matches!(lead.state.as_str(), "new" | "texted") {
            leads::set_state(tx, lead.id, "replied", false, now)?;
            audit::record(
                tx,
                now,
                "customer",
                "lead_replied",
                Some(&format!("lead:{}", lead.id)),
                None,
            )?;
        }
        stop_sequence(tx, lead.id, "the customer replied", now)?;
        let cfg = &self.inner.config;
        if !cfg.engine.responder {
            return Ok(Vec::new());
        }
        let hours = cfg
            .business_hours()
            .map_err(|e| StoreError::Invalid(e.to_string()))?;
        if let Some(due) = cfg.escalation.unanswered_due(at, &hours) {
            schedule(
                tx,
                &Timer::Unanswered {
                    lead: lead.id,
                    message: message_id,
                },
                due,
                now,
            )?;
            self.inner.timers_changed.notify_one();
        }
        match cfg.escalation.urgent_match(body) {
            Some(phrase) => {
                let lead = leads::get(tx, lead.id)?;
                let trigger = Trigger::Urgent {
                    phrase: phrase.to_owned(),
                };
                self.escalate(tx, &lead, &trigger.reason(), now)
            }
            None => Ok(Vec::new()),
        }
    }

    /// A member of staff texted the business number: "OK" acknowledges the newest open
    /// escalation paged to their phone.
    pub(crate) fn staff_texted(
        &self,
        tx: &Connection,
        phone: &str,
        body: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<DomainEvent>, StoreError> {
        if !escalation::is_ack_text(body) {
            return Ok(Vec::new());
        }
        let Some(esc) = escalations::newest_open_paged_to(tx, phone)? else {
            return Ok(Vec::new());
        };
        let by = self
            .inner
            .config
            .staff
            .iter()
            .find(|s| s.phone.as_ref().is_some_and(|p| p.as_str() == phone))
            .map_or_else(|| phone.to_owned(), |s| s.name.clone());
        Ok(acknowledge(tx, esc.id, &format!("{by} (by text)"), now)?
            .into_iter()
            .collect())
    }
}

/// Acknowledges an escalation: paging stops. Returns the event, or None if it was already
/// acknowledged (the first acknowledgement wins).
pub fn acknowledge(
    tx: &Connection,
    escalation_id: i64,
    by: &str,
    now: DateTime<Utc>,
) -> Result<Option<DomainEvent>, StoreError> {
    let esc = escalations::get(tx, escalation_id)?;
    if !escalations::acknowledge(tx, esc.id, by, now)? {
        return Ok(None);
    }
    jobs::cancel_prefixed(tx, &keys::page_prefix(esc.id), now)?;
    leads::record_activity(tx, esc.lead_id, now)?;
    audit::record(
        tx,
        now,
        by,
        "escalation_acknowledged",
        Some(&format!("lead:{}", esc.lead_id)),
        None,
    )?;
    Ok(Some(DomainEvent::EscalationAcknowledged {
        escalation_id: esc.id,
        conversation_id: esc.conversation_id,
        by: by.to_owned(),
    }))
}

/// An automatic answer to a keyword.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeywordAnswer {
    /// "You're unsubscribed": at most one per opt-out, only for the variants the provider does
    /// not confirm itself.
    OptOutConfirmation,
    /// The HELP text: at most once per number per help interval, never to an opted-out number,
    /// not when the provider answers that keyword itself.
    Help,
}

/// The thread a keyword came in on.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Thread<'a> {
    pub number: &'a PhoneNumber,
    pub phone: &'a str,
    pub conversation_id: i64,
}

/// Keyword replies (responder only).
impl<P: Provider> Engine<P> {
    /// Queues `answer` to `inbound` when the compliance rules say to.
    pub(crate) fn answer_keyword(
        &self,
        tx: &Connection,
        answer: KeywordAnswer,
        thread: Thread<'_>,
        inbound: &MessageRecord,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let cfg = &self.inner.config;
        if !cfg.engine.responder {
            return Ok(());
        }
        let phone = thread.phone;
        let (decision, kind, key, template) = match answer {
            KeywordAnswer::OptOutConfirmation => {
                let opted_out_at = contacts::find_by_phone(tx, phone)?
                    .and_then(|c| c.opted_out_at)
                    .unwrap_or(now);
                let already =
                    outbox::latest_of_kind_to(tx, phone, outbox::Kind::OptOutConfirmation)?
                        .is_some_and(|at| at >= opted_out_at);
                let decision = compliance::opt_out_confirmation(
                    &cfg.compliance,
                    &inbound.body,
                    already,
                    opted_out_at,
                    now,
                );
                let template = &cfg.compliance.opt_out_confirmation;
                (
                    decision,
                    outbox::Kind::OptOutConfirmation,
                    "optout-confirm",
                    template,
                )
            }
            KeywordAnswer::Help => {
                let decision = compliance::help_reply(
                    &cfg.compliance,
                    &inbound.body,
                    contacts::is_opted_out(tx, phone)?,
                    outbox::latest_of_kind_to(tx, phone, outbox::Kind::KeywordReply)?,
                    now,
                );
                let template = &cfg.compliance.help_reply;
                (decision, outbox::Kind::KeywordReply, "help", template)
            }
        };
        if decision != compliance::ReplyDecision::Send {
            return Ok(());
        }
        let key = format!("{key}:{}", inbound.sid.as_str());
        let body = cfg.render_reply(template);
        let queued = outbox::enqueue(
            tx,
            &outbox::New {
                idempotency_key: &key,
                kind,
                business_number: thread.number.as_str(),
                to_number: phone,
                body: &body,
                conversation_id: Some(thread.conversation_id),
                call_id: None,
                check_since: None,
                author: None,
                not_before: now,
            },
            now,
        )?;
        if let Some(id) = queued {
            messages::insert_outgoing(
                tx,
                self.inner.provider.name(),
                thread.conversation_id,
                id,
                &body,
                true,
                now,
            )?;
            audit::record(
                tx,
                now,
                "engine",
                &format!("queued_{}", kind.as_str()),
                Some(&format!("conversation:{}", thread.conversation_id)),
                None,
            )?;
        }
        Ok(())
    }
}

/// A fresh booking reference: 15 random bytes in URL-safe base64 (20 characters).
fn new_lead_ref() -> String {
    use base64::Engine as _;
    let bytes: [u8; 15] = rand::random();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

//! Bookings from a calendar: a booking made through a lead's tracked link (or by the lead's
//! phone number) marks the lead booked and stops everything that would still chase it; a
//! cancellation reopens it for a person to follow up. Staff marking a lead booked by hand is
//! the other source and needs nothing here.
//!
//! Any [`BookingSource`] works; Cal.com's v2 API is the one shipped
//! ([`calcom_source`]). Its polling cursor lives in the store, so a restart resumes where the
//! last poll ended, and a booking seen twice is applied once (keyed by source and uid).

use std::time::Duration as StdDuration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use textback_domain::HumanDuration;
use textback_providers::booking::{Booking, BookingCursor, BookingSource, BookingStatus};
use textback_providers::calcom::CalcomClient;
use textback_providers::{Provider, Secret};
use textback_store::{Connection, StoreError, audit, bookings, leads};

use crate::{DomainEvent, Engine, EngineError, Running};

/// `[bookings.calcom]`: poll Cal.com for bookings made through tracked links.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CalcomSettings {
    pub enabled: bool,
    /// Cal.com's API origin (self-hosted: yours). https only, except 127.0.0.1 for tests.
    pub api_base: String,
    pub poll_interval: HumanDuration,
    /// Only these event types; empty: all of the account's.
    pub event_type_ids: Vec<u64>,
    /// How far back the first poll reads.
    pub lookback: HumanDuration,
}

impl Default for CalcomSettings {
    fn default() -> Self {
        Self {
            enabled: false,
            api_base: "https://api.cal.com".into(),
            poll_interval: HumanDuration::from_secs(120),
            event_type_ids: Vec::new(),
            lookback: HumanDuration::from_secs(30 * 24 * 3600),
        }
    }
}

/// `[bookings]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BookingSettings {
    pub calcom: CalcomSettings,
}

/// The environment variable holding the Cal.com API key on a headless install.
pub const CALCOM_KEY_ENV: &str = "TEXTBACK_CALCOM_API_KEY";
/// The keychain entry (service `textback`) holding it on a desk.
pub const CALCOM_KEY_ENTRY: &str = "calcom";

/// The Cal.com source when it is switched on and has a key: `None` when off, `Err` with a
/// message a person can act on when it is on but cannot be used.
pub fn calcom_source(
    settings: &CalcomSettings,
    vars: &dyn Fn(&str) -> Option<String>,
    timeout: StdDuration,
) -> Option<Result<CalcomClient, String>> {
    if !settings.enabled {
        return None;
    }
    let key = vars(CALCOM_KEY_ENV)
        .filter(|k| !k.trim().is_empty())
        .or_else(|| {
            keyring::Entry::new(crate::credentials::KEYCHAIN_SERVICE, CALCOM_KEY_ENTRY)
                .and_then(|e| e.get_password())
                .ok()
        });
    let Some(key) = key else {
        return Some(Err(format!(
            "Cal.com is switched on but has no API key: set {CALCOM_KEY_ENV} or save it in Settings"
        )));
    };
    Some(
        CalcomClient::new(&settings.api_base, Secret::new(key.trim()), timeout)
            .map(|c| c.with_event_types(settings.event_type_ids.iter().copied()))
            .map_err(|e| e.to_string()),
    )
}

impl<P: Provider> Engine<P> {
    /// Polls `source` once and applies what changed. Returns how many bookings changed a lead.
    pub async fn poll_bookings<B: BookingSource>(&self, source: &B) -> Result<usize, EngineError> {
        let now = self.now();
        let stored = self
            .inner
            .store
            .read(|c| bookings::cursor(c, source.name()))?;
        let lookback = self.inner.config.bookings.calcom.lookback.as_chrono();
        let cursor = match stored {
            Some(text) => BookingCursor::from_stored(text),
            None => source.start_cursor(now - lookback),
        };
        let page = match source.bookings_since(&cursor).await {
            Ok(page) => page,
            Err(e) => return Err(EngineError::Invalid(format!("{}: {e}", source.name()))),
        };
        let (changed, events) = self.inner.store.immediate(|tx| {
            let mut changed = 0;
            let mut events = Vec::new();
            for b in &page.bookings {
                if let Some(conversation_id) = apply(tx, b, now)? {
                    changed += 1;
                    events.push(DomainEvent::ConversationChanged { conversation_id });
                }
            }
            bookings::set_cursor(tx, source.name(), page.next_cursor.as_str(), now)?;
            Ok((changed, events))
        })?;
        for e in events {
            self.emit(e);
        }
        Ok(changed)
    }

    /// Starts polling the calendar integrations the config switches on (Cal.com) as part of
    /// `running`. A misconfigured one is logged and skipped; texting goes on without it.
    pub fn start_bookings(&self, running: &mut Running, vars: &dyn Fn(&str) -> Option<String>) {
        let cfg = &self.inner.config;
        match calcom_source(
            &cfg.bookings.calcom,
            vars,
            cfg.provider.request_timeout.as_std(),
        ) {
            None => {}
            Some(Ok(client)) => {
                self.spawn_booking_poll(running, client, cfg.bookings.calcom.poll_interval.as_std())
            }
            Some(Err(message)) => tracing::warn!(%message, "Cal.com bookings are not polled"),
        }
    }

    /// Polls `source` every `interval` until the engine shuts down (part of `running`).
    pub fn spawn_booking_poll<B: BookingSource>(
        &self,
        running: &mut Running,
        source: B,
        interval: StdDuration,
    ) {
        let me = self.clone();
        let cancel: CancellationToken = running.token();
        running.tasks.spawn(async move {
            let passed = tokio::select! {
                _ = cancel.cancelled() => return,
                passed = me.check_store() => passed,
            };
            if !passed {
                return;
            }
            let interval = interval.max(StdDuration::from_secs(10));
            let mut failing = false;
            loop {
                match me.poll_bookings(&source).await {
                    Ok(_) => failing = false,
                    // Said once per run of failures, not every poll.
                    Err(e) if !failing => {
                        failing = true;
                        tracing::warn!(error = %e, "polling bookings failed; will retry");
                    }
                    Err(e) => tracing::debug!(error = %e, "polling bookings still failing"),
                }
                tokio::select! {
                    _ = cancel.cancelled() => return,
                    _ = tokio::time::sleep(interval) => {}
                }
            }
        });
    }
}

/// Records one booking and moves its lead. Returns the conversation whose lead changed.
fn apply(tx: &Connection, b: &Booking, now: DateTime<Utc>) -> Result<Option<i64>, StoreError> {
    let lead = find_lead(tx, b)?;
    let attendee_phone = b
        .attendee
        .as_ref()
        .and_then(|a| a.phone.as_ref())
        .map(|p| p.as_str().to_owned());
    let (stored, is_news) = bookings::upsert(
        tx,
        &bookings::Seen {
            source: b.source,
            external_id: b.uid.as_str(),
            lead_id: lead.as_ref().map(|l| l.id),
            status: b.status.as_str(),
            starts_at: Some(b.start),
            attendee_name: b.attendee.as_ref().map(|a| a.name.as_str()),
            attendee_phone: attendee_phone.as_deref(),
        },
        now,
    )?;
    let Some(lead_id) = stored.lead_id else {
        return Ok(None);
    };
    if !is_news {
        return Ok(None);
    }
    let lead = leads::get(tx, lead_id)?;
    let subject = format!("lead:{lead_id}");
    if b.status.is_booked() {
        if lead.closed_at.is_none() {
            let reason = format!("booked via {}", b.source);
            crate::lifecycle::stop_lead(tx, lead_id, "booked", &reason, b.source, now)?;
            return Ok(Some(lead.conversation_id));
        }
        return Ok(None);
    }
    if matches!(b.status, BookingStatus::Cancelled | BookingStatus::Rejected)
        && lead.state == "booked"
        && leads::reopen(tx, lead_id, "replied", now)?
    {
        audit::record(
            tx,
            now,
            b.source,
            "booking_cancelled",
            Some(&subject),
            Some("the lead is open again for a person to follow up"),
        )?;
        return Ok(Some(lead.conversation_id));
    }
    Ok(None)
}

/// The lead a booking is for: its tracked link's reference, else the booking it replaced,
/// else the attendee's phone number's open lead.
fn find_lead(tx: &Connection, b: &Booking) -> Result<Option<leads::Lead>, StoreError> {
    if let Some(r) = &b.lead_ref
        && let Some(lead) = leads::by_ref(tx, r.as_str())?
    {
        return Ok(Some(lead));
    }
    if let Some(from) = &b.rescheduled_from
        && let Some(prev) = bookings::find(tx, b.source, from.as_str())?
        && let Some(id) = prev.lead_id
    {
        return Ok(Some(leads::get(tx, id)?));
    }
    if let Some(phone) = b.attendee.as_ref().and_then(|a| a.phone.as_ref()) {
        return leads::open_for_phone(tx, phone.as_str());
    }
    Ok(None)
}

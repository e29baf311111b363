//! The do-not-text list screen: the opted-out contacts, numbers added or removed by hand, and
//! CSV import and export (the file format and its hostile-input rules are
//! `textback_domain::dnt`'s).
//!
//! Every change runs in one `IMMEDIATE` transaction with its audit-log entry, and a number put
//! on the list also has its queued messages cancelled, as a STOP from the customer would.
//! Nothing is sent to a listed number from then on: the engine checks the list before every
//! send, and a person's reply is refused with `opted_out`.

use chrono::{DateTime, Utc};
use textback_domain::dnt::{DntEntry, ImportLimits, RowIssue, export_csv, import_csv};
use textback_domain::{PhoneNumber, Region};
use textback_store::{Connection, Store, StoreError, audit, contacts, messages, outbox};

use crate::dto::{DntImportResult, DntNumber, DntRowIssue, IpcError};
use crate::inbox::rfc3339;
use crate::lead_settings::at;

/// Where a number added on this screen came from, as the list shows it.
pub const SOURCE_STAFF: &str = "staff";
/// Where an imported number came from when its row names no source.
pub const SOURCE_IMPORT: &str = "import";

const MAX_REASON_CHARS: usize = 200;

/// Who did it and when, for the audit log.
#[derive(Debug, Clone, Copy)]
pub struct Actor<'a> {
    pub name: &'a str,
    pub now: DateTime<Utc>,
}

fn subject(phone: &str) -> String {
    format!("contact:{phone}")
}

/// A number typed on the screen, read as the business's country's when it has no "+".
pub fn parse_phone(raw: &str, region: Region) -> Result<PhoneNumber, IpcError> {
    PhoneNumber::parse(raw, region).map_err(|e| at("phone", e))
}

fn dto(c: contacts::Contact) -> DntNumber {
    DntNumber {
        phone: c.phone,
        name: c.name,
        opted_out_at: c.opted_out_at.map(rfc3339),
        source: c.opt_out_source,
    }
}

/// Every number on the list, oldest opt-out first.
pub fn list(store: &Store) -> Result<Vec<DntNumber>, IpcError> {
    Ok(store
        .read(contacts::opted_out)?
        .into_iter()
        .map(dto)
        .collect())
}

/// Cancels what is still queued to `phone`, as the engine does for a STOP.
fn cancel_queued(tx: &Connection, phone: &str, now: DateTime<Utc>) -> Result<(), StoreError> {
    let why = "the number is on the do-not-text list";
    for id in outbox::pending_to(tx, phone)? {
        outbox::cancel(tx, id, why, now)?;
        messages::set_outgoing_status(tx, id, "failed", None, Some(why), now)?;
    }
    Ok(())
}

/// Puts `phone` on the list. Returns it as listed and whether it was newly added (a number
/// already on the list keeps its first opt-out time and source).
fn put_on_list(
    tx: &Connection,
    phone: &str,
    at: DateTime<Utc>,
    source: &str,
    actor: Actor<'_>,
    detail: &str,
) -> Result<bool, StoreError> {
    if contacts::is_opted_out(tx, phone)? {
        return Ok(false);
    }
    contacts::set_opted_out(tx, phone, at, source)?;
    cancel_queued(tx, phone, actor.now)?;
    audit::record(
        tx,
        actor.now,
        actor.name,
        "opted_out",
        Some(&subject(phone)),
        Some(detail),
    )?;
    Ok(true)
}

/// Adds a number by hand. Returns the listed entry and whether it was new.
pub fn add(
    store: &Store,
    phone: &PhoneNumber,
    actor: Actor<'_>,
) -> Result<(DntNumber, bool), IpcError> {
    let phone = phone.as_str().to_owned();
    let (added, contact) = store.immediate(|tx| {
        let added = put_on_list(
            tx,
            &phone,
            actor.now,
            SOURCE_STAFF,
            actor,
            "added to the do-not-text list by hand",
        )?;
        Ok((added, contacts::find_by_phone(tx, &phone)?))
    })?;
    let contact =
        contact.ok_or_else(|| IpcError::new("internal", "the listed number was not found"))?;
    Ok((dto(contact), added))
}

/// Takes a number off the list (the customer asked to be texted again). The reason goes to
/// the audit log. `not_found` when the number is not on the list.
pub fn remove(
    store: &Store,
    phone: &PhoneNumber,
    reason: Option<&str>,
    actor: Actor<'_>,
) -> Result<(), IpcError> {
    let reason = reason.map(str::trim).filter(|r| !r.is_empty());
    if reason.is_some_and(|r| r.chars().count() > MAX_REASON_CHARS) {
        return Err(at(
            "reason",
            format!("keep the reason under {MAX_REASON_CHARS} characters"),
        ));
    }
    let detail = match reason {
        Some(r) => format!("removed from the do-not-text list by hand: {r}"),
        None => "removed from the do-not-text list by hand".to_owned(),
    };
    let phone = phone.as_str().to_owned();
    let removed = store.immediate(|tx| {
        if !contacts::clear_opt_out(tx, &phone)? {
            return Ok(false);
        }
        audit::record(
            tx,
            actor.now,
            actor.name,
            "opted_in",
            Some(&subject(&phone)),
            Some(&detail),
        )?;
        Ok(true)
    })?;
    if removed {
        Ok(())
    } else {
        Err(IpcError::new(
            "not_found",
            format!("{phone} is not on the do-not-text list"),
        ))
    }
}

fn issues(list: &[RowIssue]) -> Vec<DntRowIssue> {
    list.iter()
        .map(|i| DntRowIssue {
            line: u32::try_from(i.line).unwrap_or(u32::MAX),
            reason: i.reason.clone(),
        })
        .collect()
}

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Imports a CSV of numbers. Rows that cannot be used are reported by line and the rest are
/// imported; only a file over the size or row cap, or with a header naming no phone column, is
/// refused whole (`invalid_input`, "csv: …"). Returns the result and the numbers newly added.
pub fn import(
    store: &Store,
    csv: &str,
    region: Region,
    actor: Actor<'_>,
) -> Result<(DntImportResult, Vec<String>), IpcError> {
    let parsed =
        import_csv(csv.as_bytes(), region, &ImportLimits::default()).map_err(|e| at("csv", e))?;
    let added = store.immediate(|tx| {
        let mut added = Vec::new();
        for e in &parsed.entries {
            let phone = e.phone.as_str();
            // NOTE: a date in the future would read as "opted out in 2099"; the opt-out
            // holds from now either way.
            let when = e.opted_out_at.map_or(actor.now, |t| t.min(actor.now));
            let source = e.source.as_deref().unwrap_or(SOURCE_IMPORT);
            if put_on_list(tx, phone, when, source, actor, "imported from a CSV file")? {
                added.push(phone.to_owned());
            }
        }
        Ok(added)
    })?;
    let result = DntImportResult {
        added: count(added.len()),
        already_listed: count(parsed.entries.len() - added.len()),
        duplicates_merged: count(parsed.duplicates_merged),
        rejected: issues(&parsed.rejected),
        warnings: issues(&parsed.warnings),
    };
    Ok((result, added))
}

/// The list as CSV (`phone,opted_out_at,source,note`, CRLF), safe to open in a spreadsheet:
/// cells a spreadsheet would run as formulas are quoted off.
pub fn export(store: &Store) -> Result<String, IpcError> {
    let entries: Vec<DntEntry> = store
        .read(contacts::opted_out)?
        .into_iter()
        .filter_map(|c| match PhoneNumber::parse_e164(&c.phone) {
            Ok(phone) => Some(DntEntry {
                phone,
                opted_out_at: c.opted_out_at,
                source: c.opt_out_source,
                note: None,
            }),
            Err(e) => {
                // Stored numbers are E.164; one that is not cannot be texted either.
                tracing::warn!(phone = %c.phone, error = %e, "left out of the export");
                None
            }
        })
        .collect();
    Ok(export_csv(&entries))
}

//! The inbox as the UI sees it: store queries mapped to the IPC payloads. Synchronous (call
//! from a blocking task); every function takes the store and returns DTOs or an [`IpcError`].

use chrono::{DateTime, SecondsFormat, Utc};
use std::collections::HashMap;

use textback_store::{
    Connection, Store, StoreError, audit, calls, contacts, conversations, decisions, escalations,
    leads, media, messages, notes,
};

use crate::dto::{
    ConversationSummary, EscalationInfo, EscalationPage, InboxFilter, InboxPage, InboxQuery,
    IpcError, LeadState, MessageDirection, Thread, TimelineItem,
};

pub(crate) fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

impl From<StoreError> for IpcError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(what) => {
                IpcError::new("not_found", format!("{what} was not found"))
            }
            StoreError::Busy | StoreError::Locked { .. } => IpcError::new("busy", e.to_string()),
            StoreError::DiskFull => IpcError::new("disk_full", e.to_string()),
            other => IpcError::new("internal", other.to_string()),
        }
    }
}

fn summary(s: conversations::Summary) -> ConversationSummary {
    let lead_state = s.lead_state.as_deref().and_then(LeadState::parse);
    ConversationSummary {
        id: s.id,
        contact_name: s.contact_name,
        contact_number: s.contact_phone,
        business_number: s.business_number,
        last_activity_at: rfc3339(s.last_activity_at),
        snippet: s.snippet,
        unread: s.unread,
        missed_call: lead_state.is_some(),
        lead_state,
        done: s.done,
        assigned_to: s.assigned_to,
        opted_out: s.opted_out,
        escalated: s.escalated,
    }
}

/// One page of the inbox, newest activity first.
pub fn list(store: &Store, q: &InboxQuery) -> Result<InboxPage, IpcError> {
    let limit = q.limit.clamp(1, 200);
    let before = match q.before.as_deref() {
        Some(c) => Some(conversations::PageCursor::decode(c).ok_or_else(|| {
            IpcError::new(
                "invalid_input",
                "the page cursor is not valid; reload the list",
            )
        })?),
        None => None,
    };
    let filter = match q.filter {
        InboxFilter::All => conversations::Filter::All,
        InboxFilter::Unread => conversations::Filter::Unread,
        InboxFilter::NeedsReply => conversations::Filter::NeedsReply,
        InboxFilter::Unbooked => conversations::Filter::Unbooked,
        InboxFilter::Booked => conversations::Filter::Booked,
        InboxFilter::Done => conversations::Filter::Done,
        InboxFilter::Escalated => conversations::Filter::Escalated,
    };
    let (rows, total_unread) = store.read(|c| {
        let rows = conversations::list(
            c,
            &conversations::Query {
                search: q.search.clone(),
                filter,
                before,
                limit,
            },
        )?;
        Ok((rows, conversations::total_unread(c)?))
    })?;
    let next_cursor = (rows.len() == limit as usize).then(|| {
        let last = &rows[rows.len() - 1];
        conversations::PageCursor {
            last_activity_at: last.last_activity_at.timestamp_millis(),
            id: last.id,
        }
        .encode()
    });
    Ok(InboxPage {
        items: rows.into_iter().map(summary).collect(),
        next_cursor,
        total_unread,
    })
}

/// How many messages a thread shows (the newest); older ones stay in the store.
const THREAD_MESSAGES: u32 = 500;

/// What the timeline shows from the audit log about a conversation's leads.
const LEAD_ACTIVITY: &[&str] = &[
    "escalated",
    "escalation_reason_added",
    "escalation_paged",
    "escalation_acknowledged",
    "lead_booked",
    "lead_lost",
    "lead_opted_out",
    "booking_cancelled",
];

/// An escalation with the pages it sent, for the thread.
pub(crate) fn escalation_info(
    conn: &Connection,
    esc: escalations::Escalation,
) -> Result<EscalationInfo, StoreError> {
    let pages = escalations::pages(conn, esc.id)?
        .into_iter()
        .map(|p| EscalationPage {
            staff: p.staff,
            phone: p.phone,
            round: u32::try_from(p.round).unwrap_or(0),
            sent_at: rfc3339(p.sent_at),
        })
        .collect();
    Ok(EscalationInfo {
        id: esc.id,
        conversation_id: esc.conversation_id,
        reasons: esc.reasons,
        opened_at: rfc3339(esc.opened_at),
        pages,
        acknowledged_at: esc.acked_at.map(rfc3339),
        acknowledged_by: esc.acked_by,
    })
}

/// A conversation's timeline: calls (with outcome and the text-back decision), messages (with
/// delivery status), notes and what happened to its leads (escalations, pages, who took them,
/// booked or lost), oldest first, with the newest lead's escalation. Opening it marks it read
/// on this desk.
pub fn open(store: &Store, id: i64) -> Result<Thread, IpcError> {
    let (conv, calls, msgs, attached, notes, decided, (lead, contact), (activity, escalation)) =
        store.immediate(|tx| {
            conversations::mark_read(tx, id, true)?;
            let conv = conversations::get(tx, id)?;
            let calls = calls::for_conversation(tx, id)?;
            let decided = calls
                .iter()
                .map(|c| decisions::for_call(tx, c.id))
                .collect::<Result<Vec<_>, _>>()?;
            let msgs = messages::for_conversation(tx, id, THREAD_MESSAGES)?;
            let with_media: Vec<i64> = msgs
                .iter()
                .filter(|m| m.num_media > 0)
                .map(|m| m.id)
                .collect();
            let attached = media::for_messages(tx, &with_media)?;
            let notes = notes::for_conversation(tx, id)?;
            let lead = leads::latest_for(tx, id)?;
            let contact = contacts::get(tx, conv.contact_id)?;
            let activity = audit::for_conversation_leads(tx, id, LEAD_ACTIVITY)?;
            // Only the newest lead's: an older lead's escalation was settled with that lead.
            let escalation = match (escalations::latest_for_conversation(tx, id)?, &lead) {
                (Some(e), Some(l)) if e.lead_id == l.id => Some(escalation_info(tx, e)?),
                _ => None,
            };
            Ok((
                conv,
                calls,
                msgs,
                attached,
                notes,
                decided,
                (lead, contact),
                (activity, escalation),
            ))
        })?;
    // Per message: picture URLs the shell serves, and the types of everything else.
    let mut attachments: HashMap<i64, (Vec<String>, Vec<String>)> = HashMap::new();
    for a in attached {
        let (pictures, others) = attachments.entry(a.message_id).or_default();
        if crate::media::shown_inline(&a.content_type) {
            pictures.push(crate::media::url(&a.provider_media_id));
        } else {
            others.push(a.content_type);
        }
    }
    let mut items: Vec<(DateTime<Utc>, TimelineItem)> = Vec::new();
    for (c, d) in calls.into_iter().zip(decided) {
        let at = c.started_at.or(c.ended_at).unwrap_or_default();
        items.push((
            at,
            TimelineItem::Call {
                id: c.id,
                at: rfc3339(at),
                outcome: c.outcome,
                outcome_reason: c
                    .outcome_reason
                    .or(c.before_textback.then(|| "Before Textback".to_owned())),
                decision: d.as_ref().map(|d| d.code.clone()),
                decision_reason: d.map(|d| d.reason),
            },
        ));
    }
    for m in msgs {
        let error = m
            .error_message
            .clone()
            .or(m.error_code.map(|c| format!("carrier error {c}")));
        let error = match (&error, &m.flagged) {
            (None, Some(f)) => Some(f.clone()),
            _ => error,
        };
        let (media_urls, attachments) = attachments.remove(&m.id).unwrap_or_default();
        items.push((
            m.created_at,
            TimelineItem::Message {
                id: m.id,
                at: rfc3339(m.created_at),
                direction: match m.direction {
                    messages::Direction::Inbound => MessageDirection::Inbound,
                    messages::Direction::Outbound => MessageDirection::Outbound,
                },
                body: m.body,
                status: m.status,
                error,
                media_urls,
                attachments,
                automatic: m.automatic,
            },
        ));
    }
    for n in notes {
        items.push((
            n.created_at,
            TimelineItem::Note {
                id: n.id,
                at: rfc3339(n.created_at),
                author: n.author,
                body: n.body,
            },
        ));
    }
    for a in activity {
        items.push((
            a.at,
            TimelineItem::Activity {
                id: a.id,
                at: rfc3339(a.at),
                action: a.action,
                actor: a.actor,
                detail: a.detail,
            },
        ));
    }
    items.sort_by_key(|(at, _)| *at);
    let reply_blocked_reason = contact.opted_out_at.map(|at| {
        format!(
            "{} opted out of texts on {}: nothing can be sent until they text START",
            contact.phone,
            at.format("%Y-%m-%d")
        )
    });
    Ok(Thread {
        conversation: summary(conv),
        items: items.into_iter().map(|(_, i)| i).collect(),
        job_value_cents: lead.and_then(|l| l.job_value_cents),
        can_reply: reply_blocked_reason.is_none(),
        reply_blocked_reason,
        escalation,
    })
}

//! One conversation per business number and contact: the inbox's rows.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::{Result, StoreError, from_millis, to_millis};

/// What the inbox list shows for one conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    pub id: i64,
    pub contact_id: i64,
    pub contact_name: Option<String>,
    pub contact_phone: String,
    pub business_number: String,
    pub last_activity_at: DateTime<Utc>,
    pub snippet: String,
    pub unread: i64,
    pub done: bool,
    pub assigned_to: Option<String>,
    pub awaiting_reply: bool,
    pub opted_out: bool,
    /// State of the newest lead, if the conversation ever had one.
    pub lead_state: Option<String>,
    /// The newest lead has an open escalation: it needs a person now.
    pub escalated: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Filter {
    #[default]
    All,
    Unread,
    NeedsReply,
    Unbooked,
    Booked,
    Done,
    /// The newest lead has an open escalation.
    Escalated,
}

impl Filter {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "all" => Filter::All,
            "unread" => Filter::Unread,
            "needs_reply" => Filter::NeedsReply,
            "unbooked" => Filter::Unbooked,
            "booked" => Filter::Booked,
            "done" => Filter::Done,
            "escalated" => Filter::Escalated,
            _ => return None,
        })
    }

    fn sql(self) -> &'static str {
        match self {
            Filter::All => "c.done = 0",
            Filter::Unread => "c.unread > 0",
            Filter::NeedsReply => "c.awaiting_reply = 1 AND c.done = 0",
            Filter::Unbooked => "(LEAD_STATE) IN ('new', 'texted', 'replied')",
            Filter::Booked => "(LEAD_STATE) = 'booked'",
            Filter::Done => "c.done = 1",
            // NOTE: open escalations are few. The IN list lets SQLite start from them (the
            // partial index `escalations_one_open`) and sort a handful of rows, instead of
            // walking the whole inbox testing each conversation when none or few match.
            Filter::Escalated => {
                "c.id IN (SELECT e2.conversation_id FROM escalations e2 WHERE e2.acked_at IS NULL)
                 AND (OPEN_ESCALATION)"
            }
        }
    }
}

const LEAD_STATE: &str =
    "SELECT l.state FROM leads l WHERE l.conversation_id = c.id ORDER BY l.id DESC LIMIT 1";

/// Whether the conversation's newest lead has an open escalation: two index seeks
/// (`leads_by_conversation`, then the partial `escalations_one_open`).
const OPEN_ESCALATION: &str = "EXISTS (SELECT 1 FROM escalations e WHERE e.acked_at IS NULL
    AND e.lead_id = (SELECT l.id FROM leads l WHERE l.conversation_id = c.id ORDER BY l.id DESC LIMIT 1))";

/// Position in the list: rows strictly older than this come next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageCursor {
    pub last_activity_at: i64,
    pub id: i64,
}

impl PageCursor {
    pub fn encode(&self) -> String {
        format!("{}:{}", self.last_activity_at, self.id)
    }

    pub fn decode(s: &str) -> Option<Self> {
        let (a, b) = s.split_once(':')?;
        Some(Self {
            last_activity_at: a.parse().ok()?,
            id: b.parse().ok()?,
        })
    }
}

#[derive(Debug, Clone, Default)]
pub struct Query {
    pub search: Option<String>,
    pub filter: Filter,
    pub before: Option<PageCursor>,
    pub limit: u32,
}

/// The list row's columns, over `conversations c` and `contacts k`. The lead state is one
/// index seek per row (`leads_by_conversation`), the open escalation two.
const COLUMNS: &str = "
    c.id, c.contact_id, k.name, k.phone, c.business_number, c.last_activity_at, c.snippet,
    c.unread, c.done, c.assigned_to, c.awaiting_reply, k.opted_out_at IS NOT NULL,
    (SELECT l.state FROM leads l WHERE l.conversation_id = c.id ORDER BY l.id DESC LIMIT 1),
    EXISTS (SELECT 1 FROM escalations e WHERE e.acked_at IS NULL
        AND e.lead_id = (SELECT l.id FROM leads l WHERE l.conversation_id = c.id ORDER BY l.id DESC LIMIT 1))";

const FROM: &str = "FROM conversations c JOIN contacts k ON k.id = c.contact_id";

const ORDER: &str = "ORDER BY c.last_activity_at DESC, c.id DESC LIMIT ?3";

fn from_row(r: &Row<'_>) -> rusqlite::Result<Summary> {
    Ok(Summary {
        id: r.get(0)?,
        contact_id: r.get(1)?,
        contact_name: r.get(2)?,
        contact_phone: r.get(3)?,
        business_number: r.get(4)?,
        last_activity_at: from_millis(r.get(5)?),
        snippet: r.get(6)?,
        unread: r.get(7)?,
        done: r.get(8)?,
        assigned_to: r.get(9)?,
        awaiting_reply: r.get(10)?,
        opted_out: r.get(11)?,
        lead_state: r.get(12)?,
        escalated: r.get(13)?,
    })
}

/// Turns what a person typed into an FTS5 prefix query that matches it literally: the text
/// becomes one quoted phrase, so FTS operators in it (`OR`, `*`, `"`) have no effect.
fn fts_phrase(search: &str) -> String {
    format!("\"{}\"*", search.replace('"', "\"\""))
}

/// Up to this many candidate matches (contacts whose name or number matches plus messages
/// whose text matches), search collects the matching conversations and sorts them; above it,
/// search walks the inbox newest first and stops when the page is full. See [`list`].
const SELECTIVE_SEARCH: i64 = 2_000;

/// One page of the inbox, newest activity first.
///
/// Without search, the page is a range scan of `conversations_by_activity` from the cursor.
///
/// Search has two plans, because no single one is fast at both ends (measured by
/// `crates/app/benches/inbox.rs` on 1M messages / 50k conversations):
///
/// - **selective** (a rare word, a full number, most names): collect the matching
///   conversations — contacts by `LIKE` (one scan of the small contacts table), then their
///   conversations by `conversations_by_contact`; messages by FTS, then their conversations
///   by rowid — and sort only those. Walking the inbox instead would visit every conversation
///   before concluding there are few matches.
/// - **broad** (a common word, a few digits): walk the inbox newest first and test each
///   conversation (its contact, and whether any of its messages is among the FTS hits, through
///   `messages_by_conversation`); the page fills after a few hundred rows. Collecting instead
///   would look up every one of tens of thousands of matching messages.
///
/// The candidates, gathered up to a cap, pick the plan. Both return exactly the same rows.
pub fn list(conn: &Connection, q: &Query) -> Result<Vec<Summary>> {
    list_with(conn, q, SELECTIVE_SEARCH)
}

fn list_with(conn: &Connection, q: &Query, selective_below: i64) -> Result<Vec<Summary>> {
    let limit = q.limit.clamp(1, 500);
    let (before_at, before_id) = q
        .before
        .map(|c| (c.last_activity_at, c.id))
        .unwrap_or((i64::MAX, i64::MAX));
    let filter = q
        .filter
        .sql()
        .replace("LEAD_STATE", LEAD_STATE)
        .replace("OPEN_ESCALATION", OPEN_ESCALATION);
    let page = format!("(c.last_activity_at, c.id) < (?1, ?2) AND {filter}");
    let Some(text) = q.search.as_deref().map(str::trim).filter(|s| !s.is_empty()) else {
        let mut stmt =
            conn.prepare_cached(&format!("SELECT {COLUMNS} {FROM} WHERE {page} {ORDER}"))?;
        let rows = stmt
            .query_map(params![before_at, before_id, limit], from_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        return Ok(rows);
    };
    let like = format!(
        "%{}%",
        text.replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_")
    );
    let phrase = fts_phrase(text);
    // Gather the candidates, each source read once and capped: the messages first (an FTS
    // lookup), then the contacts (a scan of the small contacts table, stopping at the cap).
    let cap = usize::try_from(selective_below).unwrap_or(0);
    let message_ids = ids(
        conn,
        "SELECT rowid FROM messages_fts WHERE messages_fts MATCH ?1 LIMIT ?2",
        &phrase,
        cap,
    )?;
    let contact_ids = if message_ids.len() < cap {
        ids(
            conn,
            "SELECT id FROM contacts WHERE name LIKE ?1 ESCAPE '\\' OR phone LIKE ?1 ESCAPE '\\' LIMIT ?2",
            &like,
            cap - message_ids.len(),
        )?
    } else {
        Vec::new()
    };
    if message_ids.len() + contact_ids.len() < cap {
        // Selective: the candidates' conversations, then their rows, then one sort. The ids
        // go in as JSON arrays; CROSS JOIN fixes the join order.
        let mut stmt = conn.prepare_cached(&format!(
            "WITH hits (id) AS MATERIALIZED (
                 SELECT c2.id FROM conversations c2
                 WHERE c2.contact_id IN (SELECT value FROM json_each(?4))
                 UNION
                 SELECT m.conversation_id FROM messages m
                 WHERE m.id IN (SELECT value FROM json_each(?5)))
             SELECT {COLUMNS}
             FROM hits h CROSS JOIN conversations c ON c.id = h.id JOIN contacts k ON k.id = c.contact_id
             WHERE {page} {ORDER}"
        ))?;
        let rows = stmt
            .query_map(
                params![
                    before_at,
                    before_id,
                    limit,
                    json_array(&contact_ids),
                    json_array(&message_ids)
                ],
                from_row,
            )?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        return Ok(rows);
    }
    // Broad: walk the inbox. `+m.id` keeps SQLite from driving the EXISTS by the (large) FTS
    // hit list: it reads the conversation's own messages from `messages_by_conversation` and
    // tests each id against the hit list, which is built once per query.
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} {FROM}
         WHERE {page}
           AND (k.name LIKE ?4 ESCAPE '\\' OR k.phone LIKE ?4 ESCAPE '\\'
                OR EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = c.id
                           AND +m.id IN (SELECT rowid FROM messages_fts WHERE messages_fts MATCH ?5)))
         {ORDER}"
    ))?;
    let rows = stmt
        .query_map(params![before_at, before_id, limit, like, phrase], from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// The first `cap` ids a one-column query returns (`?1` the text, `?2` the cap).
fn ids(conn: &Connection, sql: &str, text: &str, cap: usize) -> Result<Vec<i64>> {
    let mut stmt = conn.prepare_cached(sql)?;
    let rows = stmt
        .query_map(params![text, cap as i64], |r| r.get(0))?
        .collect::<rusqlite::Result<Vec<i64>>>()?;
    Ok(rows)
}

fn json_array(ids: &[i64]) -> String {
    let items: Vec<String> = ids.iter().map(i64::to_string).collect();
    format!("[{}]", items.join(","))
}

pub fn get(conn: &Connection, id: i64) -> Result<Summary> {
    crate::cached::query_row(
        conn,
        &format!("SELECT {COLUMNS} {FROM} WHERE c.id = ?1"),
        [id],
        from_row,
    )
    .optional()?
    .ok_or_else(|| StoreError::NotFound(format!("conversation {id}")))
}

/// The conversation's id, creating it on first contact.
pub fn ensure(
    conn: &Connection,
    business_number: &str,
    contact_id: i64,
    at: DateTime<Utc>,
) -> Result<i64> {
    crate::cached::execute(
        conn,
        "INSERT OR IGNORE INTO conversations (business_number, contact_id, last_activity_at)
         VALUES (?1, ?2, ?3)",
        params![business_number, contact_id, to_millis(at)],
    )?;
    Ok(crate::cached::query_row(
        conn,
        "SELECT id FROM conversations WHERE business_number = ?1 AND contact_id = ?2",
        params![business_number, contact_id],
        |r| r.get(0),
    )?)
}

/// What happened in a conversation, for its list row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activity {
    /// The customer wrote: unread, awaiting a reply, reopened if done.
    Inbound,
    /// We wrote: no longer awaiting a reply.
    Outbound,
    /// A call or other event: only moves the row up.
    Other,
}

/// Moves the conversation up the list (never down: a late-synced old item keeps the newer
/// time) and updates its snippet and flags.
///
/// NOTE: provider times are whole seconds while what this desk sends is stamped in
/// milliseconds, so an item in the same second as the last activity counts as newer for the
/// snippet: a customer's text arriving in the second of our text-back (stamped 12:00:05.000
/// after 12:00:05.400) must not leave the row showing our text above its unread badge.
pub fn touch(
    conn: &Connection,
    id: i64,
    at: DateTime<Utc>,
    snippet: &str,
    activity: Activity,
) -> Result<()> {
    let snippet: String = snippet.chars().take(140).collect();
    let at = to_millis(at);
    crate::cached::execute(conn,
        "UPDATE conversations SET
            snippet = CASE WHEN ?2 >= last_activity_at - last_activity_at % 1000 THEN ?3 ELSE snippet END,
            last_activity_at = MAX(last_activity_at, ?2)
         WHERE id = ?1",
        params![id, at, snippet],
    )?;
    match activity {
        Activity::Inbound => crate::cached::execute(
            conn,
            "UPDATE conversations SET unread = unread + 1, awaiting_reply = 1, done = 0 WHERE id = ?1",
            [id],
        )?,
        Activity::Outbound => crate::cached::execute(
            conn,
            "UPDATE conversations SET awaiting_reply = 0 WHERE id = ?1",
            [id],
        )?,
        Activity::Other => 0,
    };
    Ok(())
}

pub fn mark_read(conn: &Connection, id: i64, read: bool) -> Result<()> {
    let n = crate::cached::execute(
        conn,
        "UPDATE conversations SET unread = CASE WHEN ?2 THEN 0 ELSE MAX(unread, 1) END WHERE id = ?1",
        params![id, read],
    )?;
    found(n, id)
}

pub fn set_done(conn: &Connection, id: i64, done: bool) -> Result<()> {
    let n = crate::cached::execute(
        conn,
        "UPDATE conversations SET done = ?2 WHERE id = ?1",
        params![id, done],
    )?;
    found(n, id)
}

pub fn assign(conn: &Connection, id: i64, staff: Option<&str>) -> Result<()> {
    let n = crate::cached::execute(
        conn,
        "UPDATE conversations SET assigned_to = ?2 WHERE id = ?1",
        params![id, staff],
    )?;
    found(n, id)
}

/// The unread badge. Reads only the unread rows (`conversations_unread`), not every
/// conversation: it runs with every inbox page.
pub fn total_unread(conn: &Connection) -> Result<i64> {
    Ok(crate::cached::query_row(
        conn,
        "SELECT COALESCE(SUM(unread), 0) FROM conversations WHERE unread > 0",
        [],
        |r| r.get(0),
    )?)
}

fn found(n: usize, id: i64) -> Result<()> {
    if n == 0 {
        Err(StoreError::NotFound(format!("conversation {id}")))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone};

    use super::*;
    use crate::{Store, contacts, messages};

    /// The selective and the broad search plans return exactly the same rows and pages.
    #[test]
    fn both_search_plans_agree() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("t.db")).unwrap();
        let t0 = Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).unwrap();
        store
            .immediate(|tx| {
                for i in 0..60i64 {
                    let contact = contacts::ensure(tx, &format!("+1512555{:04}", i * 37), t0)?;
                    if i % 3 == 0 {
                        tx.execute(
                            "UPDATE contacts SET name = ?2 WHERE id = ?1",
                            params![contact, format!("Maria Leakey {i}")],
                        )?;
                    }
                    let conv = ensure(tx, "+15125550100", contact, t0)?;
                    for j in 0..4i64 {
                        // Activity order differs from id order; some ties on time.
                        let at = t0 + Duration::minutes((i * 7919 % 61) * 10 + j);
                        let body = match (i + j) % 5 {
                            0 => "the water heater is leaking",
                            1 => "leaky faucet, 50% off?",
                            2 => "see you at 3",
                            _ => "thanks",
                        };
                        messages::upsert_synced(
                            tx,
                            &messages::Synced {
                                provider: "twilio",
                                provider_message_id: &format!("SM{i}-{j}"),
                                conversation_id: conv,
                                direction: messages::Direction::Inbound,
                                body,
                                status: "received",
                                error_code: None,
                                error_message: None,
                                num_media: 0,
                                created_at: at,
                            },
                            at,
                        )?;
                        touch(tx, conv, at, body, Activity::Inbound)?;
                    }
                    if i % 4 == 0 {
                        set_done(tx, conv, true)?;
                    }
                }
                Ok(())
            })
            .unwrap();
        let terms = [
            "leak",
            "Maria",
            "water heater",
            "5550",
            "555",
            "50%",
            "zzz",
            "thanks",
        ];
        for search in terms {
            for filter in [Filter::All, Filter::Done, Filter::Unread] {
                let pages = |selective_below| {
                    let mut all = Vec::new();
                    let mut before = None;
                    loop {
                        let q = Query {
                            search: Some(search.into()),
                            filter,
                            before,
                            limit: 7,
                        };
                        let page = store.read(|c| list_with(c, &q, selective_below)).unwrap();
                        let Some(last) = page.last() else { break };
                        before = Some(PageCursor {
                            last_activity_at: last.last_activity_at.timestamp_millis(),
                            id: last.id,
                        });
                        all.extend(page.into_iter().map(|s| s.id));
                    }
                    all
                };
                let selective = pages(i64::MAX);
                let broad = pages(0);
                assert_eq!(selective, broad, "{search:?} {filter:?}");
                if search != "zzz" && filter == Filter::All {
                    assert!(!selective.is_empty(), "{search:?} finds something");
                }
            }
        }
    }

    /// A provider time (whole seconds) in the same second as our millisecond-stamped send is
    /// the newer item for the snippet; an older second still never replaces it.
    #[test]
    fn a_text_in_the_same_second_as_our_send_becomes_the_snippet() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("t.db")).unwrap();
        let sent = Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 5).unwrap() + Duration::milliseconds(400);
        let second = Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 5).unwrap();
        let snippet = store
            .immediate(|tx| {
                let contact = contacts::ensure(tx, "+15125550123", sent)?;
                let conv = ensure(tx, "+15125550100", contact, sent)?;
                touch(tx, conv, sent, "our text-back", Activity::Outbound)?;
                touch(
                    tx,
                    conv,
                    second - Duration::seconds(1),
                    "older",
                    Activity::Other,
                )?;
                let older = get(tx, conv)?.snippet;
                touch(tx, conv, second, "Can you come at 3?", Activity::Inbound)?;
                Ok((older, get(tx, conv)?))
            })
            .unwrap();
        assert_eq!(
            snippet.0, "our text-back",
            "an earlier second never replaces the snippet"
        );
        assert_eq!(snippet.1.snippet, "Can you come at 3?");
        assert_eq!(snippet.1.unread, 1);
        assert_eq!(
            snippet.1.last_activity_at, sent,
            "the activity time still only moves forward"
        );
    }
}

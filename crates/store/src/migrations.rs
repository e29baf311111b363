//! Numbered schema migrations, tracked in `PRAGMA user_version` by `rusqlite_migration`.
//!
//! Migrations only add (tables, columns, indexes); a column is never repurposed. Append new
//! steps to [`MIGRATIONS`]; never edit a released one.

use std::path::Path;

use rusqlite::Connection;
use rusqlite_migration::{M, Migrations};

use crate::{Result, StoreError};

/// Version 1: the engine's tables.
const V1: &str = r#"
CREATE TABLE sync_cursors (
    account          TEXT NOT NULL,
    business_number  TEXT NOT NULL,
    resource         TEXT NOT NULL,          -- 'calls' | 'messages'
    watch_started_at INTEGER NOT NULL,       -- first time Textback watched: anything older is history
    synced_through   INTEGER,                -- provider time of the last complete sync
    updated_at       INTEGER NOT NULL,
    PRIMARY KEY (account, business_number, resource)
) STRICT;

CREATE TABLE contacts (
    id             INTEGER PRIMARY KEY,
    phone          TEXT NOT NULL UNIQUE,     -- E.164
    name           TEXT,
    opted_out_at   INTEGER,
    opt_out_source TEXT,
    landline       INTEGER NOT NULL DEFAULT 0,
    created_at     INTEGER NOT NULL
) STRICT;

CREATE TABLE conversations (
    id               INTEGER PRIMARY KEY,
    business_number  TEXT NOT NULL,
    contact_id       INTEGER NOT NULL REFERENCES contacts(id),
    last_activity_at INTEGER NOT NULL,
    snippet          TEXT NOT NULL DEFAULT '',
    unread           INTEGER NOT NULL DEFAULT 0,
    done             INTEGER NOT NULL DEFAULT 0,
    assigned_to      TEXT,
    awaiting_reply   INTEGER NOT NULL DEFAULT 0, -- the last message is the customer's
    UNIQUE (business_number, contact_id)
) STRICT;
CREATE INDEX conversations_by_activity ON conversations (last_activity_at DESC, id DESC);

CREATE TABLE calls (
    id               INTEGER PRIMARY KEY,
    provider         TEXT NOT NULL,
    provider_call_id TEXT NOT NULL,
    business_number  TEXT NOT NULL,
    caller_raw       TEXT NOT NULL,          -- as the provider gave it: may be 'anonymous'
    contact_id       INTEGER REFERENCES contacts(id),
    conversation_id  INTEGER REFERENCES conversations(id),
    direction        TEXT NOT NULL,
    status           TEXT NOT NULL,
    started_at       INTEGER,
    ended_at         INTEGER,
    duration_secs    INTEGER,
    outcome          TEXT,                   -- NULL until classified
    outcome_reason   TEXT,
    before_textback  INTEGER NOT NULL DEFAULT 0,
    first_seen_at    INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    UNIQUE (provider, provider_call_id)
) STRICT;
CREATE INDEX calls_unclassified ON calls (business_number) WHERE outcome IS NULL;
CREATE INDEX calls_by_contact ON calls (contact_id, business_number, started_at);
CREATE INDEX calls_by_conversation ON calls (conversation_id, started_at);

CREATE TABLE call_legs (
    id               INTEGER PRIMARY KEY,
    call_id          INTEGER NOT NULL REFERENCES calls(id),
    provider_call_id TEXT NOT NULL UNIQUE,
    to_raw           TEXT,
    status           TEXT NOT NULL,
    duration_secs    INTEGER,
    answered_by      TEXT,
    updated_at       INTEGER NOT NULL
) STRICT;
CREATE INDEX call_legs_by_call ON call_legs (call_id);

CREATE TABLE outbox (
    id                  INTEGER PRIMARY KEY,
    idempotency_key     TEXT NOT NULL UNIQUE,
    kind                TEXT NOT NULL,       -- 'textback' | 'manual'
    business_number     TEXT NOT NULL,
    to_number           TEXT NOT NULL,
    body                TEXT NOT NULL,
    conversation_id     INTEGER REFERENCES conversations(id),
    call_id             INTEGER REFERENCES calls(id),
    check_since         INTEGER,             -- pre-send check: any outbound to this number since then?
    state               TEXT NOT NULL,       -- pending | in_flight | unknown | sent | failed | cancelled
    attempts            INTEGER NOT NULL DEFAULT 0,
    next_attempt_at     INTEGER NOT NULL,
    provider_message_id TEXT,
    last_error          TEXT,
    error_code          INTEGER,
    author              TEXT,
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL
) STRICT;
CREATE INDEX outbox_due ON outbox (state, next_attempt_at);

CREATE TABLE messages (
    id                  INTEGER PRIMARY KEY,
    provider            TEXT NOT NULL,
    provider_message_id TEXT,                -- NULL while only in the outbox
    conversation_id     INTEGER NOT NULL REFERENCES conversations(id),
    direction           TEXT NOT NULL,       -- 'inbound' | 'outbound'
    body                TEXT NOT NULL,
    status              TEXT NOT NULL,
    error_code          INTEGER,
    error_message       TEXT,
    num_media           INTEGER NOT NULL DEFAULT 0,
    outbox_id           INTEGER UNIQUE REFERENCES outbox(id),
    automatic           INTEGER NOT NULL DEFAULT 0,
    flagged             TEXT,                -- why a person should look (e.g. mentions stop)
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL,
    UNIQUE (provider, provider_message_id)
) STRICT;
CREATE INDEX messages_by_conversation ON messages (conversation_id, created_at);

-- Full-text search over message bodies for the inbox search box.
CREATE VIRTUAL TABLE messages_fts USING fts5 (body, content = 'messages', content_rowid = 'id');
CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
    INSERT INTO messages_fts (rowid, body) VALUES (new.id, new.body);
END;
CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, body) VALUES ('delete', old.id, old.body);
END;
CREATE TRIGGER messages_fts_update AFTER UPDATE OF body ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, body) VALUES ('delete', old.id, old.body);
    INSERT INTO messages_fts (rowid, body) VALUES (new.id, new.body);
END;

CREATE TABLE leads (
    id              INTEGER PRIMARY KEY,
    conversation_id INTEGER NOT NULL REFERENCES conversations(id),
    state           TEXT NOT NULL,           -- new | texted | replied | booked | lost | opted_out
    first_call_id   INTEGER REFERENCES calls(id),
    opened_at       INTEGER NOT NULL,
    closed_at       INTEGER,
    escalated       INTEGER NOT NULL DEFAULT 0,
    job_value_cents INTEGER,
    updated_at      INTEGER NOT NULL
) STRICT;
CREATE UNIQUE INDEX leads_one_open ON leads (conversation_id) WHERE closed_at IS NULL;

CREATE TABLE decisions (
    id         INTEGER PRIMARY KEY,
    call_id    INTEGER NOT NULL UNIQUE REFERENCES calls(id),
    action     TEXT NOT NULL,                -- send | late | skip
    code       TEXT NOT NULL,
    reason     TEXT NOT NULL,
    outbox_id  INTEGER REFERENCES outbox(id),
    decided_at INTEGER NOT NULL
) STRICT;

CREATE TABLE jobs (
    id         INTEGER PRIMARY KEY,
    key        TEXT NOT NULL UNIQUE,
    kind       TEXT NOT NULL,
    run_at     INTEGER NOT NULL,
    payload    TEXT NOT NULL,
    state      TEXT NOT NULL,                -- pending | done | cancelled
    attempts   INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;
CREATE INDEX jobs_due ON jobs (state, run_at);

CREATE TABLE audit_log (
    id      INTEGER PRIMARY KEY,
    at      INTEGER NOT NULL,
    actor   TEXT NOT NULL,                   -- 'engine' | 'provider' | a person's name
    action  TEXT NOT NULL,
    subject TEXT,
    detail  TEXT
) STRICT;
CREATE INDEX audit_by_subject ON audit_log (subject, at);
"#;

/// Version 2: internal notes on a conversation (per desk until the team workspace exists).
const V2: &str = r#"
CREATE TABLE notes (
    id              INTEGER PRIMARY KEY,
    conversation_id INTEGER NOT NULL REFERENCES conversations(id),
    author          TEXT NOT NULL,
    body            TEXT NOT NULL,
    created_at      INTEGER NOT NULL
) STRICT;
CREATE INDEX notes_by_conversation ON notes (conversation_id, created_at);
"#;

/// Version 3: indexes for the inbox at scale (measured by `crates/app/benches/inbox.rs`, 1M
/// messages in 50k conversations).
const V3: &str = r#"
-- The newest lead of a conversation: the lead badge on every inbox row and on an opened thread,
-- the booked/unbooked filters, leads::latest_for. leads_one_open covers only open leads, so
-- each of these scanned the whole leads table.
CREATE INDEX leads_by_conversation ON leads (conversation_id, id);
-- The unread badge total, read with every inbox page: only the unread rows, not all of them.
CREATE INDEX conversations_unread ON conversations (unread) WHERE unread > 0;
-- Search: the conversations of the contacts whose name or number matches.
CREATE INDEX conversations_by_contact ON conversations (contact_id);
"#;

/// Version 4: MMS attachments. Only what is known about each is stored here; the bytes live on
/// disk beside the database (`media/<sid>`, see `media::MediaDir`), fetched on first view.
const V4: &str = r#"
CREATE TABLE media (
    id                INTEGER PRIMARY KEY,
    message_id        INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    provider_media_id TEXT NOT NULL UNIQUE,
    content_type      TEXT NOT NULL,         -- as the provider listed it, lower case ('' unknown)
    uri               TEXT NOT NULL,         -- the provider's media resource, to fetch it later
    local_path        TEXT,                  -- file name under the media directory; NULL until fetched
    fetched_at        INTEGER,
    created_at        INTEGER NOT NULL
) STRICT;
CREATE INDEX media_by_message ON media (message_id, id);
-- When sync listed a message's attachments. An inbound message with num_media > 0 and no
-- listing yet is listed on the next pass, so a failed listing is retried and never loses the
-- message itself.
ALTER TABLE messages ADD COLUMN media_listed_at INTEGER;
CREATE INDEX messages_media_unlisted ON messages (id)
    WHERE num_media > 0 AND media_listed_at IS NULL AND direction = 'inbound';
"#;

/// Version 5: the lead lifecycle — follow-up touches, the per-lead booking reference,
/// escalations and the pages they sent, bookings from calendar integrations.
const V5: &str = r#"
-- Touches sent (the text-back is touch 1) and when the last went out; the follow-up sequence
-- counts these. ref: the per-lead reference in the tracked booking link (bookings carry it
-- back). close_reason: booked | lost | opted_out | superseded | inactive.
ALTER TABLE leads ADD COLUMN touches INTEGER NOT NULL DEFAULT 0;
ALTER TABLE leads ADD COLUMN last_touch_at INTEGER;
ALTER TABLE leads ADD COLUMN ref TEXT;
ALTER TABLE leads ADD COLUMN close_reason TEXT;
ALTER TABLE leads ADD COLUMN last_activity_at INTEGER;
ALTER TABLE leads ADD COLUMN replied_at INTEGER;
CREATE UNIQUE INDEX leads_by_ref ON leads (ref) WHERE ref IS NOT NULL;
CREATE INDEX leads_open_activity ON leads (last_activity_at) WHERE closed_at IS NULL;
CREATE INDEX leads_opened ON leads (opened_at);

-- The lead an automatic message belongs to (follow-ups, escalation pages).
ALTER TABLE outbox ADD COLUMN lead_id INTEGER REFERENCES leads(id);

-- One open escalation per lead; a second rule firing adds its reason to the open one.
CREATE TABLE escalations (
    id              INTEGER PRIMARY KEY,
    lead_id         INTEGER NOT NULL REFERENCES leads(id),
    conversation_id INTEGER NOT NULL REFERENCES conversations(id),
    reasons         TEXT NOT NULL,           -- one line per rule that fired
    opened_at       INTEGER NOT NULL,
    pages           INTEGER NOT NULL DEFAULT 0,
    backup_added    INTEGER NOT NULL DEFAULT 0,
    acked_at        INTEGER,
    acked_by        TEXT,
    updated_at      INTEGER NOT NULL
) STRICT;
CREATE UNIQUE INDEX escalations_one_open ON escalations (lead_id) WHERE acked_at IS NULL;
CREATE INDEX escalations_by_conversation ON escalations (conversation_id, id);

-- Who was paged for an escalation, when, and the SMS that carried it (NULL: alert only).
CREATE TABLE escalation_pages (
    id            INTEGER PRIMARY KEY,
    escalation_id INTEGER NOT NULL REFERENCES escalations(id),
    staff         TEXT NOT NULL,
    phone         TEXT,
    round         INTEGER NOT NULL,
    outbox_id     INTEGER REFERENCES outbox(id),
    sent_at       INTEGER NOT NULL,
    UNIQUE (escalation_id, staff, round)
) STRICT;
CREATE INDEX escalation_pages_by_phone ON escalation_pages (phone, sent_at);

-- Bookings seen from a calendar integration, keyed by the source's id.
CREATE TABLE bookings (
    id             INTEGER PRIMARY KEY,
    source         TEXT NOT NULL,            -- calcom | manual
    external_id    TEXT NOT NULL,
    lead_id        INTEGER REFERENCES leads(id),
    status         TEXT NOT NULL,            -- accepted | pending | cancelled | rescheduled | ...
    starts_at      INTEGER,
    attendee_name  TEXT,
    attendee_phone TEXT,
    updated_at     INTEGER NOT NULL,
    UNIQUE (source, external_id)
) STRICT;
"#;

/// Version 6: where each booking source's polling got to (an opaque cursor per source); the
/// outbox by recipient, for sending each number's messages in order.
const V6: &str = r#"
CREATE INDEX outbox_unfinished_by_recipient ON outbox (to_number, id)
    WHERE state IN ('pending', 'in_flight', 'unknown');
CREATE TABLE booking_cursors (
    source     TEXT PRIMARY KEY,
    cursor     TEXT NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;
"#;

/// Every migration, in order. The index + 1 is the schema version.
pub const MIGRATIONS: &[&str] = &[V1, V2, V3, V4, V5, V6];

fn migrations() -> Migrations<'static> {
    Migrations::new(MIGRATIONS.iter().map(|sql| M::up(sql)).collect())
}

/// The newest schema version this build knows.
pub fn latest_version() -> i64 {
    MIGRATIONS.len() as i64
}

/// Whether the file is at this build's schema version (nothing to migrate).
pub(crate) fn is_current(conn: &Connection) -> Result<bool> {
    let found: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    Ok(found == latest_version())
}

pub(crate) fn migrate(conn: &mut Connection, path: &Path, existed: bool) -> Result<()> {
    let found: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    let known = latest_version();
    if found > known {
        return Err(StoreError::TooNew {
            path: path.to_path_buf(),
            found,
            known,
        });
    }
    if found == known {
        return Ok(());
    }
    if existed && found > 0 {
        let mut name = path.as_os_str().to_owned();
        name.push(format!(".backup-v{found}"));
        let dest = std::path::PathBuf::from(name);
        conn.backup(rusqlite::MAIN_DB, &dest, None)
            .map_err(|e| StoreError::Backup {
                path: dest.clone(),
                source: std::io::Error::other(e.to_string()),
            })?;
    }
    migrations()
        .to_latest(conn)
        .map_err(|e| StoreError::Migration(e.to_string()))
}

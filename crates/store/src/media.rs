//! MMS attachments: one row per provider media item (keyed by its sid), listed by sync when an
//! inbound message says it has media, and the files holding their bytes.
//!
//! Bytes never go into SQLite: a fetched attachment is a file named by its sid in a
//! [`MediaDir`] beside the database (`<data_dir>/media/<sid>`), and the row records the file
//! name and when it was fetched. A row whose file is missing is simply fetched again.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Row, params};
use textback_domain::ProviderMediaId;

use crate::time::opt_from_millis;
use crate::{Result, StoreError, to_millis};

/// One attachment of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Media {
    pub id: i64,
    pub message_id: i64,
    pub provider_media_id: String,
    /// Lower case MIME type as the provider listed it; empty when it did not say.
    pub content_type: String,
    /// The provider's media resource (where to fetch it).
    pub uri: String,
    /// File name inside the [`MediaDir`], once fetched.
    pub local_path: Option<String>,
    pub fetched_at: Option<DateTime<Utc>>,
}

const COLUMNS: &str =
    "id, message_id, provider_media_id, content_type, uri, local_path, fetched_at";

fn from_row(r: &Row<'_>) -> rusqlite::Result<Media> {
    Ok(Media {
        id: r.get(0)?,
        message_id: r.get(1)?,
        provider_media_id: r.get(2)?,
        content_type: r.get(3)?,
        uri: r.get(4)?,
        local_path: r.get(5)?,
        fetched_at: opt_from_millis(r.get(6)?),
    })
}

/// An attachment as the provider lists it.
#[derive(Debug, Clone)]
pub struct Listed<'a> {
    pub provider_media_id: &'a ProviderMediaId,
    pub content_type: &'a str,
    pub uri: &'a str,
}

/// Inbound messages that say they carry media and whose attachments were not listed yet:
/// `(message id, provider message id)`, newest first, at most `limit`.
pub fn unlisted(conn: &Connection, limit: u32) -> Result<Vec<(i64, String)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, provider_message_id FROM messages
         WHERE num_media > 0 AND media_listed_at IS NULL AND direction = 'inbound'
           AND provider_message_id IS NOT NULL
         ORDER BY id DESC LIMIT ?1",
    )?;
    let rows = stmt
        .query_map([limit], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// Records a message's attachments (again: known sids are kept as they are) and marks the
/// message listed. Returns how many rows are new.
pub fn record_listed(
    conn: &Connection,
    message_id: i64,
    items: &[Listed<'_>],
    now: DateTime<Utc>,
) -> Result<usize> {
    let mut new = 0;
    for m in items {
        new += crate::cached::execute(
            conn,
            "INSERT INTO media (message_id, provider_media_id, content_type, uri, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (provider_media_id) DO NOTHING",
            params![
                message_id,
                m.provider_media_id.as_str(),
                m.content_type,
                m.uri,
                to_millis(now)
            ],
        )?;
    }
    crate::cached::execute(
        conn,
        "UPDATE messages SET media_listed_at = ?2 WHERE id = ?1",
        params![message_id, to_millis(now)],
    )?;
    Ok(new)
}

/// The attachments of these messages, in message then listing order.
pub fn for_messages(conn: &Connection, message_ids: &[i64]) -> Result<Vec<Media>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM media WHERE message_id = ?1 ORDER BY id"
    ))?;
    let mut out = Vec::new();
    for id in message_ids {
        let rows = stmt
            .query_map([id], from_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        out.extend(rows);
    }
    Ok(out)
}

pub fn by_provider_id(conn: &Connection, sid: &ProviderMediaId) -> Result<Option<Media>> {
    Ok(conn
        .query_row(
            &format!("SELECT {COLUMNS} FROM media WHERE provider_media_id = ?1"),
            [sid.as_str()],
            from_row,
        )
        .optional()?)
}

/// Records that the attachment's bytes are in `file_name` inside the [`MediaDir`].
pub fn mark_fetched(
    conn: &Connection,
    sid: &ProviderMediaId,
    file_name: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    crate::cached::execute(
        conn,
        "UPDATE media SET local_path = ?2, fetched_at = ?3 WHERE provider_media_id = ?1",
        params![sid.as_str(), file_name, to_millis(now)],
    )?;
    Ok(())
}

/// Where attachment bytes live: a `media` directory beside the database file, one file per
/// attachment named by its sid (letters and digits only, so never a path).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaDir(PathBuf);

impl MediaDir {
    /// `<directory of the database>/media`: `<data_dir>/media` for an account's store.
    pub fn beside(db_path: &Path) -> Self {
        let dir = db_path.parent().unwrap_or_else(|| Path::new("."));
        Self(dir.join("media"))
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    /// Writes the bytes for `sid` (atomically: a reader never sees half a file) and returns
    /// the file name to record with [`mark_fetched`].
    pub fn write(&self, sid: &ProviderMediaId, bytes: &[u8]) -> Result<String> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let file = |path: &Path| {
            let path = path.to_path_buf();
            move |source: std::io::Error| file_error(path, source)
        };
        std::fs::create_dir_all(&self.0).map_err(file(&self.0))?;
        let name = sid.as_str().to_owned();
        let target = self.0.join(&name);
        // A unique temporary name: two desks' threads may fetch the same picture at once.
        let temp = self.0.join(format!(
            ".{name}.{}.{}.part",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::write(&temp, bytes).map_err(file(&temp))?;
        if let Err(source) = std::fs::rename(&temp, &target) {
            let _ = std::fs::remove_file(&temp);
            return Err(file_error(target, source));
        }
        Ok(name)
    }

    /// The bytes recorded as `file_name`, or `None` when the file is gone (fetch it again).
    pub fn read(&self, file_name: &str) -> Result<Option<Vec<u8>>> {
        // NOTE: the name comes from the database; only a bare sid-like name is opened.
        if file_name.is_empty() || !file_name.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Ok(None);
        }
        let path = self.0.join(file_name);
        match std::fs::read(&path) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(file_error(path, source)),
        }
    }
}

fn file_error(path: PathBuf, source: std::io::Error) -> StoreError {
    if source.kind() == std::io::ErrorKind::StorageFull {
        StoreError::DiskFull
    } else {
        StoreError::File { path, source }
    }
}

//! MMS pictures for the desktop shell. Remote media URLs are blocked by the window's CSP (and
//! need the account's credentials), so the shell serves each attachment itself on the
//! `textback-media` URI scheme; [`url`] is the address the UI puts in `<img src>`, and
//! [`load`] answers it: from the disk cache beside the database, else fetched through the
//! provider on first view and cached.
//!
//! Only pictures are served ([`shown_inline`]); other attachments are listed in the thread by
//! type, without a link.

use std::sync::Arc;

use textback_domain::ProviderMediaId;
use textback_providers::{MediaRecord, Provider, ProviderError};
use textback_store::{Store, media};

use crate::dto::IpcError;

/// The URI scheme the shell registers for attachments.
pub const SCHEME: &str = "textback-media";

/// The URL the webview loads an attachment from. Tauri serves a custom scheme as
/// `<scheme>://localhost/<path>` on Linux and macOS (WebKit) and as
/// `http://<scheme>.localhost/<path>` on Windows and Android (WebView2 and Android's WebView
/// only allow custom schemes through that form).
pub fn url(sid: &str) -> String {
    if cfg!(any(target_os = "windows", target_os = "android")) {
        format!("http://{SCHEME}.localhost/{sid}")
    } else {
        format!("{SCHEME}://localhost/{sid}")
    }
}

/// The media sid a `textback-media` request asks for: the path's only segment
/// (`/ME0123…`), whatever form of [`url`] the platform used.
pub fn sid_from_path(path: &str) -> Option<ProviderMediaId> {
    ProviderMediaId::parse(path.strip_prefix('/').unwrap_or(path)).ok()
}

/// Whether an attachment is shown as a picture (and served). SVG is excluded: it is a
/// document that can carry scripts and links, not a picture from a phone.
pub fn shown_inline(content_type: &str) -> bool {
    content_type.starts_with("image/") && content_type != "image/svg+xml"
}

/// Why [`load`] failed: the provider's error (so the desk can word it) or an IPC error.
#[derive(Debug)]
pub(crate) enum LoadError {
    Provider(ProviderError),
    Ipc(IpcError),
}

impl From<IpcError> for LoadError {
    fn from(e: IpcError) -> Self {
        Self::Ipc(e)
    }
}

/// An attachment's MIME type and bytes: cached on disk, or fetched now and cached.
pub(crate) async fn load<P: Provider>(
    store: Arc<Store>,
    provider: &P,
    sid: &str,
) -> Result<(String, Vec<u8>), LoadError> {
    let sid = ProviderMediaId::parse(sid)
        .map_err(|e| IpcError::new("invalid_input", format!("not an attachment id: {e}")))?;
    let dir = media::MediaDir::beside(store.path());
    let (row, cached) = {
        let (store, dir, sid) = (store.clone(), dir.clone(), sid.clone());
        blocking(move || {
            let row = store
                .read(|c| media::by_provider_id(c, &sid))?
                .ok_or_else(|| {
                    IpcError::new("not_found", format!("attachment {sid} was not found"))
                })?;
            let cached = match &row.local_path {
                Some(name) => dir.read(name)?,
                None => None,
            };
            Ok((row, cached))
        })
        .await?
    };
    if !shown_inline(&row.content_type) {
        return Err(IpcError::new(
            "invalid_input",
            format!(
                "attachment {sid} is not a picture ({}); it is not shown",
                if row.content_type.is_empty() {
                    "unknown type"
                } else {
                    &row.content_type
                }
            ),
        )
        .into());
    }
    if let Some(bytes) = cached {
        return Ok((row.content_type, bytes));
    }
    let record = MediaRecord {
        sid: sid.clone(),
        content_type: row.content_type.clone(),
        uri: row.uri.clone(),
    };
    let content = provider
        .fetch_media(&record)
        .await
        .map_err(LoadError::Provider)?;
    let bytes = content.bytes;
    let bytes = blocking(move || {
        let name = dir.write(&sid, &bytes)?;
        store.immediate(|tx| media::mark_fetched(tx, &sid, &name, chrono::Utc::now()))?;
        Ok(bytes)
    })
    .await?;
    // NOTE: served as the type the provider listed (checked above), not as whatever the
    // storage answered: only pictures ever reach the webview.
    Ok((row.content_type, bytes))
}

async fn blocking<R: Send + 'static>(
    f: impl FnOnce() -> Result<R, IpcError> + Send + 'static,
) -> Result<R, IpcError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| IpcError::new("internal", e.to_string()))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_round_trip_to_the_sid() {
        let sid = "ME0123456789abcdef0123456789abcdef";
        let url = url(sid);
        let path = url
            .split_once(".localhost")
            .or_else(|| url.split_once("://localhost"))
            .map(|(_, p)| p)
            .expect("the URL has the platform's localhost form");
        assert_eq!(
            sid_from_path(path).map(|s| s.as_str().to_owned()),
            Some(sid.to_owned()),
            "the shell finds the sid in the path the UI asked for"
        );
        assert!(
            sid_from_path("/ME1/../secret").is_none() && sid_from_path("/").is_none(),
            "a path that is not one sid is refused"
        );
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn linux_uses_the_scheme_on_localhost() {
        assert_eq!(
            url("ME1"),
            "textback-media://localhost/ME1",
            "WebKitGTK loads custom schemes as <scheme>://localhost/"
        );
    }

    #[test]
    fn only_pictures_are_shown_inline() {
        for yes in [
            "image/jpeg",
            "image/png",
            "image/gif",
            "image/webp",
            "image/heic",
        ] {
            assert!(shown_inline(yes), "{yes} is a picture");
        }
        for no in [
            "image/svg+xml",
            "application/pdf",
            "video/mp4",
            "text/vcard",
            "",
        ] {
            assert!(!shown_inline(no), "{no:?} is not shown as a picture");
        }
    }
}

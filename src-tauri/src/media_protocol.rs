//! The `textback-media` URI scheme: MMS pictures for the thread's `<img src>`, answered by
//! `Desk::media` (disk cache, else fetched through the provider). The window's CSP allows this
//! scheme and nothing remote, so every picture comes through here.

use tauri::http::{Response, StatusCode, header};
use tauri::{AppHandle, Manager};

use crate::desk_slot::DeskSlot;

pub async fn answer(app: AppHandle, path: String) -> Response<Vec<u8>> {
    let Some(desk) = app.try_state::<DeskSlot>().and_then(|slot| slot.ready()) else {
        return status(StatusCode::SERVICE_UNAVAILABLE);
    };
    match desk.media(path.trim_start_matches('/')).await {
        Ok((content_type, bytes)) => Response::builder()
            .header(header::CONTENT_TYPE, content_type)
            .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff")
            .header(header::CACHE_CONTROL, "private, max-age=86400")
            .body(bytes)
            .unwrap_or_else(|_| status(StatusCode::INTERNAL_SERVER_ERROR)),
        Err(e) => {
            tracing::debug!(code = %e.code, "attachment not served");
            status(match e.code.as_str() {
                "not_found" => StatusCode::NOT_FOUND,
                "invalid_input" => StatusCode::UNSUPPORTED_MEDIA_TYPE,
                _ => StatusCode::BAD_GATEWAY,
            })
        }
    }
}

fn status(code: StatusCode) -> Response<Vec<u8>> {
    let mut response = Response::new(Vec::new());
    *response.status_mut() = code;
    response
}

use tauri::AppHandle;
use textback_app::IpcError;
use textback_app::dto::{Thread, TimelineItem};

use super::DeskState;

#[tauri::command]
pub async fn conversation_open(
    app: AppHandle,
    desk: DeskState<'_>,
    id: i64,
) -> Result<Thread, IpcError> {
    let desk = desk.get().await?;
    let thread = desk.open_conversation(id).await?;
    crate::bridge::refresh_unread(&app, &desk).await;
    Ok(thread)
}

#[tauri::command]
pub async fn conversation_reply(
    desk: DeskState<'_>,
    id: i64,
    body: String,
) -> Result<TimelineItem, IpcError> {
    let desk = desk.get().await?;
    desk.reply(id, &body).await
}

#[tauri::command]
pub async fn conversation_start(
    desk: DeskState<'_>,
    number: String,
    body: String,
) -> Result<i64, IpcError> {
    let desk = desk.get().await?;
    desk.start_conversation(&number, &body).await
}

#[tauri::command]
pub async fn conversation_mark_read(
    app: AppHandle,
    desk: DeskState<'_>,
    id: i64,
    read: bool,
) -> Result<(), IpcError> {
    let desk = desk.get().await?;
    desk.mark_read(id, read).await?;
    crate::bridge::refresh_unread(&app, &desk).await;
    Ok(())
}

#[tauri::command]
pub async fn conversation_mark_done(
    desk: DeskState<'_>,
    id: i64,
    done: bool,
) -> Result<(), IpcError> {
    let desk = desk.get().await?;
    desk.mark_done(id, done).await
}

#[tauri::command]
pub async fn conversation_assign(
    desk: DeskState<'_>,
    id: i64,
    staff: Option<String>,
) -> Result<(), IpcError> {
    let desk = desk.get().await?;
    desk.assign(id, staff).await
}

#[tauri::command]
pub async fn conversation_add_note(
    desk: DeskState<'_>,
    id: i64,
    body: String,
) -> Result<TimelineItem, IpcError> {
    let desk = desk.get().await?;
    desk.add_note(id, &body).await
}

#[tauri::command]
pub async fn call_send_late_textback(desk: DeskState<'_>, call_id: i64) -> Result<(), IpcError> {
    let desk = desk.get().await?;
    desk.send_late_text_back(call_id).await
}

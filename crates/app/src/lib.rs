//! What the desktop app does, without the GUI: the [`desk::Desk`] runtime (the engine in live
//! or demo mode), inbox queries ([`inbox`]), settings, desktop-alert rules ([`alerts`]), MMS
//! pictures for the shell's `textback-media` protocol ([`media`]), the owner's results
//! ([`funnel`]), the lead-lifecycle settings ([`lead_settings`]), staff and rota ([`team`]),
//! the do-not-text list ([`dnt`]) and the IPC payload types ([`dto`], exported to TypeScript
//! by ts-rs).
//!
//! The Tauri shell is a thin adapter over this crate: each command calls one function here.
//! To add a command: add the function here (test it here), its payload types in [`dto`], then
//! a 3–10 line command in `src-tauri/src/commands/`.

pub mod alerts;
pub mod desk;
pub mod dnt;
pub mod dto;
pub mod funnel;
pub mod inbox;
pub mod lead_settings;
pub mod media;
pub mod team;

pub use desk::{Desk, DeskOptions, Vars, process_env};
pub use dto::IpcError;

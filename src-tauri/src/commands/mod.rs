//! The IPC commands: each a 3–10 line adapter that takes the [`Desk`] from Tauri's state and
//! calls one function of `textback-app`. Every command rejects with `IpcError { code, message }`.
//!
//! Adding one: write it in the module of its domain, register it in `invoke_handler!` in
//! `lib.rs`, add its name to `COMMANDS` in `build.rs` and its `allow-<name>` grant to
//! `capabilities/main.json`.

pub mod app;
pub mod contact;
pub mod conversation;
pub mod dnt;
pub mod escalation;
pub mod inbox;
pub mod lead;
pub mod provider;
pub mod results;
pub mod roster;
pub mod settings;

/// The desk all commands work on, once started: `let desk = desk.get().await?;`.
pub type DeskState<'a> = tauri::State<'a, crate::desk_slot::DeskSlot>;

//! Integration tests for the Twilio simulator, over real HTTP with reqwest.

mod auth;
mod calls;
mod common;
mod control;
mod faults;
mod fuzz;
mod messages;
mod scenario;

//! The Twilio adapter over real HTTP: against the wire-exact simulator (`textback-sim`) for
//! everything Twilio really does, and against a canned loopback server for answers a
//! well-behaved simulator never gives (hostile links, endless paging, oversized pages).

mod auth;
mod calcom;
mod calls;
mod canned;
mod faults;
mod fuzz;
mod hostile;
mod media;
mod messages;
mod support;

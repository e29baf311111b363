//! The engine's integration tests: the real engine, over real HTTP, against the Twilio
//! simulator on 127.0.0.1, on a real SQLite file in a temp dir. Tests drive the engine's
//! steps (`sync_once`, `send_step`, `reconcile`) and move its clock; nothing sleeps.

mod bookings;
mod common;
mod fuzz;
mod lifecycle;
mod lifecycle_properties;
mod media;
mod policy;
mod properties;
mod restart;
mod send_errors;
mod shapes;
mod storage;
mod sync_faults;

//! End-to-end tests: one binary, one module per area. Run them with `bash scripts/e2e.sh`;
//! elsewhere each test prints why it is skipped and passes.

mod alerts;
mod escalation;
mod inbox;
mod keychain;
mod settings;
mod window;

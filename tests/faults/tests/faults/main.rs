//! The fault-injection suite: the real `textback daemon` against the simulator, one case per
//! module. Each case prints a table (to stdout: run with `--nocapture` to see it) and appends
//! it to `<target dir>/faults-report.txt`, then asserts on the same figures.
//!
//! ```text
//! cargo test -p textback-faults -- --nocapture                            # short form (CI)
//! TEXTBACK_FAULTS_LONG=1 cargo test -p textback-faults -- --nocapture     # long form
//! TEXTBACK_FAULTS_SEED=1234 ...     replay a printed schedule
//! TEXTBACK_FAULTS_LOG=debug ...     the daemon's log level (its log: daemon.log in the case's
//!                                   temp dir, kept and printed when a case fails)
//! TEXTBACK_BIN=/path/to/textback    run that binary instead of building textback-cli
//! ```

mod clock;
mod kill;
mod outage;
mod regressions;
mod reply;
mod revoked;
mod storm;

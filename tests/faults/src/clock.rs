//! One test clock for the daemon and the simulator, so hours pass in minutes and the clock can
//! jump while both run.
//!
//! The daemon follows the file named by `TEXTBACK_TEST_CLOCK` (`crates/cli/src/test_clock.rs`:
//! `origin`, `scale`, `offset` lines; `now = origin + (wall − origin) × scale + offset`), and
//! the simulator gets the same three numbers through [`Sim::set_clock_scale`] and
//! [`Sim::set_clock_offset`], so call and message time stamps agree with the daemon's clock.
//! [`TestClock`] keeps every setting it gave, so a case can ask when (in real time) the clock
//! first reached a given reading, across jumps.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chrono::{DateTime, SecondsFormat, Utc};
use textback_sim::Sim;

/// The variable the daemon reads.
pub const ENV: &str = "TEXTBACK_TEST_CLOCK";

/// One setting: from wall time `since` on, the clock read `origin + (wall − origin) × scale +
/// offset`.
#[derive(Debug, Clone, Copy)]
struct Setting {
    since: DateTime<Utc>,
    offset: chrono::Duration,
}

/// The clock file and the history of its settings.
#[derive(Debug)]
pub struct TestClock {
    path: PathBuf,
    origin: DateTime<Utc>,
    scale: f64,
    settings: Vec<Setting>,
    /// A pair of readings of the monotonic and the wall clock, to turn one into the other.
    anchor: (Instant, DateTime<Utc>),
}

impl TestClock {
    /// Starts a clock running `scale` times as fast as the wall clock, reading the wall clock
    /// now, in the file `path` (give the daemon `ENV=path`), and puts the sim on it.
    pub fn start(path: &Path, scale: f64, sim: &Sim) -> TestClock {
        let anchor = (Instant::now(), Utc::now());
        // Whole milliseconds, as the file carries them: the daemon and this side then agree.
        let origin = DateTime::from_timestamp_millis(anchor.1.timestamp_millis())
            .expect("the wall clock is a valid time");
        let clock = TestClock {
            path: path.to_owned(),
            origin,
            scale,
            settings: vec![Setting {
                since: origin,
                offset: chrono::Duration::zero(),
            }],
            anchor,
        };
        clock.write();
        sim.set_clock_scale(origin, scale)
            .expect("the test's scale suits the sim");
        sim.set_clock_offset(chrono::Duration::zero());
        clock
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn scale(&self) -> f64 {
        self.scale
    }

    fn offset(&self) -> chrono::Duration {
        self.settings
            .last()
            .map_or_else(chrono::Duration::zero, |s| s.offset)
    }

    /// The reading at wall time `wall` under `offset`, exactly as the daemon computes it.
    fn reading(&self, wall: DateTime<Utc>, offset: chrono::Duration) -> DateTime<Utc> {
        let since = (wall - self.origin).num_milliseconds() as f64 * self.scale;
        self.origin + chrono::Duration::milliseconds(since as i64) + offset
    }

    /// What the daemon's clock reads now.
    pub fn now(&self) -> DateTime<Utc> {
        self.reading(Utc::now(), self.offset())
    }

    /// `d` of this clock's time, in real time.
    pub fn real(&self, d: chrono::Duration) -> Duration {
        Duration::from_secs_f64((d.num_milliseconds() as f64 / 1000.0 / self.scale).max(0.0))
    }

    /// Moves the clock by `by` (negative: back), for the daemon (its next read of the file)
    /// and the sim (at once).
    pub fn jump(&mut self, by: chrono::Duration, sim: &Sim) {
        let offset = self.offset() + by;
        self.settings.push(Setting {
            since: Utc::now(),
            offset,
        });
        self.write();
        sim.set_clock_offset(offset);
    }

    /// When (real, monotonic) the clock first read `t` or later, across every jump; `None`
    /// if it has not yet.
    pub fn reached(&self, t: DateTime<Utc>) -> Option<Instant> {
        for (i, s) in self.settings.iter().enumerate() {
            let until = self.settings.get(i + 1).map(|n| n.since);
            let wall = if self.reading(s.since, s.offset) >= t {
                s.since
            } else {
                // Solve origin + (wall − origin) × scale + offset = t for wall.
                let ms = (t - s.offset - self.origin).num_milliseconds() as f64 / self.scale;
                self.origin + chrono::Duration::milliseconds(ms.ceil() as i64)
            };
            if until.is_none_or(|u| wall < u) {
                return (wall <= Utc::now()).then(|| self.instant_of(wall));
            }
        }
        None
    }

    /// The monotonic instant of wall time `wall` (both clocks read together at the start).
    pub fn instant_of(&self, wall: DateTime<Utc>) -> Instant {
        let (at, at_wall) = self.anchor;
        match (wall - at_wall).to_std() {
            Ok(after) => at + after,
            Err(_) => at
                .checked_sub((at_wall - wall).to_std().unwrap_or_default())
                .unwrap_or(at),
        }
    }

    /// Writes the file the daemon reads: a new file renamed over the old one, so the daemon
    /// never reads half of it.
    fn write(&self) {
        let text = format!(
            "# textback test clock: now = origin + (wall - origin) * scale + offset\norigin = {}\nscale = {}\noffset = {:.3}\n",
            self.origin.to_rfc3339_opts(SecondsFormat::Millis, true),
            self.scale,
            self.offset().num_milliseconds() as f64 / 1000.0,
        );
        let tmp = self.path.with_extension("tmp");
        std::fs::write(&tmp, text).expect("the clock file is written");
        std::fs::rename(&tmp, &self.path).expect("the clock file is put in place");
    }
}

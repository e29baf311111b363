//! A test-only time source for the daemon, so fault tests can make hours pass in minutes and
//! jump the clock while it runs. Off unless `TEXTBACK_TEST_CLOCK` names a file; never used by
//! the desktop app.
//!
//! The file holds `key = value` lines (blank lines and `#` comments allowed):
//!
//! ```text
//! origin = 2026-05-04T09:00:00Z   # RFC 3339; required
//! scale = 60                      # how many clock seconds pass per real second; required, > 0
//! offset = -3600                  # seconds added on top, decimals allowed; optional, default 0
//! ```
//!
//! and the clock reads `now = origin + (wall − origin) × scale + offset`. The file is looked at
//! (one `stat`) on every read of the clock and read again whenever it changed, so a running
//! test jumps the clock by rewriting the offset (best by writing a new file and renaming it over
//! the old one). A file that is malformed at start stops the daemon with the reason; one that
//! becomes malformed or disappears later is reported and the last good setting stays in force.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration as StdDuration, SystemTime};

use chrono::{DateTime, Utc};
use textback_domain::Clock;

/// The environment variable naming the clock file.
pub const ENV: &str = "TEXTBACK_TEST_CLOCK";

/// The fastest pace accepted: a million clock seconds per real second (11.5 days a second).
const MAX_SCALE: f64 = 1e6;
/// The largest offset accepted: about a hundred years either way.
const MAX_OFFSET_SECS: f64 = 100.0 * 366.0 * 24.0 * 3600.0;

/// Why the clock file cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestClockError {
    path: PathBuf,
    /// 1-based line of the problem, when it is on one line.
    line: Option<usize>,
    message: String,
}

impl fmt::Display for TestClockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{ENV}={}", self.path.display())?;
        if let Some(line) = self.line {
            write!(f, " line {line}")?;
        }
        write!(
            f,
            ": {} (the file holds `origin = <RFC 3339 time>`, `scale = <number above 0>` and optionally `offset = <seconds>`)",
            self.message
        )
    }
}

impl std::error::Error for TestClockError {}

/// What the clock file says.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pace {
    /// The wall-clock instant at which the clock (before the offset) reads the same as the wall.
    pub origin: DateTime<Utc>,
    /// Clock seconds per real second.
    pub scale: f64,
    pub offset: chrono::Duration,
}

impl Pace {
    /// Reads the file's text; `Err((line, message))`.
    pub fn parse(text: &str) -> Result<Pace, (Option<usize>, String)> {
        let (mut origin, mut scale, mut offset) = (None, None, None);
        for (i, raw) in text.lines().enumerate() {
            let line = raw.split('#').next().unwrap_or_default().trim();
            if line.is_empty() {
                continue;
            }
            let at = Some(i + 1);
            let Some((key, value)) = line.split_once('=') else {
                return Err((at, format!("expected `key = value`, found {line:?}")));
            };
            let (key, value) = (key.trim(), value.trim());
            let seen = match key {
                "origin" => origin
                    .replace(parse_origin(value).map_err(|m| (at, m))?)
                    .map(|_| ()),
                "scale" => scale
                    .replace(parse_scale(value).map_err(|m| (at, m))?)
                    .map(|_| ()),
                "offset" => offset
                    .replace(parse_offset(value).map_err(|m| (at, m))?)
                    .map(|_| ()),
                other => return Err((at, format!("unknown key {other:?}"))),
            };
            if seen.is_some() {
                return Err((at, format!("{key} is given twice")));
            }
        }
        Ok(Pace {
            origin: origin.ok_or((None, "origin is missing".to_owned()))?,
            scale: scale.ok_or((None, "scale is missing".to_owned()))?,
            offset: offset.unwrap_or_default(),
        })
    }

    /// The clock's reading at wall-clock instant `wall`. Never panics: a reading beyond what a
    /// date can hold saturates.
    pub fn at(&self, wall: DateTime<Utc>) -> DateTime<Utc> {
        let since = (wall - self.origin).num_milliseconds() as f64 * self.scale;
        // `as` saturates a float that does not fit.
        let scaled = chrono::Duration::try_milliseconds(since as i64).unwrap_or(if since < 0.0 {
            chrono::Duration::MIN
        } else {
            chrono::Duration::MAX
        });
        let saturate = || {
            if since < 0.0 {
                DateTime::<Utc>::MIN_UTC
            } else {
                DateTime::<Utc>::MAX_UTC
            }
        };
        self.origin
            .checked_add_signed(scaled)
            .and_then(|t| t.checked_add_signed(self.offset))
            .unwrap_or_else(saturate)
    }

    /// The real time in which `span` of this clock passes.
    pub fn real_wait(&self, span: StdDuration) -> StdDuration {
        StdDuration::try_from_secs_f64(span.as_secs_f64() / self.scale).unwrap_or(span)
    }
}

fn parse_origin(value: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(value)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| {
            format!("origin {value:?} is not an RFC 3339 time like 2026-05-04T09:00:00Z: {e}")
        })
}

fn parse_scale(value: &str) -> Result<f64, String> {
    match value.parse::<f64>() {
        Ok(s) if s.is_finite() && s > 0.0 && s <= MAX_SCALE => Ok(s),
        _ => Err(format!(
            "scale {value:?} must be a number above 0 and at most {MAX_SCALE}"
        )),
    }
}

fn parse_offset(value: &str) -> Result<chrono::Duration, String> {
    match value.parse::<f64>() {
        Ok(s) if s.is_finite() && s.abs() <= MAX_OFFSET_SECS => {
            Ok(chrono::Duration::milliseconds((s * 1000.0).round() as i64))
        }
        _ => Err(format!(
            "offset {value:?} must be a number of seconds (decimals allowed) within about 100 years"
        )),
    }
}

/// What identifies one version of the file: a rename puts a new inode in place, an edit in
/// place changes the modification time or the length.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Stamp {
    modified: Option<SystemTime>,
    len: u64,
    #[cfg(unix)]
    inode: u64,
}

impl Stamp {
    fn of(meta: &std::fs::Metadata) -> Stamp {
        Stamp {
            modified: meta.modified().ok(),
            len: meta.len(),
            #[cfg(unix)]
            inode: std::os::unix::fs::MetadataExt::ino(meta),
        }
    }
}

#[derive(Debug)]
struct State {
    pace: Pace,
    /// The file version `pace` came from, or the last one found unusable (said once).
    seen: Option<Stamp>,
    /// The last problem reported, so it is said once, not on every read.
    problem: Option<String>,
}

/// The clock the daemon uses when `TEXTBACK_TEST_CLOCK` is set.
#[derive(Debug)]
pub struct FileClock {
    path: PathBuf,
    state: Mutex<State>,
}

impl FileClock {
    /// Reads the file once; a missing or malformed file is an error.
    pub fn open(path: &Path) -> Result<FileClock, TestClockError> {
        let err = |line, message| TestClockError {
            path: path.to_owned(),
            line,
            message,
        };
        let meta =
            std::fs::metadata(path).map_err(|e| err(None, format!("cannot read it: {e}")))?;
        let text =
            std::fs::read_to_string(path).map_err(|e| err(None, format!("cannot read it: {e}")))?;
        let pace = Pace::parse(&text).map_err(|(line, m)| err(line, m))?;
        Ok(FileClock {
            path: path.to_owned(),
            state: Mutex::new(State {
                pace,
                seen: Some(Stamp::of(&meta)),
                problem: None,
            }),
        })
    }

    /// The clock named by the environment, if any.
    pub fn from_env(
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Option<FileClock>, TestClockError> {
        match env(ENV).filter(|v| !v.trim().is_empty()) {
            Some(path) => FileClock::open(Path::new(path.trim())).map(Some),
            None => Ok(None),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The setting in force, after looking whether the file changed.
    pub fn pace(&self) -> Pace {
        let mut state = self.lock();
        let stamp = std::fs::metadata(&self.path).map(|m| Stamp::of(&m));
        match stamp {
            Ok(stamp) if state.seen.as_ref() == Some(&stamp) => {}
            Ok(stamp) => {
                let read = std::fs::read_to_string(&self.path)
                    .map_err(|e| format!("cannot read it: {e}"))
                    .and_then(|text| {
                        Pace::parse(&text).map_err(|(line, m)| match line {
                            Some(l) => format!("line {l}: {m}"),
                            None => m,
                        })
                    });
                state.seen = Some(stamp);
                match read {
                    Ok(pace) => {
                        if pace != state.pace {
                            tracing::warn!(
                                origin = %pace.origin, scale = pace.scale, offset_ms = pace.offset.num_milliseconds(),
                                "TEST CLOCK changed"
                            );
                        }
                        state.pace = pace;
                        state.problem = None;
                    }
                    Err(m) => Self::report(&mut state, &self.path, m),
                }
            }
            Err(e) => Self::report(&mut state, &self.path, format!("cannot read it: {e}")),
        }
        state.pace
    }

    fn report(state: &mut State, path: &Path, message: String) {
        if state.problem.as_deref() != Some(message.as_str()) {
            tracing::error!(
                "{ENV}={}: {message}; the test clock keeps its last good setting",
                path.display()
            );
            state.problem = Some(message);
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave a half-written Pace (it is Copy).
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Clock for FileClock {
    fn now(&self) -> DateTime<Utc> {
        self.pace().at(Utc::now())
    }

    fn real_wait(&self, span: StdDuration) -> StdDuration {
        self.pace().real_wait(span)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn origin() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 5, 4, 9, 0, 0).unwrap()
    }

    #[test]
    fn the_reading_runs_at_the_scale_from_the_origin_plus_the_offset() {
        let pace = Pace::parse(
            "# test clock\norigin = 2026-05-04T09:00:00Z\nscale = 60  # an hour a minute\noffset = -1.5\n",
        )
        .expect("a well-formed file reads");
        assert_eq!(pace.origin, origin(), "origin is read as UTC");
        assert_eq!(
            pace.at(origin() + chrono::Duration::seconds(60)),
            origin() + chrono::Duration::hours(1) - chrono::Duration::milliseconds(1500),
            "a real minute after the origin the clock is an hour on, minus the offset's 1.5 s"
        );
        assert_eq!(
            pace.real_wait(StdDuration::from_secs(3600)),
            StdDuration::from_secs(60),
            "an hour of this clock passes in a real minute"
        );
        let plain = Pace::parse("origin = 2026-05-04T11:00:00+02:00\nscale = 1").expect("reads");
        assert_eq!(
            plain.at(origin()),
            origin(),
            "offset defaults to 0 and a zone-qualified origin means the same instant"
        );
    }

    #[test]
    fn a_malformed_file_is_refused_with_the_line_and_what_is_wrong() {
        let cases = [
            ("scale = 60", None, "origin is missing"),
            ("origin = 2026-05-04T09:00:00Z", None, "scale is missing"),
            ("origin = yesterday\nscale = 1", Some(1), "RFC 3339"),
            (
                "origin = 2026-05-04T09:00:00Z\nscale = 0",
                Some(2),
                "above 0",
            ),
            (
                "origin = 2026-05-04T09:00:00Z\nscale = -2",
                Some(2),
                "above 0",
            ),
            (
                "origin = 2026-05-04T09:00:00Z\nscale = NaN",
                Some(2),
                "above 0",
            ),
            (
                "origin = 2026-05-04T09:00:00Z\nscale = inf",
                Some(2),
                "above 0",
            ),
            (
                "origin = 2026-05-04T09:00:00Z\nscale = 1e300",
                Some(2),
                "at most",
            ),
            (
                "origin = 2026-05-04T09:00:00Z\nscale = 1\noffset = 1e20",
                Some(3),
                "offset",
            ),
            (
                "origin = 2026-05-04T09:00:00Z\nscale = 1\nscale = 2",
                Some(3),
                "twice",
            ),
            (
                "origin = 2026-05-04T09:00:00Z\nscale = 1\nspeed = 2",
                Some(3),
                "unknown key",
            ),
            ("origin 2026-05-04T09:00:00Z", Some(1), "key = value"),
        ];
        for (text, line, needle) in cases {
            match Pace::parse(text) {
                Ok(p) => panic!("{text:?} must be refused, read as {p:?}"),
                Err((at, message)) => {
                    assert_eq!(
                        at, line,
                        "{text:?}: the error points at the line: {message}"
                    );
                    assert!(
                        message.contains(needle),
                        "{text:?}: the message says what is wrong ({needle}): {message}"
                    );
                }
            }
        }
    }

    #[test]
    fn extreme_but_valid_settings_saturate_instead_of_panicking() {
        let pace = Pace {
            origin: DateTime::<Utc>::MIN_UTC,
            scale: MAX_SCALE,
            offset: chrono::Duration::zero(),
        };
        assert_eq!(
            pace.at(DateTime::<Utc>::MAX_UTC),
            DateTime::<Utc>::MAX_UTC,
            "a reading past what a date can hold saturates"
        );
        let tiny = Pace {
            origin: origin(),
            scale: 1e-300,
            offset: chrono::Duration::zero(),
        };
        assert_eq!(
            tiny.real_wait(StdDuration::from_secs(1)),
            StdDuration::from_secs(1),
            "a wait too long to represent falls back to the span rather than panicking"
        );
    }

    #[test]
    fn the_file_is_followed_while_the_clock_runs_and_a_bad_edit_keeps_the_last_good_setting() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let path = dir.path().join("clock");
        let write = |text: &str| {
            // As the fault tests do: a new file renamed over the old one.
            let tmp = dir.path().join("clock.tmp");
            std::fs::write(&tmp, text).expect("the temp file is written");
            std::fs::rename(&tmp, &path).expect("the rename succeeds");
        };
        let far = "2000-01-01T00:00:00Z";
        write(&format!("origin = {far}\nscale = 1\n"));
        let clock = FileClock::open(&path).expect("the file reads");
        let drift = (clock.now() - Utc::now()).num_milliseconds().abs();
        assert!(
            drift < 1000,
            "scale 1, offset 0: the wall clock ({drift} ms apart)"
        );

        write(&format!("origin = {far}\nscale = 1\noffset = 10800\n"));
        let jumped = clock.now() - Utc::now();
        assert!(
            (jumped - chrono::Duration::hours(3))
                .num_milliseconds()
                .abs()
                < 1000,
            "a rewritten offset is seen on the next read: +3 h, got {jumped}"
        );

        write("origin = garbage\n");
        let kept = clock.now() - Utc::now();
        assert!(
            (kept - chrono::Duration::hours(3)).num_milliseconds().abs() < 1000,
            "a malformed rewrite keeps the last good setting, got {kept}"
        );
        std::fs::remove_file(&path).expect("the file is removed");
        let gone = clock.now() - Utc::now();
        assert!(
            (gone - chrono::Duration::hours(3)).num_milliseconds().abs() < 1000,
            "a vanished file keeps the last good setting, got {gone}"
        );
        assert_eq!(
            clock.real_wait(StdDuration::from_secs(5)),
            StdDuration::from_secs(5),
            "scale 1 waits the span itself"
        );

        let missing = FileClock::open(&dir.path().join("nope")).expect_err("no file, no clock");
        assert!(
            missing.to_string().contains("TEXTBACK_TEST_CLOCK=")
                && missing.to_string().contains("cannot read"),
            "the start-up error names the variable and the problem: {missing}"
        );
        write("origin = 2026-05-04T09:00:00Z\nscale = fast\n");
        let bad = FileClock::open(&path).expect_err("a malformed file stops the start");
        assert!(
            bad.to_string().contains("line 2") && bad.to_string().contains("scale"),
            "the start-up error names the line and the key: {bad}"
        );
        let env = |k: &str| (k == ENV).then(|| path.display().to_string());
        assert!(
            FileClock::from_env(&env).is_err(),
            "from_env reads the named file"
        );
        assert!(
            FileClock::from_env(&|_| None)
                .expect("unset is fine")
                .is_none(),
            "without the variable there is no test clock"
        );
    }
}

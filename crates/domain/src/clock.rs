//! Where "now" comes from. Every rule takes time as a value, and every component that needs
//! the current time takes a [`Clock`], so tests drive time instead of sleeping.

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};

use chrono::{DateTime, Utc};

/// A source of the current UTC time.
pub trait Clock: Send + Sync + fmt::Debug {
    /// The current instant, in UTC.
    fn now(&self) -> DateTime<Utc>;
}

impl<C: Clock + ?Sized> Clock for Arc<C> {
    fn now(&self) -> DateTime<Utc> {
        (**self).now()
    }
}

impl<C: Clock + ?Sized> Clock for &C {
    fn now(&self) -> DateTime<Utc> {
        (**self).now()
    }
}

/// The operating system's wall clock.
#[derive(Debug, Default, Clone)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that only moves when told to. Clones share the same time, so a test can keep one
/// handle and give another to the code under test.
#[derive(Debug, Clone)]
pub struct ManualClock(Arc<Mutex<DateTime<Utc>>>);

impl ManualClock {
    /// A clock stopped at `start`.
    pub fn new(start: DateTime<Utc>) -> Self {
        Self(Arc::new(Mutex::new(start)))
    }

    /// Moves the clock by `d` (negative moves it back).
    pub fn advance(&self, d: chrono::Duration) {
        let mut now = self.lock();
        *now += d;
    }

    /// Puts the clock at `t`.
    pub fn set(&self, t: DateTime<Utc>) {
        *self.lock() = t;
    }

    fn lock(&self) -> MutexGuard<'_, DateTime<Utc>> {
        // A panic while holding this lock cannot leave a half-written DateTime behind, so a
        // poisoned lock still holds a valid time.
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.lock()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn manual_clock_moves_only_when_told_and_clones_share_time() {
        let start = Utc.with_ymd_and_hms(2026, 3, 8, 6, 0, 0).unwrap();
        let clock = ManualClock::new(start);
        let handle = clock.clone();
        assert_eq!(clock.now(), start, "a manual clock must not move by itself");
        handle.advance(chrono::Duration::minutes(5));
        assert_eq!(
            clock.now(),
            start + chrono::Duration::minutes(5),
            "clones share one time so a test can drive the clock it handed out"
        );
        clock.set(start);
        assert_eq!(
            handle.now(),
            start,
            "set must be visible through every clone"
        );
    }

    #[test]
    fn clock_works_behind_an_arc_dyn() {
        let start = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let clock: Arc<dyn Clock> = Arc::new(ManualClock::new(start));
        assert_eq!(
            clock.now(),
            start,
            "engine code holds Arc<dyn Clock>; it must delegate"
        );
    }
}

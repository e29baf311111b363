//! Where "now" comes from. Every rule takes time as a value, and every component that needs
//! the current time takes a [`Clock`], so tests drive time instead of sleeping.

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration as StdDuration;

use chrono::{DateTime, Utc};

/// A source of the current UTC time.
pub trait Clock: Send + Sync + fmt::Debug {
    /// The current instant, in UTC.
    fn now(&self) -> DateTime<Utc>;

    /// How long to wait in real time (a tokio sleep) for `span` of this clock's time to pass.
    /// A clock that keeps real time answers `span` itself; a test clock that runs faster than
    /// the wall clock answers less, so a loop waiting for its next timer does not oversleep.
    fn real_wait(&self, span: StdDuration) -> StdDuration {
        span
    }
}

// NOTE: the wrappers forward every method, provided ones included: left to the default, a
// scaled clock behind an `Arc` would answer real-time waits as if it were the system clock.
impl<C: Clock + ?Sized> Clock for Arc<C> {
    fn now(&self) -> DateTime<Utc> {
        (**self).now()
    }

    fn real_wait(&self, span: StdDuration) -> StdDuration {
        (**self).real_wait(span)
    }
}

impl<C: Clock + ?Sized> Clock for &C {
    fn now(&self) -> DateTime<Utc> {
        (**self).now()
    }

    fn real_wait(&self, span: StdDuration) -> StdDuration {
        (**self).real_wait(span)
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

    /// A clock running twice as fast as real time, to see the wrappers forward `real_wait`.
    #[derive(Debug)]
    struct Double;

    impl Clock for Double {
        fn now(&self) -> DateTime<Utc> {
            Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap()
        }

        fn real_wait(&self, span: StdDuration) -> StdDuration {
            span / 2
        }
    }

    #[test]
    fn real_time_clocks_wait_the_span_itself_and_wrappers_forward_a_scaled_wait() {
        let minute = StdDuration::from_secs(60);
        assert_eq!(
            SystemClock.real_wait(minute),
            minute,
            "the system clock keeps real time: a minute of it is a minute of waiting"
        );
        assert_eq!(
            ManualClock::new(Utc::now()).real_wait(minute),
            minute,
            "a manual clock has no pace of its own; tests drive it, so the default applies"
        );
        let shared: Arc<dyn Clock> = Arc::new(Double);
        assert_eq!(
            shared.real_wait(minute),
            minute / 2,
            "the engine holds Arc<dyn Clock>: the wrapper must forward, not fall back to the default"
        );
        fn wait_of(clock: impl Clock, span: StdDuration) -> StdDuration {
            clock.real_wait(span)
        }
        assert_eq!(
            wait_of(&Double, minute),
            minute / 2,
            "a borrowed clock forwards too"
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

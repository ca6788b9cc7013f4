//! `Instant`: std's monotonic clock reading, taken through reprise so that a
//! replay gives back the recorded reading and `elapsed()` measures recorded
//! time, not the replaying machine's.

use std::fmt;
use std::ops::{Add, AddAssign, Sub, SubAssign};
use std::panic::Location;
use std::time::Duration;

/// A reading of the monotonic clock. Like [`std::time::Instant`], but
/// [`Instant::now`] and [`Instant::elapsed`] read the clock through reprise:
/// recorded in record mode, the recorded reading in replay, the virtual clock
/// under the explorer and loom. Arithmetic between readings is plain
/// arithmetic, as std's.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant(std::time::Instant);

impl Instant {
    /// The clock now. Like [`std::time::Instant::now`]; one clock read.
    #[track_caller]
    #[must_use]
    pub fn now() -> Instant {
        Instant(super::now_at(Location::caller()))
    }

    /// The time from `earlier` to `self`, zero if `earlier` is later. Like
    /// [`std::time::Instant::duration_since`].
    #[must_use]
    pub fn duration_since(&self, earlier: Instant) -> Duration {
        self.0.duration_since(earlier.0)
    }

    /// The time from `earlier` to `self`, `None` if `earlier` is later.
    #[must_use]
    pub fn checked_duration_since(&self, earlier: Instant) -> Option<Duration> {
        self.0.checked_duration_since(earlier.0)
    }

    /// The time from `earlier` to `self`, zero if `earlier` is later.
    #[must_use]
    pub fn saturating_duration_since(&self, earlier: Instant) -> Duration {
        self.0.saturating_duration_since(earlier.0)
    }

    /// The time since `self`: one clock read, as [`Instant::now`]. Like
    /// [`std::time::Instant::elapsed`].
    #[track_caller]
    #[must_use]
    pub fn elapsed(&self) -> Duration {
        Instant::now().saturating_duration_since(*self)
    }

    /// `self + duration`, `None` when the clock cannot represent it.
    pub fn checked_add(&self, duration: Duration) -> Option<Instant> {
        self.0.checked_add(duration).map(Instant)
    }

    /// `self - duration`, `None` when the clock cannot represent it.
    pub fn checked_sub(&self, duration: Duration) -> Option<Instant> {
        self.0.checked_sub(duration).map(Instant)
    }

    /// The std reading, for an API that takes one. In replay it is the
    /// recorded reading, shifted onto this run's clock.
    #[must_use]
    pub fn into_std(self) -> std::time::Instant {
        self.0
    }

    /// The reading `instant` of std's clock, as reprise's (a timer channel's
    /// message, which the timer's backend records or replays itself).
    #[cfg_attr(reprise_loom, allow(dead_code))]
    pub(crate) fn from_std(instant: std::time::Instant) -> Instant {
        Instant(instant)
    }
}

impl From<Instant> for std::time::Instant {
    fn from(instant: Instant) -> std::time::Instant {
        instant.0
    }
}

impl Add<Duration> for Instant {
    type Output = Instant;

    /// # Panics
    ///
    /// As std's, when the result cannot be represented.
    fn add(self, duration: Duration) -> Instant {
        Instant(self.0 + duration)
    }
}

impl AddAssign<Duration> for Instant {
    fn add_assign(&mut self, duration: Duration) {
        self.0 += duration;
    }
}

impl Sub<Duration> for Instant {
    type Output = Instant;

    fn sub(self, duration: Duration) -> Instant {
        Instant(self.0 - duration)
    }
}

impl SubAssign<Duration> for Instant {
    fn sub_assign(&mut self, duration: Duration) {
        self.0 -= duration;
    }
}

impl Sub<Instant> for Instant {
    type Output = Duration;

    /// Zero if `earlier` is later, as std's.
    fn sub(self, earlier: Instant) -> Duration {
        self.duration_since(earlier)
    }
}

impl fmt::Debug for Instant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

//! `SystemTime`: std's wall clock reading, taken through reprise so that a
//! replay gives back the recorded reading.

use std::fmt;
use std::ops::{Add, AddAssign, Sub, SubAssign};
use std::panic::Location;
use std::time::{Duration, SystemTimeError};

/// A reading of the wall clock. Like [`std::time::SystemTime`], but
/// [`SystemTime::now`] and [`SystemTime::elapsed`] read the clock through
/// reprise: recorded in record mode, the recorded reading in replay, a
/// virtual clock from a fixed day under the explorer and loom.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SystemTime(std::time::SystemTime);

/// 1970-01-01 00:00:00 UTC. Like [`std::time::UNIX_EPOCH`].
pub const UNIX_EPOCH: SystemTime = SystemTime(std::time::UNIX_EPOCH);

impl SystemTime {
    /// 1970-01-01 00:00:00 UTC. Like [`std::time::SystemTime::UNIX_EPOCH`].
    pub const UNIX_EPOCH: SystemTime = UNIX_EPOCH;

    /// The wall clock now. Like [`std::time::SystemTime::now`]; one clock
    /// read.
    #[track_caller]
    #[must_use]
    pub fn now() -> SystemTime {
        SystemTime(super::system_now_at(Location::caller()))
    }

    /// The time from `earlier` to `self`. Like
    /// [`std::time::SystemTime::duration_since`].
    ///
    /// # Errors
    ///
    /// When `earlier` is later than `self`; the error holds the difference.
    pub fn duration_since(&self, earlier: SystemTime) -> Result<Duration, SystemTimeError> {
        self.0.duration_since(earlier.0)
    }

    /// The time since `self`: one clock read, as [`SystemTime::now`].
    ///
    /// # Errors
    ///
    /// When the clock now reads earlier than `self`.
    #[track_caller]
    pub fn elapsed(&self) -> Result<Duration, SystemTimeError> {
        SystemTime::now().duration_since(*self)
    }

    /// `self + duration`, `None` when it cannot be represented.
    pub fn checked_add(&self, duration: Duration) -> Option<SystemTime> {
        self.0.checked_add(duration).map(SystemTime)
    }

    /// `self - duration`, `None` when it cannot be represented.
    pub fn checked_sub(&self, duration: Duration) -> Option<SystemTime> {
        self.0.checked_sub(duration).map(SystemTime)
    }

    /// The std reading, for an API that takes one.
    #[must_use]
    pub fn into_std(self) -> std::time::SystemTime {
        self.0
    }
}

impl From<SystemTime> for std::time::SystemTime {
    fn from(time: SystemTime) -> std::time::SystemTime {
        time.0
    }
}

impl Add<Duration> for SystemTime {
    type Output = SystemTime;

    fn add(self, duration: Duration) -> SystemTime {
        SystemTime(self.0 + duration)
    }
}

impl AddAssign<Duration> for SystemTime {
    fn add_assign(&mut self, duration: Duration) {
        self.0 += duration;
    }
}

impl Sub<Duration> for SystemTime {
    type Output = SystemTime;

    fn sub(self, duration: Duration) -> SystemTime {
        SystemTime(self.0 - duration)
    }
}

impl SubAssign<Duration> for SystemTime {
    fn sub_assign(&mut self, duration: Duration) {
        self.0 -= duration;
    }
}

impl fmt::Debug for SystemTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

//! Time: clock reads and sleeps as events. Replay returns the recorded clock
//! and skips recorded sleeps, so it runs time-compressed.
//!
//! The module has `std::time`'s shape: [`Instant`] and [`SystemTime`] are
//! reprise's own types with std's methods, so `Instant::now()` and
//! `elapsed()` are recorded clock reads, and [`Duration`] is std's.
//!
//! This file is the shell; each mode's clock is in its own file: `off.rs`
//! (the real clock), `record.rs`, `replay.rs`, `explore.rs` (the explorer's
//! virtual clock) and, under `--cfg reprise_loom`, `loom.rs` (a virtual clock
//! per loom execution, advanced only by sleeps).

#[cfg(not(reprise_loom))]
mod explore;
mod instant;
#[cfg(reprise_loom)]
mod loom;
#[cfg(not(reprise_loom))]
mod off;
#[cfg(not(reprise_loom))]
mod record;
#[cfg(not(reprise_loom))]
mod replay;
mod system;

pub use instant::Instant;
use std::panic::Location;
pub use std::time::{Duration, SystemTimeError, TryFromFloatSecsError};
pub use system::{SystemTime, UNIX_EPOCH};

#[cfg(reprise_loom)]
use self::loom as passthrough;
#[cfg(not(reprise_loom))]
use self::off as passthrough;
use crate::rt::mode::{self, Mode};

/// The wall clock's start under the explorer and loom: 2023-11-14T22:13:20Z,
/// so virtual runs do not depend on the day.
const VIRTUAL_EPOCH_NANOS: u64 = 1_700_000_000 * 1_000_000_000;

/// A duration in whole nanoseconds, saturating (584 years) as the trace's
/// field does.
fn nanos(duration: Duration) -> u64 {
    duration.as_nanos().min(u128::from(u64::MAX)) as u64
}

/// The monotonic clock: the same as [`Instant::now`]. Use it (or
/// [`Instant`]) instead of `std::time::Instant::now()` inside an execution:
/// a direct clock read is not recorded and diverges in replay.
#[track_caller]
pub fn now() -> Instant {
    Instant::now()
}

/// The wall clock: the same as [`SystemTime::now`]. Use it instead of
/// `std::time::SystemTime::now()` inside an execution.
#[track_caller]
pub fn system_now() -> SystemTime {
    SystemTime::now()
}

/// One read of the monotonic clock by the mode serving this thread, as
/// called at `location`.
#[cfg_attr(reprise_loom, allow(unused_variables))]
fn now_at(location: &'static Location<'static>) -> std::time::Instant {
    match mode::mode() {
        Mode::Off => passthrough::now(),
        #[cfg(not(reprise_loom))]
        Mode::Record => record::now(location),
        #[cfg(not(reprise_loom))]
        Mode::Gated => replay::now(location),
        #[cfg(not(reprise_loom))]
        Mode::Coop => explore::now(location),
    }
}

/// One read of the wall clock by the mode serving this thread.
#[cfg_attr(reprise_loom, allow(unused_variables))]
fn system_now_at(location: &'static Location<'static>) -> std::time::SystemTime {
    match mode::mode() {
        Mode::Off => passthrough::system_now(),
        #[cfg(not(reprise_loom))]
        Mode::Record => record::system_now(location),
        #[cfg(not(reprise_loom))]
        Mode::Gated => replay::system_now(location),
        #[cfg(not(reprise_loom))]
        Mode::Coop => explore::system_now(location),
    }
}

/// Sleeps for `duration`, as called at `location`: the one body of
/// [`sleep`] and [`crate::thread::sleep`].
#[cfg_attr(reprise_loom, allow(unused_variables))]
pub(crate) fn sleep_at(duration: Duration, location: &'static Location<'static>) {
    match mode::mode() {
        Mode::Off => passthrough::sleep(duration),
        #[cfg(not(reprise_loom))]
        Mode::Record => record::sleep(duration, location),
        #[cfg(not(reprise_loom))]
        Mode::Gated => replay::sleep(duration, location),
        #[cfg(not(reprise_loom))]
        Mode::Coop => explore::sleep(duration, location),
    }
}

/// Sleeps. In replay the recorded sleep returns at once; under loom it
/// advances the execution's virtual clock and lets the other threads run.
/// Same as [`crate::thread::sleep`].
#[track_caller]
pub fn sleep(duration: Duration) {
    sleep_at(duration, Location::caller());
}

//! Time: clock reads and sleeps as events. Replay returns the recorded clock
//! and skips recorded sleeps, so it runs time-compressed.
//!
//! This file is the shell; each mode's clock is in its own file: `off.rs`
//! (the real clock), `record.rs`, `replay.rs`, `explore.rs` (the explorer's
//! virtual clock) and, under `--cfg reprise_loom`, `loom.rs` (a virtual clock
//! per loom execution, advanced only by sleeps).

#[cfg(not(reprise_loom))]
mod explore;
#[cfg(reprise_loom)]
mod loom;
#[cfg(not(reprise_loom))]
mod off;
#[cfg(not(reprise_loom))]
mod record;
#[cfg(not(reprise_loom))]
mod replay;

use std::panic::Location;
use std::time::{Duration, SystemTime};

pub use std::time::Instant;

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

/// The monotonic clock. Use it instead of `Instant::now()` inside an
/// execution: a direct clock read is not recorded and diverges in replay.
#[track_caller]
pub fn now() -> Instant {
    match mode::mode() {
        Mode::Off => passthrough::now(),
        #[cfg(not(reprise_loom))]
        Mode::Record => record::now(Location::caller()),
        #[cfg(not(reprise_loom))]
        Mode::Gated => replay::now(Location::caller()),
        #[cfg(not(reprise_loom))]
        Mode::Coop => explore::now(Location::caller()),
    }
}

/// The wall clock. Use it instead of `SystemTime::now()` inside an execution.
#[track_caller]
pub fn system_now() -> SystemTime {
    match mode::mode() {
        Mode::Off => passthrough::system_now(),
        #[cfg(not(reprise_loom))]
        Mode::Record => record::system_now(Location::caller()),
        #[cfg(not(reprise_loom))]
        Mode::Gated => replay::system_now(Location::caller()),
        #[cfg(not(reprise_loom))]
        Mode::Coop => explore::system_now(Location::caller()),
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

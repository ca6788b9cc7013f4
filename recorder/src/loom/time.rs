//! Time under `--cfg reprise_loom`: a virtual clock per loom execution, so a
//! model that reads the clock runs the same way every time loom replays a
//! schedule (loom requires it). It starts at a fixed instant and advances only
//! by sleeps; a sleep does not wait, it lets the other threads run.

use std::sync::atomic::Ordering;
use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub use std::time::Instant;

use crate::loom_execution;

/// The wall clock's start in every execution: 2023-11-14T22:13:20Z, the same
/// virtual epoch as the explorer's.
const VIRTUAL_EPOCH_NANOS: u64 = 1_700_000_000 * 1_000_000_000;

/// The monotonic clock's start, the same for every execution of the process.
fn base() -> Instant {
    static BASE: OnceLock<Instant> = OnceLock::new();
    *BASE.get_or_init(Instant::now)
}

fn elapsed() -> Duration {
    Duration::from_nanos(loom_execution::current().clock_nanos.load(Ordering::Relaxed))
}

/// The execution's virtual monotonic clock.
#[track_caller]
pub fn now() -> Instant {
    base() + elapsed()
}

/// The execution's virtual wall clock, from a fixed epoch.
#[track_caller]
pub fn system_now() -> SystemTime {
    UNIX_EPOCH + Duration::from_nanos(VIRTUAL_EPOCH_NANOS) + elapsed()
}

/// Advances the virtual clock by `duration` and lets the other threads run
/// (a loom yield, so polling loops with a sleep terminate). Same as
/// [`crate::thread::sleep`].
#[track_caller]
pub fn sleep(duration: Duration) {
    let nanos = duration.as_nanos().min(u128::from(u64::MAX)) as u64;
    let clock = &loom_execution::current().clock_nanos;
    clock.store(clock.load(Ordering::Relaxed).saturating_add(nanos), Ordering::Relaxed);
    loom::thread::yield_now();
}

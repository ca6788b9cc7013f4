//! Time under `--cfg reprise_loom`: a virtual clock per loom execution, so a
//! model that reads the clock runs the same way every time loom replays a
//! schedule (loom requires it). It starts at a fixed instant and advances only
//! by sleeps; a sleep does not wait, it lets the other threads run.

use std::sync::atomic::Ordering;
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::loom_execution;

/// The monotonic clock's start, the same for every execution of the process.
fn base() -> Instant {
    static BASE: OnceLock<Instant> = OnceLock::new();
    *BASE.get_or_init(Instant::now)
}

fn elapsed() -> Duration {
    Duration::from_nanos(loom_execution::current().clock_nanos.load(Ordering::Relaxed))
}

/// The execution's virtual monotonic clock.
#[inline]
pub(super) fn now() -> Instant {
    base() + elapsed()
}

/// The execution's virtual wall clock, from the same fixed epoch as the
/// explorer's.
#[inline]
pub(super) fn system_now() -> SystemTime {
    UNIX_EPOCH + Duration::from_nanos(super::VIRTUAL_EPOCH_NANOS) + elapsed()
}

/// Advances the virtual clock by `duration` and lets the other threads run
/// (a loom yield, so polling loops with a sleep terminate).
#[inline]
pub(super) fn sleep(duration: Duration) {
    let clock = &loom_execution::current().clock_nanos;
    clock.store(clock.load(Ordering::Relaxed).saturating_add(super::nanos(duration)), Ordering::Relaxed);
    loom::thread::yield_now();
}

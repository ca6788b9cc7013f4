//! Time in record mode: the real clocks, each read recorded; a real sleep,
//! recorded with its length.

use std::panic::Location;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::rt::context;
use crate::trace::model::Outcome;

#[inline]
pub(super) fn now(location: &'static Location<'static>) -> Instant {
    let now = Instant::now();
    context::with(|ctx| {
        // Since the execution's start: replay adds its own start back.
        let nanos = super::nanos(now.saturating_duration_since(ctx.exec.start));
        ctx.record_outcome(Outcome::Now { nanos }, 0, location);
    });
    now
}

#[inline]
pub(super) fn system_now(location: &'static Location<'static>) -> SystemTime {
    let now = SystemTime::now();
    // A clock set before 1970 reads as the epoch: the trace holds no sign.
    let nanos = now.duration_since(UNIX_EPOCH).map(super::nanos).unwrap_or(0);
    context::with(|ctx| ctx.record_outcome(Outcome::SystemNow { nanos }, 0, location));
    now
}

#[inline]
pub(super) fn sleep(duration: Duration, location: &'static Location<'static>) {
    std::thread::sleep(duration);
    let nanos = super::nanos(duration);
    context::with(|ctx| ctx.record_outcome(Outcome::Sleep { nanos }, 0, location));
}

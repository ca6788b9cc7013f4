//! Time: clock reads and sleeps as events. Replay returns the recorded clock
//! and skips recorded sleeps, so it runs time-compressed.

use std::panic::Location;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub use std::time::Instant;

/// The wall clock's start under the explorer: 2023-11-14T22:13:20Z.
const VIRTUAL_EPOCH_NANOS: u64 = 1_700_000_000 * 1_000_000_000;

use crate::rt::context::{self, Mode};
use crate::rt::coop;
use crate::rt::gated;
use crate::trace::model::{Op, Outcome};

/// The monotonic clock. Use it instead of `Instant::now()` inside an
/// execution: a direct clock read is not recorded and diverges in replay.
#[track_caller]
pub fn now() -> Instant {
    let location = Location::caller();
    match context::mode() {
        Mode::Off => Instant::now(),
        Mode::Record => {
            let now = Instant::now();
            context::with(|ctx| {
                let nanos = now.saturating_duration_since(ctx.exec.start).as_nanos() as u64;
                ctx.record(Op::Now, 0, location, [nanos, 0, 0]);
            });
            now
        }
        Mode::Coop => context::with(|ctx| {
            let nanos = match coop::recorded_outcome(ctx.index, Op::Now) {
                Some(coop::Served { outcome: Outcome::Now { nanos }, .. }) => nanos,
                _ => coop::now(),
            };
            ctx.record(Op::Now, 0, location, [nanos, 0, 0]);
            ctx.exec.start + Duration::from_nanos(nanos)
        }),
        Mode::Gated => match gated::begin(Op::Now, None, location) {
            Some(call) => {
                let start = context::with(|ctx| ctx.exec.start);
                start + Duration::from_nanos(call.event.a)
            }
            None => Instant::now(),
        },
    }
}

/// The wall clock. Use it instead of `SystemTime::now()` inside an execution.
#[track_caller]
pub fn system_now() -> SystemTime {
    let location = Location::caller();
    match context::mode() {
        Mode::Off => SystemTime::now(),
        Mode::Record => {
            let now = SystemTime::now();
            let nanos = now.duration_since(UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(0);
            context::with(|ctx| ctx.record(Op::SystemNow, 0, location, [nanos, 0, 0]));
            now
        }
        Mode::Coop => {
            // A fixed virtual epoch, so explored runs do not depend on the day.
            let nanos = context::with(|ctx| {
                let nanos = match coop::recorded_outcome(ctx.index, Op::SystemNow) {
                    Some(coop::Served { outcome: Outcome::SystemNow { nanos }, .. }) => nanos,
                    _ => VIRTUAL_EPOCH_NANOS + coop::now(),
                };
                ctx.record(Op::SystemNow, 0, location, [nanos, 0, 0]);
                nanos
            });
            UNIX_EPOCH + Duration::from_nanos(nanos)
        }
        Mode::Gated => match gated::begin(Op::SystemNow, None, location) {
            Some(call) => UNIX_EPOCH + Duration::from_nanos(call.event.a),
            None => SystemTime::now(),
        },
    }
}

pub(crate) fn sleep_at(duration: Duration, location: &'static Location<'static>) {
    match context::mode() {
        Mode::Off => std::thread::sleep(duration),
        Mode::Record => {
            std::thread::sleep(duration);
            let nanos = duration.as_nanos().min(u128::from(u64::MAX)) as u64;
            context::with(|ctx| ctx.record(Op::Sleep, 0, location, [nanos, 0, 0]));
        }
        Mode::Coop => {
            let nanos = duration.as_nanos().min(u128::from(u64::MAX)) as u64;
            coop::switch(Op::Sleep, None, location);
            let deadline = coop::now().saturating_add(nanos);
            coop::block(&[], Some(deadline), Op::Sleep, None, location);
            context::with(|ctx| ctx.record(Op::Sleep, 0, location, [nanos, 0, 0]));
        }
        Mode::Gated => {
            if gated::begin(Op::Sleep, None, location).is_none() {
                std::thread::sleep(duration);
            }
        }
    }
}

/// Sleeps. In replay the recorded sleep returns at once. Same as
/// [`crate::thread::sleep`].
#[track_caller]
pub fn sleep(duration: Duration) {
    sleep_at(duration, Location::caller());
}

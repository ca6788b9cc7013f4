//! Time under the explorer: a virtual clock that advances only with sleeps
//! and timeouts; a sleep blocks in the scheduler until its deadline is
//! chosen. Readings are recorded as in record mode.

use std::panic::Location;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::rt::context;
use crate::rt::coop;
use crate::trace::model::{Op, Outcome};

pub(super) fn now(location: &'static Location<'static>) -> Instant {
    // Under a coroutine replay, the recorded reading.
    let nanos = match coop::served(Op::Now) {
        Some(Outcome::Now { nanos }) => nanos,
        _ => coop::now(),
    };
    context::with(|ctx| {
        ctx.record_outcome(Outcome::Now { nanos }, 0, location);
        ctx.exec.start + Duration::from_nanos(nanos)
    })
}

pub(super) fn system_now(location: &'static Location<'static>) -> SystemTime {
    let nanos = match coop::served(Op::SystemNow) {
        Some(Outcome::SystemNow { nanos }) => nanos,
        _ => super::VIRTUAL_EPOCH_NANOS + coop::now(),
    };
    context::with(|ctx| ctx.record_outcome(Outcome::SystemNow { nanos }, 0, location));
    UNIX_EPOCH + Duration::from_nanos(nanos)
}

pub(super) fn sleep(duration: Duration, location: &'static Location<'static>) {
    let nanos = super::nanos(duration);
    coop::switch(Op::Sleep, None, location);
    let deadline = coop::now().saturating_add(nanos);
    coop::block(&[], Some(deadline), Op::Sleep, None, location);
    context::with(|ctx| ctx.record_outcome(Outcome::Sleep { nanos }, 0, location));
}

//! Time in replay: the recorded clock readings, and sleeps that return at
//! once (replay is time-compressed). Past a stopped replay, the real ones.

use std::panic::Location;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::rt::context;
use crate::rt::gated;
use crate::trace::model::{Op, Outcome};

pub(super) fn now(location: &'static Location<'static>) -> Instant {
    match gated::begin(Op::Now, None, location).and_then(|call| call.outcome()) {
        Some(Outcome::Now { nanos }) => context::with(|ctx| ctx.exec.start) + Duration::from_nanos(nanos),
        _ => Instant::now(),
    }
}

pub(super) fn system_now(location: &'static Location<'static>) -> SystemTime {
    match gated::begin(Op::SystemNow, None, location).and_then(|call| call.outcome()) {
        Some(Outcome::SystemNow { nanos }) => UNIX_EPOCH + Duration::from_nanos(nanos),
        _ => SystemTime::now(),
    }
}

pub(super) fn sleep(duration: Duration, location: &'static Location<'static>) {
    if gated::begin(Op::Sleep, None, location).and_then(|call| call.outcome()).is_none() {
        std::thread::sleep(duration);
    }
}

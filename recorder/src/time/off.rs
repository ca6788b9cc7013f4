//! Time in passthrough: the real clocks and a real sleep.

use std::time::{Duration, Instant, SystemTime};

#[inline]
pub(super) fn now() -> Instant {
    Instant::now()
}

#[inline]
pub(super) fn system_now() -> SystemTime {
    SystemTime::now()
}

#[inline]
pub(super) fn sleep(duration: Duration) {
    std::thread::sleep(duration);
}

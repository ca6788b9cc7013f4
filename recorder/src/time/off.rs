//! Time in passthrough: the real clocks and a real sleep.

use std::time::{Duration, Instant, SystemTime};

pub(super) fn now() -> Instant {
    Instant::now()
}

pub(super) fn system_now() -> SystemTime {
    SystemTime::now()
}

pub(super) fn sleep(duration: Duration) {
    std::thread::sleep(duration);
}

//! Captures under the explorer: run the closure and record its value, as a
//! recording does; under a coroutine replay, the recorded value, without
//! running the closure.

use std::panic::Location;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::rt::{context, coop};
use crate::trace::model::Op;

pub(super) fn capture<T: Serialize + DeserializeOwned>(
    read: impl FnOnce() -> T,
    location: &'static Location<'static>,
) -> T {
    let thread = context::with(|ctx| ctx.index);
    let served = coop::recorded_outcome(thread, Op::Capture).and_then(|s| s.blob);
    match served.as_deref().map(postcard::from_bytes) {
        Some(Ok(value)) => {
            // Recorded as the recording did, so the replay's check matches it.
            super::record::store(served.as_deref().unwrap_or_default(), location);
            value
        }
        // Not served, or bytes this type cannot decode (the check of the
        // event reports the difference): run it as a recording would.
        _ => super::record::capture(read, location),
    }
}

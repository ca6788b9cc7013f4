//! Captures under the explorer: run the closure and record its value, as a
//! recording does; under a coroutine replay, the recorded value (or the
//! recorded panic of the read), without running the closure.

use std::panic::Location;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::rt::{context, coop};
use crate::trace::model::sensitive::open;
use crate::trace::model::{Op, Outcome};

#[track_caller]
pub(super) fn capture<T: Serialize + DeserializeOwned>(
    read: impl FnOnce() -> T,
    location: &'static Location<'static>,
) -> T {
    let thread = context::with(|ctx| ctx.index);
    let served = coop::recorded_outcome(thread, Op::Capture);
    if let Some(coop::Served { outcome: Outcome::Capture { panicked: true, .. }, blob }) = &served {
        let message = blob.as_deref().unwrap_or_default();
        super::record::store_panicked(message, location);
        super::replay::panic_as_recorded(message);
    }
    let served = served.and_then(|s| s.blob);
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

/// A sensitive capture under the explorer: run the closure and store its
/// value sealed, as a recording does; under a coroutine replay, the recorded
/// value opened with the key (stored again as recorded). A blob that cannot
/// be opened (no key, wrong key, altered) stops this run with the reason.
#[track_caller]
pub(super) fn capture_sensitive<T: Serialize + DeserializeOwned>(
    read: impl FnOnce() -> T,
    location: &'static Location<'static>,
) -> T {
    let thread = context::with(|ctx| ctx.index);
    let Some(served) = coop::recorded_outcome(thread, Op::CaptureSensitive) else {
        return super::record::capture_sensitive(read, location);
    };
    let panicked = matches!(served.outcome, Outcome::CaptureSensitive { panicked: true, .. });
    let Some(sealed) = served.blob else {
        return super::record::capture_sensitive(read, location);
    };
    let plain = match open(&sealed, super::sensitive::key().as_ref()) {
        Ok(plain) => plain,
        Err(e) => {
            // The replay stops with the reason; this thread must not go on
            // with a value it does not have. It unwinds without the panic
            // hook: the stop's report says why, as a parallel replay's does,
            // and std's hook would print it as this OS thread's panic.
            let detail = e.to_string();
            coop::scheduler().refused(thread, &detail);
            std::panic::resume_unwind(Box::new(format!("reprise: cannot replay: {detail}")))
        }
    };
    if panicked {
        super::record::store_sensitive_panicked(&sealed, location);
        super::replay::panic_as_recorded(&plain);
    }
    match postcard::from_bytes(&plain) {
        Ok(value) => {
            super::record::store_sensitive(&sealed, location);
            value
        }
        // Bytes this type cannot decode: run it as a recording would (the
        // check of the event reports the difference).
        Err(_) => super::record::capture_sensitive(read, location),
    }
}

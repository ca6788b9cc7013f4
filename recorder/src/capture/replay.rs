//! Captures in replay: the recorded value, decoded, without running the
//! closure; past a stopped replay, the closure runs.

use std::panic::Location;

use serde::de::DeserializeOwned;

use crate::rt::gated;
use crate::trace::model::sensitive::open;
use crate::trace::model::Op;

pub(super) fn capture<T: DeserializeOwned>(
    read: impl FnOnce() -> T,
    location: &'static Location<'static>,
) -> T {
    let Some(call) = gated::begin(Op::Capture, None, location) else { return read() };
    if call.outcome().is_none() {
        return read();
    }
    let bytes = call.blob.as_deref().unwrap_or_default();
    match postcard::from_bytes(bytes) {
        Ok(value) => value,
        Err(e) => {
            call.diverge(format!("the recorded value does not decode as this type: {e}"));
            read()
        }
    }
}

/// A sensitive capture in replay: the recorded value, opened with the
/// replay's key. No key, a wrong key or altered bytes stop the replay with
/// the reason; nothing undecrypted reaches the program.
pub(super) fn capture_sensitive<T: DeserializeOwned>(
    read: impl FnOnce() -> T,
    location: &'static Location<'static>,
) -> T {
    let Some(call) = gated::begin(Op::CaptureSensitive, None, location) else { return read() };
    if call.outcome().is_none() {
        return read();
    }
    let sealed = call.blob.as_deref().unwrap_or_default();
    match open(sealed, super::sensitive::key().as_ref()) {
        Ok(plain) => match postcard::from_bytes(&plain) {
            Ok(value) => value,
            Err(e) => {
                call.diverge(format!("the recorded sensitive value does not decode as this type: {e}"));
                read()
            }
        },
        Err(e) => {
            call.diverge(e.to_string());
            read()
        }
    }
}

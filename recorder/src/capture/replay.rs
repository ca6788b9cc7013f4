//! Captures in replay: the recorded value, decoded, without running the
//! closure; a read that panicked in the recording panics here with the
//! recorded message; past a stopped replay, the closure runs.

use std::panic::Location;

use serde::de::DeserializeOwned;

use crate::rt::gated;
use crate::trace::model::sensitive::open;
use crate::trace::model::{CapturedPanic, Op, Outcome};

#[track_caller]
pub(super) fn capture<T: DeserializeOwned>(
    read: impl FnOnce() -> T,
    location: &'static Location<'static>,
) -> T {
    let Some(call) = gated::begin(Op::Capture, None, location) else { return read() };
    let Some(outcome) = call.outcome() else { return read() };
    let bytes = call.blob.as_deref().unwrap_or_default();
    if let Outcome::Capture { panicked: true, .. } = outcome {
        panic_as_recorded(bytes);
    }
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
#[track_caller]
pub(super) fn capture_sensitive<T: DeserializeOwned>(
    read: impl FnOnce() -> T,
    location: &'static Location<'static>,
) -> T {
    let Some(call) = gated::begin(Op::CaptureSensitive, None, location) else { return read() };
    let Some(outcome) = call.outcome() else { return read() };
    let sealed = call.blob.as_deref().unwrap_or_default();
    match open(sealed, super::sensitive::key().as_ref()) {
        Ok(plain) if matches!(outcome, Outcome::CaptureSensitive { panicked: true, .. }) => {
            panic_as_recorded(&plain)
        }
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

/// Panics as a capture's read panicked in the recording (`recorded`: a
/// [`CapturedPanic`]'s bytes): its message as a `String` payload, raised at
/// the capture's call site (the callers pass theirs on), with the hook
/// running as it did then and noting the recorded site, so that a thread
/// this panic ends records the same panic event.
#[track_caller]
pub(super) fn panic_as_recorded(recorded: &[u8]) -> ! {
    let Some(panic) = CapturedPanic::decode(recorded) else {
        std::panic::panic_any("a captured read panicked in the recording".to_string())
    };
    if !panic.file.is_empty() {
        crate::rt::panic::raise_next_at((panic.file, panic.line, panic.column));
    }
    std::panic::panic_any(panic.message)
}

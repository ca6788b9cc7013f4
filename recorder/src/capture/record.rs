//! Captures in record mode (and the explorer's, when it does not follow a
//! trace): run the closure, store its value's bytes after the event.

use std::panic::Location;

use serde::Serialize;

use crate::rt::context;
use crate::trace::model::sensitive::seal;
use crate::trace::model::Outcome;

pub(super) fn capture<T: Serialize>(read: impl FnOnce() -> T, location: &'static Location<'static>) -> T {
    let value = read();
    let bytes = postcard::to_stdvec(&value)
        .unwrap_or_else(|e| panic!("reprise::capture: the value cannot be encoded: {e}"));
    store(&bytes, location);
    value
}

/// Records a capture of `bytes`: the event, then the bytes after it.
pub(super) fn store(bytes: &[u8], location: &'static Location<'static>) {
    context::with(|ctx| {
        ctx.record_outcome(Outcome::Capture { len: bytes.len() as u64 }, 0, location);
        ctx.record_blob(bytes);
    });
}

/// A sensitive capture: run the closure, store its value sealed with the
/// execution's key (or, without one, only a redaction mark).
pub(super) fn capture_sensitive<T: Serialize>(
    read: impl FnOnce() -> T,
    location: &'static Location<'static>,
) -> T {
    let value = read();
    let plain = postcard::to_stdvec(&value)
        .unwrap_or_else(|e| panic!("reprise::capture_sensitive: the value cannot be encoded: {e}"));
    store_sensitive(&seal(&plain, super::sensitive::key().as_ref()), location);
    value
}

/// Records a sensitive capture whose stored blob is `sealed`.
pub(super) fn store_sensitive(sealed: &[u8], location: &'static Location<'static>) {
    context::with(|ctx| {
        ctx.record_outcome(Outcome::CaptureSensitive { len: sealed.len() as u64 }, 0, location);
        ctx.record_blob(sealed);
    });
}

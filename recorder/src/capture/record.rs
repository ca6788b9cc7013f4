//! Captures in record mode (and the explorer's, when it does not follow a
//! trace): run the closure, store its value's bytes after the event. A read
//! that panics is recorded too, as a panicked capture with its message, and
//! the panic goes on: the program may catch it, and its replay must take the
//! same path.

use std::any::Any;
use std::panic::{self, AssertUnwindSafe, Location};
use std::sync::{Mutex, PoisonError};

use serde::Serialize;

use crate::rt::context;
use crate::trace::model::sensitive::seal;
use crate::trace::model::{CapturedPanic, Outcome};

pub(super) fn capture<T: Serialize>(read: impl FnOnce() -> T, location: &'static Location<'static>) -> T {
    let value = read_or_record_panic(read, location, |message| store_panicked(message, location));
    let bytes = postcard::to_stdvec(&value)
        .unwrap_or_else(|e| panic!("reprise::capture: the value cannot be encoded: {e}"));
    store(&bytes, location);
    value
}

/// Records a capture of `bytes`: the event, then the bytes after it.
pub(super) fn store(bytes: &[u8], location: &'static Location<'static>) {
    stored(Outcome::Capture { len: bytes.len() as u64, panicked: false }, bytes, location);
}

/// Records a capture whose read panicked; `message` is a [`CapturedPanic`]'s
/// bytes.
pub(super) fn store_panicked(message: &[u8], location: &'static Location<'static>) {
    stored(Outcome::Capture { len: message.len() as u64, panicked: true }, message, location);
}

/// A sensitive capture: run the closure, store its value sealed with the
/// execution's key (or, without one, only a redaction mark).
pub(super) fn capture_sensitive<T: Serialize>(
    read: impl FnOnce() -> T,
    location: &'static Location<'static>,
) -> T {
    let value = read_or_record_panic(read, location, |message| {
        store_sensitive_panicked(&seal(message, super::sensitive::key().as_ref()), location)
    });
    let plain = postcard::to_stdvec(&value)
        .unwrap_or_else(|e| panic!("reprise::capture_sensitive: the value cannot be encoded: {e}"));
    store_sensitive(&seal(&plain, super::sensitive::key().as_ref()), location);
    value
}

/// Records a sensitive capture whose stored blob is `sealed`.
pub(super) fn store_sensitive(sealed: &[u8], location: &'static Location<'static>) {
    stored(Outcome::CaptureSensitive { len: sealed.len() as u64, panicked: false }, sealed, location);
}

/// Records a sensitive capture whose read panicked; `sealed` is its message,
/// sealed as a value is (a message may quote what was read).
pub(super) fn store_sensitive_panicked(sealed: &[u8], location: &'static Location<'static>) {
    stored(Outcome::CaptureSensitive { len: sealed.len() as u64, panicked: true }, sealed, location);
}

/// Says, once per capture site, that a capture's read made events: a read
/// that locks a reprise `Mutex`, receives from a reprise channel, spawns,
/// ... records them, and a replay, which does not run the read, then
/// diverges at the first of them with a hint about nondeterminism that
/// does not fit. Nothing is added to the hot path: the buffer's position
/// is read before and after each read.
#[cold]
fn read_made_events(location: &'static Location<'static>) {
    static WARNED: Mutex<Vec<(&str, u32, u32)>> = Mutex::new(Vec::new());
    let site = (location.file(), location.line(), location.column());
    let mut warned = WARNED.lock().unwrap_or_else(PoisonError::into_inner);
    if warned.contains(&site) {
        return;
    }
    warned.push(site);
    crate::diagnostic::warn(&format!(
        "the read of the capture at {}:{}:{} used reprise's primitives (a lock, a channel, a \
         thread, ...), which were recorded: a replay does not run the read, so it will diverge \
         there; make those calls outside the capture and capture only what comes from outside",
        site.0, site.1, site.2
    ));
}

/// The recording thread's buffer position (`None` outside a recording, or
/// while its buffer is not its own).
fn buffer_mark() -> Option<(u32, u32)> {
    context::try_with(|ctx| match &ctx.role {
        crate::rt::context::Role::Record { buf: Some(buf) } => Some(buf.mark()),
        _ => None,
    })
    .flatten()
}

/// Records a capture's event and the bytes after it, and tells an
/// explorer's scheduler (which keeps a run's captures for its re-runs).
fn stored(outcome: Outcome, bytes: &[u8], location: &'static Location<'static>) {
    let thread = context::with(|ctx| {
        ctx.record_outcome(outcome, 0, location);
        ctx.record_blob(bytes);
        ctx.index
    });
    crate::rt::coop::captured(thread, outcome, bytes);
}

/// Runs `read`. When it panics, hands the panic (a [`CapturedPanic`]'s
/// bytes) to `record` and resumes the unwind with the same payload, so the program
/// sees the panic it would have seen without reprise (and the panic hook,
/// which ran when it was raised, does not run twice).
fn read_or_record_panic<T>(
    read: impl FnOnce() -> T,
    location: &'static Location<'static>,
    record: impl FnOnce(&[u8]),
) -> T {
    let before = buffer_mark();
    let read = panic::catch_unwind(AssertUnwindSafe(read));
    if before.is_some() && buffer_mark() != before {
        read_made_events(location);
    }
    match read {
        Ok(value) => value,
        Err(payload) => {
            record(&encoded_message(&*payload));
            panic::resume_unwind(payload)
        }
    }
}

/// The panic as the trace keeps it: its message and where the hook saw it
/// raised (it ran before the unwind reached `catch_unwind`).
fn encoded_message(payload: &(dyn Any + Send)) -> Vec<u8> {
    let (file, line, column) = crate::rt::panic::last_site().unwrap_or_default();
    CapturedPanic { message: crate::rt::panic::message(payload), file, line, column }.encode()
}

//! Captured inputs: anything from outside the program (a queue, a database,
//! the network) goes through [`capture`], which stores the value in record
//! mode and hands it back without running the closure in replay.

use std::panic::Location;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::rt::context::{self, Mode};
use crate::rt::coop;
use crate::rt::gated;
use crate::trace::model::Op;

/// Runs `read` and records its value; in replay, returns the recorded value
/// without running `read`.
///
/// # Panics
///
/// When the value cannot be encoded with postcard (a serde type that postcard
/// does not support, such as one using `deserialize_any`).
#[track_caller]
pub fn capture<T, F>(read: F) -> T
where
    T: Serialize + DeserializeOwned,
    F: FnOnce() -> T,
{
    let location = Location::caller();
    match context::mode() {
        Mode::Off => read(),
        Mode::Record | Mode::Coop => {
            let served = context::with(|ctx| match ctx.exec.coop {
                true => coop::recorded_outcome(ctx.index, Op::Capture).and_then(|s| s.blob),
                false => None,
            });
            let value = match served.as_deref().map(postcard::from_bytes) {
                Some(Ok(value)) => value,
                // Undecodable: the check of the event below reports it.
                _ => read(),
            };
            let bytes = match served {
                Some(bytes) => bytes,
                None => postcard::to_stdvec(&value)
                    .unwrap_or_else(|e| panic!("reprise::capture: the value cannot be encoded: {e}")),
            };
            context::with(|ctx| {
                ctx.record(Op::Capture, 0, location, [bytes.len() as u64, 0, 0]);
                ctx.record_blob(&bytes);
            });
            value
        }
        Mode::Gated => {
            let Some(call) = gated::begin(Op::Capture, None, location) else { return read() };
            let bytes = call.blob.clone().unwrap_or_default();
            match postcard::from_bytes(&bytes) {
                Ok(value) => value,
                Err(e) => {
                    call.diverge(format!("the recorded value does not decode as this type: {e}"));
                    read()
                }
            }
        }
    }
}

//! Captured inputs: anything from outside the program (a queue, a database,
//! the network) goes through [`capture`], which stores the value in record
//! mode and hands it back without running the closure in replay.
//!
//! This file is the shell: `record.rs` (also the explorer's, which records
//! the same way) and `replay.rs` hold the two modes that do more than run the
//! closure. Under `--cfg reprise_loom` there is nothing to record or replay:
//! the closure runs, and inside a model it must give the same value every
//! time loom runs it (a fixed input, not a real read).

#[cfg(not(reprise_loom))]
mod explore;
#[cfg(not(reprise_loom))]
mod record;
#[cfg(not(reprise_loom))]
mod replay;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::rt::mode::{self, Mode};

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
    match mode::mode() {
        Mode::Off => read(),
        #[cfg(not(reprise_loom))]
        Mode::Record => record::capture(read, std::panic::Location::caller()),
        #[cfg(not(reprise_loom))]
        Mode::Coop => explore::capture(read, std::panic::Location::caller()),
        #[cfg(not(reprise_loom))]
        Mode::Gated => replay::capture(read, std::panic::Location::caller()),
    }
}

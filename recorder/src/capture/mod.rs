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
#[cfg(not(reprise_loom))]
mod sensitive;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::rt::mode::{self, Mode};

/// Runs `read` and records its value; in replay, returns the recorded value
/// without running `read`.
///
/// Since a replay does not run `read`, it must not use reprise's
/// primitives (a lock, a channel, a spawn): their events, recorded inside
/// the capture, would be missing from the replay, which diverges there. A
/// recording says so on stderr, once per capture site.
///
/// # Panics
///
/// When `read` panics: the panic is recorded (its message and where it was
/// raised) and goes on, and in replay this call panics with the same message
/// without running `read`, so a program that catches it replays the same way.
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

/// [`capture`] for a value that must never be in a trace in clear (an
/// account number, a token): in record mode its bytes are stored sealed with
/// ChaCha20-Poly1305 under the recording's key ([`RecordConfig::key`], else
/// `REPRISE_KEY`: 64 hex digits or the path of a file holding them), with a
/// random nonce per value. Without a valid key the program runs on, one
/// warning goes to stderr, and the value is recorded redacted (not kept), so
/// such a capture cannot be replayed. In replay, the value is opened with the
/// replay's key; no key, a wrong key or altered bytes stop the replay with
/// the reason. Offline views show it as `<redacted: sensitive capture>`
/// ([`crate::trace::model::sensitive::captured_value`]).
///
/// [`RecordConfig::key`]: crate::RecordConfig::key
///
/// # Panics
///
/// When the value cannot be encoded with postcard (as [`capture`]); under a
/// coroutine replay, when the recorded value cannot be opened.
#[track_caller]
pub fn capture_sensitive<T, F>(read: F) -> T
where
    T: Serialize + DeserializeOwned,
    F: FnOnce() -> T,
{
    match mode::mode() {
        Mode::Off => read(),
        #[cfg(not(reprise_loom))]
        Mode::Record => record::capture_sensitive(read, std::panic::Location::caller()),
        #[cfg(not(reprise_loom))]
        Mode::Coop => explore::capture_sensitive(read, std::panic::Location::caller()),
        #[cfg(not(reprise_loom))]
        Mode::Gated => replay::capture_sensitive(read, std::panic::Location::caller()),
    }
}

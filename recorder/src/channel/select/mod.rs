//! Selects. The function `select` over receivers of one type, with the
//! channel's backends: passthrough (`off.rs`, under loom `loom.rs`),
//! recording (`record.rs`), replay (`replay.rs`) and the explorer
//! (`explore.rs`). crossbeam's `Select` over receive and send arms of any
//! types, with its own backends, is in `set/`; the `select!` and
//! `select_biased!` macros built on it in `macros.rs`.

#[cfg(not(reprise_loom))]
mod explore;
#[cfg(reprise_loom)]
mod loom;
mod macros;
#[cfg(not(reprise_loom))]
mod off;
#[cfg(not(reprise_loom))]
mod record;
#[cfg(not(reprise_loom))]
mod replay;
mod set;

use std::panic::Location;
use std::time::Duration;

#[cfg(reprise_loom)]
use self::loom as passthrough;
#[cfg(not(reprise_loom))]
use self::off as passthrough;
use super::wait::{NoMessage, Wait};
use super::{Receiver, RecvError, RecvTimeoutError};
use crate::rt::mode::Mode;
pub use set::{
    ReadyTimeoutError, Select, SelectTimeoutError, SelectedOperation, TryReadyError, TrySelectError,
};

/// Waits until one of `receivers` has a message (or is disconnected) and
/// receives from it: the chosen arm and what it gave. Like a
/// `crossbeam_channel::select!` over `recv` arms (under loom the lowest ready
/// index wins; see the module docs of [`channel`](super)).
///
/// # Panics
///
/// When `receivers` is empty.
#[track_caller]
pub fn select<T>(receivers: &[&Receiver<T>]) -> (usize, Result<T, RecvError>) {
    // Only a stopped replay comes back without an arm (the thread is already
    // unwinding): it passes through as a disconnection.
    let (arm, result) =
        choose(receivers, Wait::Forever, Location::caller()).unwrap_or((0, Err(NoMessage::Disconnected)));
    (arm, result.map_err(|_| RecvError))
}

/// Like [`select`], giving up after `timeout` (under loom, at once when no
/// arm is ready).
///
/// # Errors
///
/// [`RecvTimeoutError::Timeout`] when no arm was ready in time.
///
/// # Panics
///
/// When `receivers` is empty.
#[track_caller]
pub fn select_timeout<T>(
    receivers: &[&Receiver<T>],
    timeout: Duration,
) -> Result<(usize, Result<T, RecvError>), RecvTimeoutError> {
    choose(receivers, Wait::Timeout(timeout), Location::caller())
        .map(|(arm, result)| (arm, result.map_err(|_| RecvError)))
        .ok_or(RecvTimeoutError::Timeout)
}

/// The chosen arm and what it gave; `None`: timed out.
#[cfg_attr(reprise_loom, allow(unused_variables))]
fn choose<T>(
    receivers: &[&Receiver<T>],
    wait: Wait,
    location: &'static Location<'static>,
) -> Option<(usize, Result<T, NoMessage>)> {
    assert!(!receivers.is_empty(), "select over no receivers");
    match mode(receivers) {
        Mode::Off => passthrough::select(receivers, wait),
        #[cfg(not(reprise_loom))]
        Mode::Record => record::select(receivers, wait, location),
        #[cfg(not(reprise_loom))]
        Mode::Gated => replay::select(receivers, wait, location),
        #[cfg(not(reprise_loom))]
        Mode::Coop => explore::select(receivers, wait, location),
    }
}

/// The backend of a select: passthrough if every arm is a channel made
/// outside any execution, the replay's if any arm is a replay's channel
/// (the replay backend reports an arm that is not), else the one of its
/// crossbeam ends.
#[cfg(not(reprise_loom))]
fn mode<T>(receivers: &[&Receiver<T>]) -> Mode {
    if receivers.iter().all(|r| r.flavor.outside()) {
        // Channels made outside any execution: no recording holds them.
        Mode::Off
    } else if receivers.iter().any(|r| r.flavor.queue().is_some()) {
        // Explore's under a coroutine replay, which follows the trace.
        match crate::rt::mode::mode() {
            Mode::Coop => Mode::Coop,
            _ => Mode::Gated,
        }
    } else {
        super::flavor::crossbeam_mode()
    }
}

/// Under loom every select passes through to the loom backend.
#[cfg(reprise_loom)]
fn mode<T>(_: &[&Receiver<T>]) -> Mode {
    Mode::Off
}

//! `std::hint`'s spin-loop hint, seen by the explorer.
//!
//! A spin-wait that calls [`std::hint::spin_loop`] is invisible to reprise:
//! under the explorer a strategy that keeps running the spinning thread (PCT,
//! a DFS's default branch) never lets the thread it waits for run, and the
//! schedule ends as a livelock at the step bound. [`spin_loop`] is a yield
//! there, as `loom::hint::spin_loop` is under loom: the spinner lets every
//! thread that can run have a step first.

#[cfg(not(reprise_loom))]
use std::panic::Location;

#[cfg(not(reprise_loom))]
use crate::rt::mode::{self, Mode};

/// Signals a spin-wait. Like [`std::hint::spin_loop`]; under the explorer a
/// yield, as [`crate::thread::yield_now`] (not an event: a recording holds
/// none, as it holds no `yield_now`).
#[track_caller]
#[inline]
pub fn spin_loop() {
    #[cfg(not(reprise_loom))]
    match mode::mode() {
        Mode::Coop => crate::rt::coop::yield_point(Location::caller()),
        Mode::Off | Mode::Record | Mode::Gated => std::hint::spin_loop(),
    }
    #[cfg(reprise_loom)]
    ::loom::hint::spin_loop();
}

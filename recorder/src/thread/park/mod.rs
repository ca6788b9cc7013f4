//! `park`, `park_timeout` and `Thread::unpark`: std's token, with each park
//! and unpark an event on the parked thread's parker.
//!
//! An unpark is numbered in its parker's modification order (a store turn);
//! a park records how many unparks had been made when it returned, so replay
//! makes it return once that unpark has been replayed (a park that returned
//! spuriously or timed out in the recording returns at once), and never
//! parks for real. Under the explorer a park blocks its coroutine until an
//! unpark sets the token, or until its virtual deadline (the explorer does
//! not make spurious returns).
//!
//! This file is the shell; the backends are `record.rs`, `replay.rs` and
//! `explore.rs`; passthrough is std's park on the OS thread.

mod explore;
mod record;
mod replay;

use std::panic::Location;
use std::sync::atomic::Ordering;
use std::time::Duration;

use crate::rt::mode::{self, Mode};

use super::handle::{current, Thread};

/// Blocks until the current thread's token is made available (by
/// [`Thread::unpark`]), consuming it. Like [`std::thread::park`], it may
/// also return spuriously (in record and off modes, as std's does).
#[track_caller]
pub fn park() {
    park_at(None, Location::caller());
}

/// [`park`] for at most `timeout`. Like [`std::thread::park_timeout`]; under
/// the explorer the timeout passes in virtual time, when nothing else can
/// run.
#[track_caller]
pub fn park_timeout(timeout: Duration) {
    park_at(Some(timeout), Location::caller());
}

fn park_at(timeout: Option<Duration>, location: &'static Location<'static>) {
    match mode::mode() {
        Mode::Off => off_park(timeout),
        Mode::Record => record::park(&current(), timeout, location),
        Mode::Gated => replay::park(&current(), timeout, location),
        Mode::Coop => explore::park(&current(), timeout, location),
    }
}

fn off_park(timeout: Option<Duration>) {
    match timeout {
        None => std::thread::park(),
        Some(timeout) => std::thread::park_timeout(timeout),
    }
}

impl Thread {
    /// Makes the thread's token available, waking it if it is parked. Like
    /// [`std::thread::Thread::unpark`].
    #[track_caller]
    pub fn unpark(&self) {
        let location = Location::caller();
        match mode::mode() {
            Mode::Off => self.off_unpark(),
            Mode::Record => record::unpark(self, location),
            Mode::Gated => replay::unpark(self, location),
            Mode::Coop => explore::unpark(self, location),
        }
    }

    /// The token, without an event: std's for an OS thread, the handle's own
    /// for a coroutine thread.
    fn off_unpark(&self) {
        match self.inner.os.get() {
            Some(os) => os.unpark(),
            None => self.inner.parker.token.store(true, Ordering::Release),
        }
    }
}

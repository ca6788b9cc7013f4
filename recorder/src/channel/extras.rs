//! crossbeam's remaining end methods: timed sends, deadline receives,
//! `is_full`, `capacity`, `same_channel`. A deadline is reprise's own
//! [`Instant`]; it becomes a timeout against the clock of the mode serving
//! the call (the explorer's virtual clock under the explorer), and a timed
//! call's result is recorded and replayed like any other.

use std::panic::Location;
use std::time::Duration;

use super::wait::Wait;
#[cfg(not(reprise_loom))]
use super::TrySendError;
use super::{passthrough, Receiver, RecvTimeoutError, SendTimeoutError, Sender};
use crate::rt::mode::{self, Mode};
use crate::time::Instant;

/// How long from now until `deadline`, on the clock this thread's mode
/// reads: the explorer's virtual one, else the real one (a replay ignores
/// it: its outcome is recorded). Read without recording anything.
fn remaining(deadline: Instant) -> Duration {
    let deadline = deadline.into_std();
    match mode::mode() {
        #[cfg(not(reprise_loom))]
        Mode::Coop => {
            let now =
                crate::rt::context::with(|ctx| ctx.exec.start) + Duration::from_nanos(crate::rt::coop::now());
            deadline.saturating_duration_since(now)
        }
        _ => deadline.saturating_duration_since(std::time::Instant::now()),
    }
}

/// Whether the end belongs to a rendezvous the explorer runs on one slot
/// (see `flavor::Rendezvous`): it answers as a rendezvous.
macro_rules! explored_rendezvous_of {
    ($end:expr) => {{
        #[cfg(not(reprise_loom))]
        let yes = $end.shared.rendezvous.is_some();
        #[cfg(reprise_loom)]
        let yes = false;
        yes
    }};
}

/// The ends, for [`shown_len`].
pub(super) trait HasShared {
    /// Whether the end's channel is a rendezvous the explorer runs on one
    /// slot.
    fn explored_rendezvous(&self) -> bool;
}

impl<T> HasShared for Sender<T> {
    fn explored_rendezvous(&self) -> bool {
        explored_rendezvous_of!(self)
    }
}

impl<T> HasShared for Receiver<T> {
    fn explored_rendezvous(&self) -> bool {
        explored_rendezvous_of!(self)
    }
}

/// How many messages an end shows queued: none on a rendezvous, as
/// crossbeam's (an explored one holds its message in a slot).
pub(super) fn shown_len<E: HasShared>(end: &E, queued: usize) -> usize {
    if end.explored_rendezvous() {
        0
    } else {
        queued
    }
}

impl<T> Sender<T> {
    /// Sends, waiting at most `timeout` for room (on a rendezvous, for a
    /// receiver to take it). Like [`crossbeam_channel::Sender::send_timeout`].
    /// In replay a recorded timeout returns at once; under the explorer the
    /// wait is in virtual time; under loom a send that would wait times out
    /// at once (see the module docs).
    ///
    /// # Errors
    ///
    /// `Timeout` or `Disconnected`, with the value.
    #[track_caller]
    pub fn send_timeout(&self, value: T, timeout: Duration) -> Result<(), SendTimeoutError<T>> {
        self.send_timed(value, timeout, Location::caller())
    }

    /// Sends, waiting for room until `deadline`. Like
    /// [`crossbeam_channel::Sender::send_deadline`], with reprise's
    /// [`Instant`].
    ///
    /// # Errors
    ///
    /// `Timeout` or `Disconnected`, with the value.
    #[track_caller]
    pub fn send_deadline(&self, value: T, deadline: Instant) -> Result<(), SendTimeoutError<T>> {
        self.send_timed(value, remaining(deadline), Location::caller())
    }

    #[cfg_attr(reprise_loom, allow(unused_variables))]
    fn send_timed(
        &self,
        value: T,
        timeout: Duration,
        location: &'static Location<'static>,
    ) -> Result<(), SendTimeoutError<T>> {
        match self.flavor.mode() {
            Mode::Off => passthrough::send_timeout(self, value, timeout),
            #[cfg(not(reprise_loom))]
            Mode::Record => super::record::send_timeout(self, value, timeout, location),
            // A recorded timeout comes back from replay as `Full`: only a
            // timed send records one (`Sent::TimedOut`).
            #[cfg(not(reprise_loom))]
            Mode::Gated => super::replay::send(self, value, location).map_err(|e| match e {
                TrySendError::Full(v) => SendTimeoutError::Timeout(v),
                TrySendError::Disconnected(v) => SendTimeoutError::Disconnected(v),
            }),
            #[cfg(not(reprise_loom))]
            Mode::Coop => super::explore::send_timeout(self, value, timeout, location),
        }
    }

    /// Whether the channel is full (a rendezvous always is). Like
    /// [`crossbeam_channel::Sender::is_full`].
    /// Recorded as a captured value, as `len` is.
    #[track_caller]
    pub fn is_full(&self) -> bool {
        crate::capture::capture(|| self.explored_rendezvous() || self.flavor.is_full())
    }

    /// The channel's capacity: `None` when unbounded. Like
    /// [`crossbeam_channel::Sender::capacity`].
    pub fn capacity(&self) -> Option<usize> {
        if self.explored_rendezvous() {
            return Some(0);
        }
        self.flavor.capacity()
    }

    /// Whether both senders belong to the same channel. Like
    /// [`crossbeam_channel::Sender::same_channel`].
    pub fn same_channel(&self, other: &Sender<T>) -> bool {
        self.flavor.same(&other.flavor)
    }
}

impl<T> Receiver<T> {
    /// Receives, waiting until `deadline`. Like
    /// [`crossbeam_channel::Receiver::recv_deadline`], with reprise's
    /// [`Instant`]; recorded and replayed as [`recv_timeout`](Self::recv_timeout).
    ///
    /// # Errors
    ///
    /// `Timeout` or `Disconnected`.
    #[track_caller]
    pub fn recv_deadline(&self, deadline: Instant) -> Result<T, RecvTimeoutError> {
        self.receive(Wait::Timeout(remaining(deadline)), Location::caller()).map_err(|reason| match reason {
            super::NoMessage::Disconnected => RecvTimeoutError::Disconnected,
            super::NoMessage::Empty | super::NoMessage::TimedOut => RecvTimeoutError::Timeout,
        })
    }

    /// Whether the channel is full (a rendezvous always is). Like
    /// [`crossbeam_channel::Receiver::is_full`].
    /// Recorded as a captured value, as `len` is.
    #[track_caller]
    pub fn is_full(&self) -> bool {
        crate::capture::capture(|| self.explored_rendezvous() || self.flavor.is_full())
    }

    /// The channel's capacity: `None` when unbounded. Like
    /// [`crossbeam_channel::Receiver::capacity`].
    pub fn capacity(&self) -> Option<usize> {
        if self.explored_rendezvous() {
            return Some(0);
        }
        self.flavor.capacity()
    }

    /// Whether both receivers belong to the same channel. Like
    /// [`crossbeam_channel::Receiver::same_channel`].
    pub fn same_channel(&self, other: &Receiver<T>) -> bool {
        self.flavor.same(&other.flavor)
    }
}

// As crossbeam's ends: a panic while one is in use leaves no broken
// invariant behind (the channel's state is behind its own locks).
impl<T> std::panic::UnwindSafe for Sender<T> {}
impl<T> std::panic::RefUnwindSafe for Sender<T> {}
impl<T> std::panic::UnwindSafe for Receiver<T> {}
impl<T> std::panic::RefUnwindSafe for Receiver<T> {}

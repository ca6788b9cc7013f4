//! Channels: crossbeam-channel's API, with each message stamped by its sender
//! (thread, send count) and each receive recording the stamp it got.
//!
//! Each call goes to one backend by the mode serving it: passthrough
//! (`off.rs`), recording (`record.rs`), replay (`replay.rs`) and the explorer
//! (`explore.rs`). Off, record and explore mode run on crossbeam. A channel
//! created inside a replay uses a queue of reprise's own (`replay_queue.rs`),
//! from which a receive takes exactly the message the recording says it got,
//! whatever order the queue holds; it stays the replay's in every thread that
//! uses it. On a rendezvous (`bounded(0)`) a replayed send returns only once
//! a receiver took its message, as in the recording; under the explorer a
//! rendezvous runs on a one-slot crossbeam channel whose sender waits for
//! its taker (`explore.rs`). `select` has the same backends, in `select/`;
//! the timed calls and queries are in `extras.rs`, the timer channels
//! (`after`, `at`, `tick`, `never`) in `timer.rs`.
//!
//! [`Select`] and the [`select!`](macro@crate::channel::select) and
//! [`select_biased!`](macro@crate::channel::select_biased) macros are crossbeam's,
//! over receive and send arms on channels of any message types: a recording
//! holds each select as one event (the arm; a receive's message or the
//! disconnection; a send's message id; a timeout, or nothing ready), replay
//! completes the recorded arm (a receive takes exactly the recorded message,
//! a send goes through the channel's replay send), and under the explorer
//! every ready arm is a choice it explores (a biased select takes the first).
//! Two differences from crossbeam: the operation a select returns must be
//! completed before the thread calls another reprise primitive (the select is
//! recorded when it completes), and `Select` is not `Send` (crossbeam's is).
//!
//! Under `--cfg reprise_loom` the passthrough backend is `loom.rs`: loom has
//! no channels, so there a channel is a queue behind one loom `Mutex` and two
//! loom `Condvar`s, and loom explores every order in which messages, senders
//! and receivers interleave:
//!
//! - A `bounded(n)` channel holds at most `n` messages; a send waits for room.
//!   `bounded(0)` is a rendezvous: a send waits until a receiver took its
//!   message, and `try_send` succeeds only when a receiver is waiting.
//! - When every sender is gone, receives drain the queue and then report
//!   disconnection; when every receiver is gone, sends fail.
//! - **Timeouts fire at once.** loom has no time, so `recv_timeout` and
//!   `select_timeout` return a message if one is ready, and otherwise let the
//!   other threads run (a loom yield) and report a timeout. Every outcome a
//!   real timed receive can have is still explored (a message that arrives
//!   "during the wait" is a schedule in which it was sent first), and no model
//!   deadlocks on a timeout that would have fired; a loop that retries after a
//!   timeout behaves as a polling loop.
//! - The timer channels (`after`, `at`, `tick`, `never`) are not there:
//!   loom has no clock to run them on.
//! - `select` blocks until an arm is ready; when several are, the lowest
//!   index wins (crossbeam picks at random; loom explores schedules, not
//!   random choices). So do `Select` and the select macros, over receive and
//!   send arms; the chosen operation then completes as the channel's own
//!   `recv`/`send` (it waits, should another thread have taken what was
//!   ready in between).

#[cfg(not(reprise_loom))]
mod explore;
mod extras;
mod flavor;
#[cfg(not(reprise_loom))]
mod followed;
mod iter;
#[cfg(reprise_loom)]
mod loom;
#[cfg(not(reprise_loom))]
mod off;
#[cfg(not(reprise_loom))]
mod record;
#[cfg(not(reprise_loom))]
mod replay;
#[cfg(not(reprise_loom))]
mod replay_queue;
mod select;
#[cfg(not(reprise_loom))]
mod timer;
mod wait;

use std::fmt;
use std::panic::Location;
use std::time::Duration;

pub use crossbeam_channel::{
    RecvError, RecvTimeoutError, SendError, SendTimeoutError, TryRecvError, TrySendError,
};

#[cfg(reprise_loom)]
use self::loom as passthrough;
#[cfg(not(reprise_loom))]
use self::off as passthrough;
pub use crate::__reprise_select as select;
pub use crate::__reprise_select_biased as select_biased;
use crate::rt::mode::{self, Mode};
use flavor::Flavor;
#[cfg(not(reprise_loom))]
use flavor::Shared;
pub use iter::{IntoIter, Iter, TryIter};
pub use select::{select, select_timeout};
pub use select::{
    ReadyTimeoutError, Select, SelectTimeoutError, SelectedOperation, TryReadyError, TrySelectError,
};
#[cfg(not(reprise_loom))]
pub use timer::{after, at, never, tick};
use wait::{NoMessage, Wait};

/// The sending side. Like [`crossbeam_channel::Sender`].
pub struct Sender<T> {
    /// The channel's identity and progress counter (none under loom, which
    /// records nothing).
    #[cfg(not(reprise_loom))]
    shared: std::sync::Arc<Shared>,
    flavor: Flavor<T>,
}

/// The receiving side. Like [`crossbeam_channel::Receiver`].
pub struct Receiver<T> {
    /// As [`Sender`]'s.
    #[cfg(not(reprise_loom))]
    shared: std::sync::Arc<Shared>,
    flavor: Flavor<T>,
}

crate::named::nameable!([T] Sender<T>, Channel, |s| s.shared.slot);
crate::named::nameable!([T] Receiver<T>, Channel, |r| r.shared.slot);

/// A channel holding at most `cap` messages (`0`: a rendezvous). Like
/// [`crossbeam_channel::bounded`].
#[track_caller]
pub fn bounded<T>(cap: usize) -> (Sender<T>, Receiver<T>) {
    match mode::mode() {
        #[cfg(not(reprise_loom))]
        Mode::Gated => replay::channel(Some(cap)),
        // A coroutine replay keeps messages by id, as parallel replay does.
        #[cfg(not(reprise_loom))]
        Mode::Coop if crate::rt::coop::follows_trace() => replay::channel(Some(cap)),
        // Recording and exploring run on crossbeam, as passthrough does.
        _ => passthrough::bounded(cap),
    }
}

/// A channel of unbounded capacity. Like [`crossbeam_channel::unbounded`].
#[track_caller]
pub fn unbounded<T>() -> (Sender<T>, Receiver<T>) {
    match mode::mode() {
        #[cfg(not(reprise_loom))]
        Mode::Gated => replay::channel(None),
        #[cfg(not(reprise_loom))]
        Mode::Coop if crate::rt::coop::follows_trace() => replay::channel(None),
        _ => passthrough::unbounded(),
    }
}

impl<T> Sender<T> {
    /// Sends, blocking while a bounded channel is full (on a rendezvous,
    /// until a receiver took the message). Like
    /// [`crossbeam_channel::Sender::send`].
    ///
    /// # Errors
    ///
    /// Gives the value back when every receiver is gone.
    #[track_caller]
    #[inline(always)]
    pub fn send(&self, value: T) -> Result<(), SendError<T>> {
        match self.flavor.mode() {
            Mode::Off => passthrough::send(self, value),
            #[cfg(not(reprise_loom))]
            Mode::Record => record::send(self, value, Location::caller()),
            #[cfg(not(reprise_loom))]
            Mode::Gated => {
                replay::send(self, value, Location::caller()).map_err(|e| SendError(e.into_inner()))
            }
            #[cfg(not(reprise_loom))]
            Mode::Coop => explore::send(self, value, Location::caller()),
        }
    }

    /// Sends if there is room (on a rendezvous, if a receiver is waiting).
    /// Like [`crossbeam_channel::Sender::try_send`].
    ///
    /// # Errors
    ///
    /// `Full` or `Disconnected`, with the value.
    #[track_caller]
    pub fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        match self.flavor.mode() {
            Mode::Off => passthrough::try_send(self, value),
            #[cfg(not(reprise_loom))]
            Mode::Record => record::try_send(self, value, Location::caller()),
            #[cfg(not(reprise_loom))]
            Mode::Gated => replay::send(self, value, Location::caller()),
            #[cfg(not(reprise_loom))]
            Mode::Coop => explore::try_send(self, value, Location::caller()),
        }
    }

    /// Whether the channel is empty. Recorded as [`len`](Self::len) is.
    #[track_caller]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many messages are queued (always 0 on a rendezvous, as
    /// crossbeam's). The answer depends on how the run interleaved: it is
    /// recorded as a captured value (see [`crate::capture()`]), so a replay
    /// gets the recorded answer, not its own queue's length.
    #[track_caller]
    pub fn len(&self) -> usize {
        crate::capture::capture(|| extras::shown_len(self, self.flavor.len()))
    }
}

impl<T> Receiver<T> {
    /// The one receive path of `recv`, `try_recv`, `recv_timeout` and the
    /// iterators.
    #[cfg_attr(reprise_loom, allow(unused_variables))]
    #[inline(always)]
    fn receive(&self, wait: Wait, location: &'static Location<'static>) -> Result<T, NoMessage> {
        #[cfg(not(reprise_loom))]
        if let Flavor::Timer(timer) = &self.flavor {
            return timer::receive(timer, wait, location);
        }
        match self.flavor.mode() {
            Mode::Off => passthrough::receive(self, wait),
            #[cfg(not(reprise_loom))]
            Mode::Record => record::receive(self, wait, location),
            #[cfg(not(reprise_loom))]
            Mode::Gated => replay::receive(self, wait, location),
            #[cfg(not(reprise_loom))]
            Mode::Coop => explore::receive(self, wait, location),
        }
    }

    /// Receives, blocking. Like [`crossbeam_channel::Receiver::recv`].
    ///
    /// # Errors
    ///
    /// When the channel is empty and every sender is gone.
    #[track_caller]
    #[inline]
    pub fn recv(&self) -> Result<T, RecvError> {
        self.receive(Wait::Forever, Location::caller()).map_err(|_| RecvError)
    }

    /// Receives if a message is ready. Like
    /// [`crossbeam_channel::Receiver::try_recv`].
    ///
    /// # Errors
    ///
    /// `Empty` or `Disconnected`.
    #[track_caller]
    pub fn try_recv(&self) -> Result<T, TryRecvError> {
        self.receive(Wait::No, Location::caller()).map_err(|reason| match reason {
            NoMessage::Disconnected => TryRecvError::Disconnected,
            NoMessage::Empty | NoMessage::TimedOut => TryRecvError::Empty,
        })
    }

    /// Receives, waiting at most `timeout`. Like
    /// [`crossbeam_channel::Receiver::recv_timeout`]. In replay a recorded
    /// timeout returns at once; under loom a receive that would wait times
    /// out at once (see the module docs).
    ///
    /// # Errors
    ///
    /// `Timeout` or `Disconnected`.
    #[track_caller]
    pub fn recv_timeout(&self, timeout: Duration) -> Result<T, RecvTimeoutError> {
        self.receive(Wait::Timeout(timeout), Location::caller()).map_err(|reason| match reason {
            NoMessage::Disconnected => RecvTimeoutError::Disconnected,
            NoMessage::Empty | NoMessage::TimedOut => RecvTimeoutError::Timeout,
        })
    }

    /// A blocking iterator over messages, ending when every sender is gone.
    #[track_caller]
    pub fn iter(&self) -> Iter<'_, T> {
        Iter::new(self, Location::caller())
    }

    /// A non-blocking iterator over the messages ready now.
    #[track_caller]
    pub fn try_iter(&self) -> TryIter<'_, T> {
        TryIter::new(self, Location::caller())
    }

    /// Whether the channel is empty. Recorded as [`len`](Self::len) is.
    #[track_caller]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many messages are queued (always 0 on a rendezvous, as
    /// crossbeam's). The answer depends on how the run interleaved: it is
    /// recorded as a captured value (see [`crate::capture()`]), so a replay
    /// gets the recorded answer, not its own queue's length.
    #[track_caller]
    pub fn len(&self) -> usize {
        crate::capture::capture(|| extras::shown_len(self, self.flavor.len()))
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        match self.flavor.drop_mode() {
            #[cfg(not(reprise_loom))]
            Mode::Coop => explore::drop_end(&mut self.flavor, &self.shared),
            #[cfg(not(reprise_loom))]
            _ => passthrough::drop_end(&mut self.flavor, &self.shared),
            #[cfg(reprise_loom)]
            _ => passthrough::drop_sender(&self.flavor),
        }
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        // Before the end drops and wakes the blocked senders, which then
        // see the count at 0 if this was the last receiver.
        #[cfg(not(reprise_loom))]
        if let Some(rendezvous) = &self.shared.rendezvous {
            rendezvous.receivers.fetch_sub(1, std::sync::atomic::Ordering::AcqRel);
        }
        match self.flavor.drop_mode() {
            #[cfg(not(reprise_loom))]
            Mode::Coop => explore::drop_end(&mut self.flavor, &self.shared),
            #[cfg(not(reprise_loom))]
            _ => passthrough::drop_end(&mut self.flavor, &self.shared),
            #[cfg(reprise_loom)]
            _ => passthrough::drop_receiver(&self.flavor),
        }
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        Sender {
            #[cfg(not(reprise_loom))]
            shared: std::sync::Arc::clone(&self.shared),
            flavor: self.flavor.clone_sender(),
        }
    }
}

impl<T> Clone for Receiver<T> {
    fn clone(&self) -> Self {
        #[cfg(not(reprise_loom))]
        if let Some(rendezvous) = &self.shared.rendezvous {
            rendezvous.receivers.fetch_add(1, std::sync::atomic::Ordering::AcqRel);
        }
        Receiver {
            #[cfg(not(reprise_loom))]
            shared: std::sync::Arc::clone(&self.shared),
            flavor: self.flavor.clone_receiver(),
        }
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad("Sender { .. }")
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad("Receiver { .. }")
    }
}

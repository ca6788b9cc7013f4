//! Passthrough: crossbeam's channel, with nothing recorded. Recording and
//! exploring threads make their channels here too.

use crossbeam_channel as cb;

use super::flavor::{self, Envelope, Flavor, Shared};
use super::wait::{NoMessage, Wait};
use super::{Receiver, SendError, SendTimeoutError, Sender, TrySendError};
use crate::rt::exec;

#[track_caller]
fn make<T>((tx, rx): (cb::Sender<Envelope<T>>, cb::Receiver<Envelope<T>>)) -> (Sender<T>, Receiver<T>) {
    let outside = flavor::made_outside();
    flavor::ends(
        Flavor::Crossbeam { tx: Some(tx), rx: None, outside },
        Flavor::Crossbeam { tx: None, rx: Some(rx), outside },
    )
}

#[track_caller]
pub(super) fn bounded<T>(cap: usize) -> (Sender<T>, Receiver<T>) {
    if cap == 0 && crate::rt::mode::mode() == crate::rt::mode::Mode::Coop {
        // An explored rendezvous: one slot, paired by explore.rs.
        let (tx, rx) = cb::bounded(1);
        let shared = Shared { rendezvous: Some(flavor::Rendezvous::new()), ..Shared::new() };
        return flavor::ends_of(
            Flavor::Crossbeam { tx: Some(tx), rx: None, outside: false },
            Flavor::Crossbeam { tx: None, rx: Some(rx), outside: false },
            shared,
        );
    }
    make(cb::bounded(cap))
}

#[track_caller]
pub(super) fn unbounded<T>() -> (Sender<T>, Receiver<T>) {
    make(cb::unbounded())
}

/// Off mode numbers nothing: the envelope's id is left at 0.
#[inline]
fn envelope<T>(value: T) -> Envelope<T> {
    Envelope { sender: 0, sender_blocked: false, seq: 0, value }
}

// Into the shell's send: out of line, it was a frame of its own on every
// passthrough send (callgrind, the payments pipeline off).
#[inline(always)]
pub(super) fn send<T>(sender: &Sender<T>, value: T) -> Result<(), SendError<T>> {
    // Tried first, so that a send that would block can be told apart (see
    // `sync::passthrough`): crossbeam's own send starts with the same try.
    match sender.cb().try_send(envelope(value)) {
        Ok(()) => Ok(()),
        Err(cb::TrySendError::Disconnected(e)) => Err(SendError(e.value)),
        Err(cb::TrySendError::Full(e)) => {
            crate::sync::passthrough::contended();
            sender.cb().send(e).map_err(|e| SendError(e.0.value))
        }
    }
}

pub(super) fn try_send<T>(sender: &Sender<T>, value: T) -> Result<(), TrySendError<T>> {
    sender.cb().try_send(envelope(value)).map_err(unwrap_try_send)
}

pub(super) fn send_timeout<T>(
    sender: &Sender<T>,
    value: T,
    timeout: std::time::Duration,
) -> Result<(), SendTimeoutError<T>> {
    sender.cb().send_timeout(envelope(value), timeout).map_err(unwrap_send_timeout)
}

/// crossbeam's timed-send error for an envelope, as the error for its value.
pub(super) fn unwrap_send_timeout<T>(e: cb::SendTimeoutError<Envelope<T>>) -> SendTimeoutError<T> {
    match e {
        cb::SendTimeoutError::Timeout(e) => SendTimeoutError::Timeout(e.value),
        cb::SendTimeoutError::Disconnected(e) => SendTimeoutError::Disconnected(e.value),
    }
}

/// crossbeam's error for an envelope, as the error for its value.
pub(super) fn unwrap_try_send<T>(e: cb::TrySendError<Envelope<T>>) -> TrySendError<T> {
    match e {
        cb::TrySendError::Full(e) => TrySendError::Full(e.value),
        cb::TrySendError::Disconnected(e) => TrySendError::Disconnected(e.value),
    }
}

#[inline]
pub(super) fn receive<T>(receiver: &Receiver<T>, wait: Wait) -> Result<T, NoMessage> {
    let rx = receiver.cb();
    let result = match wait {
        Wait::No => rx.try_recv().map_err(|e| match e {
            cb::TryRecvError::Empty => NoMessage::Empty,
            cb::TryRecvError::Disconnected => NoMessage::Disconnected,
        }),
        // Tried first, as a send is.
        Wait::Forever => match rx.try_recv() {
            Ok(envelope) => Ok(envelope),
            Err(cb::TryRecvError::Disconnected) => Err(NoMessage::Disconnected),
            Err(cb::TryRecvError::Empty) => {
                crate::sync::passthrough::contended();
                rx.recv().map_err(|_| NoMessage::Disconnected)
            }
        },
        Wait::Timeout(timeout) => rx.recv_timeout(timeout).map_err(timed_out),
    };
    result.map(|e| e.value)
}

/// crossbeam's error of a timed receive.
pub(super) fn timed_out(e: cb::RecvTimeoutError) -> NoMessage {
    match e {
        cb::RecvTimeoutError::Timeout => NoMessage::TimedOut,
        cb::RecvTimeoutError::Disconnected => NoMessage::Disconnected,
    }
}

/// Drops a crossbeam end now, before the channel's progress counter is
/// bumped: a recording's waiter that the drop disconnects must see the bump.
/// A replay's end has no one to tell: its queue goes with the last end.
pub(super) fn drop_end<T>(flavor: &mut Flavor<T>, shared: &Shared) {
    if let Flavor::Crossbeam { tx, rx, .. } = flavor {
        drop((tx.take(), rx.take()));
        exec::bump(&shared.progress);
    }
}

//! Record mode: crossbeam's channel, each message stamped with its id
//! (sender thread, its send count) and each call's outcome recorded in the
//! thread's own log. An uncontended call visits the thread's context once.

use std::panic::Location;
use std::time::Duration;

use crossbeam_channel as cb;

use super::flavor::Envelope;
use super::off::{timed_out, unwrap_send_timeout, unwrap_try_send};
use super::wait::{self, NoMessage, Wait};
use super::{Receiver, SendError, SendTimeoutError, Sender, TrySendError};
use crate::rt::context;
use crate::trace::model::{ObjectIndex, ObjectKind, Op, Outcome, Sent};

/// How long a recording thread waits on a channel before it shows the
/// deadlock monitor that it is blocked.
const REGISTER_AFTER: Duration = Duration::from_millis(2);

/// What a send that ended in `result` as the sender's `seq`-th send records.
fn sent<E>(seq: u64, result: &Result<(), E>) -> Outcome {
    Outcome::Send(if result.is_ok() { Sent::Delivered { seq } } else { Sent::Disconnected })
}

#[inline(never)]
pub(super) fn send<T>(
    sender: &Sender<T>,
    value: T,
    location: &'static Location<'static>,
) -> Result<(), SendError<T>> {
    let attempt = context::with(|ctx| {
        ctx.sends += 1;
        let seq = ctx.sends;
        let object = ctx.object(&sender.shared.slot, ObjectKind::Channel, location);
        match sender.cb().try_send(Envelope { sender: ctx.index, sender_blocked: false, seq, value }) {
            Ok(()) => {
                sender.shared.progressed(ctx);
                ctx.record_outcome(Outcome::Send(Sent::Delivered { seq }), object, location);
                Ok(())
            }
            Err(cb::TrySendError::Disconnected(e)) => {
                ctx.record_outcome(Outcome::Send(Sent::Disconnected), object, location);
                Err(Err(e.value))
            }
            Err(cb::TrySendError::Full(e)) => Err(Ok((e, object))),
        }
    });
    match attempt {
        Ok(()) => Ok(()),
        Err(Err(value)) => Err(SendError(value)),
        Err(Ok((envelope, object))) => send_full(sender, envelope, object, location),
    }
}

/// The channel was full: wait for room, and show the deadlock monitor this
/// thread as blocked only once the wait lasts (registering costs a few lock
/// operations, and most waits are short hand-offs).
#[cold]
fn send_full<T>(
    sender: &Sender<T>,
    envelope: Envelope<T>,
    object: ObjectIndex,
    location: &'static Location<'static>,
) -> Result<(), SendError<T>> {
    let seq = envelope.seq;
    let mut registered = false;
    let mut flight = false;
    let result = match sender.cb().send_timeout(envelope, REGISTER_AFTER) {
        Ok(()) => Ok(()),
        Err(cb::SendTimeoutError::Disconnected(e)) => Err(e),
        Err(cb::SendTimeoutError::Timeout(mut e)) => {
            // The mark is read before the send below looks for room.
            context::with(|ctx| {
                let mark = sender.shared.mark(ctx);
                flight = ctx.in_flight();
                if flight {
                    // A receiver may take the message before this thread
                    // records its send: it tells this thread's block state,
                    // which a flight dump's gathering reads.
                    ctx.sending(seq);
                    e.sender_blocked = true;
                }
                ctx.block_marked(Op::Send, object, location, false, mark);
            });
            registered = true;
            sender.cb().send(e).map_err(|e| e.0)
        }
    };
    context::with(|ctx| {
        if flight {
            ctx.unblock_send();
        } else if registered {
            ctx.unblock();
        }
        if result.is_ok() {
            sender.shared.progressed(ctx);
        }
        ctx.record_outcome(sent(seq, &result), object, location);
    });
    result.map_err(|e| SendError(e.value))
}

pub(super) fn try_send<T>(
    sender: &Sender<T>,
    value: T,
    location: &'static Location<'static>,
) -> Result<(), TrySendError<T>> {
    context::with(|ctx| {
        ctx.sends += 1;
        let seq = ctx.sends;
        let object = ctx.object(&sender.shared.slot, ObjectKind::Channel, location);
        let result = sender.cb().try_send(Envelope { sender: ctx.index, sender_blocked: false, seq, value });
        let outcome = match &result {
            Ok(()) => {
                sender.shared.progressed(ctx);
                Sent::Delivered { seq }
            }
            Err(cb::TrySendError::Full(_)) => Sent::Full,
            Err(cb::TrySendError::Disconnected(_)) => Sent::Disconnected,
        };
        ctx.record_outcome(Outcome::Send(outcome), object, location);
        result.map_err(unwrap_try_send)
    })
}

#[inline(never)]
pub(super) fn receive<T>(
    receiver: &Receiver<T>,
    wait: Wait,
    location: &'static Location<'static>,
) -> Result<T, NoMessage> {
    let attempt = context::with(|ctx| {
        let object = ctx.object(&receiver.shared.slot, ObjectKind::Channel, location);
        let result = match (receiver.cb().try_recv(), wait) {
            (Ok(e), _) => Ok(e),
            (Err(cb::TryRecvError::Disconnected), _) => Err(NoMessage::Disconnected),
            (Err(cb::TryRecvError::Empty), Wait::No) => Err(NoMessage::Empty),
            (Err(cb::TryRecvError::Empty), _) => return Err(object),
        };
        if result.is_ok() {
            receiver.shared.progressed(ctx);
        }
        ctx.record_outcome(wait.outcome(wait::recorded(ctx, &result, location)), object, location);
        Ok(result)
    });
    let result = match attempt {
        Ok(result) => result,
        Err(object) => receive_slow(receiver, wait, object, location),
    };
    result.map(|e| e.value)
}

/// The channel was empty: wait, and show the deadlock monitor this thread as
/// blocked only once the wait lasts. A wait with a deadline ends by itself
/// and is never registered.
#[cold]
fn receive_slow<T>(
    receiver: &Receiver<T>,
    wait: Wait,
    object: ObjectIndex,
    location: &'static Location<'static>,
) -> Result<Envelope<T>, NoMessage> {
    let rx = receiver.cb();
    let mut registered = false;
    let result = match wait.deadline() {
        Some(deadline) => rx.recv_deadline(deadline).map_err(timed_out),
        None => match rx.recv_timeout(REGISTER_AFTER) {
            Ok(e) => Ok(e),
            Err(cb::RecvTimeoutError::Disconnected) => Err(NoMessage::Disconnected),
            Err(cb::RecvTimeoutError::Timeout) => {
                // The mark is read before the receive below looks.
                context::with(|ctx| {
                    let mark = receiver.shared.mark(ctx);
                    ctx.block_marked(wait.op(), object, location, false, mark);
                });
                registered = true;
                rx.recv().map_err(|_| NoMessage::Disconnected)
            }
        },
    };
    context::with(|ctx| {
        if registered {
            ctx.unblock();
        }
        if result.is_ok() {
            receiver.shared.progressed(ctx);
        }
        ctx.record_outcome(wait.outcome(wait::recorded(ctx, &result, location)), object, location);
    });
    result
}

/// `send_timeout`: as `send`, but a wait that ends by itself, so never shown
/// to the deadlock monitor; a timeout is recorded as `Sent::TimedOut`.
pub(super) fn send_timeout<T>(
    sender: &Sender<T>,
    value: T,
    timeout: Duration,
    location: &'static Location<'static>,
) -> Result<(), SendTimeoutError<T>> {
    let (envelope, object) = context::with(|ctx| {
        ctx.sends += 1;
        let object = ctx.object(&sender.shared.slot, ObjectKind::Channel, location);
        (Envelope { sender: ctx.index, sender_blocked: false, seq: ctx.sends, value }, object)
    });
    let seq = envelope.seq;
    let result = sender.cb().send_timeout(envelope, timeout);
    context::with(|ctx| {
        let sent = match &result {
            Ok(()) => {
                sender.shared.progressed(ctx);
                Sent::Delivered { seq }
            }
            Err(cb::SendTimeoutError::Timeout(_)) => Sent::TimedOut,
            Err(cb::SendTimeoutError::Disconnected(_)) => Sent::Disconnected,
        };
        ctx.record_outcome(Outcome::Send(sent), object, location);
    });
    result.map_err(unwrap_send_timeout)
}

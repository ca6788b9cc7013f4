//! A channel under a coroutine replay (explore mode with a scheduler that
//! follows a trace): its messages wait in replay's queue, from which a
//! receive takes the message the recording says it got, and the outcomes of
//! sends and receives come from the trace. Nothing here blocks: the replay's
//! scheduler runs a receive only once its message was sent.

use std::panic::Location;

use super::replay_queue::ReplayQueue;
use super::wait::{NoMessage, Wait};
use super::{Receiver, Sender, TrySendError};
use crate::rt::context;
use crate::rt::coop::{self, Resource};
use crate::trace::model::{ObjectIndex, ObjectKind, Op, Outcome, Received, Sent, ThreadIndex};

/// The recorded outcome of this thread's next call, `op`.
fn served(op: Op) -> Option<Outcome> {
    context::with(|ctx| coop::recorded_outcome(ctx.index, op)).map(|s| s.outcome)
}

/// What the trace says a receive got: the message, or why none came.
fn served_receive(op: Op) -> Option<Received> {
    match served(op)? {
        Outcome::Recv(r) | Outcome::TryRecv(r) | Outcome::RecvTimeout(r) => Some(r),
        Outcome::Select { received, .. } => Some(received),
        _ => None,
    }
}

/// Takes what `received` names from `queue`. A message that is not there
/// (sent on another channel: a divergence) comes back as a disconnection,
/// which the check of the recorded event reports.
pub(super) fn take<T>(
    queue: &ReplayQueue<T>,
    received: Option<Received>,
) -> (Received, Result<T, NoMessage>) {
    match received {
        Some(message @ Received::Message { sender, seq }) => match queue.take(sender, seq) {
            Some(value) => (message, Ok(value)),
            None => (Received::Disconnected, Err(NoMessage::Disconnected)),
        },
        Some(other) => (other, Err(NoMessage::of(other).unwrap_or(NoMessage::Disconnected))),
        None => (Received::Empty, Err(NoMessage::Empty)),
    }
}

/// Wakes a rendezvous's sender, which waits until its message was taken.
pub(super) fn taken<T, V>(queue: &ReplayQueue<T>, object: ObjectIndex, result: &Result<V, NoMessage>) {
    if queue.is_rendezvous() && result.is_ok() {
        coop::wake(Resource::Object(object), true);
    }
}

/// Queues a delivered message under its id `(thread, seq)`. On a
/// rendezvous the send returns only once its message was taken, as in the
/// recording (the receive wakes it: [`taken`]), unless no receive the
/// replay follows takes it (cut off with the end of a damaged trace). `send`, `try_send` and a
/// select's send arm all come here.
pub(super) fn deposit<T>(
    queue: &ReplayQueue<T>,
    (thread, seq): (ThreadIndex, u64),
    value: T,
    object: ObjectIndex,
    location: &'static Location<'static>,
) {
    queue.push(thread, seq, value);
    let wait_for_taker = queue.is_rendezvous() && coop::taken_later(thread, seq);
    while wait_for_taker && queue.holds(thread, seq) {
        coop::block(&[Resource::Object(object)], None, Op::Send, Some(object), location);
    }
}

/// `send` and `try_send`: as the recording did, `Full` or `Disconnected`
/// when it did not deliver.
pub(super) fn send<T>(
    sender: &Sender<T>,
    queue: &ReplayQueue<T>,
    value: T,
    location: &'static Location<'static>,
) -> Result<(), TrySendError<T>> {
    let (object, thread, seq) = context::with(|ctx| {
        ctx.sends += 1;
        (ctx.object(&sender.shared.slot, ObjectKind::Channel, location), ctx.index, ctx.sends)
    });
    coop::switch(Op::Send, Some(object), location);
    let sent = match served(Op::Send) {
        Some(Outcome::Send(Sent::Full)) => Sent::Full,
        Some(Outcome::Send(Sent::Disconnected)) => Sent::Disconnected,
        Some(Outcome::Send(Sent::TimedOut)) => Sent::TimedOut,
        _ => Sent::Delivered { seq },
    };
    context::with(|ctx| ctx.record_outcome(Outcome::Send(sent), object, location));
    match sent {
        Sent::Delivered { .. } => {
            deposit(queue, (thread, seq), value, object, location);
            Ok(())
        }
        // Only a timed send records a timeout; it maps `Full` back.
        Sent::Full | Sent::TimedOut => Err(TrySendError::Full(value)),
        Sent::Disconnected => Err(TrySendError::Disconnected(value)),
    }
}

/// `recv`, `try_recv` and `recv_timeout`: what the recording received.
pub(super) fn receive<T>(
    receiver: &Receiver<T>,
    queue: &ReplayQueue<T>,
    wait: Wait,
    location: &'static Location<'static>,
) -> Result<T, NoMessage> {
    let op = wait.op();
    let object = context::with(|ctx| ctx.object(&receiver.shared.slot, ObjectKind::Channel, location));
    coop::switch(op, Some(object), location);
    let (received, result) = take(queue, served_receive(op));
    context::with(|ctx| ctx.record_outcome(wait.outcome(received), object, location));
    taken(queue, object, &result);
    result
}

/// A select that chooses the arm the recording chose and takes its message;
/// `None`: it timed out.
pub(super) fn select<T>(
    receivers: &[&Receiver<T>],
    location: &'static Location<'static>,
) -> Option<(usize, Result<T, NoMessage>)> {
    let objects: Vec<_> = receivers
        .iter()
        .map(|r| context::with(|ctx| ctx.object(&r.shared.slot, ObjectKind::Channel, location)))
        .collect();
    coop::switch(Op::Select, None, location);
    let timed_out = || {
        let outcome = Outcome::Select { arm: 0, received: Received::TimedOut };
        context::with(|ctx| ctx.record_outcome(outcome, 0, location));
        None
    };
    let (arm, received) = match served(Op::Select) {
        Some(Outcome::Select { arm, received }) if (arm as usize) < receivers.len() => (arm, received),
        _ => return timed_out(),
    };
    if matches!(received, Received::TimedOut | Received::Empty) {
        return timed_out();
    }
    let (received, result) = match receivers[arm as usize].flavor.queue() {
        Some(queue) => {
            let (received, result) = take(queue, Some(received));
            taken(queue, objects[arm as usize], &result);
            (received, result)
        }
        // A channel made outside the replay: no recording speaks of it.
        None => (Received::Disconnected, Err(NoMessage::Disconnected)),
    };
    let outcome = Outcome::Select { arm, received };
    context::with(|ctx| ctx.record_outcome(outcome, objects[arm as usize], location));
    Some((arm as usize, result))
}

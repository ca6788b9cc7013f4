//! Replay: each call takes its recorded outcome. A send puts its message in
//! the channel's replay queue under its recorded id; a receive waits until
//! the recorded message was sent and takes that one; recorded failures
//! (full, empty, timed out, disconnected) come back at once.

use std::panic::Location;
use std::sync::Arc;

use super::flavor::{self, Flavor};
use super::replay_queue::ReplayQueue;
use super::wait::{NoMessage, Wait};
use super::{Receiver, Sender, TrySendError};
use crate::rt::gated::{self, GatedCall};
use crate::trace::model::{Happened, ObjectKind, Op, Outcome, Received, Sent, WaitFor, OUTSIDE_MESSAGE};

/// A channel made inside a replay, of `capacity` as `bounded`/`unbounded`
/// give it: both ends share one replay queue.
#[track_caller]
pub(super) fn channel<T>(capacity: Option<usize>) -> (Sender<T>, Receiver<T>) {
    let queue = Arc::new(ReplayQueue::new(capacity));
    flavor::ends(Flavor::Replay(Arc::clone(&queue)), Flavor::Replay(queue))
}

/// `send` and `try_send`: a recorded `Full` or `Disconnected` comes back as
/// that error (`send` gives the value back either way); a recorded delivery
/// queues the message under its id and tells whoever waits for it.
#[inline(never)]
pub(super) fn send<T>(
    sender: &Sender<T>,
    value: T,
    location: &'static Location<'static>,
) -> Result<(), TrySendError<T>> {
    // Only an end with a replay queue is routed here (`Flavor::mode`).
    let Some(queue) = sender.flavor.queue() else { return Err(TrySendError::Disconnected(value)) };
    let Some(call) = gated::begin(Op::Send, Some((&sender.shared.slot, ObjectKind::Channel)), location)
    else {
        return unwinding_send(queue, value);
    };
    let Some(outcome) = call.outcome() else { return Err(TrySendError::Disconnected(value)) };
    let sent = match outcome {
        Outcome::Send(sent) => sent,
        _ => Sent::Disconnected,
    };
    send_recorded(&call, &outcome, sent, queue, value)
}

/// A send that passes through the gate (no event): while its thread
/// unwinds after the replay stopped (a stopped replay's threads, a coroutine
/// replay's teardown), its message is queued and the send succeeds, as
/// std's does while a receiver lives; an error there panicked in a `Drop`
/// that unwraps it, which aborted the process. Otherwise the end is
/// disconnected, as before.
fn unwinding_send<T>(queue: &ReplayQueue<T>, value: T) -> Result<(), TrySendError<T>> {
    if !std::thread::panicking() {
        return Err(TrySendError::Disconnected(value));
    }
    queue.push(crate::trace::model::NO_THREAD, 0, value);
    Ok(())
}

/// What a send recorded as `sent` (`outcome` is the call's whole recorded
/// outcome: a send's or a select's send arm's) does: queues the message
/// under its id and tells whoever waits for it, or gives the value back.
/// `Sender::send` and a select's send arm both come here, so whatever a
/// replayed send must wait for applies to both: on a rendezvous channel the
/// send and its receive are one step, so the sender returns only once a
/// receiver took this very message (what it does next happened after the
/// hand-off in the recording too). It parks in the gate, which the taker's
/// [`take_recorded`] wakes, and which the replay's stop unwinds.
pub(super) fn send_recorded<T>(
    call: &GatedCall,
    outcome: &Outcome,
    sent: Sent,
    queue: &ReplayQueue<T>,
    value: T,
) -> Result<(), TrySendError<T>> {
    match sent {
        Sent::Delivered { seq } => {
            if let Some(taken) = queue.room_needed() {
                // Its consumers are far behind: let them catch up, so that a
                // producer does not pile the whole trace up in the queue.
                // The watchdog lets it go when nothing else can run.
                // `false`: the replay stopped and this thread is unwinding
                // already; the send passes through.
                if call.wait(WaitFor::Room { object: call.event.object, taken }) {
                    queue.room_waited(taken);
                }
            }
            queue.push(call.thread, seq, value);
            call.announce(outcome);
            if queue.is_rendezvous() {
                // `false`: the replay stopped and this thread is unwinding
                // already; the send passes through.
                call.wait(WaitFor::Received { sender: call.thread, seq });
            }
            Ok(())
        }
        // Only a timed send records a timeout; it maps `Full` back.
        Sent::Full | Sent::TimedOut => Err(TrySendError::Full(value)),
        Sent::Disconnected => Err(TrySendError::Disconnected(value)),
    }
}

/// `recv`, `try_recv` and `recv_timeout`.
#[inline(never)]
pub(super) fn receive<T>(
    receiver: &Receiver<T>,
    wait: Wait,
    location: &'static Location<'static>,
) -> Result<T, NoMessage> {
    let Some(queue) = receiver.flavor.queue() else { return Err(NoMessage::Disconnected) };
    let Some(call) = gated::begin(wait.op(), Some((&receiver.shared.slot, ObjectKind::Channel)), location)
    else {
        return Err(NoMessage::Disconnected);
    };
    let Some(outcome) = call.outcome() else { return Err(NoMessage::Disconnected) };
    let (Outcome::Recv(received) | Outcome::TryRecv(received) | Outcome::RecvTimeout(received)) = outcome
    else {
        // `begin` matched the op, and each op decodes to its own outcome.
        call.diverge(format!("a receive's recorded outcome is {outcome:?}"));
        return Err(NoMessage::Disconnected);
    };
    take_recorded(&call, &outcome, received, queue)
}

/// Waits until the message `received` names (`outcome` is the call's whole
/// recorded outcome) was sent and takes it from `queue`, or gives the
/// recorded reason why there was none.
pub(super) fn take_recorded<T>(
    call: &GatedCall,
    outcome: &Outcome,
    received: Received,
    queue: &ReplayQueue<T>,
) -> Result<T, NoMessage> {
    let Received::Message { sender, seq } = received else {
        return Err(NoMessage::of(received).unwrap_or(NoMessage::Disconnected));
    };
    if received.from_outside() {
        call.diverge(OUTSIDE_MESSAGE.to_string());
        return Err(NoMessage::Disconnected);
    }
    if !call.wait_for_outcome(outcome) {
        return Err(NoMessage::Disconnected);
    }
    match queue.take(sender, seq) {
        Some(value) => {
            if queue.is_rendezvous() {
                call.happened(Happened::Received { sender, seq });
            } else {
                call.happened(Happened::Dequeued(call.event.object));
            }
            Ok(value)
        }
        None => {
            call.diverge(format!("{received} was sent, but not on this channel"));
            Err(NoMessage::Disconnected)
        }
    }
}

//! A channel under a coroutine replay: its messages wait in replay's queue,
//! from which a receive takes the message the recording says it got, and
//! the outcomes of sends and receives come from the trace. Nothing here
//! blocks: the replay's scheduler runs a receive only once its message was
//! sent.

use std::panic::Location;

use super::{Envelope, Receiver, ReplayQueue, Sender, DISCONNECTED, EMPTY, TIMED_OUT};
use crate::rt::context;
use crate::rt::coop;
use crate::trace::model::{ObjectKind, Op, Outcome, Received, Sent};

/// What the trace says a receive got: the message, or why none came.
fn served_receive(op: Op) -> Option<Received> {
    match context::with(|ctx| coop::recorded_outcome(ctx.index, op))?.outcome {
        Outcome::Recv(r) | Outcome::TryRecv(r) | Outcome::RecvTimeout(r) => Some(r),
        Outcome::Select { received, .. } => Some(received),
        _ => None,
    }
}

/// Takes what `received` names from `queue`. A message that is not there
/// (sent on another channel: a divergence) comes back as a disconnection,
/// which the check of the recorded event reports.
fn take<T>(queue: &ReplayQueue<T>, received: Option<Received>) -> Result<Envelope<T>, u64> {
    match received {
        Some(Received::Message { sender, seq }) => {
            queue.take(sender, seq).map(|value| Envelope { sender, seq, value }).ok_or(DISCONNECTED)
        }
        Some(Received::Empty) => Err(EMPTY),
        Some(Received::TimedOut) => Err(TIMED_OUT),
        Some(Received::Disconnected) => Err(DISCONNECTED),
        None => Err(EMPTY),
    }
}

impl<T> Sender<T> {
    /// Sends as the recording did: `Err` with the recorded reason (full,
    /// disconnected) when it did not deliver.
    pub(super) fn send_followed(
        &self,
        queue: &ReplayQueue<T>,
        value: T,
        location: &'static Location<'static>,
    ) -> Result<(), (T, u64)> {
        let (object, sender, seq) = context::with(|ctx| {
            ctx.sends += 1;
            (ctx.object(&self.shared.slot, ObjectKind::Channel, location), ctx.index, ctx.sends)
        });
        coop::switch(Op::Send, Some(object), location);
        let served = context::with(|ctx| coop::recorded_outcome(ctx.index, Op::Send)).map(|s| s.outcome);
        let status = match served {
            Some(Outcome::Send(Sent::Full)) => 1,
            Some(Outcome::Send(Sent::Disconnected)) => 2,
            _ => 0,
        };
        context::with(|ctx| ctx.record(Op::Send, object, location, [seq, status, 0]));
        if status != 0 {
            return Err((value, status));
        }
        queue.items.lock().push_back(Envelope { sender, seq, value });
        Ok(())
    }
}

impl<T> Receiver<T> {
    /// Receives what the recording received.
    pub(super) fn receive_followed(
        &self,
        queue: &ReplayQueue<T>,
        op: Op,
        location: &'static Location<'static>,
    ) -> Result<T, u64> {
        let object = context::with(|ctx| ctx.object(&self.shared.slot, ObjectKind::Channel, location));
        coop::switch(op, Some(object), location);
        let result = take(queue, served_receive(op));
        let [a, b] = super::outcome_of(&result);
        context::with(|ctx| ctx.record(op, object, location, [a, b, 0]));
        result.map(|e| e.value)
    }
}

/// A select that chooses the arm the recording chose and takes its message.
pub(super) fn select_followed<T>(
    receivers: &[&Receiver<T>],
    location: &'static Location<'static>,
) -> Result<(usize, Result<T, u64>), ()> {
    let objects: Vec<_> = receivers
        .iter()
        .map(|r| context::with(|ctx| ctx.object(&r.shared.slot, ObjectKind::Channel, location)))
        .collect();
    coop::switch(Op::Select, None, location);
    let served = context::with(|ctx| coop::recorded_outcome(ctx.index, Op::Select)).map(|s| s.outcome);
    let (arm, received) = match served {
        Some(Outcome::Select { arm, received }) if (arm as usize) < receivers.len() => {
            (arm as usize, received)
        }
        _ => {
            context::with(|ctx| ctx.record(Op::Select, 0, location, [0, TIMED_OUT, 0]));
            return Err(());
        }
    };
    if matches!(received, Received::TimedOut | Received::Empty) {
        context::with(|ctx| ctx.record(Op::Select, 0, location, [0, TIMED_OUT, 0]));
        return Err(());
    }
    let result = match &receivers[arm].flavor {
        super::Flavor::Replay(queue) => take(queue, Some(received)),
        super::Flavor::Crossbeam { .. } => Err(DISCONNECTED),
    };
    let [a, b] = super::outcome_of(&result);
    context::with(|ctx| ctx.record(Op::Select, objects[arm], location, [a, b, arm as u64]));
    Ok((arm, result.map(|e| e.value)))
}

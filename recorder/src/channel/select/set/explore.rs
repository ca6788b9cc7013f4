//! Under the explorer a select is a scheduling point: every arm that is
//! ready (a message or room, or a disconnected channel) is a choice the
//! explorer explores (a biased select takes the first); with none ready the
//! thread blocks as a coroutine on all its arms' channels, a timeout in
//! virtual time. The select is recorded as a recording records it, when its
//! operation completes, so a failing schedule's trace replays. Under a
//! coroutine replay (channels made in the replay) the trace says which arm
//! completes and with what.

use std::panic::Location;

use crossbeam_channel as cb;

use super::crossbeam::arm_u32;
use super::selected::{Chosen, SelectedOperation};
use super::{NoArm, Select};
use crate::channel::explore::{self, virtual_deadline};
use crate::channel::flavor::{Envelope, Flavor};
use crate::channel::followed;
use crate::channel::timer;
use crate::channel::wait::{self, NoMessage, Wait};
use crate::channel::{Receiver, RecvError, SendError, Sender};
use crate::rt::context;
use crate::rt::coop::{self, Resource, Woken};
use crate::trace::model::{ObjectIndex, ObjectKind, Op, Outcome, Received, Sent};

fn record(outcome: Outcome, object: ObjectIndex, location: &'static Location<'static>) {
    context::with(|ctx| ctx.record_outcome(outcome, object, location));
}

fn record_none(why: NoArm, location: &'static Location<'static>) {
    let received = if why == NoArm::Empty { Received::Empty } else { Received::TimedOut };
    record(Outcome::Select { arm: 0, received }, 0, location);
}

fn object_of(slot: &crate::rt::object::ObjectSlot, location: &'static Location<'static>) -> ObjectIndex {
    context::with(|ctx| ctx.object(slot, ObjectKind::Channel, location))
}

/// Waits, in the scheduler, until an arm is ready and picks one; its index.
fn pick(select: &Select<'_>, wait: Wait, location: &'static Location<'static>) -> Result<usize, NoArm> {
    // A timer arm is no object: a recording names none for it.
    let resources: Vec<Resource> = select
        .arms
        .iter()
        .filter(|a| !a.end.is_timer())
        .map(|a| Resource::Object(object_of(&a.end.shared().slot, location)))
        .collect();
    let mut deadline = None;
    // The receive arms on explored rendezvous this select last waited on.
    let mut waited: Vec<usize> = Vec::new();
    loop {
        coop::switch(Op::Select, None, location);
        let mut ready: Vec<u32> =
            select.arms.iter().filter(|a| a.ready()).map(|a| arm_u32(a.index)).collect();
        // A sender that paired with this select while it waited (its send
        // went because this select counted as a taker) is committed to, as
        // crossbeam commits a waiting select to the operation that paired
        // with it: a rendezvous arm waited on that is ready now goes first.
        let paired: Vec<u32> = ready.iter().copied().filter(|&a| waited.contains(&(a as usize))).collect();
        if !paired.is_empty() {
            ready = paired;
        }
        if let Some(&first) = ready.first() {
            let pick = if select.biased { first } else { coop::scheduler().choose(&ready) };
            return Ok(pick as usize);
        }
        let until = match wait {
            Wait::No => {
                record_none(NoArm::Empty, location);
                return Err(NoArm::Empty);
            }
            Wait::Timeout(t) => Some(*deadline.get_or_insert_with(|| virtual_deadline(t))),
            Wait::Forever => None,
        };
        // The earliest timer arm wakes the select too, without timing it out.
        let due = select.arms.iter().filter_map(|a| a.end.timer_due()).min();
        let wake_at = match (until, due) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        // Its receive arms on explored rendezvous count as takers: a select
        // or a timed send on the other end pairs with one only so.
        // One claim for all of them: a sender that pairs with one takes
        // the select, and no other sender pairs with it.
        let mut claim = None;
        waited = select
            .arms
            .iter()
            .filter(|a| !a.send && !a.end.is_timer())
            .filter(|a| {
                explore::start_waiting(a.end.shared(), object_of(&a.end.shared().slot, location), &mut claim)
            })
            .map(|a| a.index)
            .collect();
        let woken = coop::block(&resources, wake_at, Op::Select, None, location);
        for arm in select.arms.iter().filter(|a| waited.contains(&a.index)) {
            explore::stop_waiting(arm.end.shared(), &claim);
        }
        if woken == Woken::TimedOut && until.is_some_and(|until| coop::now() >= until) {
            record_none(NoArm::TimedOut, location);
            return Err(NoArm::TimedOut);
        }
    }
}

pub(super) fn select<'a>(
    select: &mut Select<'a>,
    wait: Wait,
    location: &'static Location<'static>,
) -> Result<SelectedOperation<'a>, NoArm> {
    if select.arms.iter().any(|a| a.end.replayed()) {
        let outcome = follow(select, wait, location, false)?;
        let arm = match outcome {
            Outcome::Select { arm, .. } | Outcome::SelectSend { arm, .. } | Outcome::SelectTimer { arm } => {
                arm as usize
            }
            _ => 0,
        };
        return Ok(SelectedOperation::new(select, arm, location, Chosen::Followed { outcome }));
    }
    let arm = pick(select, wait, location)?;
    Ok(SelectedOperation::new(select, arm, location, Chosen::Explore))
}

pub(super) fn ready(
    select: &mut Select<'_>,
    wait: Wait,
    location: &'static Location<'static>,
) -> Result<usize, NoArm> {
    let arm = if select.arms.iter().any(|a| a.end.replayed()) {
        match follow(select, wait, location, true)? {
            Outcome::SelectReady { arm } => arm as usize,
            _ => 0,
        }
    } else {
        pick(select, wait, location)?
    };
    if let Some(chosen) = select.arm(arm) {
        let object = object_of(&chosen.end.shared().slot, location);
        record(Outcome::SelectReady { arm: arm_u32(arm) }, object, location);
    }
    Ok(arm)
}

/// A coroutine replay: the outcome the trace holds for this select, if it
/// names an arm of the right kind (else this run records that it completed
/// nothing, which the replay's check reports).
fn follow(
    select: &Select<'_>,
    wait: Wait,
    location: &'static Location<'static>,
    ready: bool,
) -> Result<Outcome, NoArm> {
    for arm in select.arms.iter().filter(|a| !a.end.is_timer()) {
        object_of(&arm.end.shared().slot, location);
    }
    coop::switch(Op::Select, None, location);
    let served = coop::served(Op::Select);
    let arm_kind = |arm: u32, send: bool| select.arm(arm as usize).is_some_and(|a| ready || a.send == send);
    match served {
        Some(
            outcome @ Outcome::Select { arm, received: Received::Message { .. } | Received::Disconnected },
        ) if !ready && arm_kind(arm, false) => Ok(outcome),
        Some(outcome @ Outcome::SelectSend { arm, .. }) if !ready && arm_kind(arm, true) => Ok(outcome),
        Some(outcome @ Outcome::SelectTimer { arm })
            if !ready
                && arm_kind(arm, false)
                && select.arm(arm as usize).is_some_and(|a| a.end.is_timer()) =>
        {
            Ok(outcome)
        }
        Some(outcome @ Outcome::SelectReady { arm }) if ready && arm_kind(arm, false) => Ok(outcome),
        _ => {
            let why = if let Wait::No = wait { NoArm::Empty } else { NoArm::TimedOut };
            record_none(why, location);
            Err(why)
        }
    }
}

pub(super) fn recv<T>(
    arm: usize,
    r: &Receiver<T>,
    location: &'static Location<'static>,
) -> Result<T, RecvError> {
    if let Flavor::Timer(timer) = &r.flavor {
        record(Outcome::SelectTimer { arm: arm_u32(arm) }, 0, location);
        return timer::receive(timer, Wait::No, location).map_err(|_| RecvError);
    }
    let object = object_of(&r.shared.slot, location);
    let result = loop {
        match r.cb().try_recv() {
            Ok(e) => break Ok(e),
            Err(cb::TryRecvError::Disconnected) => break Err(NoMessage::Disconnected),
            // Taken since the select chose it (the thread ran another
            // primitive in between): wait as the receive would.
            Err(cb::TryRecvError::Empty) => {
                coop::block(&[Resource::Object(object)], None, Op::Select, Some(object), location);
            }
        }
    };
    record(Outcome::Select { arm: arm_u32(arm), received: wait::received(&result) }, object, location);
    explore::took(&r.shared, result.is_ok());
    if result.is_ok() {
        coop::wake(Resource::Object(object), true);
    }
    result.map(|e| e.value).map_err(|_| RecvError)
}

pub(super) fn send<T>(
    arm: usize,
    s: &Sender<T>,
    msg: T,
    location: &'static Location<'static>,
) -> Result<(), SendError<T>> {
    let (object, sender, seq) = context::with(|ctx| {
        ctx.sends += 1;
        (ctx.object(&s.shared.slot, ObjectKind::Channel, location), ctx.index, ctx.sends)
    });
    let mut envelope = Envelope { sender, sender_blocked: false, seq, value: msg };
    let result = loop {
        match s.cb().try_send(envelope) {
            Ok(()) => break Ok(()),
            Err(cb::TrySendError::Disconnected(e)) => break Err(e.value),
            Err(cb::TrySendError::Full(e)) => {
                envelope = e;
                coop::block(&[Resource::Object(object)], None, Op::Select, Some(object), location);
            }
        }
    };
    let sent = if result.is_ok() { Sent::Delivered { seq } } else { Sent::Disconnected };
    record(Outcome::SelectSend { arm: arm_u32(arm), sent }, object, location);
    if result.is_ok() {
        coop::wake(Resource::Object(object), true);
        // On an explored rendezvous: until a receiver took it.
        explore::hand_off(&s.shared, object, location);
    }
    result.map_err(SendError)
}

/// A coroutine replay's receive arm: the message the trace names.
pub(super) fn recv_followed<T>(
    arm: usize,
    outcome: Outcome,
    r: &Receiver<T>,
    location: &'static Location<'static>,
) -> Result<T, RecvError> {
    if let (Outcome::SelectTimer { .. }, Flavor::Timer(timer)) = (outcome, &r.flavor) {
        record(outcome, 0, location);
        return timer::receive(timer, Wait::No, location).map_err(|_| RecvError);
    }
    let object = object_of(&r.shared.slot, location);
    let received = match outcome {
        Outcome::Select { received, .. } => Some(received),
        _ => None,
    };
    let (received, result) = match r.flavor.queue() {
        Some(queue) => {
            let (received, result) = followed::take(queue, received);
            followed::taken(queue, object, &result);
            (received, result)
        }
        // A channel made outside the replay: no recording speaks of it.
        None => (Received::Disconnected, Err(NoMessage::Disconnected)),
    };
    record(Outcome::Select { arm: arm_u32(arm), received }, object, location);
    result.map_err(|_| RecvError)
}

/// A coroutine replay's send arm: queued under its id, as the trace says.
pub(super) fn send_followed<T>(
    arm: usize,
    outcome: Outcome,
    s: &Sender<T>,
    msg: T,
    location: &'static Location<'static>,
) -> Result<(), SendError<T>> {
    let (object, thread, seq) = context::with(|ctx| {
        ctx.sends += 1;
        (ctx.object(&s.shared.slot, ObjectKind::Channel, location), ctx.index, ctx.sends)
    });
    let delivered = matches!(outcome, Outcome::SelectSend { sent: Sent::Delivered { .. }, .. });
    let queue = s.flavor.queue().filter(|_| delivered);
    let sent = if queue.is_some() { Sent::Delivered { seq } } else { Sent::Disconnected };
    record(Outcome::SelectSend { arm: arm_u32(arm), sent }, object, location);
    match queue {
        Some(queue) => {
            followed::deposit(queue, (thread, seq), msg, object, location);
            Ok(())
        }
        None => Err(SendError(msg)),
    }
}

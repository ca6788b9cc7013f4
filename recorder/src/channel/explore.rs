//! Explore mode: crossbeam's channel under the explorer's scheduler. Every
//! call is a scheduling point; a full or empty channel blocks the thread in
//! the scheduler (never the OS thread, which runs every coroutine); timeouts
//! count in virtual time. Outcomes are recorded as a recording records them,
//! so a failing schedule's trace replays.
//!
//! A rendezvous (`bounded(0)`) cannot run on crossbeam's own here: its
//! receivers wait in the scheduler, never inside crossbeam, so crossbeam
//! would never pair a send. It runs on a one-slot channel instead
//! (`flavor::Rendezvous`): a `send` puts its message in the empty slot and
//! waits until a receiver took it ([`hand_off`]); a `try_send`, a timed
//! send or a select's send arm goes only when a receiver is waiting.

use std::panic::Location;
use std::sync::atomic::Ordering;

use crossbeam_channel as cb;

use super::flavor::{Claim, Envelope, Flavor, Shared};
use super::followed;
use super::off::unwrap_try_send;
use super::wait::{self, NoMessage, Wait};
use super::{Receiver, SendError, SendTimeoutError, Sender, TrySendError};
use crate::rt::context;
use crate::rt::coop::{self, Resource, Woken};
use crate::rt::gated;
use crate::trace::model::{ObjectIndex, ObjectKind, Op, Outcome, Sent, ThreadIndex};

/// Names the channel and takes the sender's next send number: a send's id
/// is fixed before it first looks for room.
fn stamp<T>(sender: &Sender<T>, location: &'static Location<'static>) -> (ObjectIndex, ThreadIndex, u64) {
    context::with(|ctx| {
        ctx.sends += 1;
        (ctx.object(&sender.shared.slot, ObjectKind::Channel, location), ctx.index, ctx.sends)
    })
}

#[inline(never)]
pub(super) fn send<T>(
    sender: &Sender<T>,
    value: T,
    location: &'static Location<'static>,
) -> Result<(), SendError<T>> {
    if let Some(queue) = sender.flavor.queue() {
        return followed::send(sender, queue, value, location).map_err(|e| SendError(e.into_inner()));
    }
    let (object, index, seq) = stamp(sender, location);
    let mut envelope = Envelope { sender: index, sender_blocked: false, seq, value };
    loop {
        coop::switch(Op::Send, Some(object), location);
        let result = match sender.cb().try_send(envelope) {
            Ok(()) => Ok(()),
            Err(cb::TrySendError::Disconnected(e)) => Err(e.value),
            Err(cb::TrySendError::Full(e)) => {
                envelope = e;
                coop::block(&[Resource::Object(object)], None, Op::Send, Some(object), location);
                continue;
            }
        };
        let outcome = if result.is_ok() { Sent::Delivered { seq } } else { Sent::Disconnected };
        context::with(|ctx| ctx.record_outcome(Outcome::Send(outcome), object, location));
        if result.is_ok() {
            coop::wake(Resource::Object(object), true);
            hand_off(&sender.shared, object, location);
        }
        return result.map_err(SendError);
    }
}

/// `send_timeout`: as `send`, waiting for room at most `timeout` of
/// virtual time.
pub(super) fn send_timeout<T>(
    sender: &Sender<T>,
    value: T,
    timeout: std::time::Duration,
    location: &'static Location<'static>,
) -> Result<(), SendTimeoutError<T>> {
    if let Some(queue) = sender.flavor.queue() {
        return followed::send(sender, queue, value, location).map_err(|e| match e {
            TrySendError::Full(v) => SendTimeoutError::Timeout(v),
            TrySendError::Disconnected(v) => SendTimeoutError::Disconnected(v),
        });
    }
    let (object, index, seq) = stamp(sender, location);
    let mut envelope = Envelope { sender: index, sender_blocked: false, seq, value };
    let mut deadline = None;
    loop {
        coop::switch(Op::Send, Some(object), location);
        let attempt = if no_taker(&sender.shared) {
            Err(cb::TrySendError::Full(envelope))
        } else {
            sender.cb().try_send(envelope)
        };
        let (sent, result) = match attempt {
            Ok(()) => (Sent::Delivered { seq }, Ok(())),
            Err(cb::TrySendError::Disconnected(e)) => {
                (Sent::Disconnected, Err(SendTimeoutError::Disconnected(e.value)))
            }
            Err(cb::TrySendError::Full(e)) => {
                let until = *deadline.get_or_insert_with(|| virtual_deadline(timeout));
                match coop::block(&[Resource::Object(object)], Some(until), Op::Send, Some(object), location)
                {
                    Woken::Changed => {
                        envelope = e;
                        continue;
                    }
                    Woken::TimedOut => (Sent::TimedOut, Err(SendTimeoutError::Timeout(e.value))),
                }
            }
        };
        context::with(|ctx| ctx.record_outcome(Outcome::Send(sent), object, location));
        if result.is_ok() {
            coop::wake(Resource::Object(object), true);
            hand_off(&sender.shared, object, location);
        }
        return result;
    }
}

pub(super) fn try_send<T>(
    sender: &Sender<T>,
    value: T,
    location: &'static Location<'static>,
) -> Result<(), TrySendError<T>> {
    if let Some(queue) = sender.flavor.queue() {
        return followed::send(sender, queue, value, location);
    }
    let (object, index, seq) = stamp(sender, location);
    coop::switch(Op::Send, Some(object), location);
    let envelope = Envelope { sender: index, sender_blocked: false, seq, value };
    let result = if no_taker(&sender.shared) {
        Err(cb::TrySendError::Full(envelope))
    } else {
        sender.cb().try_send(envelope)
    };
    let outcome = match &result {
        Ok(()) => {
            claim(&sender.shared);
            coop::wake(Resource::Object(object), true);
            Sent::Delivered { seq }
        }
        Err(cb::TrySendError::Full(_)) => Sent::Full,
        Err(cb::TrySendError::Disconnected(_)) => Sent::Disconnected,
    };
    context::with(|ctx| {
        if result.is_ok() {
            sender.shared.progressed(ctx);
        }
        ctx.record_outcome(Outcome::Send(outcome), object, location);
    });
    result.map_err(unwrap_try_send)
}

#[inline(never)]
pub(super) fn receive<T>(
    receiver: &Receiver<T>,
    wait: Wait,
    location: &'static Location<'static>,
) -> Result<T, NoMessage> {
    if let Some(queue) = receiver.flavor.queue() {
        return followed::receive(receiver, queue, wait, location);
    }
    let op = wait.op();
    let object = context::with(|ctx| ctx.object(&receiver.shared.slot, ObjectKind::Channel, location));
    let mut deadline = None;
    loop {
        coop::switch(op, Some(object), location);
        // Under a coroutine replay, a receive the recording saw come back
        // without a message comes back so (a channel made outside the replay).
        let served = context::with(|ctx| coop::recorded_outcome(ctx.index, op)).map(|s| s.outcome);
        if let Some(Outcome::Recv(r) | Outcome::TryRecv(r) | Outcome::RecvTimeout(r)) = served {
            if let Some(reason) = NoMessage::of(r) {
                context::with(|ctx| ctx.record_outcome(wait.outcome(r), object, location));
                return Err(reason);
            }
        }
        let result = match (receiver.cb().try_recv(), wait) {
            (Ok(e), _) => Ok(e),
            (Err(cb::TryRecvError::Disconnected), _) => Err(NoMessage::Disconnected),
            (Err(cb::TryRecvError::Empty), Wait::No) => Err(NoMessage::Empty),
            (Err(cb::TryRecvError::Empty), _) => {
                let until = match wait {
                    Wait::Timeout(t) => Some(*deadline.get_or_insert_with(|| virtual_deadline(t))),
                    _ => None,
                };
                let mut claim = None;
                start_waiting(&receiver.shared, object, &mut claim);
                let woken = coop::block(&[Resource::Object(object)], until, op, Some(object), location);
                stop_waiting(&receiver.shared, &claim);
                match woken {
                    Woken::Changed => continue,
                    Woken::TimedOut => Err(NoMessage::TimedOut),
                }
            }
        };
        let outcome = wait.outcome(wait::received(&result));
        context::with(|ctx| ctx.record_outcome(outcome, object, location));
        took(&receiver.shared, result.is_ok());
        if result.is_ok() {
            coop::wake(Resource::Object(object), true);
        }
        return result.map(|e: Envelope<T>| e.value);
    }
}

/// An explored rendezvous's sender whose message went into the empty slot
/// waits until a receiver took it (coroutines: nothing runs between its
/// deposit and this count).
pub(super) fn hand_off(shared: &Shared, object: ObjectIndex, location: &'static Location<'static>) {
    let Some(r) = &shared.rendezvous else { return };
    claim(shared);
    let before = r.taken.load(Ordering::Relaxed);
    // The slot was empty when the message went in: every earlier one was
    // taken, so this one is taken when the count passes `before`.
    while r.taken.load(Ordering::Relaxed) <= before {
        coop::block(&[Resource::Object(object)], None, Op::Send, Some(object), location);
    }
}

/// A receive (or a select's receive arm) that got a message (`ok`) from an
/// explored rendezvous counts it taken, for the sender's [`hand_off`].
pub(super) fn took(shared: &Shared, ok: bool) {
    if let (Some(r), true) = (&shared.rendezvous, ok) {
        r.taken.fetch_add(1, Ordering::Relaxed);
    }
}

/// A receiver about to block on an explored rendezvous (a receive, or a
/// select with a receive arm on it) counts itself waiting under `claim` (one
/// for all of a select's arms, made here when first needed), so that a
/// timed send, a `try_send` or a select's send arm may pair with it, and
/// wakes those blocked for want of a taker. Whether it counted (the channel
/// is such a rendezvous); [`stop_waiting`] when it wakes.
pub(super) fn start_waiting(shared: &Shared, object: ObjectIndex, claim: &mut Option<Claim>) -> bool {
    let Some(r) = &shared.rendezvous else { return false };
    let claim = claim.get_or_insert_with(Claim::default);
    let mut waiting = r.waiting.lock();
    // A sender blocks for want of a taker only while no unpaired receiver
    // waits, so the first one to come since wakes it; a second one changes
    // nothing for it. Waking every time woke the receivers already waiting
    // too, and two receivers on one rendezvous woke each other for ever
    // without an event: a false livelock under the strategies that keep
    // running a woken thread (tests/unlike_fourteenth/found.rs).
    let first = !waiting.iter().any(|c| !c.load(Ordering::Relaxed));
    waiting.push(Claim::clone(claim));
    drop(waiting);
    if first {
        coop::wake(Resource::Object(object), true);
    }
    true
}

/// The end of a wait [`start_waiting`] counted under `claim`.
pub(super) fn stop_waiting(shared: &Shared, claim: &Option<Claim>) {
    if let (Some(r), Some(claim)) = (&shared.rendezvous, claim) {
        r.waiting.lock().retain(|c| !Claim::ptr_eq(c, claim));
    }
}

/// On an explored rendezvous, a `try_send` or timed send pairs only with a
/// receiver waiting that no other sender paired with: none waits. With no
/// receiver left at all it is not waiting for one: crossbeam's slot, whose
/// receivers dropped with them, reports the disconnection.
pub(super) fn no_taker(shared: &Shared) -> bool {
    shared
        .rendezvous
        .as_ref()
        .is_some_and(|r| !r.disconnected() && !r.waiting.lock().iter().any(|c| !c.load(Ordering::Relaxed)))
}

/// A message just went into an explored rendezvous's slot: the first
/// receiver waiting on it that no sender paired with is this sender's (a
/// select waiting on other rendezvous too takes no other sender's).
fn claim(shared: &Shared) {
    if let Some(r) = &shared.rendezvous {
        if let Some(c) = r.waiting.lock().iter().find(|c| !c.load(Ordering::Relaxed)) {
            c.store(true, Ordering::Relaxed);
        }
    }
}

/// The virtual time at which a wait of `timeout` from now ends.
pub(super) fn virtual_deadline(timeout: std::time::Duration) -> u64 {
    coop::now().saturating_add(u64::try_from(timeout.as_nanos()).unwrap_or(u64::MAX))
}

/// A dropped end may disconnect the channel: drop the crossbeam end now (not
/// after this function), so that whoever is blocked on the channel sees the
/// disconnection when it looks again, and wake them.
pub(super) fn drop_end<T>(flavor: &mut Flavor<T>, shared: &Shared) {
    *flavor = Flavor::Crossbeam { tx: None, rx: None, outside: false };
    if let Some(object) = gated::object_of(&shared.slot) {
        coop::wake(Resource::Object(object), true);
    }
}

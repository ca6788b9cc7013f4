//! Explore mode `select`: which ready arm is taken is the scheduler's choice;
//! with none ready the thread blocks in the scheduler on all its channels.

use std::panic::Location;

use crate::channel::explore::virtual_deadline;
use crate::channel::wait::{self, NoMessage, Wait};
use crate::channel::Receiver;
use crate::rt::context;
use crate::rt::coop::{self, Resource, Woken};
use crate::trace::model::{ObjectKind, Op, Outcome, Received};

pub(super) fn select<T>(
    receivers: &[&Receiver<T>],
    wait: Wait,
    location: &'static Location<'static>,
) -> Option<(usize, Result<T, NoMessage>)> {
    if receivers.iter().any(|r| r.flavor.queue().is_some()) {
        return crate::channel::followed::select(receivers, location);
    }
    let objects: Vec<_> = receivers
        .iter()
        .map(|r| context::with(|ctx| ctx.object(&r.shared.slot, ObjectKind::Channel, location)))
        .collect();
    let resources: Vec<Resource> = objects.iter().map(|&o| Resource::Object(o)).collect();
    let mut deadline = None;
    // Whether this select last waited as a taker on each arm's rendezvous.
    let mut waited = vec![false; receivers.len()];
    loop {
        coop::switch(Op::Select, None, location);
        // crossbeam's `try_select` would pick at random: try the arms in the
        // order the scheduler picks them until one has a message or is
        // disconnected. A rendezvous whose sender paired with this select
        // while it waited goes first: crossbeam commits the waiting select
        // to it.
        let all: Vec<u32> = (0..receivers.len()).filter_map(|a| u32::try_from(a).ok()).collect();
        let (mut first, mut untried): (Vec<u32>, Vec<u32>) =
            all.into_iter().partition(|&a| waited[a as usize] && !receivers[a as usize].cb().is_empty());
        while !first.is_empty() || !untried.is_empty() {
            let from = if first.is_empty() { &mut untried } else { &mut first };
            let pick = coop::scheduler().choose(from);
            from.retain(|&a| a != pick);
            let arm = pick as usize;
            let result = match receivers[arm].cb().try_recv() {
                Ok(e) => Ok(e),
                Err(crossbeam_channel::TryRecvError::Disconnected) => Err(NoMessage::Disconnected),
                Err(crossbeam_channel::TryRecvError::Empty) => continue,
            };
            let object = objects[arm];
            let outcome = Outcome::Select { arm: pick, received: wait::received(&result) };
            context::with(|ctx| ctx.record_outcome(outcome, object, location));
            crate::channel::explore::took(&receivers[arm].shared, result.is_ok());
            if result.is_ok() {
                coop::wake(Resource::Object(object), true);
            }
            return Some((arm, result.map(|e| e.value)));
        }
        let until = match wait {
            Wait::Timeout(t) => Some(*deadline.get_or_insert_with(|| virtual_deadline(t))),
            Wait::No | Wait::Forever => None,
        };
        // Its arms on explored rendezvous count as takers: a select or a
        // timed send on the other end pairs with one only so.
        // One claim for all of them: a sender that pairs with one takes
        // the select, and no other sender pairs with it.
        let mut claim = None;
        for (arm, r) in receivers.iter().enumerate() {
            waited[arm] = crate::channel::explore::start_waiting(&r.shared, objects[arm], &mut claim);
        }
        let woken = coop::block(&resources, until, Op::Select, None, location);
        for (arm, r) in receivers.iter().enumerate() {
            if waited[arm] {
                crate::channel::explore::stop_waiting(&r.shared, &claim);
            }
        }
        if woken == Woken::TimedOut {
            let timed_out = Outcome::Select { arm: 0, received: Received::TimedOut };
            context::with(|ctx| ctx.record_outcome(timed_out, 0, location));
            return None;
        }
    }
}

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
    loop {
        coop::switch(Op::Select, None, location);
        // crossbeam's `try_select` would pick at random: try the arms in the
        // order the scheduler picks them until one has a message or is
        // disconnected.
        let mut untried: Vec<u32> = (0..receivers.len()).filter_map(|a| u32::try_from(a).ok()).collect();
        while !untried.is_empty() {
            let pick = coop::scheduler().choose(&untried);
            untried.retain(|&a| a != pick);
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
        if coop::block(&resources, until, Op::Select, None, location) == Woken::TimedOut {
            let timed_out = Outcome::Select { arm: 0, received: Received::TimedOut };
            context::with(|ctx| ctx.record_outcome(timed_out, 0, location));
            return None;
        }
    }
}

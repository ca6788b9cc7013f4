//! Record mode `select`: crossbeam's, recording the chosen arm, its channel
//! and what it received (or that it timed out).

use std::panic::Location;

use crossbeam_channel as cb;

use crate::channel::wait::{self, NoMessage, Wait};
use crate::channel::Receiver;
use crate::rt::context;
use crate::trace::model::{ObjectKind, Op, Outcome, Received};

pub(super) fn select<T>(
    receivers: &[&Receiver<T>],
    wait: Wait,
    location: &'static Location<'static>,
) -> Option<(usize, Result<T, NoMessage>)> {
    let mut select = cb::Select::new();
    for r in receivers {
        select.recv(r.cb());
    }
    let chosen = match select.try_select() {
        Ok(op) => Some(op),
        Err(_) => {
            let deadline = wait.deadline();
            // A select waits on several channels: the monitor sees no single
            // object it waits for.
            context::with(|ctx| ctx.block(Op::Select, u32::MAX, location, deadline.is_some()));
            let op = match deadline {
                Some(deadline) => select.select_deadline(deadline).ok(),
                None => Some(select.select()),
            };
            context::with(|ctx| ctx.unblock());
            op
        }
    };
    let Some(op) = chosen else {
        let timed_out = Outcome::Select { arm: 0, received: Received::TimedOut };
        context::with(|ctx| ctx.record_outcome(timed_out, 0, location));
        return None;
    };
    let arm = op.index();
    let receiver = receivers[arm];
    let result = op.recv(receiver.cb()).map_err(|_| NoMessage::Disconnected);
    context::with(|ctx| {
        let object = ctx.object(&receiver.shared.slot, ObjectKind::Channel, location);
        if result.is_ok() {
            receiver.shared.progressed(ctx);
        }
        // A slice of more than u32::MAX receivers cannot be built in memory.
        let arm = u32::try_from(arm).unwrap_or(u32::MAX);
        let received = wait::recorded(ctx, &result, location);
        ctx.record_outcome(Outcome::Select { arm, received }, object, location);
    });
    Some((arm, result.map(|e| e.value)))
}

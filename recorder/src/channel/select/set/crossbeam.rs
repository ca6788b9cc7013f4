//! Off and record mode: crossbeam's `Select` over the crossbeam ends. A
//! recording writes the select as one event when its operation completes:
//! the arm and, for a receive, the message it got (or the disconnection),
//! for a send the message's id; a select that timed out or found nothing
//! ready is written at once.

use std::panic::Location;

use crossbeam_channel as cb;

use super::selected::{Chosen, SelectedOperation};
use super::{NoArm, Select};
use crate::channel::flavor::{Envelope, Flavor};
use crate::channel::wait::{self, NoMessage, Wait};
use crate::channel::{Receiver, RecvError, SendError, Sender};
use crate::rt::context;
use crate::trace::model::{ObjectKind, Op, Outcome, Received, Sent};

/// A recording's outcome of a select that completed nothing.
fn record_none(why: NoArm, location: &'static Location<'static>) {
    let received = match why {
        NoArm::Empty => Received::Empty,
        NoArm::TimedOut => Received::TimedOut,
    };
    context::with(|ctx| ctx.record_outcome(Outcome::Select { arm: 0, received }, 0, location));
}

/// Runs `pick` on the crossbeam twin: at once, then (when `wait` allows)
/// blocking, shown to the deadlock monitor as blocked on no single object.
fn pick<'a, R>(
    select: &mut Select<'a>,
    wait: Wait,
    location: &'static Location<'static>,
    record: bool,
    now: impl FnOnce(&mut cb::Select<'a>) -> Option<R>,
    block: impl FnOnce(&mut cb::Select<'a>, Option<std::time::Instant>) -> Option<R>,
) -> Result<R, NoArm> {
    if let Some(found) = now(&mut select.twin) {
        return Ok(found);
    }
    if let Wait::No = wait {
        if record {
            record_none(NoArm::Empty, location);
        }
        return Err(NoArm::Empty);
    }
    let deadline = wait.deadline();
    if record {
        context::with(|ctx| ctx.block(Op::Select, u32::MAX, location, deadline.is_some()));
    }
    let found = block(&mut select.twin, deadline);
    if record {
        context::with(|ctx| ctx.unblock());
        if found.is_none() {
            record_none(NoArm::TimedOut, location);
        }
    }
    found.ok_or(NoArm::TimedOut)
}

/// The arm whose crossbeam twin has index `twin`.
fn arm_of(select: &Select<'_>, twin: usize) -> usize {
    // The twin holds exactly the crossbeam arms, each under its own index.
    select.arms.iter().find(|a| a.crossbeam == Some(twin)).map_or(twin, |a| a.index)
}

pub(super) fn select<'a>(
    select: &mut Select<'a>,
    wait: Wait,
    location: &'static Location<'static>,
    record: bool,
) -> Result<SelectedOperation<'a>, NoArm> {
    let op = pick(
        select,
        wait,
        location,
        record,
        |twin| twin.try_select().ok(),
        |twin, deadline| match deadline {
            Some(deadline) => twin.select_deadline(deadline).ok(),
            None => Some(twin.select()),
        },
    )?;
    let arm = arm_of(select, op.index());
    Ok(SelectedOperation::new(select, arm, location, Chosen::Crossbeam { op, record }))
}

pub(super) fn ready(
    select: &mut Select<'_>,
    wait: Wait,
    location: &'static Location<'static>,
    record: bool,
) -> Result<usize, NoArm> {
    let twin = pick(
        select,
        wait,
        location,
        record,
        |twin| twin.try_ready().ok(),
        |twin, deadline| match deadline {
            Some(deadline) => twin.ready_deadline(deadline).ok(),
            None => Some(twin.ready()),
        },
    )?;
    let arm = arm_of(select, twin);
    if record {
        if let Some(chosen) = select.arm(arm) {
            let slot = &chosen.end.shared().slot;
            context::with(|ctx| {
                let object = ctx.object(slot, ObjectKind::Channel, location);
                ctx.record_outcome(Outcome::SelectReady { arm: arm_u32(arm) }, object, location);
            });
        }
    }
    Ok(arm)
}

/// An arm index as recorded (more than `u32::MAX` arms cannot be built in
/// memory).
pub(super) fn arm_u32(arm: usize) -> u32 {
    u32::try_from(arm).unwrap_or(u32::MAX)
}

pub(super) fn recv<T>(
    op: cb::SelectedOperation<'_>,
    record: bool,
    arm: usize,
    r: &Receiver<T>,
    location: &'static Location<'static>,
) -> Result<T, RecvError> {
    if let Flavor::Timer(timer) = &r.flavor {
        // The arm, then the timer's receive: a replay reads them in turn.
        if record {
            let outcome = Outcome::SelectTimer { arm: arm_u32(arm) };
            context::with(|ctx| ctx.record_outcome(outcome, 0, location));
        }
        return timer.complete(op, location).map_err(|_| RecvError);
    }
    let result = op.recv(r.cb()).map_err(|_| NoMessage::Disconnected);
    if record {
        context::with(|ctx| {
            let object = ctx.object(&r.shared.slot, ObjectKind::Channel, location);
            if result.is_ok() {
                r.shared.progressed(ctx);
            }
            let outcome =
                Outcome::Select { arm: arm_u32(arm), received: wait::recorded(ctx, &result, location) };
            ctx.record_outcome(outcome, object, location);
        });
    }
    result.map(|e| e.value).map_err(|_| RecvError)
}

pub(super) fn send<T>(
    op: cb::SelectedOperation<'_>,
    record: bool,
    arm: usize,
    s: &Sender<T>,
    msg: T,
    location: &'static Location<'static>,
) -> Result<(), SendError<T>> {
    if !record {
        return op
            .send(s.cb(), Envelope { sender: 0, sender_blocked: false, seq: 0, value: msg })
            .map_err(|e| SendError(e.0.value));
    }
    let (sender, seq, object) = context::with(|ctx| {
        ctx.sends += 1;
        (ctx.index, ctx.sends, ctx.object(&s.shared.slot, ObjectKind::Channel, location))
    });
    let result = op.send(s.cb(), Envelope { sender, sender_blocked: false, seq, value: msg });
    context::with(|ctx| {
        let sent = if result.is_ok() {
            s.shared.progressed(ctx);
            Sent::Delivered { seq }
        } else {
            Sent::Disconnected
        };
        ctx.record_outcome(Outcome::SelectSend { arm: arm_u32(arm), sent }, object, location);
    });
    result.map_err(|e| SendError(e.0.value))
}

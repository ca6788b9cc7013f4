//! Park and unpark in record mode: std's token on the OS thread, with the
//! unpark numbered and the park's return recorded with the count it saw.

use std::panic::Location;
use std::time::Duration;

use crate::rt::context;
use crate::thread::Thread;
use crate::trace::model::{ObjectKind, Op, Outcome};

pub(super) fn park(me: &Thread, timeout: Option<Duration>, location: &'static Location<'static>) {
    let parker = &me.inner.parker;
    let (object, exec) = context::with(|ctx| {
        let object = ctx.object(&parker.slot, ObjectKind::Parker, location);
        // Seen blocked by the deadlock monitor, which never counts a park as
        // proof of a deadlock: it may return spuriously.
        ctx.block(Op::Park, object, location, timeout.is_some());
        (object, ctx.exec.id)
    });
    super::off_park(timeout);
    // Read after the return: every unpark counted by now has been made, so
    // replay can wait for all of them.
    let unparks = parker.unparks(exec);
    context::with(|ctx| {
        ctx.unblock();
        ctx.record_outcome(Outcome::Park { unparks }, object, location);
    });
}

pub(super) fn unpark(target: &Thread, location: &'static Location<'static>) {
    let parker = &target.inner.parker;
    context::with(|ctx| {
        let object = ctx.object(&parker.slot, ObjectKind::Parker, location);
        let unpark = parker.count_unpark(ctx.exec.id);
        ctx.record_outcome(Outcome::Unpark { unpark }, object, location);
    });
    // After the count: a park that returns for this token sees it counted.
    target.off_unpark();
}

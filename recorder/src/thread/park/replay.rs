//! Park and unpark in replay (gated) mode: unparks are admitted in their
//! recorded order; a park never parks, it returns once the unparks it saw in
//! the recording have been replayed.

use std::panic::Location;
use std::time::Duration;

use crate::rt::context;
use crate::rt::gated;
use crate::thread::Thread;
use crate::trace::model::{ObjectKind, Op};

pub(super) fn park(me: &Thread, timeout: Option<Duration>, location: &'static Location<'static>) {
    let Some(call) = gated::begin(Op::Park, Some((&me.inner.parker.slot, ObjectKind::Parker)), location)
    else {
        // The replay stopped: this thread goes on in passthrough.
        return super::off_park(timeout);
    };
    if let Some(outcome) = call.outcome() {
        call.wait_for_outcome(&outcome);
    }
}

pub(super) fn unpark(target: &Thread, location: &'static Location<'static>) {
    let parker = &target.inner.parker;
    if let Some(call) = gated::begin(Op::Unpark, Some((&parker.slot, ObjectKind::Parker)), location) {
        if let Some(outcome) = call.outcome() {
            call.wait_for_outcome(&outcome);
            context::with(|ctx| parker.count_unpark(ctx.exec.id));
            call.announce(&outcome);
        }
    }
    // A target outside the replay parks for real.
    target.off_unpark();
}

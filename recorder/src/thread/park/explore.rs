//! Park and unpark under the explorer: a parked coroutine is blocked on its
//! parker until an unpark sets the token (or its virtual deadline passes);
//! both are scheduling points. Under a coroutine replay the park returns
//! when the unparks it saw in the recording have been made, as recorded.

use std::panic::Location;
use std::sync::atomic::Ordering;
use std::time::Duration;

use crate::rt::context;
use crate::rt::coop::{self, Resource, Woken};
use crate::thread::Thread;
use crate::trace::model::{ObjectKind, Op, Outcome};

pub(super) fn park(me: &Thread, timeout: Option<Duration>, location: &'static Location<'static>) {
    let parker = &me.inner.parker;
    let object = coop::switch_on(&parker.slot, ObjectKind::Parker, Op::Park, location);
    let exec = context::with(|ctx| ctx.exec.id);
    let on = [Resource::Object(object)];
    if let Some(Outcome::Park { unparks }) = coop::served(Op::Park) {
        while parker.unparks(exec) < unparks {
            coop::block(&on, None, Op::Park, Some(object), location);
        }
        parker.token.store(false, Ordering::Release);
    } else {
        let deadline =
            timeout.map(|t| coop::now().saturating_add(u64::try_from(t.as_nanos()).unwrap_or(u64::MAX)));
        while !parker.token.swap(false, Ordering::AcqRel) {
            if coop::block(&on, deadline, Op::Park, Some(object), location) == Woken::TimedOut {
                break;
            }
        }
    }
    let unparks = parker.unparks(exec);
    context::with(|ctx| ctx.record_outcome(Outcome::Park { unparks }, object, location));
}

pub(super) fn unpark(target: &Thread, location: &'static Location<'static>) {
    let parker = &target.inner.parker;
    let object = coop::switch_on(&parker.slot, ObjectKind::Parker, Op::Unpark, location);
    context::with(|ctx| {
        let unpark = parker.count_unpark(ctx.exec.id);
        ctx.record_outcome(Outcome::Unpark { unpark }, object, location);
    });
    parker.token.store(true, Ordering::Release);
    // A thread outside the exploration (an OS thread's handle) parks for real.
    if let Some(os) = target.inner.os.get() {
        os.unpark();
    }
    coop::wake(Resource::Object(object), true);
}

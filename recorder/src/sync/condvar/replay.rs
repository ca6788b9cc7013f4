//! The condvar in replay (gated) mode: no real wait. The wait gives the
//! mutex up, then takes it back at its recorded turn, timed out or not as
//! recorded.

use std::panic::Location;

use super::{off, Condvar};
use crate::rt::gated::{self, GatedCall};
use crate::sync::mutex::{InnerGuard, Mutex};
use crate::trace::model::{ObjectKind, Op, Outcome};

fn begin(condvar: &Condvar, op: Op, location: &'static Location<'static>) -> Option<GatedCall> {
    gated::begin(op, Some((&condvar.slot, ObjectKind::Condvar)), location)
}

pub(super) fn wait<'a, T>(
    condvar: &Condvar,
    mutex: &'a Mutex<T>,
    guard: InnerGuard<'a, T>,
    location: &'static Location<'static>,
) -> (Result<InnerGuard<'a, T>, InnerGuard<'a, T>>, bool) {
    // Given up first, as in the recording: a thread parked here (a recorded
    // deadlock on a condvar nobody notifies) must not keep others from it.
    let mutex_object = gated::object_of(&mutex.slot);
    if let Some(object) = mutex_object {
        gated::released(object);
    }
    drop(guard);
    let relock = || mutex.inner.lock().map_err(|p| p.into_inner());
    let Some((call, outcome)) =
        begin(condvar, Op::CondWait, location).and_then(|c| c.outcome().map(|o| (c, o)))
    else {
        return (relock(), false);
    };
    let timed_out = matches!(outcome, Outcome::CondWait { timed_out: true, .. });
    call.wait_for_outcome(&outcome);
    let result = match mutex_object {
        Some(object) => {
            let try_take = || gated::attempt(mutex.inner.try_lock()).map(|r| r.map_err(|p| p.into_inner()));
            gated::take_lock(object, &call, try_take, relock)
        }
        None => relock(),
    };
    call.announce(&outcome);
    (result, timed_out)
}

pub(super) fn notify(condvar: &Condvar, all: bool, location: &'static Location<'static>) {
    if let Some(call) = begin(condvar, Op::Notify, location) {
        if let Some(outcome) = call.outcome() {
            call.announce(&outcome);
        }
    }
    off::notify(&condvar.inner, all);
}

//! The condvar in explore (cooperative) mode: the wait releases the mutex,
//! blocks in the scheduler until notified (or until the virtual deadline),
//! then takes the mutex back in the scheduler; which waiter `notify_one`
//! wakes is the scheduler's choice. Outcomes are recorded as in record mode.

use std::panic::Location;
use std::time::Duration;

use super::{off, Condvar};
use crate::rt::context;
use crate::rt::coop::{self, Resource, Woken};
use crate::sync::mutex::{InnerGuard, Mutex};
use crate::trace::model::{ObjectIndex, ObjectKind, Op, Outcome};

pub(super) fn wait<'a, T>(
    condvar: &Condvar,
    mutex: &'a Mutex<T>,
    mutex_object: ObjectIndex,
    guard: InnerGuard<'a, T>,
    timeout: Option<Duration>,
    location: &'static Location<'static>,
) -> (Result<InnerGuard<'a, T>, InnerGuard<'a, T>>, bool) {
    let release = |guard: InnerGuard<'a, T>| {
        mutex.poison.release(guard, || mutex.inner.is_poisoned(), || mutex.inner.clear_poison());
        context::with(|ctx| ctx.shared.release(mutex_object));
        coop::scheduler().lock_held(mutex_object, false);
        coop::wake(Resource::Object(mutex_object), true);
    };
    // A coroutine replay lets the mutex go before the wait's first stop: a
    // thread whose log ends in this wait (the recording finished while it
    // waited) parks at that stop for good, and it must not hold the mutex
    // there, as it did not in the recording. The explorer keeps the stop
    // before the release, a point where another thread may run first.
    let object = if coop::follows_trace() {
        release(guard);
        coop::switch_on(&condvar.slot, ObjectKind::Condvar, Op::CondWait, location)
    } else {
        let object = coop::switch_on(&condvar.slot, ObjectKind::Condvar, Op::CondWait, location);
        release(guard);
        object
    };
    // Saturated, not cut to 64 bits: a timeout too long for the clock waits
    // for good (coop::block).
    let deadline =
        timeout.map(|t| coop::now().saturating_add(u64::try_from(t.as_nanos()).unwrap_or(u64::MAX)));
    let woken = coop::block(&[Resource::Object(object)], deadline, Op::CondWait, Some(object), location);
    let timed_out = woken == Woken::TimedOut;
    let result = mutex.acquire_coop(mutex_object, Op::CondWait, location).map_err(|p| p.into_inner());
    let reacquisition = mutex.next_acquisition();
    context::with(|ctx| {
        ctx.shared.hold(mutex_object);
        let outcome = Outcome::CondWait { reacquisition, timed_out, mutex: mutex_object };
        ctx.record_outcome(outcome, object, location);
    });
    coop::scheduler().lock_held(mutex_object, true);
    (result, timed_out)
}

pub(super) fn notify(condvar: &Condvar, all: bool, location: &'static Location<'static>) {
    let object = coop::switch_on(&condvar.slot, ObjectKind::Condvar, Op::Notify, location);
    context::with(|ctx| ctx.record_outcome(Outcome::Notify { all }, object, location));
    off::notify(&condvar.inner, all);
    coop::wake(Resource::Object(object), all);
}

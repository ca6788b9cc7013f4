//! The mutex in replay (gated) mode: each acquisition waits for its recorded
//! turn on the lock, then for the thread before it to let go, then takes the
//! real lock.

use std::panic::Location;
use std::sync::{LockResult, TryLockError, TryLockResult};

use super::{Held, InnerGuard, Mutex, MutexGuard};
use crate::rt::context::{self, Mode};
use crate::rt::gated::{self, GatedCall};
use crate::trace::model::{ObjectKind, Op, Outcome};

fn begin<T: ?Sized>(mutex: &Mutex<T>, op: Op, location: &'static Location<'static>) -> Option<GatedCall> {
    gated::begin(op, Some((&mutex.slot, ObjectKind::Mutex)), location)
}

/// The real lock, once the turn came (see [`gated::take_lock`]).
fn take<'a, T: ?Sized>(mutex: &'a Mutex<T>, call: &GatedCall) -> LockResult<InnerGuard<'a, T>> {
    gated::take_lock(
        call.event.object,
        call,
        || gated::attempt(mutex.inner.try_lock()),
        || mutex.inner.lock(),
    )
}

#[inline(never)]
pub(super) fn lock<'a, T: ?Sized>(
    mutex: &'a Mutex<T>,
    location: &'static Location<'static>,
) -> LockResult<MutexGuard<'a, T>> {
    let Some((call, outcome)) = begin(mutex, Op::Lock, location).and_then(|c| c.outcome().map(|o| (c, o)))
    else {
        return mutex.wrap(mutex.inner.lock(), Held::Off, location);
    };
    call.wait_for_outcome(&outcome);
    let result = take(mutex, &call);
    call.announce(&outcome);
    mutex.wrap(result, Held::Gated, location)
}

pub(super) fn try_lock<'a, T: ?Sized>(
    mutex: &'a Mutex<T>,
    location: &'static Location<'static>,
) -> TryLockResult<MutexGuard<'a, T>> {
    let Some((call, outcome)) = begin(mutex, Op::TryLock, location).and_then(|c| c.outcome().map(|o| (c, o)))
    else {
        return mutex.wrap_try(mutex.inner.try_lock(), Held::Off, location);
    };
    if matches!(outcome, Outcome::TryLock { acquisition: None }) {
        return Err(TryLockError::WouldBlock);
    }
    // A recorded success: by its turn the thread before it lets go, so a
    // blocking lock takes it without waiting on anyone the recording did not.
    call.wait_for_outcome(&outcome);
    let result = take(mutex, &call).map_err(TryLockError::Poisoned);
    call.announce(&outcome);
    mutex.wrap_try(result, Held::Gated, location)
}

/// Replays the release, before the inner guard is dropped.
pub(super) fn unlock<T: ?Sized>(mutex: &Mutex<T>, location: &'static Location<'static>) {
    // A thread the replay stopped unwinds through its guards: no event then.
    if context::mode() == Mode::Gated {
        if let Some(call) = begin(mutex, Op::Unlock, location) {
            if let Some(outcome) = call.outcome() {
                // Its release: see `gated::take_lock`.
                call.announce(&outcome);
            }
        }
    }
}

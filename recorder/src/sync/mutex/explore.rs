//! The mutex in explore (cooperative) mode: threads are coroutines under the
//! explorer's scheduler, so a held lock blocks the thread in the scheduler,
//! never in the OS, and every call is a scheduling point. Outcomes are
//! recorded as in record mode.

use std::panic::Location;
use std::sync::{LockResult, TryLockError, TryLockResult};

use super::{Held, InnerGuard, Mutex, MutexGuard};
use crate::rt::context;
use crate::rt::coop::{self, Resource};
use crate::trace::model::{ObjectIndex, ObjectKind, Op, Outcome};

impl<T: ?Sized> Mutex<T> {
    /// Explore mode: takes the inner lock, blocking in the scheduler while
    /// another coroutine holds it. Records nothing (a condvar's wait takes
    /// the mutex back this way and records its own event).
    pub(crate) fn acquire_coop(
        &self,
        object: ObjectIndex,
        op: Op,
        location: &'static Location<'static>,
    ) -> LockResult<InnerGuard<'_, T>> {
        let result = loop {
            coop::switch(op, Some(object), location);
            match self.inner.try_lock() {
                Ok(guard) => break Ok(guard),
                Err(TryLockError::Poisoned(p)) => break Err(p),
                Err(TryLockError::WouldBlock) if !coop::scheduler().holds(object) => {
                    // Held outside this run: that holder lets go by itself,
                    // and blocking in the scheduler was a false stall.
                    break self.inner.lock();
                }
                Err(TryLockError::WouldBlock) => {
                    coop::block(&[Resource::Object(object)], None, op, Some(object), location);
                }
            }
        };
        self.poison.taken(result)
    }
}

fn object<T: ?Sized>(mutex: &Mutex<T>, location: &'static Location<'static>) -> ObjectIndex {
    context::with(|ctx| ctx.object(&mutex.slot, ObjectKind::Mutex, location))
}

#[inline(never)]
pub(super) fn lock<'a, T: ?Sized>(
    mutex: &'a Mutex<T>,
    location: &'static Location<'static>,
) -> LockResult<MutexGuard<'a, T>> {
    let object = object(mutex, location);
    let result = mutex.acquire_coop(object, Op::Lock, location);
    let acquisition = mutex.next_acquisition();
    context::with(|ctx| {
        ctx.shared.hold(object);
        ctx.record_outcome(Outcome::Lock { acquisition }, object, location);
    });
    coop::scheduler().lock_held(object, true);
    mutex.wrap(result, Held::Explore(object), location)
}

pub(super) fn try_lock<'a, T: ?Sized>(
    mutex: &'a Mutex<T>,
    location: &'static Location<'static>,
) -> TryLockResult<MutexGuard<'a, T>> {
    let object = object(mutex, location);
    coop::switch(Op::TryLock, Some(object), location);
    // Under a coroutine replay, a recorded WouldBlock comes back as one.
    let result = match coop::served(Op::TryLock) {
        Some(Outcome::TryLock { acquisition: None }) => Err(TryLockError::WouldBlock),
        _ => mutex.poison.tried(mutex.inner.try_lock(), true),
    };
    if result.is_ok() {
        coop::scheduler().lock_held(object, true);
    }
    let acquisition = match &result {
        Err(TryLockError::WouldBlock) => None,
        _ => Some(mutex.next_acquisition()),
    };
    context::with(|ctx| {
        if acquisition.is_some() {
            ctx.shared.hold(object);
        }
        ctx.record_outcome(Outcome::TryLock { acquisition }, object, location);
    });
    mutex.wrap_try(result, Held::Explore(object), location)
}

/// Records the release and lets one of the lock's waiters run, once this
/// coroutine yields, after the inner guard is dropped. One, chosen by the
/// strategy (a logged side choice), not all: the others could only block
/// again, and waking every waiter at every unlock made a contended lock's
/// cost grow with its waiters (a 101-thread suite program ran at 0.56x of
/// shuttle's rate, 1.64x with one). A waiter that loses the lock to a
/// thread that was not waiting blocks again and is woken by the next unlock,
/// so no wake-up is lost.
pub(super) fn unlock(object: ObjectIndex, location: &'static Location<'static>) {
    let recorded = context::try_with(|ctx| {
        ctx.shared.release(object);
        ctx.record_outcome(Outcome::Unlock, object, location);
    });
    if recorded.is_some() {
        coop::scheduler().lock_held(object, false);
        coop::wake(Resource::Object(object), false);
    }
}

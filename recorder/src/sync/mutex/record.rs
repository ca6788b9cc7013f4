//! The mutex in record mode: threads run in parallel; each acquisition's
//! number is read while holding the lock and goes into the thread's own log.

use std::panic::Location;
use std::sync::atomic::Ordering;
use std::sync::{LockResult, TryLockError, TryLockResult};

use super::{Held, InnerGuard, Mutex, MutexGuard};
use crate::rt::context;
use crate::trace::model::{ObjectIndex, ObjectKind, Op, Outcome};

impl<T: ?Sized> Mutex<T> {
    /// Record and explore modes, while holding: this acquisition's number.
    pub(crate) fn next_acquisition(&self) -> u64 {
        let n = self.acquisitions.load(Ordering::Relaxed) + 1;
        self.acquisitions.store(n, Ordering::Relaxed);
        n
    }
}

// Into `Mutex::lock_traced`, its one caller.
#[inline(always)]
pub(super) fn lock<'a, T: ?Sized>(
    mutex: &'a Mutex<T>,
    location: &'static Location<'static>,
) -> LockResult<MutexGuard<'a, T>> {
    // One visit to the thread's context on the uncontended path.
    let (object, taken) = context::with(|ctx| {
        let object = ctx.object(&mutex.slot, ObjectKind::Mutex, location);
        let taken = match mutex.inner.try_lock() {
            Ok(guard) => Some(Ok(guard)),
            Err(TryLockError::Poisoned(p)) => Some(Err(p)),
            Err(TryLockError::WouldBlock) => {
                ctx.block(Op::Lock, object, location, false);
                None
            }
        };
        if taken.is_some() {
            let acquisition = mutex.next_acquisition();
            ctx.shared.hold(object);
            ctx.record_outcome(Outcome::Lock { acquisition }, object, location);
        }
        (object, taken)
    });
    let result = match taken {
        Some(result) => result,
        None => lock_contended(mutex, object, location),
    };
    mutex.wrap(result, Held::Record(object), location)
}

#[cold]
fn lock_contended<'a, T: ?Sized>(
    mutex: &'a Mutex<T>,
    object: ObjectIndex,
    location: &'static Location<'static>,
) -> LockResult<InnerGuard<'a, T>> {
    let result = mutex.inner.lock();
    let acquisition = mutex.next_acquisition();
    context::with(|ctx| {
        ctx.unblock();
        ctx.shared.hold(object);
        ctx.record_outcome(Outcome::Lock { acquisition }, object, location);
    });
    result
}

pub(super) fn try_lock<'a, T: ?Sized>(
    mutex: &'a Mutex<T>,
    location: &'static Location<'static>,
) -> TryLockResult<MutexGuard<'a, T>> {
    let (object, result) = context::with(|ctx| {
        let object = ctx.object(&mutex.slot, ObjectKind::Mutex, location);
        let result = mutex.inner.try_lock();
        let acquisition = match &result {
            Err(TryLockError::WouldBlock) => None,
            _ => Some(mutex.next_acquisition()),
        };
        if acquisition.is_some() {
            ctx.shared.hold(object);
        }
        ctx.record_outcome(Outcome::TryLock { acquisition }, object, location);
        (object, result)
    });
    mutex.wrap_try(result, Held::Record(object), location)
}

/// Records the release, before the inner guard is dropped. One call from
/// the guard's drop, with the context's visit inlined here.
#[inline(never)]
pub(super) fn unlock(object: ObjectIndex, location: &'static Location<'static>) {
    context::try_with(|ctx| {
        ctx.shared.release(object);
        ctx.record_outcome(Outcome::Unlock, object, location);
    });
}

//! The RwLock in replay (gated) mode: a reader waits until the write it saw
//! is in, a writer for its turn and for the readers of the write before it;
//! then for those before it to let go of the real lock
//! ([`gated::take_lock`]).

use std::panic::Location;
use std::sync::{LockResult, TryLockError, TryLockResult};

use super::{map_poison, map_try, Held, RwLock, RwLockReadGuard, RwLockWriteGuard};
use crate::rt::context::{self, Mode};
use crate::rt::gated::{self, GatedCall};
use crate::trace::model::{ObjectKind, Op, Outcome};

/// The gated call of `op` and its recorded outcome; `None`: pass through.
fn begin<T: ?Sized>(
    lock: &RwLock<T>,
    op: Op,
    location: &'static Location<'static>,
) -> Option<(GatedCall, Outcome)> {
    let call = gated::begin(op, Some((&lock.slot, ObjectKind::RwLock)), location)?;
    let outcome = call.outcome()?;
    Some((call, outcome))
}

/// The real read lock, once the turn came (see [`gated::take_lock`]).
fn take_read<'a, T: ?Sized>(
    lock: &'a RwLock<T>,
    call: &GatedCall,
) -> LockResult<super::InnerReadGuard<'a, T>> {
    gated::take_lock(call.event.object, call, || gated::attempt(lock.inner.try_read()), || lock.inner.read())
}

/// The real write lock, once the turn came (see [`gated::take_lock`]).
fn take_write<'a, T: ?Sized>(
    lock: &'a RwLock<T>,
    call: &GatedCall,
) -> LockResult<super::InnerWriteGuard<'a, T>> {
    gated::take_lock(
        call.event.object,
        call,
        || gated::attempt(lock.inner.try_write()),
        || lock.inner.write(),
    )
}

pub(super) fn read<'a, T: ?Sized>(
    lock: &'a RwLock<T>,
    location: &'static Location<'static>,
) -> LockResult<RwLockReadGuard<'a, T>> {
    let Some((call, outcome)) = begin(lock, Op::ReadLock, location) else {
        return map_poison(lock.inner.read(), lock.read_guard(Held::Off, location));
    };
    call.wait_for_outcome(&outcome);
    let result = take_read(lock, &call);
    call.announce(&outcome);
    map_poison(result, lock.read_guard(Held::Gated, location))
}

pub(super) fn write<'a, T: ?Sized>(
    lock: &'a RwLock<T>,
    location: &'static Location<'static>,
) -> LockResult<RwLockWriteGuard<'a, T>> {
    let Some((call, outcome)) = begin(lock, Op::WriteLock, location) else {
        return map_poison(lock.inner.write(), lock.write_guard(Held::Off, location));
    };
    call.wait_for_outcome(&outcome);
    let result = take_write(lock, &call);
    call.announce(&outcome);
    map_poison(result, lock.write_guard(Held::Gated, location))
}

pub(super) fn try_read<'a, T: ?Sized>(
    lock: &'a RwLock<T>,
    location: &'static Location<'static>,
) -> TryLockResult<RwLockReadGuard<'a, T>> {
    let Some((call, outcome)) = begin(lock, Op::TryReadLock, location) else {
        return map_try(lock.inner.try_read(), lock.read_guard(Held::Off, location));
    };
    if matches!(outcome, Outcome::TryReadLock { writes_before: None }) {
        return Err(TryLockError::WouldBlock);
    }
    call.wait_for_outcome(&outcome);
    let result = take_read(lock, &call);
    call.announce(&outcome);
    map_try(result.map_err(TryLockError::Poisoned), lock.read_guard(Held::Gated, location))
}

pub(super) fn try_write<'a, T: ?Sized>(
    lock: &'a RwLock<T>,
    location: &'static Location<'static>,
) -> TryLockResult<RwLockWriteGuard<'a, T>> {
    let Some((call, outcome)) = begin(lock, Op::TryWriteLock, location) else {
        return map_try(lock.inner.try_write(), lock.write_guard(Held::Off, location));
    };
    if matches!(outcome, Outcome::TryWriteLock { taken: None }) {
        return Err(TryLockError::WouldBlock);
    }
    call.wait_for_outcome(&outcome);
    let result = take_write(lock, &call);
    call.announce(&outcome);
    map_try(result.map_err(TryLockError::Poisoned), lock.write_guard(Held::Gated, location))
}

/// Replays a release (`op`: read or write unlock).
pub(super) fn unlock<T: ?Sized>(lock: &RwLock<T>, op: Op, location: &'static Location<'static>) {
    // A thread the replay stopped unwinds through its guards: no event then.
    if context::mode() == Mode::Gated {
        if let Some((call, outcome)) = begin(lock, op, location) {
            call.announce(&outcome);
        }
    }
}

/// Replays a downgrade: the recorded write release, then the recorded read
/// lock, which saw this thread's own write and so waits for nobody.
pub(super) fn downgrade<'a, T: ?Sized>(
    lock: &'a RwLock<T>,
    inner: super::InnerWriteGuard<'a, T>,
    location: &'static Location<'static>,
) -> super::InnerReadGuard<'a, T> {
    let read = std::sync::RwLockWriteGuard::downgrade(inner);
    unlock(lock, Op::WriteUnlock, location);
    if context::mode() == Mode::Gated {
        if let Some((call, outcome)) = begin(lock, Op::ReadLock, location) {
            call.wait_for_outcome(&outcome);
            call.announce(&outcome);
        }
    }
    read
}

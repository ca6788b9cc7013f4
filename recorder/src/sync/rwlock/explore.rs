//! The RwLock in explore (cooperative) mode: a held lock blocks the thread
//! in the explorer's scheduler, never in the OS, and every call is a
//! scheduling point. Outcomes are recorded as in record mode.

use std::panic::Location;
use std::sync::{LockResult, TryLockError, TryLockResult};

use super::{map_poison, map_try, Held, RwLock, RwLockReadGuard, RwLockWriteGuard};
use crate::rt::context;
use crate::rt::coop::{self, Resource};
use crate::trace::model::{ObjectIndex, ObjectKind, Op, Outcome};

fn object<T: ?Sized>(lock: &RwLock<T>, location: &'static Location<'static>) -> ObjectIndex {
    context::with(|ctx| ctx.object(&lock.slot, ObjectKind::RwLock, location))
}

/// Takes a lock, blocking in the scheduler while it is held.
fn acquire<G>(
    object: ObjectIndex,
    op: Op,
    location: &'static Location<'static>,
    try_lock: impl Fn() -> TryLockResult<G>,
) -> LockResult<G> {
    loop {
        coop::switch(op, Some(object), location);
        match try_lock() {
            Ok(g) => return Ok(g),
            Err(TryLockError::Poisoned(p)) => return Err(p),
            Err(TryLockError::WouldBlock) => {
                coop::block(&[Resource::Object(object)], None, op, Some(object), location);
            }
        }
    }
}

pub(super) fn read<'a, T: ?Sized>(
    lock: &'a RwLock<T>,
    location: &'static Location<'static>,
) -> LockResult<RwLockReadGuard<'a, T>> {
    let object = object(lock, location);
    let result = lock.poison.report(acquire(object, Op::ReadLock, location, || lock.inner.try_read()));
    let writes_before = lock.note_read();
    context::with(|ctx| ctx.record_outcome(Outcome::ReadLock { writes_before }, object, location));
    map_poison(result, lock.read_guard(Held::Explore(object), location))
}

pub(super) fn write<'a, T: ?Sized>(
    lock: &'a RwLock<T>,
    location: &'static Location<'static>,
) -> LockResult<RwLockWriteGuard<'a, T>> {
    let object = object(lock, location);
    let result = lock.poison.taken(acquire(object, Op::WriteLock, location, || lock.inner.try_write()));
    coop::scheduler().lock_held(object, true);
    let (write, readers) = lock.note_write();
    context::with(|ctx| {
        ctx.shared.hold(object);
        ctx.record_outcome(Outcome::WriteLock { write, readers }, object, location);
    });
    map_poison(result, lock.write_guard(Held::Explore(object), location))
}

pub(super) fn try_read<'a, T: ?Sized>(
    lock: &'a RwLock<T>,
    location: &'static Location<'static>,
) -> TryLockResult<RwLockReadGuard<'a, T>> {
    let object = object(lock, location);
    coop::switch(Op::TryReadLock, Some(object), location);
    // Under a coroutine replay, a recorded WouldBlock comes back as one.
    let result = match coop::served(Op::TryReadLock) {
        Some(Outcome::TryReadLock { writes_before: None }) => Err(TryLockError::WouldBlock),
        _ => lock.poison.tried(lock.inner.try_read(), false),
    };
    let writes_before = match result {
        Err(TryLockError::WouldBlock) => None,
        _ => Some(lock.note_read()),
    };
    context::with(|ctx| ctx.record_outcome(Outcome::TryReadLock { writes_before }, object, location));
    map_try(result, lock.read_guard(Held::Explore(object), location))
}

pub(super) fn try_write<'a, T: ?Sized>(
    lock: &'a RwLock<T>,
    location: &'static Location<'static>,
) -> TryLockResult<RwLockWriteGuard<'a, T>> {
    let object = object(lock, location);
    coop::switch(Op::TryWriteLock, Some(object), location);
    let result = match coop::served(Op::TryWriteLock) {
        Some(Outcome::TryWriteLock { taken: None }) => Err(TryLockError::WouldBlock),
        _ => lock.poison.tried(lock.inner.try_write(), true),
    };
    if result.is_ok() {
        coop::scheduler().lock_held(object, true);
    }
    let taken = match result {
        Err(TryLockError::WouldBlock) => None,
        _ => Some(lock.note_write()),
    };
    context::with(|ctx| {
        if taken.is_some() {
            ctx.shared.hold(object);
        }
        ctx.record_outcome(Outcome::TryWriteLock { taken }, object, location);
    });
    map_try(result, lock.write_guard(Held::Explore(object), location))
}

/// Records a read lock's release and lets the lock's waiters run.
pub(super) fn read_unlock(object: ObjectIndex, location: &'static Location<'static>) {
    let recorded = context::try_with(|ctx| ctx.record_outcome(Outcome::ReadUnlock, object, location));
    if recorded.is_some() {
        coop::wake(Resource::Object(object), true);
    }
}

/// Records the write lock's release and lets the lock's waiters run.
pub(super) fn write_unlock(object: ObjectIndex, location: &'static Location<'static>) {
    let recorded = context::try_with(|ctx| {
        ctx.shared.release(object);
        ctx.record_outcome(Outcome::WriteUnlock, object, location);
    });
    if recorded.is_some() {
        coop::scheduler().lock_held(object, false);
        coop::wake(Resource::Object(object), true);
    }
}

/// Downgrades the write lock, recorded as in record mode; the readers
/// blocked on the lock may then run.
pub(super) fn downgrade<'a, T: ?Sized>(
    lock: &'a RwLock<T>,
    object: ObjectIndex,
    inner: super::InnerWriteGuard<'a, T>,
    location: &'static Location<'static>,
) -> super::InnerReadGuard<'a, T> {
    let writes_before = lock.note_read();
    let read = std::sync::RwLockWriteGuard::downgrade(inner);
    let recorded = context::try_with(|ctx| {
        ctx.shared.release(object);
        ctx.record_outcome(Outcome::WriteUnlock, object, location);
        ctx.record_outcome(Outcome::ReadLock { writes_before }, object, location);
    });
    if recorded.is_some() {
        coop::scheduler().lock_held(object, false);
        coop::wake(Resource::Object(object), true);
    }
    read
}

//! The RwLock in record mode: threads run in parallel; a reader records the
//! write it saw, a writer its write number and how many readers saw the write
//! before it, each read while holding the lock.

use std::panic::Location;
use std::sync::atomic::Ordering;
use std::sync::{LockResult, TryLockError, TryLockResult};

use super::{map_poison, map_try, Held, RwLock, RwLockReadGuard, RwLockWriteGuard};
use crate::rt::context;
use crate::trace::model::{ObjectIndex, ObjectKind, Op, Outcome};

impl<T: ?Sized> RwLock<T> {
    /// Record and explore modes, holding a read lock: the write it sees.
    pub(super) fn note_read(&self) -> u64 {
        self.reads_since_write.fetch_add(1, Ordering::Relaxed);
        self.writes.load(Ordering::Relaxed)
    }

    /// Record and explore modes, holding the write lock: (write number,
    /// readers of the write before).
    pub(super) fn note_write(&self) -> (u64, u64) {
        let n = self.writes.load(Ordering::Relaxed) + 1;
        self.writes.store(n, Ordering::Relaxed);
        (n, self.reads_since_write.swap(0, Ordering::Relaxed))
    }

    fn object(&self, location: &'static Location<'static>) -> ObjectIndex {
        context::with(|ctx| ctx.object(&self.slot, ObjectKind::RwLock, location))
    }
}

/// Takes a lock, blocking in the OS when it is held, shown to the deadlock
/// monitor while blocked.
fn acquire<G>(
    object: ObjectIndex,
    op: Op,
    location: &'static Location<'static>,
    try_lock: impl FnOnce() -> TryLockResult<G>,
    lock: impl FnOnce() -> LockResult<G>,
) -> LockResult<G> {
    match try_lock() {
        Ok(g) => Ok(g),
        Err(TryLockError::Poisoned(p)) => Err(p),
        Err(TryLockError::WouldBlock) => {
            context::with(|ctx| ctx.block(op, object, location, false));
            let result = lock();
            context::with(|ctx| ctx.unblock());
            result
        }
    }
}

pub(super) fn read<'a, T: ?Sized>(
    lock: &'a RwLock<T>,
    location: &'static Location<'static>,
) -> LockResult<RwLockReadGuard<'a, T>> {
    let object = lock.object(location);
    let result = acquire(object, Op::ReadLock, location, || lock.inner.try_read(), || lock.inner.read());
    let writes_before = lock.note_read();
    context::with(|ctx| ctx.record_outcome(Outcome::ReadLock { writes_before }, object, location));
    map_poison(result, lock.read_guard(Held::Record(object), location))
}

pub(super) fn write<'a, T: ?Sized>(
    lock: &'a RwLock<T>,
    location: &'static Location<'static>,
) -> LockResult<RwLockWriteGuard<'a, T>> {
    let object = lock.object(location);
    let result = acquire(object, Op::WriteLock, location, || lock.inner.try_write(), || lock.inner.write());
    let (write, readers) = lock.note_write();
    context::with(|ctx| {
        ctx.shared.hold(object);
        ctx.record_outcome(Outcome::WriteLock { write, readers }, object, location);
    });
    map_poison(result, lock.write_guard(Held::Record(object), location))
}

pub(super) fn try_read<'a, T: ?Sized>(
    lock: &'a RwLock<T>,
    location: &'static Location<'static>,
) -> TryLockResult<RwLockReadGuard<'a, T>> {
    let object = lock.object(location);
    let result = lock.inner.try_read();
    let writes_before = match result {
        Err(TryLockError::WouldBlock) => None,
        _ => Some(lock.note_read()),
    };
    context::with(|ctx| ctx.record_outcome(Outcome::TryReadLock { writes_before }, object, location));
    map_try(result, lock.read_guard(Held::Record(object), location))
}

pub(super) fn try_write<'a, T: ?Sized>(
    lock: &'a RwLock<T>,
    location: &'static Location<'static>,
) -> TryLockResult<RwLockWriteGuard<'a, T>> {
    let object = lock.object(location);
    let result = lock.inner.try_write();
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
    map_try(result, lock.write_guard(Held::Record(object), location))
}

/// Records a read lock's release.
pub(super) fn read_unlock(object: ObjectIndex, location: &'static Location<'static>) {
    context::try_with(|ctx| ctx.record_outcome(Outcome::ReadUnlock, object, location));
}

/// Records the write lock's release.
pub(super) fn write_unlock(object: ObjectIndex, location: &'static Location<'static>) {
    context::try_with(|ctx| {
        ctx.shared.release(object);
        ctx.record_outcome(Outcome::WriteUnlock, object, location);
    });
}

/// Downgrades the write lock; recorded as its release and a read lock that
/// saw this write, which is what other threads could observe.
pub(super) fn downgrade<'a, T: ?Sized>(
    lock: &'a RwLock<T>,
    object: ObjectIndex,
    inner: super::InnerWriteGuard<'a, T>,
    location: &'static Location<'static>,
) -> super::InnerReadGuard<'a, T> {
    let writes_before = lock.note_read();
    let read = std::sync::RwLockWriteGuard::downgrade(inner);
    context::try_with(|ctx| {
        ctx.shared.release(object);
        ctx.record_outcome(Outcome::WriteUnlock, object, location);
        ctx.record_outcome(Outcome::ReadLock { writes_before }, object, location);
    });
    read
}

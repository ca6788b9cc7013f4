//! `RwLock`: a writer records its write number and how many readers saw the
//! write before it; a reader records the write it saw. Replay admits each
//! reader after its write and each writer after those readers.

use std::fmt;
use std::ops::{Deref, DerefMut};
use std::panic::Location;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{LockResult, PoisonError, TryLockError, TryLockResult};

use crate::rt::context::{self, Mode};
use crate::rt::coop::{self, Resource};
use crate::rt::gate::{Happened, TurnClass, WaitFor};
use crate::rt::gated;
use crate::rt::object::ObjectSlot;
use crate::sync::mutex::Held;
use crate::trace::model::{ObjectKind, Op, Outcome};

/// A reader-writer lock. Like [`std::sync::RwLock`].
pub struct RwLock<T: ?Sized> {
    slot: ObjectSlot,
    /// Writes so far; changed only by the writer holding the lock.
    writes: AtomicU64,
    /// Read locks taken since the last write.
    reads_since_write: AtomicU64,
    inner: std::sync::RwLock<T>,
}

/// Shared access. Like [`std::sync::RwLockReadGuard`].
pub struct RwLockReadGuard<'a, T: ?Sized> {
    lock: &'a RwLock<T>,
    inner: std::sync::RwLockReadGuard<'a, T>,
    held: Held,
    location: &'static Location<'static>,
}

/// Exclusive access. Like [`std::sync::RwLockWriteGuard`].
pub struct RwLockWriteGuard<'a, T: ?Sized> {
    lock: &'a RwLock<T>,
    inner: std::sync::RwLockWriteGuard<'a, T>,
    held: Held,
    location: &'static Location<'static>,
}

fn map_poison<G, H>(result: LockResult<G>, wrap: impl Fn(G) -> H) -> LockResult<H> {
    match result {
        Ok(g) => Ok(wrap(g)),
        Err(p) => Err(PoisonError::new(wrap(p.into_inner()))),
    }
}

fn map_try<G, H>(result: TryLockResult<G>, wrap: impl Fn(G) -> H) -> TryLockResult<H> {
    match result {
        Ok(g) => Ok(wrap(g)),
        Err(TryLockError::WouldBlock) => Err(TryLockError::WouldBlock),
        Err(TryLockError::Poisoned(p)) => Err(TryLockError::Poisoned(PoisonError::new(wrap(p.into_inner())))),
    }
}

fn try_to_lock<G>(result: TryLockResult<G>) -> Option<LockResult<G>> {
    match result {
        Ok(g) => Some(Ok(g)),
        Err(TryLockError::Poisoned(p)) => Some(Err(p)),
        Err(TryLockError::WouldBlock) => None,
    }
}

/// Takes a lock in record mode (blocking in the OS, shown to the deadlock
/// monitor) or cooperative mode (blocking in the scheduler).
fn acquire<G>(
    mode: Mode,
    object: crate::trace::model::ObjectIndex,
    op: Op,
    location: &'static Location<'static>,
    try_lock: impl Fn() -> TryLockResult<G>,
    lock: impl FnOnce() -> LockResult<G>,
) -> LockResult<G> {
    if mode == Mode::Coop {
        loop {
            coop::switch(op, Some(object), location);
            match try_to_lock(try_lock()) {
                Some(result) => return result,
                None => {
                    coop::block(&[Resource::Object(object)], None, op, Some(object), location);
                }
            }
        }
    }
    try_to_lock(try_lock()).unwrap_or_else(|| {
        context::with(|ctx| ctx.block(op, object, location, false));
        let result = lock();
        context::with(|ctx| ctx.unblock());
        result
    })
}

impl<T> RwLock<T> {
    /// A new unlocked RwLock. `const`, so it can live in a `static`.
    pub const fn new(value: T) -> RwLock<T> {
        RwLock {
            slot: ObjectSlot::new(),
            writes: AtomicU64::new(0),
            reads_since_write: AtomicU64::new(0),
            inner: std::sync::RwLock::new(value),
        }
    }

    /// Consumes the lock, returning the value.
    ///
    /// # Errors
    ///
    /// When a writer panicked, as std's.
    pub fn into_inner(self) -> LockResult<T> {
        self.inner.into_inner()
    }
}

impl<T: ?Sized> RwLock<T> {
    fn read_guard<'a>(
        &'a self,
        held: Held,
        location: &'static Location<'static>,
    ) -> impl Fn(std::sync::RwLockReadGuard<'a, T>) -> RwLockReadGuard<'a, T> {
        move |inner| RwLockReadGuard { lock: self, inner, held, location }
    }

    fn write_guard<'a>(
        &'a self,
        held: Held,
        location: &'static Location<'static>,
    ) -> impl Fn(std::sync::RwLockWriteGuard<'a, T>) -> RwLockWriteGuard<'a, T> {
        move |inner| RwLockWriteGuard { lock: self, inner, held, location }
    }

    /// Record mode, holding a read lock: the write it sees.
    fn note_read(&self) -> u64 {
        self.reads_since_write.fetch_add(1, Ordering::Relaxed);
        self.writes.load(Ordering::Relaxed)
    }

    /// Record mode, holding the write lock: (write number, readers of the last).
    fn note_write(&self) -> (u64, u64) {
        let n = self.writes.load(Ordering::Relaxed) + 1;
        self.writes.store(n, Ordering::Relaxed);
        (n, self.reads_since_write.swap(0, Ordering::Relaxed))
    }

    /// Takes a read lock. Like [`std::sync::RwLock::read`].
    ///
    /// # Errors
    ///
    /// When a writer panicked, as std's.
    #[track_caller]
    pub fn read(&self) -> LockResult<RwLockReadGuard<'_, T>> {
        let location = Location::caller();
        match context::mode() {
            Mode::Off => map_poison(self.inner.read(), self.read_guard(Held::Off, location)),
            mode @ (Mode::Record | Mode::Coop) => {
                let object = context::with(|ctx| ctx.object(&self.slot, ObjectKind::RwLock, location));
                let result = acquire(
                    mode,
                    object,
                    Op::ReadLock,
                    location,
                    || self.inner.try_read(),
                    || self.inner.read(),
                );
                let seen = self.note_read();
                context::with(|ctx| ctx.record(Op::ReadLock, object, location, [seen, 0, 0]));
                map_poison(result, self.read_guard(Held::Record(object), location))
            }
            Mode::Gated => {
                let Some(call) = gated::begin(Op::ReadLock, Some((&self.slot, ObjectKind::RwLock)), location)
                else {
                    return map_poison(self.inner.read(), self.read_guard(Held::Off, location));
                };
                let object = call.event.object;
                call.wait(WaitFor::Taken { object, class: TurnClass::Write, number: call.event.a });
                let result = self.inner.read();
                call.happened(Happened::Read(object));
                map_poison(result, self.read_guard(Held::Gated, location))
            }
        }
    }

    /// Takes the write lock. Like [`std::sync::RwLock::write`].
    ///
    /// # Errors
    ///
    /// When a writer panicked, as std's.
    #[track_caller]
    pub fn write(&self) -> LockResult<RwLockWriteGuard<'_, T>> {
        let location = Location::caller();
        match context::mode() {
            Mode::Off => map_poison(self.inner.write(), self.write_guard(Held::Off, location)),
            mode @ (Mode::Record | Mode::Coop) => {
                let object = context::with(|ctx| ctx.object(&self.slot, ObjectKind::RwLock, location));
                let result = acquire(
                    mode,
                    object,
                    Op::WriteLock,
                    location,
                    || self.inner.try_write(),
                    || self.inner.write(),
                );
                if mode == Mode::Coop {
                    coop::scheduler().lock_held(object, true);
                }
                let (n, readers) = self.note_write();
                context::with(|ctx| {
                    ctx.shared.hold(object);
                    ctx.record(Op::WriteLock, object, location, [n, readers, 0]);
                });
                map_poison(result, self.write_guard(Held::Record(object), location))
            }
            Mode::Gated => {
                let Some(call) =
                    gated::begin(Op::WriteLock, Some((&self.slot, ObjectKind::RwLock)), location)
                else {
                    return map_poison(self.inner.write(), self.write_guard(Held::Off, location));
                };
                let object = call.event.object;
                call.wait(WaitFor::WriteTurn { object, number: call.event.a, readers: call.event.b });
                let result = self.inner.write();
                call.happened(Happened::Turn { object, class: TurnClass::Write });
                map_poison(result, self.write_guard(Held::Gated, location))
            }
        }
    }

    /// Takes a read lock if no writer holds it. Like [`std::sync::RwLock::try_read`].
    ///
    /// # Errors
    ///
    /// `WouldBlock` when a writer holds it; `Poisoned` when a writer panicked.
    #[track_caller]
    pub fn try_read(&self) -> TryLockResult<RwLockReadGuard<'_, T>> {
        let location = Location::caller();
        match context::mode() {
            Mode::Off => map_try(self.inner.try_read(), self.read_guard(Held::Off, location)),
            mode @ (Mode::Record | Mode::Coop) => {
                let object = context::with(|ctx| ctx.object(&self.slot, ObjectKind::RwLock, location));
                let mut served = None;
                if mode == Mode::Coop {
                    coop::switch(Op::TryReadLock, Some(object), location);
                    served = context::with(|ctx| coop::recorded_outcome(ctx.index, Op::TryReadLock));
                }
                let result = match served.map(|s| s.outcome) {
                    Some(Outcome::TryReadLock { writes_before: None }) => Err(TryLockError::WouldBlock),
                    _ => self.inner.try_read(),
                };
                let a =
                    if matches!(result, Err(TryLockError::WouldBlock)) { 0 } else { self.note_read() + 1 };
                context::with(|ctx| ctx.record(Op::TryReadLock, object, location, [a, 0, 0]));
                map_try(result, self.read_guard(Held::Record(object), location))
            }
            Mode::Gated => {
                let Some(call) =
                    gated::begin(Op::TryReadLock, Some((&self.slot, ObjectKind::RwLock)), location)
                else {
                    return map_try(self.inner.try_read(), self.read_guard(Held::Off, location));
                };
                if call.event.a == 0 {
                    return Err(TryLockError::WouldBlock);
                }
                let object = call.event.object;
                call.wait(WaitFor::Taken { object, class: TurnClass::Write, number: call.event.a - 1 });
                let result = self.inner.read();
                call.happened(Happened::Read(object));
                map_try(result.map_err(TryLockError::Poisoned), self.read_guard(Held::Gated, location))
            }
        }
    }

    /// Takes the write lock if it is free. Like [`std::sync::RwLock::try_write`].
    ///
    /// # Errors
    ///
    /// `WouldBlock` when held elsewhere; `Poisoned` when a writer panicked.
    #[track_caller]
    pub fn try_write(&self) -> TryLockResult<RwLockWriteGuard<'_, T>> {
        let location = Location::caller();
        match context::mode() {
            Mode::Off => map_try(self.inner.try_write(), self.write_guard(Held::Off, location)),
            mode @ (Mode::Record | Mode::Coop) => {
                let object = context::with(|ctx| ctx.object(&self.slot, ObjectKind::RwLock, location));
                let mut served = None;
                if mode == Mode::Coop {
                    coop::switch(Op::TryWriteLock, Some(object), location);
                    served = context::with(|ctx| coop::recorded_outcome(ctx.index, Op::TryWriteLock));
                }
                let result = match served.map(|s| s.outcome) {
                    Some(Outcome::TryWriteLock { taken: None }) => Err(TryLockError::WouldBlock),
                    _ => self.inner.try_write(),
                };
                if mode == Mode::Coop && result.is_ok() {
                    coop::scheduler().lock_held(object, true);
                }
                let (a, readers) = if matches!(result, Err(TryLockError::WouldBlock)) {
                    (0, 0)
                } else {
                    let (n, readers) = self.note_write();
                    (n + 1, readers)
                };
                context::with(|ctx| {
                    if a != 0 {
                        ctx.shared.hold(object);
                    }
                    ctx.record(Op::TryWriteLock, object, location, [a, readers, 0]);
                });
                map_try(result, self.write_guard(Held::Record(object), location))
            }
            Mode::Gated => {
                let Some(call) =
                    gated::begin(Op::TryWriteLock, Some((&self.slot, ObjectKind::RwLock)), location)
                else {
                    return map_try(self.inner.try_write(), self.write_guard(Held::Off, location));
                };
                if call.event.a == 0 {
                    return Err(TryLockError::WouldBlock);
                }
                let object = call.event.object;
                call.wait(WaitFor::WriteTurn { object, number: call.event.a - 1, readers: call.event.b });
                let result = self.inner.write();
                call.happened(Happened::Turn { object, class: TurnClass::Write });
                map_try(result.map_err(TryLockError::Poisoned), self.write_guard(Held::Gated, location))
            }
        }
    }

    /// Whether a writer panicked.
    pub fn is_poisoned(&self) -> bool {
        self.inner.is_poisoned()
    }

    /// The value, through a unique borrow (no locking, no event).
    ///
    /// # Errors
    ///
    /// When a writer panicked, as std's.
    pub fn get_mut(&mut self) -> LockResult<&mut T> {
        self.inner.get_mut()
    }
}

fn release(held: Held, op: Op, slot: &ObjectSlot, location: &'static Location<'static>) {
    match held {
        Held::Off => {}
        Held::Record(object) => {
            let coop = context::try_with(|ctx| {
                if op == Op::WriteUnlock {
                    ctx.shared.release(object);
                }
                ctx.record(op, object, location, [0; 3]);
                ctx.exec.coop
            });
            if coop == Some(true) {
                if op == Op::WriteUnlock {
                    coop::scheduler().lock_held(object, false);
                }
                coop::wake(Resource::Object(object), true);
            }
        }
        Held::Gated => {
            if context::mode() == Mode::Gated {
                gated::begin(op, Some((slot, ObjectKind::RwLock)), location);
            }
        }
    }
}

impl<T: ?Sized> Drop for RwLockReadGuard<'_, T> {
    fn drop(&mut self) {
        release(self.held, Op::ReadUnlock, &self.lock.slot, self.location);
    }
}

impl<T: ?Sized> Drop for RwLockWriteGuard<'_, T> {
    fn drop(&mut self) {
        release(self.held, Op::WriteUnlock, &self.lock.slot, self.location);
    }
}

impl<T: ?Sized> Deref for RwLockReadGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.inner
    }
}

impl<T: ?Sized> Deref for RwLockWriteGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.inner
    }
}

impl<T: ?Sized> DerefMut for RwLockWriteGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.inner
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RwLock").field("inner", &&self.inner).finish()
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLockReadGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLockWriteGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: Default> Default for RwLock<T> {
    fn default() -> Self {
        RwLock::new(T::default())
    }
}

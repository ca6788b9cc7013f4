//! `Mutex`: each acquisition records its number, read while holding the lock;
//! replay admits acquisitions in that order.

use std::fmt;
use std::ops::{Deref, DerefMut};
use std::panic::Location;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{LockResult, PoisonError, TryLockError, TryLockResult};

use crate::rt::context;
use crate::rt::coop::{self, Resource};
use crate::rt::gate::{Happened, TurnClass, WaitFor};
use crate::rt::gated;
use crate::rt::mode::{self, Mode};
use crate::rt::object::ObjectSlot;
use crate::trace::model::{ObjectIndex, ObjectKind, Op, Outcome};

/// A mutual exclusion lock. Like [`std::sync::Mutex`].
pub struct Mutex<T: ?Sized> {
    pub(crate) slot: ObjectSlot,
    /// Acquisitions so far; changed only by the holder.
    pub(crate) acquisitions: AtomicU64,
    pub(crate) inner: std::sync::Mutex<T>,
}

/// How a guard's release is handled: as the acquisition was.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Held {
    Off,
    Record(ObjectIndex),
    Gated,
}

/// The lock, held. Like [`std::sync::MutexGuard`].
pub struct MutexGuard<'a, T: ?Sized> {
    pub(crate) mutex: &'a Mutex<T>,
    /// `None` only inside a condvar wait.
    pub(crate) inner: Option<std::sync::MutexGuard<'a, T>>,
    pub(crate) held: Held,
    pub(crate) location: &'static Location<'static>,
}

impl<T> Mutex<T> {
    /// A new unlocked mutex. `const`, so it can live in a `static`.
    pub const fn new(value: T) -> Mutex<T> {
        Mutex {
            slot: ObjectSlot::new(),
            acquisitions: AtomicU64::new(0),
            inner: std::sync::Mutex::new(value),
        }
    }

    /// Consumes the mutex, returning the value.
    ///
    /// # Errors
    ///
    /// When a holder panicked, as std's.
    pub fn into_inner(self) -> LockResult<T> {
        self.inner.into_inner()
    }
}

impl<T: ?Sized> Mutex<T> {
    /// Takes the lock, blocking. Like [`std::sync::Mutex::lock`].
    ///
    /// # Errors
    ///
    /// When a holder panicked, as std's.
    #[track_caller]
    pub fn lock(&self) -> LockResult<MutexGuard<'_, T>> {
        let location = Location::caller();
        match mode::mode() {
            Mode::Off => self.wrap(self.inner.lock(), Held::Off, location),
            Mode::Record => self.lock_recorded(location),
            Mode::Gated => self.lock_gated(location),
            Mode::Coop => self.lock_coop(location),
        }
    }

    /// Cooperative mode: a held lock blocks the thread in the scheduler, not
    /// in the OS.
    fn lock_coop(&self, location: &'static Location<'static>) -> LockResult<MutexGuard<'_, T>> {
        let object = context::with(|ctx| ctx.object(&self.slot, ObjectKind::Mutex, location));
        let result = self.acquire_coop(object, Op::Lock, location);
        let n = self.next_acquisition();
        context::with(|ctx| {
            ctx.shared.hold(object);
            ctx.record(Op::Lock, object, location, [n, 0, 0]);
        });
        coop::scheduler().lock_held(object, true);
        self.wrap(result, Held::Record(object), location)
    }

    /// Cooperative mode: takes the std lock, blocking in the scheduler while
    /// another coroutine holds it. Records nothing.
    pub(crate) fn acquire_coop(
        &self,
        object: ObjectIndex,
        op: Op,
        location: &'static Location<'static>,
    ) -> LockResult<std::sync::MutexGuard<'_, T>> {
        loop {
            coop::switch(op, Some(object), location);
            match self.inner.try_lock() {
                Ok(guard) => return Ok(guard),
                Err(TryLockError::Poisoned(p)) => return Err(p),
                Err(TryLockError::WouldBlock) => {
                    coop::block(&[Resource::Object(object)], None, op, Some(object), location);
                }
            }
        }
    }

    fn wrap<'a>(
        &'a self,
        result: LockResult<std::sync::MutexGuard<'a, T>>,
        held: Held,
        location: &'static Location<'static>,
    ) -> LockResult<MutexGuard<'a, T>> {
        let wrap = |inner| MutexGuard { mutex: self, inner: Some(inner), held, location };
        result.map(wrap).map_err(|p| PoisonError::new(wrap(p.into_inner())))
    }

    fn wrap_try<'a>(
        &'a self,
        result: TryLockResult<std::sync::MutexGuard<'a, T>>,
        held: Held,
        location: &'static Location<'static>,
    ) -> TryLockResult<MutexGuard<'a, T>> {
        match result {
            Ok(inner) => Ok(MutexGuard { mutex: self, inner: Some(inner), held, location }),
            Err(TryLockError::WouldBlock) => Err(TryLockError::WouldBlock),
            Err(TryLockError::Poisoned(p)) => Err(TryLockError::Poisoned(PoisonError::new(MutexGuard {
                mutex: self,
                inner: Some(p.into_inner()),
                held,
                location,
            }))),
        }
    }

    /// Record mode, while holding: this acquisition's number.
    pub(crate) fn next_acquisition(&self) -> u64 {
        let n = self.acquisitions.load(Ordering::Relaxed) + 1;
        self.acquisitions.store(n, Ordering::Relaxed);
        n
    }

    fn lock_recorded(&self, location: &'static Location<'static>) -> LockResult<MutexGuard<'_, T>> {
        // One visit to the thread's context on the uncontended path.
        let (object, taken) = context::with(|ctx| {
            let object = ctx.object(&self.slot, ObjectKind::Mutex, location);
            let taken = match self.inner.try_lock() {
                Ok(guard) => Some(Ok(guard)),
                Err(TryLockError::Poisoned(p)) => Some(Err(p)),
                Err(TryLockError::WouldBlock) => {
                    ctx.block(Op::Lock, object, location, false);
                    None
                }
            };
            if taken.is_some() {
                let n = self.next_acquisition();
                ctx.shared.hold(object);
                ctx.record(Op::Lock, object, location, [n, 0, 0]);
            }
            (object, taken)
        });
        let result = match taken {
            Some(result) => result,
            None => self.lock_contended(object, location),
        };
        self.wrap(result, Held::Record(object), location)
    }

    #[cold]
    fn lock_contended(
        &self,
        object: ObjectIndex,
        location: &'static Location<'static>,
    ) -> LockResult<std::sync::MutexGuard<'_, T>> {
        let result = self.inner.lock();
        let n = self.next_acquisition();
        context::with(|ctx| {
            ctx.unblock();
            ctx.shared.hold(object);
            ctx.record(Op::Lock, object, location, [n, 0, 0]);
        });
        result
    }

    fn lock_gated(&self, location: &'static Location<'static>) -> LockResult<MutexGuard<'_, T>> {
        let Some(call) = gated::begin(Op::Lock, Some((&self.slot, ObjectKind::Mutex)), location) else {
            return self.wrap(self.inner.lock(), Held::Off, location);
        };
        let Some(outcome) = call.outcome() else {
            return self.wrap(self.inner.lock(), Held::Off, location);
        };
        call.wait_for_outcome(&outcome);
        let result = self.inner.lock();
        call.announce(&outcome);
        self.wrap(result, Held::Gated, location)
    }

    /// Takes the lock if it is free. Like [`std::sync::Mutex::try_lock`].
    ///
    /// # Errors
    ///
    /// `WouldBlock` when held elsewhere; `Poisoned` when a holder panicked.
    #[track_caller]
    pub fn try_lock(&self) -> TryLockResult<MutexGuard<'_, T>> {
        let location = Location::caller();
        let wrap_try = |result, held| self.wrap_try(result, held, location);
        match mode::mode() {
            Mode::Off => wrap_try(self.inner.try_lock(), Held::Off),
            mode @ (Mode::Record | Mode::Coop) => {
                let object = context::with(|ctx| ctx.object(&self.slot, ObjectKind::Mutex, location));
                let mut served = None;
                if mode == Mode::Coop {
                    coop::switch(Op::TryLock, Some(object), location);
                    served = context::with(|ctx| coop::recorded_outcome(ctx.index, Op::TryLock));
                }
                let result = match served.map(|s| s.outcome) {
                    Some(Outcome::TryLock { acquisition: None }) => Err(TryLockError::WouldBlock),
                    _ => self.inner.try_lock(),
                };
                if mode == Mode::Coop && result.is_ok() {
                    coop::scheduler().lock_held(object, true);
                }
                let a = match &result {
                    Err(TryLockError::WouldBlock) => 0,
                    _ => self.next_acquisition(),
                };
                context::with(|ctx| {
                    if a != 0 {
                        ctx.shared.hold(object);
                    }
                    ctx.record(Op::TryLock, object, location, [a, 0, 0]);
                });
                wrap_try(result, Held::Record(object))
            }
            Mode::Gated => {
                let Some(call) = gated::begin(Op::TryLock, Some((&self.slot, ObjectKind::Mutex)), location)
                else {
                    return wrap_try(self.inner.try_lock(), Held::Off);
                };
                if call.event.a == 0 {
                    return Err(TryLockError::WouldBlock);
                }
                let object = call.event.object;
                call.wait(WaitFor::Turn { object, class: TurnClass::Lock, number: call.event.a });
                let result = match self.inner.lock() {
                    Ok(guard) => Ok(guard),
                    Err(p) => Err(TryLockError::Poisoned(p)),
                };
                call.happened(Happened::Turn { object, class: TurnClass::Lock });
                wrap_try(result, Held::Gated)
            }
        }
    }

    /// Whether a holder panicked.
    pub fn is_poisoned(&self) -> bool {
        self.inner.is_poisoned()
    }

    /// The value, through a unique borrow (no locking, no event).
    ///
    /// # Errors
    ///
    /// When a holder panicked, as std's.
    pub fn get_mut(&mut self) -> LockResult<&mut T> {
        self.inner.get_mut()
    }
}

impl<T: ?Sized> MutexGuard<'_, T> {
    /// Records or replays the release, before the std guard is dropped.
    pub(crate) fn release_event(&self) {
        match self.held {
            Held::Off => {}
            Held::Record(object) => {
                let coop = context::try_with(|ctx| {
                    ctx.shared.release(object);
                    ctx.record(Op::Unlock, object, self.location, [0; 3]);
                    ctx.exec.coop
                });
                if coop == Some(true) {
                    // The std guard is dropped right after this; waiters run
                    // only once this coroutine yields.
                    coop::scheduler().lock_held(object, false);
                    coop::wake(Resource::Object(object), true);
                }
            }
            Held::Gated => {
                if context::mode() == Mode::Gated {
                    gated::begin(Op::Unlock, Some((&self.mutex.slot, ObjectKind::Mutex)), self.location);
                }
            }
        }
    }
}

impl<T: ?Sized> Drop for MutexGuard<'_, T> {
    fn drop(&mut self) {
        if self.inner.is_some() {
            self.release_event();
        }
    }
}

impl<T: ?Sized> Deref for MutexGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        self.inner.as_deref().expect("guard used during its condvar wait")
    }
}

impl<T: ?Sized> DerefMut for MutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        self.inner.as_deref_mut().expect("guard used during its condvar wait")
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Display> fmt::Display for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for Mutex<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mutex").field("inner", &&self.inner).finish()
    }
}

impl<T: Default> Default for Mutex<T> {
    fn default() -> Self {
        Mutex::new(T::default())
    }
}

impl<T> From<T> for Mutex<T> {
    fn from(value: T) -> Self {
        Mutex::new(value)
    }
}

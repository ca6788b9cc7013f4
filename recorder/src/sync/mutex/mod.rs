//! `Mutex`: each acquisition records its number, read while holding the lock;
//! replay admits acquisitions in that order.
//!
//! This file is the std-shaped shell: each call reads the thread's mode once
//! and hands over to one backend per mode (`record.rs`, `replay.rs`,
//! `explore.rs`; passthrough is inline). Under `--cfg reprise_loom` the inner
//! lock is loom's (`loom.rs`) and passthrough is the only mode.

#[cfg(not(reprise_loom))]
mod explore;
#[cfg(reprise_loom)]
mod loom;
#[cfg(not(reprise_loom))]
mod record;
#[cfg(not(reprise_loom))]
mod replay;

use std::fmt;
use std::ops::{Deref, DerefMut};
use std::panic::Location;
#[cfg(not(reprise_loom))]
use std::sync::atomic::AtomicU64;
use std::sync::{LockResult, PoisonError, TryLockError, TryLockResult};

use crate::rt::mode::{self, Mode};
#[cfg(not(reprise_loom))]
use crate::rt::object::ObjectSlot;
#[cfg(not(reprise_loom))]
use crate::sync::explored_poison::ExploredPoison;
use crate::sync::passthrough;
#[cfg(not(reprise_loom))]
use crate::trace::model::ObjectIndex;

#[cfg(reprise_loom)]
pub(crate) use self::loom::{Mutex as InnerMutex, MutexGuard as InnerGuard};
#[cfg(not(reprise_loom))]
pub(crate) use std::sync::{Mutex as InnerMutex, MutexGuard as InnerGuard};

/// A mutual exclusion lock. Like [`std::sync::Mutex`].
pub struct Mutex<T: ?Sized> {
    #[cfg(not(reprise_loom))]
    pub(crate) slot: ObjectSlot,
    /// Acquisitions so far; changed only by the holder.
    #[cfg(not(reprise_loom))]
    pub(crate) acquisitions: AtomicU64,
    /// What the explorer knows of its poison beside std's flag.
    #[cfg(not(reprise_loom))]
    pub(crate) poison: ExploredPoison,
    pub(crate) inner: InnerMutex<T>,
}

crate::named::nameable!([T: ?Sized] Mutex<T>, Mutex, |m| m.slot);

/// How a guard's release is handled: by the backend that acquired it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Held {
    Off,
    #[cfg(not(reprise_loom))]
    Record(ObjectIndex),
    #[cfg(not(reprise_loom))]
    Gated,
    #[cfg(not(reprise_loom))]
    Explore(ObjectIndex),
}

/// The lock, held. Like [`std::sync::MutexGuard`].
pub struct MutexGuard<'a, T: ?Sized> {
    #[cfg_attr(reprise_loom, allow(dead_code))]
    pub(crate) mutex: &'a Mutex<T>,
    /// `None` only inside a condvar wait.
    pub(crate) inner: Option<InnerGuard<'a, T>>,
    pub(crate) held: Held,
    #[cfg_attr(reprise_loom, allow(dead_code))]
    pub(crate) location: &'static Location<'static>,
}

impl<T> Mutex<T> {
    /// A new unlocked mutex. `const`, so it can live in a `static` (under
    /// loom, create it inside the model: its loom mutex belongs to one
    /// execution).
    #[track_caller]
    pub const fn new(value: T) -> Mutex<T> {
        Mutex {
            #[cfg(not(reprise_loom))]
            slot: ObjectSlot::here(),
            #[cfg(not(reprise_loom))]
            acquisitions: AtomicU64::new(0),
            #[cfg(not(reprise_loom))]
            poison: ExploredPoison::new(),
            inner: InnerMutex::new(value),
        }
    }

    /// Consumes the mutex, returning the value.
    ///
    /// # Errors
    ///
    /// When a holder panicked, as std's.
    pub fn into_inner(self) -> LockResult<T> {
        #[cfg(not(reprise_loom))]
        {
            let Mutex { poison, inner, .. } = self;
            poison.report(inner.into_inner())
        }
        #[cfg(reprise_loom)]
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
    #[inline(always)]
    pub fn lock(&self) -> LockResult<MutexGuard<'_, T>> {
        let location = Location::caller();
        // Passthrough first and alone: in one match with the other modes'
        // calls, it built its guard in a temporary the arms shared and then
        // copied it out (callgrind, the payments pipeline off).
        let mode = mode::mode();
        if mode == Mode::Off {
            return self.wrap(self.lock_off(), Held::Off, location);
        }
        self.lock_traced(mode, location)
    }

    /// The passthrough lock (see `sync::passthrough`).
    #[inline(always)]
    fn lock_off(&self) -> LockResult<InnerGuard<'_, T>> {
        passthrough::acquire(|| self.inner.try_lock(), || self.inner.lock())
    }

    /// [`Mutex::lock`] in a mode that records, replays or explores it. The
    /// record backend's lock is inlined here and tried first: one call and
    /// one comparison, as before this split.
    #[inline(never)]
    fn lock_traced(&self, mode: Mode, location: &'static Location<'static>) -> LockResult<MutexGuard<'_, T>> {
        #[cfg(not(reprise_loom))]
        if mode == Mode::Record {
            return record::lock(self, location);
        }
        match mode {
            #[cfg(not(reprise_loom))]
            Mode::Gated => replay::lock(self, location),
            #[cfg(not(reprise_loom))]
            Mode::Coop => explore::lock(self, location),
            _ => self.wrap(self.lock_off(), Held::Off, location),
        }
    }

    /// Takes the lock if it is free. Like [`std::sync::Mutex::try_lock`].
    ///
    /// # Errors
    ///
    /// `WouldBlock` when held elsewhere; `Poisoned` when a holder panicked.
    #[track_caller]
    pub fn try_lock(&self) -> TryLockResult<MutexGuard<'_, T>> {
        let location = Location::caller();
        match mode::mode() {
            Mode::Off => self.wrap_try(self.inner.try_lock(), Held::Off, location),
            #[cfg(not(reprise_loom))]
            Mode::Record => record::try_lock(self, location),
            #[cfg(not(reprise_loom))]
            Mode::Gated => replay::try_lock(self, location),
            #[cfg(not(reprise_loom))]
            Mode::Coop => explore::try_lock(self, location),
        }
    }

    /// Whether a holder panicked. The answer depends on how the run
    /// interleaved: it is recorded as a captured value (see
    /// [`crate::capture()`]), and a replay gets the recorded answer.
    #[track_caller]
    pub fn is_poisoned(&self) -> bool {
        #[cfg(not(reprise_loom))]
        let missed = self.poison.is_missed();
        #[cfg(reprise_loom)]
        let missed = false;
        crate::capture::capture(|| missed || self.inner.is_poisoned())
    }

    /// Forgets that a holder panicked. Like [`std::sync::Mutex::clear_poison`];
    /// not an event (the locks that follow are, and replay takes them in the
    /// recorded order).
    pub fn clear_poison(&self) {
        self.inner.clear_poison();
        #[cfg(not(reprise_loom))]
        self.poison.clear();
    }

    /// The value, through a unique borrow (no locking, no event).
    ///
    /// # Errors
    ///
    /// When a holder panicked, as std's.
    pub fn get_mut(&mut self) -> LockResult<&mut T> {
        #[cfg(not(reprise_loom))]
        return self.poison.report(self.inner.get_mut());
        #[cfg(reprise_loom)]
        self.inner.get_mut()
    }

    pub(crate) fn wrap<'a>(
        &'a self,
        result: LockResult<InnerGuard<'a, T>>,
        held: Held,
        location: &'static Location<'static>,
    ) -> LockResult<MutexGuard<'a, T>> {
        let wrap = |inner| MutexGuard { mutex: self, inner: Some(inner), held, location };
        result.map(wrap).map_err(|p| PoisonError::new(wrap(p.into_inner())))
    }

    pub(crate) fn wrap_try<'a>(
        &'a self,
        result: TryLockResult<InnerGuard<'a, T>>,
        held: Held,
        location: &'static Location<'static>,
    ) -> TryLockResult<MutexGuard<'a, T>> {
        let wrap = |inner| MutexGuard { mutex: self, inner: Some(inner), held, location };
        match result {
            Ok(inner) => Ok(wrap(inner)),
            Err(TryLockError::WouldBlock) => Err(TryLockError::WouldBlock),
            Err(TryLockError::Poisoned(p)) => {
                Err(TryLockError::Poisoned(PoisonError::new(wrap(p.into_inner()))))
            }
        }
    }
}

#[cfg(not(reprise_loom))]
impl<T: ?Sized> MutexGuard<'_, T> {
    /// A release in a mode that replays or explores it, before the inner
    /// guard is dropped.
    /// Out of line: inlined into the guard's drop, its paths made every
    /// passthrough drop save and restore six registers (about 34
    /// instructions for std's 8; callgrind, the payments pipeline off).
    #[inline(never)]
    fn release_traced(&mut self) {
        if self.inner.is_none() {
            return;
        }
        match self.held {
            // A recorded release is the drop's own call.
            Held::Off | Held::Record(_) => {}
            Held::Gated => replay::unlock(self.mutex, self.location),
            Held::Explore(object) => {
                explore::unlock(object, self.location);
                let mutex = self.mutex;
                mutex.poison.release(
                    self.inner.take(),
                    || mutex.inner.is_poisoned(),
                    || mutex.inner.clear_poison(),
                );
            }
        }
    }
}

impl<T: ?Sized> Drop for MutexGuard<'_, T> {
    #[inline]
    fn drop(&mut self) {
        match self.held {
            Held::Off => {}
            // Its backend's call straight from here: the hot path records.
            #[cfg(not(reprise_loom))]
            Held::Record(object) => {
                if self.inner.is_some() {
                    record::unlock(object, self.location);
                }
            }
            #[cfg(not(reprise_loom))]
            _ => self.release_traced(),
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
    #[track_caller]
    fn default() -> Self {
        Mutex::new(T::default())
    }
}

impl<T> From<T> for Mutex<T> {
    #[track_caller]
    fn from(value: T) -> Self {
        Mutex::new(value)
    }
}

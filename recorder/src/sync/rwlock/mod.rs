//! `RwLock`: a writer records its write number and how many readers saw the
//! write before it; a reader records the write it saw. Replay admits each
//! reader after its write and each writer after those readers.
//!
//! This file is the std-shaped shell; the backends are `record.rs`,
//! `replay.rs` and `explore.rs` (passthrough is inline). Under
//! `--cfg reprise_loom` the inner lock is loom's (`loom.rs`).

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
use crate::sync::mutex::Held;
use crate::sync::passthrough;

#[cfg(reprise_loom)]
use self::loom::{
    RwLock as InnerRwLock, RwLockReadGuard as InnerReadGuard, RwLockWriteGuard as InnerWriteGuard,
};
#[cfg(not(reprise_loom))]
use std::sync::{
    RwLock as InnerRwLock, RwLockReadGuard as InnerReadGuard, RwLockWriteGuard as InnerWriteGuard,
};

/// A reader-writer lock. Like [`std::sync::RwLock`].
pub struct RwLock<T: ?Sized> {
    #[cfg(not(reprise_loom))]
    slot: ObjectSlot,
    /// Writes so far; changed only by the writer holding the lock.
    #[cfg(not(reprise_loom))]
    writes: AtomicU64,
    /// Read locks taken since the last write.
    #[cfg(not(reprise_loom))]
    reads_since_write: AtomicU64,
    /// What the explorer knows of its poison beside std's flag.
    #[cfg(not(reprise_loom))]
    poison: ExploredPoison,
    inner: InnerRwLock<T>,
}

crate::named::nameable!([T: ?Sized] RwLock<T>, RwLock, |l| l.slot);

/// Shared access. Like [`std::sync::RwLockReadGuard`].
pub struct RwLockReadGuard<'a, T: ?Sized> {
    #[cfg_attr(reprise_loom, allow(dead_code))]
    lock: &'a RwLock<T>,
    inner: InnerReadGuard<'a, T>,
    held: Held,
    #[cfg_attr(reprise_loom, allow(dead_code))]
    location: &'static Location<'static>,
}

/// Exclusive access. Like [`std::sync::RwLockWriteGuard`].
pub struct RwLockWriteGuard<'a, T: ?Sized> {
    #[cfg_attr(reprise_loom, allow(dead_code))]
    lock: &'a RwLock<T>,
    /// `None` only once `downgrade` took it.
    inner: Option<InnerWriteGuard<'a, T>>,
    held: Held,
    #[cfg_attr(reprise_loom, allow(dead_code))]
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

impl<T> RwLock<T> {
    /// A new unlocked RwLock. `const`, so it can live in a `static` (under
    /// loom, create it inside the model).
    #[track_caller]
    pub const fn new(value: T) -> RwLock<T> {
        RwLock {
            #[cfg(not(reprise_loom))]
            slot: ObjectSlot::here(),
            #[cfg(not(reprise_loom))]
            writes: AtomicU64::new(0),
            #[cfg(not(reprise_loom))]
            reads_since_write: AtomicU64::new(0),
            #[cfg(not(reprise_loom))]
            poison: ExploredPoison::new(),
            inner: InnerRwLock::new(value),
        }
    }

    /// Consumes the lock, returning the value.
    ///
    /// # Errors
    ///
    /// When a writer panicked, as std's.
    pub fn into_inner(self) -> LockResult<T> {
        #[cfg(not(reprise_loom))]
        {
            let RwLock { poison, inner, .. } = self;
            poison.report(inner.into_inner())
        }
        #[cfg(reprise_loom)]
        self.inner.into_inner()
    }
}

impl<T: ?Sized> RwLock<T> {
    fn read_guard<'a>(
        &'a self,
        held: Held,
        location: &'static Location<'static>,
    ) -> impl Fn(InnerReadGuard<'a, T>) -> RwLockReadGuard<'a, T> {
        move |inner| RwLockReadGuard { lock: self, inner, held, location }
    }

    fn write_guard<'a>(
        &'a self,
        held: Held,
        location: &'static Location<'static>,
    ) -> impl Fn(InnerWriteGuard<'a, T>) -> RwLockWriteGuard<'a, T> {
        move |inner| RwLockWriteGuard { lock: self, inner: Some(inner), held, location }
    }

    /// Takes a read lock. Like [`std::sync::RwLock::read`].
    ///
    /// # Errors
    ///
    /// When a writer panicked, as std's.
    #[track_caller]
    pub fn read(&self) -> LockResult<RwLockReadGuard<'_, T>> {
        let location = Location::caller();
        match mode::mode() {
            Mode::Off => map_poison(
                passthrough::acquire(|| self.inner.try_read(), || self.inner.read()),
                self.read_guard(Held::Off, location),
            ),
            #[cfg(not(reprise_loom))]
            Mode::Record => record::read(self, location),
            #[cfg(not(reprise_loom))]
            Mode::Gated => replay::read(self, location),
            #[cfg(not(reprise_loom))]
            Mode::Coop => explore::read(self, location),
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
        match mode::mode() {
            Mode::Off => map_poison(
                passthrough::acquire(|| self.inner.try_write(), || self.inner.write()),
                self.write_guard(Held::Off, location),
            ),
            #[cfg(not(reprise_loom))]
            Mode::Record => record::write(self, location),
            #[cfg(not(reprise_loom))]
            Mode::Gated => replay::write(self, location),
            #[cfg(not(reprise_loom))]
            Mode::Coop => explore::write(self, location),
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
        match mode::mode() {
            Mode::Off => map_try(self.inner.try_read(), self.read_guard(Held::Off, location)),
            #[cfg(not(reprise_loom))]
            Mode::Record => record::try_read(self, location),
            #[cfg(not(reprise_loom))]
            Mode::Gated => replay::try_read(self, location),
            #[cfg(not(reprise_loom))]
            Mode::Coop => explore::try_read(self, location),
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
        match mode::mode() {
            Mode::Off => map_try(self.inner.try_write(), self.write_guard(Held::Off, location)),
            #[cfg(not(reprise_loom))]
            Mode::Record => record::try_write(self, location),
            #[cfg(not(reprise_loom))]
            Mode::Gated => replay::try_write(self, location),
            #[cfg(not(reprise_loom))]
            Mode::Coop => explore::try_write(self, location),
        }
    }

    /// Whether a writer panicked. Recorded as a captured value, as
    /// [`Mutex::is_poisoned`](crate::sync::Mutex::is_poisoned) is.
    #[track_caller]
    pub fn is_poisoned(&self) -> bool {
        #[cfg(not(reprise_loom))]
        let missed = self.poison.is_missed();
        #[cfg(reprise_loom)]
        let missed = false;
        crate::capture::capture(|| missed || self.inner.is_poisoned())
    }

    /// Forgets that a writer panicked. Like
    /// [`std::sync::RwLock::clear_poison`]; not an event (the locks that
    /// follow are, and replay takes them in the recorded order).
    pub fn clear_poison(&self) {
        self.inner.clear_poison();
        #[cfg(not(reprise_loom))]
        self.poison.clear();
    }

    /// The value, through a unique borrow (no locking, no event).
    ///
    /// # Errors
    ///
    /// When a writer panicked, as std's.
    pub fn get_mut(&mut self) -> LockResult<&mut T> {
        #[cfg(not(reprise_loom))]
        return self.poison.report(self.inner.get_mut());
        #[cfg(reprise_loom)]
        self.inner.get_mut()
    }
}

impl<T: ?Sized> Drop for RwLockReadGuard<'_, T> {
    fn drop(&mut self) {
        match self.held {
            Held::Off => {}
            #[cfg(not(reprise_loom))]
            Held::Record(object) => record::read_unlock(object, self.location),
            #[cfg(not(reprise_loom))]
            Held::Gated => replay::unlock(self.lock, crate::trace::model::Op::ReadUnlock, self.location),
            #[cfg(not(reprise_loom))]
            Held::Explore(object) => explore::read_unlock(object, self.location),
        }
    }
}

impl<T: ?Sized> Drop for RwLockWriteGuard<'_, T> {
    fn drop(&mut self) {
        if self.inner.is_none() {
            return;
        }
        match self.held {
            Held::Off => {}
            #[cfg(not(reprise_loom))]
            Held::Record(object) => record::write_unlock(object, self.location),
            #[cfg(not(reprise_loom))]
            Held::Gated => replay::unlock(self.lock, crate::trace::model::Op::WriteUnlock, self.location),
            #[cfg(not(reprise_loom))]
            Held::Explore(object) => {
                explore::write_unlock(object, self.location);
                let lock = self.lock;
                lock.poison.release(
                    self.inner.take(),
                    || lock.inner.is_poisoned(),
                    || lock.inner.clear_poison(),
                );
            }
        }
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
        self.inner.as_deref().expect("a write guard is whole until downgraded")
    }
}

impl<T: ?Sized> DerefMut for RwLockWriteGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        self.inner.as_deref_mut().expect("a write guard is whole until downgraded")
    }
}

// loom's RwLock cannot downgrade.
#[cfg(not(reprise_loom))]
impl<'a, T: ?Sized> RwLockWriteGuard<'a, T> {
    /// Turns the write lock into a read lock without letting another writer
    /// in between. Like [`std::sync::RwLockWriteGuard::downgrade`]: readers
    /// waiting may proceed. Recorded as the write lock's release and a read
    /// lock that saw this write; replay and the explorer take it that way.
    /// Not under `--cfg reprise_loom` (loom's `RwLock` cannot downgrade),
    /// nor on compilers older than Rust 1.92 (std's has it since).
    #[track_caller]
    pub fn downgrade(s: Self) -> RwLockReadGuard<'a, T> {
        let location = Location::caller();
        let (lock, held) = (s.lock, s.held);
        let mut s = s;
        let inner = s.inner.take().expect("a write guard is whole until downgraded");
        // With `inner` gone, the write guard's drop records nothing.
        drop(s);
        let read = match held {
            Held::Off => std::sync::RwLockWriteGuard::downgrade(inner),
            Held::Record(object) => record::downgrade(lock, object, inner, location),
            Held::Gated => replay::downgrade(lock, inner, location),
            Held::Explore(object) => explore::downgrade(lock, object, inner, location),
        };
        RwLockReadGuard { lock, inner: read, held, location }
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

impl<T: ?Sized + fmt::Display> fmt::Display for RwLockReadGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Display> fmt::Display for RwLockWriteGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

impl<T> From<T> for RwLock<T> {
    #[track_caller]
    fn from(value: T) -> Self {
        RwLock::new(value)
    }
}

impl<T: Default> Default for RwLock<T> {
    #[track_caller]
    fn default() -> Self {
        RwLock::new(T::default())
    }
}

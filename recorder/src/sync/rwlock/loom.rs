//! The RwLock's inner lock under `--cfg reprise_loom`: loom's reader-writer
//! lock decides who holds it; a std `RwLock`, never contended by a writer,
//! holds the value. Its API is the part of std's the shell uses.

use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::{LockResult, PoisonError, TryLockError, TryLockResult};

use std::sync::atomic::AtomicBool;

use crate::sync::loom_failed::{refuse_poisoned, Blocking, PoisonMark};
use crate::sync::loom_lazy::Lazy;

/// A reader-writer lock checked by loom.
pub(crate) struct RwLock<T: ?Sized> {
    raw: Lazy<loom::sync::RwLock<()>>,
    /// Whether loom's lock is poisoned (see [`PoisonMark`]).
    raw_poisoned: AtomicBool,
    data: std::sync::RwLock<T>,
}

/// Shared access.
pub(crate) struct RwLockReadGuard<'a, T: ?Sized> {
    // Dropped before `_raw`: the value is let go before loom releases the lock.
    data: std::sync::RwLockReadGuard<'a, T>,
    _raw: loom::sync::RwLockReadGuard<'a, ()>,
}

/// Exclusive access.
pub(crate) struct RwLockWriteGuard<'a, T: ?Sized> {
    data: std::sync::RwLockWriteGuard<'a, T>,
    _raw: loom::sync::RwLockWriteGuard<'a, ()>,
    /// Dropped last, after loom's guard poisoned loom's lock if unwinding.
    _mark: PoisonMark<'a>,
}

impl<T> RwLock<T> {
    /// `const`, like the shell's; the loom lock is made on first use.
    pub(crate) const fn new(value: T) -> RwLock<T> {
        RwLock { raw: Lazy::new(), raw_poisoned: AtomicBool::new(false), data: std::sync::RwLock::new(value) }
    }

    /// Poisoned as std's: the value's std lock is, when a writer panicked
    /// (a panic caught inside the model).
    pub(crate) fn into_inner(self) -> LockResult<T> {
        self.data.into_inner()
    }
}

impl<T: ?Sized> RwLock<T> {
    #[track_caller]
    fn raw(&self) -> &loom::sync::RwLock<()> {
        self.raw.get("RwLock", || loom::sync::RwLock::new(()))
    }

    /// The guards, poisoned as std's when a writer panicked: the value's std
    /// lock, never contended (loom's is held), keeps the poison.
    fn read_guard<'a>(
        &'a self,
        raw: loom::sync::RwLockReadGuard<'a, ()>,
    ) -> LockResult<RwLockReadGuard<'a, T>> {
        match self.data.read() {
            Ok(data) => Ok(RwLockReadGuard { data, _raw: raw }),
            Err(poisoned) => {
                Err(PoisonError::new(RwLockReadGuard { data: poisoned.into_inner(), _raw: raw }))
            }
        }
    }

    fn write_guard<'a>(
        &'a self,
        raw: loom::sync::RwLockWriteGuard<'a, ()>,
    ) -> LockResult<RwLockWriteGuard<'a, T>> {
        match self.data.write() {
            Ok(data) => Ok(RwLockWriteGuard { data, _raw: raw, _mark: PoisonMark::new(&self.raw_poisoned) }),
            Err(poisoned) => Err(PoisonError::new(RwLockWriteGuard {
                data: poisoned.into_inner(),
                _raw: raw,
                _mark: PoisonMark::new(&self.raw_poisoned),
            })),
        }
    }

    /// A loom scheduling point.
    #[track_caller]
    pub(crate) fn read(&self) -> LockResult<RwLockReadGuard<'_, T>> {
        refuse_poisoned(&self.raw_poisoned, "RwLock");
        let _blocking = Blocking::enter();
        self.read_guard(self.raw().read().unwrap_or_else(PoisonError::into_inner))
    }

    /// A loom scheduling point.
    #[track_caller]
    pub(crate) fn write(&self) -> LockResult<RwLockWriteGuard<'_, T>> {
        refuse_poisoned(&self.raw_poisoned, "RwLock");
        let _blocking = Blocking::enter();
        self.write_guard(self.raw().write().unwrap_or_else(PoisonError::into_inner))
    }

    #[track_caller]
    pub(crate) fn try_read(&self) -> TryLockResult<RwLockReadGuard<'_, T>> {
        refuse_poisoned(&self.raw_poisoned, "RwLock");
        match self.raw().try_read() {
            Ok(raw) => Ok(self.read_guard(raw)?),
            Err(_) => Err(TryLockError::WouldBlock),
        }
    }

    #[track_caller]
    pub(crate) fn try_write(&self) -> TryLockResult<RwLockWriteGuard<'_, T>> {
        refuse_poisoned(&self.raw_poisoned, "RwLock");
        match self.raw().try_write() {
            Ok(raw) => Ok(self.write_guard(raw)?),
            Err(_) => Err(TryLockError::WouldBlock),
        }
    }

    /// Whether a writer panicked (inside a `catch_unwind` in the model: an
    /// uncaught panic ends it). Reads a std flag: no loom operation.
    pub(crate) fn is_poisoned(&self) -> bool {
        self.data.is_poisoned()
    }

    pub(crate) fn clear_poison(&self) {
        self.data.clear_poison();
    }

    pub(crate) fn get_mut(&mut self) -> LockResult<&mut T> {
        self.data.get_mut()
    }
}

impl<T: ?Sized> Deref for RwLockReadGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.data
    }
}

impl<T: ?Sized> Deref for RwLockWriteGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.data
    }
}

impl<T: ?Sized> DerefMut for RwLockWriteGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.data
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLock<T> {
    /// Shows the value without a loom operation (or `<locked>`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("RwLock");
        match self.data.try_read() {
            Ok(value) => d.field("data", &&*value),
            Err(_) => d.field("data", &format_args!("<locked>")),
        };
        d.finish_non_exhaustive()
    }
}

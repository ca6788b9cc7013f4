//! The RwLock's inner lock under `--cfg reprise_loom`: loom's reader-writer
//! lock decides who holds it; a std `RwLock`, never contended by a writer,
//! holds the value. Its API is the part of std's the shell uses.

use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::{LockResult, PoisonError, TryLockError, TryLockResult};

use crate::sync::loom_lazy::Lazy;

/// A reader-writer lock checked by loom.
pub(crate) struct RwLock<T: ?Sized> {
    raw: Lazy<loom::sync::RwLock<()>>,
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
}

impl<T> RwLock<T> {
    /// `const`, like the shell's; the loom lock is made on first use.
    pub(crate) const fn new(value: T) -> RwLock<T> {
        RwLock { raw: Lazy::new(), data: std::sync::RwLock::new(value) }
    }

    /// Never poisoned under loom: a panic ends the model first.
    pub(crate) fn into_inner(self) -> LockResult<T> {
        Ok(self.data.into_inner().unwrap_or_else(PoisonError::into_inner))
    }
}

impl<T: ?Sized> RwLock<T> {
    #[track_caller]
    fn raw(&self) -> &loom::sync::RwLock<()> {
        self.raw.get("RwLock", || loom::sync::RwLock::new(()))
    }

    fn read_guard<'a>(&'a self, raw: loom::sync::RwLockReadGuard<'a, ()>) -> RwLockReadGuard<'a, T> {
        RwLockReadGuard { data: self.data.read().unwrap_or_else(PoisonError::into_inner), _raw: raw }
    }

    fn write_guard<'a>(&'a self, raw: loom::sync::RwLockWriteGuard<'a, ()>) -> RwLockWriteGuard<'a, T> {
        RwLockWriteGuard { data: self.data.write().unwrap_or_else(PoisonError::into_inner), _raw: raw }
    }

    /// A loom scheduling point.
    #[track_caller]
    pub(crate) fn read(&self) -> LockResult<RwLockReadGuard<'_, T>> {
        Ok(self.read_guard(self.raw().read().unwrap_or_else(PoisonError::into_inner)))
    }

    /// A loom scheduling point.
    #[track_caller]
    pub(crate) fn write(&self) -> LockResult<RwLockWriteGuard<'_, T>> {
        Ok(self.write_guard(self.raw().write().unwrap_or_else(PoisonError::into_inner)))
    }

    #[track_caller]
    pub(crate) fn try_read(&self) -> TryLockResult<RwLockReadGuard<'_, T>> {
        match self.raw().try_read() {
            Ok(raw) => Ok(self.read_guard(raw)),
            Err(_) => Err(TryLockError::WouldBlock),
        }
    }

    #[track_caller]
    pub(crate) fn try_write(&self) -> TryLockResult<RwLockWriteGuard<'_, T>> {
        match self.raw().try_write() {
            Ok(raw) => Ok(self.write_guard(raw)),
            Err(_) => Err(TryLockError::WouldBlock),
        }
    }

    pub(crate) fn is_poisoned(&self) -> bool {
        false
    }

    /// Reports no poison (see `is_poisoned`), but clears the value's std
    /// lock's, which a panic under a guard would have set.
    pub(crate) fn clear_poison(&self) {
        self.data.clear_poison();
    }

    pub(crate) fn get_mut(&mut self) -> LockResult<&mut T> {
        Ok(self.data.get_mut().unwrap_or_else(PoisonError::into_inner))
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

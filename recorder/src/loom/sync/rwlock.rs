//! `RwLock` under loom: loom's reader-writer lock decides who holds it; a std
//! `RwLock`, never contended by a writer, holds the value.

use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::{LockResult, PoisonError, TryLockError, TryLockResult};

use crate::loom_execution::Lazy;

/// A reader-writer lock, model-checked by loom. Like [`std::sync::RwLock`].
pub struct RwLock<T: ?Sized> {
    raw: Lazy<loom::sync::RwLock<()>>,
    data: std::sync::RwLock<T>,
}

/// Shared access. Like [`std::sync::RwLockReadGuard`].
pub struct RwLockReadGuard<'a, T: ?Sized> {
    // Dropped before `_raw`: the value is let go before loom releases the lock.
    data: std::sync::RwLockReadGuard<'a, T>,
    _raw: loom::sync::RwLockReadGuard<'a, ()>,
}

/// Exclusive access. Like [`std::sync::RwLockWriteGuard`].
pub struct RwLockWriteGuard<'a, T: ?Sized> {
    data: std::sync::RwLockWriteGuard<'a, T>,
    _raw: loom::sync::RwLockWriteGuard<'a, ()>,
}

impl<T> RwLock<T> {
    /// A new unlocked lock. `const`, like reprise's; its loom lock is made on first use.
    pub const fn new(value: T) -> RwLock<T> {
        RwLock { raw: Lazy::new(), data: std::sync::RwLock::new(value) }
    }

    /// Consumes the lock, returning the value.
    ///
    /// # Errors
    ///
    /// Never under loom.
    pub fn into_inner(self) -> LockResult<T> {
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

    /// Takes shared access, blocking. Like [`std::sync::RwLock::read`].
    ///
    /// # Errors
    ///
    /// Never under loom.
    #[track_caller]
    pub fn read(&self) -> LockResult<RwLockReadGuard<'_, T>> {
        let raw = self.raw().read().unwrap_or_else(PoisonError::into_inner);
        Ok(self.read_guard(raw))
    }

    /// Takes exclusive access, blocking. Like [`std::sync::RwLock::write`].
    ///
    /// # Errors
    ///
    /// Never under loom.
    #[track_caller]
    pub fn write(&self) -> LockResult<RwLockWriteGuard<'_, T>> {
        let raw = self.raw().write().unwrap_or_else(PoisonError::into_inner);
        Ok(self.write_guard(raw))
    }

    /// Takes shared access if no writer holds the lock. Like
    /// [`std::sync::RwLock::try_read`].
    ///
    /// # Errors
    ///
    /// [`TryLockError::WouldBlock`] when a writer holds it.
    #[track_caller]
    pub fn try_read(&self) -> TryLockResult<RwLockReadGuard<'_, T>> {
        match self.raw().try_read() {
            Ok(raw) => Ok(self.read_guard(raw)),
            Err(_) => Err(TryLockError::WouldBlock),
        }
    }

    /// Takes exclusive access if the lock is free. Like
    /// [`std::sync::RwLock::try_write`].
    ///
    /// # Errors
    ///
    /// [`TryLockError::WouldBlock`] when another thread holds it.
    #[track_caller]
    pub fn try_write(&self) -> TryLockResult<RwLockWriteGuard<'_, T>> {
        match self.raw().try_write() {
            Ok(raw) => Ok(self.write_guard(raw)),
            Err(_) => Err(TryLockError::WouldBlock),
        }
    }

    /// Whether a writer panicked: never under loom.
    pub fn is_poisoned(&self) -> bool {
        false
    }

    /// The value, through a unique borrow (no locking).
    ///
    /// # Errors
    ///
    /// Never under loom.
    pub fn get_mut(&mut self) -> LockResult<&mut T> {
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

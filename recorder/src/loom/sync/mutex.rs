//! `Mutex` under loom: loom's mutex decides who holds the lock (and so which
//! interleavings are explored); a std mutex, never contended, holds the value.

use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::{LockResult, PoisonError, TryLockError, TryLockResult};

use crate::loom_execution::Lazy;

/// A mutual exclusion lock, model-checked by loom. Like [`std::sync::Mutex`].
pub struct Mutex<T: ?Sized> {
    raw: Lazy<loom::sync::Mutex<()>>,
    data: std::sync::Mutex<T>,
}

/// The lock, held. Like [`std::sync::MutexGuard`].
pub struct MutexGuard<'a, T: ?Sized> {
    pub(super) mutex: &'a Mutex<T>,
    // Declared before `raw`, so dropped first: the value is let go before
    // loom lets another thread take the lock.
    pub(super) data: std::sync::MutexGuard<'a, T>,
    pub(super) raw: loom::sync::MutexGuard<'a, ()>,
}

impl<T> Mutex<T> {
    /// A new unlocked mutex. `const`, like reprise's; its loom mutex is made
    /// on first use, so create the mutex inside the model, not in a `static`
    /// (a second execution using it panics and says so).
    pub const fn new(value: T) -> Mutex<T> {
        Mutex { raw: Lazy::new(), data: std::sync::Mutex::new(value) }
    }

    /// Consumes the mutex, returning the value.
    ///
    /// # Errors
    ///
    /// Never under loom (a panic ends the model before anyone sees a poisoned lock).
    pub fn into_inner(self) -> LockResult<T> {
        Ok(self.data.into_inner().unwrap_or_else(PoisonError::into_inner))
    }
}

impl<T: ?Sized> Mutex<T> {
    #[track_caller]
    pub(super) fn raw(&self) -> &loom::sync::Mutex<()> {
        self.raw.get("Mutex", || loom::sync::Mutex::new(()))
    }

    pub(super) fn data(&self) -> std::sync::MutexGuard<'_, T> {
        self.data.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Takes the lock, blocking: a loom scheduling point. Like [`std::sync::Mutex::lock`].
    ///
    /// # Errors
    ///
    /// Never under loom.
    #[track_caller]
    pub fn lock(&self) -> LockResult<MutexGuard<'_, T>> {
        let raw = self.raw().lock().unwrap_or_else(PoisonError::into_inner);
        Ok(MutexGuard { mutex: self, data: self.data(), raw })
    }

    /// Takes the lock if it is free. Like [`std::sync::Mutex::try_lock`].
    ///
    /// # Errors
    ///
    /// [`TryLockError::WouldBlock`] when another thread holds it.
    #[track_caller]
    pub fn try_lock(&self) -> TryLockResult<MutexGuard<'_, T>> {
        match self.raw().try_lock() {
            Ok(raw) => Ok(MutexGuard { mutex: self, data: self.data(), raw }),
            Err(_) => Err(TryLockError::WouldBlock),
        }
    }

    /// Whether a holder panicked: never under loom.
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

impl<T: ?Sized> Deref for MutexGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.data
    }
}

impl<T: ?Sized> DerefMut for MutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.data
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
    /// Shows the value without a loom operation (or `<locked>`), so printing
    /// does not add scheduling points.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Mutex");
        match self.data.try_lock() {
            Ok(value) => d.field("data", &&*value),
            Err(_) => d.field("data", &format_args!("<locked>")),
        };
        d.finish_non_exhaustive()
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

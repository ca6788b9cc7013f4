//! The mutex's inner lock under `--cfg reprise_loom`: loom's mutex decides
//! who holds the lock (and so which interleavings are explored); a std
//! mutex, never contended, holds the value. Its API is the part of std's the
//! shell uses, so the shell's passthrough is the same code in both builds.

use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::{LockResult, PoisonError, TryLockError, TryLockResult};

use std::sync::atomic::AtomicBool;

use crate::sync::loom_failed::{refuse_poisoned, Blocking, PoisonMark};
use crate::sync::loom_lazy::Lazy;

/// A mutex checked by loom.
pub(crate) struct Mutex<T: ?Sized> {
    raw: Lazy<loom::sync::Mutex<()>>,
    /// Whether loom's mutex is poisoned (see [`PoisonMark`]).
    raw_poisoned: AtomicBool,
    data: std::sync::Mutex<T>,
}

/// The lock, held.
pub(crate) struct MutexGuard<'a, T: ?Sized> {
    mutex: &'a Mutex<T>,
    // Declared before `raw`, so dropped first: the value is let go before
    // loom lets another thread take the lock.
    data: std::sync::MutexGuard<'a, T>,
    raw: loom::sync::MutexGuard<'a, ()>,
    /// Dropped last, after loom's guard poisoned loom's mutex if unwinding.
    mark: PoisonMark<'a>,
}

impl<T> Mutex<T> {
    /// `const`, like the shell's; the loom mutex is made on first use.
    pub(crate) const fn new(value: T) -> Mutex<T> {
        Mutex { raw: Lazy::new(), raw_poisoned: AtomicBool::new(false), data: std::sync::Mutex::new(value) }
    }

    /// Poisoned as std's: the value's std lock is, when a holder panicked
    /// (a panic caught inside the model).
    pub(crate) fn into_inner(self) -> LockResult<T> {
        self.data.into_inner()
    }
}

impl<T: ?Sized> Mutex<T> {
    #[track_caller]
    fn raw(&self) -> &loom::sync::Mutex<()> {
        self.raw.get("Mutex", || loom::sync::Mutex::new(()))
    }

    /// The guard, poisoned as std's when a holder panicked: the value's std
    /// lock, never contended (loom's is held), keeps the poison.
    fn guard<'a>(&'a self, raw: loom::sync::MutexGuard<'a, ()>) -> LockResult<MutexGuard<'a, T>> {
        match self.data.lock() {
            Ok(data) => Ok(MutexGuard { mutex: self, data, raw, mark: self.mark() }),
            Err(poisoned) => Err(PoisonError::new(MutexGuard {
                mutex: self,
                data: poisoned.into_inner(),
                raw,
                mark: self.mark(),
            })),
        }
    }

    fn mark(&self) -> PoisonMark<'_> {
        PoisonMark::new(&self.raw_poisoned)
    }

    /// Whether loom's mutex is poisoned, for a condvar wait to say so.
    pub(crate) fn raw_poisoned(&self) -> &AtomicBool {
        &self.raw_poisoned
    }

    /// A loom scheduling point.
    #[track_caller]
    pub(crate) fn lock(&self) -> LockResult<MutexGuard<'_, T>> {
        refuse_poisoned(&self.raw_poisoned, "Mutex");
        let _blocking = Blocking::enter();
        self.guard(self.raw().lock().unwrap_or_else(PoisonError::into_inner))
    }

    #[track_caller]
    pub(crate) fn try_lock(&self) -> TryLockResult<MutexGuard<'_, T>> {
        refuse_poisoned(&self.raw_poisoned, "Mutex");
        match self.raw().try_lock() {
            Ok(raw) => Ok(self.guard(raw)?),
            Err(_) => Err(TryLockError::WouldBlock),
        }
    }

    /// Whether a holder panicked (inside a `catch_unwind` in the model: an
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

impl<'a, T: ?Sized> MutexGuard<'a, T> {
    /// Gives the value back and keeps loom's half, for a condvar wait.
    pub(crate) fn into_raw(self) -> (&'a Mutex<T>, loom::sync::MutexGuard<'a, ()>) {
        let MutexGuard { mutex, data, raw, mark } = self;
        drop(data);
        std::mem::forget(mark);
        (mutex, raw)
    }

    /// The guard again, once a condvar wait gave loom's half back (poisoned
    /// as std's when a holder panicked meanwhile).
    pub(crate) fn from_raw(mutex: &'a Mutex<T>, raw: loom::sync::MutexGuard<'a, ()>) -> LockResult<Self> {
        mutex.guard(raw)
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

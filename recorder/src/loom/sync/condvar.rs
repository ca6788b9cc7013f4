//! `Condvar` under loom: loom's condvar, waited on with the loom half of a
//! reprise [`MutexGuard`].
//!
//! A timed wait times out at once (after letting the other threads run), the
//! same rule as the loom channel's `recv_timeout`: loom has no time, and a
//! wait that never timed out could make loom report a deadlock that a real
//! timeout would end. So `wait_timeout` always returns `timed_out() == true`
//! and never consumes a notification: a caller that re-checks its condition
//! after a timeout (as it must) is explored correctly, but the schedules in
//! which a notification wakes this very waiter instead of another one are not.

use std::fmt;
use std::sync::{LockResult, PoisonError};
use std::time::Duration;

use super::mutex::MutexGuard;
use crate::loom_execution::Lazy;

/// A condition variable, model-checked by loom. Like [`std::sync::Condvar`].
pub struct Condvar {
    inner: Lazy<loom::sync::Condvar>,
}

/// Whether a timed wait timed out. Like [`std::sync::WaitTimeoutResult`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WaitTimeoutResult(bool);

impl WaitTimeoutResult {
    /// Whether the wait timed out: always, under loom (see the module docs).
    pub fn timed_out(&self) -> bool {
        self.0
    }
}

impl Condvar {
    /// A new condvar. `const`, like reprise's; its loom condvar is made on first use.
    pub const fn new() -> Condvar {
        Condvar { inner: Lazy::new() }
    }

    #[track_caller]
    fn inner(&self) -> &loom::sync::Condvar {
        self.inner.get("Condvar", loom::sync::Condvar::new)
    }

    /// Waits for a notification. Like [`std::sync::Condvar::wait`].
    ///
    /// # Errors
    ///
    /// Never under loom.
    #[track_caller]
    pub fn wait<'a, T>(&self, guard: MutexGuard<'a, T>) -> LockResult<MutexGuard<'a, T>> {
        let MutexGuard { mutex, data, raw } = guard;
        drop(data);
        let raw = self.inner().wait(raw).unwrap_or_else(PoisonError::into_inner);
        Ok(MutexGuard { mutex, data: mutex.data(), raw })
    }

    /// Waits while `condition` holds. Like [`std::sync::Condvar::wait_while`].
    ///
    /// # Errors
    ///
    /// Never under loom.
    #[track_caller]
    pub fn wait_while<'a, T, F>(
        &self,
        mut guard: MutexGuard<'a, T>,
        mut condition: F,
    ) -> LockResult<MutexGuard<'a, T>>
    where
        F: FnMut(&mut T) -> bool,
    {
        while condition(&mut *guard) {
            guard = self.wait(guard)?;
        }
        Ok(guard)
    }

    /// Releases the lock, lets the other threads run, takes the lock again
    /// and reports a timeout (see the module docs). Like
    /// [`std::sync::Condvar::wait_timeout`].
    ///
    /// # Errors
    ///
    /// Never under loom.
    #[track_caller]
    pub fn wait_timeout<'a, T>(
        &self,
        guard: MutexGuard<'a, T>,
        _timeout: Duration,
    ) -> LockResult<(MutexGuard<'a, T>, WaitTimeoutResult)> {
        let mutex = guard.mutex;
        drop(guard);
        loom::thread::yield_now();
        let guard = mutex.lock().unwrap_or_else(PoisonError::into_inner);
        Ok((guard, WaitTimeoutResult(true)))
    }

    /// Wakes one waiter. Like [`std::sync::Condvar::notify_one`].
    #[track_caller]
    pub fn notify_one(&self) {
        self.inner().notify_one();
    }

    /// Wakes every waiter. Like [`std::sync::Condvar::notify_all`].
    #[track_caller]
    pub fn notify_all(&self) {
        self.inner().notify_all();
    }
}

impl Default for Condvar {
    fn default() -> Self {
        Condvar::new()
    }
}

impl fmt::Debug for Condvar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Condvar").finish_non_exhaustive()
    }
}

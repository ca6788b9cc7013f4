//! The condvar's inner condvar under `--cfg reprise_loom`: loom's, waited on
//! with loom's half of the inner mutex guard, behind the part of std's API
//! the shell's passthrough (`off.rs`) uses.
//!
//! A timed wait times out at once, after letting the other threads run (the
//! same rule as the loom channel's `recv_timeout`): loom has no time, and a
//! wait that never timed out could make loom report a deadlock that a real
//! timeout would end. It never consumes a notification, so a caller that
//! re-checks its condition after a timeout (as it must) is explored
//! correctly, but the schedules in which a notification wakes this very
//! waiter instead of another one are not.

use std::panic::{self, AssertUnwindSafe};
use std::sync::{LockResult, PoisonError};
use std::time::Duration;

use crate::sync::loom_failed::{refuse_poisoned, Blocking};
use crate::sync::loom_lazy::Lazy;
use crate::sync::mutex::InnerGuard;

/// A condvar checked by loom.
pub(crate) struct Condvar {
    inner: Lazy<loom::sync::Condvar>,
}

/// Whether a timed wait timed out: always, under loom.
pub(crate) struct WaitTimeoutResult;

impl WaitTimeoutResult {
    pub(crate) fn timed_out(&self) -> bool {
        true
    }
}

impl Condvar {
    /// `const`, like the shell's; the loom condvar is made on first use.
    pub(crate) const fn new() -> Condvar {
        Condvar { inner: Lazy::new() }
    }

    #[track_caller]
    fn inner(&self) -> &loom::sync::Condvar {
        self.inner.get("Condvar", loom::sync::Condvar::new)
    }

    #[track_caller]
    pub(crate) fn wait<'a, T>(&self, guard: InnerGuard<'a, T>) -> LockResult<InnerGuard<'a, T>> {
        let _blocking = Blocking::enter();
        let (mutex, raw) = guard.into_raw();
        // loom relocks its mutex inside `wait`, and panics there if a panic
        // under the mutex's guard was caught meanwhile: say why instead.
        let raw = match panic::catch_unwind(AssertUnwindSafe(|| self.inner().wait(raw))) {
            Ok(raw) => raw.unwrap_or_else(PoisonError::into_inner),
            Err(payload) => {
                refuse_poisoned(mutex.raw_poisoned(), "Mutex");
                panic::resume_unwind(payload)
            }
        };
        InnerGuard::from_raw(mutex, raw)
    }

    #[track_caller]
    pub(crate) fn wait_timeout<'a, T>(
        &self,
        guard: InnerGuard<'a, T>,
        _timeout: Duration,
    ) -> LockResult<(InnerGuard<'a, T>, WaitTimeoutResult)> {
        let (mutex, raw) = guard.into_raw();
        drop(raw);
        loom::thread::yield_now();
        match mutex.lock() {
            Ok(guard) => Ok((guard, WaitTimeoutResult)),
            Err(poisoned) => Err(PoisonError::new((poisoned.into_inner(), WaitTimeoutResult))),
        }
    }

    #[track_caller]
    pub(crate) fn notify_one(&self) {
        self.inner().notify_one();
    }

    #[track_caller]
    pub(crate) fn notify_all(&self) {
        self.inner().notify_all();
    }
}

//! `Condvar`: a wait records the mutex's re-acquisition number and whether it
//! timed out. Replay never waits on the real condvar (which `notify_one` woke
//! whom is schedule-dependent): it releases the mutex and takes the recorded
//! turn.
//!
//! This file is the std-shaped shell; the backends are `record.rs`,
//! `replay.rs`, `explore.rs` and `off.rs` (passthrough). Under
//! `--cfg reprise_loom` the inner condvar is loom's (`loom.rs`).

#[cfg(not(reprise_loom))]
mod explore;
#[cfg(reprise_loom)]
mod loom;
mod off;
#[cfg(not(reprise_loom))]
mod record;
#[cfg(not(reprise_loom))]
mod replay;

use std::fmt;
use std::panic::Location;
#[cfg(not(reprise_loom))]
use std::sync::OnceLock;
use std::sync::{LockResult, PoisonError};
use std::time::Duration;

#[cfg(not(reprise_loom))]
use crate::rt::exec::Progress;
use crate::rt::mode::{self, Mode};
#[cfg(not(reprise_loom))]
use crate::rt::object::ObjectSlot;
use crate::sync::mutex::{Held, MutexGuard};

#[cfg(reprise_loom)]
use self::loom::Condvar as InnerCondvar;
#[cfg(not(reprise_loom))]
use std::sync::Condvar as InnerCondvar;

/// A condition variable. Like [`std::sync::Condvar`].
pub struct Condvar {
    #[cfg(not(reprise_loom))]
    slot: ObjectSlot,
    inner: InnerCondvar,
    /// Notifications, counted in closed-world recordings for the deadlock
    /// monitor; made on first use, so that `new` stays `const`.
    #[cfg(not(reprise_loom))]
    progress: OnceLock<Progress>,
}

/// Whether a timed wait timed out. Like [`std::sync::WaitTimeoutResult`]
/// (whose fields are private to std, hence this type).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WaitTimeoutResult(bool);

crate::named::nameable!([] Condvar, Condvar, |c| c.slot);

impl WaitTimeoutResult {
    /// Whether the wait timed out. Under loom, always: a timed wait lets the
    /// other threads run and then times out (loom has no time, and a wait
    /// that never timed out could make loom report a deadlock that a real
    /// timeout would end).
    pub fn timed_out(&self) -> bool {
        self.0
    }
}

impl Condvar {
    /// A new condvar. `const`, so it can live in a `static` (under loom,
    /// create it inside the model).
    #[track_caller]
    pub const fn new() -> Condvar {
        Condvar {
            #[cfg(not(reprise_loom))]
            slot: ObjectSlot::here(),
            inner: InnerCondvar::new(),
            #[cfg(not(reprise_loom))]
            progress: OnceLock::new(),
        }
    }

    /// Waits for a notification. Like [`std::sync::Condvar::wait`].
    ///
    /// # Errors
    ///
    /// When the mutex is poisoned, as std's.
    #[track_caller]
    pub fn wait<'a, T>(&self, guard: MutexGuard<'a, T>) -> LockResult<MutexGuard<'a, T>> {
        let (result, _) = self.wait_inner(guard, None, Location::caller());
        result
    }

    /// Waits while `condition` holds. Like [`std::sync::Condvar::wait_while`].
    ///
    /// # Errors
    ///
    /// When the mutex is poisoned, as std's.
    #[track_caller]
    pub fn wait_while<'a, T, F>(
        &self,
        mut guard: MutexGuard<'a, T>,
        mut condition: F,
    ) -> LockResult<MutexGuard<'a, T>>
    where
        F: FnMut(&mut T) -> bool,
    {
        let location = Location::caller();
        while condition(&mut *guard) {
            guard = self.wait_inner(guard, None, location).0?;
        }
        Ok(guard)
    }

    /// Waits for a notification or the timeout. Like
    /// [`std::sync::Condvar::wait_timeout`]. In replay, a recorded timeout
    /// returns at once; under loom, every timed wait times out after letting
    /// the other threads run (see [`WaitTimeoutResult::timed_out`]).
    ///
    /// # Errors
    ///
    /// When the mutex is poisoned, as std's.
    #[track_caller]
    pub fn wait_timeout<'a, T>(
        &self,
        guard: MutexGuard<'a, T>,
        timeout: Duration,
    ) -> LockResult<(MutexGuard<'a, T>, WaitTimeoutResult)> {
        let (result, timed_out) = self.wait_inner(guard, Some(timeout), Location::caller());
        let timed_out = WaitTimeoutResult(timed_out);
        match result {
            Ok(guard) => Ok((guard, timed_out)),
            Err(p) => Err(PoisonError::new((p.into_inner(), timed_out))),
        }
    }

    /// Waits while `condition` holds, at most `timeout` in all. Like
    /// [`std::sync::Condvar::wait_timeout_while`]. The time left after a
    /// wake-up is read from reprise's clock ([`crate::time::now`]), recorded
    /// and replayed like the waits; the result says whether it timed out with
    /// `condition` still true.
    ///
    /// # Errors
    ///
    /// When the mutex is poisoned, as std's.
    #[track_caller]
    pub fn wait_timeout_while<'a, T, F>(
        &self,
        mut guard: MutexGuard<'a, T>,
        timeout: Duration,
        mut condition: F,
    ) -> LockResult<(MutexGuard<'a, T>, WaitTimeoutResult)>
    where
        F: FnMut(&mut T) -> bool,
    {
        let location = Location::caller();
        let start = crate::time::now();
        let mut timed_out = false;
        loop {
            if !condition(&mut *guard) {
                return Ok((guard, WaitTimeoutResult(false)));
            }
            // After a timed-out wait, as std: the time is up.
            let left = if timed_out {
                None
            } else {
                timeout.checked_sub(crate::time::now().saturating_duration_since(start))
            };
            let Some(left) = left else {
                return Ok((guard, WaitTimeoutResult(true)));
            };
            let (result, out) = self.wait_inner(guard, Some(left), location);
            timed_out = out;
            guard = match result {
                Ok(guard) => guard,
                Err(p) => return Err(PoisonError::new((p.into_inner(), WaitTimeoutResult(timed_out)))),
            };
        }
    }

    #[cfg_attr(reprise_loom, allow(unused_variables))]
    fn wait_inner<'a, T>(
        &self,
        mut guard: MutexGuard<'a, T>,
        timeout: Option<Duration>,
        location: &'static Location<'static>,
    ) -> (LockResult<MutexGuard<'a, T>>, bool) {
        let inner = guard.inner.take().expect("condvar wait on a guard already waiting");
        // A guard taken in passthrough is waited on in passthrough, whatever
        // the thread's mode is now.
        let mode = if guard.held == Held::Off { Mode::Off } else { mode::mode() };
        let (result, timed_out) = match (mode, guard.held) {
            #[cfg(not(reprise_loom))]
            (Mode::Record, Held::Record(mutex)) => {
                record::wait(self, guard.mutex, mutex, inner, timeout, location)
            }
            #[cfg(not(reprise_loom))]
            (Mode::Gated, Held::Gated) => replay::wait(self, guard.mutex, inner, location),
            #[cfg(not(reprise_loom))]
            (Mode::Coop, Held::Explore(mutex)) => {
                explore::wait(self, guard.mutex, mutex, inner, timeout, location)
            }
            _ => {
                // In a coroutine run's teardown the notifier is another
                // thread of that run, never resumed (see `sync::passthrough`).
                crate::sync::passthrough::contended();
                off::wait(&self.inner, inner, timeout)
            }
        };
        let poisoned = result.is_err();
        guard.inner = Some(result.unwrap_or_else(|g| g));
        if poisoned {
            (Err(PoisonError::new(guard)), timed_out)
        } else {
            (Ok(guard), timed_out)
        }
    }

    /// Wakes one waiter. Like [`std::sync::Condvar::notify_one`].
    #[track_caller]
    pub fn notify_one(&self) {
        self.notify(false, Location::caller());
    }

    /// Wakes all waiters. Like [`std::sync::Condvar::notify_all`].
    #[track_caller]
    pub fn notify_all(&self) {
        self.notify(true, Location::caller());
    }

    #[cfg_attr(reprise_loom, allow(unused_variables))]
    fn notify(&self, all: bool, location: &'static Location<'static>) {
        match mode::mode() {
            Mode::Off => off::notify(&self.inner, all),
            #[cfg(not(reprise_loom))]
            Mode::Record => record::notify(self, all, location),
            #[cfg(not(reprise_loom))]
            Mode::Gated => replay::notify(self, all, location),
            #[cfg(not(reprise_loom))]
            Mode::Coop => explore::notify(self, all, location),
        }
    }
}

impl Default for Condvar {
    #[track_caller]
    fn default() -> Self {
        Condvar::new()
    }
}

impl fmt::Debug for Condvar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Condvar { .. }")
    }
}

//! `Condvar`: a wait records the mutex's re-acquisition number and whether it
//! timed out. Replay never waits on the real condvar (which `notify_one` woke
//! whom is schedule-dependent): it releases the mutex and takes the recorded
//! turn.

use std::fmt;
use std::panic::Location;
use std::sync::{LockResult, OnceLock, PoisonError};
use std::time::Duration;

use crate::rt::context::{self, Mode};
use crate::rt::coop::{self, Resource, Woken};
use crate::rt::exec::{self, Progress, ProgressMark};
use crate::rt::gate::{Happened, TurnClass, WaitFor};
use crate::rt::gated;
use crate::rt::object::ObjectSlot;
use crate::sync::mutex::{Held, MutexGuard};
use crate::trace::model::{ObjectKind, Op};

/// A condition variable. Like [`std::sync::Condvar`].
pub struct Condvar {
    slot: ObjectSlot,
    inner: std::sync::Condvar,
    /// Notifications, counted in closed-world recordings for the deadlock
    /// monitor; made on first use, so that `new` stays `const`.
    progress: OnceLock<Progress>,
}

/// Whether a timed wait timed out. Like [`std::sync::WaitTimeoutResult`]
/// (whose fields are private to std, hence this type).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WaitTimeoutResult(bool);

impl WaitTimeoutResult {
    /// Whether the wait timed out.
    pub fn timed_out(&self) -> bool {
        self.0
    }
}

impl Condvar {
    /// A new condvar. `const`, so it can live in a `static`.
    pub const fn new() -> Condvar {
        Condvar { slot: ObjectSlot::new(), inner: std::sync::Condvar::new(), progress: OnceLock::new() }
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
    /// returns at once.
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

    fn wait_inner<'a, T>(
        &self,
        mut guard: MutexGuard<'a, T>,
        timeout: Option<Duration>,
        location: &'static Location<'static>,
    ) -> (LockResult<MutexGuard<'a, T>>, bool) {
        let inner = guard.inner.take().expect("condvar wait on a guard already waiting");
        let real_wait = |inner| match timeout {
            None => match self.inner.wait(inner) {
                Ok(g) => (Ok(g), false),
                Err(p) => (Err(p.into_inner()), false),
            },
            Some(t) => match self.inner.wait_timeout(inner, t) {
                Ok((g, r)) => (Ok(g), r.timed_out()),
                Err(p) => {
                    let (g, r) = p.into_inner();
                    (Err(g), r.timed_out())
                }
            },
        };
        let mode = if guard.held == Held::Off { Mode::Off } else { context::mode() };
        let (result, timed_out) = match (mode, guard.held) {
            (Mode::Record, Held::Record(mutex)) => {
                let object = context::with(|ctx| {
                    let object = ctx.object(&self.slot, ObjectKind::Condvar, location);
                    // Read while the mutex is still held, before the wait:
                    // a notification that can wake this wait comes later.
                    let mark = ctx.exec.closed_world.then(|| ProgressMark::read(self.progress()));
                    ctx.shared.release(mutex);
                    ctx.block_marked(Op::CondWait, mutex, location, timeout.is_some(), mark);
                    object
                });
                let (result, timed_out) = real_wait(inner);
                let n = guard.mutex.next_acquisition();
                context::with(|ctx| {
                    ctx.unblock();
                    ctx.shared.hold(mutex);
                    ctx.record(Op::CondWait, object, location, [n, u64::from(timed_out), u64::from(mutex)]);
                });
                (result, timed_out)
            }
            (Mode::Coop, Held::Record(mutex)) => {
                let object = coop::switch_on(&self.slot, ObjectKind::Condvar, Op::CondWait, location);
                // Release the mutex, wait to be notified (or for the virtual
                // deadline), then take the mutex again: all in the scheduler.
                drop(inner);
                context::with(|ctx| ctx.shared.release(mutex));
                coop::scheduler().lock_held(mutex, false);
                coop::wake(Resource::Object(mutex), true);
                let deadline = timeout.map(|t| coop::now().saturating_add(t.as_nanos() as u64));
                let woken =
                    coop::block(&[Resource::Object(object)], deadline, Op::CondWait, Some(object), location);
                let timed_out = woken == Woken::TimedOut;
                let result =
                    guard.mutex.acquire_coop(mutex, Op::CondWait, location).map_err(|p| p.into_inner());
                let n = guard.mutex.next_acquisition();
                context::with(|ctx| {
                    ctx.shared.hold(mutex);
                    ctx.record(Op::CondWait, object, location, [n, u64::from(timed_out), u64::from(mutex)]);
                });
                coop::scheduler().lock_held(mutex, true);
                (result, timed_out)
            }
            (Mode::Gated, Held::Gated) => {
                // The wait gives the mutex up first, as it did in the
                // recording: a thread parked here (a recorded deadlock on a
                // condvar nobody notifies) must not keep others from it.
                drop(inner);
                match gated::begin(Op::CondWait, Some((&self.slot, ObjectKind::Condvar)), location) {
                    Some(call) => {
                        let mutex = call.event.c as u32;
                        call.wait(WaitFor::Turn {
                            object: mutex,
                            class: TurnClass::Lock,
                            number: call.event.a,
                        });
                        let result = guard.mutex.inner.lock().map_err(|p| p.into_inner());
                        call.happened(Happened::Turn { object: mutex, class: TurnClass::Lock });
                        (result, call.event.b != 0)
                    }
                    None => (guard.mutex.inner.lock().map_err(|p| p.into_inner()), false),
                }
            }
            _ => real_wait(inner),
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
        let counted = self.notify(0, Location::caller());
        self.inner.notify_one();
        if counted {
            exec::bump(self.progress());
        }
    }

    /// Wakes all waiters. Like [`std::sync::Condvar::notify_all`].
    #[track_caller]
    pub fn notify_all(&self) {
        let counted = self.notify(1, Location::caller());
        self.inner.notify_all();
        if counted {
            exec::bump(self.progress());
        }
    }

    fn progress(&self) -> &Progress {
        self.progress.get_or_init(Progress::default)
    }

    /// Records or replays a notification; returns whether it must also be
    /// counted (a closed-world recording), once it took effect.
    fn notify(&self, all: u64, location: &'static Location<'static>) -> bool {
        match context::mode() {
            Mode::Off => false,
            Mode::Record => context::with(|ctx| {
                let object = ctx.object(&self.slot, ObjectKind::Condvar, location);
                ctx.record(Op::Notify, object, location, [all, 0, 0]);
                ctx.exec.closed_world
            }),
            Mode::Gated => {
                gated::begin(Op::Notify, Some((&self.slot, ObjectKind::Condvar)), location);
                false
            }
            Mode::Coop => {
                let object = coop::switch_on(&self.slot, ObjectKind::Condvar, Op::Notify, location);
                context::with(|ctx| ctx.record(Op::Notify, object, location, [all, 0, 0]));
                // Which waiter notify_one wakes is the scheduler's choice.
                coop::wake(Resource::Object(object), all == 1);
                false
            }
        }
    }
}

impl Default for Condvar {
    fn default() -> Self {
        Condvar::new()
    }
}

impl fmt::Debug for Condvar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Condvar { .. }")
    }
}

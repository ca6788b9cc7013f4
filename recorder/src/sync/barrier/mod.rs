//! `Barrier`: threads wait until `n` of them arrived, built on reprise's own
//! `Mutex` and `Condvar`.
//!
//! It has no backend file per mode because it needs none: every mode's
//! behaviour comes from the mutex and condvar, which have theirs. The leader
//! is the thread whose arrival completes the group, so which thread leads is
//! the order of the mutex's acquisitions: recorded, and replayed exactly. A
//! waiting thread waits on the condvar, so under the explorer it is a blocked
//! coroutine (never an OS thread blocked under the scheduler), and under
//! `--cfg reprise_loom` the same code runs on loom's mutex and condvar (create
//! the barrier inside the model).

use std::fmt;
use std::sync::PoisonError;

use crate::sync::{Condvar, Mutex};

/// Arrivals in the current group, guarded by [`Barrier::state`].
struct Arrivals {
    count: usize,
    /// Which group is gathering; a waiter leaves once it changes, so a
    /// spurious wakeup (or a fast thread already in the next group) does not
    /// release it early.
    generation: u64,
}

/// A barrier for `n` threads. Like [`std::sync::Barrier`].
pub struct Barrier {
    state: Mutex<Arrivals>,
    released: Condvar,
    n: usize,
}

/// What [`Barrier::wait`] tells a thread. Like
/// [`std::sync::BarrierWaitResult`] (whose fields are private to std, hence
/// this type).
pub struct BarrierWaitResult {
    leader: bool,
}

impl BarrierWaitResult {
    /// Whether this thread completed the group (exactly one per group).
    /// Like [`std::sync::BarrierWaitResult::is_leader`].
    pub fn is_leader(&self) -> bool {
        self.leader
    }
}

impl Barrier {
    /// A barrier that releases threads `n` at a time (`0` and `1`: each
    /// thread alone). `const`, so it can live in a `static` (under loom,
    /// create it inside the model).
    pub const fn new(n: usize) -> Barrier {
        Barrier { state: Mutex::new(Arrivals { count: 0, generation: 0 }), released: Condvar::new(), n }
    }

    /// Blocks until `n` threads have called `wait`, then releases them all.
    /// Like [`std::sync::Barrier::wait`].
    #[track_caller]
    pub fn wait(&self) -> BarrierWaitResult {
        let mut arrivals = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        arrivals.count += 1;
        if arrivals.count < self.n {
            let generation = arrivals.generation;
            while arrivals.generation == generation {
                arrivals = self.released.wait(arrivals).unwrap_or_else(PoisonError::into_inner);
            }
            return BarrierWaitResult { leader: false };
        }
        arrivals.count = 0;
        arrivals.generation = arrivals.generation.wrapping_add(1);
        self.released.notify_all();
        BarrierWaitResult { leader: true }
    }
}

impl fmt::Debug for Barrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Barrier").finish_non_exhaustive()
    }
}

impl fmt::Debug for BarrierWaitResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BarrierWaitResult").field("is_leader", &self.leader).finish()
    }
}

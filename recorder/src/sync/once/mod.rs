//! `Once`: one-time initialization, built on reprise's own `Mutex`,
//! `Condvar` and `AtomicBool`.
//!
//! It has no backend file per mode because it needs none: each mode's
//! behaviour comes from the primitives it is made of, which have theirs.
//! Which thread runs the initializer is decided by the order of the state
//! mutex's acquisitions, recorded and replayed like any lock; a thread that
//! finds the initializer running waits on the condvar (a blocked coroutine
//! under the explorer, never a spinning OS thread); and "is it done?" is a
//! recorded load of the completion flag, so a thread that saw the value ready
//! in the recording sees it ready at the same point of the replay (the load
//! waits for the store it read), and one that did not, does not. Under
//! `--cfg reprise_loom` the same code runs on loom's mutex, condvar and
//! atomic, so loom explores who initializes; create it inside the model.

use std::fmt;
use std::sync::PoisonError;

#[cfg(not(reprise_loom))]
use crate::sync::atomic::{AtomicBool, Ordering};
use crate::sync::{Condvar, Mutex, MutexGuard};

/// Where the initialization is; guarded by [`Once::state`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum State {
    Incomplete,
    Running,
    /// An initializer panicked.
    Poisoned,
    Complete,
}

/// One-time initialization. Like [`std::sync::Once`].
pub struct Once {
    /// Set once the initializer returned: the fast path's recorded load.
    /// Not under loom, where a loom atomic made lazily by one thread and
    /// loaded by another that does not happen after it is a causality
    /// violation; there the state is read under the mutex instead.
    #[cfg(not(reprise_loom))]
    done: AtomicBool,
    state: Mutex<State>,
    /// Notified when an initializer ends (returned or panicked).
    ended: Condvar,
}

/// What `call_once_force`'s closure is told. Like [`std::sync::OnceState`]
/// (whose constructor is private to std, hence this type).
#[derive(Debug)]
pub struct OnceState {
    poisoned: bool,
}

impl OnceState {
    /// Whether an earlier initializer panicked. Like
    /// [`std::sync::OnceState::is_poisoned`].
    pub fn is_poisoned(&self) -> bool {
        self.poisoned
    }
}

/// Ends a run of the initializer, returned or unwinding: publishes the new
/// state and wakes the waiters.
struct Ending<'a> {
    once: &'a Once,
    state: State,
}

impl Drop for Ending<'_> {
    fn drop(&mut self) {
        let mut state = self.once.lock_state();
        *state = self.state;
        // Stored after the initializer's effects and under the lock: a thread
        // that loads `true` (in replay: waits for this store) finds them.
        #[cfg(not(reprise_loom))]
        if self.state == State::Complete {
            self.once.done.store(true, Ordering::Release);
        }
        self.once.ended.notify_all();
    }
}

impl Once {
    /// A new `Once`. `const`, so it can live in a `static` (under loom,
    /// create it inside the model).
    #[allow(clippy::new_without_default)] // std's `Once` has no `Default` either
    pub const fn new() -> Once {
        Once {
            #[cfg(not(reprise_loom))]
            done: AtomicBool::new(false),
            state: Mutex::new(State::Incomplete),
            ended: Condvar::new(),
        }
    }

    /// A `Once` already complete, for values made outside it (`From`).
    pub(crate) const fn completed() -> Once {
        Once {
            #[cfg(not(reprise_loom))]
            done: AtomicBool::new(true),
            state: Mutex::new(State::Complete),
            ended: Condvar::new(),
        }
    }

    #[track_caller]
    fn lock_state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `f` if no initializer has completed, else waits for the running
    /// one or returns at once. Like [`std::sync::Once::call_once`].
    ///
    /// # Panics
    ///
    /// When an earlier initializer panicked, as std's.
    #[track_caller]
    pub fn call_once<F: FnOnce()>(&self, f: F) {
        if !self.is_completed() {
            self.initialize(false, |_| f());
        }
    }

    /// As [`Once::call_once`], but runs `f` even after an initializer
    /// panicked. Like [`std::sync::Once::call_once_force`].
    #[track_caller]
    pub fn call_once_force<F: FnOnce(&OnceState)>(&self, f: F) {
        if !self.is_completed() {
            self.initialize(true, f);
        }
    }

    /// Whether an initializer has completed. Like
    /// [`std::sync::Once::is_completed`]; recorded, so replay answers as the
    /// recording did at this point.
    #[track_caller]
    pub fn is_completed(&self) -> bool {
        #[cfg(not(reprise_loom))]
        return self.done.load(Ordering::Acquire);
        #[cfg(reprise_loom)]
        return *self.lock_state() == State::Complete;
    }

    /// Blocks until an initializer has completed. Like
    /// [`std::sync::Once::wait`].
    ///
    /// # Panics
    ///
    /// When an initializer panicked, as std's.
    #[track_caller]
    pub fn wait(&self) {
        if !self.is_completed() {
            self.wait_for_completion(false);
        }
    }

    /// Blocks until an initializer has completed, ignoring panicked ones.
    /// Like [`std::sync::Once::wait_force`].
    #[track_caller]
    pub fn wait_force(&self) {
        if !self.is_completed() {
            self.wait_for_completion(true);
        }
    }

    #[track_caller]
    fn wait_for_completion(&self, ignore_poison: bool) {
        let mut state = self.lock_state();
        loop {
            match *state {
                State::Complete => return,
                State::Poisoned if !ignore_poison => {
                    drop(state);
                    poisoned();
                }
                _ => state = self.ended.wait(state).unwrap_or_else(PoisonError::into_inner),
            }
        }
    }

    /// The slow path: runs `f` under this `Once` unless an initializer has
    /// completed, waiting while another one runs. `force`: run even after a
    /// panicked initializer.
    #[track_caller]
    pub(crate) fn initialize(&self, force: bool, f: impl FnOnce(&OnceState)) {
        let mut state = self.lock_state();
        loop {
            match *state {
                State::Complete => return,
                State::Running => state = self.ended.wait(state).unwrap_or_else(PoisonError::into_inner),
                State::Poisoned if !force => {
                    drop(state);
                    poisoned();
                }
                State::Incomplete | State::Poisoned => {
                    let once_state = OnceState { poisoned: *state == State::Poisoned };
                    *state = State::Running;
                    drop(state);
                    let mut ending = Ending { once: self, state: State::Poisoned };
                    f(&once_state);
                    ending.state = State::Complete;
                    return;
                }
            }
        }
    }
}

#[cold]
#[track_caller]
fn poisoned() -> ! {
    panic!("Once instance has previously been poisoned")
}

impl fmt::Debug for Once {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Once").finish_non_exhaustive()
    }
}

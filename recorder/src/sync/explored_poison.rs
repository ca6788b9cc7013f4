//! A lock's poison under the explorer, where a thread can be suspended
//! mid-unwind beside the others.
//!
//! std's guard poisons its lock when it drops while `thread::panicking()`
//! and did not when it was made, and `thread::panicking()` counts panics
//! per OS thread. The explorer's threads share one OS thread, so while one
//! waits in a `Drop` during its unwind (for a lock another holds) the count
//! stays raised for the threads it lets run: a guard of theirs dropped then
//! would poison its lock though its thread never panicked (a false poison,
//! cleared here), and a guard made then notes "panicking" and never
//! poisons, even when its own thread later unwinds holding it (a missed
//! poison, kept here beside std's flag). std runs those threads on OS
//! threads of their own, where neither happens.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{LockResult, PoisonError, TryLockError, TryLockResult};

use crate::rt::coop;

/// What the explorer knows of a lock's poison that std's flag does not.
#[derive(Debug)]
pub(crate) struct ExploredPoison {
    /// A holder unwound while holding it, and std's guard did not see it.
    missed: AtomicBool,
    /// The holder (of a mutex, or an `RwLock`'s writer) took it while
    /// another thread's unwind raised the OS thread's panic count.
    taken_beside: AtomicBool,
}

impl ExploredPoison {
    pub(crate) const fn new() -> Self {
        ExploredPoison { missed: AtomicBool::new(false), taken_beside: AtomicBool::new(false) }
    }

    /// Whether a holder's unwind poisoned the lock unseen by std.
    pub(crate) fn is_missed(&self) -> bool {
        self.missed.load(Ordering::Relaxed)
    }

    /// Forgets a missed poison (`clear_poison`).
    pub(crate) fn clear(&self) {
        self.missed.store(false, Ordering::Relaxed);
    }

    /// `result` of an acquisition (or of `into_inner`, `get_mut`) as std
    /// would give it: poisoned if a missed poison is kept.
    pub(crate) fn report<G>(&self, result: LockResult<G>) -> LockResult<G> {
        match result {
            Ok(guard) if self.is_missed() => Err(PoisonError::new(guard)),
            result => result,
        }
    }

    /// An explored exclusive acquisition (a mutex, a write lock): notes how
    /// std's guard was made, and [`ExploredPoison::report`]s `result`.
    pub(crate) fn taken<G>(&self, result: LockResult<G>) -> LockResult<G> {
        self.taken_beside.store(std::thread::panicking() && !coop::panicking(), Ordering::Relaxed);
        self.report(result)
    }

    /// [`ExploredPoison::taken`] (`exclusive`) or
    /// [`ExploredPoison::report`] for a `try_` acquisition.
    pub(crate) fn tried<G>(&self, result: TryLockResult<G>, exclusive: bool) -> TryLockResult<G> {
        let result = match result {
            Err(TryLockError::WouldBlock) => return Err(TryLockError::WouldBlock),
            Ok(guard) => Ok(guard),
            Err(TryLockError::Poisoned(p)) => Err(p),
        };
        let result = if exclusive { self.taken(result) } else { self.report(result) };
        result.map_err(TryLockError::Poisoned)
    }

    /// An explored release: drops `guard`, a std guard of the lock whose
    /// flag `poisoned` reads and `clear` clears, undoing a poison std set
    /// only because another thread unwinds, and keeping one std missed.
    pub(crate) fn release<G>(&self, guard: G, poisoned: impl Fn() -> bool, clear: impl FnOnce()) {
        let unwinding = coop::panicking();
        let only_another_unwinds = std::thread::panicking() && !unwinding && !poisoned();
        let taken_beside = self.taken_beside.swap(false, Ordering::Relaxed);
        drop(guard);
        if only_another_unwinds {
            clear();
        }
        if unwinding && taken_beside && !poisoned() {
            self.missed.store(true, Ordering::Relaxed);
        }
    }
}

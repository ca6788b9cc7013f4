//! Passthrough acquisitions of the locks: std's (loom's under
//! `--cfg reprise_loom`), with one thing added where they would block.
//!
//! While a coroutine run's teardown unwinds its threads on the one OS thread
//! (the explorer's, or a coroutine replay's), no context is installed and
//! every call passes through. A lock that finds its mutex held there is held
//! by another thread of that run, which will never be resumed: the unwinding
//! thread is left where it is (`coop::strand`) rather than block the OS
//! thread for ever. Anywhere else `strand` returns and std's lock blocks.

#[cfg(not(reprise_loom))]
use std::sync::TryLockError;
use std::sync::{LockResult, TryLockResult};

/// Takes a lock in passthrough: `try_first`, and, only when it would block,
/// [`contended`] then `block`. The lock that does not block costs what std's
/// does (its own fast path is the same compare-and-swap).
#[inline(always)]
pub(crate) fn acquire<G>(
    try_first: impl FnOnce() -> TryLockResult<G>,
    block: impl FnOnce() -> LockResult<G>,
) -> LockResult<G> {
    #[cfg(not(reprise_loom))]
    match try_first() {
        Ok(guard) => Ok(guard),
        Err(TryLockError::Poisoned(poisoned)) => Err(poisoned),
        Err(TryLockError::WouldBlock) => {
            contended();
            block()
        }
    }
    // Under loom a failed try would be one more step for loom to explore.
    #[cfg(reprise_loom)]
    {
        let _ = try_first;
        block()
    }
}

/// A passthrough call is about to block (a lock held elsewhere, a condvar
/// wait, a receive on an empty channel, a send on a full one): in a
/// coroutine run's teardown the thread is left here.
#[cold]
#[inline(never)]
pub(crate) fn contended() {
    #[cfg(not(reprise_loom))]
    crate::rt::coop::strand();
}

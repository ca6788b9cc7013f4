//! An atomic's modification order in record mode: a tiny per-object spin lock
//! makes "do the operation" and "take its store number" one step.
//!
//! This is a concurrent structure reprise itself relies on, so it is written
//! against `rt::primitive` atomics, which are loom's under `--cfg reprise_loom`
//! (see the loom tests).

use crate::rt::primitive::{spin_wait, AtomicBool, AtomicU64, Ordering};

/// A spin lock and a store counter.
#[derive(Debug)]
pub(crate) struct ModificationOrder {
    busy: AtomicBool,
    /// Stores so far (the modification order's length).
    stores: AtomicU64,
}

impl ModificationOrder {
    #[cfg(not(reprise_loom))]
    pub(crate) const fn new() -> ModificationOrder {
        ModificationOrder { busy: AtomicBool::new(false), stores: AtomicU64::new(0) }
    }

    #[cfg(reprise_loom)]
    pub(crate) fn new() -> ModificationOrder {
        ModificationOrder { busy: AtomicBool::new(false), stores: AtomicU64::new(0) }
    }

    /// Runs `op` while holding the lock; `store` says whether it wrote.
    /// Returns its result and its store number (or, when it did not write,
    /// the number of the store it read).
    #[inline]
    pub(crate) fn serialized<R>(&self, store: impl FnOnce(&R) -> bool, op: impl FnOnce() -> R) -> (R, u64) {
        let mut spins = 0u32;
        while self.busy.compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed).is_err() {
            spins += 1;
            spin_wait(spins);
        }
        let result = op();
        let mut n = self.stores.load(Ordering::Relaxed);
        if store(&result) {
            n += 1;
            self.stores.store(n, Ordering::Relaxed);
        }
        self.busy.store(false, Ordering::Release);
        (result, n)
    }
}

//! The atomics reprise's own concurrent structures are built on: std's, or
//! loom's under `--cfg reprise_loom` so that loom can check those structures.

#[cfg(not(reprise_loom))]
pub(crate) use std::sync::atomic::{fence, AtomicU64, Ordering};

#[cfg(reprise_loom)]
pub(crate) use loom::sync::atomic::{fence, AtomicU64, Ordering};

/// Backs off in a spin loop: a few CPU hints, then yielding the thread.
#[inline]
pub(crate) fn spin_wait(spins: u32) {
    #[cfg(reprise_loom)]
    {
        let _ = spins;
        loom::thread::yield_now();
    }
    #[cfg(not(reprise_loom))]
    {
        if spins < 64 {
            std::hint::spin_loop();
        } else {
            std::thread::yield_now();
        }
    }
}

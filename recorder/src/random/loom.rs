//! Randomness under `--cfg reprise_loom`: one xorshift stream per loom
//! execution, from a fixed seed, so the same schedule draws the same numbers
//! (loom requires a model to be deterministic given its schedule).

use std::sync::atomic::Ordering;

use crate::loom_execution;

/// The execution's next draw.
#[inline]
pub(super) fn u64() -> u64 {
    let state = &loom_execution::current().random;
    let x = super::xorshift(state.load(Ordering::Relaxed));
    state.store(x, Ordering::Relaxed);
    x
}

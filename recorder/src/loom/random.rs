//! Randomness under `--cfg reprise_loom`: one xorshift stream per loom
//! execution, from a fixed seed, so the same schedule draws the same numbers
//! (loom requires a model to be deterministic given its schedule).

use std::sync::atomic::Ordering;

use crate::loom_execution;

/// A pseudo-random `u64`: the execution's next draw.
#[track_caller]
pub fn u64() -> u64 {
    let state = &loom_execution::current().random;
    let mut x = state.load(Ordering::Relaxed);
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    state.store(x, Ordering::Relaxed);
    x
}

/// A pseudo-random number in `0..bound` (`bound > 0`).
///
/// # Panics
///
/// When `bound` is 0.
#[track_caller]
pub fn below(bound: u64) -> u64 {
    assert!(bound > 0, "random::below(0)");
    ((u128::from(u64()) * u128::from(bound)) >> 64) as u64
}

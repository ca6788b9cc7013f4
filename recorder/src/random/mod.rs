//! A seeded random source whose draws are events: recorded in record mode
//! (each thread draws from its own stream, seeded from the recording's seed and
//! the thread's index), returned from the trace in replay.
//!
//! This file is the shell; each mode's source is in its own file: `off.rs`
//! (a per-OS-thread stream), `record.rs` (also the explorer's: it records its
//! draws the same way), `replay.rs`, and under `--cfg reprise_loom`,
//! `loom.rs` (one stream per loom execution, from a fixed seed).

#[cfg(not(reprise_loom))]
mod explore;
#[cfg(reprise_loom)]
mod loom;
#[cfg(not(reprise_loom))]
mod off;
#[cfg(not(reprise_loom))]
mod record;
#[cfg(not(reprise_loom))]
mod replay;

#[cfg(reprise_loom)]
use self::loom as passthrough;
#[cfg(not(reprise_loom))]
use self::off as passthrough;
use crate::rt::mode::{self, Mode};

/// One xorshift64 step: the passthrough streams' generator.
fn xorshift(mut x: u64) -> u64 {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    x
}

/// A random `u64`.
#[track_caller]
pub fn u64() -> u64 {
    match mode::mode() {
        Mode::Off => passthrough::u64(),
        #[cfg(not(reprise_loom))]
        Mode::Record => record::u64(std::panic::Location::caller()),
        #[cfg(not(reprise_loom))]
        Mode::Coop => explore::u64(std::panic::Location::caller()),
        #[cfg(not(reprise_loom))]
        Mode::Gated => replay::u64(std::panic::Location::caller()),
    }
}

/// A random number in `0..bound` (`bound > 0`), without modulo bias worth
/// caring about for bounds far below 2^64.
///
/// # Panics
///
/// When `bound` is 0.
#[track_caller]
pub fn below(bound: u64) -> u64 {
    assert!(bound > 0, "random::below(0)");
    ((u128::from(u64()) * u128::from(bound)) >> 64) as u64
}

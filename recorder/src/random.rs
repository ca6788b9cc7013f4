//! A seeded random source whose draws are events: recorded in record mode
//! (each thread draws from its own stream, seeded from the recording's seed and
//! the thread's index), returned from the trace in replay.

use std::cell::Cell;
use std::panic::Location;

use crate::rt::context::{self, Mode};
use crate::rt::coop;
use crate::rt::gated;
use crate::trace::model::{Op, Outcome};

thread_local! {
    static OFF_STATE: Cell<u64> = Cell::new(seed_off());
}

fn seed_off() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(0x5EED);
    h.finish() | 1
}

/// A random `u64`.
#[track_caller]
pub fn u64() -> u64 {
    let location = Location::caller();
    match context::mode() {
        Mode::Off => OFF_STATE.with(|s| {
            let mut x = s.get();
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            s.set(x);
            x
        }),
        Mode::Record | Mode::Coop => context::with(|ctx| {
            let served = if ctx.exec.coop { coop::recorded_outcome(ctx.index, Op::Random) } else { None };
            let value = match served {
                Some(coop::Served { outcome: Outcome::Random { value }, .. }) => value,
                _ => ctx.next_random(),
            };
            ctx.record(Op::Random, 0, location, [value, 0, 0]);
            value
        }),
        Mode::Gated => match gated::begin(Op::Random, None, location) {
            Some(call) => call.event.a,
            None => 0,
        },
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

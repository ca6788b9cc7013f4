//! Randomness in passthrough: a xorshift stream per OS thread, seeded from
//! std's per-process random keys.

use std::cell::Cell;

thread_local! {
    static STATE: Cell<u64> = Cell::new(seed());
}

fn seed() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(0x5EED);
    // xorshift never leaves 0.
    h.finish() | 1
}

#[inline]
pub(super) fn u64() -> u64 {
    STATE.with(|s| {
        let x = super::xorshift(s.get());
        s.set(x);
        x
    })
}

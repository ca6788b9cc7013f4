//! A hasher for small integer keys (object and thread indices, turn numbers,
//! the explorer's resources): std's SipHash resists hash flooding, which keys
//! taken from reprise's own counters cannot mount, at several times the cost
//! per lookup. Used by the coroutine replay, the log and the explorer.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

/// Folds each integer written into one word with a multiply (FxHash's).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct IntHasher(u64);

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl Hasher for IntHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }

    fn write_u8(&mut self, n: u8) {
        self.write_u64(u64::from(n));
    }

    fn write_u32(&mut self, n: u32) {
        self.write_u64(u64::from(n));
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(SEED);
    }

    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }
}

/// A map with integer keys.
pub(crate) type IntMap<K, V> = HashMap<K, V, BuildHasherDefault<IntHasher>>;
/// A set of integers.
// Only coroutine replay's, which is not built under loom.
#[cfg_attr(reprise_loom, allow(dead_code))]
pub(crate) type IntSet<K> = HashSet<K, BuildHasherDefault<IntHasher>>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distinct_small_keys_spread_and_maps_work() {
        let mut map: IntMap<(u32, u64), u64> = IntMap::default();
        for i in 0..1000u32 {
            map.insert((i, u64::from(i) * 3), u64::from(i));
        }
        assert_eq!(map.len(), 1000);
        assert_eq!(map.get(&(7, 21)), Some(&7));
        let hash = |k: u64| {
            let mut h = IntHasher::default();
            h.write_u64(k);
            h.finish()
        };
        assert_ne!(hash(1), hash(2));
    }
}

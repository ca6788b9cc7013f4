//! What replay hands back for a load: the recorded bits (integers, `bool`),
//! or this run's value of the store the load read (pointers, whose recorded
//! bits are another run's addresses).

use std::collections::BTreeMap;
use std::sync::{Mutex, PoisonError};

use super::FromBits;

/// How replay turns a recorded read into a value.
pub(super) trait History<V> {
    /// Runs `op`, the modification replay admitted as store number `store`;
    /// `current` reads the real atomic.
    fn modify<R>(&self, store: u64, current: impl Fn() -> V, op: impl FnOnce() -> R) -> R;

    /// The value store number `store` wrote; `bits` is what the recording
    /// says, `current` the real atomic (when nothing better is known).
    fn read(&self, store: u64, bits: u64, current: impl FnOnce() -> V) -> V;

    /// `value`'s bits, when they are comparable with a recording's (not
    /// an address, which differs from run to run).
    fn comparable(&self, value: V) -> Option<u64>;
}

/// Recorded bits are the value: nothing to remember.
pub(super) struct Bits;

impl<V: FromBits> History<V> for Bits {
    #[inline]
    fn modify<R>(&self, _store: u64, _current: impl Fn() -> V, op: impl FnOnce() -> R) -> R {
        op()
    }

    #[inline]
    fn read(&self, _store: u64, bits: u64, _current: impl FnOnce() -> V) -> V {
        V::from_bits(bits)
    }

    #[inline]
    fn comparable(&self, value: V) -> Option<u64> {
        Some(value.to_bits())
    }
}

/// This run's address written by each store, by store number (replay only;
/// it grows by one entry per store of the object). Addresses are kept as
/// exposed integers (`as` casts: the strict-provenance API is newer than the
/// crate's minimum Rust).
#[derive(Debug)]
pub(super) struct Addresses {
    written: Mutex<BTreeMap<u64, usize>>,
}

impl Addresses {
    pub(super) const fn new() -> Addresses {
        Addresses { written: Mutex::new(BTreeMap::new()) }
    }

    /// Forgets every address: the value was changed without an event.
    pub(super) fn clear(&mut self) {
        self.written.get_mut().unwrap_or_else(PoisonError::into_inner).clear();
    }
}

impl<T> History<*mut T> for Addresses {
    fn modify<R>(&self, store: u64, current: impl Fn() -> *mut T, op: impl FnOnce() -> R) -> R {
        let mut written = self.written.lock().unwrap_or_else(PoisonError::into_inner);
        // Stores are admitted in recorded order, so the real atomic holds the
        // previous store's value (for store 1: the initial value).
        written.entry(store.wrapping_sub(1)).or_insert_with(|| current() as usize);
        let result = op();
        written.insert(store, current() as usize);
        result
    }

    fn read(&self, store: u64, _bits: u64, current: impl FnOnce() -> *mut T) -> *mut T {
        let written = self.written.lock().unwrap_or_else(PoisonError::into_inner);
        match written.get(&store) {
            Some(&address) => address as *mut T,
            // No store of this run is known (the value was set through
            // `get_mut`): the real value.
            None => current(),
        }
    }

    fn comparable(&self, _value: *mut T) -> Option<u64> {
        None
    }
}

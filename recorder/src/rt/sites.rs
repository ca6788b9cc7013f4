//! Per-thread interning of call sites: a `Location` pointer becomes a small
//! index the first time a thread records at it.

use std::collections::HashMap;
use std::panic::Location;

use crate::trace::model::SiteIndex;

const DIRECT_SLOTS: usize = 64;

/// A direct-mapped cache in front of a map, so the common case is one
/// comparison and no hashing.
#[derive(Debug)]
pub(crate) struct SiteCache {
    direct: Box<[(usize, SiteIndex); DIRECT_SLOTS]>,
    all: HashMap<usize, SiteIndex>,
    /// Sites known only by content (a panic's location).
    by_content: HashMap<(String, u32, u32), SiteIndex>,
    next: SiteIndex,
}

impl SiteCache {
    pub(crate) fn new() -> Self {
        SiteCache {
            direct: Box::new([(0, 0); DIRECT_SLOTS]),
            all: HashMap::new(),
            by_content: HashMap::new(),
            next: 0,
        }
    }

    /// The index of `location`, and whether it is new (its table record must be
    /// written before the event that uses it).
    #[inline]
    pub(crate) fn intern(&mut self, location: &'static Location<'static>) -> (SiteIndex, bool) {
        let key = location as *const Location<'static> as usize;
        let slot = (key >> 3).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (usize::BITS - 6);
        let entry = &mut self.direct[slot];
        if entry.0 == key {
            return (entry.1, false);
        }
        self.intern_slow(key, slot)
    }

    #[cold]
    fn intern_slow(&mut self, key: usize, slot: usize) -> (SiteIndex, bool) {
        let mut fresh = false;
        let next = &mut self.next;
        let index = *self.all.entry(key).or_insert_with(|| {
            fresh = true;
            *next += 1;
            *next - 1
        });
        self.direct[slot] = (key, index);
        (index, fresh)
    }

    /// The index of a site known by its content, and whether it is new.
    pub(crate) fn intern_content(&mut self, file: &str, line: u32, column: u32) -> (SiteIndex, bool) {
        let key = (file.to_string(), line, column);
        if let Some(&index) = self.by_content.get(&key) {
            return (index, false);
        }
        let index = self.next;
        self.next += 1;
        self.by_content.insert(key, index);
        (index, true)
    }
}

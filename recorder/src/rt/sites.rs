//! Per-thread interning of call sites: a `Location` pointer becomes a small
//! index the first time a thread records at it.

use std::collections::HashMap;
use std::panic::Location;

use crate::trace::model::SiteIndex;

/// Slots a thread's table starts with; it doubles when half full.
const FIRST_SLOTS: usize = 64;

/// The table grows (up to this many slots, 4 KiB) until every site sits in
/// its home slot, where the hot path finds it with one comparison: a few
/// sites sharing a home cost every call through them a probe each.
const HOME_SLOTS_MAX: usize = 256;

/// Fibonacci hashing's multiplier (2^64 / the golden ratio).
const GOLDEN: usize = 0x9E37_79B9_7F4A_7C15_u64 as usize;

/// An open-addressing table of `Location` addresses, probed linearly: the
/// common case is one multiply and one comparison. A direct-mapped cache in
/// front of a SipHash map used to stand here; two hot sites of a thread
/// sharing a slot evicted each other on every call, and 12% of the payments
/// pipeline's events paid about 200 instructions for the map.
#[derive(Debug)]
pub(crate) struct SiteCache {
    /// `(address, index)`; address 0 marks an empty slot.
    slots: Box<[(usize, SiteIndex)]>,
    /// `usize::BITS - log2(slots.len())`: a hash's top bits pick the slot.
    shift: u32,
    used: usize,
    /// Sites known only by content (a panic's location).
    by_content: HashMap<(String, u32, u32), SiteIndex>,
    next: SiteIndex,
}

impl SiteCache {
    pub(crate) fn new() -> Self {
        SiteCache {
            slots: vec![(0, 0); FIRST_SLOTS].into_boxed_slice(),
            shift: usize::BITS - FIRST_SLOTS.trailing_zeros(),
            used: 0,
            by_content: HashMap::new(),
            next: 0,
        }
    }

    /// The index of `location` if the thread has recorded at it: the hot
    /// path's whole lookup, one multiply and one comparison when the site
    /// sits in its home slot.
    #[inline(always)]
    pub(crate) fn cached(&self, location: &'static Location<'static>) -> Option<SiteIndex> {
        self.cached_address(location as *const Location<'static> as usize)
    }

    /// The probe runs on to the first empty slot (the table is at most half
    /// full, so it ends). It looked at the home slot and the next only: a
    /// third site sharing a home was interned again at every call, about 80
    /// instructions, and which sites collide depends on where the linker
    /// put them, so a rebuild of the payments pipeline moved record mode
    /// from 432 to 465 instructions an event (callgrind).
    #[inline(always)]
    fn cached_address(&self, key: usize) -> Option<SiteIndex> {
        let mask = self.slots.len() - 1;
        let mut slot = self.home(key);
        loop {
            let (address, index) = self.slots[slot];
            if address == key {
                return Some(index);
            }
            if address == 0 {
                return None;
            }
            slot = (slot + 1) & mask;
        }
    }

    /// The index of `location`, and whether it is new (its table record must be
    /// written before the event that uses it).
    #[inline(never)]
    pub(crate) fn intern(&mut self, location: &'static Location<'static>) -> (SiteIndex, bool) {
        self.intern_address(location as *const Location<'static> as usize)
    }

    /// The key further on from its home, or the empty slot where it goes.
    fn intern_address(&mut self, key: usize) -> (SiteIndex, bool) {
        let mask = self.slots.len() - 1;
        let mut slot = self.home(key);
        loop {
            let (address, index) = self.slots[slot];
            if address == key {
                return (index, false);
            }
            if address == 0 {
                return (self.insert(key, slot), true);
            }
            slot = (slot + 1) & mask;
        }
    }

    /// Where `key`'s probe starts.
    #[inline(always)]
    fn home(&self, key: usize) -> usize {
        key.wrapping_mul(GOLDEN) >> self.shift
    }

    /// Numbers a new site, into the empty `slot` of its probe.
    #[cold]
    fn insert(&mut self, key: usize, slot: usize) -> SiteIndex {
        let index = self.next;
        self.next += 1;
        self.slots[slot] = (key, index);
        self.used += 1;
        if self.used * 2 > self.slots.len() {
            self.grow();
        }
        while self.slots.len() < HOME_SLOTS_MAX && self.any_away_from_home() {
            self.grow();
        }
        index
    }

    /// Whether a site sits past its home slot.
    fn any_away_from_home(&self) -> bool {
        self.slots.iter().enumerate().any(|(slot, &(address, _))| address != 0 && self.home(address) != slot)
    }

    /// Doubles the table, placing every site again.
    fn grow(&mut self) {
        let doubled = vec![(0, 0); self.slots.len() * 2].into_boxed_slice();
        let old = std::mem::replace(&mut self.slots, doubled);
        self.shift -= 1;
        let mask = self.slots.len() - 1;
        for (address, index) in old.iter().copied().filter(|&(address, _)| address != 0) {
            let mut slot = self.home(address);
            while self.slots[slot].0 != 0 {
                slot = (slot + 1) & mask;
            }
            self.slots[slot] = (address, index);
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Addresses as `Location`s lie: 24 bytes apart, in one section.
    fn addresses(n: usize) -> Vec<usize> {
        (0..n).map(|i| 0x5555_0000_1000 + 24 * i).collect()
    }

    #[test]
    fn each_site_is_numbered_once_in_first_use_order_across_growth() {
        let mut cache = SiteCache::new();
        let sites = addresses(1000);
        for (i, &site) in sites.iter().enumerate() {
            assert_eq!(cache.intern_address(site), (i as SiteIndex, true));
        }
        assert!(cache.slots.len() >= 2000, "grew to {} slots", cache.slots.len());
        for (i, &site) in sites.iter().enumerate().rev() {
            assert_eq!(cache.intern_address(site), (i as SiteIndex, false));
        }
        let (content, fresh) = cache.intern_content("src/main.rs", 1, 1);
        assert_eq!((content, fresh), (1000, true), "content sites share the numbering");
    }

    /// The old direct-mapped cache's failure: sites sharing a home slot,
    /// used in turn, were each looked up in the map every time. Now both
    /// stay in the table and neither is numbered again.
    #[test]
    fn sites_sharing_a_home_slot_both_stay() {
        let mut cache = SiteCache::new();
        let first = 0x5555_0000_1000;
        let second = (first + 24..).step_by(24).find(|&a| cache.home(a) == cache.home(first)).unwrap();
        assert_eq!(cache.intern_address(first), (0, true));
        assert_eq!(cache.intern_address(second), (1, true));
        for _ in 0..3 {
            assert_eq!(cache.intern_address(first), (0, false));
            assert_eq!(cache.intern_address(second), (1, false));
        }
        // And the hot path's lookup finds both.
        assert_eq!((cache.cached_address(first), cache.cached_address(second)), (Some(0), Some(1)));
        assert_eq!(cache.used, 2);
    }

    /// `n` addresses 24 bytes apart (as `Location`s lie) whose home slot in
    /// `cache` is the same.
    fn sharing_a_home(cache: &SiteCache, n: usize) -> Vec<usize> {
        let first: usize = 0x5555_0000_1000;
        let home = cache.home(first);
        let mut sites = vec![first];
        sites.extend((first + 24..).step_by(24).filter(|&a| cache.home(a) == home).take(n - 1));
        sites
    }

    /// Three sites sharing a home: the third sits two slots on, and the hot
    /// path's lookup still finds it (it stopped at the next slot, and the
    /// site was interned again at every call).
    #[test]
    fn a_third_site_sharing_a_home_is_found_by_the_hot_path() {
        let mut cache = SiteCache::new();
        let sites = sharing_a_home(&cache, 3);
        let first = sites[0];
        for (i, &site) in sites.iter().enumerate() {
            assert_eq!(cache.intern_address(site), (i as SiteIndex, true));
        }
        for (i, &site) in sites.iter().enumerate() {
            assert_eq!(cache.cached_address(site), Some(i as SiteIndex), "site {i}");
        }
        assert_eq!(cache.cached_address(first + 8), None);
    }

    /// Sites that share a home make the table grow until each has its own
    /// (or the table reaches its cap): the hot path's lookup is then one
    /// comparison for every site, whichever addresses the linker gave them.
    #[test]
    fn sites_sharing_a_home_move_home_as_the_table_grows() {
        let mut cache = SiteCache::new();
        let mut sites = sharing_a_home(&cache, 4);
        sites.extend((0..8).map(|i| 0x7777_0000_0000 + 24 * i));
        for &site in &sites {
            cache.intern_address(site);
        }
        assert!(
            cache.slots.len() > FIRST_SLOTS && cache.slots.len() <= HOME_SLOTS_MAX,
            "{}",
            cache.slots.len()
        );
        if cache.slots.len() < HOME_SLOTS_MAX {
            assert!(!cache.any_away_from_home());
        }
        for (i, &site) in sites.iter().enumerate() {
            assert_eq!(cache.cached_address(site), Some(i as SiteIndex));
        }
    }

    #[test]
    fn real_locations_intern_by_address() {
        let mut cache = SiteCache::new();
        let here = Location::caller();
        let there = Location::caller();
        assert_eq!(cache.intern(here), (0, true));
        assert_eq!(cache.intern(there), (1, true));
        assert_eq!(cache.intern(here), (0, false));
        assert_eq!(cache.cached(here), Some(0));
        assert_eq!(cache.cached(there), Some(1));
        assert_eq!(cache.cached(Location::caller()), None);
    }
}

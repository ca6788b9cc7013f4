//! (8) ABA on a CAS-based free list: order slots 0..3 are handed out from a
//! lock-free stack of indices (`next[i]` links them; the head is an index).
//! The matcher reads head = 0 and next[0] = 1, and is preempted before its
//! CAS; the gateway pops 0, pops 1 and pushes 0 back. The head is 0 again, so
//! the matcher's CAS(0 -> 1) succeeds and puts slot 1, which the gateway
//! holds, back on the list: it will be handed out twice. The fix tags the
//! head with a version that every successful CAS bumps, so the stale CAS
//! fails.
//!
//! Measured (seed 0): DFS with at most 2 preemptions found it at schedule
//! 30 (DFS takes no seed; 3 before DFS also tried preemptions toward
//! lower-numbered threads, which puts other branches first), with 1 preemption.

use reprise::explore::StrategyKind;
use reprise::sync::atomic::{AtomicU64, Ordering};
use reprise::sync::Arc;
use reprise::thread;

use super::{Bug, Hunt};

const HUNT: Hunt = Hunt::new("aba_free_list", StrategyKind::Dfs { preemptions: 2 }, 500);

/// The fixed twin also passes a PCT search.
const PCT_HUNT: Hunt = Hunt::new("aba_free_list", StrategyKind::Pct { depth: 3 }, 500);

const SLOTS: usize = 3;
/// The end of the list, in the head's index half.
const NIL: u64 = 0xffff_ffff;
const INDEX: u64 = 0xffff_ffff;

/// A Treiber stack of slot indices. The head holds `version << 32 | index`;
/// untagged, the version stays 0.
struct FreeList {
    head: AtomicU64,
    next: [AtomicU64; SLOTS],
    tagged: bool,
}

impl FreeList {
    /// All slots free: 0 -> 1 -> 2.
    fn new(tagged: bool) -> FreeList {
        let next = std::array::from_fn(|i| AtomicU64::new(if i + 1 < SLOTS { i as u64 + 1 } else { NIL }));
        FreeList { head: AtomicU64::new(0), next, tagged }
    }

    /// The new head value for `index`, replacing `old`.
    fn head_for(&self, index: u64, old: u64) -> u64 {
        let version = if self.tagged { (old >> 32) + 1 } else { 0 };
        version << 32 | index
    }

    fn pop(&self) -> Option<usize> {
        loop {
            let head = self.head.load(Ordering::SeqCst);
            let index = head & INDEX;
            if index == NIL {
                return None;
            }
            let next = self.next[index as usize].load(Ordering::SeqCst);
            let new = self.head_for(next, head);
            if self.head.compare_exchange(head, new, Ordering::SeqCst, Ordering::SeqCst).is_ok() {
                return Some(index as usize);
            }
        }
    }

    fn push(&self, slot: usize) {
        loop {
            let head = self.head.load(Ordering::SeqCst);
            self.next[slot].store(head & INDEX, Ordering::SeqCst);
            let new = self.head_for(slot as u64, head);
            if self.head.compare_exchange(head, new, Ordering::SeqCst, Ordering::SeqCst).is_ok() {
                return;
            }
        }
    }
}

fn pool(tagged: bool) {
    let free = Arc::new(FreeList::new(tagged));
    let matcher = {
        let free = Arc::clone(&free);
        thread::Builder::new().name("matcher".into()).spawn(move || free.pop()).unwrap()
    };
    let gateway = {
        let free = Arc::clone(&free);
        thread::Builder::new()
            .name("gateway".into())
            .spawn(move || {
                let first = free.pop();
                let second = free.pop();
                if let Some(slot) = first {
                    free.push(slot);
                }
                second
            })
            .unwrap()
    };
    let mut owners = [0; SLOTS];
    let held = [matcher.join().unwrap(), gateway.join().unwrap()];
    // What is left on the list (bounded: a corrupted list may have a cycle).
    let left = std::iter::from_fn(|| free.pop()).take(2 * SLOTS);
    for slot in held.into_iter().flatten().chain(left) {
        owners[slot] += 1;
    }
    for (slot, owners) in owners.iter().enumerate() {
        assert_eq!(*owners, 1, "free list corrupted: slot {slot} handed out {owners} times");
    }
}

fn buggy() {
    pool(false)
}

fn fixed() {
    pool(true)
}

#[test]
fn aba_on_a_versionless_free_list_is_found_by_dfs_within_500_schedules() {
    HUNT.finds(Bug::Panics("free list corrupted"), buggy);
}

#[test]
fn fixed_tagged_free_list_passes_the_dfs_search_and_500_pct_schedules() {
    HUNT.passes(fixed);
    PCT_HUNT.passes(fixed);
}

//! A work-stealing deque (Chase-Lev shape, fixed capacity): the owner pushes
//! and pops at the bottom, a thief steals at the top. When one item is left,
//! the owner and the thief race for it, and only a compare-and-swap on `top`
//! may decide the race. The buggy owner takes the last item with a plain
//! store to `top`, so both can take it. Fixed twin: the owner's
//! compare-and-swap.

use super::prim::sync::atomic::{AtomicIsize, AtomicU64, Ordering::SeqCst};
use super::prim::sync::Arc;
use super::prim::thread;

/// The buggy version's assertion.
pub(super) const BUG: &str = "deque: an item was taken twice or lost";

const CAPACITY: usize = 8;
const ITEMS: u64 = 3;

struct Deque {
    top: AtomicIsize,
    bottom: AtomicIsize,
    slots: Vec<AtomicU64>,
    fixed: bool,
}

impl Deque {
    fn slot(&self, at: isize) -> &AtomicU64 {
        &self.slots[at as usize % CAPACITY]
    }

    fn push(&self, item: u64) {
        let b = self.bottom.load(SeqCst);
        self.slot(b).store(item, SeqCst);
        self.bottom.store(b + 1, SeqCst);
    }

    fn pop(&self) -> Option<u64> {
        let b = self.bottom.load(SeqCst) - 1;
        self.bottom.store(b, SeqCst);
        let t = self.top.load(SeqCst);
        if t > b {
            self.bottom.store(b + 1, SeqCst);
            return None;
        }
        let item = self.slot(b).load(SeqCst);
        if t < b {
            return Some(item);
        }
        let won = if self.fixed {
            self.top.compare_exchange(t, t + 1, SeqCst, SeqCst).is_ok()
        } else {
            self.top.store(t + 1, SeqCst);
            true
        };
        self.bottom.store(b + 1, SeqCst);
        won.then_some(item)
    }

    fn steal(&self) -> Option<u64> {
        let t = self.top.load(SeqCst);
        let b = self.bottom.load(SeqCst);
        if t >= b {
            return None;
        }
        let item = self.slot(t).load(SeqCst);
        self.top.compare_exchange(t, t + 1, SeqCst, SeqCst).is_ok().then_some(item)
    }
}

pub(super) fn run(fixed: bool) {
    let deque = Arc::new(Deque {
        top: AtomicIsize::new(0),
        bottom: AtomicIsize::new(0),
        slots: (0..CAPACITY).map(|_| AtomicU64::new(0)).collect(),
        fixed,
    });
    let thief = Arc::clone(&deque);
    let thief =
        thread::spawn(move || [thief.steal(), thief.steal()].into_iter().flatten().collect::<Vec<_>>());
    for item in 1..=ITEMS {
        deque.push(item);
    }
    let mut taken = Vec::new();
    while let Some(item) = deque.pop() {
        taken.push(item);
    }
    taken.extend(thief.join().unwrap());
    taken.sort_unstable();
    assert_eq!(taken, (1..=ITEMS).collect::<Vec<_>>(), "{BUG}");
}

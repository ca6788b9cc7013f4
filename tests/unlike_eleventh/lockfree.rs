//! Lock-free stacks: two Treiber stacks (free list and data) over an arena
//! of node indexes with a generation tag in the head (`compare_exchange_weak`,
//! `fetch_update`); and a Treiber stack of boxed nodes on an `AtomicPtr`,
//! whose values are this run's addresses (README: not compared in replay).

use std::ptr;
use std::sync::Arc;

use reprise::sync::atomic::{AtomicPtr, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use reprise::thread;

const NODES: usize = 4;
const ITEMS: u32 = 12;

/// An arena of nodes and two stacks over it; a head is `gen << 8 | idx + 1`
/// (a low byte of 0: empty).
struct Arena {
    next: Vec<AtomicUsize>,
    value: Vec<AtomicU64>,
    free: AtomicUsize,
    data: AtomicUsize,
    retries: AtomicU32,
    /// What a push or pop adds to the head's tag: 1; 0 in the planted
    /// ABA bug.
    tag_step: usize,
}

impl Arena {
    fn push(&self, head: &AtomicUsize, node: usize) {
        let mut h = head.load(Ordering::Acquire);
        loop {
            self.next[node].store(h & 0xff, Ordering::Relaxed);
            let new = (((h >> 8) + self.tag_step) << 8) | (node + 1);
            match head.compare_exchange_weak(h, new, Ordering::AcqRel, Ordering::Acquire) {
                Ok(_) => return,
                Err(seen) => {
                    self.retries.fetch_add(1, Ordering::Relaxed);
                    h = seen;
                }
            }
        }
    }

    fn pop(&self, head: &AtomicUsize) -> Option<usize> {
        let mut h = head.load(Ordering::Acquire);
        loop {
            let top = h & 0xff;
            if top == 0 {
                return None;
            }
            let next = self.next[top - 1].load(Ordering::Relaxed);
            let new = (((h >> 8) + self.tag_step) << 8) | next;
            match head.compare_exchange_weak(h, new, Ordering::AcqRel, Ordering::Acquire) {
                Ok(_) => return Some(top - 1),
                Err(seen) => {
                    self.retries.fetch_add(1, Ordering::Relaxed);
                    h = seen;
                }
            }
        }
    }
}

/// Two producers move 6 values each through four nodes: take a node off
/// the free list, fill it, push it on the data stack; two consumers claim
/// an item (`fetch_update` below 12), pop it and give the node back.
pub(crate) fn index_stacks() -> String {
    stacks(1)
}

/// Planted: [`index_stacks`] with no tag in the heads, so a pop whose
/// exchange finds its old top back (popped and pushed again meanwhile)
/// installs a stale next: values get lost or doubled.
pub(crate) fn untagged_stacks() {
    stacks(0);
}

fn stacks(tag_step: usize) -> String {
    let arena = Arc::new(Arena {
        next: (0..NODES).map(|_| AtomicUsize::new(0)).collect(),
        value: (0..NODES).map(|_| AtomicU64::new(0)).collect(),
        free: AtomicUsize::new(0),
        data: AtomicUsize::new(0),
        retries: AtomicU32::new(0),
        tag_step,
    });
    for n in 0..NODES {
        arena.push(&arena.free, n);
    }
    arena.retries.store(0, Ordering::Relaxed);
    let claimed = Arc::new(AtomicU32::new(0));
    let producers: Vec<_> = (0..2u64)
        .map(|p| {
            let arena = Arc::clone(&arena);
            thread::spawn(move || {
                for i in 0..u64::from(ITEMS / 2) {
                    let node = loop {
                        match arena.pop(&arena.free) {
                            Some(n) => break n,
                            None => thread::yield_now(),
                        }
                    };
                    arena.value[node].store(p * 100 + i, Ordering::Relaxed);
                    arena.push(&arena.data, node);
                }
            })
        })
        .collect();
    let consumers: Vec<_> = (0..2)
        .map(|_| {
            let (arena, claimed) = (Arc::clone(&arena), Arc::clone(&claimed));
            thread::spawn(move || {
                let mut got = Vec::new();
                while claimed
                    .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| (n < ITEMS).then_some(n + 1))
                    .is_ok()
                {
                    let node = loop {
                        match arena.pop(&arena.data) {
                            Some(n) => break n,
                            None => thread::yield_now(),
                        }
                    };
                    got.push(arena.value[node].load(Ordering::Relaxed));
                    arena.push(&arena.free, node);
                }
                got
            })
        })
        .collect();
    for p in producers {
        p.join().unwrap();
    }
    let got: Vec<Vec<u64>> = consumers.into_iter().map(|c| c.join().unwrap()).collect();
    let mut all: Vec<u64> = got.iter().flatten().copied().collect();
    all.sort_unstable();
    let expected: Vec<u64> = (0..6).chain(100..106).collect();
    assert_eq!(all, expected, "lost or doubled values");
    // Bounded: a stack whose next links make a cycle pops for ever.
    let mut free = 0;
    while free <= NODES && arena.pop(&arena.free).is_some() {
        free += 1;
    }
    assert_eq!(free, NODES, "lost or doubled nodes");
    format!("got {got:?}, free {free}, retries {}", arena.retries.load(Ordering::Relaxed))
}

struct Node {
    value: u32,
    next: *mut Node,
}

/// Three threads push 4 boxed nodes each on an `AtomicPtr` stack while two
/// pop 5 each (spinning on empty); nodes are freed only after every thread
/// ended, so a pop never reads a freed node and no address comes back.
pub(crate) fn pointer_stack() -> String {
    let head = Arc::new(AtomicPtr::<Node>::new(ptr::null_mut()));
    let pushers: Vec<_> = (0..3u32)
        .map(|t| {
            let head = Arc::clone(&head);
            thread::spawn(move || {
                let mut failed = 0;
                for i in 0..4 {
                    let node = Box::into_raw(Box::new(Node { value: t * 10 + i, next: ptr::null_mut() }));
                    let mut h = head.load(Ordering::Acquire);
                    loop {
                        // SAFETY: `node` is ours until the exchange publishes it.
                        unsafe { (*node).next = h };
                        match head.compare_exchange(h, node, Ordering::AcqRel, Ordering::Acquire) {
                            Ok(_) => break,
                            Err(seen) => {
                                failed += 1;
                                h = seen;
                            }
                        }
                    }
                }
                failed
            })
        })
        .collect();
    let poppers: Vec<_> = (0..2)
        .map(|_| {
            let head = Arc::clone(&head);
            thread::spawn(move || {
                let mut popped = Vec::new();
                while popped.len() < 5 {
                    let h = head.load(Ordering::Acquire);
                    if h.is_null() {
                        thread::yield_now();
                        continue;
                    }
                    // SAFETY: no node is freed before every thread ended.
                    let next = unsafe { (*h).next };
                    if head.compare_exchange(h, next, Ordering::AcqRel, Ordering::Acquire).is_ok() {
                        popped.push(h as usize);
                    }
                }
                popped
            })
        })
        .collect();
    let failed: Vec<u32> = pushers.into_iter().map(|p| p.join().unwrap()).collect();
    let popped: Vec<Vec<usize>> = poppers.into_iter().map(|p| p.join().unwrap()).collect();
    let mut values = Vec::new();
    let mut per = Vec::new();
    for list in &popped {
        let mine: Vec<u32> = list
            .iter()
            // SAFETY: each popped node was boxed by a pusher and popped once.
            .map(|&p| unsafe { Box::from_raw(p as *mut Node) }.value)
            .collect();
        values.extend(&mine);
        per.push(mine);
    }
    let mut rest = head.swap(ptr::null_mut(), Ordering::AcqRel);
    while !rest.is_null() {
        // SAFETY: the nodes left on the stack were popped by no one.
        let node = unsafe { Box::from_raw(rest) };
        values.push(node.value);
        rest = node.next;
    }
    values.sort_unstable();
    let expected: Vec<u32> = (0..3).flat_map(|t| (0..4).map(move |i| t * 10 + i)).collect();
    assert_eq!(values, expected, "lost or doubled nodes");
    format!("popped {per:?}, failed {failed:?}")
}

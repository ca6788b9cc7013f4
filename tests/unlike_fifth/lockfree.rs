//! Lock-free structures as people write them on `reprise::sync::atomic`: a
//! Treiber stack over an arena whose head packs a tag with the index (so
//! nodes are reused without ABA) and whose loops use
//! `compare_exchange_weak`; a seqlock; an SPSC ring whose slots are plain
//! memory published by `Release`/`Acquire` head and tail; an `Arc`-like
//! handle counted by `fetch_sub(Release)` + `fence(Acquire)`; an
//! `AtomicBool` once-flag electing an initializer; tickets claimed by
//! `fetch_update`.

use std::cell::UnsafeCell;
use std::fmt::Write as _;
use std::sync::Arc;

use reprise::hint;
use reprise::sync::atomic::{fence, AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use reprise::sync::Mutex;
use reprise::thread;

use super::{replays, replays_and_varies};

// ---------------------------------------------------------------------------
// A tagged Treiber stack over an arena, nodes recycled through a free list.

const NIL: u32 = u32::MAX;

/// Two stacks (items and free nodes) over one arena of `next` links; each
/// head is `tag << 32 | index`, the tag bumped by every successful swap.
struct Arena {
    next: Vec<AtomicU32>,
    value: Vec<AtomicU32>,
    items: AtomicU64,
    free: AtomicU64,
}

fn pack(tag: u64, index: u32) -> u64 {
    (tag << 32) | u64::from(index)
}

impl Arena {
    fn new(nodes: u32) -> Arena {
        let arena = Arena {
            next: (0..nodes).map(|_| AtomicU32::new(NIL)).collect(),
            value: (0..nodes).map(|_| AtomicU32::new(0)).collect(),
            items: AtomicU64::new(pack(0, NIL)),
            free: AtomicU64::new(pack(0, NIL)),
        };
        for i in 0..nodes {
            arena.push(&arena.free, i);
        }
        arena
    }

    fn push(&self, head: &AtomicU64, node: u32) {
        let mut seen = head.load(Ordering::Relaxed);
        loop {
            self.next[node as usize].store(seen as u32, Ordering::Relaxed);
            let new = pack((seen >> 32) + 1, node);
            match head.compare_exchange_weak(seen, new, Ordering::Release, Ordering::Relaxed) {
                Ok(_) => return,
                Err(now) => seen = now,
            }
        }
    }

    fn pop(&self, head: &AtomicU64) -> Option<u32> {
        let mut seen = head.load(Ordering::Acquire);
        loop {
            let node = seen as u32;
            if node == NIL {
                return None;
            }
            let next = self.next[node as usize].load(Ordering::Relaxed);
            let new = pack((seen >> 32) + 1, next);
            match head.compare_exchange_weak(seen, new, Ordering::Acquire, Ordering::Acquire) {
                Ok(_) => return Some(node),
                Err(now) => seen = now,
            }
        }
    }

    /// Takes a free node (spinning while every node is in use), fills it.
    fn offer(&self, value: u32) {
        let node = loop {
            match self.pop(&self.free) {
                Some(node) => break node,
                None => thread::yield_now(),
            }
        };
        self.value[node as usize].store(value, Ordering::Relaxed);
        self.push(&self.items, node);
    }

    fn take(&self) -> Option<u32> {
        let node = self.pop(&self.items)?;
        let value = self.value[node as usize].load(Ordering::Relaxed);
        self.push(&self.free, node);
        Some(value)
    }
}

#[test]
fn a_tagged_treiber_stack_recycling_nodes_replays_to_its_transcript() {
    replays_and_varies("fifth-treiber", tagged_treiber);
}

/// Two producers of 6 items each through a 3-node arena, two consumers
/// until all 12 are taken; which consumer took what, in which order.
pub(super) fn tagged_treiber() -> String {
    let arena = Arc::new(Arena::new(3));
    let taken = Arc::new(AtomicU32::new(0));
    let producers: Vec<_> = (0..2u32)
        .map(|p| {
            let arena = Arc::clone(&arena);
            thread::spawn(move || (0..6).for_each(|i| arena.offer(p * 100 + i)))
        })
        .collect();
    let consumers: Vec<_> = (0..2)
        .map(|_| {
            let (arena, taken) = (Arc::clone(&arena), Arc::clone(&taken));
            thread::spawn(move || {
                let mut got = Vec::new();
                while taken.load(Ordering::Acquire) < 12 {
                    match arena.take() {
                        Some(v) => {
                            got.push(v);
                            taken.fetch_add(1, Ordering::AcqRel);
                        }
                        None => thread::yield_now(),
                    }
                }
                got
            })
        })
        .collect();
    producers.into_iter().for_each(|h| h.join().unwrap());
    let got: Vec<Vec<u32>> = consumers.into_iter().map(|h| h.join().unwrap()).collect();
    let mut all: Vec<u32> = got.concat();
    all.sort_unstable();
    let expected: Vec<u32> = (0..6).chain(100..106).collect();
    assert_eq!(all, expected, "every item taken exactly once");
    format!("{got:?}")
}

// ---------------------------------------------------------------------------
// A seqlock.

/// A pair `(a, b)` whose sum is always 100, written under a sequence.
pub(super) struct SeqPair {
    seq: AtomicU64,
    a: AtomicU64,
    b: AtomicU64,
}

impl SeqPair {
    pub(super) fn new() -> SeqPair {
        SeqPair { seq: AtomicU64::new(0), a: AtomicU64::new(0), b: AtomicU64::new(100) }
    }

    /// The only writer: odd sequence while writing.
    pub(super) fn write(&self, a: u64) {
        let s = self.seq.load(Ordering::Relaxed);
        self.seq.store(s + 1, Ordering::Relaxed);
        fence(Ordering::Release);
        self.a.store(a, Ordering::Relaxed);
        self.b.store(100 - a, Ordering::Relaxed);
        self.seq.store(s + 2, Ordering::Release);
    }

    /// A consistent pair, and how many times the read had to start over.
    pub(super) fn read(&self) -> ((u64, u64), u32) {
        let mut retries = 0;
        loop {
            let before = self.seq.load(Ordering::Acquire);
            if before % 2 == 1 {
                retries += 1;
                hint::spin_loop();
                continue;
            }
            let pair = (self.a.load(Ordering::Relaxed), self.b.load(Ordering::Relaxed));
            fence(Ordering::Acquire);
            if self.seq.load(Ordering::Relaxed) == before {
                return (pair, retries);
            }
            retries += 1;
        }
    }

    /// The planted bug: reads once, never checks the sequence again.
    pub(super) fn read_once(&self) -> (u64, u64) {
        while self.seq.load(Ordering::Acquire) % 2 == 1 {
            hint::spin_loop();
        }
        (self.a.load(Ordering::Relaxed), self.b.load(Ordering::Relaxed))
    }
}

#[test]
fn a_seqlock_with_retrying_readers_replays_to_its_transcript() {
    // Varies on an idle machine; beside two CPU hogs every run may not.
    replays("fifth-seqlock", seqlock);
}

/// A writer updating 6 times, two readers reading 4 times each.
pub(super) fn seqlock() -> String {
    let pair = Arc::new(SeqPair::new());
    let readers: Vec<_> = (0..2)
        .map(|_| {
            let pair = Arc::clone(&pair);
            thread::spawn(move || {
                let mut out = String::new();
                for _ in 0..4 {
                    let ((a, b), retries) = pair.read();
                    assert_eq!(a + b, 100, "a torn read");
                    let _ = write!(out, "{a}/{retries} ");
                }
                out
            })
        })
        .collect();
    for a in 1..=6 {
        pair.write(a * 10);
    }
    let reads: Vec<String> = readers.into_iter().map(|h| h.join().unwrap()).collect();
    reads.join("| ")
}

// ---------------------------------------------------------------------------
// An SPSC ring buffer.

const RING: usize = 4;

/// Slots are plain memory: only the Release store of `tail` (producer) and
/// of `head` (consumer) make them safe to read or reuse.
struct Ring {
    slots: [UnsafeCell<u64>; RING],
    head: AtomicUsize,
    tail: AtomicUsize,
}

// SAFETY: one producer writes a slot only while it is outside
// `head..tail` (the consumer released it); one consumer reads it only while
// inside (the producer published it).
unsafe impl Sync for Ring {}

#[test]
fn an_spsc_ring_on_acquire_release_replays_to_its_transcript() {
    // Varies on an idle machine; beside two CPU hogs every run may not.
    replays("fifth-ring", spsc_ring);
}

/// 12 values through a 4-slot ring; how often each side found it full or
/// empty, and the values, which must arrive in order.
pub(super) fn spsc_ring() -> String {
    let ring = Arc::new(Ring {
        slots: std::array::from_fn(|_| UnsafeCell::new(0)),
        head: AtomicUsize::new(0),
        tail: AtomicUsize::new(0),
    });
    let producer = {
        let ring = Arc::clone(&ring);
        thread::spawn(move || {
            let mut full = 0;
            for i in 0..12u64 {
                let tail = ring.tail.load(Ordering::Relaxed);
                while tail - ring.head.load(Ordering::Acquire) == RING {
                    full += 1;
                    thread::yield_now();
                }
                // SAFETY: slot `tail % RING` is not in `head..tail`.
                unsafe { *ring.slots[tail % RING].get() = i * i };
                ring.tail.store(tail + 1, Ordering::Release);
            }
            full
        })
    };
    let mut empty = 0;
    let mut got = Vec::new();
    while got.len() < 12 {
        let head = ring.head.load(Ordering::Relaxed);
        if ring.tail.load(Ordering::Acquire) == head {
            empty += 1;
            thread::yield_now();
            continue;
        }
        // SAFETY: the Acquire load above saw the slot published.
        got.push(unsafe { *ring.slots[head % RING].get() });
        ring.head.store(head + 1, Ordering::Release);
    }
    let full = producer.join().unwrap();
    assert_eq!(got, (0..12u64).map(|i| i * i).collect::<Vec<_>>());
    format!("full {} empty {}", full.min(3), empty.min(3))
}

// ---------------------------------------------------------------------------
// A reference-counted handle.

struct Shared {
    count: AtomicUsize,
    log: Arc<Mutex<Vec<String>>>,
    total: AtomicU64,
}

/// An `Arc` by hand: the last drop, after its `Acquire` fence, sees every
/// other holder's writes and frees the allocation.
struct Handle {
    ptr: *const Shared,
}

// SAFETY: `Shared` is made of Sync parts; the count keeps it alive.
unsafe impl Send for Handle {}

impl Handle {
    fn new(log: Arc<Mutex<Vec<String>>>) -> Handle {
        let shared = Shared { count: AtomicUsize::new(1), log, total: AtomicU64::new(0) };
        Handle { ptr: Box::into_raw(Box::new(shared)) }
    }

    fn get(&self) -> &Shared {
        // SAFETY: alive while this handle holds a count.
        unsafe { &*self.ptr }
    }
}

impl Clone for Handle {
    fn clone(&self) -> Handle {
        self.get().count.fetch_add(1, Ordering::Relaxed);
        Handle { ptr: self.ptr }
    }
}

impl Drop for Handle {
    fn drop(&mut self) {
        let who = thread::current().name().unwrap_or("main").to_string();
        // Taken before the decrement: after it, another holder may free.
        let log = Arc::clone(&self.get().log);
        let before = self.get().count.fetch_sub(1, Ordering::Release);
        if before != 1 {
            log.lock().unwrap().push(format!("{who}:{before}"));
            return;
        }
        fence(Ordering::Acquire);
        // SAFETY: the last count: no other handle remains.
        let shared = unsafe { Box::from_raw(self.ptr as *mut Shared) };
        let total = shared.total.load(Ordering::Relaxed);
        shared.log.lock().unwrap().push(format!("freed by {who} at {total}"));
    }
}

#[test]
fn a_hand_counted_handle_is_freed_once_by_its_last_holder() {
    replays_and_varies("fifth-refcount", refcount);
}

/// Three named holders add to the total and drop their handle; the main
/// thread drops its own at a point that races with theirs.
pub(super) fn refcount() -> String {
    let log = Arc::new(Mutex::new(Vec::new()));
    let handle = Handle::new(Arc::clone(&log));
    let holders: Vec<_> = (1..=3u64)
        .map(|k| {
            let mine = handle.clone();
            thread::Builder::new()
                .name(format!("holder{k}"))
                .spawn(move || {
                    mine.get().total.fetch_add(k, Ordering::Relaxed);
                    drop(mine);
                })
                .unwrap()
        })
        .collect();
    handle.get().total.fetch_add(10, Ordering::Relaxed);
    drop(handle);
    holders.into_iter().for_each(|h| h.join().unwrap());
    let log = log.lock().unwrap();
    let frees: Vec<&String> = log.iter().filter(|l| l.contains("freed")).collect();
    assert_eq!(frees.len(), 1, "freed exactly once: {log:?}");
    assert!(frees[0].ends_with(" at 16"), "the last holder sees every add: {log:?}");
    log.join(" ")
}

// ---------------------------------------------------------------------------
// A once-flag and tickets by `fetch_update`.

#[test]
fn a_once_flag_and_fetch_update_tickets_replay_to_their_transcript() {
    replays("fifth-once-tickets", once_and_tickets);
}

/// Three threads: the first to flip `started` initializes the config, the
/// others spin on `ready`; then each claims tickets (at most 7 in all) by
/// `fetch_update`, which refuses once they are gone.
pub(super) fn once_and_tickets() -> String {
    let started = Arc::new(AtomicBool::new(false));
    let ready = Arc::new(AtomicBool::new(false));
    let config = Arc::new(AtomicU64::new(0));
    let tickets = Arc::new(AtomicU32::new(0));
    let workers: Vec<_> = (0..3u64)
        .map(|w| {
            let (started, ready) = (Arc::clone(&started), Arc::clone(&ready));
            let (config, tickets) = (Arc::clone(&config), Arc::clone(&tickets));
            thread::spawn(move || {
                let initializer =
                    started.compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire).is_ok();
                if initializer {
                    config.store(40 + w, Ordering::Relaxed);
                    ready.store(true, Ordering::Release);
                } else {
                    while !ready.load(Ordering::Acquire) {
                        thread::yield_now();
                    }
                }
                let seen = config.load(Ordering::Relaxed);
                assert!(seen >= 40, "config read before it was set");
                let mut mine = Vec::new();
                while let Ok(t) =
                    tickets.fetch_update(Ordering::AcqRel, Ordering::Acquire, |t| (t < 7).then_some(t + 1))
                {
                    mine.push(t);
                    if t % 3 == w as u32 {
                        thread::yield_now();
                    }
                }
                format!("w{w}{}:{mine:?}", if initializer { "*" } else { "" })
            })
        })
        .collect();
    let out: Vec<String> = workers.into_iter().map(|h| h.join().unwrap()).collect();
    assert_eq!(tickets.load(Ordering::SeqCst), 7);
    out.join(" ")
}

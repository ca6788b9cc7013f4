//! An order gateway on atomics: three gateways claim blocks of order ids
//! from a shared allocator with `fetch_update` (refused once the day's
//! range is spent), raise the best bid with a `compare_exchange_weak`
//! loop, keep a high-water mark with `fetch_max`, and publish each fill's
//! book snapshot through an `AtomicPtr` (`swap`; retired snapshots are
//! freed once every gateway is joined), while a watcher reads the latest
//! snapshot. The planted bug raises the best bid with a load, a compare
//! and a store.

use std::sync::Arc;

use reprise::sync::atomic::{AtomicPtr, AtomicU64, AtomicUsize, Ordering};
use reprise::sync::Mutex;
use reprise::thread;

const GATEWAYS: u64 = 3;
const BLOCK: u64 = 4;
const RANGE: u64 = 40;

struct Snapshot {
    seq: u64,
    best: u64,
}

/// A gateway's bid for its `n`th order.
fn bid(gateway: u64, n: u64) -> u64 {
    1000 + (gateway * 37 + n * 11) % 53
}

pub(crate) fn order_gateway() -> String {
    let next = Arc::new(AtomicU64::new(0));
    let best = Arc::new(AtomicU64::new(0));
    let high = Arc::new(AtomicU64::new(0));
    let seq = Arc::new(AtomicUsize::new(0));
    let latest = Arc::new(AtomicPtr::new(Box::into_raw(Box::new(Snapshot { seq: 0, best: 0 }))));
    let retired = Arc::new(Mutex::new(Vec::<usize>::new()));
    let gateways: Vec<_> = (0..GATEWAYS)
        .map(|g| {
            let (next, best, high) = (Arc::clone(&next), Arc::clone(&best), Arc::clone(&high));
            let (seq, latest, retired) = (Arc::clone(&seq), Arc::clone(&latest), Arc::clone(&retired));
            thread::spawn(move || {
                let mut blocks = Vec::new();
                let mut n = 0;
                while let Ok(start) = next.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |s| {
                    (s + BLOCK <= RANGE).then_some(s + BLOCK)
                }) {
                    blocks.push(start / BLOCK);
                    for id in start..start + BLOCK {
                        let b = bid(g, n);
                        n += 1;
                        let mut current = best.load(Ordering::Relaxed);
                        while b > current {
                            match best.compare_exchange_weak(current, b, Ordering::SeqCst, Ordering::Relaxed)
                            {
                                Ok(_) => break,
                                Err(now) => current = now,
                            }
                        }
                        high.fetch_max(id, Ordering::SeqCst);
                    }
                    let s = seq.fetch_add(1, Ordering::SeqCst) as u64 + 1;
                    let snap =
                        Box::into_raw(Box::new(Snapshot { seq: s, best: best.load(Ordering::SeqCst) }));
                    let old = latest.swap(snap, Ordering::AcqRel);
                    retired.lock().unwrap().push(old as usize);
                }
                blocks
            })
        })
        .collect();
    let watcher = {
        let latest = Arc::clone(&latest);
        thread::spawn(move || {
            let mut seen = 0u64;
            for _ in 0..6 {
                // Snapshots are retired, never freed, while gateways run.
                let snap = unsafe { &*latest.load(Ordering::Acquire) };
                seen = seen.max(snap.seq);
                assert!(snap.best == 0 || snap.best >= 1000, "a torn snapshot");
                thread::yield_now();
            }
            seen
        })
    };
    let blocks: Vec<Vec<u64>> = gateways.into_iter().map(|h| h.join().unwrap()).collect();
    let watched = watcher.join().unwrap();
    let mut all: Vec<u64> = blocks.iter().flatten().copied().collect();
    all.sort_unstable();
    assert_eq!(all, (0..RANGE / BLOCK).collect::<Vec<_>>(), "every block claimed once");
    let top = (0..GATEWAYS)
        .flat_map(|g| {
            let n = blocks[g as usize].len() as u64 * BLOCK;
            (0..n).map(move |i| bid(g, i))
        })
        .max()
        .unwrap();
    assert_eq!(best.load(Ordering::SeqCst), top, "a raise of the best bid was lost");
    assert_eq!(high.load(Ordering::SeqCst), RANGE - 1);
    let last = unsafe { Box::from_raw(latest.load(Ordering::SeqCst)) };
    for old in retired.lock().unwrap().drain(..) {
        drop(unsafe { Box::from_raw(old as *mut Snapshot) });
    }
    assert!((1..=RANGE / BLOCK).contains(&last.seq));
    format!(
        "blocks {blocks:?}, latest snapshot {} (best {}), watcher saw up to {watched}",
        last.seq, last.best
    )
}

/// Planted: the best bid raised by a load, a compare and a store.
pub(crate) fn torn_best_bid() {
    let best = Arc::new(AtomicU64::new(0));
    let bidders: Vec<_> = [1010u64, 1020]
        .into_iter()
        .map(|b| {
            let best = Arc::clone(&best);
            thread::spawn(move || {
                if b > best.load(Ordering::SeqCst) {
                    best.store(b, Ordering::SeqCst);
                }
            })
        })
        .collect();
    for b in bidders {
        b.join().unwrap();
    }
    assert_eq!(best.load(Ordering::SeqCst), 1020, "planted: a lower bid overwrote the best");
}

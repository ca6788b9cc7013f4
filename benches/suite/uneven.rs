//! Uneven workloads: a long worker posts `ITEMS` items, each by taking one
//! off the pending count and then adding its amount to the total; two short
//! threads (a collector and a progress probe) each look once. The collector
//! reads the total when it sees nothing pending, which is wrong only between
//! the worker's last decrement and its last addition: near the end of a long
//! thread, which a walk that picks threads uniformly almost never reaches
//! before the short threads are done. Fixed twin: the worker adds before it
//! decrements.

use super::prim::sync::atomic::{AtomicU64, Ordering::SeqCst};
use super::prim::sync::Arc;
use super::prim::thread;

/// The buggy version's assertion.
pub(super) const BUG: &str = "uneven: total read before the last item was added";

/// Items the long worker posts.
const ITEMS: u64 = 40;

struct Batch {
    pending: AtomicU64,
    total: AtomicU64,
}

pub(super) fn run(fixed: bool) {
    let batch = Arc::new(Batch { pending: AtomicU64::new(ITEMS), total: AtomicU64::new(0) });
    let worker = Arc::clone(&batch);
    let worker = thread::spawn(move || {
        for item in 1..=ITEMS {
            if fixed {
                worker.total.fetch_add(item, SeqCst);
                worker.pending.fetch_sub(1, SeqCst);
            } else {
                worker.pending.fetch_sub(1, SeqCst);
                worker.total.fetch_add(item, SeqCst);
            }
        }
    });
    let collector = Arc::clone(&batch);
    let collector = thread::spawn(move || {
        if collector.pending.load(SeqCst) == 0 {
            let total = collector.total.load(SeqCst);
            assert_eq!(total, ITEMS * (ITEMS + 1) / 2, "{BUG}");
        }
    });
    let probe = Arc::clone(&batch);
    let probe = thread::spawn(move || {
        let left = probe.pending.load(SeqCst);
        assert!(left <= ITEMS, "more pending than posted");
    });
    for t in [worker, collector, probe] {
        t.join().unwrap();
    }
}

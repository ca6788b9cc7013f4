//! Reorder (after SCTBench's `reorder_N`): a setter writes a pair in two
//! steps, `a = 1` then `b = -1`; every checker reads `a` then `b` and
//! expects the pair before (0, 0) or after (1, -1). A checker whose two reads
//! straddle one of the writes sees a torn pair. The setter is spawned last,
//! after every checker. Fixed twin: the pair is written and read under one
//! lock.

use super::prim::sync::atomic::{AtomicI64, Ordering::SeqCst};
use super::prim::sync::{Arc, Mutex};
use super::prim::thread;

/// The buggy version's assertion.
pub(super) const BUG: &str = "reorder: a checker saw a torn pair";

struct Pair {
    a: AtomicI64,
    b: AtomicI64,
    /// Only the fixed twin takes it.
    lock: Mutex<()>,
}

pub(super) fn run(checkers: usize, fixed: bool) {
    let pair = Arc::new(Pair { a: AtomicI64::new(0), b: AtomicI64::new(0), lock: Mutex::new(()) });
    let mut threads = Vec::new();
    for _ in 0..checkers {
        let pair = Arc::clone(&pair);
        threads.push(thread::spawn(move || {
            let guard = fixed.then(|| pair.lock.lock().unwrap());
            let (a, b) = (pair.a.load(SeqCst), pair.b.load(SeqCst));
            drop(guard);
            assert!((a, b) == (0, 0) || (a, b) == (1, -1), "{BUG}: ({a}, {b})");
        }));
    }
    let setter = Arc::clone(&pair);
    threads.push(thread::spawn(move || {
        let guard = fixed.then(|| setter.lock.lock().unwrap());
        setter.a.store(1, SeqCst);
        setter.b.store(-1, SeqCst);
        drop(guard);
    }));
    for t in threads {
        t.join().unwrap();
    }
}

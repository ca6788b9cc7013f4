//! A token ring: nodes wait on a condvar for the token, count a visit in a
//! shared counter, and pass the token on, for two laps. The buggy node reads
//! the counter, passes the token, and only then writes the counter back, so
//! the next node can read the old count: a lost visit. Fixed twin: it writes
//! before passing.

use super::prim::sync::atomic::{AtomicU64, Ordering::SeqCst};
use super::prim::sync::{Arc, Condvar, Mutex};
use super::prim::thread;

/// The buggy version's assertion.
pub(super) const BUG: &str = "token ring: a visit was lost";

const LAPS: u64 = 2;

struct Ring {
    holder: Mutex<usize>,
    passed: Condvar,
    visits: AtomicU64,
}

pub(super) fn run(nodes: usize, fixed: bool) {
    let ring = Arc::new(Ring { holder: Mutex::new(0), passed: Condvar::new(), visits: AtomicU64::new(0) });
    let threads: Vec<_> = (0..nodes)
        .map(|me| {
            let ring = Arc::clone(&ring);
            thread::spawn(move || {
                for _ in 0..LAPS {
                    let mut holder = ring.holder.lock().unwrap();
                    while *holder != me {
                        holder = ring.passed.wait(holder).unwrap();
                    }
                    let seen = ring.visits.load(SeqCst);
                    if fixed {
                        ring.visits.store(seen + 1, SeqCst);
                    }
                    *holder = (me + 1) % nodes;
                    drop(holder);
                    ring.passed.notify_all();
                    if !fixed {
                        ring.visits.store(seen + 1, SeqCst);
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(ring.visits.load(SeqCst), LAPS * nodes as u64, "{BUG}");
}

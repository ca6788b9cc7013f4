//! `RUSTFLAGS="--cfg reprise_loom" cargo test -p reprise-recorder --lib thread::loom_tests`

use std::sync::atomic::{AtomicUsize, Ordering as StdOrdering};
use std::sync::Arc as StdArc;

use crate::sync::atomic::{AtomicBool, Ordering};
use crate::sync::Arc;
use crate::thread;

#[test]
fn a_park_loop_ends_once_unparked_in_every_interleaving() {
    loom::model(|| {
        let ready = Arc::new(AtomicBool::new(false));
        // Made (on first use) before the child exists.
        assert!(!ready.load(Ordering::SeqCst));
        let seen = Arc::clone(&ready);
        let waiter = thread::spawn(move || {
            while !seen.load(Ordering::SeqCst) {
                thread::park();
            }
        });
        ready.store(true, Ordering::SeqCst);
        waiter.thread().unpark();
        waiter.join().unwrap();
    });
}

#[test]
fn park_timeout_returns_with_nobody_to_unpark_it() {
    let runs = StdArc::new(AtomicUsize::new(0));
    let counted = StdArc::clone(&runs);
    loom::model(move || {
        thread::park_timeout(std::time::Duration::from_secs(3600));
        counted.fetch_add(1, StdOrdering::SeqCst);
    });
    assert!(runs.load(StdOrdering::SeqCst) >= 1);
}

#[test]
#[should_panic(expected = "deadlock")]
fn a_park_nobody_unparks_is_a_deadlock_loom_reports() {
    loom::model(|| {
        let waiter = thread::spawn(thread::park);
        waiter.join().unwrap();
    });
}

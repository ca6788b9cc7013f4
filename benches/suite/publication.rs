//! A publication race: the producer raises the `ready` flag before it
//! writes the value; a consumer that sees the flag reads a value not yet
//! written. Fixed twin: value first, then the flag.

use super::prim::sync::atomic::{AtomicBool, AtomicU64, Ordering::SeqCst};
use super::prim::sync::Arc;
use super::prim::thread;

/// The buggy version's assertion.
pub(super) const BUG: &str = "publication: flag seen before the value";

struct Slot {
    ready: AtomicBool,
    value: AtomicU64,
}

pub(super) fn run(fixed: bool) {
    let slot = Arc::new(Slot { ready: AtomicBool::new(false), value: AtomicU64::new(0) });
    let producer = Arc::clone(&slot);
    let producer = thread::spawn(move || {
        if fixed {
            producer.value.store(42, SeqCst);
            producer.ready.store(true, SeqCst);
        } else {
            producer.ready.store(true, SeqCst);
            producer.value.store(42, SeqCst);
        }
    });
    if slot.ready.load(SeqCst) {
        assert_eq!(slot.value.load(SeqCst), 42, "{BUG}");
    }
    producer.join().unwrap();
}

//! Two-stage (after SCTBench's `twostage_N`): each writer sets `first = 1`
//! under one lock, then `second = first + 1` under another. The reader,
//! spawned after every writer, reads `first` (leaving if it is still 0) and
//! then `second`, and expects `second == first + 1`. It fails only when it
//! runs after some writer's first stage and before every writer's second
//! stage: with many writers, a narrow window. Fixed twin: the writers hold
//! the first lock through the second stage, and the reader takes both locks
//! in the same order.

use super::prim::sync::{Arc, Mutex};
use super::prim::thread;

/// The buggy version's assertion.
pub(super) const BUG: &str = "two-stage: second stage not done";

struct Stages {
    first: Mutex<u64>,
    second: Mutex<u64>,
}

pub(super) fn run(writers: usize, fixed: bool) {
    let stages = Arc::new(Stages { first: Mutex::new(0), second: Mutex::new(0) });
    let mut threads = Vec::new();
    for _ in 0..writers {
        let stages = Arc::clone(&stages);
        threads.push(thread::spawn(move || {
            if fixed {
                let mut first = stages.first.lock().unwrap();
                *first = 1;
                *stages.second.lock().unwrap() = *first + 1;
            } else {
                *stages.first.lock().unwrap() = 1;
                let first = *stages.first.lock().unwrap();
                *stages.second.lock().unwrap() = first + 1;
            }
        }));
    }
    let reader = Arc::clone(&stages);
    threads.push(thread::spawn(move || {
        let first_guard = reader.first.lock().unwrap();
        let first = *first_guard;
        let held = if fixed {
            Some(first_guard)
        } else {
            drop(first_guard);
            None
        };
        if first == 0 {
            return;
        }
        let second = *reader.second.lock().unwrap();
        drop(held);
        assert_eq!(second, first + 1, "{BUG}");
    }));
    for t in threads {
        t.join().unwrap();
    }
}

//! (11) Bounded-buffer deadlock with one condvar: a one-slot buffer between
//! the order feed and two consumers, where "not full" and "not empty" share
//! one condvar and every change wakes one waiter. A consumer that takes an
//! order can wake the other consumer (the buffer is empty: it waits again)
//! instead of the feed waiting for room; then all three wait.
//! The fix: one condvar per condition, so a wake-up reaches a thread that
//! can go on.
//!
//! Measured (seed 0): PCT depth 3 found it at schedule 14 (4 preemptions
//! after minimization); over seeds 0-29: median 13, at most 88.

use std::collections::VecDeque;

use reprise::explore::StrategyKind;
use reprise::sync::{Arc, Condvar, Mutex};
use reprise::thread;

use super::{Bug, Hunt};

const HUNT: Hunt = Hunt::new("bounded_buffer", StrategyKind::Pct { depth: 3 }, 500);

const CAPACITY: usize = 1;

struct Buffer {
    orders: Mutex<VecDeque<u64>>,
    not_full: Condvar,
    not_empty: Condvar,
    /// Both conditions on `not_full` (the bug).
    shared: bool,
}

impl Buffer {
    fn new(shared: bool) -> Buffer {
        Buffer {
            orders: Mutex::new(VecDeque::new()),
            not_full: Condvar::new(),
            not_empty: Condvar::new(),
            shared,
        }
    }

    fn not_empty(&self) -> &Condvar {
        if self.shared {
            &self.not_full
        } else {
            &self.not_empty
        }
    }

    fn put(&self, order: u64) {
        let mut orders = self.orders.lock().unwrap();
        while orders.len() == CAPACITY {
            orders = self.not_full.wait(orders).unwrap();
        }
        orders.push_back(order);
        self.not_empty().notify_one();
    }

    fn take(&self) -> u64 {
        let mut orders = self.orders.lock().unwrap();
        while orders.is_empty() {
            orders = self.not_empty().wait(orders).unwrap();
        }
        let order = orders.pop_front().expect("not empty");
        self.not_full.notify_one();
        order
    }
}

fn feed(shared: bool) {
    let buffer = Arc::new(Buffer::new(shared));
    let consumers: Vec<_> = (0..2)
        .map(|_| {
            let buffer = Arc::clone(&buffer);
            thread::spawn(move || buffer.take())
        })
        .collect();
    for order in [1, 2] {
        buffer.put(order);
    }
    let mut taken: Vec<u64> = consumers.into_iter().map(|c| c.join().unwrap()).collect();
    taken.sort_unstable();
    assert_eq!(taken, [1, 2]);
}

fn buggy() {
    feed(true)
}

fn fixed() {
    feed(false)
}

#[test]
fn bounded_buffer_deadlock_with_one_condvar_is_found_by_pct_within_500_schedules() {
    HUNT.finds(Bug::Deadlocks, buggy);
}

#[test]
fn fixed_bounded_buffer_with_two_condvars_passes_500_schedules() {
    HUNT.passes(fixed);
}

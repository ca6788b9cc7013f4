//! (13) A stolen wake-up (`if` instead of `while` around a condvar wait): two
//! settlement workers wait for instructions; a worker woken for an
//! instruction must take the lock again before it runs, and the other worker
//! can take the lock first and the instruction with it. The woken worker
//! then finds the queue empty. The fix re-checks the condition in a loop.
//!
//! Measured (seed 0): PCT depth 3 found it at schedule 4; over seeds 0-29:
//! median 6.5, at most 45.

use std::collections::VecDeque;

use reprise::explore::StrategyKind;
use reprise::sync::{Arc, Condvar, Mutex};
use reprise::thread;

use super::{Bug, Hunt};

const HUNT: Hunt = Hunt::new("stolen_wakeup", StrategyKind::Pct { depth: 3 }, 300);

#[derive(Default)]
struct Queue {
    instructions: Mutex<VecDeque<u64>>,
    arrived: Condvar,
}

/// Waits once if the queue is empty.
fn take_after_one_wait(queue: &Queue) -> Option<u64> {
    let mut instructions = queue.instructions.lock().unwrap();
    if instructions.is_empty() {
        instructions = queue.arrived.wait(instructions).unwrap();
    }
    instructions.pop_front()
}

/// Waits until the queue is not empty.
fn take(queue: &Queue) -> Option<u64> {
    let mut instructions = queue.instructions.lock().unwrap();
    while instructions.is_empty() {
        instructions = queue.arrived.wait(instructions).unwrap();
    }
    instructions.pop_front()
}

fn settlement(take: fn(&Queue) -> Option<u64>) {
    let queue = Arc::new(Queue::default());
    let workers: Vec<_> = (0..2)
        .map(|_| {
            let queue = Arc::clone(&queue);
            thread::spawn(move || take(&queue))
        })
        .collect();
    for instruction in [1, 2] {
        queue.instructions.lock().unwrap().push_back(instruction);
        queue.arrived.notify_one();
    }
    let taken: Vec<Option<u64>> = workers.into_iter().map(|w| w.join().unwrap()).collect();
    assert!(taken.iter().all(Option::is_some), "stolen wake-up: a worker woke to an empty queue: {taken:?}");
}

fn buggy() {
    settlement(take_after_one_wait)
}

fn fixed() {
    settlement(take)
}

#[test]
fn stolen_wakeup_with_if_around_wait_is_found_by_pct_within_300_schedules() {
    HUNT.finds(Bug::Panics("stolen wake-up"), buggy);
}

#[test]
fn fixed_wait_in_a_loop_passes_300_schedules() {
    HUNT.passes(fixed);
}

//! The explorer on planted bugs in these shapes (a spin lock that loads,
//! then stores, instead of swapping; the book's pool dropped while jobs
//! are still queued, its workers leaving on the shutdown flag), each
//! failure's trace replayed in parallel and on coroutines to the same
//! failure; every correct program of the set explored with the default
//! strategy, and under each strategy with a smaller budget.

use std::sync::Arc;

use reprise::sync::atomic::{AtomicU32, Ordering};
use reprise::thread;

use super::locks::SpinLock;
use super::pools::pool_dropped_early;
use crate::util::{explored_failure, replays_to_the_panic};

/// Explores `program` until it panics with `message`; the failure's trace
/// must replay, 5 times in parallel and once on coroutines, to the panic.
fn found_and_replayed_to_the_panic(name: &str, message: &str, program: fn()) {
    let failure = explored_failure(name, 2000, 1, program);
    replays_to_the_panic(name, &failure, message, 5, program);
}

/// Two threads take a check-then-set spin lock twice each; each notes the
/// most threads it saw inside at once, and the root checks.
fn check_then_set_spin_lock() {
    let lock = Arc::new(SpinLock::new(0u32, false));
    let inside = Arc::new(AtomicU32::new(0));
    let workers: Vec<_> = (0..2)
        .map(|_| {
            let (lock, inside) = (Arc::clone(&lock), Arc::clone(&inside));
            thread::spawn(move || {
                let mut most = 0;
                for _ in 0..2 {
                    let mut held = lock.lock_check_then_set();
                    most = most.max(inside.fetch_add(1, Ordering::AcqRel) + 1);
                    *held += 1;
                    inside.fetch_sub(1, Ordering::AcqRel);
                    drop(held);
                }
                most
            })
        })
        .collect();
    let most = workers.into_iter().map(|h| h.join().unwrap()).max().unwrap();
    assert_eq!(most, 1, "{most} threads inside the spin lock at once");
}

#[test]
fn a_check_then_set_spin_lock_is_found_and_replays_to_the_overlap() {
    found_and_replayed_to_the_panic(
        "sixth-explore-spin",
        "threads inside the spin lock",
        check_then_set_spin_lock,
    );
}

#[test]
fn a_pool_dropped_with_jobs_queued_is_found_and_replays_to_the_lost_job() {
    found_and_replayed_to_the_panic("sixth-explore-pool", "of 3 jobs", pool_dropped_early);
}

/// The same spin lock with `swap`: the explorer must not find an overlap.
fn swap_spin_lock() -> String {
    let lock = Arc::new(SpinLock::new(0u32, false));
    let inside = Arc::new(AtomicU32::new(0));
    let workers: Vec<_> = (0..2)
        .map(|_| {
            let (lock, inside) = (Arc::clone(&lock), Arc::clone(&inside));
            thread::spawn(move || {
                for _ in 0..2 {
                    let mut held = lock.lock();
                    assert_eq!(inside.fetch_add(1, Ordering::AcqRel), 0, "two threads inside");
                    *held += 1;
                    inside.fetch_sub(1, Ordering::AcqRel);
                }
            })
        })
        .collect();
    for h in workers {
        h.join().unwrap();
    }
    let n = *lock.lock();
    n.to_string()
}

/// Every correct program of this set, explored: no schedule may fail,
/// deadlock or stop the search.
#[test]
fn the_correct_programs_of_this_set_survive_exploration() {
    let programs = super::CORRECT.into_iter().chain([("swap-spin", swap_spin_lock as fn() -> String)]);
    for (name, program) in programs {
        crate::util::survives_exploration(&format!("sixth-explore-{name}"), 100, 5, program);
    }
}

/// Every correct program under each of the explorer's strategies.
#[test]
fn the_correct_programs_of_this_set_survive_every_strategy() {
    crate::util::survives_every_strategy("sixth", &super::CORRECT, 25, 11);
}

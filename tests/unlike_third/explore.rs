//! The explorer on planted bugs in programs of these shapes: a consumer
//! that checks its queue with `if` instead of `while` (a stolen wake-up),
//! a cache that upgrades a read lock without checking again (built twice),
//! and a lost wake-up (a flag checked outside the condvar's mutex), a
//! deadlock. Each failure's trace must replay, in parallel and on
//! coroutines, to the same failure.

use std::collections::BTreeMap;
use std::sync::Arc;

use reprise::explore::{Config, Explorer, FailureKind};
use reprise::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use reprise::sync::{Condvar, Mutex, RwLock};
use reprise::thread;
use reprise::{read_trace_file, replay, replay_coroutines, ReplayOutcome};

use super::shapes::Queue;
use crate::util::{explored_failure, replays_to_the_panic, scratch};

/// Explores `program` until it panics with `message`, then replays the
/// failure's trace 10 times in parallel and once on coroutines: each must
/// match and end in the panic (no result).
fn found_and_replayed_to_the_panic(name: &str, budget: u64, message: &str, program: fn()) {
    let failure = explored_failure(name, budget, 1, program);
    replays_to_the_panic(name, &failure, message, 10, program);
}

/// Two consumers of a one-slot queue, one of which checks with `if`.
fn stolen_wake_up() {
    let queue = Arc::new(Queue::new(1));
    let consumers: Vec<_> = (0..2)
        .map(|c| {
            let queue = Arc::clone(&queue);
            thread::spawn(move || {
                let mut got = 0;
                loop {
                    let item = if c == 0 { queue.pop_checking_once() } else { queue.pop() };
                    match item {
                        Some(_) => got += 1,
                        None => return got,
                    }
                }
            })
        })
        .collect();
    for i in 0..3u32 {
        queue.push(i).unwrap();
    }
    queue.close();
    let got: u32 = consumers.into_iter().map(|h| h.join().unwrap()).sum();
    assert_eq!(got, 3);
}

#[test]
fn a_stolen_wake_up_is_found_and_its_trace_replays_to_the_panic() {
    found_and_replayed_to_the_panic(
        "third-explore-queue",
        2000,
        "woken with an item in the queue",
        stolen_wake_up,
    );
}

/// Two threads look a key up; on a miss each drops its read lock and
/// writes without checking again.
fn upgrade_without_recheck() {
    let map = Arc::new(RwLock::new(BTreeMap::<u32, u32>::new()));
    let builds = Arc::new(AtomicU32::new(0));
    let handles: Vec<_> = (0..2u32)
        .map(|w| {
            let (map, builds) = (Arc::clone(&map), Arc::clone(&builds));
            thread::spawn(move || {
                let hit = map.read().unwrap().get(&7).copied();
                if hit.is_none() {
                    builds.fetch_add(1, Ordering::Relaxed);
                    let before = map.write().unwrap().insert(7, w);
                    assert!(before.is_none(), "key 7 was built twice");
                }
            })
        })
        .collect();
    for h in handles {
        if h.join().is_err() {
            panic!("key 7 was built twice (seen at the join)");
        }
    }
}

#[test]
fn an_upgrade_without_a_recheck_is_found_and_its_trace_replays_to_the_panic() {
    found_and_replayed_to_the_panic("third-explore-upgrade", 2000, "built twice", upgrade_without_recheck);
}

/// The waiter checks a flag outside the mutex and then waits without a
/// predicate; the notifier sets it and notifies without the mutex.
fn lost_wake_up() {
    let ready = Arc::new(AtomicBool::new(false));
    let pair = Arc::new((Mutex::new(()), Condvar::new()));
    let waiter = {
        let (ready, pair) = (Arc::clone(&ready), Arc::clone(&pair));
        thread::Builder::new()
            .name("waiter".into())
            .spawn(move || {
                if !ready.load(Ordering::Acquire) {
                    let guard = pair.0.lock().unwrap();
                    drop(pair.1.wait(guard).unwrap());
                }
            })
            .unwrap()
    };
    ready.store(true, Ordering::Release);
    pair.1.notify_one();
    waiter.join().unwrap();
}

#[test]
fn a_lost_wake_up_is_found_and_its_trace_replays_to_the_deadlock() {
    let dir = scratch("third-explore-lost");
    let config = Config::default().budget(2000).seed(2).trace_dir(&dir).name("lost");
    let failure = Explorer::new(config).run(lost_wake_up).failure.expect("the lost wake-up is found");
    assert!(matches!(failure.kind, FailureKind::Deadlock { .. }), "{:?}\n{}", failure.kind, failure.report);
    assert!(failure.report.contains("waiter"), "{}", failure.report);
    let trace = read_trace_file(failure.trace.as_ref().unwrap()).unwrap();
    for round in 0..10 {
        let parallel = replay(&trace, lost_wake_up);
        assert!(
            matches!(parallel.outcome, ReplayOutcome::Deadlock(_)),
            "parallel {round}: {}",
            parallel.outcome
        );
    }
    let coroutines = replay_coroutines(&trace, lost_wake_up);
    assert!(matches!(coroutines.outcome, ReplayOutcome::Deadlock(_)), "coroutines: {}", coroutines.outcome);
}

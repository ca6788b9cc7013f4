//! The explorer on bugs planted in these shapes: a work-stealing pool that
//! shares children with an idle neighbour (a task left unrun), a semaphore
//! that checks its permits with `if` (more than the limit at once), and
//! nested checkouts from a pool that waits without a timeout (the classic
//! pool deadlock). Each failure's trace must replay, in parallel and on
//! coroutines, to the same failure.

use std::sync::Arc;

use reprise::explore::{Failure, FailureKind};
use reprise::thread;
use reprise::{read_trace_file, replay, replay_coroutines, ReplayOutcome};

use super::pool::{Conn, Pool};
use super::workers::{parallel_map, stealing};

fn explored(name: &str, budget: u64, program: fn()) -> Failure {
    crate::util::explored_failure(name, budget, 3, program)
}

/// The failure must be a panic saying `message`, and its trace must replay
/// to that panic 5 times in parallel and once on coroutines.
fn replays_to_the_panic(name: &str, failure: &Failure, message: &str, program: fn()) {
    crate::util::replays_to_the_panic(name, failure, message, 5, program);
}

fn sharing_stealer() {
    stealing(2, true);
}

#[test]
fn a_stealer_sharing_with_an_idle_neighbour_is_found_and_replays() {
    let failure = explored("ported-explore-steal", 3000, sharing_stealer);
    replays_to_the_panic("ported-explore-steal", &failure, "a task was never run", sharing_stealer);
}

fn semaphore_checked_once() {
    parallel_map(4, 1, false);
}

#[test]
fn a_semaphore_checked_with_if_is_found_and_replays() {
    let failure = explored("ported-explore-sem", 3000, semaphore_checked_once);
    replays_to_the_panic("ported-explore-sem", &failure, "over the limit", semaphore_checked_once);
}

/// Takes a connection, waiting as long as it takes.
fn get_forever(pool: &Pool) -> Conn {
    let mut s = pool.state.lock().unwrap();
    loop {
        if let Some(c) = s.idle.pop() {
            return c;
        }
        if s.open < s.max {
            s.open += 1;
            s.next_id += 1;
            return Conn { id: s.next_id - 1, uses: 0 };
        }
        s = pool.returned.wait(s).unwrap();
    }
}

fn put_back(pool: &Pool, c: Conn) {
    pool.state.lock().unwrap().idle.push(c);
    pool.returned.notify_one();
}

/// Two clients each hold a connection of a pool of two and ask for a second.
fn nested_checkouts() {
    let pool = Arc::new(Pool::new(2));
    let hs: Vec<_> = (0..2)
        .map(|i| {
            let pool = Arc::clone(&pool);
            thread::Builder::new()
                .name(format!("client-{i}"))
                .spawn(move || {
                    let outer = get_forever(&pool);
                    let inner = get_forever(&pool);
                    put_back(&pool, inner);
                    put_back(&pool, outer);
                })
                .unwrap()
        })
        .collect();
    for h in hs {
        h.join().unwrap();
    }
}

#[test]
fn nested_checkouts_from_a_pool_deadlock_and_the_trace_replays_to_it() {
    let failure = explored("ported-explore-nested", 3000, nested_checkouts);
    assert!(matches!(failure.kind, FailureKind::Deadlock { .. }), "{:?}\n{}", failure.kind, failure.report);
    assert!(failure.report.contains("client-0") && failure.report.contains("client-1"), "{}", failure.report);
    let trace = read_trace_file(failure.trace.as_ref().unwrap()).unwrap();
    for round in 0..5 {
        let parallel = replay(&trace, nested_checkouts);
        assert!(
            matches!(parallel.outcome, ReplayOutcome::Deadlock(_)),
            "parallel {round}: {}",
            parallel.outcome
        );
    }
    let coroutines = replay_coroutines(&trace, nested_checkouts);
    assert!(matches!(coroutines.outcome, ReplayOutcome::Deadlock(_)), "coroutines: {}", coroutines.outcome);
}

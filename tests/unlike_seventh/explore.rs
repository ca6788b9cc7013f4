//! The explorer on this set: every correct program with the default
//! strategy and under each strategy with a smaller budget; and planted
//! bugs (a waiter that takes a timed-out `wait_timeout` to mean no notify
//! came, a latch counted down before the work it guards, a `select!` that
//! takes for granted which of two things due at the same instant comes
//! first, either way), each found and its trace replayed to the same
//! failure.

use std::sync::Arc;

use reprise::channel::{self, select};
use reprise::sync::atomic::{AtomicUsize, Ordering};
use reprise::sync::{Condvar, Mutex};
use reprise::thread;
use reprise::time::Duration;

use crate::util::{explored_failure, replays_to_the_panic};

/// Explores `program` until it panics with `message`; the failure's trace
/// must replay, 5 times in parallel and once on coroutines, to the panic.
fn found_and_replayed_to_the_panic(name: &str, message: &str, program: fn()) {
    let failure = explored_failure(name, 2000, 1, program);
    replays_to_the_panic(name, &failure, message, 5, program);
}

/// Every correct program of this set, explored: no schedule may fail,
/// deadlock or stop the search.
#[test]
fn the_correct_programs_of_this_set_survive_exploration() {
    for (name, program) in super::CORRECT {
        crate::util::survives_exploration(&format!("seventh-explore-{name}"), 60, 5, program);
    }
}

/// Every correct program under each of the explorer's strategies.
#[test]
fn the_correct_programs_of_this_set_survive_every_strategy() {
    crate::util::survives_every_strategy("seventh", &super::CORRECT, 25, 13);
}

// ---------------------------------------------------------------------------
// Planted: a timed-out wait taken to mean that no notify came.

/// A notifier sleeps 100 µs, sets the flag and notifies; the waiter waits
/// once with `wait_timeout` of 100 µs and, if it timed out, asserts the
/// flag is still clear. Wrong: the notifier may set it as the timeout
/// fires, before the waiter takes the lock back.
fn timed_out_means_no_notify() {
    let pair = Arc::new((Mutex::new(false), Condvar::new()));
    let notifier = {
        let pair = Arc::clone(&pair);
        thread::spawn(move || {
            thread::sleep(Duration::from_micros(100));
            *pair.0.lock().unwrap() = true;
            pair.1.notify_one();
        })
    };
    let (lock, cv) = &*pair;
    let (guard, result) = cv.wait_timeout(lock.lock().unwrap(), Duration::from_micros(100)).unwrap();
    if result.timed_out() {
        assert!(!*guard, "timed out, yet the flag is set");
    }
    drop(guard);
    notifier.join().unwrap();
}

#[test]
fn a_timed_out_wait_taken_for_no_notify_is_found_and_replays() {
    found_and_replayed_to_the_panic(
        "seventh-explore-timed-out",
        "timed out, yet the flag",
        timed_out_means_no_notify,
    );
}

// ---------------------------------------------------------------------------
// Planted: a latch counted down before the work it guards.

fn latch_counted_down_first() {
    let latch = Arc::new(AtomicUsize::new(2));
    let log = Arc::new(Mutex::new(0u32));
    let workers: Vec<_> = (0..2)
        .map(|_| {
            let (latch, log) = (Arc::clone(&latch), Arc::clone(&log));
            thread::spawn(move || {
                latch.fetch_sub(1, Ordering::AcqRel);
                *log.lock().unwrap() += 1;
            })
        })
        .collect();
    while latch.load(Ordering::Acquire) != 0 {
        reprise::hint::spin_loop();
    }
    let done = *log.lock().unwrap();
    assert_eq!(done, 2, "the latch opened with {done} of 2 pushes done");
    for h in workers {
        h.join().unwrap();
    }
}

#[test]
fn a_latch_counted_down_first_is_found_and_replays() {
    found_and_replayed_to_the_panic(
        "seventh-explore-latch",
        "the latch opened with",
        latch_counted_down_first,
    );
}

// ---------------------------------------------------------------------------
// Planted: which of two things due at the same instant comes first.

/// A sender sleeps exactly 100 µs and sends; the receiver's `select!` has
/// a `default` of 100 µs. `expect` is the arm the program takes for
/// granted; the other one is possible.
fn exact(expect: &'static str) {
    let (tx, rx) = channel::unbounded::<u32>();
    let sender = thread::spawn(move || {
        thread::sleep(Duration::from_micros(100));
        tx.send(1).unwrap();
    });
    let arm = select! {
        recv(rx) -> _ => "msg",
        default(Duration::from_micros(100)) => "timeout",
    };
    assert_eq!(arm, expect, "the select took the other arm");
    sender.join().unwrap();
}

#[test]
fn a_select_that_takes_the_message_for_granted_is_found_and_replays() {
    found_and_replayed_to_the_panic("seventh-explore-exact-msg", "the select took the other arm", || {
        exact("msg")
    });
}

#[test]
fn a_select_that_takes_the_timeout_for_granted_is_found_and_replays() {
    found_and_replayed_to_the_panic("seventh-explore-exact-timeout", "the select took the other arm", || {
        exact("timeout")
    });
}

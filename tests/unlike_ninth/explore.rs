//! The explorer on this set: every correct program under each strategy
//! must find no failure and leave no schedule unjudged; and planted
//! wake-up bugs, each found and its trace replayed to the same failure.

use std::future::Future;
use std::pin::{pin, Pin};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use reprise::explore::{Config, Explorer, FailureKind};
use reprise::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use reprise::thread::{self, Thread};
use reprise::{read_trace_file, replay, replay_coroutines, ReplayOutcome};

use super::block_on::{join_all, oneshot, Recv};
use super::executor::{Executor, Worker};
use crate::util::{explored_failure, replays_to_the_panic, scratch};

/// Every correct program of this set under every strategy.
#[test]
fn the_correct_programs_of_this_set_survive_every_strategy() {
    let mut bad = Vec::new();
    for (name, program) in super::CORRECT {
        bad.extend(crate::util::under_every_strategy("ninth", (name, program), 100, 19, false));
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

/// Explores `program` until it deadlocks; the failure's trace must replay
/// to a deadlock, 5 times in parallel and once on coroutines.
fn found_and_replayed_to_a_deadlock(name: &str, program: fn()) {
    let dir = scratch(name);
    let config = Config::default().budget(2000).seed(1).trace_dir(&dir).name(name);
    let outcome = Explorer::new(config).run(program);
    let failure = outcome.failure.unwrap_or_else(|| {
        panic!(
            "{name}: not found in {} schedules ({} not judged, {:?})",
            outcome.schedules, outcome.uncertain, outcome.blocked
        )
    });
    assert!(
        matches!(failure.kind, FailureKind::Deadlock { .. }),
        "{name}: {:?}\n{}",
        failure.kind,
        failure.report
    );
    let trace = read_trace_file(failure.trace.as_ref().expect("a trace written")).unwrap();
    for round in 0..5 {
        let parallel = replay(&trace, program);
        assert!(
            matches!(parallel.outcome, ReplayOutcome::Deadlock(_)),
            "{name} parallel {round}: {}",
            parallel.outcome
        );
    }
    let coroutines = replay_coroutines(&trace, program);
    assert!(
        matches!(coroutines.outcome, ReplayOutcome::Deadlock(_)),
        "{name} coroutines: {}",
        coroutines.outcome
    );
}

// ---------------------------------------------------------------------------
// Planted: a finished task polled again on a late wake.

/// Sums what its inner join gives; ready once it is.
struct SumInto(super::block_on::JoinAll<Recv<u32>>, Arc<AtomicU32>);

impl Future for SumInto {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        match Pin::new(&mut self.0).poll(cx) {
            Poll::Ready(v) => {
                self.1.fetch_add(v.iter().sum(), Ordering::AcqRel);
                Poll::Ready(())
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

/// One task joins two oneshots, each completed by its own thread (value,
/// then wake); the executor's workers keep a finished future and poll it
/// again when a wake comes after it finished (the second completer's, when
/// the first wake's poll already saw both values). std would panic the
/// same way: the join polls a oneshot that returned its value.
fn polled_after_completion() {
    let exec = Executor::new(2, Worker::PollsAfterCompletion);
    let sum = Arc::new(AtomicU32::new(0));
    let (c1, r1) = oneshot::<u32>();
    let (c2, r2) = oneshot::<u32>();
    exec.spawn(SumInto(join_all(vec![r1, r2]), Arc::clone(&sum)));
    let t1 = thread::spawn(move || c1.complete(1));
    let t2 = thread::spawn(move || c2.complete(2));
    exec.run(|| {
        t1.join().unwrap();
        t2.join().unwrap();
    });
    assert_eq!(sum.load(Ordering::Acquire), 3);
}

#[test]
fn an_executor_that_polls_a_finished_task_again_is_found_and_replays() {
    let name = "ninth-explore-poll-after";
    let failure = explored_failure(name, 2000, 1, polled_after_completion);
    replays_to_the_panic(name, &failure, "polled after completion", 5, polled_after_completion);
}

// ---------------------------------------------------------------------------
// Planted: an unpark skipped while the poller is not yet asleep.

/// Unparks only when the poller said it sleeps: the poller, between its
/// poll and its park, is taken to poll again by itself. It does not.
struct SkipsUnpark {
    thread: Thread,
    sleeping: AtomicBool,
}

impl Wake for SkipsUnpark {
    fn wake(self: Arc<Self>) {
        if self.sleeping.load(Ordering::Acquire) {
            self.thread.unpark();
        }
    }
}

/// A `block_on` that sets `sleeping` after a pending poll and parks,
/// without a note of wakes that came before.
fn block_on_skipping<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let me = Arc::new(SkipsUnpark { thread: thread::current(), sleeping: AtomicBool::new(false) });
    let waker = Waker::from(Arc::clone(&me));
    let mut cx = Context::from_waker(&waker);
    loop {
        if let Poll::Ready(v) = future.as_mut().poll(&mut cx) {
            return v;
        }
        me.sleeping.store(true, Ordering::Release);
        thread::park();
        me.sleeping.store(false, Ordering::Release);
    }
}

/// The main thread `block_on_skipping`s a correct oneshot a thread
/// completes.
fn unpark_skipped() {
    let (c, r) = oneshot::<u32>();
    let t = thread::spawn(move || c.complete(5));
    assert_eq!(block_on_skipping(r), 5);
    t.join().unwrap();
}

#[test]
fn a_block_on_that_skips_the_unpark_before_it_sleeps_is_found_and_replays() {
    found_and_replayed_to_a_deadlock("ninth-explore-skipped-unpark", unpark_skipped);
}

// ---------------------------------------------------------------------------
// Planted: a receiver that looks at the slot before it registers on a
// (correct) AtomicWaker.

/// waker.rs's slot channel, its receiver looking first: a value stored
/// between the look and the register wakes the previous `block_on`'s
/// waker (a stale unpark: the park it leaves a token for returns and
/// parks again), or none.
fn slot_looks_before_registering() {
    super::waker::slot_channel_with(true);
}

#[test]
fn a_slot_receiver_that_looks_before_it_registers_is_found_and_replays() {
    found_and_replayed_to_a_deadlock("ninth-explore-slot-look-first", slot_looks_before_registering);
}

// ---------------------------------------------------------------------------
// Planted: a timed-out park taken for a wake-up.

/// A `block_on` that parks once with a 1 ms timeout after a pending poll
/// and then takes for granted that the waker came (it does not poll the
/// future again to see): when the timeout expires first (under the
/// explorer, a time choice while the completer could still run), the
/// value is not there.
fn timeout_taken_for_a_wake() {
    let (c, r) = oneshot::<u32>();
    let t = thread::spawn(move || {
        thread::yield_now();
        c.complete(3);
    });
    let mut r = pin!(r);
    let me = Arc::new(super::block_on::ThreadWaker::new());
    let waker = Waker::from(Arc::clone(&me));
    let v = match r.as_mut().poll(&mut Context::from_waker(&waker)) {
        Poll::Ready(v) => v,
        Poll::Pending => {
            thread::park_timeout(reprise::time::Duration::from_millis(1));
            match r.as_mut().poll(&mut Context::from_waker(&waker)) {
                Poll::Ready(v) => v,
                Poll::Pending => panic!("woken, but the value is not there"),
            }
        }
    };
    assert_eq!(v, 3);
    t.join().unwrap();
}

#[test]
fn a_timed_out_park_taken_for_a_wake_up_is_found_and_replays() {
    let name = "ninth-explore-timeout-taken";
    let failure = explored_failure(name, 2000, 1, timeout_taken_for_a_wake);
    replays_to_the_panic(name, &failure, "the value is not there", 5, timeout_taken_for_a_wake);
}

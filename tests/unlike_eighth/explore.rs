//! The explorer on this set: every correct program under each strategy,
//! which must find no failure and, unless the program may catch a panic
//! in one thread while another is suspended mid-unwind, leave no schedule
//! unjudged; and planted bugs in unwinding code, each found and its trace
//! replayed to the same failure.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use reprise::channel;
use reprise::explore::{Config, Explorer, FailureKind};
use reprise::sync::Mutex;
use reprise::thread;
use reprise::{read_trace_file, replay, replay_coroutines, ReplayOutcome};

use super::guards::{run_job, Shared};
use super::STAGED;
use crate::util::{explored_failure, replays_to_the_panic, scratch};

/// Every correct program of this set under every strategy.
#[test]
fn the_correct_programs_of_this_set_survive_every_strategy() {
    let mut bad = Vec::new();
    for ((name, program), may_guess) in super::CORRECT {
        bad.extend(crate::util::under_every_strategy("eighth", (name, program), 40, 17, may_guess));
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

/// Explores `program` until it panics with `message`; the failure's trace
/// must replay, 5 times in parallel and once on coroutines, to the panic.
fn found_and_replayed_to_the_panic(name: &str, message: &str, program: fn()) {
    let failure = explored_failure(name, 2000, 1, program);
    replays_to_the_panic(name, &failure, message, 5, program);
}

// ---------------------------------------------------------------------------
// Planted: a job reported before its guard counted it.

/// Says job `.0` settled on a channel, then counts it: the report comes
/// first, so a reader who trusts it may read the count before the guard
/// adds to it. (Only a job that did not panic shows it to the explorer:
/// it makes no scheduling point in a thread that unwinds, README, so a
/// failed job's report and count are one step there; std's threads may
/// still be preempted between them.)
struct ReportsFirst(u32, channel::Sender<u32>, Arc<Mutex<u32>>);

impl Drop for ReportsFirst {
    fn drop(&mut self) {
        // Ignored: the failure it plants ends the run, the receiver with it.
        let _ = self.1.send(self.0);
        *self.2.lock().unwrap_or_else(|e| e.into_inner()) += 1;
    }
}

/// Two workers run two jobs each, the odd ones panicking (caught); the
/// main thread waits for four reports, then reads the count and takes for
/// granted it is 4.
fn reported_before_counted() {
    let (tx, rx) = channel::unbounded::<u32>();
    let counted = Arc::new(Mutex::new(0u32));
    let workers: Vec<_> = (0..2u32)
        .map(|w| {
            let (tx, counted) = (tx.clone(), Arc::clone(&counted));
            thread::spawn(move || {
                for job in [2 * w + 1, 2 * w] {
                    let _ = catch_unwind(AssertUnwindSafe(|| {
                        let _r = ReportsFirst(job, tx.clone(), Arc::clone(&counted));
                        if job % 2 == 1 {
                            panic!("{STAGED}: job {job}");
                        }
                    }));
                }
            })
        })
        .collect();
    for _ in 0..4 {
        rx.recv().unwrap();
    }
    let counted = *counted.lock().unwrap();
    assert_eq!(counted, 4, "all four jobs reported, {counted} of 4 counted");
    for h in workers {
        h.join().unwrap();
    }
}

#[test]
fn a_job_reported_before_its_guard_counted_it_is_found_and_replays() {
    found_and_replayed_to_the_panic("eighth-explore-reported-first", "of 4 counted", reported_before_counted);
}

// ---------------------------------------------------------------------------
// Planted: a lost update across a Drop's two acquisitions.

/// Reads the counter under one acquisition and writes it back plus one
/// under another.
struct SplitIncrement(Arc<Mutex<u32>>);

impl Drop for SplitIncrement {
    fn drop(&mut self) {
        let seen = *self.0.lock().unwrap_or_else(|e| e.into_inner());
        thread::yield_now();
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = seen + 1;
    }
}

/// Two workers each drop one `SplitIncrement`: worker 0 as it unwinds from
/// a caught panic (no scheduling point inside: its thread keeps running),
/// worker 1 normally (where the explorer may switch between the halves).
fn split_update_in_drop() {
    let n = Arc::new(Mutex::new(0u32));
    let workers: Vec<_> = (0..2)
        .map(|w| {
            let n = Arc::clone(&n);
            thread::spawn(move || {
                let _ = catch_unwind(AssertUnwindSafe(|| {
                    let _s = SplitIncrement(n);
                    if w == 0 {
                        panic!("{STAGED}: worker 0");
                    }
                }));
            })
        })
        .collect();
    for h in workers {
        h.join().unwrap();
    }
    let n = *n.lock().unwrap();
    assert_eq!(n, 2, "an increment was lost: {n}");
}

/// Found, but its trace replays to the panic only in parallel: on
/// coroutines it stops at worker 0's lock while unwinding (found.rs, the
/// second finding).
#[test]
fn a_lost_update_split_across_a_drop_is_found_and_replays_in_parallel() {
    let name = "eighth-explore-split";
    let failure = explored_failure(name, 2000, 1, split_update_in_drop);
    assert!(
        matches!(&failure.kind, FailureKind::Panic { message, .. } if message.contains("an increment was lost")),
        "{:?}",
        failure.kind
    );
    let trace = read_trace_file(failure.trace.as_ref().expect("a trace written")).unwrap();
    for round in 0..5 {
        let parallel = replay(&trace, split_update_in_drop);
        assert_eq!(parallel.outcome, ReplayOutcome::Matched, "{name} parallel {round}: {}", parallel.outcome);
        assert_eq!(parallel.result, None, "{name} parallel {round}: it panics as the explored run did");
        assert_eq!(parallel.replayed, parallel.events, "{name} parallel {round}");
    }
}

// ---------------------------------------------------------------------------
// Planted: a catch handler that crosses the lock order.

/// The worker catches a job's panic (its guard notes it while unwinding)
/// and, in the handler, takes the log and then the stats to note the failure; the main
/// thread takes the stats, then the log. (A `Drop` that crossed the order
/// while its thread unwinds is found.rs's first finding.)
fn handler_crosses_lock_order() {
    let (tx, _rx) = channel::unbounded();
    let shared = Shared::new(tx);
    let worker = {
        let shared = shared.clone();
        thread::spawn(move || {
            let notes = Mutex::new(0u32);
            let caught = catch_unwind(AssertUnwindSafe(|| {
                struct Notes<'a>(&'a Mutex<u32>);
                impl Drop for Notes<'_> {
                    fn drop(&mut self) {
                        *self.0.lock().unwrap_or_else(|e| e.into_inner()) += 1;
                    }
                }
                let _n = Notes(&notes);
                panic!("{STAGED}: job 3");
            }));
            if caught.is_err() {
                let mut log = shared.log.write().unwrap();
                let stats = shared.stats.lock().unwrap();
                log.push(100 + stats.failed);
            }
        })
    };
    let stats = shared.stats.lock().unwrap();
    let log = shared.log.read().unwrap();
    drop((log, stats));
    worker.join().unwrap();
}

#[test]
fn a_catch_handler_that_crosses_the_lock_order_deadlocks_and_replays_to_it() {
    let name = "eighth-explore-crossed";
    let dir = scratch(name);
    let config = Config::default().budget(2000).seed(1).trace_dir(&dir).name(name);
    let outcome = Explorer::new(config).run(handler_crosses_lock_order);
    let failure = outcome.failure.unwrap_or_else(|| {
        panic!(
            "the crossed lock order: {} schedules, {} not judged, {:?}",
            outcome.schedules, outcome.uncertain, outcome.blocked
        )
    });
    assert!(matches!(failure.kind, FailureKind::Deadlock { .. }), "{:?}\n{}", failure.kind, failure.report);
    let trace = read_trace_file(failure.trace.as_ref().expect("a trace written")).unwrap();
    for round in 0..5 {
        let parallel = replay(&trace, handler_crosses_lock_order);
        assert!(
            matches!(parallel.outcome, ReplayOutcome::Deadlock(_)),
            "parallel {round}: {}",
            parallel.outcome
        );
    }
    let coroutines = replay_coroutines(&trace, handler_crosses_lock_order);
    assert!(matches!(coroutines.outcome, ReplayOutcome::Deadlock(_)), "coroutines: {}", coroutines.outcome);
}

// ---------------------------------------------------------------------------
// Planted: a pool whose main thread reads the counts without waiting.

/// [`super::guards::pool_with_guards`]'s pool, but the main thread reads
/// the counts once every job was *sent*, not settled.
fn counts_read_too_early() {
    let (tx, _rx) = channel::unbounded();
    let shared = Shared::new(tx);
    let (work_tx, work_rx) = channel::unbounded::<u32>();
    let workers: Vec<_> = (0..2)
        .map(|_| {
            let (work_rx, shared) = (work_rx.clone(), shared.clone());
            thread::spawn(move || {
                for job in work_rx.iter() {
                    run_job(job, &shared, job == 1);
                }
            })
        })
        .collect();
    for job in 0..3 {
        work_tx.send(job).unwrap();
    }
    drop(work_tx);
    let failed = shared.stats.lock().unwrap().failed;
    assert_eq!(failed, 1, "the failed job was not counted yet");
    for h in workers {
        h.join().unwrap();
    }
}

#[test]
fn counts_read_before_the_jobs_settled_are_found_and_replay() {
    found_and_replayed_to_the_panic("eighth-explore-too-early", "not counted yet", counts_read_too_early);
}

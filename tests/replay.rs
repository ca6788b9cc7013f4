//! Replay's reports: divergence, stall, recorded panics and deadlocks, and
//! crashed recordings cut to a consistent prefix.

use std::sync::atomic::{AtomicBool, Ordering as StdOrdering};
use std::sync::{Arc, Barrier};

use reprise::sync::Mutex;
use reprise::trace::format::Verdict;
use reprise::{channel, read_trace_file, record, replay, thread, OnDeadlock, RecordConfig, ReplayOutcome};

use crate::util::scratch;

fn config() -> RecordConfig {
    RecordConfig::new("replay-tests", "1").on_deadlock(OnDeadlock::Return)
}

/// Takes the lock, or with `STRAY` set only tries it: a change of behaviour
/// reprise cannot see (a std atomic, not a primitive).
static STRAY: AtomicBool = AtomicBool::new(false);

fn lock_or_try() {
    let m = Arc::new(Mutex::new(0));
    let m2 = Arc::clone(&m);
    let worker = thread::Builder::new().name("worker".into()).spawn(move || {
        if STRAY.load(StdOrdering::SeqCst) {
            let _ = m2.try_lock();
        } else {
            *m2.lock().unwrap() += 1;
        }
    });
    worker.unwrap().join().unwrap();
}

#[test]
fn a_different_call_is_reported_as_a_divergence_naming_thread_event_and_sites() {
    let path = scratch("diverge").join("t.trace");
    record(&path, config(), lock_or_try).unwrap();
    let trace = read_trace_file(&path).unwrap();
    STRAY.store(true, StdOrdering::SeqCst);
    let report = replay(&trace, lock_or_try);
    STRAY.store(false, StdOrdering::SeqCst);
    let ReplayOutcome::Diverged(d) = &report.outcome else {
        panic!("expected a divergence, got {}", report.outcome)
    };
    assert_eq!(d.thread, "`worker` (thread 1)");
    assert_eq!(d.event, 1, "the worker's event 0 is its start");
    assert!(d.expected.starts_with("lock of object #0 at tests/replay.rs:"), "{}", d.expected);
    assert!(d.actual.starts_with("try_lock"), "{}", d.actual);
    assert!(report.outcome.to_string().contains("HashMap"), "the report names uncaptured nondeterminism");
}

#[test]
fn a_recorded_worker_panic_replays_as_the_same_panic() {
    let path = scratch("panic").join("t.trace");
    let program = || {
        let worker = thread::spawn(|| {
            let m = Mutex::new(1);
            let v = *m.lock().unwrap();
            if v == 1 {
                panic!("worker gave up");
            }
        });
        let joined = worker.join();
        joined.is_err()
    };
    let recorded = record(&path, config(), program).unwrap();
    assert_eq!(recorded.result, Some(true));
    assert!(matches!(recorded.verdict, Verdict::Completed));
    let trace = read_trace_file(&path).unwrap();
    let report = replay(&trace, program);
    assert_eq!(report.outcome, ReplayOutcome::Matched);
    assert_eq!(report.result, Some(true));
}

#[test]
fn a_lock_order_deadlock_is_recorded_as_the_verdict_and_replays_to_the_same_deadlock() {
    let path = scratch("deadlock").join("t.trace");
    let program = || {
        let a = Arc::new(Mutex::new(0));
        let b = Arc::new(Mutex::new(0));
        // A std barrier (not instrumented) makes both hold their first lock
        // before either takes its second: a certain deadlock.
        let both_hold = Arc::new(Barrier::new(2));
        let spawn = |first: Arc<Mutex<i32>>, second: Arc<Mutex<i32>>, barrier: Arc<Barrier>, name: &str| {
            thread::Builder::new()
                .name(name.into())
                .spawn(move || {
                    let _one = first.lock().unwrap();
                    barrier.wait();
                    let _two = second.lock().unwrap();
                })
                .unwrap()
        };
        let t1 = spawn(Arc::clone(&a), Arc::clone(&b), Arc::clone(&both_hold), "a-then-b");
        let t2 = spawn(b, a, both_hold, "b-then-a");
        t1.join().unwrap();
        t2.join().unwrap();
    };
    let recorded = record(&path, config(), program).unwrap();
    let Verdict::Deadlock { blocked } = &recorded.verdict else {
        panic!("expected a deadlock, got {}", recorded.verdict)
    };
    let cycle: Vec<u32> =
        blocked.iter().filter(|b| b.op == reprise::trace::model::Op::Lock).map(|b| b.thread).collect();
    assert_eq!(cycle, vec![1, 2]);
    assert_eq!(blocked[0].waits_for, Some(2));
    assert_eq!(blocked[1].waits_for, Some(1));
    let trace = read_trace_file(&path).unwrap();
    assert!(trace.is_whole());
    let report = replay(&trace, program);
    assert_eq!(report.outcome, ReplayOutcome::Deadlock(recorded.verdict.clone()));
}

/// Two threads passing many messages: enough events for several chunks each.
fn ping_pong(rounds: u64) -> u64 {
    let (to_worker, worker_rx) = channel::bounded::<u64>(8);
    let (to_main, main_rx) = channel::bounded::<u64>(8);
    let worker = thread::spawn(move || {
        for v in worker_rx.iter() {
            to_main.send(v * 2).unwrap();
        }
    });
    let mut sum = 0;
    for i in 0..rounds {
        to_worker.send(i).unwrap();
        sum += main_rx.recv().unwrap();
    }
    drop(to_worker);
    worker.join().unwrap();
    sum
}

#[test]
fn a_cut_trace_replays_its_consistent_prefix_and_says_the_trace_ended() {
    let dir = scratch("cut");
    let path = dir.join("whole.trace");
    record(&path, config(), || ping_pong(20_000)).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    let cut = dir.join("cut.trace");
    std::fs::write(&cut, &bytes[..bytes.len() * 6 / 10]).unwrap();
    let trace = read_trace_file(&cut).unwrap();
    assert!(!trace.is_whole());
    assert!(trace.chunks > 2, "only {} chunks survived", trace.chunks);
    let report = replay(&trace, || ping_pong(20_000));
    let ReplayOutcome::TraceEnded { replayed } = report.outcome else { panic!("got {}", report.outcome) };
    assert!(replayed > 1000, "replayed only {replayed} events");
    assert_eq!(replayed, report.events, "every event of the consistent prefix is replayed");
}

#[test]
fn threads_all_blocked_on_channels_are_recorded_as_a_deadlock() {
    let path = scratch("channel-deadlock").join("t.trace");
    let program = || {
        let (tx, rx) = channel::bounded::<u32>(1);
        let producer = thread::spawn(move || {
            for i in 0..3 {
                tx.send(i).unwrap(); // the second send blocks: nobody receives
            }
        });
        producer.join().unwrap();
        drop(rx);
    };
    // Only a closed world proves a channel wait: a thread reprise does not
    // see could otherwise still receive.
    let recorded = record(&path, config().closed_world(true), program).unwrap();
    let Verdict::Deadlock { blocked } = &recorded.verdict else { panic!("got {}", recorded.verdict) };
    let ops: Vec<_> = blocked.iter().map(|b| (b.thread, b.op)).collect();
    use reprise::trace::model::Op;
    assert_eq!(ops, vec![(0, Op::Join), (1, Op::Send)]);
    let trace = read_trace_file(&path).unwrap();
    assert_eq!(replay(&trace, program).outcome, ReplayOutcome::Deadlock(recorded.verdict.clone()));
}

/// Two workers taking one lock many times, capturing a value now and then
/// (one of them longer than a chunk, so its bytes span chunks).
fn many_turns() -> u64 {
    let m = Arc::new(Mutex::new(0u64));
    let workers: Vec<_> = (0..2u64)
        .map(|w| {
            let m = Arc::clone(&m);
            thread::spawn(move || {
                for i in 0..50_000u64 {
                    if i % 5_000 == 0 {
                        let len = if i == 10_000 { 100_000 } else { 8 };
                        let value: Vec<u8> = reprise::capture(move || vec![(w + i) as u8; len]);
                        *m.lock().unwrap() += value.len() as u64;
                    }
                    *m.lock().unwrap() += 1;
                }
            })
        })
        .collect();
    for worker in workers {
        worker.join().unwrap();
    }
    let total = *m.lock().unwrap();
    total
}

#[test]
fn an_indexed_replay_holds_a_chunk_per_thread_not_the_trace() {
    let path = scratch("indexed").join("t.trace");
    let recording = record(&path, config(), many_turns).unwrap();
    let trace = reprise::IndexedTrace::open(&path).unwrap();
    assert!(trace.is_whole(), "{:?}", trace.end.damage);
    let events = trace.log.event_count();
    assert!(events >= 200_000, "{events} events");
    // Turn numbers are dense in a whole trace: one range per counter.
    assert!(trace.log.rank_ranges() <= 2, "{} ranges", trace.log.rank_ranges());
    let report = reprise::replay_indexed(trace, &reprise::ReplayOptions::default(), many_turns);
    assert!(matches!(report.outcome, ReplayOutcome::Matched), "{}", report.outcome);
    assert_eq!(report.result, recording.result, "the captured values came back");
    assert_eq!(report.replayed, events);
    // Each worker's stream is half the trace: a window holding it, or the
    // whole trace, would break this bound five times over.
    assert!(
        report.peak_window > 0 && report.peak_window * 10 <= events as usize,
        "a window held {} of {events} events",
        report.peak_window
    );
}

#[test]
fn a_trace_file_that_changes_under_an_indexed_replay_is_reported_not_a_panic() {
    let path = scratch("indexed-changed").join("t.trace");
    record(&path, config(), many_turns).unwrap();
    let trace = reprise::IndexedTrace::open(&path).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    let report = reprise::replay_indexed(trace, &reprise::ReplayOptions::default(), many_turns);
    let ReplayOutcome::Diverged(d) = &report.outcome else {
        panic!("expected the read failure to be reported, got {}", report.outcome)
    };
    assert_eq!(d.thread, "the trace file");
    assert!(d.actual.contains("cannot read chunk"), "{}", d.actual);
    assert!(report.reproduced.is_none());
}

/// A worker hands the main thread one message by `recv` and one by `select`.
fn hand_over() {
    let (tx, rx) = channel::bounded::<u32>(1);
    let (tx2, rx2) = channel::unbounded::<u32>();
    let worker = thread::spawn(move || {
        tx.send(1).unwrap();
        tx2.send(2).unwrap();
    });
    let first = rx.recv().unwrap();
    let (arm, second) = channel::select(&[&rx2]);
    worker.join().unwrap();
    assert_eq!((first, arm, second.unwrap()), (1, 0, 2));
}

/// Replays [`hand_over`]'s trace with the outcome fields of `thread`'s first
/// `op` event set to `fields`, and returns the divergence's detail.
fn replay_forged(op: reprise::trace::model::Op, thread: u32, fields: [u64; 3]) -> String {
    use reprise::trace::model::Record;
    let path = scratch(&format!("forged-{}", op.name())).join("t.trace");
    record(&path, config(), hand_over).unwrap();
    let mut trace = read_trace_file(&path).unwrap();
    assert_eq!(replay(&trace, hand_over).outcome, ReplayOutcome::Matched, "the unforged trace replays");
    let event = trace.records_mut(thread).unwrap().iter_mut().find_map(|r| match r {
        Record::Event(e) if e.op == op => Some(e),
        _ => None,
    });
    let event = event.unwrap_or_else(|| panic!("thread {thread} recorded no {}", op.name()));
    [event.a, event.b, event.c] = fields;
    let report = replay(&trace, hand_over);
    let ReplayOutcome::Diverged(d) = &report.outcome else {
        panic!("a forged {} outcome replayed as {}", op.name(), report.outcome)
    };
    d.detail.clone()
}

/// The part of a divergence's detail that says the trace's outcome is one no
/// recorder writes.
const BAD_OUTCOME: &str = "the trace holds an outcome no recorder writes";

#[test]
fn a_forged_receive_outcome_is_a_divergence_naming_it_not_an_error_the_program_sees() {
    use reprise::trace::model::Op;
    let detail = replay_forged(Op::Recv, 0, [0, 7, 0]);
    assert!(detail.contains(BAD_OUTCOME), "{detail}");
    assert!(detail.contains("recv with outcome fields (0, 7, 0): not a message and no reason"), "{detail}");
}

#[test]
fn a_forged_send_outcome_is_a_divergence_naming_it_not_an_error_the_program_sees() {
    use reprise::trace::model::Op;
    let detail = replay_forged(Op::Send, 1, [1, 9, 0]);
    assert!(detail.contains(BAD_OUTCOME), "{detail}");
    assert!(detail.contains("send with outcome fields (1, 9, 0): unknown send result"), "{detail}");
}

#[test]
fn a_forged_select_arm_is_a_divergence_naming_the_bad_outcome() {
    use reprise::trace::model::Op;
    let detail = replay_forged(Op::Select, 0, [2, 1, 1 << 40]);
    assert!(detail.contains(BAD_OUTCOME), "{detail}");
    assert!(detail.contains("arm out of range"), "{detail}");
}

#[test]
fn a_select_without_timeout_recorded_as_timed_out_is_a_divergence_not_a_panic() {
    use reprise::trace::model::{Op, Outcome, Received};
    let timed_out = Outcome::Select { arm: 0, received: Received::TimedOut }.fields();
    let detail = replay_forged(Op::Select, 0, timed_out);
    assert!(detail.contains("a select without a timeout is recorded as timed out"), "{detail}");
}

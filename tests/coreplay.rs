//! Replay on coroutines (`replay_coroutines`, `reprise replay --coroutines`):
//! the same endings, reports and exit codes as parallel replay, with every
//! thread a coroutine on one OS thread following the recorded order.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering as StdOrdering};
use std::sync::{Arc, Barrier};

use reprise::sync::{Mutex, RwLock};
use reprise::trace::format::Verdict;
use reprise::{
    capture, channel, random, read_trace_file, record, replay_coroutines, thread, time, OnDeadlock,
    RecordConfig, ReplayOutcome,
};
use reprise_replayer::compare::compare;

use crate::util::{reprise, reprise_on, scratch, stderr, stdout};

fn config() -> RecordConfig {
    RecordConfig::new("coreplay-tests", "1").on_deadlock(OnDeadlock::Return)
}

/// The last two lines of a pipeline run: its digest and invariants.
fn ending(out: &std::process::Output) -> Vec<String> {
    let text = stdout(out);
    let mut lines: Vec<String> = text.lines().rev().take(2).map(str::to_owned).collect();
    lines.reverse();
    lines
}

#[test]
fn every_sample_trace_replays_on_coroutines_to_its_recorded_digest_and_verdict() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("traces");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "trace") {
            continue;
        }
        let parallel = reprise_on(&["replay"], &path);
        let coroutines = reprise_on(&["replay", "--coroutines"], &path);
        // Exit 0: the verdict and every recorded annotation came back.
        assert_eq!(coroutines.status.code(), Some(0), "{}: {}", path.display(), stderr(&coroutines));
        assert_eq!(ending(&coroutines), ending(&parallel), "{}", path.display());
        seen += 1;
    }
    assert!(seen >= 8, "traces/ holds the sample traces");
}

#[test]
fn a_payments_recording_with_each_bug_replays_on_coroutines_to_the_recorded_digest() {
    let dir = scratch("coreplay-payments");
    for bug in ["none", "lost-update", "double-apply", "reorder", "deadlock"] {
        let path = dir.join(format!("{bug}.trace"));
        let file = path.to_str().unwrap();
        let recorded = reprise(&[
            "record",
            "--pipeline",
            "payments",
            "--bug",
            bug,
            "--payments",
            "600",
            "--workers",
            "4",
            "--out",
            file,
        ]);
        assert!(matches!(recorded.status.code(), Some(0 | 1)), "{bug}: {}", stderr(&recorded));
        let trace = read_trace_file(&path).unwrap();
        let out = reprise(&["replay", "--coroutines", file]);
        assert_eq!(out.status.code(), Some(0), "{bug}: {}", stderr(&out));
        let footer = trace.footer.as_ref().unwrap();
        let lines = ending(&out);
        match footer.annotation("digest") {
            Some(digest) => assert_eq!(lines[0], format!("digest: {digest}"), "{bug}"),
            None => assert!(matches!(footer.verdict, Verdict::Deadlock { .. }), "{bug}"),
        }
    }
}

/// Reads the clock, the wall clock, the random source and a captured value
/// (counting how often the capture's closure really runs).
fn outside_world(reads: Arc<AtomicU64>) -> impl Fn() -> (u64, u64, u64, u64, u64) + Send + Clone + 'static {
    move || {
        let start = time::now();
        let reads = Arc::clone(&reads);
        let worker = thread::spawn(move || {
            let fetched: u64 = capture(|| 1000 + reads.fetch_add(1, StdOrdering::SeqCst));
            fetched + random::below(1_000_000)
        });
        let wall = time::system_now().duration_since(time::UNIX_EPOCH).unwrap().as_nanos() as u64;
        let drawn = random::u64();
        let from_worker = worker.join().unwrap();
        let elapsed = time::now().duration_since(start).as_nanos() as u64;
        (elapsed, wall, drawn, from_worker, 0)
    }
}

#[test]
fn time_random_and_captured_values_come_from_the_trace_without_running_the_capture() {
    let path = scratch("coreplay-outside").join("t.trace");
    let reads = Arc::new(AtomicU64::new(0));
    let recorded = record(&path, config(), outside_world(Arc::clone(&reads))).unwrap();
    assert_eq!(reads.load(StdOrdering::SeqCst), 1);
    let trace = read_trace_file(&path).unwrap();
    let report = replay_coroutines(&trace, outside_world(Arc::clone(&reads)));
    assert_eq!(report.outcome, ReplayOutcome::Matched, "{}", report.outcome);
    assert_eq!(report.result, recorded.result, "the clock, the random source and the capture as recorded");
    assert_eq!(reads.load(StdOrdering::SeqCst), 1, "the capture's closure did not run again");
    assert_eq!(report.replayed, report.events);
}

/// A consumer that polls: how many polls found the channel empty, and the
/// lock tries that found the lock held, depend on the schedule.
fn polling() -> (u64, u64, Vec<u64>) {
    let (tx, rx) = channel::bounded(2);
    let lock = Arc::new(Mutex::new(0u64));
    let held = Arc::clone(&lock);
    let producer = thread::spawn(move || {
        for i in 0..20u64 {
            *held.lock().unwrap() += i;
            tx.send(i).unwrap();
        }
    });
    let (mut empty, mut busy, mut got) = (0, 0, Vec::new());
    loop {
        match rx.try_recv() {
            Ok(v) => got.push(v),
            Err(channel::TryRecvError::Empty) => empty += 1,
            Err(channel::TryRecvError::Disconnected) => break,
        }
        if lock.try_lock().is_err() {
            busy += 1;
        }
        thread::yield_now();
    }
    producer.join().unwrap();
    (empty, busy, got)
}

/// A writer and a reader that only try: how many tries found the lock
/// taken depends on the schedule.
fn trying() -> (u64, u64) {
    let table = Arc::new(RwLock::new(0u64));
    let writer_table = Arc::clone(&table);
    let writer = thread::spawn(move || {
        let mut busy = 0;
        for i in 0..30u64 {
            match writer_table.try_write() {
                Ok(mut t) => *t += i,
                Err(_) => busy += 1,
            }
            thread::yield_now();
        }
        busy
    });
    let mut busy = 0;
    for _ in 0..30 {
        if table.try_read().is_err() {
            busy += 1;
        }
        let _held = table.read().unwrap();
        thread::yield_now();
    }
    (busy, writer.join().unwrap())
}

#[test]
fn what_rwlock_tries_found_comes_from_the_trace() {
    let path = scratch("coreplay-rwlock").join("t.trace");
    let recorded = record(&path, config(), trying).unwrap();
    let trace = read_trace_file(&path).unwrap();
    let report = replay_coroutines(&trace, trying);
    assert_eq!(report.outcome, ReplayOutcome::Matched, "{}", report.outcome);
    assert_eq!(report.result, recorded.result);
}

#[test]
fn what_non_blocking_calls_found_comes_from_the_trace() {
    let path = scratch("coreplay-polling").join("t.trace");
    let recorded = record(&path, config(), polling).unwrap();
    let trace = read_trace_file(&path).unwrap();
    let report = replay_coroutines(&trace, polling);
    assert_eq!(report.outcome, ReplayOutcome::Matched, "{}", report.outcome);
    assert_eq!(report.result, recorded.result);
    assert_eq!(report.reproduced, Some(Verdict::Completed));
}

/// Two threads take two mutexes in opposite orders. Recording, a std
/// barrier makes both hold their first before either takes its second; a
/// coroutine replay must not wait on it (one OS thread runs both), and
/// needs not: the recorded lock turns decide.
fn lock_order(barrier: bool) -> impl Fn() + Send + Clone + 'static {
    move || {
        let a = Arc::new(Mutex::new(0));
        let b = Arc::new(Mutex::new(0));
        let both_hold = Arc::new(Barrier::new(2));
        let spawn = |first: Arc<Mutex<i32>>, second: Arc<Mutex<i32>>, both_hold: Arc<Barrier>| {
            thread::spawn(move || {
                let _one = first.lock().unwrap();
                if barrier {
                    both_hold.wait();
                }
                let _two = second.lock().unwrap();
            })
        };
        let t1 = spawn(Arc::clone(&a), Arc::clone(&b), Arc::clone(&both_hold));
        let t2 = spawn(b, a, both_hold);
        t1.join().unwrap();
        t2.join().unwrap();
    }
}

#[test]
fn a_recorded_deadlock_replays_on_coroutines_to_the_same_verdict() {
    let path = scratch("coreplay-deadlock").join("t.trace");
    let recorded = record(&path, config(), lock_order(true)).unwrap();
    assert!(matches!(recorded.verdict, Verdict::Deadlock { .. }), "{}", recorded.verdict);
    let trace = read_trace_file(&path).unwrap();
    let report = replay_coroutines(&trace, lock_order(false));
    assert!(matches!(report.outcome, ReplayOutcome::Deadlock(_)), "{}", report.outcome);
    let reproduced = report.reproduced.expect("a deadlock is a verdict");
    let mismatches = compare(trace.footer.as_ref().unwrap(), &reproduced, &[]);
    assert!(mismatches.is_empty(), "{mismatches:?}");
}

/// The worker takes the lock `rounds` times, or with `stray` only tries it.
fn worker_program(rounds: u32, stray: bool) -> impl Fn() -> i32 + Send + Clone + 'static {
    move || {
        let m = Arc::new(Mutex::new(0));
        let m2 = Arc::clone(&m);
        let worker = thread::Builder::new().name("worker".into()).spawn(move || {
            for _ in 0..rounds {
                if stray {
                    let _ = m2.try_lock();
                } else {
                    *m2.lock().unwrap() += 1;
                }
            }
        });
        worker.unwrap().join().unwrap();
        let total = *m.lock().unwrap();
        total
    }
}

#[test]
fn a_program_changed_after_recording_is_reported_as_diverged_naming_thread_event_and_sites() {
    let path = scratch("coreplay-diverge").join("t.trace");
    record(&path, config(), worker_program(3, false)).unwrap();
    let trace = read_trace_file(&path).unwrap();
    let report = replay_coroutines(&trace, worker_program(3, true));
    let ReplayOutcome::Diverged(d) = &report.outcome else {
        panic!("expected a divergence, got {}", report.outcome)
    };
    assert_eq!(d.thread, "`worker` (thread 1)");
    assert_eq!(d.event, 1, "the worker's event 0 is its start");
    assert!(d.expected.starts_with("lock of object #0 at tests/coreplay.rs:"), "{}", d.expected);
    assert!(d.actual.starts_with("try_lock"), "{}", d.actual);
    assert_eq!(report.result, None, "a diverged run is not run to its end");
    assert_eq!(report.reproduced, None);
}

#[test]
fn a_program_that_does_less_than_recorded_is_diverged_not_matched() {
    let path = scratch("coreplay-shorter").join("t.trace");
    record(&path, config(), worker_program(3, false)).unwrap();
    let trace = read_trace_file(&path).unwrap();
    let report = replay_coroutines(&trace, worker_program(2, false));
    let ReplayOutcome::Diverged(d) = &report.outcome else {
        panic!("expected a divergence, got {}", report.outcome)
    };
    assert_eq!(d.thread, "`worker` (thread 1)");
    assert!(d.expected.starts_with("lock of object #0"), "{}", d.expected);
    assert_eq!(report.reproduced, None);
}

#[test]
fn a_users_program_replayed_on_coroutines_runs_its_threads_on_one_os_thread() {
    let trace = scratch("coreplay-os-threads").join("ring.trace");
    let exe = crate::util::example("os_threads");
    let recorded = std::process::Command::new(&exe).env("REPRISE_RECORD", &trace).output().unwrap();
    assert_eq!(recorded.status.code(), Some(0), "{}", stderr(&recorded));
    assert!(stderr(&recorded).contains("os threads: 3"), "{}", stderr(&recorded));
    let (t, e) = (trace.to_str().unwrap(), exe.to_str().unwrap());
    for (flags, threads) in [(&[][..], 3), (&["--coroutines"][..], 1)] {
        let args: Vec<&str> = ["replay"].iter().chain(flags).chain(&[t, "--", e]).copied().collect();
        let out = reprise(&args);
        assert_eq!(out.status.code(), Some(0), "{flags:?}: {}", stderr(&out));
        assert_eq!(stdout(&out), stdout(&recorded), "{flags:?}");
        assert!(stderr(&out).contains(&format!("os threads: {threads}\n")), "{flags:?}: {}", stderr(&out));
    }
}

#[test]
fn replay_coroutines_runs_a_users_own_program_on_coroutines() {
    let dir = scratch("coreplay-own");
    let trace = dir.join("transfer.trace");
    let exe = crate::util::example("transfer");
    let recorded = std::process::Command::new(&exe).env("REPRISE_RECORD", &trace).output().unwrap();
    assert_eq!(recorded.status.code(), Some(0), "{}", stderr(&recorded));
    let (t, e) = (trace.to_str().unwrap(), exe.to_str().unwrap());

    let out = reprise(&["replay", "--coroutines", t, "--", e]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), stdout(&recorded), "the replay prints what the recording printed");
    assert!(stderr(&out).contains("replay matched the trace"), "{}", stderr(&out));

    // The pause for a debugger is the parallel replay's.
    let paused = std::process::Command::new(&exe)
        .env("REPRISE_REPLAY", &trace)
        .env("REPRISE_REPLAY_COROUTINES", "1")
        .env(reprise::STOP_AT_ENV, "3")
        .output()
        .unwrap();
    assert_eq!(paused.status.code(), Some(2), "{}", stderr(&paused));
    assert!(stderr(&paused).contains("needs the parallel replay"), "{}", stderr(&paused));

    // The same program run differently leaves the recorded path.
    let out = reprise(&["replay", "--coroutines", t, "--", e, "7"]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(stderr(&out).contains("replay diverged"), "{}", stderr(&out));

    // A value it cannot read is said, and nothing replays.
    let bad = std::process::Command::new(&exe)
        .env("REPRISE_REPLAY", &trace)
        .env("REPRISE_REPLAY_COROUTINES", "yes")
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2), "{}", stderr(&bad));
    assert!(stderr(&bad).contains("REPRISE_REPLAY_COROUTINES=\"yes\""), "{}", stderr(&bad));
    assert_eq!(stdout(&bad), "");
}

/// The waiter's first park returns after the first unpark; main makes the
/// second only once it saw that (through a std flag reprise does not see),
/// so nothing recorded orders the second unpark after the park.
fn park_then_unpark_again() -> u64 {
    let parked_once = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = Arc::clone(&parked_once);
    let waiter = thread::spawn(move || {
        thread::park();
        flag.store(true, StdOrdering::SeqCst);
        thread::park_timeout(std::time::Duration::from_secs(5));
        1
    });
    waiter.thread().unpark();
    // Bounded, so that a coroutine replay (where the waiter cannot run while
    // main spins) goes on; in a recording the waiter sets it at once.
    let start = std::time::Instant::now();
    while !parked_once.load(StdOrdering::SeqCst) && start.elapsed() < std::time::Duration::from_secs(2) {
        std::hint::spin_loop();
    }
    waiter.thread().unpark();
    waiter.join().unwrap()
}

#[test]
fn a_second_unpark_waits_for_the_park_that_saw_only_the_first() {
    let dir = scratch("coreplay-park-order");
    let path = dir.join("park.trace");
    let recorded = record(&path, config(), park_then_unpark_again).unwrap();
    let trace = read_trace_file(&path).unwrap();
    let replayed = replay_coroutines(&trace, park_then_unpark_again);
    // Without the unpark waiting for the park, main runs both unparks first
    // and the park sees two: a divergence.
    assert_eq!(replayed.outcome, ReplayOutcome::Matched, "{}", replayed.outcome);
    assert_eq!(replayed.result, recorded.result);
}

/// Three threads and the calling one taking turns on one mutex, 12,000
/// times each: each thread's events fill several chunks, so a truncated
/// file keeps chunks of every thread.
fn contended_turns() -> u64 {
    let total = Arc::new(Mutex::new(0u64));
    let take_turns = |total: &Mutex<u64>| {
        for _ in 0..12_000 {
            *total.lock().unwrap() += 1;
        }
    };
    let workers: Vec<_> = (0..3)
        .map(|_| {
            let total = Arc::clone(&total);
            thread::spawn(move || take_turns(&total))
        })
        .collect();
    take_turns(&total);
    for worker in workers {
        worker.join().unwrap();
    }
    let sum = *total.lock().unwrap();
    sum
}

/// A trace cut short (here: its file truncated) is cut to its consistent
/// prefix before a coroutine replay follows it, as before a parallel one.
/// Followed uncut, a lock turn after one lost with another thread's tail
/// was taken one number early: a divergence the program never made. Which
/// chunks a truncation keeps depends on how the threads ran (on a loaded
/// machine they may run one after another, and a truncation then loses
/// only tails), so it is tried at four lengths of up to five recordings,
/// until one of them cuts deep.
#[test]
fn a_truncated_trace_replays_on_coroutines_to_the_same_prefix_as_in_parallel() {
    let path = scratch("coreplay-truncated").join("t.trace");
    let truncated = path.with_file_name("truncated.trace");
    let mut deep_cuts = 0;
    for _recording in 0..5 {
        record(&path, config(), contended_turns).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        for tenths in [3, 5, 7, 9] {
            std::fs::write(&truncated, &bytes[..bytes.len() * tenths / 10]).unwrap();
            let trace = read_trace_file(&truncated).unwrap();
            assert!(!trace.is_whole());
            let parallel = reprise::replay(&trace, contended_turns);
            assert!(
                matches!(parallel.outcome, ReplayOutcome::TraceEnded { .. }),
                "{tenths}/10: {}",
                parallel.outcome
            );
            let coroutines = replay_coroutines(&trace, contended_turns);
            assert!(
                matches!(coroutines.outcome, ReplayOutcome::TraceEnded { .. }),
                "{tenths}/10: {} ({} of {} events)",
                coroutines.outcome,
                coroutines.replayed,
                coroutines.events
            );
            assert_eq!(
                (coroutines.replayed, coroutines.cut),
                (parallel.replayed, parallel.cut),
                "{tenths}/10"
            );
            if coroutines.cut > 0 && coroutines.replayed > 1_000 {
                deep_cuts += 1;
            }
        }
        if deep_cuts > 0 {
            break;
        }
    }
    assert!(
        deep_cuts > 0,
        "in five recordings no truncation kept much and lost turns others' kept events follow"
    );
}

/// The root hands two messages over a rendezvous to a worker, then draws a
/// number and joins it.
fn rendezvous_then_draw() -> u64 {
    let (tx, rx) = channel::bounded::<u64>(0);
    let worker = thread::spawn(move || rx.recv().unwrap() + rx.recv().unwrap());
    tx.send(1).unwrap();
    tx.send(2).unwrap();
    let drawn = random::u64();
    worker.join().unwrap() + drawn
}

/// A cut trace (a crash, a flight dump) can keep a rendezvous send and lose
/// the receive that took it. The coroutine replay's send once waited for a
/// taker that never came, and the sender's events after it were never
/// replayed (parallel replay let the send return).
#[test]
fn after_a_cut_a_rendezvous_send_whose_receive_was_lost_returns_in_both_replays() {
    let path = scratch("coreplay-rendezvous-cut").join("t.trace");
    record(&path, config(), rendezvous_then_draw).unwrap();
    let mut trace = read_trace_file(&path).unwrap();
    let worker = trace.records_mut(1).unwrap();
    let second_receive = worker
        .iter()
        .enumerate()
        .filter(|(_, r)| matches!(r, reprise::trace::model::Record::Event(e) if e.op == reprise::trace::model::Op::Recv))
        .nth(1)
        .map(|(at, _)| at)
        .expect("the worker received twice");
    worker.truncate(second_receive);
    // As a crash leaves it: no end marker.
    trace.footer = None;
    let parallel = reprise::replay(&trace, rendezvous_then_draw);
    let on_coroutines = replay_coroutines(&trace, rendezvous_then_draw);
    for (how, report) in [("parallel", parallel), ("coroutines", on_coroutines)] {
        assert!(matches!(report.outcome, ReplayOutcome::TraceEnded { .. }), "{how}: {}", report.outcome);
        assert_eq!(report.replayed, report.events, "{how}: the draw after the second send too");
        assert!(report.cut > 0, "{how}: the root's join was cut");
    }
}

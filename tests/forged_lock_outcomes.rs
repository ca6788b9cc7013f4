//! A trace whose outcome fields were forged (fields no recorder writes for
//! their operation) replays to a divergence naming the bad outcome, at the
//! forged event: never a panic, a hang, or a wait for a turn that cannot come.
//!
//! The forgeries keep the turn numbers the replay log reads from the raw
//! fields (`replayer/src/log.rs`, `prefix.rs`), except where the primitive's
//! own check comes first: what is tested is the primitives' replay paths.

use std::time::Duration;

use reprise::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use reprise::sync::{Condvar, Mutex, RwLock};
use reprise::trace::model::{Event, Op, Record};
use reprise::trace::read::TraceFile;
use reprise::{read_trace_file, record, replay, RecordConfig, ReplayOutcome};

use crate::util::scratch;

/// One call of every lock and atomic operation, on the root thread.
fn every_lock_and_atomic() -> u64 {
    let m = Mutex::new(0u64);
    let cv = Condvar::new();
    let guard = m.lock().unwrap();
    let (mut guard, _) = cv.wait_timeout(guard, Duration::from_millis(1)).unwrap();
    *guard += 1;
    drop(guard);
    cv.notify_one();
    drop(m.try_lock().unwrap());
    let rw = RwLock::new(0u64);
    *rw.write().unwrap() += 1;
    let read = *rw.read().unwrap();
    drop(rw.try_read().unwrap());
    drop(rw.try_write().unwrap());
    let a = AtomicU64::new(0);
    a.store(1, Ordering::SeqCst);
    let swapped = a.fetch_add(1, Ordering::SeqCst);
    let _ = a.compare_exchange(2, 3, Ordering::SeqCst, Ordering::SeqCst);
    let flag = AtomicBool::new(false);
    flag.store(true, Ordering::Release);
    read + swapped + a.load(Ordering::SeqCst) + u64::from(flag.load(Ordering::Acquire))
}

/// Thread 0's first event of `op`, its index in the thread's events, and the
/// trace with that event's fields replaced by `fields`.
fn forge(trace: &TraceFile, op: Op, fields: [u64; 3]) -> (usize, TraceFile) {
    let mut forged = trace.clone();
    let events = forged.records_mut(0).unwrap().iter_mut().filter_map(|r| match r {
        Record::Event(e) => Some(e),
        _ => None,
    });
    let (index, event) = events.enumerate().find(|(_, e)| e.op == op).expect("the program makes that call");
    let [a, b, c] = fields;
    *event = Event { a, b, c, ..*event };
    (index, forged)
}

#[test]
fn forged_lock_and_atomic_outcomes_replay_to_a_divergence_naming_them() {
    let path = scratch("forged-outcomes").join("t.trace");
    let config = RecordConfig::new("forged-outcomes", "1");
    let recorded = record(&path, config, every_lock_and_atomic).unwrap();
    assert_eq!(recorded.result, Some(6));
    let trace = read_trace_file(&path).unwrap();
    let untouched = replay(&trace, every_lock_and_atomic);
    assert_eq!(untouched.outcome, ReplayOutcome::Matched, "{}", untouched.outcome);

    let forgeries = [
        (Op::Lock, [0, 0, 0], "acquisition numbers start at 1"),
        (Op::Unlock, [7, 0, 0], "a field this operation does not use is set"),
        (Op::CondWait, [2, 5, 0], "timed_out is not 0 or 1"),
        (Op::Notify, [2, 0, 0], "neither one nor all"),
        (Op::TryLock, [0, 3, 0], "a field this operation does not use is set"),
        (Op::WriteLock, [0, 0, 0], "write numbers start at 1"),
        (Op::ReadUnlock, [1, 0, 0], "a field this operation does not use is set"),
        (Op::TryWriteLock, [0, 3, 0], "readers counted on a WouldBlock"),
        (Op::AtomicStore, [1, 5, 0], "a field this operation does not use is set"),
        (Op::AtomicRmw, [2, 1, 4], "a field this operation does not use is set"),
        (Op::AtomicCas, [1, 2, 9], "success is not 0 or 1"),
    ];
    for (op, fields, why) in forgeries {
        let (index, forged) = forge(&trace, op, fields);
        let report = replay(&forged, every_lock_and_atomic);
        let ReplayOutcome::Diverged(d) = &report.outcome else {
            panic!("{} forged as {fields:?}: expected a divergence, got {}", op.name(), report.outcome)
        };
        assert_eq!(d.event, index, "{}: the divergence is at the forged event", op.name());
        assert!(d.detail.contains("an outcome no recorder writes"), "{}: {}", op.name(), d.detail);
        let named =
            format!("{} with outcome fields ({}, {}, {}): {why}", op.name(), fields[0], fields[1], fields[2]);
        assert!(d.detail.contains(&named), "{}: {}", op.name(), d.detail);
    }
}

/// Two threads, each taking `m` then `n` inside it.
fn nested_locks() {
    let (m, n) = (std::sync::Arc::new(Mutex::new(0u64)), std::sync::Arc::new(Mutex::new(0u64)));
    let workers: Vec<_> = (0..2)
        .map(|_| {
            let (m, n) = (std::sync::Arc::clone(&m), std::sync::Arc::clone(&n));
            reprise::thread::spawn(move || {
                let mut outer = m.lock().unwrap();
                *n.lock().unwrap() += 1;
                *outer += 1;
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
}

/// [`nested_locks`] with an RwLock outside: one thread writes, the other
/// reads, each taking `n` inside.
fn nested_in_an_rwlock() {
    let (m, n) = (std::sync::Arc::new(RwLock::new(0u64)), std::sync::Arc::new(Mutex::new(0u64)));
    let workers: Vec<_> = (0..2)
        .map(|w| {
            let (m, n) = (std::sync::Arc::clone(&m), std::sync::Arc::clone(&n));
            reprise::thread::spawn(move || {
                if w == 0 {
                    let mut outer = m.write().unwrap();
                    *n.lock().unwrap() += 1;
                    *outer += 1;
                } else {
                    let outer = m.read().unwrap();
                    *n.lock().unwrap() += *outer;
                }
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
}

/// The inner lock's two acquisition numbers swapped (still 1 and 2, no
/// gap): the thread that takes `m` first now waits for the inner lock's
/// second turn while it holds `m`, and the other thread, whose turn on `m`
/// came, blocked in the real lock `m`. The watchdog counted it as running,
/// so only the time backstop ended the replay ("not a proof"); now the lock
/// waits on the gate for the holder's release, and the stall is proven at
/// once, naming both waits.
#[test]
fn swapped_inner_lock_numbers_are_a_proven_stall_not_a_backstop() {
    swapped_inner_lock_numbers_stall("forged-swapped-nested", nested_locks);
}

/// The same inside an RwLock: whichever side takes it first holds it while
/// it waits for the inner lock's forged turn, and the other side's turn on
/// the RwLock comes (a write after a read, or a read after the write).
#[test]
fn swapped_inner_lock_numbers_inside_an_rwlock_are_a_proven_stall_not_a_backstop() {
    swapped_inner_lock_numbers_stall("forged-swapped-rwlock", nested_in_an_rwlock);
}

/// Records `program` (two threads, each taking an outer lock and the mutex
/// `n` inside it), swaps `n`'s two lock numbers and replays: a stall proven
/// from state.
fn swapped_inner_lock_numbers_stall(name: &str, program: fn()) {
    let path = scratch(name).join("t.trace");
    let recorded = record(&path, RecordConfig::new(name, "1"), program).unwrap();
    assert!(recorded.stopped.is_none());
    let trace = read_trace_file(&path).unwrap();
    // The inner mutex is the last object the locks name; swap its numbers.
    let locks: Vec<(u32, usize, u32, u64)> = trace
        .threads
        .iter()
        .flat_map(|(&t, records)| {
            records
                .iter()
                .filter_map(|r| match r {
                    Record::Event(e) => Some(*e),
                    _ => None,
                })
                .enumerate()
                .filter(|(_, e)| e.op == Op::Lock)
                .map(move |(i, e)| (t, i, e.object, e.a))
                .collect::<Vec<_>>()
        })
        .collect();
    let inner = locks.iter().map(|l| l.2).max().expect("locks were recorded");
    let inner_locks: Vec<_> = locks.iter().filter(|l| l.2 == inner).collect();
    assert_eq!(inner_locks.len(), 2, "{locks:?}");
    let mut forged = trace.clone();
    for (who, other) in [(inner_locks[0], inner_locks[1]), (inner_locks[1], inner_locks[0])] {
        let events = forged.records_mut(who.0).unwrap().iter_mut().filter_map(|r| match r {
            Record::Event(e) => Some(e),
            _ => None,
        });
        for (i, e) in events.enumerate() {
            if i == who.1 {
                e.a = other.3;
            }
        }
    }
    // Long enough that the backstop cannot be what ends the replay.
    let options = reprise::ReplayOptions::default().with_stall_backstop(Some(Duration::from_secs(600)));
    let report = reprise::replay_with(&forged, &options, program);
    match &report.outcome {
        ReplayOutcome::Stalled(stall) => {
            assert_eq!(stall.backstop, None, "decided by time, not from state: {}", report.outcome);
            let said = report.outcome.to_string();
            assert!(said.contains("to be let go by the thread that holds it"), "{said}");
        }
        other => panic!("expected a proven stall, got: {other}"),
    }
}

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

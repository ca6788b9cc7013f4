//! A parallel replay ends when what the trace holds of every thread was
//! replayed, not as soon as the root returns: a thread the root never
//! joined, still running when the body returned, has recorded events the
//! replay must reach before it calls the run matched. (It called the run
//! matched having replayed 608 of 14,447 events.) On coroutines too.

use std::sync::Arc;

use reprise::channel;
use reprise::sync::Mutex;
use reprise::thread;
use reprise::{read_trace_file, record, replay, replay_coroutines, RecordConfig, ReplayOutcome};

use crate::util::scratch;

/// A worker that says it started, then keeps locking its own mutex; the
/// root locks its own a while and returns without joining the worker.
fn root_returns_while_a_worker_runs() -> u64 {
    let (started_tx, started_rx) = channel::bounded::<()>(1);
    let _worker = thread::spawn(move || {
        let own = Mutex::new(0u64);
        started_tx.send(()).unwrap();
        for _ in 0..100_000 {
            *own.lock().unwrap() += 1;
        }
    });
    started_rx.recv().unwrap();
    let mine = Arc::new(Mutex::new(0u64));
    for _ in 0..300 {
        *mine.lock().unwrap() += 1;
    }
    let total = *mine.lock().unwrap();
    total
}

#[test]
fn a_replay_reaches_every_recorded_event_of_a_thread_the_root_did_not_join() {
    let dir = scratch("replay-end-unjoined");
    for run in 0..5 {
        let path = dir.join(format!("run{run}.trace"));
        let recorded =
            record(&path, RecordConfig::new("replay-end", "1"), root_returns_while_a_worker_runs).unwrap();
        assert_eq!(recorded.result, Some(300));
        let trace = read_trace_file(&path).unwrap();
        for round in 0..4 {
            let report = replay(&trace, root_returns_while_a_worker_runs);
            assert_eq!(report.outcome, ReplayOutcome::Matched, "run {run} round {round}: {}", report.outcome);
            assert_eq!(report.result, Some(300));
            assert_eq!(
                report.replayed, report.events,
                "run {run} round {round}: the worker's recorded events were not all replayed"
            );
        }
        let report = replay_coroutines(&trace, root_returns_while_a_worker_runs);
        assert_eq!(report.outcome, ReplayOutcome::Matched, "run {run} coroutines: {}", report.outcome);
        assert_eq!(report.replayed, report.events, "run {run} coroutines");
    }
}

//! A flight-recorder dump taken while a thread waits on a condvar: the wait
//! has given its mutex up, though its event (recorded when the wait ends)
//! is not in the dump. The dump says which threads were in such a wait with
//! their logs ending there, so replay's cut keeps the next holder's turn of
//! that mutex and what follows it, instead of dropping them as turns whose
//! previous holder's release was lost.

use std::sync::Arc;

use reprise::channel;
use reprise::sync::{Condvar, Mutex};
use reprise::trace::model::{Op, Record};
use reprise::{flight, flight_dump, read_trace_file, thread, FlightConfig, RecordConfig, ReplayOutcome};

use crate::util::scratch;

/// A waiter blocks on a condvar; the root takes the mutex the wait gave
/// up, dumps while holding it (the waiter cannot wake), then wakes it.
fn dumps_while_a_thread_waits() -> (bool, u32) {
    let state = Arc::new((Mutex::new(0u32), Condvar::new()));
    let (waiting_tx, waiting_rx) = channel::bounded::<()>(1);
    let theirs = Arc::clone(&state);
    let waiter = thread::spawn(move || {
        let (lock, ready) = &*theirs;
        let mut value = lock.lock().unwrap();
        // Sent holding the mutex: the root's lock below waits for the wait.
        waiting_tx.send(()).unwrap();
        while *value == 0 {
            value = ready.wait(value).unwrap();
        }
        *value
    });
    waiting_rx.recv().unwrap();
    let (lock, ready) = &*state;
    let mut value = lock.lock().unwrap();
    *value += 1;
    // Not unwrapped: a replay of the dump gets `NotFlying` here.
    let dumped = flight_dump().is_ok_and(|info| info.covers_run);
    *value += 1;
    ready.notify_one();
    drop(value);
    (dumped, waiter.join().unwrap())
}

fn root_locks(trace: &reprise::trace::read::TraceFile) -> usize {
    trace.threads[&0].iter().filter(|r| matches!(r, Record::Event(e) if e.op == Op::Lock)).count()
}

#[test]
fn a_dump_during_a_condvar_wait_keeps_the_next_holders_turn() {
    let path = scratch("flight-condvar-wait").join("dump.trace");
    let run =
        flight(&path, FlightConfig::new(RecordConfig::new("flight-waits", "1")), dumps_while_a_thread_waits)
            .unwrap();
    assert_eq!(run.result, Some((true, 2)));
    let trace = read_trace_file(&path).unwrap();
    assert_eq!(root_locks(&trace), 1, "the root's lock of the mutex the wait gave up is in the dump");
    let note = trace.footer.as_ref().and_then(|f| f.annotation(reprise::CONDVAR_WAITS_ANNOTATION));
    assert_eq!(note, Some("1"), "the waiter, thread 1, was in its wait");

    for (how, report) in [
        ("parallel", reprise::replay(&trace, dumps_while_a_thread_waits)),
        ("coroutines", reprise::replay_coroutines(&trace, dumps_while_a_thread_waits)),
    ] {
        assert!(matches!(report.outcome, ReplayOutcome::TraceEnded { .. }), "{how}: {}", report.outcome);
        assert_eq!(report.cut, 0, "{how}: the root's turn after the wait was cut");
        assert_eq!(report.replayed, trace.events, "{how}: every event of the dump was followed");
    }
}

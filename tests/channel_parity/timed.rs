//! `send_timeout`, `send_deadline`, `recv_deadline`, `is_full`, `capacity`,
//! `same_channel`: crossbeam's answers off, recorded and replayed exactly,
//! and in virtual time under the explorer.

use std::time::Duration;

use reprise::channel::{self, RecvTimeoutError, SendTimeoutError};
use reprise::explore::{Config, Explorer};
use reprise::time::Instant;
use reprise::trace::model::{Outcome, Record, Sent};
use reprise::{read_trace_file, record, replay, replay_coroutines, thread, RecordConfig, ReplayOutcome};

use crate::util::scratch;

/// The queries and timed calls, on a full channel, an empty one and a
/// rendezvous nobody waits on: each gives up, then a consumer makes room.
fn timed_calls() -> Vec<String> {
    let mut log = Vec::new();
    let (tx, rx) = channel::bounded::<u32>(1);
    let (tx0, rx0) = channel::bounded::<u32>(0);
    let (utx, urx) = channel::unbounded::<u32>();
    log.push(format!("cap {:?} {:?} {:?}", tx.capacity(), rx0.capacity(), utx.capacity()));
    log.push(format!(
        "same {} {} {}",
        tx.same_channel(&tx.clone()),
        rx.same_channel(&rx.clone()),
        tx.same_channel(&tx0)
    ));
    log.push(format!("full {} {} {}", tx.is_full(), tx0.is_full(), urx.is_full()));
    tx.send(1).unwrap();
    log.push(format!("full {} {}", tx.is_full(), rx.is_full()));
    log.push(sent(tx.send_timeout(2, Duration::from_millis(1))));
    log.push(sent(tx0.send_timeout(3, Duration::from_millis(1))));
    let deadline = Instant::now() + Duration::from_millis(1);
    log.push(sent(tx.send_deadline(4, deadline)));
    log.push(format!("{:?}", urx.recv_deadline(Instant::now() + Duration::from_millis(1))));
    let consumer = thread::spawn(move || (rx.recv().unwrap(), rx.recv().unwrap(), rx0.recv().unwrap()));
    log.push(sent(tx.send_timeout(5, Duration::from_secs(3600))));
    log.push(sent(tx0.send_deadline(6, Instant::now() + Duration::from_secs(3600))));
    log.push(format!("{:?}", consumer.join().unwrap()));
    drop(utx);
    log.push(format!("{:?}", urx.recv_deadline(Instant::now() + Duration::from_secs(3600))));
    drop(tx);
    log
}

/// A timed send's result, with the value it gave back.
fn sent(result: Result<(), SendTimeoutError<u32>>) -> String {
    match result {
        Ok(()) => "sent".into(),
        Err(SendTimeoutError::Timeout(v)) => format!("timeout {v}"),
        Err(SendTimeoutError::Disconnected(v)) => format!("disconnected {v}"),
    }
}

fn expected() -> Vec<String> {
    [
        "cap Some(1) Some(0) None",
        "same true true false",
        "full false true false",
        "full true true",
        "timeout 2",
        "timeout 3",
        "timeout 4",
        "Err(Timeout)",
        "sent",
        "sent",
        "(1, 5, 6)",
        "Err(Disconnected)",
    ]
    .map(String::from)
    .to_vec()
}

#[test]
fn timed_calls_and_queries_answer_as_crossbeam_off() {
    assert_eq!(timed_calls(), expected());
    let (tx, _rx) = channel::bounded::<u8>(0);
    assert!(matches!(tx.send_timeout(1, Duration::ZERO), Err(SendTimeoutError::Timeout(1))));
    let (_tx, rx) = channel::unbounded::<u8>();
    assert_eq!(rx.recv_deadline(Instant::now()), Err(RecvTimeoutError::Timeout));
}

#[test]
fn timed_sends_record_their_timeouts_and_replay_exactly() {
    let path = scratch("timed-calls").join("t.trace");
    let recorded = record(&path, RecordConfig::new("timed", "1"), timed_calls).unwrap();
    let log = recorded.result.expect("the recorded run finished");
    assert_eq!(log, expected());
    let trace = read_trace_file(&path).unwrap();
    let timeouts = trace
        .threads
        .values()
        .flat_map(|r| r.iter())
        .filter(|r| matches!(r, Record::Event(e) if e.outcome() == Ok(Outcome::Send(Sent::TimedOut))))
        .count();
    assert_eq!(timeouts, 3);
    for run in 0..5 {
        let replayed = replay(&trace, timed_calls);
        assert_eq!(replayed.outcome, ReplayOutcome::Matched, "run {run}: {}", replayed.outcome);
        assert_eq!(replayed.result.as_ref(), Some(&log), "run {run}");
    }
    let coroutines = replay_coroutines(&trace, timed_calls);
    assert_eq!(coroutines.outcome, ReplayOutcome::Matched, "{}", coroutines.outcome);
    assert_eq!(coroutines.result.as_ref(), Some(&log));
}

#[test]
fn timed_sends_wait_in_virtual_time_under_the_explorer() {
    // The expected log takes the hour-long timeouts to outlast a consumer
    // that can run: timers expire only once every thread is blocked here
    // (with time as a choice, the explorer may let an hour pass first).
    let config = Config::default().budget(50).time_choices(false);
    let outcome = Explorer::new(config).run(|| {
        let log = timed_calls();
        assert_eq!(log, expected());
    });
    assert!(outcome.failure.is_none(), "{}", outcome.failure.unwrap().report);
    assert_eq!(outcome.schedules, 50);
}

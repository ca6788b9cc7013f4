//! `after`, `at`, `tick`, `never`: crossbeam's semantics off, each receive
//! recorded and replayed exactly without waiting, and on the explorer's
//! virtual clock.

use std::time::Duration;

use reprise::channel::{self, RecvTimeoutError, TryRecvError};
use reprise::explore::{Config, Explorer};
use reprise::time::Instant;
use reprise::trace::model::{Outcome, Record};
use reprise::{read_trace_file, record, replay, replay_coroutines, thread, RecordConfig, ReplayOutcome};

use crate::util::scratch;

/// Every timer kind, received in every way; gives the instants (as offsets
/// from a reading taken first) and the failures, in order.
fn timers() -> Vec<String> {
    let start = Instant::now();
    let offset = |at: Instant| at.saturating_duration_since(start);
    let mut log = Vec::new();
    let after = channel::after(Duration::from_millis(5));
    log.push(format!("after cap {:?}", after.capacity()));
    // Not due for an hour (so no slow machine sees it fire).
    let late = channel::after(Duration::from_secs(3600));
    log.push(format!("after early {:?}", late.try_recv().map(offset)));
    let fired = after.recv().unwrap();
    log.push(format!("after fired at or past 5ms: {}", offset(fired) >= Duration::from_millis(5)));
    log.push(format!("after then {:?}", after.try_recv().map(offset)));
    log.push(format!("after then {:?}", after.recv_timeout(Duration::from_millis(2)).map(offset)));
    let at = channel::at(start + Duration::from_millis(3));
    log.push(format!("at {:?}", at.recv().map(offset)));
    let tick = channel::tick(Duration::from_millis(2));
    let ticks: Vec<Instant> = (0..3).map(|_| tick.recv().unwrap()).collect();
    log.push(format!("ticks ordered: {}", ticks.windows(2).all(|w| w[0] < w[1])));
    let never = channel::never::<String>();
    log.push(format!("never {:?} {:?}", never.try_recv(), never.recv_timeout(Duration::from_millis(1))));
    log.push(format!("never cap {:?}", never.capacity()));
    // A shared `after` delivers once: the thread that waits gets it, the
    // end left behind finds nothing.
    let shared = channel::after(Duration::from_millis(1));
    let other = shared.clone();
    let there = thread::spawn(move || other.recv().is_ok()).join().unwrap();
    let here = shared.try_recv().is_ok();
    log.push(format!("one of two got it: {}", here != there));
    log
}

fn expected() -> Vec<String> {
    [
        "after cap Some(1)".to_string(),
        format!("after early {:?}", Err::<Duration, _>(TryRecvError::Empty)),
        "after fired at or past 5ms: true".into(),
        format!("after then {:?}", Err::<Duration, _>(TryRecvError::Empty)),
        format!("after then {:?}", Err::<Duration, _>(RecvTimeoutError::Timeout)),
        format!("at {:?}", Ok::<_, ()>(Duration::from_millis(3))),
        "ticks ordered: true".into(),
        format!(
            "never {:?} {:?}",
            Err::<String, _>(TryRecvError::Empty),
            Err::<String, _>(RecvTimeoutError::Timeout)
        ),
        "never cap Some(0)".into(),
        "one of two got it: true".into(),
    ]
    .to_vec()
}

#[test]
fn timers_behave_as_crossbeams_off() {
    assert_eq!(timers(), expected());
}

#[test]
fn timer_receives_are_recorded_and_replayed_exactly() {
    let path = scratch("timers").join("t.trace");
    let recorded = record(&path, RecordConfig::new("timers", "1"), timers).unwrap();
    let log = recorded.result.expect("the recorded run finished");
    assert_eq!(log, expected());
    let trace = read_trace_file(&path).unwrap();
    let fired = trace
        .threads
        .values()
        .flat_map(|r| r.iter())
        .filter(|r| matches!(r, Record::Event(e) if matches!(e.outcome(), Ok(Outcome::TimerRecv { fired: Some(_), .. }))))
        .count();
    assert_eq!(fired, 6, "after, at, three ticks and the shared after");
    for run in 0..5 {
        let replayed = replay(&trace, timers);
        assert_eq!(replayed.outcome, ReplayOutcome::Matched, "run {run}: {}", replayed.outcome);
        assert_eq!(replayed.result.as_ref(), Some(&log), "run {run}");
    }
    let coroutines = replay_coroutines(&trace, timers);
    assert_eq!(coroutines.outcome, ReplayOutcome::Matched, "{}", coroutines.outcome);
    assert_eq!(coroutines.result.as_ref(), Some(&log));
}

#[test]
fn timers_run_on_the_explorers_virtual_clock() {
    let outcome = Explorer::new(Config::default().budget(30)).run(|| {
        assert_eq!(timers(), expected());
        // An hour of virtual time, at once.
        let start = Instant::now();
        let hour = channel::after(Duration::from_secs(3600));
        let at = hour.recv().unwrap();
        assert_eq!(at.saturating_duration_since(start), Duration::from_secs(3600));
        assert!(start.elapsed() >= Duration::from_secs(3600));
    });
    assert!(outcome.failure.is_none(), "{}", outcome.failure.unwrap().report);
    assert_eq!(outcome.schedules, 30);
}

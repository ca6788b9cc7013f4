//! A producer that runs ahead of its consumers in a replay: a replayed send
//! never waits for the channel's recorded capacity (the trace does not hold
//! it, and waiting for it could deadlock), so its messages would pile up in
//! the channel's replay queue for the whole trace. Both replays hold a send
//! into a queue of 1,024 messages while another thread can run, and let it
//! go when none can (parallel: the watchdog, from state; coroutines: the
//! scheduler's pick).

use std::sync::Arc;

use reprise::sync::Mutex;
use reprise::{
    channel, read_trace_file, record, replay, replay_coroutines, thread, RecordConfig, ReplayReport,
};

use crate::util::scratch;

/// Messages a replay queue holds before a send into it waits.
const CAP: usize = 1024;

/// A producer sending 20,000 messages into a bounded channel, one event
/// each, and a consumer making nine events per message. Returns the most
/// messages the consumer saw queued, the one it just took included (a
/// recording: at most the capacity, 16, and that one).
fn slow_consumer() -> usize {
    let (tx, rx) = channel::bounded::<usize>(16);
    let producer = thread::spawn(move || (0..20_000).for_each(|i| tx.send(i).unwrap()));
    let total = Arc::new(Mutex::new(0usize));
    let mut most = 0;
    while let Ok(i) = rx.recv() {
        most = most.max(rx.len() + 1);
        for _ in 0..4 {
            *total.lock().unwrap() += i;
        }
    }
    producer.join().unwrap();
    most
}

/// A producer whose 5,000 messages all wait in an unbounded channel until
/// the root, which first joins it, drains them.
fn drained_after_join() -> usize {
    let (tx, rx) = channel::unbounded::<usize>();
    let producer = thread::spawn(move || (0..5_000).for_each(|i| tx.send(i).unwrap()));
    producer.join().unwrap();
    rx.iter().count()
}

/// Records `program`, then replays it in parallel and on coroutines.
fn both_replays(name: &str, program: fn() -> usize) -> (usize, [ReplayReport<usize>; 2]) {
    let path = scratch(name).join("t.trace");
    let recorded = record(&path, RecordConfig::new(name, "1"), program).unwrap();
    let trace = read_trace_file(&path).unwrap();
    let reports = [replay(&trace, program), replay_coroutines(&trace, program)];
    for report in &reports {
        assert!(report.outcome.matched(), "{name}: {}", report.outcome);
    }
    (recorded.result.unwrap(), reports)
}

#[test]
fn a_producer_ahead_of_its_consumer_waits_at_the_cap_in_both_replays() {
    let (recorded, [parallel, coroutines]) = both_replays("backlog-slow", slow_consumer);
    assert!(recorded <= 17);
    for (how, report) in [("parallel", parallel), ("coroutines", coroutines)] {
        let most = report.result.unwrap();
        // The cap, and the sends that saw room before a take was counted.
        assert!(most <= CAP + 2, "{how}: the channel held {most} messages in the replay");
    }
}

#[test]
fn a_producer_whose_consumer_waits_for_it_to_exit_goes_on_in_both_replays() {
    let (recorded, [parallel, coroutines]) = both_replays("backlog-join", drained_after_join);
    assert_eq!(recorded, 5_000);
    assert_eq!((parallel.result, coroutines.result), (Some(5_000), Some(5_000)));
}

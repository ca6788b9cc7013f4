//! The explorer on planted bugs (a seqlock reader that never re-checks its
//! sequence, a rate limiter that checks then acts), each failure's trace
//! replayed to the same failure and one explained by `why`; every correct
//! program of the set explored; a flight recording of the seqlock dumped
//! through the API by a reader mid-run.

use std::sync::Arc;

use reprise::explore::{Config, Explorer};
use reprise::thread;
use reprise::why::{why, WhyConfig, WhyOutcome};
use reprise::{flight, flight_dump, read_trace_file, FlightConfig, RecordConfig};

use super::lockfree::SeqPair;
use super::timed::check_then_act_limiter;
use crate::util::{explored_failure, replays_to_the_panic, scratch};

/// Explores `program` until it panics with `message`; the failure's trace
/// must replay, 5 times in parallel and once on coroutines, to the panic.
fn found_and_replayed_to_the_panic(name: &str, message: &str, program: fn()) {
    let failure = explored_failure(name, 2000, 1, program);
    replays_to_the_panic(name, &failure, message, 5, program);
}

/// A writer and a reader that reads the pair once, trusting an even
/// sequence seen before it read.
fn torn_seqlock() {
    let pair = Arc::new(SeqPair::new());
    let reader = {
        let pair = Arc::clone(&pair);
        thread::spawn(move || {
            for _ in 0..2 {
                let (a, b) = pair.read_once();
                assert_eq!(a + b, 100, "a torn read: ({a}, {b})");
            }
        })
    };
    pair.write(30);
    pair.write(60);
    reader.join().unwrap();
}

#[test]
fn a_seqlock_reader_that_never_rechecks_is_found_and_replays_to_the_torn_read() {
    found_and_replayed_to_the_panic("fifth-explore-seqlock", "a torn read", torn_seqlock);
}

#[test]
fn a_check_then_act_rate_limiter_is_found_and_replays_to_the_overdraft() {
    found_and_replayed_to_the_panic("fifth-explore-limiter", "more than it had", check_then_act_limiter);
}

/// [`check_then_act_limiter`] returning what is left instead of asserting.
fn limiter_left() -> i64 {
    super::timed::tokens_left(1, 2)
}

#[test]
fn why_names_the_other_clients_take_between_a_check_and_its_act() {
    let name = "fifth-why-limiter";
    let check: fn(&i64) -> Option<String> = |&left| (left < 0).then(|| format!("{left} tokens left"));
    let config = Config::default().budget(1000).seed(3).trace_dir(scratch(name));
    let outcome = Explorer::new(config).run_checked(limiter_left, check, |_| {});
    let failure = outcome.failure.expect("the explorer finds the overdraft");
    let trace = read_trace_file(failure.trace.as_ref().expect("the failing schedule is saved")).unwrap();
    let report = why(&trace, limiter_left, check, &WhyConfig::default(), |_| {});
    let WhyOutcome::Found { pair } = report.outcome else { panic!("{report:?}") };
    use reprise::trace::model::Op;
    assert_eq!(pair.first.event.object, pair.second.event.object, "{pair:?}");
    assert_ne!(pair.first.at.0, pair.second.at.0, "two clients: {pair:?}");
    let ops = [pair.first.event.op, pair.second.event.op];
    assert!(ops.contains(&Op::AtomicLoad), "a check and the other's take: {pair:?}");
}

/// Every correct program of this set, explored: no schedule may fail,
/// deadlock or stop the search.
#[test]
fn the_correct_programs_of_this_set_survive_exploration() {
    let _alone = super::phased::ONCE_CELLS.lock().unwrap_or_else(|e| e.into_inner());
    let programs = super::CORRECT.into_iter().chain([("seqlock-dumping", seqlock_dumping as fn() -> String)]);
    for (name, program) in programs {
        crate::util::survives_exploration(&format!("fifth-explore-{name}"), 100, 5, program);
    }
}

/// The seqlock, whose first reader asks for a flight dump after its second
/// read while the writer may still be writing.
fn seqlock_dumping() -> String {
    let pair = Arc::new(SeqPair::new());
    let readers: Vec<_> = (0..2)
        .map(|r| {
            let pair = Arc::clone(&pair);
            thread::spawn(move || {
                let mut seen = Vec::new();
                for i in 0..3 {
                    let ((a, b), _) = pair.read();
                    assert_eq!(a + b, 100);
                    seen.push(a);
                    if r == 0 && i == 1 {
                        // Outside a flight recording there is nothing to dump.
                        let _ = flight_dump();
                    }
                }
                seen
            })
        })
        .collect();
    for a in 1..=5 {
        pair.write(a * 10);
    }
    let seen: Vec<Vec<u64>> = readers.into_iter().map(|h| h.join().unwrap()).collect();
    format!("{seen:?}")
}

#[test]
fn a_readers_api_dump_of_the_seqlock_replays_to_its_cut() {
    let dir = scratch("fifth-flight");
    for run in 0..4 {
        let path = dir.join(format!("dump{run}.trace"));
        let config = FlightConfig::new(RecordConfig::new("fifth-flight", "1"));
        let flown = flight(&path, config, seqlock_dumping).unwrap();
        assert!(flown.result.is_some(), "run {run}: {}", flown.verdict);
        assert_eq!(flown.dumps.len(), 1, "run {run}: the reader's dump only");
        assert!(flown.dumps[0].covers_run, "run {run}: the default budget holds the whole run so far");
        let trace = read_trace_file(&path).unwrap();
        assert!(trace.is_whole(), "run {run}: {:?}", trace.damage);
        crate::util::replays_the_whole_dump(&format!("run {run}"), &trace, seqlock_dumping);
    }
}

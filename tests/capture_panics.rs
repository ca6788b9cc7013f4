//! A captured read that panics (a queue that is down, an `unwrap` on a
//! network error) is part of the recorded run: the program may catch the
//! panic and go on another way, and its replay must take the same way
//! without running the read.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};

use reprise::sync::Mutex;
use reprise::{
    capture, capture_sensitive, read_trace_file, record, replay, replay_coroutines, replay_coroutines_keyed,
    replay_with, thread, RecordConfig, ReplayOptions, ReplayOutcome, SealKey,
};

use crate::util::{reprise_on, scratch, stdout};

/// The reads the programs below made, in any mode: replay must make none.
static READS: AtomicU64 = AtomicU64::new(0);

const SECRET: &str = "card 4111 1111 1111 1111";

/// What a caught panic said.
fn said(payload: Box<dyn std::any::Any + Send>) -> String {
    match payload.downcast::<String>() {
        Ok(s) => *s,
        Err(payload) => payload.downcast_ref::<&str>().map_or_else(|| "?".into(), |s| s.to_string()),
    }
}

/// Two workers read inputs; every third read panics, and the worker catches
/// it, counts a retry under a lock and goes on. The result is what each
/// worker saw, in order.
fn retrying_workers() -> Vec<Vec<String>> {
    let retries = std::sync::Arc::new(Mutex::new(0u64));
    let workers: Vec<_> = (0..2u64)
        .map(|worker| {
            let retries = std::sync::Arc::clone(&retries);
            thread::spawn(move || {
                (0..9u64)
                    .map(|n| {
                        let read = catch_unwind(AssertUnwindSafe(|| {
                            capture(|| {
                                READS.fetch_add(1, Ordering::SeqCst);
                                if n % 3 == 1 {
                                    panic!("queue {worker} unreachable at read {n}");
                                }
                                format!("payment {worker}-{n}")
                            })
                        }));
                        match read {
                            Ok(value) => value,
                            Err(payload) => {
                                *retries.lock().unwrap() += 1;
                                format!("retry after: {}", said(payload))
                            }
                        }
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    workers.into_iter().map(|w| w.join().unwrap()).collect()
}

#[test]
fn a_capture_whose_read_panicked_panics_again_in_replay_with_its_message_and_without_reading() {
    let path = scratch("capture-panics").join("t.trace");
    let recorded = record(&path, RecordConfig::new("capture-panics", "1"), retrying_workers).unwrap();
    let seen = recorded.result.clone().unwrap();
    assert_eq!(seen[1][1], "retry after: queue 1 unreachable at read 1", "{seen:?}");
    let trace = read_trace_file(&path).unwrap();
    let reads = READS.load(Ordering::SeqCst);

    let parallel = replay(&trace, retrying_workers);
    assert_eq!(parallel.outcome, ReplayOutcome::Matched, "{}", parallel.outcome);
    assert_eq!(parallel.result.as_ref(), Some(&seen), "the same panics, caught the same way");
    let on_coroutines = replay_coroutines(&trace, retrying_workers);
    assert_eq!(on_coroutines.outcome, ReplayOutcome::Matched, "{}", on_coroutines.outcome);
    assert_eq!(on_coroutines.result.as_ref(), Some(&seen));
    assert_eq!(READS.load(Ordering::SeqCst), reads, "no replay ran a read");

    let out = reprise_on(&["inspect"], &path);
    assert!(out.status.success());
    assert!(
        stdout(&out)
            .contains("the read panicked at tests/capture_panics.rs:45:37: queue 0 unreachable at read 1"),
        "inspect shows the panic where the value would be: {}",
        stdout(&out)
    );
    let out = reprise_on(&["export", "--format", "jsonl"], &path);
    let panicked = stdout(&out).lines().filter(|l| l.contains("the read panicked")).count();
    assert_eq!(panicked, 6, "every panicked read shows as one: {}", stdout(&out));
}

/// A sensitive read that panics with the value in its message: the message
/// is sealed like the value, and the keyed replay panics with it.
fn sensitive_read_that_panics() -> String {
    let read = catch_unwind(|| capture_sensitive::<String, _>(|| panic!("cannot parse {SECRET}")));
    said(read.expect_err("the read panicked"))
}

#[test]
fn a_sensitive_read_that_panicked_keeps_its_message_sealed_and_replays_with_the_key() {
    let key = SealKey::from_bytes([0x42; 32]);
    let path = scratch("capture-panics-sensitive").join("t.trace");
    let config = RecordConfig::new("capture-panics", "1").key(key.clone());
    let recorded = record(&path, config, sensitive_read_that_panics).unwrap();
    assert_eq!(recorded.result.as_deref(), Some(format!("cannot parse {SECRET}").as_str()));
    let bytes = std::fs::read(&path).unwrap();
    assert!(
        !bytes.windows(SECRET.len()).any(|w| w == SECRET.as_bytes()),
        "the message is in the trace in clear"
    );

    let trace = read_trace_file(&path).unwrap();
    let keyed = replay_with(
        &trace,
        &ReplayOptions::default().without_key().key(key.clone()),
        sensitive_read_that_panics,
    );
    assert_eq!(keyed.outcome, ReplayOutcome::Matched, "{}", keyed.outcome);
    assert_eq!(keyed.result, recorded.result);
    let on_coroutines = replay_coroutines_keyed(&trace, key, sensitive_read_that_panics);
    assert_eq!(on_coroutines.outcome, ReplayOutcome::Matched, "{}", on_coroutines.outcome);
    assert_eq!(on_coroutines.result, recorded.result);

    let unkeyed = replay_with(&trace, &ReplayOptions::default().without_key(), sensitive_read_that_panics);
    assert!(
        unkeyed.outcome.to_string().contains("set REPRISE_KEY"),
        "without the key the replay stops saying why: {}",
        unkeyed.outcome
    );
}

/// A read that panics in a worker that does not catch it: the worker dies,
/// the root sees it at the join, and so does the replay.
#[test]
fn an_uncaught_panic_of_a_captured_read_ends_its_thread_in_replay_too() {
    fn program() -> bool {
        let worker = thread::spawn(|| capture::<u64, _>(|| panic!("the feed closed")));
        worker.join().is_err()
    }
    let path = scratch("capture-panics-uncaught").join("t.trace");
    let recorded = record(&path, RecordConfig::new("capture-panics", "1"), program).unwrap();
    assert_eq!(recorded.result, Some(true));
    let trace = read_trace_file(&path).unwrap();
    let replayed = replay(&trace, program);
    assert_eq!(replayed.outcome, ReplayOutcome::Matched, "{}", replayed.outcome);
    assert_eq!(replayed.result, Some(true));
    let on_coroutines = replay_coroutines(&trace, program);
    assert_eq!(on_coroutines.outcome, ReplayOutcome::Matched, "{}", on_coroutines.outcome);
}

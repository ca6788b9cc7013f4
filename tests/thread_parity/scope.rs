//! Scoped threads with std's signature: nested spawns in record, replay
//! and explore, std's panic rules, the explorer's teardown and a deadlock
//! behind a scope's end.

use std::collections::HashSet;
use std::sync::Arc;

use reprise::explore::{Config, Explorer, FailureKind};
use reprise::sync::atomic::{AtomicU64, Ordering};
use reprise::sync::Mutex;
use reprise::trace::model::{Op, Outcome, Record};
use reprise::{read_trace_file, record, replay, replay_coroutines, thread, ReplayOutcome};

use super::{config, count_ops};
use crate::util::scratch;

/// Nested scoped spawns that borrow the caller's data and share a lock: the
/// order of `order` depends on the schedule.
fn scoped_nested() -> (u64, Vec<u64>) {
    let data: Vec<u64> = (1..=8).collect();
    let order = Mutex::new(Vec::new());
    let total = thread::scope(|s| {
        let outer = s.spawn(|| {
            let inner = s.spawn(|| {
                order.lock().unwrap().push(1);
                data[..4].iter().sum::<u64>()
            });
            order.lock().unwrap().push(2);
            let rest: u64 = data[4..].iter().sum();
            inner.join().unwrap() + rest
        });
        // Not joined: the scope's end waits for it.
        s.spawn(|| order.lock().unwrap().push(3));
        assert_eq!(outer.thread().name(), None);
        outer.join().unwrap()
    });
    (total, order.into_inner().unwrap())
}

#[test]
fn a_scope_with_nested_spawns_records_replays_and_explores() {
    let dir = scratch("thread-scope");
    for i in 0..8 {
        let path = dir.join(format!("{i}.trace"));
        let recorded = record(&path, config(), scoped_nested).unwrap();
        let (total, order) = recorded.result.clone().expect("the recording completed");
        assert_eq!(total, 36);
        assert_eq!(order.len(), 3);
        let trace = read_trace_file(&path).unwrap();
        assert_eq!(count_ops(&trace, Op::Spawn), 3, "scoped threads are spawns of the execution");
        let replayed = replay(&trace, scoped_nested);
        assert_eq!(replayed.outcome, ReplayOutcome::Matched, "run {i}: {}", replayed.outcome);
        assert_eq!(replayed.result, recorded.result);
        let on_coroutines = replay_coroutines(&trace, scoped_nested);
        assert_eq!(on_coroutines.outcome, ReplayOutcome::Matched, "run {i}: {}", on_coroutines.outcome);
        assert_eq!(on_coroutines.result, recorded.result);
    }
    let orders = Arc::new(std::sync::Mutex::new(HashSet::new()));
    let seen = Arc::clone(&orders);
    let outcome = Explorer::new(Config::default().budget(200)).run(move || {
        let (total, order) = scoped_nested();
        assert_eq!(total, 36);
        seen.lock().unwrap().insert(order);
    });
    assert!(outcome.failure.is_none(), "{}", outcome.failure.unwrap().report);
    let orders = orders.lock().unwrap();
    assert!(orders.len() > 1, "the explorer interleaves scoped threads: {orders:?}");
}

#[test]
fn the_explorer_finds_a_lost_increment_between_scoped_threads() {
    let dir = scratch("thread-scope-race");
    let outcome = Explorer::new(Config::default().budget(500).trace_dir(&dir).name("scoped")).run(|| {
        let n = AtomicU64::new(0);
        thread::scope(|s| {
            for _ in 0..2 {
                s.spawn(|| {
                    let v = n.load(Ordering::SeqCst);
                    n.store(v + 1, Ordering::SeqCst);
                });
            }
        });
        assert_eq!(n.load(Ordering::SeqCst), 2, "an increment was lost");
    });
    let failure = outcome.failure.expect("the explorer finds the lost increment");
    assert!(failure.kind.summary().contains("an increment was lost"), "{}", failure.report);
    let trace = read_trace_file(failure.trace.as_ref().unwrap()).unwrap();
    assert!(trace.is_whole());
}

#[test]
fn a_scope_panics_for_an_unjoined_panicked_thread_and_not_for_a_joined_one() {
    let joined = thread::scope(|s| s.spawn(|| panic!("joined")).join().is_err());
    assert!(joined);
    let unjoined = std::panic::catch_unwind(|| {
        thread::scope(|s| {
            s.spawn(|| panic!("not joined"));
        })
    });
    let payload = unjoined.expect_err("the scope panics");
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"a scoped thread panicked"));
}

#[test]
fn a_deadlocked_scoped_thread_is_torn_down_before_the_stack_it_borrows() {
    let dir = scratch("thread-scope-teardown");
    let outcome = Explorer::new(Config::default().budget(20).trace_dir(&dir).name("teardown")).run(|| {
        // On the root's stack; the scoped thread holds its lock while it
        // waits forever, so tearing the run down unwinds it with the guard
        // alive: its drop touches `lock`, which must still be there.
        let lock = Mutex::new(0u64);
        let (tx, rx) = reprise::channel::bounded::<u64>(1);
        thread::scope(|s| {
            s.spawn(|| {
                let mut guard = lock.lock().unwrap();
                *guard += rx.recv().unwrap_or(0);
            });
        });
        drop(tx);
    });
    let failure = outcome.failure.expect("the explorer reports the deadlock");
    assert!(matches!(failure.kind, FailureKind::Deadlock { .. }), "{}", failure.report);
}

/// A scoped thread waits forever on a channel whose sender the scope's
/// owner keeps: the owner waits at the scope's end.
fn scope_deadlock() {
    let (tx, rx) = reprise::channel::bounded::<u32>(1);
    thread::scope(|s| {
        s.spawn(|| rx.recv().ok());
    });
    drop(tx);
}

#[test]
fn a_deadlock_at_a_scope_end_is_recorded_as_the_verdict_and_replays_to_it() {
    let path = scratch("thread-scope-deadlock").join("t.trace");
    // Only a closed world proves a channel wait.
    let recorded = record(&path, config().closed_world(true), scope_deadlock).unwrap();
    let reprise::trace::format::Verdict::Deadlock { blocked } = &recorded.verdict else {
        panic!("got {}", recorded.verdict)
    };
    let ops: Vec<_> = blocked.iter().map(|b| (b.thread, b.op)).collect();
    assert_eq!(ops, vec![(0, Op::Join), (1, Op::Recv)]);
    let trace = read_trace_file(&path).unwrap();
    let replayed = replay(&trace, scope_deadlock);
    assert_eq!(replayed.outcome, ReplayOutcome::Deadlock(recorded.verdict.clone()));
}

/// Every thread `trace` joins, with the thread that joined it, in order.
fn joins(trace: &reprise::trace::read::TraceFile) -> Vec<(u32, u32)> {
    let mut joins = Vec::new();
    for (&thread, records) in &trace.threads {
        for record in records.iter() {
            if let Record::Event(e) = record {
                if let Ok(Outcome::Join { joined, .. }) = e.outcome() {
                    joins.push((thread, joined));
                }
            }
        }
    }
    joins
}

/// One scoped thread joined by hand and two left to the scope's end, then a
/// spawn after the scope, which the trace must order after them.
fn scope_then_spawn() -> u64 {
    let total = AtomicU64::new(0);
    thread::scope(|s| {
        let joined = s.spawn(|| total.fetch_add(1, Ordering::SeqCst));
        s.spawn(|| total.fetch_add(10, Ordering::SeqCst));
        s.spawn(|| total.fetch_add(100, Ordering::SeqCst));
        joined.join().unwrap();
    });
    let after = thread::spawn(|| 1000).join().unwrap();
    total.load(Ordering::SeqCst) + after
}

#[test]
fn a_scopes_end_records_a_join_of_each_thread_nobody_joined() {
    let dir = scratch("thread-scope-joins");
    for i in 0..4 {
        let path = dir.join(format!("{i}.trace"));
        let recorded = record(&path, config(), scope_then_spawn).unwrap();
        assert_eq!(recorded.result, Some(1111));
        let trace = read_trace_file(&path).unwrap();
        // Threads 1-3 are scoped (1 joined by hand), 4 spawned after: each
        // joined once by the root, the scope's two in index order at its end.
        assert_eq!(joins(&trace), vec![(0, 1), (0, 2), (0, 3), (0, 4)], "run {i}");
        let replayed = replay(&trace, scope_then_spawn);
        assert_eq!(replayed.outcome, ReplayOutcome::Matched, "run {i}: {}", replayed.outcome);
        let on_coroutines = replay_coroutines(&trace, scope_then_spawn);
        assert_eq!(on_coroutines.outcome, ReplayOutcome::Matched, "run {i}: {}", on_coroutines.outcome);
    }
    // The explorer's runs record them too: its failing schedule's trace.
    fn never_1111() {
        assert_ne!(scope_then_spawn(), 1111, "every schedule gives 1111");
    }
    let outcome = Explorer::new(Config::default().budget(50).trace_dir(&dir).name("joins")).run(never_1111);
    let failure = outcome.failure.expect("the assertion fails on the first schedule");
    let trace = read_trace_file(failure.trace.as_ref().unwrap()).unwrap();
    assert_eq!(joins(&trace), vec![(0, 1), (0, 2), (0, 3), (0, 4)]);
    for replayed in [replay(&trace, never_1111).outcome, replay_coroutines(&trace, never_1111).outcome] {
        assert_eq!(replayed, ReplayOutcome::Matched, "{replayed}");
    }
}

#[test]
fn a_trace_without_the_scopes_joins_still_replays() {
    // As reprise wrote scopes before their end's joins were recorded: the
    // root's two joins at the scope's end taken out of a new recording.
    let path = scratch("thread-scope-old").join("t.trace");
    record(&path, config(), scope_then_spawn).unwrap();
    let mut trace = read_trace_file(&path).unwrap();
    let root: Vec<Record> = trace.threads[&0]
        .iter()
        .filter(|r| {
            !matches!(r, Record::Event(e) if matches!(e.outcome(), Ok(Outcome::Join { joined: 2 | 3, .. })))
        })
        .cloned()
        .collect();
    assert_eq!(root.len() + 2, trace.threads[&0].len());
    trace.threads.insert(0, Arc::new(root));
    if let Some(footer) = trace.footer.as_mut() {
        footer.events -= 2;
    }
    let replayed = replay(&trace, scope_then_spawn);
    assert_eq!(replayed.outcome, ReplayOutcome::Matched, "{}", replayed.outcome);
    let on_coroutines = replay_coroutines(&trace, scope_then_spawn);
    assert_eq!(on_coroutines.outcome, ReplayOutcome::Matched, "{}", on_coroutines.outcome);
}

/// A scope whose thread nobody joins panics; the root catches the scope's
/// panic. The end's join says the thread panicked, in a recording and in
/// both replays and the explorer: the coroutine replay and the explorer
/// joined it as not panicked, and every coroutine replay diverged there
/// (found by the thirteenth hunt).
fn scope_with_a_panicking_thread() -> String {
    let log = Mutex::new(Vec::new());
    let ended = reprise::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        thread::scope(|s| {
            s.spawn(|| {
                log.lock().unwrap().push(1);
                panic!("a bad record");
            });
        })
    }));
    let log = log.lock().unwrap_or_else(|e| e.into_inner()).clone();
    format!("scope ended {}, log {log:?}", if ended.is_ok() { "normally" } else { "by the panic" })
}

#[test]
fn a_scope_ends_join_of_a_panicked_thread_says_so_in_every_mode() {
    let dir = scratch("thread-scope-panicked-join");
    for run in 0..4 {
        let path = dir.join(format!("r{run}.trace"));
        let recorded = record(&path, config(), scope_with_a_panicking_thread).unwrap();
        assert_eq!(recorded.result.as_deref(), Some("scope ended by the panic, log [1]"));
        let trace = read_trace_file(&path).unwrap();
        let panicked_joins = |trace: &reprise::trace::read::TraceFile| {
            trace.threads[&0]
                .iter()
                .filter(|r| matches!(r, Record::Event(e) if matches!(e.outcome(), Ok(Outcome::Join { panicked: true, .. }))))
                .count()
        };
        assert_eq!(panicked_joins(&trace), 1);
        for replayed in [
            replay(&trace, scope_with_a_panicking_thread),
            replay_coroutines(&trace, scope_with_a_panicking_thread),
        ] {
            assert_eq!(replayed.outcome, ReplayOutcome::Matched, "run {run}: {}", replayed.outcome);
            assert_eq!(replayed.result, recorded.result);
        }
    }
    let outcome =
        Explorer::new(Config::default().budget(10).trace_dir(&dir).name("panicked-join")).run(|| {
            scope_with_a_panicking_thread();
        });
    let failure = outcome.failure.expect("a thread panicked: a failure");
    let trace = read_trace_file(failure.trace.as_ref().unwrap()).unwrap();
    let joins: Vec<bool> = trace.threads[&0]
        .iter()
        .filter_map(|r| match r {
            Record::Event(e) => match e.outcome() {
                Ok(Outcome::Join { panicked, .. }) => Some(panicked),
                _ => None,
            },
            _ => None,
        })
        .collect();
    assert_eq!(joins, vec![true], "the explorer's trace joins the thread as panicked");
}

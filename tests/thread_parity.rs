//! `reprise::thread` as `std::thread`: park and unpark recorded, replayed
//! and explored; each logical thread's own handle and thread-locals under
//! the explorer; one probe source compiled against std and reprise. Scoped
//! threads are in `thread_parity/scope.rs`.

use std::cell::Cell;
use std::sync::atomic::{AtomicU64 as StdAtomicU64, Ordering as StdOrdering};
use std::sync::Arc;
use std::time::Duration;

use reprise::explore::{Config, Explorer, FailureKind};
use reprise::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use reprise::trace::model::Op;
use reprise::{
    read_trace_file, record, replay, replay_coroutines, thread, OnDeadlock, RecordConfig, ReplayOutcome,
};

use crate::util::{event_sequence, scratch};

mod scope;

fn config() -> RecordConfig {
    RecordConfig::new("thread-parity", "1").on_deadlock(OnDeadlock::Return)
}

fn count_ops(trace: &reprise::trace::read::TraceFile, op: Op) -> usize {
    event_sequence(trace).iter().flat_map(|(_, calls)| calls).filter(|c| c.0 == op).count()
}

/// The waiter parks until each round's generation is published; how many
/// parks each round takes depends on the schedule (an unpark made before
/// the park is a token, and a park may return spuriously).
fn park_race() -> Vec<u64> {
    const ROUNDS: u64 = 30;
    let generation = Arc::new(AtomicU64::new(0));
    let seen = Arc::clone(&generation);
    let waiter = thread::Builder::new()
        .name("waiter".into())
        .spawn(move || {
            (1..=ROUNDS)
                .map(|round| {
                    let mut parks = 0;
                    while seen.load(Ordering::SeqCst) < round {
                        thread::park();
                        parks += 1;
                    }
                    parks
                })
                .collect::<Vec<u64>>()
        })
        .unwrap();
    for round in 1..=ROUNDS {
        generation.store(round, Ordering::SeqCst);
        waiter.thread().unpark();
    }
    waiter.join().unwrap()
}

#[test]
fn a_park_unpark_race_replays_to_the_recorded_parks_many_times() {
    let dir = scratch("thread-park-race");
    for i in 0..12 {
        let path = dir.join(format!("{i}.trace"));
        let recorded = record(&path, config(), park_race).unwrap();
        let parks = recorded.result.clone().expect("the recording completed");
        let trace = read_trace_file(&path).unwrap();
        assert_eq!(count_ops(&trace, Op::Unpark), 30);
        assert_eq!(count_ops(&trace, Op::Park) as u64, parks.iter().sum::<u64>());
        let replayed = replay(&trace, park_race);
        assert_eq!(replayed.outcome, ReplayOutcome::Matched, "run {i}: {}", replayed.outcome);
        assert_eq!(replayed.result, recorded.result, "run {i}");
        assert_eq!(replayed.replayed, replayed.events);
        let on_coroutines = replay_coroutines(&trace, park_race);
        assert_eq!(on_coroutines.outcome, ReplayOutcome::Matched, "run {i}: {}", on_coroutines.outcome);
        assert_eq!(on_coroutines.result, recorded.result, "run {i}");
    }
}

/// Published with a std atomic, which reprise does not see: only the park's
/// replay waiting for its recorded unpark orders the read after the write.
/// (std's park on Linux returns only for a token, so the recording always
/// reads the value.)
fn published_before_unpark() -> u64 {
    let data = Arc::new(StdAtomicU64::new(0));
    let read = Arc::clone(&data);
    let busy = Arc::new(AtomicU64::new(0));
    let waiter = thread::spawn(move || {
        thread::park();
        read.load(StdOrdering::SeqCst)
    });
    // Recorded events first, so that a replayed park that did not wait for
    // its unpark would run ahead of the write.
    for _ in 0..200 {
        busy.fetch_add(1, Ordering::SeqCst);
    }
    data.store(42, StdOrdering::SeqCst);
    waiter.thread().unpark();
    waiter.join().unwrap()
}

#[test]
fn a_replayed_park_returns_only_after_its_recorded_unpark() {
    let dir = scratch("thread-park-order");
    for i in 0..10 {
        let path = dir.join(format!("{i}.trace"));
        let recorded = record(&path, config(), published_before_unpark).unwrap();
        assert_eq!(recorded.result, Some(42));
        let trace = read_trace_file(&path).unwrap();
        let replayed = replay(&trace, published_before_unpark);
        assert_eq!(replayed.outcome, ReplayOutcome::Matched, "run {i}: {}", replayed.outcome);
        assert_eq!(replayed.result, Some(42), "run {i}");
    }
}

/// A lost wakeup: the notifier looks for a parked waiter before publishing,
/// so a waiter that checks in between parks and is never unparked.
fn lost_wakeup(buggy: bool) -> impl Fn() + 'static {
    move || {
        let ready = Arc::new(AtomicBool::new(false));
        let parked = Arc::new(AtomicBool::new(false));
        let (r, p) = (Arc::clone(&ready), Arc::clone(&parked));
        let waiter = thread::spawn(move || {
            p.store(true, Ordering::SeqCst);
            if buggy {
                if !r.load(Ordering::SeqCst) {
                    thread::park();
                }
            } else {
                while !r.load(Ordering::SeqCst) {
                    thread::park();
                }
            }
        });
        if buggy {
            if parked.load(Ordering::SeqCst) {
                ready.store(true, Ordering::SeqCst);
                waiter.thread().unpark();
            } else {
                ready.store(true, Ordering::SeqCst);
            }
        } else {
            ready.store(true, Ordering::SeqCst);
            waiter.thread().unpark();
        }
        waiter.join().unwrap();
    }
}

#[test]
fn the_explorer_finds_a_lost_wakeup_with_park_and_passes_the_correct_handshake() {
    let dir = scratch("thread-lost-wakeup");
    let failure = Explorer::new(Config::default().budget(500).trace_dir(&dir).name("lost"))
        .run(lost_wakeup(true))
        .failure
        .expect("the explorer finds the waiter parked forever");
    match &failure.kind {
        FailureKind::Deadlock { stuck, .. } => {
            assert!(stuck.iter().any(|s| s.call.and_then(|c| c.op) == Some(Op::Park)), "{}", failure.report)
        }
        other => panic!("expected a deadlock, got {other:?}"),
    }
    let correct = Explorer::new(Config::default().budget(300)).run(lost_wakeup(false));
    assert!(correct.failure.is_none(), "{}", correct.failure.unwrap().report);
    assert_eq!(correct.schedules, 300);
}

#[test]
fn under_the_explorer_park_timeout_times_out_in_virtual_time_and_a_token_is_kept() {
    let outcome = Explorer::new(Config::default().budget(100)).run(|| {
        // Nobody unparks: only the virtual deadline ends it.
        thread::park_timeout(Duration::from_secs(3600));
        // An unpark before the park leaves a token: the park returns at once.
        thread::current().unpark();
        thread::park();
    });
    assert!(outcome.failure.is_none(), "{}", outcome.failure.unwrap().report);
}

#[test]
fn under_the_explorer_each_logical_thread_has_its_own_name_id_and_handle() {
    let outcome = Explorer::new(Config::default().budget(50)).run(|| {
        let me = thread::current();
        assert_eq!(me.name(), Some("main"));
        let named = thread::Builder::new()
            .name("worker".into())
            .spawn(|| {
                let me = thread::current();
                (me.name().map(str::to_owned), me.id())
            })
            .unwrap();
        let unnamed = thread::spawn(|| (thread::current().name().map(str::to_owned), thread::current().id()));
        let (named_id, unnamed_id) = (named.thread().id(), unnamed.thread().id());
        assert_eq!(named.thread().name(), Some("worker"));
        assert_eq!(named.join().unwrap(), (Some("worker".to_owned()), named_id));
        assert_eq!(unnamed.join().unwrap(), (None, unnamed_id));
        assert_ne!(named_id, unnamed_id);
        assert_ne!(me.id(), named_id);
        assert_eq!(thread::current().id(), me.id());
        let scoped = thread::scope(|s| {
            thread::Builder::new()
                .name("scoped".into())
                .spawn_scoped(s, || thread::current().name().map(str::to_owned))
                .unwrap()
                .join()
                .unwrap()
        });
        assert_eq!(scoped.as_deref(), Some("scoped"));
    });
    assert!(outcome.failure.is_none(), "{}", outcome.failure.unwrap().report);
}

reprise::thread_local! {
    static VISITS: Cell<u32> = Cell::new(0);
}

fn visit_three_times() -> u32 {
    for _ in 0..3 {
        VISITS.with(|v| v.set(v.get() + 1));
        thread::yield_now();
    }
    VISITS.with(Cell::get)
}

#[test]
fn under_the_explorer_thread_locals_are_per_logical_thread_and_fresh_each_run() {
    let runs = Arc::new(StdAtomicU64::new(0));
    let counted = Arc::clone(&runs);
    let outcome = Explorer::new(Config::default().budget(50)).run(move || {
        counted.fetch_add(1, StdOrdering::SeqCst);
        assert_eq!(VISITS.with(Cell::get), 0, "a fresh value in each explored run");
        let others: Vec<_> = (0..2).map(|_| thread::spawn(visit_three_times)).collect();
        let mine = visit_three_times();
        for other in others {
            assert_eq!(other.join().unwrap(), 3, "another thread's visits leaked in");
        }
        assert_eq!(mine, 3);
    });
    assert!(outcome.failure.is_none(), "{}", outcome.failure.unwrap().report);
    assert_eq!(runs.load(StdOrdering::SeqCst), 50);
}

#[test]
fn in_record_and_replay_thread_locals_are_per_os_thread_as_std() {
    let program = || {
        let other = thread::spawn(visit_three_times).join().unwrap();
        (other, visit_three_times())
    };
    let path = scratch("thread-local-record").join("t.trace");
    let recorded = record(&path, config(), program).unwrap();
    assert_eq!(recorded.result, Some((3, 3)));
    let replayed = replay(&read_trace_file(&path).unwrap(), program);
    assert_eq!(replayed.outcome, ReplayOutcome::Matched, "{}", replayed.outcome);
    assert_eq!(replayed.result, Some((3, 3)));
}

/// The probe against std's imports.
mod with_std {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Mutex};
    use std::thread;
    use std::thread_local;

    include!("thread_parity/probe.rs");
}

/// The same source against reprise's imports.
mod with_reprise {
    use reprise::sync::atomic::{AtomicBool, Ordering};
    use reprise::sync::{Arc, Mutex};
    use reprise::thread;
    use reprise::thread_local;

    include!("thread_parity/probe.rs");
}

#[test]
fn the_thread_probe_gives_std_result_in_every_mode() {
    let expected = thread::spawn(with_std::probe).join().unwrap();
    assert_eq!(expected, (7, 27, 10, vec![21]));
    assert_eq!(thread::spawn(with_reprise::probe).join().unwrap(), expected, "off");
    let dir = scratch("thread-probe");
    for i in 0..5 {
        let path = dir.join(format!("{i}.trace"));
        let recorded = record(&path, config(), with_reprise::probe).unwrap();
        assert_eq!(recorded.result.as_ref(), Some(&expected), "record");
        let trace = read_trace_file(&path).unwrap();
        let replayed = replay(&trace, with_reprise::probe);
        assert_eq!(replayed.outcome, ReplayOutcome::Matched, "{}", replayed.outcome);
        assert_eq!(replayed.result.as_ref(), Some(&expected), "replay");
        let on_coroutines = replay_coroutines(&trace, with_reprise::probe);
        assert_eq!(on_coroutines.outcome, ReplayOutcome::Matched, "{}", on_coroutines.outcome);
        assert_eq!(on_coroutines.result.as_ref(), Some(&expected), "replay on coroutines");
    }
    let outcome = Explorer::new(Config::default().budget(50)).run(move || {
        assert_eq!(with_reprise::probe(), (7, 27, 10, vec![21]), "explore");
    });
    assert!(outcome.failure.is_none(), "{}", outcome.failure.unwrap().report);
}

reprise::thread_local! {
    static FIRST: Cell<u32> = const { Cell::new(1) };
    static LIST: std::cell::RefCell<Vec<u32>> = std::cell::RefCell::new(Vec::new());
}

/// Two keys in one declaration, std's accessors, and a key reached again
/// inside its own `with`.
fn thread_local_accessors() -> (u32, Vec<u32>, u32) {
    FIRST.set(FIRST.get() + 1);
    LIST.with_borrow_mut(|list| list.push(FIRST.get()));
    let nested = FIRST.with(|outer| FIRST.with(|inner| outer.get() + inner.get()));
    let old = FIRST.replace(10);
    LIST.with_borrow_mut(|list| list.push(old));
    let list = LIST.take();
    assert!(LIST.with_borrow(Vec::is_empty));
    assert_eq!(FIRST.try_with(Cell::get).ok(), Some(10));
    (nested, list, FIRST.take())
}

#[test]
fn thread_local_accessors_behave_as_std_in_every_mode() {
    let expected = (4, vec![2, 2], 10);
    let off = thread::spawn(thread_local_accessors).join().unwrap();
    assert_eq!(off, expected);
    let path = scratch("thread-local-accessors").join("t.trace");
    let recorded = record(&path, config(), || thread::spawn(thread_local_accessors).join().unwrap()).unwrap();
    assert_eq!(recorded.result, Some(expected.clone()));
    let outcome = Explorer::new(Config::default().budget(10)).run(move || {
        let other = thread::spawn(thread_local_accessors);
        assert_eq!(thread_local_accessors(), (4, vec![2, 2], 10));
        assert_eq!(other.join().unwrap(), (4, vec![2, 2], 10));
    });
    assert!(outcome.failure.is_none(), "{}", outcome.failure.unwrap().report);
}

//! `reprise::thread_local!` values end with their thread's body, inside the
//! execution: what their destructors do (a lock, a send) is recorded,
//! replayed and explored in its place. std would run those destructors after
//! the thread left its execution, unrecorded, and a replay could then match
//! every event and still give another result (a log whose entries came in
//! another order).

use std::cell::RefCell;
use std::sync::Arc;

use reprise::channel;
use reprise::explore::{Config, Explorer};
use reprise::sync::Mutex;
use reprise::thread;
use reprise::trace::model::{Op, Record};
use reprise::{read_trace_file, record, replay, RecordConfig};

use crate::util::{replays_give_the_transcript, scratch};

/// Where a [`TlsFlush`] logs, and its thread's name.
type Flush = (Arc<Mutex<Vec<String>>>, String);

/// A thread-local whose destructor logs under a shared lock.
struct TlsFlush(RefCell<Option<Flush>>);

impl Drop for TlsFlush {
    fn drop(&mut self) {
        if let Some((log, name)) = self.0.borrow_mut().take() {
            log.lock().unwrap().push(format!("{name} flushed at exit"));
        }
    }
}

reprise::thread_local! {
    static FLUSH: TlsFlush = TlsFlush(RefCell::new(None));
}

/// Workers log under a lock, and once more from a thread-local's destructor.
fn destructors_lock() -> String {
    let log = Arc::new(Mutex::new(Vec::new()));
    let workers: Vec<_> = (0..3)
        .map(|w| {
            let log = Arc::clone(&log);
            thread::spawn(move || {
                FLUSH.with(|f| *f.0.borrow_mut() = Some((Arc::clone(&log), format!("w{w}"))));
                for i in 0..3 {
                    log.lock().unwrap().push(format!("w{w}.{i}"));
                }
            })
        })
        .collect();
    for worker in workers {
        worker.join().unwrap();
    }
    let joined = log.lock().unwrap().join(" ");
    joined
}

#[test]
fn a_destructors_lock_replays_to_the_recorded_log() {
    replays_give_the_transcript("tls-destructor-lock", 20, destructors_lock);
}

#[test]
fn a_destructors_lock_is_in_the_trace() {
    let path = scratch("tls-destructor-events").join("run.trace");
    let recorded = record(&path, RecordConfig::new("tls-destructor-events", "1"), destructors_lock).unwrap();
    let log = recorded.result.unwrap();
    assert_eq!(log.matches("flushed at exit").count(), 3, "{log}");
    let trace = read_trace_file(&path).unwrap();
    let mutex_locks = trace
        .threads
        .values()
        .flat_map(|records| records.iter())
        .filter(|record| matches!(record, Record::Event(event) if event.op == Op::Lock))
        .count();
    // Three logged lines and one flush per worker, and the root's read (the
    // log's is the program's only lock).
    assert_eq!(mutex_locks, 3 * 4 + 1);
}

reprise::thread_local! {
    static SECOND: TlsFlush = TlsFlush(RefCell::new(None));
}

/// Its destructor sets up [`SECOND`] anew, a value made while the thread's
/// values are being dropped.
struct Chains(Arc<Mutex<Vec<String>>>);

impl Drop for Chains {
    fn drop(&mut self) {
        self.0.lock().unwrap().push("first".into());
        SECOND.with(|s| *s.0.borrow_mut() = Some((Arc::clone(&self.0), "second".into())));
    }
}

reprise::thread_local! {
    static FIRST: RefCell<Option<Chains>> = const { RefCell::new(None) };
}

#[test]
fn a_value_a_destructor_makes_is_dropped_in_the_execution_too() {
    let path = scratch("tls-chain").join("run.trace");
    let run = || {
        let log = Arc::new(Mutex::new(Vec::new()));
        let worker_log = Arc::clone(&log);
        thread::spawn(move || FIRST.with(|f| *f.borrow_mut() = Some(Chains(worker_log)))).join().unwrap();
        let lines = log.lock().unwrap().clone();
        lines
    };
    let recorded = record(&path, RecordConfig::new("tls-chain", "1"), run).unwrap();
    assert_eq!(recorded.result.unwrap(), ["first", "second flushed at exit"]);
    let trace = read_trace_file(&path).unwrap();
    assert!(replay(&trace, run).outcome.matched());
}

reprise::thread_local! {
    static PANICS: RefCell<Option<Panics>> = const { RefCell::new(None) };
}

struct Panics;

impl Drop for Panics {
    fn drop(&mut self) {
        panic!("a thread-local's destructor panics");
    }
}

#[test]
fn a_destructor_that_panics_is_its_threads_panic_not_an_abort() {
    let path = scratch("tls-panic").join("run.trace");
    let run = || {
        let worker = thread::spawn(|| PANICS.with(|p| *p.borrow_mut() = Some(Panics)));
        worker.join().is_err()
    };
    let recorded = record(&path, RecordConfig::new("tls-panic", "1"), run).unwrap();
    assert_eq!(recorded.result, Some(true), "the join sees the panic");
    let trace = read_trace_file(&path).unwrap();
    let replayed = replay(&trace, run);
    assert!(replayed.outcome.matched(), "{}", replayed.outcome);
    assert_eq!(replayed.result, Some(true));
}

/// The root holds the log's lock across a receive while a worker ends
/// (the receive returns once the worker hung up);
/// the worker's destructor takes the same lock. Explored, the destructor's
/// lock is a blocking call the scheduler sees (it waits, the root runs on),
/// and the order in which the two log is a choice it explores.
fn root_holds_the_lock_while_a_worker_ends() {
    let log = Arc::new(Mutex::new(Vec::new()));
    let (tx, rx) = channel::bounded::<()>(0);
    let worker_log = Arc::clone(&log);
    let mut held = log.lock().unwrap();
    let worker = thread::spawn(move || {
        FLUSH.with(|f| *f.0.borrow_mut() = Some((worker_log, "worker".into())));
        drop(tx);
    });
    let _ = rx.recv();
    held.push("root".into());
    drop(held);
    worker.join().unwrap();
    let lines = log.lock().unwrap().clone();
    assert_eq!(lines, ["root", "worker flushed at exit"]);
}

#[test]
fn the_explorer_schedules_a_destructors_lock() {
    let dir = scratch("tls-explore");
    let config = Config::default().budget(200).seed(5).trace_dir(&dir).name("tls");
    let outcome = Explorer::new(config).run(root_holds_the_lock_while_a_worker_ends);
    // The root holds the lock until it logs, so the destructor can only log
    // second: no schedule fails, none stalls.
    assert!(outcome.failure.is_none(), "{:?}", outcome.failure.map(|f| f.kind));
}

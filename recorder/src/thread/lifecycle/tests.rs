//! A thread that ended leaves its execution: what reprise kept of it goes,
//! so a program starting a thread per task, recorded for days, does not
//! grow by each one.

use std::sync::{Arc, Weak};

use crate::rt::context;
use crate::rt::exec::ThreadShared;
use crate::{channel, flight, record, thread, FlightConfig, RecordConfig};

/// Threads started one after another, at most 8 alive at once.
const THREADS: usize = 400;

/// A fan-in of [`THREADS`] short-lived threads, each sending once; returns
/// how many of their shared parts (each holding its thread's chunk buffer)
/// are still alive once all were joined, while the run goes on.
fn fan_in_alive() -> usize {
    let (tx, rx) = channel::unbounded::<Weak<ThreadShared>>();
    let mut handles = std::collections::VecDeque::new();
    for _ in 0..THREADS {
        let tx = tx.clone();
        handles.push_back(thread::spawn(move || {
            let shared = context::with(|ctx| Arc::downgrade(&ctx.shared));
            tx.send(shared).unwrap();
        }));
        if handles.len() >= 8 {
            handles.pop_front().unwrap().join().unwrap();
        }
    }
    for h in handles {
        h.join().unwrap();
    }
    drop(tx);
    let ended: Vec<Weak<ThreadShared>> = rx.iter().collect();
    assert_eq!(ended.len(), THREADS);
    ended.iter().filter(|weak| weak.strong_count() > 0).count()
}

fn temp_trace(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("reprise-left-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join("t.trace")
}

/// The execution kept every thread it ever registered, each with its
/// buffer: about 0.6 KB for each thread a recording ever started.
#[test]
fn a_recording_keeps_nothing_of_the_threads_that_ended() {
    let path = temp_trace("record");
    let run = record(&path, RecordConfig::new("left", "1"), fan_in_alive).unwrap();
    std::fs::remove_dir_all(path.parent().unwrap()).ok();
    let alive = run.result.expect("the run completed");
    // The flusher or the monitor may hold a few for the length of a look.
    assert!(alive <= 16, "{alive} of {THREADS} ended threads still held by the recording");
}

/// The flight recorder's keeper also kept every thread it ever saw, to
/// tell which exited: 1.2 KB for each thread ever started.
#[test]
fn the_flight_recorder_keeps_nothing_of_the_threads_that_ended() {
    let path = temp_trace("flight");
    let run = flight(&path, FlightConfig::new(RecordConfig::new("left", "1")), fan_in_alive).unwrap();
    std::fs::remove_dir_all(path.parent().unwrap()).ok();
    let alive = run.result.expect("the run completed");
    // Besides the flusher's and monitor's looks, the keeper watches the
    // threads holding chunks until it sees them exited: the threads alive
    // bound how many (see `flight::exits`).
    assert!(alive <= 32, "{alive} of {THREADS} ended threads still held by the flight recorder");
}

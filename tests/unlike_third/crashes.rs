//! Recordings that end without `record` returning: a worker that calls
//! `std::process::exit` (late in the run, and a few milliseconds in), and a
//! recording killed with SIGKILL. Each child process records a pipeline of
//! the bounded queue, std mpsc, an RwLock and atomics; the trace it leaves
//! must replay, in parallel and on coroutines, to its end ("the trace
//! ended"), not nothing.

use std::io::{BufRead, BufReader};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use reprise::sync::atomic::{AtomicU64, Ordering};
use reprise::sync::{mpsc, RwLock};
use reprise::thread;
use reprise::{read_trace_file, replay_coroutines, replay_with, RecordConfig, ReplayOptions, ReplayOutcome};

use super::shapes::Queue;
use crate::util::{scratch, wait_bounded};

const CHILD: &str = "REPRISE_THIRD_CHILD";
const CHILD_TRACE: &str = "REPRISE_THIRD_TRACE";
const BACKSTOP: Duration = Duration::from_secs(120);

/// This test binary again, running `test` as the child that records.
fn child(test: &str, trace: &Path) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .args([&format!("unlike_third::crashes::{test}"), "--exact", "--nocapture", "--test-threads", "1"])
        .env(CHILD, test)
        .env(CHILD_TRACE, trace)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

fn as_child(test: &str) -> Option<PathBuf> {
    (std::env::var(CHILD).ok()? == test).then(|| PathBuf::from(std::env::var_os(CHILD_TRACE).unwrap()))
}

/// Forever, or until `exit_at` rounds when recording: a producer feeds the
/// bounded queue, two workers take from it, count into an atomic and send
/// results over std mpsc; the root folds them into an RwLock'd total. The
/// second worker calls `std::process::exit(7)` at round `exit_at`.
fn pipeline(exit_at: Option<u64>, announce: bool) {
    let queue = Arc::new(Queue::new(3));
    let done = Arc::new(AtomicU64::new(0));
    let total = Arc::new(RwLock::new(0u64));
    let (tx, rx) = mpsc::channel::<u64>();
    {
        let queue = Arc::clone(&queue);
        thread::spawn(move || {
            for n in 0.. {
                queue.push(n).unwrap();
            }
        });
    }
    for w in 0..2u64 {
        let (queue, done, tx) = (Arc::clone(&queue), Arc::clone(&done), tx.clone());
        thread::spawn(move || {
            while let Some(n) = queue.pop() {
                let round = done.fetch_add(1, Ordering::AcqRel);
                if w == 1 && exit_at.is_some_and(|at| round >= at) {
                    std::process::exit(7);
                }
                tx.send(n * 2 + w).unwrap();
            }
        });
    }
    drop(tx);
    let mut said = !announce;
    for got in rx.iter() {
        *total.write().unwrap() += got;
        let seen = *total.read().unwrap();
        if !said && seen > 100_000 {
            println!("recording");
            said = true;
        }
    }
}

/// Records [`pipeline`] in a child that ends as `ends` says; returns the
/// trace it left and its exit status.
fn recorded_in_a_child(test: &str, exit_at: Option<u64>) -> Option<(PathBuf, std::process::ExitStatus)> {
    if let Some(path) = as_child(test) {
        let _guard = reprise::start_recording(&path, RecordConfig::new("third-crash", "1")).unwrap();
        pipeline(exit_at, true);
        unreachable!("the pipeline runs until the process ends");
    }
    let path = scratch(test).join("t.trace");
    let mut running = child(test, &path);
    if exit_at.is_none() {
        let out = running.stdout.take().unwrap();
        let mut lines = BufReader::new(out).lines();
        assert!(lines.any(|l| l.is_ok_and(|l| l.ends_with("recording"))), "the child never said recording");
        std::thread::spawn(move || for _ in lines {});
        let started = Instant::now();
        while !read_trace_file(&path).is_ok_and(|t| t.events > 20_000) {
            assert!(started.elapsed() < BACKSTOP, "the recording wrote little");
            std::thread::sleep(Duration::from_millis(10));
        }
        running.kill().unwrap();
    }
    let status = wait_bounded(&mut running);
    Some((path, status))
}

/// The trace at `path` replays to its end both ways, and its end is some
/// way in. A kill leaves no footer; `std::process::exit` finishes the trace
/// and says so (before, it was cut where the flusher had last written).
fn replays_its_prefix(path: &Path, at_least: u64, exited: bool) {
    let trace = read_trace_file(path).unwrap();
    let said = trace.footer.as_ref().map(|f| f.annotation(reprise::EXIT_ANNOTATION).is_some());
    assert_eq!(said, exited.then_some(true), "{:?}", trace.footer);
    assert!(trace.events >= at_least, "{} events kept, expected at least {at_least}", trace.events);
    let mut options = ReplayOptions::default();
    options.stall_backstop = Some(Duration::from_secs(30));
    let parallel = replay_with(&trace, &options, || pipeline(None, false));
    let coroutines = replay_coroutines(&trace, || pipeline(None, false));
    for (how, report) in [("parallel", parallel), ("coroutines", coroutines)] {
        assert!(
            matches!(report.outcome, ReplayOutcome::TraceEnded { .. }),
            "{how}: {} ({} of {} events)",
            report.outcome,
            report.replayed,
            report.events
        );
        assert_eq!(report.replayed, report.events, "{how}: the whole prefix replayed");
        assert!(report.replayed > 0, "{how}: nothing replayed of {} events", trace.events);
    }
}

#[test]
fn a_recording_killed_mid_run_replays_its_prefix() {
    let Some((path, status)) = recorded_in_a_child("a_recording_killed_mid_run_replays_its_prefix", None)
    else {
        return;
    };
    assert_eq!(status.signal(), Some(libc::SIGKILL), "{status}");
    replays_its_prefix(&path, 20_000, false);
}

#[test]
fn a_worker_calling_process_exit_late_leaves_a_trace_that_replays_its_prefix() {
    let test = "a_worker_calling_process_exit_late_leaves_a_trace_that_replays_its_prefix";
    let Some((path, status)) = recorded_in_a_child(test, Some(30_000)) else { return };
    assert_eq!(status.code(), Some(7), "{status}");
    replays_its_prefix(&path, 10_000, true);
}

#[test]
fn a_worker_calling_process_exit_early_leaves_a_trace_that_replays_its_prefix() {
    let test = "a_worker_calling_process_exit_early_leaves_a_trace_that_replays_its_prefix";
    let Some((path, status)) = recorded_in_a_child(test, Some(200)) else { return };
    assert_eq!(status.code(), Some(7), "{status}");
    replays_its_prefix(&path, 200, true);
}

/// The reduced program: a worker takes a lock three times and calls
/// `std::process::exit(7)` when `exit` (the recording); the root waits for
/// it.
fn exits_after_three_locks(exit: bool) {
    let lock = Arc::new(reprise::sync::Mutex::new(0u32));
    let theirs = Arc::clone(&lock);
    let worker = thread::spawn(move || {
        for _ in 0..3 {
            *theirs.lock().unwrap() += 1;
        }
        if exit {
            std::process::exit(7);
        }
        // In a replay the trace ends here; nothing waits for this.
        loop {
            thread::park();
        }
    });
    let _ = worker.join();
}

#[test]
fn a_process_exit_keeps_the_events_before_it() {
    let test = "a_process_exit_keeps_the_events_before_it";
    if let Some(path) = as_child(test) {
        let _guard = reprise::start_recording(&path, RecordConfig::new("third-exit", "1")).unwrap();
        exits_after_three_locks(true);
        unreachable!("the worker exits the process");
    }
    let path = scratch(test).join("t.trace");
    let status = wait_bounded(&mut child(test, &path));
    assert_eq!(status.code(), Some(7), "{status}");
    let trace = read_trace_file(&path).unwrap();
    let locks = crate::util::event_sequence(&trace)
        .iter()
        .flat_map(|(_, events)| events.iter().filter(|e| e.0 == reprise::trace::model::Op::Lock))
        .count();
    assert_eq!(locks, 3, "the worker's three locks are in the trace ({} events in all)", trace.events);
    let parallel = replay_with(&trace, &ReplayOptions::default(), || exits_after_three_locks(false));
    let coroutines = replay_coroutines(&trace, || exits_after_three_locks(false));
    for (how, report) in [("parallel", parallel), ("coroutines", coroutines)] {
        assert_eq!(
            report.replayed, trace.events,
            "{how}: {} ({} of {} events)",
            report.outcome, report.replayed, report.events
        );
    }
}

/// `reprise replay FILE -- CMD` of a program that calls
/// `std::process::exit`: the replayed worker exits at the same point, before
/// `reprise::main`'s replay returns, and the report is written at the exit
/// (it was not: the CLI said the program "exited without replaying the
/// trace", exit 8, though it replayed every event).
#[test]
fn the_cli_replay_of_a_program_that_exits_says_the_trace_ended() {
    let exe = crate::util::example("process_exit");
    let path = scratch("third-cli-exit").join("t.trace");
    let status = Command::new(&exe).env("REPRISE_RECORD", &path).stderr(Stdio::null()).status().unwrap();
    assert_eq!(status.code(), Some(3));
    let trace = read_trace_file(&path).unwrap();
    assert!(trace.footer.as_ref().is_some_and(|f| f.annotation(reprise::EXIT_ANNOTATION).is_some()));
    let out = crate::util::reprise(&["replay", path.to_str().unwrap(), "--", exe.to_str().unwrap()]);
    let stderr = crate::util::stderr(&out);
    assert!(!stderr.contains("without replaying"), "{stderr}");
    assert_eq!(out.status.code(), Some(reprise::exit::TRACE_ENDED), "{stderr}");
}

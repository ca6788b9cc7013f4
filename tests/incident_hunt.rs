//! The production-incident workflow, lived as a user would: programs of
//! their own shapes (`examples/incident_scenarios.rs`) run under
//! `REPRISE_FLIGHT` or `REPRISE_RECORD`, then the dump is verified,
//! inspected and replayed with `reprise replay FILE -- CMD`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::util::{example, reprise_on, scratch, stderr, stdout};

const KEY: &str = "abababababababababababababababababababababababababababababababab";
const WRONG_KEY: &str = "cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd";

fn scenarios() -> PathBuf {
    example("incident_scenarios")
}

/// Runs a scenario with `var=trace` (REPRISE_FLIGHT or REPRISE_RECORD)
/// and the key.
fn run(var: &str, trace: &Path, args: &[&str]) -> Output {
    Command::new(scenarios())
        .args(args)
        .env_remove("REPRISE_RECORD")
        .env_remove("REPRISE_REPLAY")
        .env_remove("REPRISE_FLIGHT")
        .env(var, trace)
        .env("REPRISE_KEY", KEY)
        .output()
        .unwrap()
}

/// `reprise replay TRACE -- incident_scenarios ARGS`, with `key`.
fn replay(trace: &Path, args: &[&str], key: Option<&str>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_reprise"));
    cmd.arg("replay").arg(trace).arg("--").arg(scenarios()).args(args);
    cmd.env_remove("REPRISE_RECORD").env_remove("REPRISE_FLIGHT").env_remove("REPRISE_KEY");
    if let Some(key) = key {
        cmd.env("REPRISE_KEY", key);
    }
    cmd.output().unwrap()
}

fn verified(trace: &Path) {
    let out = reprise_on(&["verify"], trace);
    assert_eq!(out.status.code(), Some(0), "verify: {}{}", stdout(&out), stderr(&out));
}

fn inspect(trace: &Path) -> String {
    let out = reprise_on(&["inspect"], trace);
    assert_eq!(out.status.code(), Some(0), "inspect: {}", stderr(&out));
    stdout(&out)
}

/// A program whose own panic hook calls `flight_dump_all` and
/// `flight_dump`: the keeper waited for the panicking thread to exit
/// before serving them, and the thread waited for the dumps, so the host
/// stood still for the keeper's 5 s backstop; the dumps then written
/// last (running, verdict completed, "flight_dump()") replaced the
/// panic's. Now a dump asked for during that wait is served at once, and
/// the panic's dump (or the run's end, which the caught panic did not
/// stop, dumping for it) comes last.
#[test]
fn a_flight_dump_from_the_programs_panic_hook_leaves_the_panics_dump() {
    let trace = scratch("incident-hook").join("dump.trace");
    let out = run("REPRISE_FLIGHT", &trace, &["hook_dump"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).contains("hook own dump: true"), "{}", stderr(&out));
    verified(&trace);
    let shown = inspect(&trace);
    assert!(
        shown.contains("reprise.flight.dump: panic in thread 1"),
        "the dump on disk is not the panic's:\n{shown}"
    );
    // The panic's own dump (taken while the run went on) or the end's,
    // whichever came first: a whole run replays to its end, a dump taken
    // mid-run to where it was taken.
    let expected = if shown.contains("reprise.flight.running") { 5 } else { 0 };
    let replayed = replay(&trace, &["hook_dump"], None);
    assert_eq!(replayed.status.code(), Some(expected), "{shown}\n{}", stderr(&replayed));
}

/// The dump the hook took (copied aside by the program) ends the
/// panicking thread's log before its panic: replaying it, that panic is
/// past the end of a dump taken mid-run, i.e. the trace ended (exit 5).
/// It was reported as a divergence (exit 3) blaming nondeterminism.
#[test]
fn a_dump_taken_inside_a_panic_hook_replays_to_the_trace_end() {
    let trace = scratch("incident-hook-aside").join("dump.trace");
    let out = run("REPRISE_FLIGHT", &trace, &["hook_dump"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let mut aside = trace.clone().into_os_string();
    aside.push(".hook");
    let aside = PathBuf::from(aside);
    verified(&aside);
    assert!(inspect(&aside).contains("reprise.flight.running"));
    let replayed = replay(&aside, &["hook_dump"], None);
    let said = stderr(&replayed);
    assert_eq!(replayed.status.code(), Some(5), "{said}");
    assert!(said.contains("the trace ended") && !said.contains("diverged"), "{said}");
}

/// A worker ends the process with `std::process::exit(7)` while others
/// hold a lock: under the flight recorder nothing was written (the
/// at-exit finish ended the run as completed, which dumps nothing), so the
/// responder had no dump. Now that exit dumps, as a recording's trace ends.
#[test]
fn process_exit_from_a_worker_leaves_a_flight_dump() {
    let trace = scratch("incident-exit").join("dump.trace");
    let out = run("REPRISE_FLIGHT", &trace, &["exit_holding"]);
    assert_eq!(out.status.code(), Some(7), "{}", stderr(&out));
    assert!(trace.exists(), "no dump after std::process::exit: {}", stderr(&out));
    verified(&trace);
    let shown = inspect(&trace);
    assert!(shown.contains("reprise.flight.dump: std::process::exit"), "{shown}");
    let replayed = replay(&trace, &["exit_holding"], None);
    assert_eq!(replayed.status.code(), Some(5), "{}", stderr(&replayed));
    assert!(stderr(&replayed).contains("std::process::exit"), "{}", stderr(&replayed));
}

/// A worker ends the process while two others take a lock as fast as they
/// can: the recording's exit finished the trace with thousands of their
/// events after the last one the root saw. The replayed exit ended the
/// process as soon as the exiting thread got there, with the others short
/// of their recorded ends (19,572 to 20,251 of a trace's 21,095 events, a
/// different count each run); now it waits, from state, until they have
/// replayed what the trace holds of them.
#[test]
fn a_replayed_exit_ends_the_process_where_the_recording_did() {
    let trace = scratch("incident-exit-busy").join("t.trace");
    let out = run("REPRISE_RECORD", &trace, &["exit_while_busy"]);
    assert_eq!(out.status.code(), Some(7), "{}", stderr(&out));
    for _ in 0..3 {
        let replayed = replay(&trace, &["exit_while_busy"], None);
        let said = stderr(&replayed);
        assert_eq!(replayed.status.code(), Some(5), "{said}");
        let counts = said
            .split("after ")
            .nth(1)
            .and_then(|rest| rest.split(" events").next())
            .unwrap_or_else(|| panic!("no count: {said}"));
        let (replayed, held) = counts.split_once(" of the trace's ").unwrap_or_else(|| panic!("{said}"));
        assert_eq!(replayed, held, "the replayed exit cut the others short: {said}");
    }
}

/// Sensitive captures whose reads panic, and huge and many sensitive
/// values: sealed in the file, redacted by inspect, refused without or
/// with a wrong key (exit 10), reproduced with the right one.
#[test]
fn sensitive_captures_are_sealed_and_need_the_key() {
    let dir = scratch("incident-sensitive");
    for (scenario, secret) in [("capture_panics", &b"card-"[..]), ("huge", &b"SECRET-"[..])] {
        let trace = dir.join(format!("{scenario}.trace"));
        let out = run("REPRISE_RECORD", &trace, &[scenario]);
        assert_eq!(out.status.code(), Some(0), "{scenario}: {}", stderr(&out));
        let bytes = std::fs::read(&trace).unwrap();
        assert!(!bytes.windows(secret.len()).any(|w| w == secret), "{scenario}: a value in clear");
        if scenario == "capture_panics" {
            assert!(!bytes.windows(5).any(|w| w == b"vault"), "a sensitive read's panic message in clear");
        }
        verified(&trace);
        assert!(inspect(&trace).contains("<redacted: sensitive capture>"), "{scenario}");
        let recorded_digest = stdout(&out);
        let right = replay(&trace, &[scenario], Some(KEY));
        assert_eq!(right.status.code(), Some(0), "{scenario}: {}", stderr(&right));
        assert_eq!(stdout(&right), recorded_digest, "{scenario}");
        for key in [None, Some(WRONG_KEY)] {
            let refused = replay(&trace, &[scenario], key);
            assert_eq!(refused.status.code(), Some(10), "{scenario} {key:?}: {}", stderr(&refused));
            assert!(stderr(&refused).contains("REPRISE_KEY") || stderr(&refused).contains("wrong key"));
        }
    }
}

/// A long-lived worker spawned first and many short tasks after it: when
/// more threads exited than the flight recorder keeps, it retired the
/// lowest-numbered ones, the first spawned, not those that exited first:
/// the worker that ran the whole run and exited last lost its events, and
/// so did the root, whose exit ends the run (a fan-in of 200 tasks that
/// then panicked dumped its root from event 604 only). Now the threads
/// that exited longest ago are the ones retired.
#[test]
fn the_flight_recorder_retires_the_threads_that_exited_first() {
    use reprise::channel;
    use reprise::sync::Mutex;
    use reprise::{flight, read_trace_file, thread, FlightConfig, RecordConfig};

    let path = scratch("incident-retire").join("dump.trace");
    let config = FlightConfig::new(RecordConfig::new("retire", "1")).exited_threads(3).dump_at_end(true);
    let run = flight(&path, config, || {
        let (stop, stopped) = channel::bounded::<()>(0);
        let lock = std::sync::Arc::new(Mutex::new(0u32));
        let worker = {
            let lock = std::sync::Arc::clone(&lock);
            thread::spawn(move || {
                *lock.lock().unwrap() += 1;
                stopped.recv().unwrap();
                *lock.lock().unwrap() += 1;
            })
        };
        for _ in 0..12 {
            let lock = std::sync::Arc::clone(&lock);
            thread::spawn(move || *lock.lock().unwrap() += 1).join().unwrap();
        }
        stop.send(()).unwrap();
        worker.join().unwrap();
        let total = *lock.lock().unwrap();
        total
    })
    .unwrap();
    assert_eq!(run.result, Some(14));
    let window = &run.dumps.last().expect("the end's dump").window;
    assert_eq!(window.first_event(1), 0, "the worker, which exited last, lost its events: {window}");
    assert_eq!(window.first_event(0), 0, "the root lost its events: {window}");
    assert!(window.first_event(2) > 0, "the first task exited first and is retired: {window}");
    assert!(read_trace_file(&path).unwrap().is_whole());
}

/// Threads that call `flight_dump` at the same time: the keeper serving
/// one dump waited for the others to hand their buffers over at their
/// next event, which they make only once their own dump is answered, so
/// each dump waited the whole handover time (1 s by default; a panic
/// hook calling `flight_dump_all` beside other dumps held the host
/// 2-3 s). A thread waiting for a dump now lets its buffer go, as a
/// blocked thread does. With a handover time of an hour the run would
/// stand still; it must end well within a minute.
#[test]
fn threads_dumping_at_once_do_not_wait_for_each_other() {
    use std::sync::Arc;
    use std::time::Duration;

    use reprise::sync::{Barrier, Mutex};
    use reprise::{flight, flight_dump, thread, FlightConfig, RecordConfig};

    let path = scratch("incident-dumps-at-once").join("dump.trace");
    let config =
        FlightConfig::new(RecordConfig::new("dumps", "1").handover_timeout(Duration::from_secs(3600)));
    let (done, finished) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let run = flight(&path, config, || {
            let barrier = Arc::new(Barrier::new(3));
            let lock = Arc::new(Mutex::new(0u32));
            let dumpers: Vec<_> = (0..3)
                .map(|_| {
                    let (barrier, lock) = (Arc::clone(&barrier), Arc::clone(&lock));
                    thread::spawn(move || {
                        *lock.lock().unwrap() += 1;
                        barrier.wait();
                        flight_dump().is_ok()
                    })
                })
                .collect();
            dumpers.into_iter().map(|d| d.join().unwrap()).collect::<Vec<_>>()
        })
        .unwrap();
        let _ = done.send((run.result, run.dumps.len()));
    });
    let (result, dumps) = finished
        .recv_timeout(Duration::from_secs(60))
        .expect("three threads dumping at once stood still for the handover time");
    assert_eq!(result, Some(vec![true; 3]));
    assert_eq!(dumps, 3);
}

/// A capture whose read takes a reprise lock records the lock's events
/// inside the capture; a replay, which does not run the read, diverges
/// there (exit 3) with a hint about hash maps and clocks that does not
/// fit, and nothing had said so. The recording now says it once per
/// capture site; a read that only panics (here with a payload that is
/// not a string) makes no events and gets no warning.
#[test]
fn a_capture_whose_read_uses_reprise_primitives_is_named_when_recorded() {
    let trace = scratch("incident-odd-captures").join("t.trace");
    let out = run("REPRISE_RECORD", &trace, &["odd_captures"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let said = stderr(&out);
    let warnings: Vec<&str> = said.lines().filter(|l| l.contains("the read of the capture at")).collect();
    assert_eq!(warnings.len(), 1, "{said}");
    assert!(warnings[0].contains("examples/incident_scenarios.rs:") && warnings[0].contains("will diverge"));
    let replayed = replay(&trace, &["odd_captures"], None);
    assert_eq!(replayed.status.code(), Some(3), "{}", stderr(&replayed));
}

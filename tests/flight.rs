//! The flight recorder: the last events of each thread kept in memory and
//! dumped as a normal trace on a panic, a deadlock, `SIGUSR1` or request;
//! every offline command opens a dump, and replay takes one only when its
//! window covers the whole run.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use reprise::flight::{DUMP_NOTE, LATE_NOTE, RUNNING_NOTE};
use reprise::sync::atomic::AtomicU64;
use reprise::sync::Mutex;
use reprise::trace::format::{TraceMode, Verdict};
use reprise::trace::model::{Op, Record};
use reprise::trace::read::TraceFile;
use reprise::trace::window::{Window, WindowRefusal};
use reprise::{flight, flight_dump, read_trace_file, thread, FlightConfig, RecordConfig, ReplayOutcome};

use crate::util::{reprise, reprise_on, scratch, stderr, stdout, wait_bounded};

fn config() -> FlightConfig {
    FlightConfig::new(RecordConfig::new("flight-tests", "1"))
}

/// The ops of `thread`'s events in `trace`, in order.
fn ops(trace: &TraceFile, thread: u32) -> Vec<Op> {
    trace.threads[&thread]
        .iter()
        .filter_map(|r| match r {
            Record::Event(e) => Some(e.op),
            _ => None,
        })
        .collect()
}

fn note<'a>(trace: &'a TraceFile, key: &str) -> Option<&'a str> {
    trace.footer.as_ref().and_then(|f| f.annotation(key))
}

fn record_flight(dir: &str, extra: &[&str]) -> (PathBuf, String) {
    let path = scratch(dir).join("dump.trace");
    let mut args = vec!["record", "--pipeline", "payments", "--flight", "--out"];
    let shown = path.to_str().unwrap().to_owned();
    args.push(&shown);
    args.extend_from_slice(extra);
    let out = reprise(&args);
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    (path, stdout(&out))
}

#[test]
fn a_dump_of_a_payments_run_whose_worker_panics_opens_in_inspect_with_the_panic_and_the_events_before_it() {
    let (path, said) = record_flight("payments-panic", &["--bug", "panic"]);
    assert!(said.contains("verdict: panicked"), "{said}");
    let inspected = reprise_on(&["inspect"], &path);
    assert!(inspected.status.success(), "{}", stderr(&inspected));
    let shown = stdout(&inspected);
    assert!(shown.contains("mode: FlightRecorder"), "{shown}");
    assert!(shown.contains("window: the whole run"), "{shown}");
    assert!(shown.contains("verdict: panicked"), "{shown}");
    assert!(shown.lines().any(|l| l.trim_start().starts_with("panic ")), "the panic events: {shown}");
    let verified = reprise_on(&["verify"], &path);
    assert!(verified.status.success(), "{}{}", stdout(&verified), stderr(&verified));

    // The worker that hit the seeded panic: its panic event, with the
    // message, after the events that led there.
    let trace = read_trace_file(&path).unwrap();
    assert_eq!(trace.header.mode, TraceMode::FlightRecorder);
    let name = |records: &[Record]| {
        records.iter().find_map(|r| match r {
            Record::Thread { name, .. } => Some(name.clone()),
            _ => None,
        })
    };
    let (worker, _) = trace
        .threads
        .iter()
        .find(|(_, records)| {
            name(records).is_some_and(|n| n.starts_with("ledger-"))
                && records.iter().any(
                    |r| matches!(r, Record::Blob(b) if String::from_utf8_lossy(b).contains("no fee entry")),
                )
        })
        .expect("a ledger worker with the seeded panic");
    let worker_ops = ops(&trace, *worker);
    let at = worker_ops.iter().position(|&op| op == Op::Panic).expect("the panic event");
    assert!(worker_ops[..at].contains(&Op::Recv), "the payments it took before: {worker_ops:?}");
    assert_eq!(worker_ops.last(), Some(&Op::ThreadExit));
}

/// The dump's window covers the run, so it replays, in both modes, to the
/// same panic: a match (exit 0), not a divergence.
#[test]
fn a_whole_run_dump_of_a_panicked_payments_run_replays_to_the_same_panic() {
    let (path, said) = record_flight("payments-panic-replay", &["--bug", "panic"]);
    let recorded = said.lines().find(|l| l.starts_with("digest: ")).expect("the digest line").to_owned();
    for mode in [&["replay"][..], &["replay", "--coroutines"]] {
        let out = reprise_on(mode, &path);
        let shown = stdout(&out);
        assert_eq!(out.status.code(), Some(0), "{mode:?}: {shown}{}", stderr(&out));
        assert!(shown.contains("invariants: violated: panic"), "{mode:?}: {shown}");
        assert!(shown.contains(&recorded), "{mode:?}: the recorded {recorded} in {shown}");
    }
}

#[test]
fn a_worker_panic_is_dumped_by_the_panic_hook_while_the_run_goes_on() {
    let path = scratch("hook").join("dump.trace");
    let dump = path.clone();
    let run = flight(&path, config(), move || {
        let worker = thread::Builder::new()
            .name("worker".into())
            .spawn(|| {
                let balance = Mutex::new(0u64);
                for n in 0..50 {
                    *balance.lock().unwrap() += n;
                }
                panic!("worker gave up");
            })
            .unwrap();
        // The host survives its worker's panic, and runs on (recording)
        // until the dump is there.
        let survived = worker.join().is_err();
        let ticks = Mutex::new(0u64);
        while !dump.exists() {
            *ticks.lock().unwrap() += 1;
            std::thread::sleep(Duration::from_millis(1));
        }
        survived
    })
    .unwrap();
    assert_eq!(run.result, Some(true));
    assert_eq!(run.verdict, Verdict::Completed);
    assert_eq!(run.dumps.len(), 1, "the panic's dump only: {:?}", run.failures);
    let trace = read_trace_file(&path).unwrap();
    assert!(trace.is_whole(), "{:?}", trace.damage);
    let footer = trace.footer.as_ref().unwrap();
    assert_eq!(footer.verdict, Verdict::Panicked { thread: 1, message: "worker gave up".into() });
    assert_eq!(note(&trace, DUMP_NOTE), Some("panic in thread 1"));
    assert!(note(&trace, RUNNING_NOTE).is_some(), "the root ran on after the dump");
    let worker_ops = ops(&trace, 1);
    assert_eq!(worker_ops.iter().filter(|&&op| op == Op::Lock).count(), 50, "{worker_ops:?}");
    assert_eq!(&worker_ops[worker_ops.len() - 2..], &[Op::Panic, Op::ThreadExit]);
}

/// A worker that catches its own panic and runs on: the panic hook's dump
/// comes while the worker's events before the panic are still in its ring.
/// The dump waited for the worker to exit, up to its 5 s backstop; a worker
/// that ran on meanwhile had filled its ring many times over by then, and
/// the dump held none of what it did before its panic.
#[test]
fn a_panic_the_worker_catches_is_dumped_without_waiting_for_its_exit() {
    let path = scratch("caught-worker").join("dump.trace");
    let dump = path.clone();
    let run = flight(&path, config().events(1024), move || {
        let (tx, rx) = reprise::channel::unbounded::<u64>();
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let worker = {
            let stop = Arc::clone(&stop);
            thread::Builder::new()
                .name("worker".into())
                .spawn(move || {
                    for n in 0..10 {
                        tx.send(n).unwrap();
                    }
                    let caught = std::panic::catch_unwind(|| panic!("one request failed"));
                    // Runs on, as a server whose request handler panicked.
                    let ticks = Mutex::new(0u64);
                    while !stop.load(Ordering::Acquire) {
                        *ticks.lock().unwrap() += 1;
                        std::thread::sleep(Duration::from_millis(2));
                    }
                    caught.is_err()
                })
                .unwrap()
        };
        let received: u64 = rx.iter().take(10).sum();
        let started = std::time::Instant::now();
        let ticks = Mutex::new(0u64);
        while !read_trace_file(&dump).is_ok_and(|t| t.is_whole()) {
            assert!(started.elapsed() < Duration::from_secs(120), "no dump");
            *ticks.lock().unwrap() += 1;
            std::thread::sleep(Duration::from_millis(1));
        }
        stop.store(true, Ordering::Release);
        (worker.join().unwrap(), received)
    })
    .unwrap();
    assert_eq!(run.result, Some((true, 45)));
    assert_eq!(run.dumps.len(), 1, "the panic's dump only: {:?}", run.failures);
    let trace = read_trace_file(&path).unwrap();
    assert_eq!(note(&trace, DUMP_NOTE), Some("panic in thread 1"));
    assert!(note(&trace, LATE_NOTE).is_none(), "the worker handed over: {:?}", trace.footer);
    let worker = ops(&trace, 1);
    let sends = worker.iter().filter(|&&op| op == Op::Send).count();
    assert_eq!(sends, 10, "its sends before its panic; the dump holds {} of its events", worker.len());
}

/// A scope whose thread panics, the scope's panic caught by the root, which
/// then ends well.
fn caught_scope_panic() -> u64 {
    let total = Mutex::new(0u64);
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        thread::scope(|s| {
            s.spawn(|| {
                *total.lock().unwrap() += 1;
                panic!("scoped worker gave up");
            });
        })
    }));
    assert!(caught.is_err());
    let after = *total.lock().unwrap_or_else(|e| e.into_inner());
    after + 1
}

#[test]
fn a_panic_the_program_catches_is_dumped_under_the_runs_own_verdict_and_replays() {
    // The root's panic (the scope's) is caught: the dump waits for the root
    // to exit, so the run's end overtakes it. That dump said "panicked in
    // thread 0" of a run that completed, and its replay, which followed
    // every event, exited as a verdict mismatch.
    let path = scratch("caught").join("dump.trace");
    let run = flight(&path, config(), caught_scope_panic).unwrap();
    assert_eq!(run.result, Some(2));
    assert_eq!(run.verdict, Verdict::Completed);
    let trace = read_trace_file(&path).unwrap();
    assert_eq!(trace.footer.as_ref().unwrap().verdict, Verdict::Completed);
    assert!(
        note(&trace, DUMP_NOTE).is_some_and(|why| why.starts_with("panic in thread")),
        "{:?}",
        trace.footer
    );
    assert!(note(&trace, RUNNING_NOTE).is_none(), "the run had ended");
    let report = reprise::replay(&trace, caught_scope_panic);
    assert_eq!(report.outcome, ReplayOutcome::Matched, "{}", report.outcome);
    assert_eq!(report.result, Some(2));
}

#[test]
fn a_dump_covering_the_whole_run_replays_to_the_same_digest() {
    let (path, said) = record_flight("whole", &["--payments", "300"]);
    assert!(said.contains("its window covers the whole run"), "{said}");
    let digest = said.lines().find(|l| l.starts_with("digest: ")).expect("the recorded digest").to_owned();
    let replayed = reprise_on(&["replay"], &path);
    assert!(replayed.status.success(), "{}{}", stdout(&replayed), stderr(&replayed));
    assert!(stdout(&replayed).lines().any(|l| l == digest), "{}", stdout(&replayed));
    let trace = read_trace_file(&path).unwrap();
    assert_eq!(Window::of(&trace.header).unwrap(), Some(Window::whole()));
    assert_eq!(note(&trace, DUMP_NOTE), Some("end of the run"));
}

#[test]
fn a_dump_whose_window_does_not_cover_the_run_is_refused_by_replay_with_its_start() {
    let (path, said) = record_flight("partial", &["--payments", "6000", "--flight-events", "200"]);
    assert!(said.contains("its window starts late"), "{said}");
    let trace = read_trace_file(&path).unwrap();
    let window = Window::of(&trace.header).unwrap().expect("a dump");
    let (thread, event) = window.late_starts().next().expect("a thread that starts late");
    assert!(event > 0);

    let replayed = reprise_on(&["replay"], &path);
    assert_eq!(replayed.status.code(), Some(reprise::exit::WINDOW), "{}", stderr(&replayed));
    let said = stderr(&replayed);
    assert!(said.contains(&format!("starts at event {event} of thread {thread}")), "{said}");
    assert!(stdout(&replayed).is_empty(), "nothing replayed, nothing matched: {}", stdout(&replayed));
    // Also through the library, before anything runs.
    let report = reprise::replay(&trace, || unreachable!("a refused replay runs nothing"));
    let ReplayOutcome::Refused(WindowRefusal::Partial { thread: t, event: e, .. }) = report.outcome else {
        panic!("got {}", report.outcome)
    };
    assert_eq!((t, e), (thread, event));
    assert!(!ReplayOutcome::Refused(WindowRefusal::Unreadable(reprise::trace::window::WindowError::Missing))
        .matched());
    // The other offline commands read it.
    assert!(reprise_on(&["verify"], &path).status.success());
    let inspected = stdout(&reprise_on(&["inspect"], &path));
    assert!(inspected.contains(&format!("thread {thread} from event {event}")), "{inspected}");
}

#[test]
fn a_wrapped_ring_keeps_exactly_the_last_events_and_verifies() {
    const STORES: u64 = 200_000;
    const KEEP: u64 = 5_000;
    let path = scratch("wrapped").join("dump.trace");
    let run = flight(&path, config().events(KEEP).dump_at_end(true), || {
        let worker = thread::spawn(|| {
            let counter = AtomicU64::new(0);
            for n in 1..=STORES {
                counter.store(n, Ordering::Relaxed);
            }
        });
        worker.join().unwrap();
    })
    .unwrap();
    assert_eq!(run.dumps.len(), 1);
    let info = &run.dumps[0];
    assert!(!info.covers_run);
    let first = info.window.first_event(1);
    assert!(first > 0, "the worker's ring wrapped");

    let trace = read_trace_file(&path).unwrap();
    assert!(trace.is_whole(), "{:?}", trace.damage);
    let verified = reprise_on(&["verify"], &path);
    assert!(verified.status.success(), "{}{}", stdout(&verified), stderr(&verified));
    // The worker's events: start, STORES stores, exit. The dump holds the
    // last of them, at least KEEP, with nothing missing up to the exit.
    let worker_ops = ops(&trace, 1);
    let kept = worker_ops.len() as u64;
    assert!(kept >= KEEP, "{kept}");
    assert!(kept < STORES / 4, "a ring, not the run: {kept}");
    assert_eq!(first + kept, STORES + 2, "the window ends at the worker's last event");
    let values: Vec<u64> = trace.threads[&1]
        .iter()
        .filter_map(|r| match r {
            Record::Event(e) if e.op == Op::AtomicStore => Some(e.a),
            _ => None,
        })
        .collect();
    assert_eq!(worker_ops.last(), Some(&Op::ThreadExit));
    // Store numbers: the worker's last stores, none missing.
    let expected: Vec<u64> = (STORES + 2 - kept..=STORES).collect();
    assert_eq!(values, expected);
    // Names that the overwritten chunks defined are still there.
    assert!(trace.threads[&1].iter().any(|r| matches!(r, Record::Thread { index: 1, .. })));
    assert!(trace.threads[&1].iter().any(|r| matches!(r, Record::Object { .. })));
    // The root's ring did not wrap.
    assert_eq!(info.window.first_event(0), 0);
}

/// Dumps after the worker's and 10 of its own locks; one more after.
fn api_program() -> (Result<reprise::DumpInfo, reprise::FlightError>, u64) {
    let total = Arc::new(Mutex::new(0u64));
    let theirs = Arc::clone(&total);
    thread::spawn(move || *theirs.lock().unwrap() += 1).join().unwrap();
    for _ in 0..10 {
        *total.lock().unwrap() += 1;
    }
    let dumped = flight_dump();
    // Not in the dump.
    *total.lock().unwrap() += 1;
    let n = *total.lock().unwrap();
    (dumped, n)
}

#[test]
fn the_api_dump_holds_the_callers_events_up_to_the_call_and_the_run_goes_on() {
    let path = scratch("api").join("dump.trace");
    let run = flight(&path, config(), api_program).unwrap();
    let (dumped, total) = run.result.unwrap();
    let dumped = dumped.unwrap();
    assert_eq!(total, 12);
    assert!(dumped.covers_run);
    assert_eq!(run.dumps, vec![dumped]);
    let trace = read_trace_file(&path).unwrap();
    assert!(trace.is_whole());
    assert_eq!(note(&trace, DUMP_NOTE), Some("flight_dump()"));
    assert!(note(&trace, RUNNING_NOTE).is_some());
    let root = ops(&trace, 0);
    assert_eq!(root.iter().filter(|&&op| op == Op::Lock).count(), 10, "{root:?}");
    assert_eq!(root.last(), Some(&Op::Unlock), "the caller's last event before the call");
    assert_eq!(ops(&trace, 1).last(), Some(&Op::ThreadExit));
    assert!(matches!(flight_dump(), Err(reprise::FlightError::NotFlying)));

    // Taken mid-run, the dump ends where the root went on: a replay follows
    // it to its end and says the trace ended, never that it matched.
    let replayed = reprise::replay(&trace, api_program);
    assert!(matches!(replayed.outcome, ReplayOutcome::TraceEnded { .. }), "{}", replayed.outcome);
    assert_eq!(replayed.replayed, trace.events, "every event of the dump was followed");
    // And on coroutines, which once read the dump as a finished run.
    let on_coroutines = reprise::replay_coroutines(&trace, api_program);
    assert!(matches!(on_coroutines.outcome, ReplayOutcome::TraceEnded { .. }), "{}", on_coroutines.outcome);
    assert_eq!(on_coroutines.replayed, trace.events);
}

#[test]
fn a_proven_deadlock_is_dumped() {
    let path = scratch("deadlock").join("dump.trace");
    let config =
        FlightConfig::new(RecordConfig::new("flight-tests", "1").on_deadlock(reprise::OnDeadlock::Return));
    let run = flight(&path, config, || {
        let a = Arc::new(Mutex::new(()));
        let b = Arc::new(Mutex::new(()));
        // Outside reprise: both hold their first lock before either asks for
        // its second.
        let both = Arc::new(std::sync::Barrier::new(2));
        let (a2, b2, both2) = (Arc::clone(&a), Arc::clone(&b), Arc::clone(&both));
        let other = thread::spawn(move || {
            let _b = b2.lock().unwrap();
            both2.wait();
            let _a = a2.lock().unwrap();
        });
        let _a = a.lock().unwrap();
        both.wait();
        let _b = b.lock().unwrap();
        drop(other);
    })
    .unwrap();
    assert!(matches!(run.verdict, Verdict::Deadlock { .. }), "{}", run.verdict);
    assert_eq!(run.dumps.len(), 1);
    let trace = read_trace_file(&path).unwrap();
    assert!(trace.is_whole());
    assert!(matches!(trace.footer.as_ref().unwrap().verdict, Verdict::Deadlock { .. }));
    assert_eq!(note(&trace, DUMP_NOTE), Some("deadlock"));
}

#[test]
fn reprise_flight_in_the_environment_is_read_with_its_budgets() {
    let (path, config) = FlightConfig::from_spec("/tmp/x.trace,events=64,bytes=8192", config()).unwrap();
    assert_eq!(path, Path::new("/tmp/x.trace"));
    assert_eq!((config.events, config.bytes), (64, 8192));
}

const CHILD: &str = "REPRISE_TEST_CHILD";
const CHILD_TRACE: &str = "REPRISE_TEST_TRACE";
const TEST: &str = "flight::sigusr1_dumps_every_flight_recorder_and_the_process_runs_on";

#[test]
fn sigusr1_dumps_every_flight_recorder_and_the_process_runs_on() {
    if std::env::var(CHILD).as_deref() == Ok("flight_sigusr1") {
        return child_sigusr1(PathBuf::from(std::env::var_os(CHILD_TRACE).unwrap()));
    }
    let path = scratch("sigusr1").join("dump.trace");
    let mut running = Command::new(std::env::current_exe().unwrap())
        .args([TEST, "--exact", "--nocapture", "--test-threads", "1"])
        .env(CHILD, "flight_sigusr1")
        .env(CHILD_TRACE, &path)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let out = running.stdout.take().unwrap();
    let mut lines = BufReader::new(out).lines();
    loop {
        match lines.next() {
            Some(Ok(l)) if l.trim_end().ends_with("flying") => break,
            Some(Ok(_)) => {}
            _ => panic!("the child ended before flying: {:?}", running.wait()),
        }
    }
    assert!(!path.exists(), "nothing is written before a dump");
    let pid = libc::pid_t::try_from(running.id()).unwrap();
    // SAFETY: sends a signal to our own child process.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGUSR1) }, 0);
    let mut rest = String::new();
    for line in lines.map_while(Result::ok) {
        rest.push_str(&line);
        rest.push('\n');
    }
    let status = wait_bounded(&mut running);
    assert!(status.success(), "the process ran on after the dump and ended by itself: {status}\n{rest}");
    assert!(rest.contains("ran on"), "{rest}");
    let trace = read_trace_file(&path).unwrap();
    assert!(trace.is_whole(), "{:?}", trace.damage);
    assert_eq!(note(&trace, DUMP_NOTE), Some("SIGUSR1"));
    assert!(ops(&trace, 0).contains(&Op::Lock), "the running root's events are in it");
    assert!(ops(&trace, 1).contains(&Op::Lock), "so are the worker's");
}

fn child_sigusr1(path: PathBuf) {
    // SAFETY: restores the default action (a test harness may inherit another).
    unsafe {
        libc::signal(libc::SIGUSR1, libc::SIG_DFL);
    }
    let dump = path.clone();
    let run = flight(&path, config(), move || {
        let hits = Arc::new(Mutex::new(0u64));
        let theirs = Arc::clone(&hits);
        let seen = dump.clone();
        let worker = thread::spawn(move || {
            while !seen.exists() {
                *theirs.lock().unwrap() += 1;
                std::thread::sleep(Duration::from_millis(1));
            }
        });
        let mut said = false;
        while !dump.exists() {
            *hits.lock().unwrap() += 1;
            if !said && *hits.lock().unwrap() > 20 {
                println!("flying");
                said = true;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        worker.join().unwrap();
    })
    .unwrap();
    println!("ran on: {} dump(s)", run.dumps.len());
}

/// `examples/exit_code.rs`, which `cargo test` builds, run with `env`.
fn exit_code_example(args: &[&str], flight: &str) -> std::process::Output {
    let deps = std::env::current_exe().unwrap();
    let debug = deps.parent().and_then(|d| d.parent()).unwrap();
    let exe = debug.join("examples").join(format!("exit_code{}", std::env::consts::EXE_SUFFIX));
    Command::new(exe)
        .args(args)
        .env_remove("REPRISE_RECORD")
        .env_remove("REPRISE_REPLAY")
        .env("REPRISE_FLIGHT", flight)
        .output()
        .unwrap()
}

#[test]
fn reprise_main_flies_with_reprise_flight_and_writes_nothing_for_a_sound_run() {
    let path = scratch("env").join("dump.trace");
    let spec = format!("{},events=100,bytes=65536", path.display());
    let out = exit_code_example(&["code", "2"], &spec);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert_eq!(stdout(&out), "sum 55\n");
    assert!(!path.exists(), "no dump without a panic, a deadlock, a signal or a request");

    let out = exit_code_example(&["code", "3"], &format!("{},ring=5", path.display()));
    assert_eq!(out.status.code(), Some(3), "a bad value leaves the program running: {}", stderr(&out));
    assert!(
        stderr(&out).contains("REPRISE_FLIGHT: `ring=5` is not events=N, bytes=N or exited=N"),
        "{}",
        stderr(&out)
    );
    assert!(!path.exists());
}

#[test]
fn only_the_last_exited_threads_keep_their_events_and_every_thread_keeps_its_name() {
    let path = scratch("exited").join("dump.trace");
    let run = flight(&path, config().exited_threads(2).dump_at_end(true), || {
        for _ in 0..10 {
            thread::spawn(|| {
                let lock = Mutex::new(0u32);
                for _ in 0..5 {
                    *lock.lock().unwrap() += 1;
                }
            })
            .join()
            .unwrap();
        }
    })
    .unwrap();
    let window = &run.dumps.last().expect("a dump at the end").window;
    let trace = read_trace_file(&path).unwrap();
    assert!(trace.is_whole(), "{:?}", trace.damage);
    for thread in 1..=10u32 {
        let records = &trace.threads[&thread];
        assert!(records.iter().any(|r| matches!(r, Record::Thread { index, .. } if *index == thread)));
        // The keeper retires rings as chunks arrive: at least the two last
        // threads keep their events, the first ones lost theirs.
        if thread >= 9 {
            assert_eq!(window.first_event(thread), 0, "thread {thread}");
            assert_eq!(ops(&trace, thread).iter().filter(|&&op| op == Op::Lock).count(), 5);
        }
    }
    assert!(window.first_event(1) > 0 && ops(&trace, 1).is_empty(), "{window}");
    assert!(reprise_on(&["verify"], &path).status.success());
}

/// A dump taken by the API mid-run, while three other threads run in
/// lockstep with the caller (a rendezvous channel, a mutex and condvar, a
/// barrier, park/unpark): both replays follow it whole to its end and say
/// the trace ended.
#[test]
fn a_mid_run_dump_of_threads_in_lockstep_replays_to_its_end_both_ways() {
    let program = || {
        crate::crash::lockstep(400, |round| {
            if round == 200 {
                let _ = flight_dump();
            }
        })
    };
    let path = scratch("lockstep-dump").join("dump.trace");
    let run = flight(&path, config(), program).unwrap();
    assert_eq!(run.dumps.len(), 1);
    let trace = read_trace_file(&path).unwrap();
    assert!(note(&trace, RUNNING_NOTE).is_some());
    let parallel = reprise::replay(&trace, program);
    let on_coroutines = reprise::replay_coroutines(&trace, program);
    for (how, report) in [("parallel", parallel), ("coroutines", on_coroutines)] {
        assert!(matches!(report.outcome, ReplayOutcome::TraceEnded { .. }), "{how}: {}", report.outcome);
        assert_eq!(report.replayed, report.events, "{how}: the whole dump, after its cut");
        assert!(report.replayed * 2 > trace.events, "{how}: {} of {} events", report.replayed, trace.events);
    }
}

/// A mid-run dump names every object its events are on. While a dump
/// waited for a thread computing outside reprise (here, sleeping without a
/// reprise call), the keeper kept taking the chunks of threads that had
/// handed over already: the collector's later blocks, with receives on
/// reply channels the worker named after its own hand-over, went into the
/// dump without the worker's names (a third of a soak service's dumps).
#[test]
fn a_mid_run_dump_names_every_object_its_events_are_on() {
    dumps_name_every_object_their_events_are_on("flight-cut", || {
        let _ = flight_dump();
    });
}

/// The same for a dump made by a thread's panic, while the run goes on.
#[test]
fn a_panics_dump_names_every_object_its_events_are_on() {
    dumps_name_every_object_their_events_are_on("flight-cut-panic", || panic!("dump me"));
}

/// Runs a worker answering requests on fresh reply channels and a
/// collector receiving the replies, has `trigger` dump mid-run while a
/// thread outside any reprise call holds the dump's gathering open, and
/// checks, in eight rounds, that every object an event of the dump is on
/// is named in it.
fn dumps_name_every_object_their_events_are_on(name: &str, trigger: fn()) {
    use reprise::channel::{self, Receiver, Sender};
    for round in 0..8 {
        let path = scratch(&format!("{name}-{round}")).join("dump.trace");
        let dump = path.clone();
        let program = move || {
            let (jobs_tx, jobs_rx) = channel::bounded::<Sender<u64>>(16);
            let (pending_tx, pending_rx) = channel::unbounded::<Receiver<u64>>();
            let (go_tx, go_rx) = channel::bounded::<()>(0);
            let (dump_tx, dump_rx) = channel::bounded::<()>(0);
            let worker = thread::spawn(move || {
                for reply in jobs_rx.iter() {
                    reply.send(1).unwrap();
                }
            });
            // The collector fills its blocks faster than the worker (the
            // counter's events), so its last block handed over often holds
            // receives on channels named in the worker's block not yet
            // handed over.
            let collector = thread::spawn(move || {
                let counter = AtomicU64::new(0);
                for reply in pending_rx.iter() {
                    let value = reply.recv().unwrap();
                    for _ in 0..4 {
                        counter.fetch_add(value, Ordering::Relaxed);
                    }
                }
                counter.load(Ordering::Relaxed) / 4
            });
            // Holds the dump's gathering open: a thread running outside
            // any reprise call is waited for until it makes one (or the
            // handover time passes), while the others go on.
            let holder = thread::spawn(move || {
                go_rx.recv().unwrap();
                std::thread::sleep(Duration::from_millis(300));
            });
            let dumper = thread::spawn(move || {
                dump_rx.recv().unwrap();
                trigger();
            });
            // Requests go on until the dump is written, and a while after.
            let mut requests = 0u64;
            let mut after = 0;
            while requests < 2_000 || after < 2_000 {
                if requests == 1_000 {
                    go_tx.send(()).unwrap();
                    dump_tx.send(()).unwrap();
                }
                if requests > 1_000 && dump.exists() {
                    after += 1;
                }
                let (reply_tx, reply_rx) = channel::bounded::<u64>(1);
                pending_tx.send(reply_rx).unwrap();
                jobs_tx.send(reply_tx).unwrap();
                requests += 1;
            }
            drop((jobs_tx, pending_tx));
            worker.join().unwrap();
            holder.join().unwrap();
            let _ = dumper.join();
            collector.join().unwrap() == requests
        };
        // The gathering waits for the holder by its state alone: a handover
        // time a loaded machine could reach (the default 1 s; seen once,
        // under a load of 10 on 2 cores) gives up on the holder, whose
        // buffer names the channel of main's `go` send (see the late test
        // below).
        let patient = FlightConfig::new(
            RecordConfig::new("flight-tests", "1").handover_timeout(Duration::from_secs(120)),
        );
        let run = flight(&path, patient.events(1 << 20), program).unwrap();
        assert_eq!(run.result, Some(true));
        assert_eq!(run.dumps.len(), 1, "round {round}: {:?}", run.failures);
        let trace = read_trace_file(&path).unwrap();
        assert_eq!(note(&trace, LATE_NOTE), None, "round {round}: every thread handed over");
        let mut named = std::collections::HashSet::new();
        let mut used = Vec::new();
        for (thread, records) in &trace.threads {
            for (at, record) in records.iter().enumerate() {
                match record {
                    Record::Object { index, .. } => {
                        named.insert(*index);
                    }
                    Record::Event(e) if e.op.has_object() => used.push((*thread, at, records.len(), *e)),
                    _ => {}
                }
            }
        }
        let unnamed: Vec<_> = used.iter().filter(|(.., e)| !named.contains(&e.object)).collect();
        assert!(used.len() > 1000, "{} events on objects", used.len());
        // Each: (thread, record index, the thread's records, event), for a
        // flake seen once in a quiet run (1 of 6,886) and not since.
        assert!(
            unnamed.is_empty(),
            "round {round}: {} of {} events on objects the dump does not name: {:?}",
            unnamed.len(),
            used.len(),
            &unnamed[..unnamed.len().min(4)]
        );
    }
}

/// A thread outside any reprise call past the handover time is given up on
/// and named in the dump: its last events (here the receive of `go`, whose
/// channel it named) are missing, and main's send on `go` is on an object
/// the dump does not name, which the note says may happen. The holder waits
/// (outside reprise, on std) from before the dump is asked for until it is
/// written, so the handover time has passed whatever the machine's load.
#[test]
fn a_dump_names_the_threads_it_gave_up_on() {
    let path = scratch("flight-late").join("dump.trace");
    let program = move || {
        let (go_tx, go_rx) = reprise::channel::bounded::<()>(0);
        let (ready_tx, ready_rx) = std::sync::mpsc::channel::<()>();
        let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
        let holder = thread::spawn(move || {
            go_rx.recv().unwrap();
            // Out of reprise's receive, holding its buffer, until released.
            ready_tx.send(()).unwrap();
            release_rx.recv().unwrap();
        });
        go_tx.send(()).unwrap();
        ready_rx.recv().unwrap();
        let dumped = flight_dump();
        release_tx.send(()).unwrap();
        holder.join().unwrap();
        dumped.map(|info| info.path)
    };
    let config =
        FlightConfig::new(RecordConfig::new("flight-tests", "1").handover_timeout(Duration::from_millis(50)));
    let run = flight(&path, config, program).unwrap();
    let dumped = run.result.expect("the run finished").expect("flight_dump() wrote a dump");
    let trace = read_trace_file(&dumped).unwrap();
    let late = note(&trace, LATE_NOTE).unwrap_or_else(|| panic!("no late note: {:?}", trace.footer));
    assert!(late.starts_with("thread(s) 1 ran outside any reprise call"), "{late}");
    assert!(late.contains("(50 ms)"), "{late}");
}

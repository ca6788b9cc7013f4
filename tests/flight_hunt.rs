//! A hunt of the flight recorder on programs unlike the payments pipeline:
//! thread churn, dumps asked for from many threads at once and racing the
//! run's end, panics in many threads, a poisoned lock, tiny and huge
//! windows, sensitive captures, deadlocks, and a dump path that cannot be
//! written. Every dump must open in `verify` and `inspect`, name every
//! object and thread its events are on, and the program must run on.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use reprise::channel;
use reprise::flight::DUMP_NOTE;
use reprise::sync::{Barrier, Mutex};
use reprise::trace::format::Verdict;
use reprise::trace::model::{Op, Record};
use reprise::trace::read::TraceFile;
use reprise::{
    capture_sensitive, flight, flight_dump, flight_dump_all, read_trace_file, thread, FlightConfig,
    FlightError, RecordConfig, ReplayOutcome, SealKey,
};

use crate::util::{reprise, reprise_on, scratch, stderr, stdout};

fn config() -> FlightConfig {
    FlightConfig::new(RecordConfig::new("flight-hunt", "1"))
}

fn note<'a>(trace: &'a TraceFile, key: &str) -> Option<&'a str> {
    trace.footer.as_ref().and_then(|f| f.annotation(key))
}

/// The dump is whole, names every object and thread its events are on,
/// and `verify` and `inspect` accept it.
fn sound_dump(path: &Path) -> TraceFile {
    let trace = read_trace_file(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(trace.is_whole(), "{:?}", trace.damage);
    let mut objects = HashSet::new();
    let mut threads = HashSet::new();
    let mut used = Vec::new();
    for (&thread, records) in &trace.threads {
        for record in records.iter() {
            match record {
                Record::Object { index, .. } => {
                    objects.insert(*index);
                }
                Record::Thread { index, .. } => {
                    threads.insert(*index);
                }
                Record::Event(e) if e.op.has_object() => used.push((thread, e.op, e.object)),
                _ => {}
            }
        }
    }
    let unnamed: Vec<_> = used.iter().filter(|(_, _, o)| !objects.contains(o)).take(5).collect();
    assert!(unnamed.is_empty(), "events on objects the dump does not name: {unnamed:?}");
    for (&thread, records) in &trace.threads {
        if records.iter().any(|r| matches!(r, Record::Event(_))) {
            assert!(threads.contains(&thread), "thread {thread} has events but no name");
        }
    }
    let verified = reprise_on(&["verify"], path);
    assert!(verified.status.success(), "verify: {}{}", stdout(&verified), stderr(&verified));
    let inspected = reprise_on(&["inspect"], path);
    assert!(inspected.status.success(), "inspect: {}{}", stdout(&inspected), stderr(&inspected));
    trace
}

fn ops(trace: &TraceFile, thread: u32) -> Vec<Op> {
    trace.threads.get(&thread).map_or_else(Vec::new, |records| {
        records
            .iter()
            .filter_map(|r| match r {
                Record::Event(e) => Some(e.op),
                _ => None,
            })
            .collect()
    })
}

/// Thousands of short-lived threads, spawned and joined, scoped, and some
/// left running, each naming objects of its own and touching shared ones;
/// a dump asked for from one of them in the middle of the churn.
fn churn(threads: u64, dump_at: u64) -> u64 {
    let shared = Arc::new(Mutex::new(0u64));
    let (tx, rx) = channel::unbounded::<u64>();
    let mut live = std::collections::VecDeque::new();
    for i in 0..threads {
        let shared = Arc::clone(&shared);
        let tx = tx.clone();
        if i % 3 == 0 {
            let total = &shared;
            thread::scope(|s| {
                s.spawn(move || {
                    let own = Mutex::new(i);
                    *total.lock().unwrap() += *own.lock().unwrap();
                    tx.send(1).unwrap();
                });
            });
        } else {
            live.push_back(thread::spawn(move || {
                let (own_tx, own_rx) = channel::bounded::<u64>(1);
                own_tx.send(i).unwrap();
                *shared.lock().unwrap() += own_rx.recv().unwrap();
                if i == dump_at {
                    let _ = flight_dump();
                }
                tx.send(1).unwrap();
            }));
            // Up to 16 threads alive at once.
            if live.len() > 16 {
                live.pop_front().unwrap().join().unwrap();
            }
        }
    }
    drop(tx);
    for handle in live {
        handle.join().unwrap();
    }
    let sent: u64 = rx.iter().sum();
    assert_eq!(sent, threads);
    let total = *shared.lock().unwrap();
    total
}

#[test]
fn a_dump_amid_thread_churn_names_every_thread_and_object_and_verifies() {
    let path = scratch("hunt-churn").join("dump.trace");
    let run = flight(&path, config(), || churn(3000, 1501)).unwrap();
    assert_eq!(run.result, Some((0..3000).sum()), "{:?}", run.failures);
    assert_eq!(run.dumps.len(), 1, "{:?}", run.failures);
    let trace = sound_dump(&path);
    assert_eq!(note(&trace, DUMP_NOTE), Some("flight_dump()"));
}

#[test]
fn a_dump_at_the_end_of_thread_churn_with_a_tiny_window_names_everything_and_verifies() {
    for events in [1, 2] {
        let path = scratch(&format!("hunt-churn-tiny-{events}")).join("dump.trace");
        let run =
            flight(&path, config().events(events).exited_threads(3).dump_at_end(true), || churn(1000, 7))
                .unwrap();
        assert_eq!(run.result, Some((0..1000).sum()));
        assert_eq!(run.dumps.len(), 2, "events={events}: {:?}", run.failures);
        assert!(!run.dumps[1].covers_run, "events={events}");
        let trace = sound_dump(&path);
        let refused = reprise::replay(&trace, || unreachable!("a refused replay runs nothing"));
        assert!(matches!(refused.outcome, ReplayOutcome::Refused(_)), "events={events}: {}", refused.outcome);
    }
}

/// Runs `test` (its full path) alone in a child process of this binary,
/// where it runs `body`: a test calling `flight_dump_all` dumps every flight
/// recorder of its process, other tests' among them (which count theirs).
fn alone(test: &str, body: fn()) {
    if std::env::var(CHILD).as_deref() == Ok(test) {
        return body();
    }
    let dir = scratch("hunt-alone");
    let (out, err) = (dir.join("stdout"), dir.join("stderr"));
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args([test, "--exact", "--nocapture", "--test-threads", "1"])
        .env(CHILD, test)
        .stdout(std::fs::File::create(&out).unwrap())
        .stderr(std::fs::File::create(&err).unwrap())
        .spawn()
        .unwrap();
    let status = crate::util::wait_bounded(&mut child);
    let said = std::fs::read_to_string(&out).unwrap() + &std::fs::read_to_string(&err).unwrap();
    assert!(status.success(), "{test} in a child: {status}\n{said}");
    assert!(said.contains("1 passed"), "{test} did not run in the child:\n{said}");
}

/// Eight recorded threads ask for a dump at once, and a thread outside the
/// recording asks for every recorder's: each gets an answer, and the last
/// dump on disk is sound.
#[test]
fn dumps_asked_for_by_many_threads_at_once_are_each_answered() {
    alone("flight_hunt::dumps_asked_for_by_many_threads_at_once_are_each_answered", many_dumps_at_once);
}

fn many_dumps_at_once() {
    let path = scratch("hunt-many-dumps").join("dump.trace");
    let stop = Arc::new(AtomicBool::new(false));
    let outside_stop = Arc::clone(&stop);
    let outside = std::thread::spawn(move || {
        let mut answered = 0;
        while !outside_stop.load(Ordering::Acquire) {
            for result in flight_dump_all() {
                match result {
                    Ok(_) => answered += 1,
                    // Asked for as the run ended (after `stop` was set).
                    Err(FlightError::Ended) => {}
                    Err(e) => panic!("a dump asked for from outside: {e}"),
                }
            }
        }
        answered
    });
    let run = flight(&path, config(), move || {
        let start = Arc::new(Barrier::new(8));
        let counter = Arc::new(Mutex::new(0u64));
        let handles: Vec<_> = (0..8)
            .map(|_| {
                let start = Arc::clone(&start);
                let counter = Arc::clone(&counter);
                thread::spawn(move || {
                    start.wait();
                    let mut ok = 0;
                    for _ in 0..5 {
                        for _ in 0..20 {
                            *counter.lock().unwrap() += 1;
                        }
                        flight_dump().expect("a dump asked for by a recorded thread");
                        ok += 1;
                    }
                    ok
                })
            })
            .collect();
        let ok: u32 = handles.into_iter().map(|h| h.join().unwrap()).sum();
        stop.store(true, Ordering::Release);
        ok
    })
    .unwrap();
    let outside = outside.join().unwrap();
    assert_eq!(run.result, Some(40), "{:?}", run.failures);
    assert!(run.failures.is_empty(), "{:?}", run.failures);
    assert!(run.dumps.len() >= 40, "{} dumps ({outside} from outside)", run.dumps.len());
    sound_dump(&path);
}

/// A thread asks for a dump while another panics: both dumps are written,
/// the run goes on, and the last one on disk is sound.
#[test]
fn a_dump_asked_for_while_another_thread_panics() {
    for round in 0..4 {
        let path = scratch(&format!("hunt-dump-panic-{round}")).join("dump.trace");
        let run = flight(&path, config(), || {
            let both = Arc::new(Barrier::new(2));
            let theirs = Arc::clone(&both);
            let panicker = thread::spawn(move || {
                let lock = Mutex::new(0u32);
                *lock.lock().unwrap() += 1;
                theirs.wait();
                panic!("hunt: gave up");
            });
            let asker = thread::spawn(move || {
                both.wait();
                flight_dump().is_ok()
            });
            let asked = asker.join().unwrap();
            let panicked = panicker.join().is_err();
            (asked, panicked)
        })
        .unwrap();
        assert_eq!(run.result, Some((true, true)), "round {round}: {:?}", run.failures);
        assert_eq!(run.dumps.len(), 2, "round {round}: {:?}", run.failures);
        sound_dump(&path);
    }
}

/// A thread outside the recording asks for dumps until the run has ended:
/// every answer is a dump or `Ended`, never a hang, and the run ends.
#[test]
fn dumps_racing_the_runs_end_never_hang_it() {
    alone("flight_hunt::dumps_racing_the_runs_end_never_hang_it", dumps_racing_the_end);
}

fn dumps_racing_the_end() {
    for round in 0..6 {
        let path = scratch(&format!("hunt-race-end-{round}")).join("dump.trace");
        let running = Arc::new(AtomicBool::new(true));
        let flag = Arc::clone(&running);
        let asker = std::thread::spawn(move || {
            let mut answers = (0, 0);
            while flag.load(Ordering::Acquire) || answers.0 + answers.1 < 3 {
                for result in flight_dump_all() {
                    match result {
                        Ok(_) => answers.0 += 1,
                        Err(FlightError::Ended) => answers.1 += 1,
                        Err(e) => panic!("round {round}: {e}"),
                    }
                }
                if !flag.load(Ordering::Acquire) {
                    answers.1 += 1;
                }
            }
            answers
        });
        let run = flight(&path, config(), move || {
            let worker = thread::spawn(|| {
                let lock = Mutex::new(0u64);
                for _ in 0..200 {
                    *lock.lock().unwrap() += 1;
                }
                let value = *lock.lock().unwrap();
                value
            });
            worker.join().unwrap()
        })
        .unwrap();
        running.store(false, Ordering::Release);
        asker.join().unwrap();
        assert_eq!(run.result, Some(200));
        assert!(run.failures.is_empty(), "round {round}: {:?}", run.failures);
        if path.exists() {
            sound_dump(&path);
        }
    }
}

/// Sixteen threads panic at once; the root catches every one and ends well.
#[test]
fn panics_in_many_threads_at_once_are_dumped_with_the_events_before_them() {
    let path = scratch("hunt-many-panics").join("dump.trace");
    let run = flight(&path, config(), || {
        let start = Arc::new(Barrier::new(16));
        let handles: Vec<_> = (0..16u32)
            .map(|i| {
                let start = Arc::clone(&start);
                thread::spawn(move || {
                    let lock = Mutex::new(i);
                    *lock.lock().unwrap() += 1;
                    start.wait();
                    panic!("hunt: worker {i} gave up");
                })
            })
            .collect();
        handles.into_iter().filter(|_| true).map(|h| h.join().is_err()).filter(|&e| e).count()
    })
    .unwrap();
    assert_eq!(run.result, Some(16));
    assert_eq!(run.verdict, Verdict::Completed);
    assert!(!run.dumps.is_empty(), "{:?}", run.failures);
    assert!(run.failures.is_empty(), "{:?}", run.failures);
    let trace = sound_dump(&path);
    let panicked: Vec<u32> = (1..=16).filter(|&t| ops(&trace, t).contains(&Op::Panic)).collect();
    assert!(!panicked.is_empty(), "the last dump holds a panic");
    for thread in panicked {
        let ops = ops(&trace, thread);
        let at = ops.iter().position(|&op| op == Op::Panic).unwrap();
        assert!(ops[..at].contains(&Op::Lock), "thread {thread}: {ops:?}");
    }
}

/// A worker panics holding a reprise Mutex: the lock is poisoned for the
/// root, which takes the value anyway; the dump holds the worker's lock,
/// then its panic.
#[test]
fn a_panic_holding_a_reprise_mutex_is_dumped_and_the_lock_poisoned() {
    let path = scratch("hunt-poison").join("dump.trace");
    let run = flight(&path, config(), || {
        let shared = Arc::new(Mutex::new(7u32));
        let theirs = Arc::clone(&shared);
        let worker = thread::spawn(move || {
            let mut guard = theirs.lock().unwrap();
            *guard += 1;
            panic!("hunt: poisoned");
        });
        assert!(worker.join().is_err());
        let poisoned = shared.lock().is_err();
        let value = *shared.lock().unwrap_or_else(|e| e.into_inner());
        (poisoned, value)
    })
    .unwrap();
    assert_eq!(run.result, Some((true, 8)));
    let trace = sound_dump(&path);
    let worker = ops(&trace, 1);
    let at = worker.iter().position(|&op| op == Op::Panic).expect("the panic");
    assert!(worker[..at].contains(&Op::Lock), "{worker:?}");
}

const SECRET: &str = "hunt-secret 4111-1111-1111-1111";

fn holds_plaintext(path: &Path) -> bool {
    std::fs::read(path).unwrap().windows(SECRET.len()).any(|w| w == SECRET.as_bytes())
}

/// Sensitive captures under the flight recorder, with a key and without:
/// no dump (mid-run, at a panic, at the end) holds the value in clear.
#[test]
fn a_dump_never_holds_a_sensitive_value_in_clear() {
    for keyed in [true, false] {
        let record = RecordConfig::new("flight-hunt", "1");
        let record = if keyed { record.key(SealKey::from_bytes([9; 32])) } else { record };
        let dir = scratch(&format!("hunt-sensitive-{keyed}"));
        for (i, how) in ["api", "panic", "end"].into_iter().enumerate() {
            let path = dir.join(format!("dump{i}.trace"));
            let run = flight(&path, FlightConfig::new(record.clone()).dump_at_end(how == "end"), move || {
                let worker = thread::spawn(move || {
                    let value = capture_sensitive(|| SECRET.to_string());
                    if how == "panic" {
                        panic!("hunt: after the capture");
                    }
                    value
                });
                let got = worker.join().ok();
                if how == "api" {
                    let _ = flight_dump();
                }
                got
            })
            .unwrap();
            assert!(!run.dumps.is_empty(), "{keyed} {how}: {:?}", run.failures);
            assert!(!holds_plaintext(&path), "keyed={keyed} {how}: the value in clear");
            let trace = sound_dump(&path);
            let inspected = stdout(&reprise_on(&["inspect"], &path));
            assert!(!inspected.contains(SECRET), "{inspected}");
            drop(trace);
        }
    }
}

fn on_deadlock_return() -> FlightConfig {
    FlightConfig::new(
        RecordConfig::new("flight-hunt", "1").closed_world(true).on_deadlock(reprise::OnDeadlock::Return),
    )
}

/// Two threads each wait to receive what the other sends only after its
/// own receive: in a closed world (no sender outside the recording) the
/// monitor proves the cycle, and the dump says so. (Without a closed world
/// a channel wait may be fed from outside: the program hangs as it would
/// unrecorded.)
#[test]
fn a_channel_cycle_is_proven_and_dumped() {
    let path = scratch("hunt-channel-cycle").join("dump.trace");
    let run = flight(&path, on_deadlock_return(), || {
        let (a_tx, a_rx) = channel::bounded::<u32>(1);
        let (b_tx, b_rx) = channel::bounded::<u32>(1);
        let other = thread::spawn(move || {
            let got = b_rx.recv().unwrap();
            a_tx.send(got).unwrap();
        });
        let got = a_rx.recv().unwrap();
        b_tx.send(got).unwrap();
        drop(other);
    })
    .unwrap();
    assert!(matches!(run.verdict, Verdict::Deadlock { .. }), "{}", run.verdict);
    assert_eq!(run.dumps.len(), 1, "{:?}", run.failures);
    let trace = sound_dump(&path);
    assert_eq!(note(&trace, DUMP_NOTE), Some("deadlock"));
    assert!(matches!(trace.footer.as_ref().unwrap().verdict, Verdict::Deadlock { .. }));
}

/// A dump path that cannot be written: the program runs on and ends as it
/// would have, every dump failing with a reason, and no partial file left.
#[test]
fn an_unwritable_dump_path_never_stops_the_program() {
    let dir = scratch("hunt-unwritable");
    let file = dir.join("a-file");
    std::fs::write(&file, b"not a directory").unwrap();
    let as_dir = dir.join("a-dir");
    std::fs::create_dir(&as_dir).unwrap();
    let paths: [PathBuf; 3] =
        [dir.join("missing").join("dump.trace"), file.join("dump.trace"), as_dir.clone()];
    for path in paths {
        let run = flight(&path, config().dump_at_end(true), || {
            let worker = thread::spawn(|| {
                let lock = Mutex::new(0u32);
                *lock.lock().unwrap() += 1;
                panic!("hunt: unwritable");
            });
            let panicked = worker.join().is_err();
            let asked = flight_dump();
            (panicked, matches!(asked, Err(FlightError::Write(_))))
        })
        .unwrap();
        assert_eq!(run.result, Some((true, true)), "{}: {:?}", path.display(), run.failures);
        assert!(run.dumps.is_empty(), "{}", path.display());
        assert!(run.failures.len() >= 2, "{}: {:?}", path.display(), run.failures);
        let left: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.contains("partial"))
            .collect();
        assert!(left.is_empty(), "{}: partial files left: {left:?}", path.display());
    }
    assert!(as_dir.is_dir(), "the directory is still a directory");
    assert_eq!(std::fs::read(&file).unwrap(), b"not a directory");
}

/// The CLI's flight recorder with a window of one or two events: the dump
/// verifies and inspects, and replay refuses it with its start (exit 11);
/// with a window larger than the run it replays to the recorded digest.
#[test]
fn the_clis_tiny_and_huge_windows() {
    for events in ["1", "2"] {
        let path = scratch(&format!("hunt-cli-{events}")).join("dump.trace");
        let shown = path.to_str().unwrap().to_owned();
        let out = reprise(&[
            "record",
            "--pipeline",
            "payments",
            "--payments",
            "3000",
            "--flight",
            "--flight-events",
            events,
            "--out",
            &shown,
        ]);
        assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
        assert!(stdout(&out).contains("its window starts late"), "{}", stdout(&out));
        sound_dump(&path);
        let replayed = reprise_on(&["replay"], &path);
        assert_eq!(replayed.status.code(), Some(reprise::exit::WINDOW), "{}", stderr(&replayed));
        assert!(stderr(&replayed).contains("starts at event"), "{}", stderr(&replayed));
    }
    let path = scratch("hunt-cli-huge").join("dump.trace");
    let shown = path.to_str().unwrap().to_owned();
    let out = reprise(&[
        "record",
        "--pipeline",
        "payments",
        "--payments",
        "300",
        "--flight",
        "--flight-events",
        "18446744073709551615",
        "--flight-bytes",
        "1000000000",
        "--out",
        &shown,
    ]);
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    let said = stdout(&out);
    let digest = said.lines().find(|l| l.starts_with("digest: ")).expect("the digest").to_owned();
    sound_dump(&path);
    let replayed = reprise_on(&["replay"], &path);
    assert_eq!(replayed.status.code(), Some(0), "{}{}", stdout(&replayed), stderr(&replayed));
    assert!(stdout(&replayed).lines().any(|l| l == digest), "{}", stdout(&replayed));
}

/// A guard's `Drop`, run while its thread unwinds from a panic, asks for a
/// dump (a program's cleanup path): the keeper, waiting for the panicking
/// thread to exit, answers it, and the panic's own dump follows.
#[test]
fn a_dump_asked_for_from_a_drop_during_unwinding_is_answered() {
    struct DumpOnDrop(Arc<AtomicBool>);
    impl Drop for DumpOnDrop {
        fn drop(&mut self) {
            self.0.store(flight_dump().is_ok(), Ordering::Release);
        }
    }
    let path = scratch("hunt-drop-dump").join("dump.trace");
    let run = flight(&path, config(), || {
        let dumped = Arc::new(AtomicBool::new(false));
        let theirs = Arc::clone(&dumped);
        let worker = thread::spawn(move || {
            let lock = Mutex::new(0u32);
            let _guard = DumpOnDrop(theirs);
            *lock.lock().unwrap() += 1;
            panic!("hunt: unwinding through a dump");
        });
        let panicked = worker.join().is_err();
        (panicked, dumped.load(Ordering::Acquire))
    })
    .unwrap();
    assert_eq!(run.result, Some((true, true)), "{:?}", run.failures);
    assert_eq!(run.dumps.len(), 2, "the drop's dump, then the panic's: {:?}", run.failures);
    let trace = sound_dump(&path);
    assert_eq!(note(&trace, DUMP_NOTE), Some("panic in thread 1"));
    let worker = ops(&trace, 1);
    assert_eq!(&worker[worker.len() - 2..], &[Op::Panic, Op::ThreadExit], "{worker:?}");
}

/// `REPRISE_FLIGHT` naming a path that cannot be written (under a regular
/// file): the program panics (a dump is due) and ends with its own exit
/// code, saying why the dump failed.
#[test]
fn reprise_flight_at_an_unwritable_path_leaves_the_programs_exit_code() {
    let dir = scratch("hunt-env-unwritable");
    let file = dir.join("a-file");
    std::fs::write(&file, b"x").unwrap();
    for (args, code) in [(&["panic"][..], 101), (&["code", "4"][..], 4)] {
        let out = std::process::Command::new(crate::util::example("exit_code"))
            .args(args)
            .env_remove("REPRISE_RECORD")
            .env_remove("REPRISE_REPLAY")
            .env("REPRISE_FLIGHT", format!("{},events=1", file.join("dump.trace").display()))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(code), "{args:?}: {}", stderr(&out));
        assert_eq!(stdout(&out), "sum 55\n", "{args:?}");
        if code == 101 {
            assert!(stderr(&out).contains("cannot write the flight-recorder dump"), "{}", stderr(&out));
        }
    }
    assert_eq!(std::fs::read(&file).unwrap(), b"x");
}

const CHILD: &str = "REPRISE_TEST_CHILD";
#[cfg(unix)]
const CHILD_DIR: &str = "REPRISE_TEST_DIR";
#[cfg(unix)]
/// This test binary again, running only `test` as the child `role` in
/// `dir`, its stderr dropped.
#[cfg(unix)]
fn rerun_alone(test: &str, role: &str, dir: &Path) -> std::process::Command {
    let mut command = std::process::Command::new(std::env::current_exe().unwrap());
    command
        .args([test, "--exact", "--nocapture", "--test-threads", "1"])
        .env(CHILD, role)
        .env(CHILD_DIR, dir)
        .stderr(std::process::Stdio::null());
    command
}

#[cfg(unix)]
const SIGNAL_TEST: &str = "flight_hunt::sigusr1_amid_api_dumps_and_a_panic_in_two_recorders";

/// Two flight recorders in one process: in one, four threads dump through
/// the API in a loop, and a worker panics; the other waits, quiet. A
/// `SIGUSR1` comes amid the API dumps: the quiet recorder's dump appears
/// (only the signal writes it), which ends the loop; the process ends by
/// itself, every dump sound.
#[cfg(unix)]
#[test]
fn sigusr1_amid_api_dumps_and_a_panic_in_two_recorders() {
    use std::io::Write;
    use std::process::Stdio;
    if std::env::var(CHILD).as_deref() == Ok("flight_hunt_sigusr1") {
        return sigusr1_child(PathBuf::from(std::env::var_os(CHILD_DIR).unwrap()));
    }
    let dir = scratch("hunt-sigusr1");
    let running =
        rerun_alone(SIGNAL_TEST, "flight_hunt_sigusr1", &dir).stdout(Stdio::piped()).spawn().unwrap();
    let mut running = crate::util::wait_for_line(running, "flying");
    let pid = libc::pid_t::try_from(running.id()).unwrap();
    // SAFETY: sends a signal to our own child process.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGUSR1) }, 0);
    let status = crate::util::wait_bounded(&mut running);
    std::io::stdout().flush().unwrap();
    assert!(status.success(), "the child ended by itself: {status}");
    let ok = std::fs::read_to_string(dir.join("result")).expect("the child's result");
    assert_eq!(ok.trim(), "ok", "{ok}");
    let quiet = sound_dump(&dir.join("quiet.trace"));
    assert_eq!(note(&quiet, DUMP_NOTE), Some("SIGUSR1"));
    sound_dump(&dir.join("busy.trace"));
}

#[cfg(unix)]
fn sigusr1_child(dir: PathBuf) {
    // SAFETY: restores the default action (a test harness may inherit another).
    unsafe {
        libc::signal(libc::SIGUSR1, libc::SIG_DFL);
    }
    let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
    let quiet_path = dir.join("quiet.trace");
    let quiet = std::thread::spawn(move || {
        flight(&quiet_path, config(), move || {
            let lock = Mutex::new(1u32);
            *lock.lock().unwrap() += 1;
            // Waits outside reprise until the busy recorder is done.
            let _ = release_rx.recv();
            let value = *lock.lock().unwrap();
            value
        })
        .unwrap()
    });
    let seen = dir.join("quiet.trace");
    let busy = flight(dir.join("busy.trace"), config(), move || {
        let said = Arc::new(std::sync::Once::new());
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let seen = seen.clone();
                let said = Arc::clone(&said);
                thread::spawn(move || {
                    let lock = Mutex::new(0u64);
                    let mut dumps = 0u64;
                    while !seen.exists() {
                        *lock.lock().unwrap() += 1;
                        flight_dump().expect("an API dump");
                        dumps += 1;
                        said.call_once(|| println!("flying"));
                    }
                    dumps
                })
            })
            .collect();
        let panicker = thread::spawn(|| panic!("hunt: amid the dumps"));
        let dumps: u64 = handles.into_iter().map(|h| h.join().unwrap()).sum();
        (dumps, panicker.join().is_err())
    })
    .unwrap();
    release_tx.send(()).unwrap();
    let quiet = quiet.join().unwrap();
    let (dumps, panicked) = busy.result.expect("the busy run returned");
    let ok = busy.failures.is_empty()
        && quiet.failures.is_empty()
        && panicked
        && busy.dumps.len() as u64 > dumps
        && quiet.result == Some(2)
        && quiet.dumps.len() == 1;
    let said = if ok {
        "ok".to_string()
    } else {
        format!(
            "busy: {dumps} API dumps, {} written, panicked {panicked}, failures {:?}; quiet: {:?} {} dumps {:?}",
            busy.dumps.len(),
            busy.failures,
            quiet.result,
            quiet.dumps.len(),
            quiet.failures
        )
    };
    std::fs::write(dir.join("result"), said).unwrap();
}

#[cfg(unix)]
const ABORT_TEST: &str =
    "flight_hunt::a_panic_in_a_drop_during_unwinding_aborts_with_a_dump_of_the_events_before_it";

/// A worker panics, and a value's `Drop` panics again while it unwinds:
/// the process aborts (Rust's rule for a panic during cleanup). The dump
/// must be on disk before the abort, with the worker's events before it.
#[cfg(unix)]
#[test]
fn a_panic_in_a_drop_during_unwinding_aborts_with_a_dump_of_the_events_before_it() {
    use std::process::Stdio;
    if std::env::var(CHILD).as_deref() == Ok("flight_hunt_abort") {
        return abort_child(PathBuf::from(std::env::var_os(CHILD_DIR).unwrap()));
    }
    let dir = scratch("hunt-abort");
    let mut running =
        rerun_alone(ABORT_TEST, "flight_hunt_abort", &dir).stdout(Stdio::null()).spawn().unwrap();
    let status = crate::util::wait_bounded(&mut running);
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(status.signal(), Some(libc::SIGABRT), "{status}");
    let trace = sound_dump(&dir.join("dump.trace"));
    let worker = ops(&trace, 1);
    assert_eq!(worker.iter().filter(|&&op| op == Op::Lock).count(), 3, "{worker:?}");
    // The panic that aborts is std's; the verdict names the program's own
    // panics before it.
    match &trace.footer.as_ref().unwrap().verdict {
        Verdict::Panicked { thread: 1, message } => assert!(
            message.contains(
                "this thread's panics before it, oldest first: `hunt: first`, `hunt: again, in a drop`"
            ),
            "{message}"
        ),
        other => panic!("{other:?}"),
    }
}

#[cfg(unix)]
fn abort_child(dir: PathBuf) {
    struct PanicOnDrop;
    impl Drop for PanicOnDrop {
        fn drop(&mut self) {
            panic!("hunt: again, in a drop");
        }
    }
    let _ = flight(dir.join("dump.trace"), config(), || {
        let worker = thread::spawn(|| {
            let lock = Mutex::new(0u32);
            for _ in 0..3 {
                *lock.lock().unwrap() += 1;
            }
            let _armed = PanicOnDrop;
            panic!("hunt: first");
        });
        let _ = worker.join();
    });
}

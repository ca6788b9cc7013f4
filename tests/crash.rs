//! Crashes, signals and recording failures: a crash loses little, and what
//! reprise does on the way never harms the recorded program.
//!
//! Tests that need a process of their own (a signal, a process-wide panic
//! hook, stderr) run this test binary again, selecting themselves with
//! `--exact`; `REPRISE_TEST_CHILD` tells the copy to play the child's part
//! (one of the `child_*` functions) instead of the parent's.

use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use reprise::sync::atomic::AtomicU64;
use reprise::sync::Mutex;
use reprise::trace::model::{Op, Record};
use reprise::trace::read::TraceFile;
use reprise::{
    capture, read_trace_file, record, replay, replay_coroutines, replay_with, thread, RecordConfig,
    ReplayOptions, ReplayOutcome,
};
use reprise_replayer::log::ReplayLog;
use reprise_replayer::prefix::cut_to_consistent_prefix;

use crate::util::{reprise_on, scratch, stderr, stdout, wait_bounded, wait_for_line};

/// A generous guard against a hang; never what a test asserts on.
const BACKSTOP: Duration = Duration::from_secs(120);

const CHILD: &str = "REPRISE_TEST_CHILD";
const CHILD_TRACE: &str = "REPRISE_TEST_TRACE";

fn config() -> RecordConfig {
    RecordConfig::new("crash-tests", "1")
}

/// This binary, running the test `test` as the child `name` recording into
/// `trace`.
fn child(test: &str, name: &str, trace: &Path) -> Command {
    let mut cmd = Command::new(std::env::current_exe().expect("test binary"));
    cmd.args([&format!("crash::{test}"), "--exact", "--nocapture", "--test-threads", "1"])
        .env(CHILD, name)
        .env(CHILD_TRACE, trace);
    cmd
}

/// The trace to record into when this process is the child `name`.
fn as_child(name: &str) -> Option<PathBuf> {
    (std::env::var(CHILD).ok()? == name)
        .then(|| PathBuf::from(std::env::var_os(CHILD_TRACE).expect("trace path")))
}

/// The child `name` of the test `test`, recording into `trace`, once it
/// said "recording" (its stderr dropped).
fn recording_child(test: &str, name: &str, trace: &Path) -> Child {
    let running = child(test, name, trace).stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap();
    wait_for_line(running, "recording")
}

fn signal(child: &Child, signal: libc::c_int) {
    let pid = libc::pid_t::try_from(child.id()).expect("pid");
    // SAFETY: sends a signal to our own child process.
    assert_eq!(unsafe { libc::kill(pid, signal) }, 0);
}

fn has_events(trace: &TraceFile, thread: u32) -> bool {
    trace.threads.get(&thread).is_some_and(|records| records.iter().any(|r| matches!(r, Record::Event(_))))
}

fn events_of(trace: &TraceFile, thread: u32, op: Op) -> Vec<reprise::trace::model::Event> {
    trace
        .threads
        .get(&thread)
        .map(|records| {
            records
                .iter()
                .filter_map(|r| match r {
                    Record::Event(e) if e.op == op => Some(*e),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn every_threads_events_reach_the_file_while_it_runs_also_a_thread_blocked_in_a_join() {
    let path = scratch("flush").join("t.trace");
    let go = Arc::new(AtomicBool::new(false));
    let worker_go = Arc::clone(&go);
    let recorded = path.clone();
    let recording = std::thread::spawn(move || {
        record(&recorded, config(), move || {
            let counter = Arc::new(AtomicU64::new(0));
            let worker = thread::Builder::new()
                .name("worker".into())
                .spawn(move || {
                    while !worker_go.load(Ordering::SeqCst) {
                        counter.fetch_add(1, Ordering::Relaxed);
                        std::thread::sleep(Duration::from_millis(1));
                    }
                })
                .unwrap();
            // The root only spawns and joins: it is blocked in a reprise call.
            worker.join().unwrap();
        })
    });
    let started = Instant::now();
    loop {
        let trace = read_trace_file(&path).ok();
        if trace.as_ref().is_some_and(|t| has_events(t, 0) && has_events(t, 1)) {
            break;
        }
        assert!(started.elapsed() < BACKSTOP, "the threads' events never reached the file while they ran");
        std::thread::sleep(Duration::from_millis(10));
    }
    go.store(true, Ordering::SeqCst);
    let recording = recording.join().unwrap().unwrap();
    assert!(read_trace_file(&path).unwrap().is_whole());
    assert!(recording.stopped.is_none());
}

#[test]
fn a_thread_that_records_after_the_trace_closed_drops_its_events_quietly() {
    let path = scratch("after-close").join("t.trace");
    let (release, released) = std::sync::mpsc::channel::<()>();
    let config = config().handover_timeout(Duration::from_millis(10));
    let recording = record(&path, config, move || {
        // Detached: still running when the recording finishes, and waiting
        // outside reprise, so it cannot hand its buffer over in time.
        thread::spawn(move || {
            let lock = Mutex::new(0u64);
            let _ = lock.lock().map(|mut g| *g += 1);
            released.recv().unwrap();
            for _ in 0..100_000 {
                *lock.lock().unwrap() += 1;
            }
            let total = *lock.lock().unwrap();
            total
        })
    })
    .unwrap();
    release.send(()).unwrap();
    let late = recording.result.expect("the closure returned").join();
    assert_eq!(late.ok(), Some(100_001), "the late thread ran to its end without a panic");
    let trace = read_trace_file(&path).unwrap();
    assert!(trace.is_whole(), "{:?}", trace.damage);
}

#[test]
fn a_3_mib_panic_message_is_stored_whole_and_replays() {
    let path = scratch("big-panic").join("t.trace");
    let program = || {
        let panicker = thread::spawn(|| panic!("{}", "m".repeat(3 << 20)));
        panicker.join().is_err()
    };
    let recording = record(&path, config(), program).unwrap();
    assert_eq!(recording.result, Some(true));
    let trace = read_trace_file(&path).unwrap();
    assert!(trace.is_whole(), "{:?}", trace.damage);
    assert_eq!(events_of(&trace, 1, Op::Panic).len(), 1, "the panicking thread's events are in the trace");
    let log = ReplayLog::from_trace(&trace);
    let at = (0..log.thread_len(1)).find(|&at| log.event(1, at).is_some_and(|e| e.op == Op::Panic)).unwrap();
    assert_eq!(log.blob(1, at).unwrap().len(), 3 << 20, "the whole message");
    let report = replay(&trace, program);
    assert!(matches!(report.outcome, ReplayOutcome::Matched), "{}", report.outcome);
}

#[test]
fn a_3_mib_captured_value_replays_exactly() {
    let path = scratch("big-capture").join("t.trace");
    let value: Vec<u8> = (0..3u32 << 20).map(|i| (i % 251) as u8).collect();
    let expected = value.clone();
    // One call site in record and replay; replay must not run the closure.
    let read = |value: Vec<u8>| capture(move || value);
    let recording = record(&path, config(), move || read(value)).unwrap();
    assert_eq!(recording.result.as_ref(), Some(&expected));
    let trace = read_trace_file(&path).unwrap();
    assert!(trace.is_whole(), "{:?}", trace.damage);
    let report = replay(&trace, move || read(Vec::new()));
    assert!(matches!(report.outcome, ReplayOutcome::Matched), "{}", report.outcome);
    assert_eq!(report.result, Some(expected), "the replayed capture is the recorded value");
}

/// Kills a recording of the payments pipeline mid-run. Every thread has
/// events on disk, and both replays replay exactly the trace's consistent
/// prefix, which holds at least all the prefix of an earlier look at the
/// growing file held: what had reached the disk in a consistent state
/// before the kill is not lost by it. Decided from the file's states, not
/// from how fast a loaded machine recorded (a share of the events kept was
/// 88.9% once under a load of 10, against a 90% this test once claimed).
#[test]
fn after_sigkill_every_thread_has_events_on_disk_and_replay_replays_most_of_them() {
    let dir = scratch("sigkill");
    let path = dir.join("p.trace");
    let mut recorder = Command::new(env!("CARGO_BIN_EXE_reprise"))
        .args(["record", "--pipeline", "payments", "--payments", "5000000", "--workers", "4", "--seed", "3"])
        .arg("--out")
        .arg(&path)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Running for a while, with chunks on disk; the kill is the test, its
    // timing is not.
    let started = Instant::now();
    while !read_trace_file(&path).is_ok_and(|t| t.chunks > 0) {
        assert!(started.elapsed() < BACKSTOP, "the recording wrote nothing");
        std::thread::sleep(Duration::from_millis(10));
    }
    std::thread::sleep(Duration::from_millis(300));
    // A copy now, read after the kill (reading it here would let the
    // recording run on for as long).
    let earlier_path = dir.join("earlier.trace");
    std::fs::copy(&path, &earlier_path).unwrap();
    // And on, until the file grew by a quarter.
    let size = |path: &Path| std::fs::metadata(path).map_or(0, |m| m.len());
    let grown = size(&earlier_path) + size(&earlier_path) / 4;
    while size(&path) < grown {
        assert!(started.elapsed() < BACKSTOP, "the recording stopped writing");
        std::thread::sleep(Duration::from_millis(10));
    }
    recorder.kill().unwrap();
    let status = recorder.wait().unwrap();
    assert_eq!(status.signal(), Some(libc::SIGKILL), "killed mid-recording, not finished: {status}");

    let trace = read_trace_file(&path).unwrap();
    assert!(trace.footer.is_none(), "killed before the end");
    let spawned: Vec<u32> = events_of(&trace, 0, Op::Spawn).iter().map(|e| e.a as u32).collect();
    assert!(spawned.len() >= 4, "main's events are on disk, its spawns among them: {spawned:?}");
    for thread in std::iter::once(0).chain(spawned.iter().copied()) {
        assert!(has_events(&trace, thread), "thread {thread} has no events on disk");
    }

    let mut log = ReplayLog::from_trace(&trace);
    cut_to_consistent_prefix(&mut log);
    assert!(log.thread_len(0) > 0, "main keeps events after the cut");
    let prefix = log.event_count();
    let mut earlier_log = ReplayLog::from_trace(&read_trace_file(&earlier_path).unwrap());
    cut_to_consistent_prefix(&mut earlier_log);
    let earlier_prefix = earlier_log.event_count();
    assert!(earlier_prefix > 0, "a while in, the file had a consistent prefix");
    assert!(
        prefix >= earlier_prefix,
        "the killed file's consistent prefix ({prefix} events) lost some of the {earlier_prefix} an earlier look kept"
    );

    let replayed = |args: &[&str]| {
        let out = reprise_on(args, &path);
        assert_eq!(out.status.code(), Some(reprise::exit::TRACE_ENDED), "{args:?}: {}", stderr(&out));
        let said = stderr(&out);
        let replayed: u64 = said
            .split("replayed its first ")
            .nth(1)
            .and_then(|rest| rest.split(' ').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("{args:?}: no replayed count in: {said}"));
        assert_eq!(
            replayed, prefix,
            "{args:?}: replays the consistent prefix of {} intact events: {said}",
            trace.events
        );
        replayed
    };
    replayed(&["replay"]);
    // The CLI's coroutine replay reads the file through its index, not
    // whole: it must cut it to the same prefix.
    replayed(&["replay", "--coroutines"]);
}

/// A killed recording of threads churning on one RwLock: the cut must not
/// keep a read or write after a holder's lost unlock (the replayed holder
/// would stop before it, holding the real lock, and the next one would
/// block inside `read` or `write` until the time backstop).
#[test]
fn after_sigkill_an_rwlock_program_replays_its_prefix() {
    killed_recordings_replay_their_prefix("after_sigkill_an_rwlock_program_replays_its_prefix", rwlock_churn);
}

/// As the RwLock's, for a program unlike it: a rendezvous channel, a
/// mutex and condvar, a barrier (itself a mutex and condvar), an atomic and
/// park/unpark, all in lockstep.
#[test]
fn after_sigkill_a_lockstep_program_replays_its_prefix() {
    killed_recordings_replay_their_prefix(
        "after_sigkill_a_lockstep_program_replays_its_prefix",
        lockstep_churn,
    );
}

/// And for a thread per task: scoped threads racing on a fresh `OnceLock`,
/// `Once` and `LazyLock` each round, reporting over a channel that a
/// `select!` with a timer arm and a timed `default` drains, beside a ticker
/// on an `mpsc::sync_channel`.
#[test]
fn after_sigkill_a_thread_per_task_program_replays_its_prefix() {
    killed_recordings_replay_their_prefix(
        "after_sigkill_a_thread_per_task_program_replays_its_prefix",
        thread_per_task_churn,
    );
}

/// And for sensitive captures: threads that read sealed values between
/// lock turns and sends. The killed trace holds none of them in clear, and
/// both replays, given the key, serve each recorded value back (a wrong one
/// would fail the program's own check, a divergence).
#[test]
fn after_sigkill_a_program_with_sensitive_captures_replays_its_prefix_with_the_key() {
    killed_recordings_replay_their_prefix_keyed(
        "after_sigkill_a_program_with_sensitive_captures_replays_its_prefix_with_the_key",
        sensitive_churn,
        Some(sealing_key()),
    );
}

/// Records `program` in a child, SIGKILLs it mid-run (three times), and
/// replays each trace: its consistent prefix must replay whole, never
/// ending at the time backstop.
fn killed_recordings_replay_their_prefix(test: &str, program: fn(bool)) {
    killed_recordings_replay_their_prefix_keyed(test, program, None);
}

/// [`killed_recordings_replay_their_prefix`], recording and replaying with
/// `key` when given.
fn killed_recordings_replay_their_prefix_keyed(test: &str, program: fn(bool), key: Option<reprise::SealKey>) {
    let config = || match &key {
        Some(key) => config().key(key.clone()),
        None => config(),
    };
    if let Some(path) = as_child("child_churn") {
        let _guard = reprise::start_recording(&path, config()).unwrap();
        return program(true);
    }
    for round in 0..3 {
        let path = scratch(&format!("{test}-{round}")).join("t.trace");
        let mut running = recording_child(test, "child_churn", &path);
        let started = Instant::now();
        // Every thread's events on disk, and plenty of them, so that the cut
        // has work to do.
        while !read_trace_file(&path).is_ok_and(|t| t.events > 30_000 && (0..4).all(|i| has_events(&t, i))) {
            assert!(started.elapsed() < BACKSTOP, "the recording wrote little");
            std::thread::sleep(Duration::from_millis(10));
        }
        signal(&running, libc::SIGKILL);
        assert_eq!(wait_bounded(&mut running).signal(), Some(libc::SIGKILL));

        let trace = read_trace_file(&path).unwrap();
        assert!(trace.footer.is_none(), "killed before the end");
        let mut options = ReplayOptions::default().without_key();
        if let Some(key) = &key {
            options = options.key(key.clone());
            let bytes = std::fs::read(&path).unwrap();
            assert!(
                !bytes.windows(SENSITIVE_PREFIX.len()).any(|w| w == SENSITIVE_PREFIX.as_bytes()),
                "round {round}: a sensitive value is in the killed trace in clear"
            );
        }
        // A proven stall is reported at once; this catches a thread blocked
        // inside a real lock, which only time can.
        options.stall_backstop = Some(Duration::from_secs(30));
        let parallel = replay_with(&trace, &options, move || program(false));
        // And on coroutines, following the recorded order: the same prefix.
        let on_coroutines = match &key {
            Some(key) => reprise::replay_coroutines_keyed(&trace, key.clone(), move || program(false)),
            None => replay_coroutines(&trace, move || program(false)),
        };
        for (how, report) in [("parallel", parallel), ("coroutines", on_coroutines)] {
            assert!(
                matches!(report.outcome, ReplayOutcome::TraceEnded { .. }),
                "round {round}, {how}: {} ({} of {} events replayed)",
                report.outcome,
                report.replayed,
                report.events
            );
            assert_eq!(report.replayed, report.events, "round {round}, {how}: the whole prefix replayed");
            assert!(report.replayed > 0, "round {round}, {how}: nothing kept of {} events", trace.events);
        }
    }
}

/// Three threads and the calling one, forever: a producer hands numbers
/// over a rendezvous channel to a consumer, which counts them under a
/// mutex and notifies the caller, who waits for each on a condvar and
/// unparks the producer (behind a flag: the channel's own blocking may
/// take the park token); all four meet at a barrier each round. Says
/// "recording" once on stdout when `announce`.
fn lockstep_churn(announce: bool) {
    lockstep(u64::MAX, |round| {
        if announce && round == 1001 {
            println!("recording");
        }
    });
}

/// [`lockstep_churn`]'s rounds, `rounds` of them (then every thread ends),
/// calling `each_round` on the calling thread before each round's barrier.
pub(crate) fn lockstep(rounds: u64, each_round: impl Fn(u64)) {
    use reprise::sync::{Barrier, Condvar};
    let barrier = Arc::new(Barrier::new(4));
    let counted = Arc::new((Mutex::new(0u64), Condvar::new()));
    let seen_rounds = Arc::new(AtomicU64::new(0));
    let go = Arc::new(reprise::sync::atomic::AtomicBool::new(false));
    let (tx, rx) = reprise::channel::bounded::<u64>(0);
    let producer = {
        let (barrier, seen_rounds, go) = (Arc::clone(&barrier), Arc::clone(&seen_rounds), Arc::clone(&go));
        thread::spawn(move || {
            for n in 0..rounds {
                tx.send(n).unwrap();
                while !go.swap(false, Ordering::SeqCst) {
                    thread::park();
                }
                seen_rounds.fetch_add(1, Ordering::SeqCst);
                barrier.wait();
            }
        })
    };
    let consumer = {
        let (barrier, counted) = (Arc::clone(&barrier), Arc::clone(&counted));
        thread::spawn(move || {
            for _ in 0..rounds {
                let n = rx.recv().unwrap();
                let (count, changed) = &*counted;
                *count.lock().unwrap() = n + 1;
                changed.notify_one();
                barrier.wait();
            }
        })
    };
    let observer = {
        let (barrier, seen_rounds) = (Arc::clone(&barrier), Arc::clone(&seen_rounds));
        thread::spawn(move || {
            for _ in 0..rounds {
                std::hint::black_box(seen_rounds.load(Ordering::SeqCst));
                barrier.wait();
            }
        })
    };
    for round in 1..=rounds {
        let (count, changed) = &*counted;
        let mut seen = count.lock().unwrap();
        while *seen < round {
            seen = changed.wait(seen).unwrap();
        }
        drop(seen);
        go.store(true, Ordering::SeqCst);
        producer.thread().unpark();
        each_round(round);
        barrier.wait();
    }
    for worker in [producer, consumer, observer] {
        worker.join().unwrap();
    }
}

/// Forever: each round, two scoped threads race to initialize a fresh
/// `OnceLock`, `Once` and `LazyLock` and report what they saw; the calling
/// thread takes both reports through a `select!` whose timer arm and timed
/// `default` take a tick from a ticker thread. Says "recording" once on
/// stdout when `announce`.
fn thread_per_task_churn(announce: bool) {
    use reprise::sync::{mpsc, LazyLock, Once, OnceLock};
    let (ticks_tx, ticks) = mpsc::sync_channel::<u64>(4);
    thread::spawn(move || {
        for n in 0.. {
            if ticks_tx.send(n).is_err() {
                break;
            }
        }
    });
    let (done_tx, done) = reprise::channel::unbounded::<u64>();
    let mut said = !announce;
    for round in 0u64.. {
        let once = OnceLock::new();
        let started = Once::new();
        let lazy = LazyLock::new(|| round * 3);
        thread::scope(|s| {
            for worker in 0..2u64 {
                let (once, started, lazy, done_tx) = (&once, &started, &lazy, done_tx.clone());
                s.spawn(move || {
                    started.call_once(|| {});
                    done_tx.send(*once.get_or_init(|| round * 2 + worker) + **lazy).unwrap();
                });
            }
        });
        let mut reports = 0;
        while reports < 2 {
            reprise::channel::select! {
                recv(done) -> value => {
                    std::hint::black_box(value.unwrap());
                    reports += 1;
                }
                recv(reprise::channel::after(Duration::from_micros(20))) -> _ => {
                    std::hint::black_box(ticks.try_recv().ok());
                }
                default(Duration::from_micros(50)) => {
                    std::hint::black_box(ticks.try_recv().ok());
                }
            }
        }
        std::hint::black_box(ticks.recv().unwrap());
        if !said && round > 200 {
            println!("recording");
            said = true;
        }
    }
}

/// What every sensitive value of [`sensitive_churn`] starts with: the
/// test looks for it in the trace's bytes.
const SENSITIVE_PREFIX: &str = "IBAN DE89 3704 0044";

fn sealing_key() -> reprise::SealKey {
    reprise::SealKey::from_bytes([0x5e; 32])
}

/// Three workers forever: each reads a sensitive value (an account named by
/// worker and count), checks it, books its length under a shared mutex and
/// sends its count to the calling thread over a bounded channel; the
/// calling thread also reads sensitive values between receives. Says
/// "recording" once on stdout when `announce`.
fn sensitive_churn(announce: bool) {
    let booked = Arc::new(Mutex::new(0u64));
    let (tx, rx) = reprise::channel::bounded::<u64>(4);
    for worker in 0..3u64 {
        let (booked, tx) = (Arc::clone(&booked), tx.clone());
        thread::spawn(move || {
            for n in 0u64.. {
                let expected = format!("{SENSITIVE_PREFIX} {worker:02} {n:08}");
                let read = reprise::capture_sensitive(|| expected.clone());
                assert_eq!(read, expected, "the sensitive value this call recorded");
                *booked.lock().unwrap() += read.len() as u64;
                if tx.send(n).is_err() {
                    break;
                }
            }
        });
    }
    drop(tx);
    let mut said = !announce;
    for n in 0u64.. {
        std::hint::black_box(rx.recv().unwrap());
        let expected = format!("{SENSITIVE_PREFIX} root {n:08}");
        assert_eq!(reprise::capture_sensitive(|| expected.clone()), expected);
        if !said && n > 1000 {
            println!("recording");
            said = true;
        }
    }
}

/// Three threads taking one RwLock's write and read locks forever (two of
/// them write), and the calling thread reading; says "recording" once on
/// stdout when `announce`.
fn rwlock_churn(announce: bool) {
    let lock = Arc::new(reprise::sync::RwLock::new(0u64));
    for worker in 0..3u64 {
        let lock = Arc::clone(&lock);
        thread::spawn(move || loop {
            if worker < 2 {
                *lock.write().unwrap() += worker + 1;
            }
            std::hint::black_box(*lock.read().unwrap());
        });
    }
    let mut said = !announce;
    loop {
        let seen = *lock.read().unwrap();
        if !said && seen > 1000 {
            println!("recording");
            said = true;
        }
    }
}

#[test]
fn a_write_failure_mid_recording_stops_it_once_and_the_program_runs_on() {
    if let Some(path) = as_child("child_write_failure") {
        return child_write_failure(path);
    }
    let path = scratch("write-fails").join("t.trace");
    let out = child(
        "a_write_failure_mid_recording_stops_it_once_and_the_program_runs_on",
        "child_write_failure",
        &path,
    )
    .output()
    .unwrap();
    assert!(out.status.success(), "{}\n{}", stdout(&out), stderr(&out));
    assert!(stdout(&out).contains("result: Some(200000)"), "the program's result: {}", stdout(&out));
    assert!(stdout(&out).contains("stopped: true"), "{}", stdout(&out));
    let notices = stderr(&out).matches("reprise: recording stopped").count();
    assert_eq!(notices, 1, "exactly one notice: {}", stderr(&out));
    assert!(!stderr(&out).contains("outside this recording"), "no other warning: {}", stderr(&out));
    let trace = read_trace_file(&path).unwrap();
    assert!(trace.chunks > 0 && trace.damage.is_some(), "readable up to the failure: {:?}", trace.damage);
}

fn child_write_failure(path: PathBuf) {
    let mut config = config();
    config.fail_writes_after = Some(64 * 1024);
    let recording = record(&path, config, || {
        let total = Arc::new(Mutex::new(0u64));
        // Each worker also reports its progress to the root: after the
        // failure, threads stop recording one by one, and a message from one
        // that stopped is no news the user needs (the stop was said).
        let (progress_tx, progress_rx) = reprise::channel::unbounded::<u64>();
        let workers: Vec<_> = (0..2)
            .map(|_| {
                let total = Arc::clone(&total);
                let progress = progress_tx.clone();
                thread::spawn(move || {
                    for i in 0..100_000 {
                        *total.lock().unwrap() += 1;
                        if i % 1000 == 0 {
                            progress.send(i).unwrap();
                        }
                    }
                })
            })
            .collect();
        drop(progress_tx);
        for _ in progress_rx.iter() {}
        for w in workers {
            w.join().unwrap();
        }
        let sum = *total.lock().unwrap();
        sum
    })
    .expect("a failure mid-recording is not an error of `record`");
    println!("result: {:?}", recording.result);
    println!("stopped: {}", recording.stopped.is_some());
}

#[test]
fn a_write_failure_while_finishing_the_trace_ends_the_recording() {
    if let Some(path) = as_child("child_finish_fails") {
        return child_finish_fails(path);
    }
    let path = scratch("finish-fails").join("t.trace");
    let mut child =
        child("a_write_failure_while_finishing_the_trace_ends_the_recording", "child_finish_fails", &path)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
    // The writer used to wait for a second `Finish` after the first one's
    // write failed: `record` never returned.
    let status = wait_bounded(&mut child);
    let out = child.wait_with_output().unwrap();
    assert!(status.success(), "{}\n{}", stdout(&out), stderr(&out));
    assert!(stdout(&out).contains("result: Some(10)"), "the program's result: {}", stdout(&out));
    assert!(stdout(&out).contains("stopped: true"), "{}", stdout(&out));
    assert_eq!(stderr(&out).matches("reprise: recording stopped").count(), 1, "{}", stderr(&out));
}

/// Records a one-thread program twice: once whole, to learn its trace's
/// size, then on a disk that fills up 4 bytes before that size, in the
/// footer, which the writer writes only when the recording finishes.
fn child_finish_fails(path: PathBuf) {
    let body = || {
        let lock = Mutex::new(0u64);
        for _ in 0..10 {
            *lock.lock().unwrap() += 1;
        }
        let total = *lock.lock().unwrap();
        total
    };
    let whole = path.with_extension("whole");
    record(&whole, config(), body).unwrap();
    let size = std::fs::metadata(&whole).unwrap().len();
    let mut config = config();
    config.fail_writes_after = Some(size - 4);
    let recording = record(&path, config, body).expect("a failed write is not an error of `record`");
    println!("result: {:?}", recording.result);
    println!("stopped: {}", recording.stopped.is_some());
}

#[test]
fn sigterm_mid_recording_finishes_the_trace_and_the_process_dies_of_sigterm() {
    signal_finishes_the_trace(
        "sigterm_mid_recording_finishes_the_trace_and_the_process_dies_of_sigterm",
        libc::SIGTERM,
        "SIGTERM",
    );
}

#[test]
fn sigint_mid_recording_finishes_the_trace_and_the_process_dies_of_sigint() {
    signal_finishes_the_trace(
        "sigint_mid_recording_finishes_the_trace_and_the_process_dies_of_sigint",
        libc::SIGINT,
        "SIGINT",
    );
}

/// The test `test`: a child records until `sig` arrives; the trace must be
/// finished, say which signal ended it, and the child must die of it.
fn signal_finishes_the_trace(test: &str, sig: libc::c_int, name: &str) {
    if let Some(path) = as_child("child_sigterm") {
        return child_sigterm(path);
    }
    let path = scratch(name).join("t.trace");
    let mut running = recording_child(test, "child_sigterm", &path);
    signal(&running, sig);
    let status = wait_bounded(&mut running);
    assert_eq!(status.signal(), Some(sig), "{status}");
    let trace = read_trace_file(&path).unwrap();
    assert!(trace.is_whole(), "finished with an end marker: {:?}", trace.damage);
    assert_eq!(trace.footer.as_ref().and_then(|f| f.annotation("reprise.signal")), Some(name));
    assert!(has_events(&trace, 0) && has_events(&trace, 1));
}

fn child_sigterm(path: PathBuf) {
    static NEVER: AtomicBool = AtomicBool::new(false);
    // The case under test is a program whose SIGTERM and SIGINT have their
    // default action. A shell that starts a job in the background hands it
    // SIGINT ignored, and reprise rightly leaves an ignored signal alone.
    // SAFETY: restores the default action; no handler runs.
    unsafe {
        libc::signal(libc::SIGTERM, libc::SIG_DFL);
        libc::signal(libc::SIGINT, libc::SIG_DFL);
    }
    let _guard = reprise::start_recording(&path, config()).unwrap();
    busy_until(&NEVER);
}

/// Records work on this thread and a worker until `stop` is set, after
/// saying "recording" once both have recorded.
fn busy_until(stop: &'static AtomicBool) {
    let counter = Arc::new(AtomicU64::new(0));
    let theirs = Arc::clone(&counter);
    let worker = thread::spawn(move || {
        while !stop.load(Ordering::SeqCst) {
            theirs.fetch_add(1, Ordering::Relaxed);
            std::thread::sleep(Duration::from_millis(1));
        }
    });
    let mut said = false;
    while !stop.load(Ordering::SeqCst) {
        counter.fetch_add(1, Ordering::Relaxed);
        if !said && counter.load(Ordering::Relaxed) > 10 {
            println!("recording");
            said = true;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    worker.join().unwrap();
}

static HOST_GOT_SIGTERM: AtomicBool = AtomicBool::new(false);

extern "C" fn host_handler(_: libc::c_int) {
    HOST_GOT_SIGTERM.store(true, Ordering::SeqCst);
}

#[test]
fn a_host_that_handles_sigterm_itself_keeps_its_handler_and_the_guard_finishes_the_trace() {
    if let Some(path) = as_child("child_host_handler") {
        return child_host_handler(path);
    }
    let path = scratch("host-sigterm").join("t.trace");
    let mut running = recording_child(
        "a_host_that_handles_sigterm_itself_keeps_its_handler_and_the_guard_finishes_the_trace",
        "child_host_handler",
        &path,
    );
    signal(&running, libc::SIGTERM);
    let status = wait_bounded(&mut running);
    assert!(status.success(), "the host's handler ran and the host ended normally: {status}");
    let trace = read_trace_file(&path).unwrap();
    assert!(trace.is_whole(), "{:?}", trace.damage);
    assert_eq!(trace.footer.as_ref().and_then(|f| f.annotation("reprise.signal")), None);
}

fn child_host_handler(path: PathBuf) {
    // SAFETY: installs a handler that only stores to an atomic.
    unsafe { libc::signal(libc::SIGTERM, host_handler as extern "C" fn(libc::c_int) as libc::sighandler_t) };
    let guard = reprise::start_recording(&path, config()).unwrap();
    busy_until(&HOST_GOT_SIGTERM);
    drop(guard);
}

#[test]
fn a_panic_hook_installed_before_recording_still_runs() {
    if let Some(path) = as_child("child_panic_hook") {
        return child_panic_hook(path);
    }
    let path = scratch("panic-hook").join("t.trace");
    let out = child("a_panic_hook_installed_before_recording_still_runs", "child_panic_hook", &path)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}\n{}", stdout(&out), stderr(&out));
    assert!(stdout(&out).contains("user hook saw: boom"), "{}", stdout(&out));
    assert_eq!(
        events_of(&read_trace_file(&path).unwrap(), 1, Op::Panic).len(),
        1,
        "and reprise's hook noted it"
    );
}

fn child_panic_hook(path: PathBuf) {
    std::panic::set_hook(Box::new(|info| {
        let message = info.payload().downcast_ref::<&str>().copied().unwrap_or_default();
        println!("user hook saw: {message}");
    }));
    let recording = record(&path, config(), || thread::spawn(|| panic!("boom")).join().is_err()).unwrap();
    assert_eq!(recording.result, Some(true));
}

#[test]
fn the_final_flush_takes_the_events_of_a_thread_still_running() {
    let path = scratch("final-flush").join("t.trace");
    let stop = Arc::new(AtomicBool::new(false));
    let theirs = Arc::clone(&stop);
    let recording = record(&path, config(), move || {
        // Detached and still recording when the root returns: its buffer is
        // far from a full chunk.
        let (started, has_started) = std::sync::mpsc::channel();
        let handle = thread::spawn(move || {
            let counter = AtomicU64::new(0);
            for _ in 0..100 {
                counter.fetch_add(1, Ordering::Relaxed);
            }
            started.send(()).unwrap();
            while !theirs.load(Ordering::SeqCst) {
                counter.fetch_add(1, Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(1));
            }
        });
        has_started.recv().unwrap();
        handle
    })
    .unwrap();
    stop.store(true, Ordering::SeqCst);
    recording.result.expect("the closure returned").join().unwrap();
    let trace = read_trace_file(&path).unwrap();
    assert!(trace.is_whole(), "{:?}", trace.damage);
    let rmws = events_of(&trace, 1, Op::AtomicRmw).len();
    assert!(rmws >= 100, "the running thread's events are in the trace: {rmws}");
}

#[test]
fn a_panic_under_a_record_guard_is_recorded_with_its_message() {
    let path = scratch("guard-panic").join("t.trace");
    let recorded = path.clone();
    let joined = std::thread::spawn(move || {
        let _guard = reprise::start_recording(&recorded, config()).unwrap();
        panic!("the ledger is off by one cent");
    })
    .join();
    assert!(joined.is_err());
    let trace = read_trace_file(&path).unwrap();
    let verdict = trace.footer.as_ref().map(|f| f.verdict.to_string()).unwrap_or_default();
    assert!(verdict.contains("the ledger is off by one cent"), "{verdict}");
    assert_eq!(events_of(&trace, 0, Op::Panic).len(), 1, "the panic is an event of its thread");
}

/// The program of the pending-cap test: two threads bumping one counter.
fn counting() -> u64 {
    let total = Arc::new(Mutex::new(0u64));
    let workers: Vec<_> = (0..2)
        .map(|_| {
            let total = Arc::clone(&total);
            thread::spawn(move || {
                for _ in 0..100_000 {
                    *total.lock().unwrap() += 1;
                }
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    let sum = *total.lock().unwrap();
    sum
}

#[test]
fn a_writer_that_falls_behind_stops_the_recording_at_the_pending_cap_and_the_trace_ends_there() {
    let path = scratch("pending-cap").join("t.trace");
    let mut config = config().pending_cap(64 * 1024);
    // The writer writes nothing until the recording stops: every chunk stays
    // pending, as behind a disk that cannot keep up.
    config.stall_writer = true;
    let recording = record(&path, config, counting).expect("a capped recording is not an error of `record`");
    assert_eq!(recording.result, Some(200_000), "the program ran on to its end");
    let reason = recording.stopped.expect("the recording stopped at the cap");
    assert!(reason.contains("pending cap"), "{reason}");
    let trace = read_trace_file(&path).unwrap();
    assert!(trace.is_whole(), "valid up to where it stopped: {:?}", trace.damage);
    let footer = trace.footer.as_ref().expect("a footer");
    let note =
        footer.annotation(reprise_recorder::STOPPED_ANNOTATION).expect("the stop reason in the footer");
    assert!(note.contains("pending cap") && note.contains("65536"), "{note}");
    let events = footer.events;
    assert!(events > 0, "the events before the cap are kept");
    assert!(events < 200_000, "nothing after the cap: {events} events");
    let report = replay(&trace, counting);
    match report.outcome {
        ReplayOutcome::TraceEnded { replayed } => assert!(replayed > 0, "the prefix replays"),
        other => panic!("expected the replay to follow the prefix to its end: {other}"),
    }
}

/// The pending cap stops each thread where its buffer crossed it, so the
/// threads' logs end at unrelated points, as a kill's do: programs unlike
/// `counting` (a rendezvous, a condvar, a barrier and park/unpark in
/// lockstep; captures of 20 KiB whose bytes span chunks, under a lock)
/// must replay their prefix whole, in parallel and on coroutines.
#[test]
fn recordings_stopped_at_the_pending_cap_replay_their_prefix_both_ways() {
    fn lockstep_rounds() -> u64 {
        lockstep(3_000, |_| {});
        3_000
    }
    fn large_captures() -> u64 {
        let booked = Arc::new(Mutex::new(0u64));
        let workers: Vec<_> = (0..3u8)
            .map(|worker| {
                let booked = Arc::clone(&booked);
                thread::spawn(move || {
                    for n in 0..200u32 {
                        let expected: Vec<u8> = (0..20_000u32).map(|i| (i + n) as u8 ^ worker).collect();
                        let read = capture(|| expected.clone());
                        assert_eq!(read, expected, "the value this capture recorded");
                        *booked.lock().unwrap() += read.len() as u64;
                    }
                })
            })
            .collect();
        for w in workers {
            w.join().unwrap();
        }
        let total = *booked.lock().unwrap();
        total
    }
    for (name, program, result) in
        [("lockstep", lockstep_rounds as fn() -> u64, 3_000), ("large-captures", large_captures, 12_000_000)]
    {
        let path = scratch(&format!("pending-cap-{name}")).join("t.trace");
        let mut config = config().pending_cap(64 * 1024);
        config.stall_writer = true;
        let recording = record(&path, config, program).unwrap();
        assert_eq!(recording.result, Some(result), "{name}: the program ran on to its end");
        assert!(recording.stopped.is_some(), "{name}: the recording stopped at the cap");
        let trace = read_trace_file(&path).unwrap();
        let mut options = ReplayOptions::default();
        options.stall_backstop = Some(Duration::from_secs(30));
        let parallel = replay_with(&trace, &options, program);
        let on_coroutines = replay_coroutines(&trace, program);
        for (how, report) in [("parallel", parallel), ("coroutines", on_coroutines)] {
            assert!(
                matches!(report.outcome, ReplayOutcome::TraceEnded { .. }),
                "{name}, {how}: {} ({} of {} events replayed)",
                report.outcome,
                report.replayed,
                report.events
            );
            assert_eq!(report.replayed, report.events, "{name}, {how}: the whole prefix replayed");
            assert!(report.replayed > 0, "{name}, {how}: nothing kept of {} events", trace.events);
        }
    }
}

#[test]
fn a_writer_that_keeps_up_never_reaches_the_pending_cap() {
    let path = scratch("pending-cap-kept").join("t.trace");
    // Far below the run's raw events (40 bytes each in a thread's buffer):
    // only what waits for the writer counts.
    let cap = 4 << 20;
    let config = config().pending_cap(cap);
    let recording = record(&path, config, counting).unwrap();
    assert_eq!(recording.stopped, None);
    let trace = read_trace_file(&path).unwrap();
    assert!(trace.is_whole(), "{:?}", trace.damage);
    assert!(trace.footer.as_ref().unwrap().annotation(reprise_recorder::STOPPED_ANNOTATION).is_none());
    assert!(recording.stats.events * 40 > 3 * cap as u64, "the whole run is far longer than the cap");
}

#[test]
fn after_sigterm_a_thread_in_a_condvar_wait_does_not_cut_the_next_holders_turns() {
    if let Some(path) = as_child("child_condvar_wait") {
        return child_condvar_wait(path);
    }
    let path = scratch("sigterm-condvar-wait").join("t.trace");
    let mut running = recording_child(
        "after_sigterm_a_thread_in_a_condvar_wait_does_not_cut_the_next_holders_turns",
        "child_condvar_wait",
        &path,
    );
    signal(&running, libc::SIGTERM);
    assert_eq!(wait_bounded(&mut running).signal(), Some(libc::SIGTERM));
    let trace = read_trace_file(&path).unwrap();
    assert_eq!(
        trace.footer.as_ref().and_then(|f| f.annotation(reprise::CONDVAR_WAITS_ANNOTATION)),
        Some("1")
    );
    assert_eq!(events_of(&trace, 0, Op::Lock).len(), 2, "the root's turns after the wait are in the trace");
    for (how, cut) in [
        ("parallel", replay(&trace, condvar_wait_program).cut),
        ("coroutines", replay_coroutines(&trace, condvar_wait_program).cut),
    ] {
        assert_eq!(cut, 0, "{how}: the root's turns after the wait were cut");
    }
}

/// A waiter waits on a condvar forever; the root takes the mutex the wait
/// gave up twice, says "recording", and joins the waiter (forever).
fn condvar_wait_program() {
    let state = Arc::new((reprise::sync::Mutex::new(()), reprise::sync::Condvar::new()));
    let (waiting_tx, waiting_rx) = reprise::channel::bounded::<()>(1);
    let theirs = Arc::clone(&state);
    let waiter = thread::spawn(move || {
        let (lock, never) = &*theirs;
        let guard = lock.lock().unwrap();
        // Sent holding the mutex: the root's lock waits for the wait.
        waiting_tx.send(()).unwrap();
        drop(never.wait_while(guard, |_| true));
    });
    waiting_rx.recv().unwrap();
    for _ in 0..2 {
        drop(state.0.lock().unwrap());
    }
    println!("recording");
    let _ = waiter.join();
}

fn child_condvar_wait(path: PathBuf) {
    // SAFETY: restores the default action; no handler runs.
    unsafe {
        libc::signal(libc::SIGTERM, libc::SIG_DFL);
    }
    let _ = record(&path, config(), condvar_wait_program);
}

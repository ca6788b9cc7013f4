//! What a recording does around deadlocks: a verdict only from proof (never
//! from idleness), and what the user chose to do with a proven one.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, Arc, Barrier};
use std::time::{Duration, Instant};

use reprise::sync::Mutex;
use reprise::trace::format::Verdict;
use reprise::trace::read::TraceFile;
use reprise::{channel, read_trace_file, record, thread, OnDeadlock, RecordConfig};

use crate::util::scratch;

/// Set in a child process this binary starts: which role it plays.
const CHILD: &str = "REPRISE_TEST_DEADLOCK_CHILD";

/// A backstop against a hanging child, never an assertion on time.
const BACKSTOP: Duration = Duration::from_secs(120);

/// Two reprise threads take two mutexes in opposite orders; a std barrier
/// (not instrumented) makes both hold their first before either takes its
/// second: a certain deadlock.
fn lock_order() {
    let a = Arc::new(Mutex::new(0));
    let b = Arc::new(Mutex::new(0));
    let both_hold = Arc::new(Barrier::new(2));
    let spawn = |first: Arc<Mutex<i32>>, second: Arc<Mutex<i32>>, barrier: Arc<Barrier>| {
        thread::spawn(move || {
            let _one = first.lock().unwrap();
            barrier.wait();
            let _two = second.lock().unwrap();
        })
    };
    let t1 = spawn(Arc::clone(&a), Arc::clone(&b), Arc::clone(&both_hold));
    let t2 = spawn(b, a, both_hold);
    t1.join().unwrap();
    t2.join().unwrap();
}

/// The recorded root waits on a reprise channel whose only sender a plain
/// std thread holds; that thread sends once `go` says so (never, if `go`'s
/// sender is kept and never used).
fn fed_from_outside(go: mpsc::Receiver<()>) -> impl FnOnce() -> u64 + Send + 'static {
    move || {
        let (tx, rx) = channel::unbounded::<u64>();
        std::thread::spawn(move || {
            if go.recv().is_ok() {
                tx.send(41).unwrap();
            }
        });
        rx.recv().unwrap() + 1
    }
}

#[test]
fn an_outside_thread_that_feeds_a_channel_after_seconds_of_idleness_is_not_a_deadlock() {
    let path = scratch("deadlock-outside").join("t.trace");
    let program = || {
        let (tx, rx) = channel::unbounded::<u64>();
        // A network or FFI thread reprise does not see.
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_secs(3));
            tx.send(41).unwrap();
        });
        let worker = thread::spawn(move || rx.recv().unwrap() + 1);
        worker.join().unwrap()
    };
    let recorded = record(&path, RecordConfig::new("deadlock-tests", "1"), program).unwrap();
    assert_eq!(recorded.verdict, Verdict::Completed);
    assert_eq!(recorded.result, Some(42));
    let trace = read_trace_file(&path).unwrap();
    assert!(trace.is_whole());
    assert_eq!(trace.footer.unwrap().verdict, Verdict::Completed);
}

#[test]
fn a_lock_order_deadlock_under_the_return_policy_returns_with_its_cycle() {
    let path = scratch("deadlock-return").join("t.trace");
    let config = RecordConfig::new("deadlock-tests", "1").on_deadlock(OnDeadlock::Return);
    let recorded = record(&path, config, lock_order).unwrap();
    let Verdict::Deadlock { blocked } = &recorded.verdict else { panic!("{}", recorded.verdict) };
    assert_eq!(blocked[0].waits_for, Some(blocked[1].thread));
    assert_eq!(blocked[1].waits_for, Some(blocked[0].thread));
    let trace = read_trace_file(&path).unwrap();
    assert!(trace.is_whole());
    assert_eq!(trace.footer.unwrap().verdict, recorded.verdict);
}

#[test]
fn in_a_closed_world_every_thread_waiting_on_a_channel_nobody_serves_is_a_deadlock() {
    let path = scratch("deadlock-closed").join("t.trace");
    let (go, wait) = mpsc::channel();
    // The feeder never hears from `go`: it keeps the sender and never sends.
    std::mem::forget(go);
    let config = RecordConfig::new("deadlock-tests", "1").closed_world(true).on_deadlock(OnDeadlock::Return);
    let recorded = record(&path, config, fed_from_outside(wait)).unwrap();
    let Verdict::Deadlock { blocked } = &recorded.verdict else { panic!("{}", recorded.verdict) };
    assert_eq!(blocked.len(), 1);
    assert_eq!(blocked[0].op, reprise::trace::model::Op::Recv);
    assert_eq!(read_trace_file(&path).unwrap().footer.unwrap().verdict, recorded.verdict);
}

#[test]
fn the_same_wait_without_a_closed_world_is_no_deadlock() {
    let path = scratch("deadlock-open").join("t.trace");
    let (go, wait) = mpsc::channel();
    std::thread::spawn(move || {
        // Long enough for an idleness heuristic to have fired.
        std::thread::sleep(Duration::from_secs(3));
        go.send(()).unwrap();
    });
    let config = RecordConfig::new("deadlock-tests", "1").on_deadlock(OnDeadlock::Return);
    let recorded = record(&path, config, fed_from_outside(wait)).unwrap();
    assert_eq!(recorded.verdict, Verdict::Completed);
    assert_eq!(recorded.result, Some(42));
}

#[test]
fn in_a_closed_world_threads_waiting_on_each_other_through_channels_are_a_deadlock() {
    let path = scratch("deadlock-closed-pair").join("t.trace");
    let config = RecordConfig::new("deadlock-tests", "1").closed_world(true).on_deadlock(OnDeadlock::Return);
    let recorded = record(&path, config, || {
        let (to_worker, worker_rx) = channel::bounded::<u64>(1);
        let (to_main, main_rx) = channel::bounded::<u64>(1);
        // Each waits for the other's message before sending its own.
        let worker = thread::spawn(move || {
            let v = worker_rx.recv().unwrap();
            to_main.send(v).unwrap();
        });
        let v = main_rx.recv().unwrap();
        to_worker.send(v).unwrap();
        worker.join().unwrap();
    })
    .unwrap();
    let Verdict::Deadlock { blocked } = &recorded.verdict else { panic!("{}", recorded.verdict) };
    assert_eq!(blocked.len(), 2);
}

#[test]
fn in_a_closed_world_a_condvar_wait_nobody_notifies_behind_a_join_is_a_deadlock() {
    let path = scratch("deadlock-condvar").join("t.trace");
    let config = RecordConfig::new("deadlock-tests", "1").closed_world(true).on_deadlock(OnDeadlock::Return);
    let recorded = record(&path, config, || {
        let pair = Arc::new((Mutex::new(false), reprise::sync::Condvar::new()));
        let waiter = thread::spawn(move || {
            let (ready, cv) = &*pair;
            let mut ready = ready.lock().unwrap();
            while !*ready {
                ready = cv.wait(ready).unwrap();
            }
        });
        waiter.join().unwrap();
    })
    .unwrap();
    let Verdict::Deadlock { blocked } = &recorded.verdict else { panic!("{}", recorded.verdict) };
    let ops: Vec<_> = blocked.iter().map(|b| b.op).collect();
    use reprise::trace::model::Op;
    assert_eq!(ops, vec![Op::Join, Op::CondWait]);
}

#[test]
fn in_a_closed_world_busy_hand_offs_through_channels_and_condvars_complete_without_a_verdict() {
    let path = scratch("deadlock-closed-busy").join("t.trace");
    let config = RecordConfig::new("deadlock-tests", "1").closed_world(true).on_deadlock(OnDeadlock::Return);
    let recorded = record(&path, config, || {
        // Every hand-off leaves one side blocked while the other works: the
        // monitor looks at many instants where all but one thread waits.
        let (to_worker, worker_rx) = channel::bounded::<u64>(0);
        let (to_main, main_rx) = channel::bounded::<u64>(0);
        let turn = Arc::new((Mutex::new(0u64), reprise::sync::Condvar::new()));
        let worker_turn = Arc::clone(&turn);
        let worker = thread::spawn(move || {
            for v in worker_rx.iter() {
                let (n, cv) = &*worker_turn;
                let mut n = n.lock().unwrap();
                while *n % 2 == 0 {
                    n = cv.wait(n).unwrap();
                }
                *n += 1;
                cv.notify_all();
                drop(n);
                to_main.send(v + 1).unwrap();
            }
        });
        let mut sum = 0;
        for i in 0..20_000 {
            to_worker.send(i).unwrap();
            let (n, cv) = &*turn;
            let mut n = n.lock().unwrap();
            *n += 1;
            cv.notify_all();
            while *n % 2 == 1 {
                n = cv.wait(n).unwrap();
            }
            drop(n);
            sum += main_rx.recv().unwrap();
        }
        drop(to_worker);
        worker.join().unwrap();
        sum
    })
    .unwrap();
    assert_eq!(recorded.verdict, Verdict::Completed);
    assert_eq!(recorded.result, Some((1..=20_000).sum()));
}

/// Runs this test binary again, only the test `name`, as a child recording
/// into `trace` in `role`.
fn child(name: &str, role: &str, trace: &Path) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .args([name, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD, role)
        .env("REPRISE_RECORD", trace)
        .env_remove("REPRISE_REPLAY")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the child")
}

/// In a child: records [`lock_order`] through `reprise::main_with` under the
/// policy `role` names; never returns.
fn run_child(role: &str) -> ! {
    let policy = match role {
        "exit" | "exit-stuck-disk" => OnDeadlock::exit(),
        _ => OnDeadlock::Wait,
    };
    let config = RecordConfig::new("deadlock-child", "1").on_deadlock(policy);
    if role == "exit-stuck-disk" {
        // More than a pipe holds, then the deadlock.
        let config = config.drain_timeout(Duration::from_millis(500));
        reprise::main_with(config, || {
            let counter = reprise::sync::atomic::AtomicU64::new(0);
            for i in 0..200_000 {
                counter.store(i, reprise::sync::atomic::Ordering::Relaxed);
            }
            lock_order();
        })
    }
    reprise::main_with(config, lock_order)
}

/// The trace, once it is whole (its writer finished it), or `None` if the
/// child ended first or the backstop passed.
fn finished_trace(child: &mut Child, trace: &Path) -> Option<TraceFile> {
    let start = Instant::now();
    while start.elapsed() < BACKSTOP {
        if let Ok(t) = read_trace_file(trace) {
            if t.is_whole() {
                return Some(t);
            }
        }
        if child.try_wait().unwrap().is_some() {
            return None;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    None
}

/// The child's exit status and what it said on stderr; the test fails if
/// it has not exited by the backstop.
fn exit_of(child: &mut Child) -> (std::process::ExitStatus, String) {
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > BACKSTOP {
            child.kill().unwrap();
            panic!("the child did not exit");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    (status, std::io::read_to_string(child.stderr.take().unwrap()).unwrap())
}

#[test]
fn a_deadlock_under_the_exit_policy_ends_the_process_with_its_code_once_the_trace_is_written() {
    if let Ok(role) = std::env::var(CHILD) {
        run_child(&role);
    }
    let trace = scratch("deadlock-exit").join("t.trace");
    let mut child = child(
        "deadlock::a_deadlock_under_the_exit_policy_ends_the_process_with_its_code_once_the_trace_is_written",
        "exit",
        &trace,
    );
    let (status, stderr) = exit_of(&mut child);
    assert_eq!(status.code(), Some(reprise::DEADLOCK_EXIT_CODE), "{stderr}");
    let trace = read_trace_file(&trace).unwrap();
    assert!(trace.is_whole(), "{:?}", trace.damage);
    assert!(matches!(trace.footer.unwrap().verdict, Verdict::Deadlock { .. }));
}

#[test]
fn a_deadlock_under_the_default_policy_is_written_while_the_process_keeps_waiting() {
    if let Ok(role) = std::env::var(CHILD) {
        run_child(&role);
    }
    let trace = scratch("deadlock-wait").join("t.trace");
    let mut child = child(
        "deadlock::a_deadlock_under_the_default_policy_is_written_while_the_process_keeps_waiting",
        "wait",
        &trace,
    );
    let written = finished_trace(&mut child, &trace);
    // A grace period only makes an exit right after the write visible; the
    // assertion does not depend on how long anything took.
    std::thread::sleep(Duration::from_millis(500));
    let still_running = child.try_wait().unwrap().is_none();
    let _ = child.kill();
    let _ = child.wait();
    let stderr = std::io::read_to_string(child.stderr.take().unwrap()).unwrap();
    let written = written.unwrap_or_else(|| panic!("no finished trace; the child said: {stderr}"));
    assert!(still_running, "the process ended: {stderr}");
    assert!(matches!(written.footer.unwrap().verdict, Verdict::Deadlock { .. }));
}

/// With many workers, threads outside the deadlock's cycle are still running
/// when it is proven; the replay shows them blocked where their logs end, and
/// that is still the recorded deadlock.
#[test]
fn a_deadlock_among_many_workers_replays_as_a_match() {
    let dir = crate::util::scratch("many-workers-deadlock");
    for seed in ["1", "2", "3"] {
        let path = dir.join(format!("deadlock-{seed}.trace"));
        let out = crate::util::reprise(&[
            "record",
            "--pipeline",
            "payments",
            "--bug",
            "deadlock",
            "--workers",
            "64",
            "--payments",
            "2000",
            "--seed",
            seed,
            "--out",
            path.to_str().unwrap(),
        ]);
        assert!(crate::util::stdout(&out).contains("violated: deadlock"), "{}", crate::util::stderr(&out));
        let trace = reprise::read_trace_file(&path).unwrap();
        let silent: Vec<_> = trace
            .threads
            .iter()
            .filter(|(_, records)| {
                !records.iter().any(|r| matches!(r, reprise::trace::model::Record::Event(_)))
            })
            .map(|(t, _)| *t)
            .collect();
        assert!(silent.is_empty(), "threads with no events on disk: {silent:?}");
        let out = crate::util::reprise_on(&["replay"], &path);
        assert_eq!(out.status.code(), Some(0), "seed {seed}: {}", crate::util::stderr(&out));
    }
}

/// The exit policy waited for the writer without a limit before it ended
/// the process: into a disk that stopped taking writes (here a FIFO nobody
/// reads), a proven deadlock never ended the process. It waits at most
/// twice `RecordConfig::drain_timeout`, as a recording's end does.
#[test]
fn a_deadlock_under_the_exit_policy_ends_the_process_even_when_the_disk_takes_nothing() {
    use std::os::unix::fs::OpenOptionsExt;
    if let Ok(role) = std::env::var(CHILD) {
        run_child(&role);
    }
    let fifo = scratch("deadlock-exit-stuck").join("t.trace");
    let c_path = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: a valid NUL-terminated path; mkfifo only reads it.
    assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0);
    // Held open and never read: the recording can open the FIFO, and its
    // writes block once the pipe is full.
    let _reader = std::fs::OpenOptions::new().read(true).custom_flags(libc::O_NONBLOCK).open(&fifo).unwrap();
    let mut child = child(
        "deadlock::a_deadlock_under_the_exit_policy_ends_the_process_even_when_the_disk_takes_nothing",
        "exit-stuck-disk",
        &fifo,
    );
    let (status, stderr) = exit_of(&mut child);
    assert_eq!(status.code(), Some(reprise::DEADLOCK_EXIT_CODE), "{stderr}");
}

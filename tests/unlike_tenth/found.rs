//! What this set found, reduced, one test a bug, each run in a child
//! process: without its fix, a child that does not end is killed at the
//! backstop (`crate::util::wait_bounded`), which fails the test. Every bug
//! below is fixed and its test runs.
//!
//! 1. A stopped coroutine replay never returns when a thread it tears
//!    down (unwinds with its private payload) runs a `Drop` that blocks on
//!    another thread of the run: a lock another waiting thread holds
//!    ([`lock_in_drop`]), a condvar wait for a flag only a later event
//!    raises ([`condvar_in_drop`]; a `Barrier` wait too, it is a condvar
//!    wait). The teardown (replayer/src/coreplay/follow.rs `teardown`,
//!    `Fiber::tear_down`) runs the `Drop` with no context installed, so
//!    the lock or wait passes through to std's and blocks the one OS
//!    thread for real, on a holder or notifier that is never resumed.
//!    Every time (3 of 3 tries each). std never runs that `Drop`: at the
//!    same point the process would go on. Fixed (recorder/src/sync/
//!    passthrough.rs): a passthrough lock tries first, and one that would
//!    block, or a passthrough condvar wait, leaves the thread there
//!    (`coop::strand`) while a teardown runs; its tests run.
//! 2. The explorer hangs the same way when a run ends (the main thread
//!    fails) while such a thread waits: the run's teardown
//!    (replayer/src/explore/scheduler/mod.rs `teardown`) blocks in the
//!    `Drop`'s lock, and `Config::backstop` does not cover teardown (still
//!    hung 50 s into a run with `REPRISE_EXPLORE_BACKSTOP=5`). Every time.
//!    Fixed with 1, and with 6 (which the fix of 1 then showed: the
//!    stranded `Drop` leaves the OS thread's panic count raised, and every
//!    later run took it for its own threads' unwinding); its tests run.
//! 3. The explorer hangs when a run ends while a scope body waits beside a
//!    scoped worker that catches every panic around a receive
//!    ([`scoped_catch_all`]): the worker is left at its next `recv`
//!    (stranded, as designed), then the body is unwound, reprise's own
//!    `thread::scope` (recorder/src/thread/scope/mod.rs) catches that
//!    unwind with std's `catch_unwind`, keeps the payload, and calls
//!    `wait_all` for the stranded worker, which never ends. The coroutine
//!    replay of the same stop returns. Every time. Since bug 4's fix the
//!    child ends, but only after about 80 s: the explorer's 60 s backstop
//!    (`Config::backstop`) ends the blocked run, a wall-clock answer, so
//!    the test stayed ignored. Since 1's fix the worker's `Drop`s strand
//!    it, and what is left is the program's own livelock (the worker
//!    catches the `RecvError` panic of a channel whose sender went with
//!    the failing thread, for ever, as it would under std), which ends
//!    each run at its step limit, not at the backstop; its test runs.
//! 4. The explorer hangs when a thread catches the teardown's unwind and
//!    panics anew before dropping it (`catch_unwind(..).expect(..)`), and an
//!    outer loop catches that panic and receives again
//!    ([`catch_expect_loop`]): the payload is dropped while the thread
//!    unwinds, so `TornDown::drop` (replayer/src/explore/coroutine.rs)
//!    does not switch the thread to stranding (`!std::thread::panicking()`),
//!    and its next `recv` passes through and blocks for real on a channel
//!    it holds a sender of. Not README's "not covered" case: the thread
//!    holds no payload when it calls reprise again. Every time. Fixed: the
//!    payload dropped in its own fiber strands it whether or not it
//!    unwinds then (a `Drop` of that new panic calling reprise strands it
//!    mid-unwind rather than block); its test runs.
//! 5. The explorer never returns when a run fails beside a retry loop
//!    that catches every panic around a condvar wait (programs.rs
//!    `retry_loops`, mode 2): torn down in the wait, the worker catches
//!    the unwind, and its loop's `lock().unwrap()` finds the mutex poisoned
//!    by that unwind, panics, is caught, and locks again, for ever (the
//!    output fills with that `PoisonError` from `reprise-explore`): the
//!    lock passes through instead of stranding the thread. Every time.
//!    Seen once, not pinned down: the same loop printing from an unnamed
//!    OS thread after a stopped replay of mode 1 had returned (a parallel
//!    replay's thread left spinning, or the coroutine replay's); the
//!    coroutine replay of mode 1 returned, diverged, 3 of 3 times in a
//!    test of its own. Not the teardown: the explorer ran on after the
//!    root's panic, and the retry loop of the `Lock` worker (the root held
//!    the mutex and its unwind poisoned it) ran every run to its 100,000
//!    step limit, printing each panic. Fixed (replayer/src/explore/
//!    scheduler/mod.rs `pick`): after the root's end the other threads run
//!    until they all wait or for 1,000 steps, as std's process exits with
//!    its main thread; its test runs.
//! 6. The explorer stops with `ExploreOutcome::stuck_unwinding` ("thread 2
//!    in recv ... blocked in a Drop while unwinding. std would hang there
//!    too") for programs.rs `blocking_drops`, mode 2, where the only panic
//!    is the main thread's planted one and thread 2 waits in a plain
//!    `recv`, neither unwinding nor in a `Drop`: std ends with the main
//!    thread's panic, and the explorer should report that panic. Every
//!    time with seed 5; a reduction without the rendezvous `Drop` and its
//!    collector reports the panic, so those matter. Two causes: an earlier
//!    run's stranded fiber left the OS thread's panic count raised (see
//!    2), and a thread switched out at a scheduling point while it
//!    unwinds left it raised for the threads run meanwhile. Fixed
//!    (replayer/src/unwinding.rs): both count as a
//!    suspended unwinder; its test runs.
//! 7. A parallel replay of a recording of programs.rs `detached_spinners`
//!    (two never-joined threads spinning on an atomic, still running when
//!    the body returns) diverged: "the recording's outcome was AtomicLoad
//!    { store: 21, value: 21 }, which no run gives: store 21 of object #0
//!    never happened: the trace records its stores 1 to 20 first". The
//!    recording kept one spinner's load of a store whose event the other
//!    spinner's dropped tail lost (README: a recording finishes with the
//!    body and drops the threads' later events). Seen in the first of 3
//!    recordings. Fixed (replayer/src/replay.rs `prepare`): a trace with a
//!    thread whose log does not end in its exit is cut to its largest
//!    consistent prefix, as a crashed one is; its test runs (failed in the
//!    first of 10 recordings without it).
//! 8. A coroutine replay of a trace cut short (programs.rs
//!    `scoped_panicking_body`, the main thread's events after its third
//!    removed, no footer) says it matched the trace, where the parallel
//!    replay of the same cut says the trace ended first (exit 5): a cut
//!    trace answered as a whole one. Every time. The root caught the
//!    teardown's unwind (the program's `catch_unwind` around its scope)
//!    and returned, and that return was taken for the replay's result.
//!    Fixed (replayer/src/coreplay/mod.rs): a root that returns while the
//!    teardown runs was stopped; its test runs.
//! 9. README's known limit, kept because it hangs the explorer: a thread
//!    that catches the teardown's unwind, keeps the payload and receives
//!    again on a channel it holds a sender of ([`keeps_the_payload`]).
//!    "Not covered" there; the coroutine replay of the same stop returns.
//!    Fixed (recorder/src/channel/off.rs): a passthrough receive tries
//!    first and, on an empty channel, strands the thread while a teardown
//!    runs, as a lock does since 1 (a send on a full channel too); its
//!    test runs.
//! 10. (Found fixing 5.) The explorer reported a deadlock for a program
//!     whose root returns while a never-joined thread waits on a channel it
//!     holds a sender of: std's process exits with its main thread, and a
//!     recording finishes with the body. Fixed with 5; its test runs.
//! 11. (Found re-enabling stops.rs' stages.) A stopped replay of
//!     programs.rs `retry_loops` run as mode 1 leaves its `Lock` worker
//!     retrying for ever: the root's stop unwinds through the guard it
//!     holds, poisoning the mutex, and the worker, released from its wait
//!     by the stop, catches it and locks again in passthrough, panicking on
//!     the poison each time. A parallel replay returns, and its OS thread
//!     spins on in the background (about 120,000 panics a second). std's
//!     run of mode 1 never poisons that lock. Fixed (recorder/src/rt/
//!     gated.rs `caught_stop`): a replayed thread that drops its stop's
//!     payload (it caught it) is parked for good at its next reprise call,
//!     as a coroutine replay leaves such a thread ([`retry_on_poison`]; its
//!     worker retried within a millisecond without it: seen). Taken at
//!     first for a coroutine replay that did not return as well: the
//!     stages of stops.rs share one child process, and three such
//!     spinners, each panic printing a backtrace, slowed it past its
//!     backstop; the coroutine stop of that program returns, alone and in
//!     stops.rs, and its test runs.

use std::sync::Arc;

use reprise::channel::{self};
use reprise::explore::{Config, Explorer};
use reprise::panic::{catch_unwind, AssertUnwindSafe};
use reprise::sync::{Condvar, Mutex};
use reprise::thread;

use super::programs;
use super::{in_child, stop_here, Mode, CHILD};
use crate::util::scratch;

struct LocksOnDrop(Arc<Mutex<u32>>);
impl Drop for LocksOnDrop {
    fn drop(&mut self) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) += 1;
    }
}

/// A holder keeps `m` while it waits for `go`; a worker waits on its own
/// channel with a `LocksOnDrop(m)` alive.
pub(crate) fn lock_in_drop(mode: Mode) -> String {
    let m = Arc::new(Mutex::new(0u32));
    let (ready_tx, ready_rx) = channel::unbounded::<()>();
    let (go_tx, go_rx) = channel::unbounded::<()>();
    let holder = {
        let (m, ready_tx, own) = (Arc::clone(&m), ready_tx.clone(), go_tx.clone());
        thread::spawn(move || {
            let _own = own;
            let mut g = m.lock().unwrap();
            ready_tx.send(()).unwrap();
            go_rx.recv().unwrap();
            *g += 10;
        })
    };
    let (w_tx, w_rx) = channel::unbounded::<u32>();
    let worker = {
        let (m, own) = (Arc::clone(&m), w_tx.clone());
        thread::spawn(move || {
            let _own = own;
            let _d = LocksOnDrop(m);
            ready_tx.send(()).unwrap();
            w_rx.recv().unwrap()
        })
    };
    ready_rx.recv().unwrap();
    ready_rx.recv().unwrap();
    stop_here(mode);
    go_tx.send(()).unwrap();
    w_tx.send(5).unwrap();
    holder.join().unwrap();
    let got = worker.join().unwrap();
    let total = *m.lock().unwrap();
    format!("got {got}, total {total}")
}

struct WaitsOnDrop(Arc<(Mutex<bool>, Condvar)>);
impl Drop for WaitsOnDrop {
    fn drop(&mut self) {
        let (m, c) = &*self.0;
        let mut done = m.lock().unwrap_or_else(|e| e.into_inner());
        while !*done {
            done = c.wait(done).unwrap_or_else(|e| e.into_inner());
        }
    }
}

/// A worker waits on its channel with a `WaitsOnDrop` alive; the main
/// thread raises the flag only at the end.
pub(crate) fn condvar_in_drop(mode: Mode) -> String {
    let pair = Arc::new((Mutex::new(false), Condvar::new()));
    let (ready_tx, ready_rx) = channel::unbounded::<()>();
    let (w_tx, w_rx) = channel::unbounded::<u32>();
    let worker = {
        let (pair, own) = (Arc::clone(&pair), w_tx.clone());
        thread::spawn(move || {
            let _own = own;
            let _d = WaitsOnDrop(pair);
            ready_tx.send(()).unwrap();
            w_rx.recv().unwrap()
        })
    };
    ready_rx.recv().unwrap();
    stop_here(mode);
    w_tx.send(5).unwrap();
    {
        let (m, c) = &*pair;
        *m.lock().unwrap() = true;
        c.notify_all();
    }
    format!("got {}", worker.join().unwrap())
}

/// A scoped worker catches every panic around its receive (a retry loop)
/// on a channel whose sender it keeps; the scope body waits on its own
/// channel.
pub(crate) fn scoped_catch_all(mode: Mode) -> String {
    let (w_tx, w_rx) = channel::unbounded::<u32>();
    let (b_tx, b_rx) = channel::unbounded::<u32>();
    let (ready_tx, ready_rx) = channel::unbounded::<()>();
    let (r_tx, r_rx) = channel::unbounded::<u32>();
    let main = thread::spawn(move || {
        ready_rx.recv().unwrap();
        ready_rx.recv().unwrap();
        stop_here(mode);
        w_tx.send(5).unwrap();
        w_tx.send(0).unwrap();
        b_tx.send(7).unwrap();
        r_rx.recv().unwrap()
    });
    thread::scope(|s| {
        let own = ready_tx.clone();
        let ready = ready_tx.clone();
        s.spawn(move || {
            let _own = own;
            ready.send(()).unwrap();
            let mut sum = 0;
            loop {
                match catch_unwind(AssertUnwindSafe(|| w_rx.recv().unwrap())) {
                    Ok(0) => break,
                    Ok(v) => sum += v,
                    Err(_) => {}
                }
            }
            r_tx.send(sum).unwrap();
        });
        ready_tx.send(()).unwrap();
        b_rx.recv().unwrap();
    });
    format!("got {}", main.join().unwrap())
}

/// A worker catches every panic around its receive, keeps the last one,
/// and receives again; it holds a sender of its own channel.
pub(crate) fn keeps_the_payload(mode: Mode) -> String {
    let (ready_tx, ready_rx) = channel::unbounded::<()>();
    let (w_tx, w_rx) = channel::unbounded::<u32>();
    let keep = w_tx.clone();
    let worker = thread::spawn(move || {
        let _keep = keep;
        let mut last = None;
        let mut panics = 0u32;
        ready_tx.send(()).unwrap();
        loop {
            match std::panic::catch_unwind(AssertUnwindSafe(|| w_rx.recv().unwrap())) {
                Ok(0) => break,
                Ok(v) => {
                    if v == 13 {
                        panic!("13");
                    }
                }
                Err(e) => {
                    panics += 1;
                    last = Some(e);
                }
            }
        }
        (panics, last.is_some())
    });
    ready_rx.recv().unwrap();
    stop_here(mode);
    w_tx.send(5).unwrap();
    w_tx.send(0).unwrap();
    format!("{:?}", worker.join().unwrap())
}

/// A worker whose job is a receive in a `catch_unwind` whose error it
/// turns into a panic of its own (`expect`), in a loop that catches every
/// panic; it holds a sender of its channel.
pub(crate) fn catch_expect_loop(mode: Mode) -> String {
    let (ready_tx, ready_rx) = channel::unbounded::<()>();
    let (w_tx, w_rx) = channel::unbounded::<u32>();
    let keep = w_tx.clone();
    let worker = thread::spawn(move || {
        let _keep = keep;
        ready_tx.send(()).unwrap();
        loop {
            let got = catch_unwind(AssertUnwindSafe(|| {
                catch_unwind(AssertUnwindSafe(|| w_rx.recv().unwrap())).expect("the job panicked")
            }));
            if let Ok(v) = got {
                return v;
            }
        }
    });
    ready_rx.recv().unwrap();
    stop_here(mode);
    w_tx.send(5).unwrap();
    format!("got {}", worker.join().unwrap())
}

/// Attempts of [`retry_on_poison`]'s worker.
static ATTEMPTS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// The root holds a mutex while its worker tries to lock it, catching
/// every panic around the attempt and trying again (a panic for a poisoned
/// lock too).
pub(crate) fn retry_on_poison(mode: Mode) -> String {
    let gate = Arc::new(Mutex::new(0u32));
    let (ready_tx, ready_rx) = channel::unbounded::<()>();
    let held = gate.lock().unwrap();
    let worker = {
        let gate = Arc::clone(&gate);
        let mut ready_tx = Some(ready_tx);
        thread::spawn(move || loop {
            ATTEMPTS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            if let Some(ready_tx) = ready_tx.take() {
                ready_tx.send(()).unwrap();
            }
            let got = std::panic::catch_unwind(AssertUnwindSafe(|| *gate.lock().unwrap() += 1));
            if got.is_ok() {
                return;
            }
        })
    };
    ready_rx.recv().unwrap();
    stop_here(mode);
    drop(held);
    worker.join().unwrap();
    format!("total {}", *gate.lock().unwrap())
}

/// A coroutine replay of a mode-0 recording of `program` run as mode 1
/// (it diverges at once its workers wait), on an OS thread of its own: it
/// must return, diverged.
fn stopped_coroutine_replay_returns(name: &str, program: fn(Mode) -> String) {
    let path = scratch(name).join("t.trace");
    for run in 0..3 {
        let recorded =
            reprise::record(&path, reprise::RecordConfig::new(name, "1"), move || program(0)).unwrap();
        assert!(recorded.result.is_some(), "{name} run {run}: {}", recorded.verdict);
        let trace = reprise::read_trace_file(&path).unwrap();
        let outcome =
            std::thread::spawn(move || reprise::replay_coroutines(&trace, move || program(1)).outcome)
                .join()
                .unwrap();
        assert!(matches!(outcome, reprise::ReplayOutcome::Diverged(_)), "{name} run {run}: {outcome}");
    }
}

/// The explorer on `program`'s mode 2: it must return, with the planted
/// failure.
fn explored_failure_returns(name: &str, program: fn(Mode) -> String) {
    // A program that livelocks once its root failed (bug 3's, as under
    // std) runs each run to the step limit: a lower one keeps that short.
    let config = Config::default().budget(50).seed(5).max_steps(20_000).trace_dir(scratch(name));
    let outcome = Explorer::new(config).run(move || {
        program(2);
    });
    assert!(
        outcome.stuck_unwinding.is_none(),
        "{name}: {:?}",
        outcome.stuck_unwinding.map(|s| s.to_string())
    );
    let failure = outcome.failure.unwrap_or_else(|| panic!("{name}: no failure"));
    assert!(failure.report.contains("planted: the main thread fails"), "{name}: {}", failure.report);
}

macro_rules! found {
    (fixed $test:ident, $body:expr) => {
        #[test]
        fn $test() {
            if std::env::var_os(CHILD).is_none() {
                return in_child(concat!("found::", stringify!($test)));
            }
            $body
        }
    };
}

// Bug 1, fixed.
found!(
    fixed a_stopped_coroutine_replay_whose_teardown_drop_locks_a_held_mutex_returns,
    stopped_coroutine_replay_returns("tenth-found-lock-coreplay", lock_in_drop)
);
// Bug 1, fixed.
found!(
    fixed a_stopped_coroutine_replay_whose_teardown_drop_waits_on_a_condvar_returns,
    stopped_coroutine_replay_returns("tenth-found-condvar-coreplay", condvar_in_drop)
);
// Bug 2, fixed.
found!(
    fixed an_explored_failure_whose_teardown_drop_locks_a_held_mutex_returns,
    explored_failure_returns("tenth-found-lock-explore", lock_in_drop)
);
// Bug 2, fixed.
found!(
    fixed an_explored_failure_whose_teardown_drop_waits_on_a_condvar_returns,
    explored_failure_returns("tenth-found-condvar-explore", condvar_in_drop)
);
// Bug 3, fixed.
found!(
    fixed an_explored_failure_beside_a_scoped_catch_all_worker_returns,
    explored_failure_returns("tenth-found-scoped-explore", scoped_catch_all)
);
/// Bug 4, fixed: hung without it (the child killed at the backstop).
#[test]
fn an_explored_failure_beside_a_catch_expect_loop_returns() {
    if std::env::var_os(CHILD).is_none() {
        return in_child("found::an_explored_failure_beside_a_catch_expect_loop_returns");
    }
    explored_failure_returns("tenth-found-expect-explore", catch_expect_loop)
}
// Bug 5, fixed.
found!(
    fixed an_explored_failure_beside_a_condvar_retry_loop_returns,
    explored_failure_returns("tenth-found-retry-explore", programs::retry_loops)
);
// Bug 6, fixed.
found!(
    fixed an_explored_failure_beside_blocking_drops_is_the_planted_panic,
    explored_failure_returns("tenth-found-drops-explore", programs::blocking_drops)
);
// Bug 9, fixed.
found!(
    fixed an_explored_failure_beside_a_payload_keeping_loop_returns,
    explored_failure_returns("tenth-found-keeps-explore", keeps_the_payload)
);

/// Bug 7, fixed: every recording of the detached spinners replays, in
/// parallel and on coroutines.
#[test]
fn recordings_of_detached_spinners_replay_in_parallel() {
    let name = "tenth-found-detached";
    let path = scratch(name).join("t.trace");
    for run in 0..10 {
        let recorded =
            reprise::record(&path, reprise::RecordConfig::new(name, "1"), || programs::detached_spinners(0))
                .unwrap();
        assert_eq!(recorded.result.as_deref(), Some("reached 20"), "run {run}");
        let trace = reprise::read_trace_file(&path).unwrap();
        let parallel = reprise::replay(&trace, || programs::detached_spinners(0));
        assert!(parallel.outcome.matched(), "run {run}: {}", parallel.outcome);
        let coroutines = std::thread::spawn(move || {
            reprise::replay_coroutines(&trace, || programs::detached_spinners(0)).outcome
        })
        .join()
        .unwrap();
        assert!(coroutines.matched(), "run {run}, coroutines: {coroutines}");
    }
}

/// Bug 11, the parallel half: once the replay returned, the worker that
/// caught its stop does not retry its poisoned lock for ever.
fn stopped_parallel_replay_leaves_no_thread_retrying() {
    use std::sync::atomic::Ordering::SeqCst;
    use std::time::{Duration, Instant};
    let name = "tenth-found-retry-parallel";
    let path = scratch(name).join("t.trace");
    let recorded =
        reprise::record(&path, reprise::RecordConfig::new(name, "1"), || retry_on_poison(0)).unwrap();
    assert_eq!(recorded.result.as_deref(), Some("total 1"));
    let trace = reprise::read_trace_file(&path).unwrap();
    ATTEMPTS.store(0, SeqCst);
    let stopped = reprise::replay(&trace, || retry_on_poison(1));
    assert!(matches!(stopped.outcome, reprise::ReplayOutcome::Diverged(_)), "{}", stopped.outcome);
    // Its first attempt is the one the stop ended, its second where it is
    // parked. A worker retrying makes a third within microseconds (its
    // panics print no backtrace in the child); the wait is a backstop for
    // it, and a slow machine can only make the test pass, never fail.
    let until = |n: usize, within: Duration| {
        let end = Instant::now() + within;
        while ATTEMPTS.load(SeqCst) < n && Instant::now() < end {
            std::thread::sleep(Duration::from_millis(5));
        }
        ATTEMPTS.load(SeqCst)
    };
    assert!(until(2, Duration::from_secs(30)) >= 2, "the worker never tried again");
    let attempts = until(3, Duration::from_secs(1));
    assert_eq!(attempts, 2, "the worker retried {attempts} times after its replay stopped");
}
found!(fixed a_stopped_parallel_replay_leaves_no_thread_retrying, stopped_parallel_replay_leaves_no_thread_retrying());

// Bug 11's other half, which was not one.
found!(
    fixed a_stopped_coroutine_replay_beside_retry_loops_returns,
    stopped_coroutine_replay_returns("tenth-found-retry-coreplay", programs::retry_loops)
);

/// Bug 10, fixed: a root that returns while a never-joined thread waits
/// for ever ends the explored run with no failure, as std's process ends.
#[test]
fn an_explored_root_returning_beside_a_waiting_detached_thread_is_no_deadlock() {
    let config = Config::default().budget(20).seed(1).trace_dir(scratch("tenth-found-detached-wait"));
    let outcome = Explorer::new(config).run(|| {
        let (tx, rx) = channel::unbounded::<u32>();
        thread::spawn(move || {
            let _own = tx;
            let _ = rx.recv();
        });
    });
    assert!(outcome.failure.is_none(), "{:?}", outcome.failure.map(|f| f.report));
}

/// Bug 8: a cut trace of the scope program ends the coroutine replay as
/// the parallel one: the trace ended first.
#[test]
fn a_cut_scope_trace_ends_the_coroutine_replay_as_the_parallel_one() {
    let name = "tenth-found-scoped-cut";
    let path = scratch(name).join("t.trace");
    let program = || programs::scoped_panicking_body(0);
    reprise::record(&path, reprise::RecordConfig::new(name, "1"), program).unwrap();
    let trace = reprise::read_trace_file(&path).unwrap();
    let short = super::stops::cut(&trace, 3);
    let parallel = reprise::replay(&short, program);
    assert!(matches!(parallel.outcome, reprise::ReplayOutcome::TraceEnded { .. }), "{}", parallel.outcome);
    let coroutines =
        std::thread::spawn(move || reprise::replay_coroutines(&short, program).outcome).join().unwrap();
    assert!(matches!(coroutines, reprise::ReplayOutcome::TraceEnded { .. }), "{coroutines}");
}

//! A tenth set of programs, unlike tests/unlike_payments.rs,
//! tests/unlike_more.rs, tests/unlike_third/ to tests/unlike_ninth/,
//! tests/unlike_ported/ and tests/zoo/: programs whose threads outlive
//! the point where reprise stops them. A coroutine replay that stops (a
//! divergence, a cut trace) and an explored run that ends (a failure in
//! one thread while others still wait) tear their unfinished threads down
//! by unwinding each with a private payload (`Fiber::tear_down`); these
//! programs catch that unwind, block in `Drop`s while it runs, or never
//! end at all.
//!
//! programs.rs: a supervisor that restarts a worker whenever it panics
//! (through `join`'s `Err`), on a jobs channel it keeps a sender of; retry
//! loops that catch every panic (std's and reprise's `catch_unwind`)
//! around a receive, a lock, a condvar wait, a barrier wait, a park, a
//! sleep and a `recv_timeout`, each on a channel its worker holds both
//! ends of; a worker whose `Drop`s send on a rendezvous and join a helper
//! of its own; detached threads spinning on an atomic with `yield_now`,
//! never joined; a scope whose body panics while its scoped workers wait;
//! nested `catch_unwind`s whose inner one keeps the payload, calls reprise
//! (a send) and resumes the unwind (reprise's and std's `resume_unwind`).
//!
//! Each program runs off, is recorded and replayed in parallel and on
//! coroutines (std's answer, every event matched); then its mode 1 (the
//! main thread makes another call once its workers wait) is replayed
//! against a mode-0 trace, both ways, and must stop with a divergence; its
//! trace cut must end as the cut trace; and its mode 2 (the main thread
//! fails there) is explored, found, and its trace replayed to the panic.
//! Every run that could hang runs in a child process with a backstop.
//!
//! Found (found.rs): a thread torn down while it waits, whose `Drop` then
//! blocks on another thread of the run (a lock, a condvar wait, a barrier
//! wait), hangs both the stopped coroutine replay and the explorer; a
//! scope body torn down beside a scoped worker that catches its unwind
//! hangs the explorer; a caught teardown turned into a panic of its own,
//! or a retry loop on the poison the teardown left, hangs the explorer; a
//! false `stuck_unwinding`; a recording of detached spinners that its
//! parallel replay calls diverged; a cut trace a coroutine replay calls
//! matched; and the README's "not covered" case (a thread that keeps the
//! caught payload and calls reprise again) hangs the explorer. Found since:
//! the explorer's false deadlock of a never-joined waiting thread, and a
//! stopped parallel replay's thread retrying a poisoned lock for ever.
//! All fixed; stops.rs runs every stage of every program.

mod found;
mod programs;
mod stops;

/// How a program runs: 0 to its end; 1 with another call of the main
/// thread once its workers wait (a replay of a mode-0 trace diverges
/// there); 2 with the main thread failing there.
pub(crate) type Mode = u8;

/// The point where a program's mode makes it stop: where its other threads
/// wait.
pub(crate) fn stop_here(mode: Mode) {
    match mode {
        1 => {
            let _ = reprise::random::u64();
        }
        2 => panic!("planted: the main thread fails while the others wait"),
        _ => {}
    }
}

/// Set in a child process this set started.
pub(crate) const CHILD: &str = "REPRISE_TENTH_CHILD";

/// Runs this set's test `path` (under `unlike_tenth::`) in a child process
/// with [`CHILD`] set; it must end and pass. A hang fails at the backstop
/// (`crate::util::wait_bounded`) instead of hanging the suite.
pub(crate) fn in_child(path: &str) {
    let name = format!("unlike_tenth::{path}");
    let args = [name.as_str(), "--exact", "--test-threads", "1"];
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args(args)
        .env(CHILD, "1")
        // Its output goes nowhere: a backtrace per panic of a program that
        // retries for ever (found.rs bug 11) is only time lost.
        .env("RUST_BACKTRACE", "0")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let status = crate::util::wait_bounded(&mut child);
    assert!(status.success(), "{name}: {status} (run it alone with {CHILD}=1 to see why)");
}

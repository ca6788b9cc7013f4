//! A ninth set of programs, unlike tests/unlike_payments.rs,
//! tests/unlike_more.rs, tests/unlike_third/ to tests/unlike_eighth/,
//! tests/unlike_ported/ and tests/zoo/: hand-rolled executors and wake-up
//! protocols on reprise's thread primitives, as a team without tokio would
//! write them. A `block_on` that polls a hand-written future and parks
//! until a `std::task::Wake` waker on an `Arc` unparks it from another
//! thread, and the futures it drives: a oneshot (`Mutex`, `Option<Waker>`,
//! `AtomicBool`), a select and a join of futures written by hand, nested
//! `block_on`s relaying values (block_on.rs); a multi-threaded task
//! executor (tasks as `Arc<Task>` re-queued on a channel when woken, N
//! workers, a join counter on an atomic the main thread parks on) running
//! tasks that await oneshots and each other, tasks that wake themselves
//! while being polled, and an async semaphore of wakers in a `Mutex`
//! (executor.rs); an `AtomicWaker` of `compare_exchange` states carrying a
//! one-slot channel between two `block_on` threads, a wake that comes
//! before any waker was registered, and wakes that meet each other
//! (waker.rs); a timer wheel thread on `recv_timeout` and reprise's clock
//! waking sleeps, an interval, a timeout (timers.rs).
//!
//! Each correct program runs off (plainly), then is recorded several
//! times; every recording is replayed in parallel and on coroutines, and
//! both must match every event and give the answer std gives off. Then the
//! explorer (explore.rs): every correct program under every strategy with
//! no failure, and planted bugs (an executor that polls a finished task
//! again on a late wake, a `block_on` that skips the unpark while its
//! poller is not yet asleep, a receiver that looks at its slot before it
//! registers on an `AtomicWaker`, a timed-out `park_timeout` taken for a
//! wake-up), each found and its trace replayed to the same failure.
//!
//! Found: nothing in reprise. Every program replayed (25 recordings
//! each, in parallel and on coroutines; the sleeper pool's coroutine
//! replays may stop at a lock taken while a worker unwinds, README's known
//! limit, which a change of this session lifted and its revert restored)
//! and survived 400 schedules under
//! each strategy, beside a CPU hog too; found.rs notes what was tried and
//! why two things that looked wrong were not reprise's bugs.

mod block_on;
mod cancel;
mod executor;
mod explore;
mod found;
mod sleepers;
mod timers;
mod waker;

/// [`crate::util::replays_to_std`], [`runs`] times: every replay matches.
fn replays_to(name: &str, expected: &str, program: fn() -> String) {
    crate::util::replays_to_std(name, expected, runs(), false, program);
}

/// [`replays_to`] for a program that takes a lock while a thread unwinds:
/// its coroutine replay may instead stop there saying why (README's known
/// limit: a call made while its thread unwinds whose recorded turn is not
/// next), never match with another answer.
fn replays_to_or_stops_unwinding(name: &str, expected: &str, program: fn() -> String) {
    crate::util::replays_to_std(name, expected, runs(), true, program);
}

/// The set's correct programs.
const CORRECT: [crate::util::NamedProgram; 20] = [
    ("three", block_on::three_completers_parked),
    ("three-timed", block_on::three_completers_timed),
    ("select", block_on::select_then_loser),
    ("early", block_on::woken_before_registered),
    ("relay", block_on::relay_rounds),
    ("tasks", executor::tasks_await_oneshots),
    ("yielding", executor::yielding_tasks),
    ("semaphore", executor::semaphore_tasks),
    ("joining", executor::joining_task),
    ("slot", waker::slot_channel),
    ("wake-first", waker::wake_before_register),
    ("three-wakers", waker::three_wakers),
    ("three-sleeps", timers::three_sleeps),
    ("interval", timers::interval_beside_a_oneshot),
    ("timeout", timers::timeout_and_close),
    ("canceled", cancel::canceled_by_a_panic),
    ("is-finished", cancel::is_finished_polls),
    ("thread-timer", cancel::thread_per_timer),
    ("condvar", cancel::condvar_block_on),
    ("sleepers", sleepers::sleeper_pool),
];

/// Recordings per program: more in a release build.
fn runs() -> usize {
    if cfg!(debug_assertions) {
        4
    } else {
        20
    }
}

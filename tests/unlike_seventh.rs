//! A seventh set of programs, unlike tests/unlike_payments.rs,
//! tests/unlike_more.rs, tests/unlike_third/ to tests/unlike_sixth/,
//! tests/unlike_ported/ and tests/zoo/: timers against each other and
//! against yields (a `recv_timeout` poll beside a sender that sleeps, a
//! `park_timeout` handshake both ways, `Condvar::wait_timeout` raced by a
//! notify due at the same instant, `tick` and `after` in one `select!`
//! beside a work channel, a deadline from `Instant::now()` served by
//! `recv_timeout` and `recv_deadline`, a `select!` timeout due exactly when
//! its message is sent); unwinding (panics caught inside explored threads
//! that go on, locks poisoned while others wait on them and recovered with
//! `into_inner`, `RwLock` read panics that do not poison, a `OnceLock`
//! whose first initializer panics under a race, a `LazyLock` and a `Once`
//! poisoned for good); thread lifetimes (a chain of 60 threads each joining
//! the one before, scopes nested in scoped threads that spawn on their
//! parent's scope, an `is_finished` poll, `unpark` before `park` and on
//! oneself, a thread never joined, a countdown latch on `spin_loop`, a
//! `Barrier` of one); and backpressure (a chain of `sync_channel(1)` and
//! `bounded(1)` stages, one of which hangs up early). Each run is recorded,
//! then replayed in parallel and on coroutines; both must match every event
//! and give the recorded transcript (std's or crossbeam's answer where that
//! is fixed).
//!
//! Then the explorer: every correct program under each strategy, and
//! planted bugs (explore.rs: a timed-out `wait_timeout` taken for "no
//! notify came", a latch counted down before its work, a `select!` that
//! takes for granted which of two things due at one instant comes first,
//! either way) whose failure traces must replay to the same failure.
//!
//! Found (found.rs, reduced): under the explorer, a
//! thread that blocks while it unwinds (a guard's `Drop` locking a mutex
//! another thread holds) lets another coroutine run with the OS thread's
//! panic count raised, so that thread sees `thread::panicking()` and
//! poisons the mutex it unlocks: a false failure under every strategy,
//! whose trace does not replay (ignored until fixed); and a coroutine
//! replay that stopped early beside threads whose `Drop`s send aborted the
//! process in its teardown (fixed).
//! Not a bug: a worker that parks on the bare token beside channel waits
//! can lose its wake-up under std too (crossbeam's blocking waits park and
//! take the token), so `unpark_first` hands `go` over in an atomic.

mod backpressure;
mod explore;
mod found;
mod lifetimes;
mod timers;
mod unwinding;

/// Records and replays `program` in batches of [`runs`] until two
/// recordings differ.
fn replays_and_varies(name: &str, program: fn() -> String) {
    crate::util::replays_and_varies(name, runs(), program);
}

/// Records and replays `program` [`runs`] times, without asking that
/// runs differ: every replay must match and give the recorded transcript.
fn replays(name: &str, program: fn() -> String) {
    crate::util::replays_give_the_transcript(name, runs(), program);
}

/// Records and replays `program` [`runs`] times; every replay must match
/// and give the recorded transcript, which must be `expected`.
fn replays_to(name: &str, expected: &str, program: fn() -> String) {
    let seen = crate::util::replays_give_the_transcript(name, runs(), program);
    assert_eq!(seen, 1, "{name}: transcripts differ");
    let said = crate::util::round_trip_both_ways(name, program);
    assert_eq!(said, expected, "{name}");
}

/// Records and replays `program` [`runs`] times, in parallel and on
/// coroutines: for programs that take a lock while a thread unwinds (a
/// panicking `OnceLock` or `LazyLock` initializer, a `Once` poisoned),
/// where a coroutine replay may stop unsure whether a thread unwinds
/// (README's known limit; it used to stop at every such lock whose turn was
/// not next). Every transcript must be `expected`.
fn replays_to_or_stops_unsure(name: &str, expected: &str, program: fn() -> String) {
    crate::util::replays_to_std(name, expected, runs(), true, program);
}

/// The set's correct programs: explored with every strategy, none may fail,
/// deadlock or livelock.
const CORRECT: [crate::util::NamedProgram; 18] = [
    ("poll", timers::poll_beside_a_sleeper),
    ("park-handshake", timers::park_handshake),
    ("wait-timeout", timers::wait_timeout_race),
    ("tick-after", timers::tick_and_after),
    ("deadline", timers::deadline_loop),
    ("exact", timers::exact_deadline),
    ("caught", unwinding::caught_and_going_on),
    ("poisoned", unwinding::poisoned_while_waited_on),
    ("once-panics", unwinding::once_lock_panicking_init),
    ("lazy-once", unwinding::lazy_and_once_poisoned),
    ("join-chain", lifetimes::join_chain),
    ("nested-scopes", lifetimes::nested_scopes),
    ("is-finished", lifetimes::is_finished_poll),
    ("unpark-first", lifetimes::unpark_first),
    ("latch", lifetimes::countdown_latch),
    ("never-joined", lifetimes::never_joined),
    ("sync-chain", backpressure::sync_chain),
    ("hang-up", backpressure::hang_up_midway),
];

/// Recordings per program: more in a release build.
fn runs() -> usize {
    if cfg!(debug_assertions) {
        6
    } else {
        30
    }
}

//! A thirteenth set of programs, unlike tests/unlike_payments.rs,
//! tests/unlike_more.rs, tests/unlike_third/ to tests/unlike_twelfth/,
//! tests/unlike_ported/ and tests/zoo/: the jobs a finance team ports from
//! std and crossbeam by changing imports. An end-of-day risk batch in
//! phases on a `Barrier` whose `is_leader` nets each phase (phases.rs); a
//! market session gate of generation counters, `notify_all` and
//! `wait_while` on two condvars, with a herd of traders rushing a small
//! allotment (herd.rs); a pricing service racing to initialise an
//! `OnceLock` table, a `Once` registration, an `OnceLock::set` and a
//! `LazyLock`, and initializers that spawn and join a helper (init.rs); an order gateway on atomics: an id allocator on
//! `fetch_update`, a best bid on `compare_exchange_weak`, `fetch_max`, and
//! snapshots published through an `AtomicPtr` (atomics.rs); a quote hub on
//! `select!` taking subscribers' `Sender`s through a channel, fanning out
//! over a `Vec<Sender>` beside a `tick` and a `never()`, fed through a
//! `default` arm, watched with `after` (selects.rs); a settlement whose
//! settler panics holding the ledger while a `Drop` on its stack locks and
//! sends, thread-local tallies send from their destructors, and the others
//! recover with `into_inner` and `clear_poison` (unwind.rs); hundreds of
//! short-lived mutexes and channels per thread, and recursion thousands of
//! frames deep on std's default stack and on a `stack_size` of its own
//! (churn.rs); netting buckets on nested `thread::scope`s, with scoped
//! threads nobody joins, `Builder::spawn_scoped` and a spawn on the outer
//! scope from an inner one (scopes.rs, also `examples/thirteenth_scopes.rs`);
//! and a whole program (`examples/thirteenth_exit.rs`) whose non-root
//! thread calls `std::process::exit` while recorded, or panics and is
//! never joined, looked at with every offline view and replayed with
//! `reprise replay FILE -- CMD` (exits.rs); the views on API recordings
//! (views.rs).
//!
//! Each program is recorded several times; every recording is replayed in
//! parallel and on coroutines, and both must match every event and give
//! the recorded transcript, which depends on how the run interleaved
//! (recordings, or else explored schedules, must differ). Every correct
//! program is explored under every strategy with no failure. Planted bugs
//! (a phase netted without its second wait, a hand-rolled lazy table
//! checked then loaded, a best bid raised by a load then a store, a lost
//! update between scoped threads nobody joins; a broadcast sent with
//! `notify_one`, an `OnceLock` initializer waiting for a thread that waits
//! for it) must be found, the panics replayed to the same panic and the
//! deadlocks to the same deadlock, both ways.
//!
//! Found, and fixed since (each with a test of its own):
//!
//! - `replay --stop-at N -- CMD` hung silently for good when N fell
//!   between a scope end's recorded join of one thread and the events of
//!   another thread nobody joined: each join follows only its own thread's
//!   exit, so every view may number the end's first join before the other
//!   thread's events, while the replayed end waited for every thread
//!   before its first join (8 of 18 stop points of `thirteenth_scopes
//!   two`). The replay now makes each recorded join as soon as its thread
//!   has ended (tests/stop_at.rs). A replay stuck on its way to a pause
//!   outlived a killed `reprise` (PR_SET_PDEATHSIG was set only at the
//!   pause): fixed too (tests/stop_at.rs, examples/outside_wait.rs).
//! - a scope whose thread nobody joined panicked diverged in every
//!   coroutine replay at the end's join, and the explorer's trace joined
//!   the thread as not panicked (tests/thread_parity/scope.rs).
//! - `replay --coroutines FILE -- CMD` of a recording a worker ended with
//!   `std::process::exit` said the program exited "before the replay
//!   started" (tests/replay_exit_progress.rs).
//!
//! Not reprise's: a worker's panic that the root sees through `join`'s
//! `Err` is an explorer failure ("a failure is a panic in any thread"), so
//! the settlement catches its panic with reprise's `catch_unwind`; and the
//! orphan scenario's first version unwrapped a receive the clearers'
//! hang-up could end (101 under load, 3 of 40 runs), which reprise
//! recorded and replayed faithfully; and two recordings `diff` calls
//! identical may export different object indexes (objects are numbered by
//! first use, `diff` names them by where they were made), so views.rs
//! compares exports by creation site.

mod atomics;
mod churn;
mod exits;
mod herd;
mod init;
mod phases;
mod scopes;
mod selects;
mod unwind;
mod views;

use crate::util::NamedProgram;

/// The set's correct programs the explorer runs under every strategy
/// (churn's thousands of events make it the slow one: it has a test of its
/// own with a smaller budget).
const CORRECT: [NamedProgram; 10] = [
    ("risk-batch", phases::risk_batch),
    ("market-open", herd::market_open),
    ("pricing", init::pricing_service),
    ("init-spawns", init::init_spawns),
    ("gateway", atomics::order_gateway),
    ("quote-hub", selects::quote_hub),
    ("settlement", unwind::settlement),
    ("netting", scopes::netting),
    ("two-unjoined", scopes::two_unjoined),
    ("outer-scope", scopes::spawned_on_the_outer_scope),
];

/// Recordings per program: more in a release build.
fn runs() -> usize {
    if cfg!(debug_assertions) {
        4
    } else {
        12
    }
}

fn replayed(name: &str, program: fn() -> String) {
    crate::util::replays_and_varies(name, runs(), program);
}

#[test]
fn risk_batch_replays() {
    replayed("thirteenth-risk-batch", phases::risk_batch);
}

#[test]
fn market_open_replays() {
    replayed("thirteenth-market-open", herd::market_open);
}

#[test]
fn pricing_service_replays() {
    replayed("thirteenth-pricing", init::pricing_service);
}

#[test]
fn init_spawns_replays() {
    replayed("thirteenth-init-spawns", init::init_spawns);
}

#[test]
fn order_gateway_replays() {
    replayed("thirteenth-gateway", atomics::order_gateway);
}

#[test]
fn quote_hub_replays() {
    replayed("thirteenth-quote-hub", selects::quote_hub);
}

#[test]
fn settlement_replays() {
    replayed("thirteenth-settlement", unwind::settlement);
}

#[test]
fn netting_replays() {
    replayed("thirteenth-netting", scopes::netting);
}

#[test]
fn churn_and_depth_replay() {
    replayed("thirteenth-churn", churn::churn_and_depth);
}

#[test]
fn correct_programs_survive_every_strategy() {
    crate::util::survives_every_strategy("thirteenth", &CORRECT, 60, 13);
}

#[test]
fn churn_survives_every_strategy() {
    crate::util::survives_every_strategy("thirteenth", &[("churn", churn::churn_and_depth)], 4, 13);
}

#[test]
fn unfenced_batch_is_found_and_replays() {
    let name = "thirteenth-unfenced";
    let failure = crate::util::explored_failure(name, 400, 13, phases::unfenced_batch);
    crate::util::replays_to_the_panic(name, &failure, "planted", 3, phases::unfenced_batch);
}

#[test]
fn hand_rolled_lazy_is_found_and_replays() {
    let name = "thirteenth-hand-rolled-lazy";
    let failure = crate::util::explored_failure(name, 400, 13, init::hand_rolled_lazy);
    crate::util::replays_to_the_panic(name, &failure, "planted", 3, init::hand_rolled_lazy);
}

#[test]
fn torn_best_bid_is_found_and_replays() {
    let name = "thirteenth-torn-bid";
    let failure = crate::util::explored_failure(name, 400, 13, atomics::torn_best_bid);
    crate::util::replays_to_the_panic(name, &failure, "planted", 3, atomics::torn_best_bid);
}

#[test]
fn scoped_lost_update_is_found_and_replays() {
    let name = "thirteenth-scoped-pickers";
    let program = || {
        let (left, right) = scopes::scoped_pickers();
        assert!(right, "planted: the stock lost a pick ({left} left)");
    };
    let failure = crate::util::explored_failure(name, 400, 13, program);
    crate::util::replays_to_the_panic(name, &failure, "planted", 3, program);
}

/// The lost wake-up is a deadlock: the root waits for acknowledgements,
/// the traders `notify_one` did not wake wait for a round. Its trace
/// replays to the same deadlock, in parallel and on coroutines.
#[test]
fn lone_wakeup_is_found_and_replays_to_the_deadlock() {
    found_and_replayed_to_the_deadlock("thirteenth-lone-wakeup", herd::lone_wakeup);
}

/// An initializer waiting for a thread that waits for the initializer: a
/// deadlock through a `OnceLock`, replayed the same way.
#[test]
fn init_waiting_for_its_reader_is_found_and_replays_to_the_deadlock() {
    found_and_replayed_to_the_deadlock("thirteenth-init-deadlock", init::init_waits_for_its_reader);
}

/// The explorer finds `program`'s deadlock (two threads or more stuck),
/// and its trace replays to a deadlock three times in parallel and once
/// on coroutines, every event replayed.
fn found_and_replayed_to_the_deadlock(name: &str, program: fn()) {
    use reprise::explore::FailureKind;
    use reprise::{read_trace_file, replay, replay_coroutines, ReplayOutcome};
    let failure = crate::util::explored_failure(name, 400, 13, program);
    let FailureKind::Deadlock { stuck, .. } = &failure.kind else {
        panic!("{:?}\n{}", failure.kind, failure.report)
    };
    assert!(stuck.len() >= 2, "two threads at least: {}", failure.report);
    let trace = read_trace_file(failure.trace.as_ref().expect("a trace written")).unwrap();
    for round in 0..3 {
        let parallel = replay(&trace, program);
        assert!(
            matches!(parallel.outcome, ReplayOutcome::Deadlock(_)),
            "{name} parallel {round}: {}",
            parallel.outcome
        );
        assert_eq!(parallel.replayed, parallel.events, "{name} parallel {round}");
    }
    let coroutines = replay_coroutines(&trace, program);
    assert!(
        matches!(coroutines.outcome, ReplayOutcome::Deadlock(_)),
        "{name} coroutines: {}",
        coroutines.outcome
    );
    assert_eq!(coroutines.replayed, coroutines.events, "{name} coroutines");
}

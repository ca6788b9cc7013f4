//! A fourteenth set of programs, unlike tests/unlike_payments.rs,
//! tests/unlike_more.rs, tests/unlike_third/ to tests/unlike_thirteenth/,
//! tests/unlike_ported/ and tests/zoo/. A ring of clearing stations on
//! rendezvous links driven by crossbeam's dynamic `Select` with a send and
//! a receive operation by index (`try_select`, `select_timeout`, `select`,
//! `SelectedOperation::send`/`recv`) and the links' `capacity`,
//! `is_full`, `len`, `same_channel` (ring.rs); messages whose `Drop` books
//! itself, left undelivered when a consumer hangs up early, zero-sized
//! messages (`()` and a unit struct), multi-megabyte snapshots down a
//! chain of `bounded(1)` stages and a multi-megabyte captured input
//! (payloads.rs); panics whose payloads are not strings (`panic_any` of a
//! struct and of a `u32`), a `Drop` that panics while not unwinding,
//! payloads downcast from `join` and thrown on with `resume_unwind`, and a
//! retry loop of `catch_unwind` around a lock and a send (panics.rs);
//! `ThreadId`s and names as keys, `available_parallelism`, 64 KiB
//! `stack_size`s, `unpark` before `park`, and housekeeping threads still
//! blocked in `recv` and `park` when the root returns (identity.rs); an
//! order book of per-symbol locks taken in varying order with `try_lock`
//! back-off behind a rate limiter on reprise's clock (book.rs); a
//! two-phase commit coordinator with `recv_deadline` timeouts and late
//! votes (commit.rs); a `Barrier` reused over eight generations by a
//! changing cast, `RwLock` readers that stand back for a waiting writer,
//! a `Condvar::wait_timeout` loop that recomputes its window (phases.rs);
//! ten thousand locks and channels and two thousand short threads
//! (mass.rs, which prints its record and replay times and trace size);
//! and a whole program reading a megabyte of stdin through `capture`,
//! replayed with `reprise replay FILE -- CMD` both ways with other stdin
//! (stdin.rs, `examples/fourteenth_stdin.rs`); a dispatcher that waits
//! with `Select::ready_timeout` on send operations to rendezvous workers
//! and then `try_send`s, going round again when readiness was only a hint
//! (ready.rs); workers on the smallest
//! stacks std allows, spawned and scoped (stacks.rs).
//!
//! Each program is recorded several times; every recording is replayed in
//! parallel and on coroutines, and both must match every event and give
//! the recorded transcript, which depends on how the run interleaved
//! (recordings, or else explored schedules, must differ). Every correct
//! program is explored under every strategy with no failure. Planted bugs
//! (an oversold book checked under one lock and taken under another, a
//! coordinator that presumes a missing vote was yes, an overdraft reported
//! with a struct payload; a ring that loses a retirement by a load and a
//! store, pair trades that take the second book with a plain `lock`) must
//! be found, the panics replayed to the same panic and the deadlocks to
//! the same deadlock, both ways.
//!
//! Found (see found.rs, stacks.rs and the ignored tests):
//!
//! - a parallel replay read each thread's log on the thread's own stack: a
//!   worker on a 16 KiB or 20 KB `stack_size`, fine under std and
//!   recorded, overflowed it at its first replayed event in a debug build
//!   (SIGABRT; 3 of 3 replays). Fixed: a replayed thread that asks for a
//!   stack size gets 256 KiB more (stacks.rs,
//!   `examples/fourteenth_stack.rs`);
//! - under the explorer, two receivers blocked on one rendezvous woke each
//!   other for ever: a false livelock of a correct program under PCT, DFS
//!   and Portfolio (found.rs);
//! - a replay frees an undelivered message with its channel's last end of
//!   any kind, where crossbeam frees an unbounded channel's queue with its
//!   last receiver: a message whose `Drop` calls reprise (or looks at its
//!   thread) diverges in every replay of such a recording (20 of 20, both
//!   ways); and the drops of a bounded channel's last two ends are not
//!   ordered by a replay, so its queued messages may drop in another
//!   thread (2 of 40 parallel, 3 of 40 coroutine replays; two producers'
//!   last senders racing failed 1 of 3 full runs of this set before the
//!   root kept a sender to be the last end itself). Not fixed:
//!   the drop of a channel end is no event, and a replay would have to
//!   know which sends came before it.

mod book;
mod commit;
mod found;
mod identity;
mod mass;
mod panics;
mod payloads;
mod phases;
mod ready;
mod ring;
mod stacks;
mod stdin;

use crate::util::NamedProgram;

/// The set's correct programs the explorer runs under every strategy (the
/// booking desk's workers panic, which the explorer counts as failures;
/// the bulk and long-day programs have tests of their own).
const CORRECT: [NamedProgram; 15] = [
    ("ring", ring::clearing_ring),
    ("undelivered-unbounded", payloads::undelivered_unbounded),
    ("undelivered-bounded", payloads::undelivered_bounded),
    ("zero-sized", payloads::zero_sized),
    ("retry", panics::retry_loop),
    ("sessions", identity::sessions),
    ("early-tokens", identity::early_tokens),
    ("housekeepers", identity::unjoined_housekeepers),
    ("pair-trades", book::pair_trades),
    ("2pc", commit::two_phase_commit),
    ("cast", phases::changing_cast),
    ("polite-readers", phases::polite_readers),
    ("cut-off", phases::cut_off),
    ("racing-last-ends", payloads::racing_last_ends),
    ("ready-dispatch", ready::ready_dispatch),
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
#[ignore = "reprise bug: a replayed unbounded channel drops undelivered messages with its last end of any kind, crossbeam with its last receiver"]
fn undelivered_unbounded_replays() {
    replayed("fourteenth-undelivered-unbounded", payloads::undelivered_unbounded);
}

#[test]
fn undelivered_bounded_replays() {
    replayed("fourteenth-undelivered-bounded", payloads::undelivered_bounded);
}

/// The last two ends of a bounded channel drop at once in two threads:
/// the queued tickets' `Drop`s run in whichever goes last, which a replay
/// does not order (2 of 40 parallel and 3 of 40 coroutine replays
/// diverged, the tickets dropped by the other thread).
#[test]
#[ignore = "reprise bug: a replay does not order the drops of a channel's last ends, so queued messages drop in another thread"]
fn racing_last_ends_replay() {
    let name = "fourteenth-racing-last-ends";
    for _ in 0..5 {
        crate::util::replays_give_the_transcript(name, 8, payloads::racing_last_ends);
    }
}

#[test]
fn zero_sized_replays() {
    replayed("fourteenth-zero-sized", payloads::zero_sized);
}

#[test]
fn bulk_replays() {
    replayed("fourteenth-bulk", payloads::bulk);
}

#[test]
fn ready_dispatch_replays() {
    replayed("fourteenth-ready", ready::ready_dispatch);
}

#[test]
fn clearing_ring_replays() {
    replayed("fourteenth-ring", ring::clearing_ring);
}

/// Replayed without the explorer's fallback for recordings that happen
/// not to differ: its workers' panics are failures to the explorer.
#[test]
fn booking_desk_replays() {
    crate::util::replays_give_the_transcript("fourteenth-desk", runs(), panics::booking_desk);
}

#[test]
fn retry_loop_replays() {
    replayed("fourteenth-retry", panics::retry_loop);
}

#[test]
fn sessions_replay() {
    replayed("fourteenth-sessions", identity::sessions);
}

#[test]
fn early_tokens_replay() {
    replayed("fourteenth-early-tokens", identity::early_tokens);
}

#[test]
fn unjoined_housekeepers_replay() {
    replayed("fourteenth-housekeepers", identity::unjoined_housekeepers);
}

#[test]
fn pair_trades_replay() {
    replayed("fourteenth-pair-trades", book::pair_trades);
}

#[test]
fn two_phase_commit_replays() {
    replayed("fourteenth-2pc", commit::two_phase_commit);
}

#[test]
fn changing_cast_replays() {
    replayed("fourteenth-cast", phases::changing_cast);
}

#[test]
fn polite_readers_replay() {
    replayed("fourteenth-polite-readers", phases::polite_readers);
}

#[test]
fn cut_off_replays() {
    replayed("fourteenth-cut-off", phases::cut_off);
}

/// Ten thousand objects and two thousand threads: recorded and replayed
/// both ways, printing the times and the trace's size (not asserted).
#[test]
fn long_day_replays_and_says_what_it_cost() {
    use std::time::Instant;
    let name = "fourteenth-long-day";
    let path = crate::util::scratch(name).join("t.trace");
    let started = Instant::now();
    let recorded = reprise::record(&path, reprise::RecordConfig::new(name, "1"), mass::long_day)
        .expect("record the long day");
    let record_time = started.elapsed();
    let expected = recorded.result.unwrap_or_else(|| panic!("{name}: {}", recorded.verdict));
    let size = std::fs::metadata(&path).expect("the trace").len();
    let trace = reprise::read_trace_file(&path).expect("read the trace");
    assert!(trace.is_whole(), "{:?}", trace.damage);
    let started = Instant::now();
    let parallel = reprise::replay(&trace, mass::long_day);
    let parallel_time = started.elapsed();
    assert!(parallel.outcome.matched(), "{name} parallel: {}", parallel.outcome);
    assert_eq!(parallel.result.as_ref(), Some(&expected));
    assert_eq!(parallel.replayed, trace.events);
    let started = Instant::now();
    let coroutines = reprise::replay_coroutines(&trace, mass::long_day);
    let coroutine_time = started.elapsed();
    assert!(coroutines.outcome.matched(), "{name} coroutines: {}", coroutines.outcome);
    assert_eq!(coroutines.result.as_ref(), Some(&expected));
    assert_eq!(coroutines.replayed, coroutines.events);
    eprintln!(
        "{name}: {} events, {} threads, trace {size} bytes ({:.1} bytes/event); record {record_time:?}, \
         parallel replay {parallel_time:?}, coroutine replay {coroutine_time:?}",
        trace.events,
        trace.threads.len(),
        size as f64 / trace.events as f64
    );
    assert!(trace.threads.len() as u64 > mass::WAVES * mass::PER_WAVE);
}

#[test]
fn correct_programs_survive_every_strategy() {
    crate::util::survives_every_strategy("fourteenth", &CORRECT, 60, 14);
}

#[test]
fn bulk_survives_every_strategy() {
    crate::util::survives_every_strategy("fourteenth", &[("bulk", payloads::bulk)], 3, 14);
}

#[test]
fn oversold_book_is_found_and_replays() {
    let name = "fourteenth-oversold";
    let failure = crate::util::explored_failure(name, 400, 14, book::oversold);
    crate::util::replays_to_the_panic(name, &failure, "planted", 3, book::oversold);
}

#[test]
fn presumed_commit_is_found_and_replays() {
    let name = "fourteenth-presumed-commit";
    let failure = crate::util::explored_failure(name, 400, 14, commit::presumed_commit);
    crate::util::replays_to_the_panic(name, &failure, "planted", 3, commit::presumed_commit);
}

/// A failure whose panic payload is a struct: the explorer names it as
/// std does ("Box<dyn Any>"), and its trace replays to that panic.
#[test]
fn overdraft_with_a_struct_payload_is_found_and_replays() {
    let name = "fourteenth-overdraft-struct";
    let program = panics::overdraft_with_a_struct;
    let failure = crate::util::explored_failure(name, 400, 14, program);
    assert!(failure.report.contains("panics.rs"), "the report says where: {}", failure.report);
    crate::util::replays_to_the_panic(name, &failure, "Box<dyn Any>", 3, program);
}

/// A retirement lost by a load and a store: no station sees the last one,
/// and the ring waits for good.
#[test]
fn lossy_ring_is_found_and_replays_to_the_deadlock() {
    found_and_replayed_to_the_deadlock("fourteenth-lossy-ring", ring::lossy_ring);
}

/// Two traders lock a pair each from its own end with a plain `lock`.
#[test]
fn crossed_locks_are_found_and_replay_to_the_deadlock() {
    found_and_replayed_to_the_deadlock("fourteenth-crossed-locks", book::crossed_locks);
}

/// The explorer finds `program`'s deadlock (two threads or more stuck),
/// and its trace replays to a deadlock three times in parallel and once
/// on coroutines, every event replayed.
fn found_and_replayed_to_the_deadlock(name: &str, program: fn()) {
    use reprise::explore::FailureKind;
    use reprise::{read_trace_file, replay, replay_coroutines, ReplayOutcome};
    let failure = crate::util::explored_failure(name, 400, 14, program);
    let FailureKind::Deadlock { stuck, .. } = &failure.kind else {
        panic!("{:?}\n{}", failure.kind, failure.report)
    };
    assert!(stuck.len() >= 2, "two threads at least: {}", failure.report);
    let trace = read_trace_file(failure.trace.as_ref().expect("a trace written")).expect("read the trace");
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

/// found.rs: two receivers waiting on one explored rendezvous woke each
/// other for ever (a false livelock under DFS, PCT and Portfolio).
#[test]
fn two_takers_on_one_rendezvous_are_no_livelock() {
    crate::util::survives_every_strategy("fourteenth", &[("two-takers", found::two_takers_waiting)], 30, 14);
}

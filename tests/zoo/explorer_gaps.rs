//! Bugs of the explorer itself, found while writing the zoo, pinned by tests
//! that assert today's wrong behavior. When one of these tests fails, that
//! bug is fixed: delete its test and the notes that point here.
//!
//! 1. Bounded DFS never preempts in favor of a thread whose index is lower
//!    than the running one's (`strategy/dfs.rs`: a point's first choice is
//!    the current thread's position in `runnable`, and `advance` only tries
//!    the choices after it). So `main` never preempts a worker, and thread 1
//!    never preempts thread 2: DFS reports "exhausted" after a fraction of
//!    the schedules within its bound, and misses bugs that need such a
//!    preemption. The zoo's DFS twins (lock_order, aba_free_list) pass an
//!    exhausted search that is not the whole bounded space.
//! 2. `channel::select` over several ready channels takes a random one
//!    (crossbeam's `try_select`, seeded per OS thread), not a scheduling
//!    choice: the same schedule can take either arm, so "the same seed
//!    explores the same schedules" does not hold for programs that select,
//!    DFS cannot enumerate the arms, and a minimization re-run may take
//!    another arm. (The trace records the arm, so replay is not affected.)
//!    The zoo's reordering bug polls its two channels instead of selecting.

use reprise::explore::{Config, Explorer, StrategyKind};
use reprise::sync::atomic::{AtomicU64, Ordering};
use reprise::sync::Arc;
use reprise::{channel, thread};

/// Fails only if `main` preempts the worker between its two stores: that
/// needs a preemption from thread 1 back to thread 0.
fn sees_the_intermediate_value() {
    let value = Arc::new(AtomicU64::new(0));
    let worker = {
        let value = Arc::clone(&value);
        thread::spawn(move || {
            value.store(1, Ordering::SeqCst);
            value.store(2, Ordering::SeqCst);
        })
    };
    let seen = value.load(Ordering::SeqCst);
    worker.join().unwrap();
    assert_ne!(seen, 1, "main saw the intermediate value");
}

#[test]
fn dfs_never_preempts_toward_a_lower_numbered_thread_known_bug() {
    let random = Explorer::new(Config::default().strategy(StrategyKind::Random).budget(100).minimize(false))
        .run(sees_the_intermediate_value);
    assert!(random.failure.is_some(), "random walk finds it (2 preemptions)");
    let dfs = Explorer::new(
        Config::default().strategy(StrategyKind::Dfs { preemptions: 5 }).budget(1000).minimize(false),
    )
    .run(sees_the_intermediate_value);
    // Should be: found. Today: exhausted after 3 schedules, nothing found.
    assert!(dfs.failure.is_none() && dfs.exhausted, "DFS is fixed: {dfs:?}");
    assert_eq!(dfs.schedules, 3);
}

/// No threads, so exactly one schedule; the select finds both channels ready.
fn selects_between_two_ready_channels() {
    let (a_tx, a_rx) = channel::unbounded::<u32>();
    let (b_tx, b_rx) = channel::unbounded::<u32>();
    a_tx.send(0).unwrap();
    b_tx.send(1).unwrap();
    let (arm, _) = channel::select(&[&a_rx, &b_rx]);
    assert_eq!(arm, 0, "select took arm {arm}");
}

#[test]
fn select_between_ready_channels_is_not_a_scheduling_choice_known_bug() {
    let found: Vec<bool> = (0..20)
        .map(|_| {
            let config =
                Config::default().strategy(StrategyKind::Dfs { preemptions: 0 }).budget(10).minimize(false);
            let outcome = Explorer::new(config).run(selects_between_two_ready_channels);
            assert_eq!(outcome.schedules, 1, "one schedule: there is no choice to make");
            outcome.failure.is_some()
        })
        .collect();
    // Should be: the same outcome every time (and DFS trying both arms).
    assert!(found.contains(&true) && found.contains(&false), "select is deterministic now: {found:?}");
}

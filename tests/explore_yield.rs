//! Spin-waits under the explorer: a thread that yields lets the others have a
//! step each, not the run (CHESS's fair yield), and `reprise::hint::spin_loop`
//! is a yield. Each program ends under any fair scheduler, so a livelock
//! reported on it would be a false finding.

use std::sync::Arc;

use reprise::explore::{Config, Explorer, FailureKind, StrategyKind};
use reprise::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use reprise::{channel, thread};

use crate::util::scratch;

const STRATEGIES: [StrategyKind; 6] = [
    StrategyKind::Random,
    StrategyKind::Pct { depth: 3 },
    StrategyKind::Dfs { preemptions: 2 },
    StrategyKind::Pos,
    StrategyKind::Surw,
    StrategyKind::Portfolio,
];

/// Explores `program` with every strategy and asserts that none fails.
fn no_failure(name: &str, program: fn()) {
    for strategy in STRATEGIES {
        let dir = scratch("explore-yield");
        let config = Config::default().strategy(strategy).budget(30).seed(7).trace_dir(&dir).name(name);
        let outcome = Explorer::new(config).run(program);
        if let Some(failure) = outcome.failure {
            panic!("{strategy} on {name}: a false finding\n{}", failure.report);
        }
    }
}

/// A poller spins on `try_recv` with a yield while senders yield between
/// their sends. With a yield deferring until no thread that did not yield
/// could run, the poller (yielding, like everyone) was picked again and
/// again by PCT, DFS and SURW, and the senders never sent: a livelock at the
/// first schedule.
fn poller_and_yielding_senders() {
    let (tx, rx) = channel::unbounded::<u32>();
    let senders: Vec<_> = (0..3u32)
        .map(|s| {
            let tx = tx.clone();
            thread::spawn(move || {
                for i in 0..4 {
                    tx.send(s * 10 + i).unwrap();
                    thread::yield_now();
                }
            })
        })
        .collect();
    drop(tx);
    let mut got = 0;
    loop {
        match rx.try_recv() {
            Ok(_) => got += 1,
            Err(channel::TryRecvError::Empty) => thread::yield_now(),
            Err(channel::TryRecvError::Disconnected) => break,
        }
    }
    for s in senders {
        s.join().unwrap();
    }
    assert_eq!(got, 12);
}

#[test]
fn a_yielding_poller_does_not_starve_senders_that_yield_too() {
    no_failure("poller", poller_and_yielding_senders);
}

/// Workers spin on atomics without yielding until the main thread, which
/// yields while it waits for their count, tells them to stop. A yielding
/// thread that waited for every thread that did not yield to block never
/// ran again, under any strategy, uniform random included.
fn yielder_beside_spinners() {
    let stop = Arc::new(AtomicBool::new(false));
    let count = Arc::new(AtomicU64::new(0));
    let workers: Vec<_> = (0..2)
        .map(|_| {
            let (stop, count) = (Arc::clone(&stop), Arc::clone(&count));
            thread::spawn(move || {
                while !stop.load(Ordering::Acquire) {
                    count.fetch_add(1, Ordering::AcqRel);
                }
            })
        })
        .collect();
    while count.load(Ordering::Acquire) < 20 {
        thread::yield_now();
    }
    stop.store(true, Ordering::Release);
    for w in workers {
        w.join().unwrap();
    }
}

#[test]
fn a_yielding_waiter_gets_its_turn_beside_threads_that_spin_without_yielding() {
    // Only the random walk: a strategy that keeps running a thread that
    // never yields (PCT's priorities, DFS's default branch) rightly reports
    // its spin as a livelock; `spin_loop` below is the way out.
    let dir = scratch("explore-yield");
    let config = Config::default().strategy(StrategyKind::Random).budget(30).seed(7).trace_dir(&dir);
    let outcome = Explorer::new(config).run(yielder_beside_spinners);
    assert!(outcome.failure.is_none(), "{}", outcome.failure.unwrap().report);
}

/// A test-and-set lock on an atomic, its spin hinted with `hint`.
fn spin_lock(hint: fn()) {
    let held = Arc::new(AtomicBool::new(false));
    let total = Arc::new(AtomicU64::new(0));
    let workers: Vec<_> = (0..2)
        .map(|_| {
            let (held, total) = (Arc::clone(&held), Arc::clone(&total));
            thread::spawn(move || {
                for _ in 0..3 {
                    while held.compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed).is_err() {
                        hint();
                    }
                    let seen = total.load(Ordering::Relaxed);
                    total.store(seen + 1, Ordering::Relaxed);
                    held.store(false, Ordering::Release);
                }
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    assert_eq!(total.load(Ordering::Relaxed), 6);
}

#[test]
fn spin_loop_hint_is_a_yield_under_the_explorer() {
    no_failure("spin-lock", || spin_lock(reprise::hint::spin_loop));
}

#[test]
fn std_spin_loop_hint_is_invisible_and_pct_reports_the_spin() {
    // What `reprise::hint::spin_loop` is for: std's hint is no scheduling
    // point, so PCT keeps running the spinner while the holder waits.
    let dir = scratch("explore-yield");
    let config =
        Config::default().strategy(StrategyKind::Pct { depth: 3 }).budget(30).seed(7).trace_dir(&dir);
    let outcome = Explorer::new(config).run(|| spin_lock(std::hint::spin_loop));
    let failure = outcome.failure.expect("PCT lets a spinner that never yields spin");
    assert!(matches!(failure.kind, FailureKind::Livelock { .. }), "{}", failure.report);
}

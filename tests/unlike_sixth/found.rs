//! What this set found, reduced; an ignored test fails until its bug is
//! fixed.
//!
//! 1. Under the explorer, a send on a rendezvous (`channel::bounded(0)`,
//!    `mpsc::sync_channel(0)`) whose receivers are all gone does not see
//!    the disconnection unless it is a plain blocking `send`: `try_send`
//!    says `Full`, `send_timeout` waits its timeout out and says `Timeout`
//!    (with `Duration::MAX`: a false deadlock), a `select!` send arm is
//!    not ready, so its `default` arm runs, and a dynamic `Select` with the
//!    send is not ready either (`try_select` fails, `ready_timeout` times
//!    out). crossbeam and std say `Disconnected` (or ready) at once, and so
//!    do recording and both replays. Found by the ping-pong (channels.rs):
//!    its last pinger polls the ponger's rendezvous with `try_send` until
//!    the ponger has gone, and the explorer reported a livelock under every
//!    strategy. The cause: `no_taker` in recorder/src/channel/explore.rs
//!    said "no receiver waits" before crossbeam's `try_send` could say the
//!    channel is disconnected; an explored rendezvous now counts its
//!    receiving ends, and with none left a send goes to crossbeam.
//! 2. A thread spinning with `yield_now` on a flag that a sleeping thread
//!    sets (`sleep(300 µs)`, then `store`) is reported as a livelock by DFS
//!    at its first schedule and by the default strategy, Portfolio: the
//!    sleeper's timer is the last option at every point (README: DFS's
//!    default branch never fires a timer), and the yielding spinner, the
//!    only thread that can run, keeps the turn, so virtual time never
//!    reaches the sleeper's deadline. The program ends under any fair
//!    scheduler, in real time too (tests/explore_yield.rs calls such a
//!    report a false finding). Fixed: a yield with no other thread able to
//!    run lets virtual time pass to the earliest timer, as real time passes
//!    while a thread spins.

use std::sync::Arc;

use reprise::channel::{self, select, Select};
use reprise::explore::{Config, Explorer, FailureKind, StrategyKind};
use reprise::sync::atomic::{AtomicBool, Ordering};
use reprise::sync::mpsc;
use reprise::thread;
use reprise::time::Duration;

use crate::util::{round_trip_both_ways, scratch};

/// What crossbeam and std answer to sends on a rendezvous whose only
/// receiver is gone.
const GONE: &str = "disconnected disconnected arm-err selected-err ready disconnected";

/// Sends on rendezvous channels whose receiver was dropped: a `try_send`
/// and a `send_timeout` on crossbeam's, a `select!` send arm beside a
/// `default`, a dynamic `Select`'s `try_select` and `ready_timeout` on a
/// send operation, a `try_send` on std's `sync_channel(0)`.
fn sends_to_a_gone_rendezvous() -> String {
    let (tx, rx) = channel::bounded::<u32>(0);
    drop(rx);
    let a = match tx.try_send(1) {
        Ok(()) => "sent",
        Err(channel::TrySendError::Full(_)) => "full",
        Err(channel::TrySendError::Disconnected(_)) => "disconnected",
    };
    let b = match tx.send_timeout(2, Duration::from_secs(1)) {
        Ok(()) => "sent",
        Err(channel::SendTimeoutError::Timeout(_)) => "timeout",
        Err(channel::SendTimeoutError::Disconnected(_)) => "disconnected",
    };
    let c = select! {
        send(tx, 3) -> r => if r.is_ok() { "arm-ok" } else { "arm-err" },
        default => "default",
    };
    let mut sel = Select::new();
    sel.send(&tx);
    let d = match sel.try_select() {
        Ok(op) => {
            if op.send(&tx, 4).is_ok() {
                "selected-ok"
            } else {
                "selected-err"
            }
        }
        Err(_) => "not-selected",
    };
    let mut sel = Select::new();
    sel.send(&tx);
    let e = if sel.ready_timeout(Duration::from_secs(1)).is_ok() { "ready" } else { "timeout" };
    let (stx, srx) = mpsc::sync_channel::<u32>(0);
    drop(srx);
    let f = match stx.try_send(5) {
        Ok(()) => "sent",
        Err(mpsc::TrySendError::Full(_)) => "full",
        Err(mpsc::TrySendError::Disconnected(_)) => "disconnected",
    };
    format!("{a} {b} {c} {d} {e} {f}")
}

#[test]
fn sends_to_a_gone_rendezvous_say_disconnected_recorded_and_replayed() {
    let said = round_trip_both_ways("sixth-gone-rendezvous", sends_to_a_gone_rendezvous);
    assert_eq!(said, GONE);
}

/// Explores `program` with `strategy`: the first failure, if any.
fn explored(name: &str, strategy: StrategyKind, budget: u64, program: fn()) -> Option<FailureKind> {
    let config = Config::default().strategy(strategy).budget(budget).seed(5).trace_dir(scratch(name));
    let outcome = Explorer::new(config).run(program);
    assert!(outcome.blocked.is_none(), "{name}: {:?}", outcome.blocked);
    outcome.failure.map(|f| f.kind)
}

#[test]
fn sends_to_a_gone_rendezvous_say_disconnected_explored() {
    let failure = explored("sixth-gone-explored", StrategyKind::Random, 1, || {
        assert_eq!(sends_to_a_gone_rendezvous(), GONE);
    });
    assert!(failure.is_none(), "{failure:?}");
}

#[test]
fn a_forever_send_to_a_gone_rendezvous_is_no_deadlock_explored() {
    let failure = explored("sixth-gone-forever", StrategyKind::Random, 1, || {
        let (tx, rx) = channel::bounded::<u32>(0);
        drop(rx);
        let r = tx.send_timeout(7, Duration::MAX);
        assert!(matches!(r, Err(channel::SendTimeoutError::Disconnected(7))), "{r:?}");
    });
    assert!(failure.is_none(), "{failure:?}");
}

#[test]
fn the_ping_pong_survives_exploration() {
    crate::util::survives_exploration("sixth-explore-ping-pong", 100, 5, super::channels::ping_pong);
}

/// A waiter spinning with `yield_now` on a flag set by a thread that
/// sleeps first.
fn yield_spin_beside_a_sleeper() {
    let flag = Arc::new(AtomicBool::new(false));
    let setter = {
        let flag = Arc::clone(&flag);
        thread::spawn(move || {
            thread::sleep(Duration::from_micros(300));
            flag.store(true, Ordering::Release);
        })
    };
    while !flag.load(Ordering::Acquire) {
        thread::yield_now();
    }
    setter.join().unwrap();
}

#[test]
fn a_yield_spin_beside_a_sleeper_ends_under_random_exploration() {
    let failure =
        explored("sixth-yield-sleeper-random", StrategyKind::Random, 50, yield_spin_beside_a_sleeper);
    assert!(failure.is_none(), "{failure:?}");
}

#[test]
fn a_yield_spin_beside_a_sleeper_ends_under_dfs_and_portfolio() {
    let mut found = Vec::new();
    for strategy in [StrategyKind::Dfs { preemptions: 2 }, StrategyKind::Portfolio] {
        let failure = explored("sixth-yield-sleeper", strategy, 50, yield_spin_beside_a_sleeper);
        if let Some(f) = failure {
            found.push(format!("{strategy:?}: {f:?}"));
        }
    }
    assert!(found.is_empty(), "{}", found.join("\n"));
}

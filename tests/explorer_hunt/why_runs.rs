//! `reprise why` on the explorer's traces: its first run follows the
//! recorded order and must fail as the explored run did.

use reprise::explore::{Config, Explorer, FailureKind, StrategyKind};
use reprise::read_trace_file;
use reprise::why::{why, WhyConfig, WhyOutcome, WhyReport};

use super::harness::STRATEGIES;
use super::programs;
use crate::util::scratch;

/// `why` on the failure each strategy finds in `program` (seeds 0 and 1),
/// with the explored failure.
fn why_on(name: &str, program: fn()) -> Vec<(String, FailureKind, WhyReport)> {
    let mut out = Vec::new();
    for strategy in STRATEGIES {
        for seed in [0, 1] {
            let dir = scratch(&format!("hunt-why-{name}"));
            let config =
                Config::default().strategy(strategy).budget(60).seed(seed).trace_dir(&dir).name(name);
            let Some(failure) = Explorer::new(config).run(program).failure else { continue };
            let trace = read_trace_file(failure.trace.as_ref().expect("a trace")).unwrap();
            let mut limits = WhyConfig::default().budget(40);
            // A flipped run of a spin-wait may spin: kept short.
            limits.max_steps = 5_000;
            let report = why(&trace, program, |_: &()| None, &limits, |_| {});
            out.push((format!("{name} {strategy} seed {seed}"), failure.kind, report));
        }
    }
    assert!(!out.is_empty(), "{name}: no failure found");
    out
}

/// Every failure comes back by following its trace's order, and a pair
/// whose flip makes it go away is named.
fn reproduced_and_explained(name: &str, program: fn()) {
    for (what, kind, report) in why_on(name, program) {
        let failure =
            report.failure.as_deref().unwrap_or_else(|| panic!("{what}: not reproduced ({kind:?})"));
        let _ = failure;
        assert!(matches!(report.outcome, WhyOutcome::Found { .. }), "{what}: {report:?}");
    }
}

/// A lost update whose losing load read the atomic's initial value. The
/// global numbering placed the other thread's first store (store 1) before
/// that load (it ordered a store after the loads of the store before it
/// only from store 2 on), so `why`, following the numbered order, ran the
/// store first, the load read the new value, and the failure did not come
/// back: "not reproduced" for every explored trace of this program.
pub fn lost_update_of_the_initial_value() {
    use reprise::sync::atomic::{AtomicU64, Ordering};
    use std::sync::Arc;
    let counter = Arc::new(AtomicU64::new(0));
    let c = Arc::clone(&counter);
    let setter = reprise::thread::spawn(move || {
        let seen = c.load(Ordering::SeqCst);
        c.store(seen + 1, Ordering::SeqCst);
    });
    counter.fetch_add(10, Ordering::SeqCst);
    setter.join().unwrap();
    assert_eq!(counter.load(Ordering::SeqCst), 11, "lost update");
}

#[test]
fn why_reproduces_a_lost_update_of_an_atomics_initial_value() {
    reproduced_and_explained("why-initial", lost_update_of_the_initial_value);
}

#[test]
fn why_reproduces_and_explains_the_untimed_programs_failures() {
    reproduced_and_explained("why-spin-random", programs::spin_random);
    reproduced_and_explained("why-torn-rwlock", programs::torn_rwlock);
    reproduced_and_explained("why-nested-scoped", programs::nested_scoped);
}

/// A deadlock with a thread left in a condvar wait: its wait never
/// returned, so the trace ends with its lock turn and no unlock, and the
/// global numbering took the lock for still held; the next turn of that
/// lock (a waiter's, which came after the wait released it) could not be
/// placed, the order was forced (the main thread's turn 5 before a
/// waiter's turn 4), and `why`, following it, did not deadlock: 'not
/// reproduced' (POS, seeds 0 and 1).
#[test]
fn why_reproduces_a_deadlock_that_left_a_thread_in_a_condvar_wait() {
    for (what, kind, report) in why_on("why-notify-deadlock", programs::notify_one_deadlock) {
        assert!(report.failure.is_some(), "{what}: not reproduced ({kind:?})");
    }
}

/// Failures that needed a timer to fire while another thread could run (a
/// time choice): a sleep, a recv_timeout, a condvar wait_timeout. `why`'s
/// runs let timers fire only once every thread was blocked, so following
/// the recorded order did not fail: 'not reproduced' for every one of the
/// 70 traces here. Time is now a choice in its runs too.
#[test]
fn why_reproduces_failures_that_needed_a_timer_to_fire_early() {
    reproduced_and_explained("why-condvar-if", programs::condvar_if);
    reproduced_and_explained("why-lost-wakeup", programs::lost_wakeup);
    reproduced_and_explained("why-watchdog", programs::watchdog);
    reproduced_and_explained("why-panic-waiter", programs::panic_with_a_waiter);
    // Reproduced, but no single flip makes these go away.
    for (name, program) in
        [("why-timed-deadlock", programs::timed_deadlock as fn()), ("why-select-feed", programs::select_feed)]
    {
        for (what, kind, report) in why_on(name, program) {
            assert!(report.failure.is_some(), "{what}: not reproduced ({kind:?})");
        }
    }
}

/// A select with several arms ready: which one it takes is a choice of the
/// schedule. `why`'s runs asked their strategy, which took the arm indices
/// for thread numbers, so the recorded arm was not taken: 'not reproduced'
/// for all 10 explored traces. A run following the order now takes the
/// recorded arm.
#[test]
fn why_takes_the_arm_a_recorded_select_took() {
    reproduced_and_explained("why-select-arm", programs::select_arm);
}

/// A failure that depends on how long the root took, read with `Instant`:
/// the reading came from `why`'s own clock, which a timed-out receive
/// served from the trace does not advance, so it read less and did not
/// fail ('not reproduced' for all 10 traces). The readings it follows are
/// now served from the trace, as captured values are.
#[test]
fn why_serves_the_clock_readings_of_the_order_it_follows() {
    let dir = scratch("hunt-why-clock");
    let config = Config::default().strategy(StrategyKind::Random).budget(60).seed(0).trace_dir(&dir);
    let failure = Explorer::new(config).run(programs::clock_and_select).failure.expect("a failure");
    let trace = read_trace_file(failure.trace.as_ref().expect("a trace")).unwrap();
    let report =
        why(&trace, programs::clock_and_select, |_: &()| None, &WhyConfig::default().budget(40), |_| {});
    assert!(report.failure.is_some(), "not reproduced: {report:?}");
    assert!(matches!(report.outcome, WhyOutcome::Found { .. }), "{report:?}");
}

/// Two of the 10 traces did not come back: the root's select took a timer
/// arm (`after`) that was due because time choices had fired the other
/// threads' sleep and `recv_timeout` first, moving the clock. The global
/// numbering has no edges for time (a trace does not say when a sleep or a
/// timeout fired): it places the select (and the timer's firing) before
/// those threads' events, so `why` ran the select at once, at time 0, when
/// only its send arm was ready. A select that took a timer arm now waits
/// for the clock: the scheduler moves it to the instant the recorded timer
/// fired before the select runs.
#[test]
fn why_reproduces_every_clock_and_select_failure() {
    for (what, kind, report) in why_on("why-clock-select", programs::clock_and_select) {
        assert!(report.failure.is_some(), "{what}: not reproduced ({kind:?})");
    }
}

//! The explorer: it finds schedules that break a program, reports them, and
//! writes traces that parallel replay reproduces.

use std::sync::Arc;

use reprise::explore::{Config, Explorer, FailureKind, StrategyKind};
use reprise::sync::atomic::{AtomicU64, Ordering};
use reprise::sync::Mutex;
use reprise::{channel, read_trace_file, replay, thread, ReplayOutcome};

use crate::util::scratch;

/// Two threads increment a counter with a load and a store.
fn split_increment() {
    let n = Arc::new(AtomicU64::new(0));
    let n2 = Arc::clone(&n);
    let t = thread::spawn(move || {
        let v = n2.load(Ordering::SeqCst);
        n2.store(v + 1, Ordering::SeqCst);
    });
    let v = n.load(Ordering::SeqCst);
    n.store(v + 1, Ordering::SeqCst);
    t.join().unwrap();
    assert_eq!(n.load(Ordering::SeqCst), 2, "an increment was lost");
}

#[test]
fn every_strategy_finds_a_lost_increment_and_its_trace_replays_to_the_same_panic() {
    for strategy in [
        StrategyKind::Random,
        StrategyKind::Pct { depth: 2 },
        StrategyKind::Dfs { preemptions: 2 },
        StrategyKind::Portfolio,
        StrategyKind::Pos,
        StrategyKind::Surw,
    ] {
        let dir = scratch("explore-lost");
        let config = Config::default().strategy(strategy).budget(500).trace_dir(&dir).name("lost");
        let outcome = Explorer::new(config).run(split_increment);
        let failure = outcome.failure.unwrap_or_else(|| panic!("{strategy} found nothing"));
        assert!(
            matches!(&failure.kind, FailureKind::Panic { message, .. } if message.contains("an increment was lost")),
            "{strategy}: {:?}",
            failure.kind
        );
        assert!(failure.report.contains("replay it:"), "{}", failure.report);
        assert!(
            failure.preemptions <= 1,
            "{strategy}: minimized to {} preemptions\n{}",
            failure.preemptions,
            failure.report
        );
        let trace = read_trace_file(failure.trace.as_ref().expect("trace written")).unwrap();
        assert!(trace.is_whole());
        let replayed = replay(&trace, split_increment);
        assert_eq!(replayed.outcome, ReplayOutcome::Matched, "{strategy}: {}", replayed.outcome);
        assert_eq!(replayed.result, None, "{strategy}: the replay panics as the explored run did");
        assert_eq!(replayed.replayed, trace.events);
    }
}

#[test]
fn a_correct_program_passes_the_whole_budget() {
    let outcome = Explorer::new(Config::default().budget(300)).run(|| {
        let n = Arc::new(Mutex::new(0));
        let handles: Vec<_> = (0..3)
            .map(|_| {
                let n = Arc::clone(&n);
                thread::spawn(move || *n.lock().unwrap() += 1)
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
        assert_eq!(*n.lock().unwrap(), 3);
    });
    assert!(outcome.failure.is_none(), "{}", outcome.failure.unwrap().report);
    assert_eq!(outcome.schedules, 300);
}

fn lock_order() {
    let a = Arc::new(Mutex::new(0));
    let b = Arc::new(Mutex::new(0));
    let (a2, b2) = (Arc::clone(&a), Arc::clone(&b));
    let t = thread::Builder::new()
        .name("b-then-a".into())
        .spawn(move || {
            let _b = b2.lock().unwrap();
            let _a = a2.lock().unwrap();
        })
        .unwrap();
    {
        let _a = a.lock().unwrap();
        let _b = b.lock().unwrap();
    }
    t.join().unwrap();
}

#[test]
fn a_lock_order_deadlock_is_reported_with_its_cycle_and_replays_to_the_same_deadlock() {
    let dir = scratch("explore-deadlock");
    let outcome =
        Explorer::new(Config::default().budget(500).trace_dir(&dir).name("deadlock")).run(lock_order);
    let failure = outcome.failure.expect("the deadlock is found");
    let FailureKind::Deadlock { stuck, .. } = &failure.kind else { panic!("{:?}", failure.kind) };
    let mut cycle: Vec<_> = stuck.iter().map(|s| (s.thread, s.waits_for)).collect();
    cycle.sort_unstable();
    assert_eq!(cycle, vec![(0, Some(1)), (1, Some(0))], "{}", failure.report);
    assert!(failure.report.contains("b-then-a"), "{}", failure.report);
    let trace = read_trace_file(failure.trace.as_ref().unwrap()).unwrap();
    let replayed = replay(&trace, lock_order);
    assert!(matches!(replayed.outcome, ReplayOutcome::Deadlock(_)), "{}", replayed.outcome);
}

fn spin_forever() {
    let (_tx, rx) = channel::unbounded::<u32>();
    // Waits for a message nobody sends, politely.
    while rx.try_recv().is_err() {
        thread::yield_now();
    }
}

#[test]
fn a_spinning_thread_is_reported_as_a_livelock_naming_where_it_spins_and_replays_to_it() {
    let dir = scratch("explore-livelock");
    let config = Config::default().budget(5).max_steps(500).trace_dir(&dir).name("spin");
    let failure = Explorer::new(config).run(spin_forever).failure.expect("the spin is found");
    let FailureKind::Livelock { call: Some(call), .. } = &failure.kind else { panic!("{:?}", failure.kind) };
    assert!(call.location.file().ends_with("explore.rs"), "{}", call.location);
    let trace = read_trace_file(failure.trace.as_ref().unwrap()).unwrap();
    let replayed = replay(&trace, spin_forever);
    assert!(matches!(replayed.outcome, ReplayOutcome::Livelock(_)), "{}", replayed.outcome);
}

#[test]
fn the_cli_finds_the_payments_lost_update_and_replay_reproduces_it() {
    use crate::util::{reprise, stderr, stdout};
    let dir = scratch("cli-explore");
    let out = reprise(&[
        "explore",
        "--pipeline",
        "payments",
        "--bug",
        "lost-update",
        "--strategy",
        "pct",
        "--budget",
        "10000",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}\n{}", stdout(&out), stderr(&out));
    let text = stdout(&out);
    let trace = text.lines().find_map(|l| l.strip_prefix("trace: ")).expect("the trace path").to_string();
    assert!(stderr(&out).contains("replay it: reprise replay"), "{}", stderr(&out));
    let digest =
        text.lines().find(|l| l.starts_with("digest: ")).expect("the failing run's digest").to_string();
    let out = reprise(&["replay", &trace]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("invariants: violated: conservation"), "{}", stdout(&out));
    assert!(stdout(&out).contains(&digest), "replay gives the explored run's {digest}:\n{}", stdout(&out));

    let out = reprise(&[
        "explore",
        "--pipeline",
        "payments",
        "--bug",
        "none",
        "--payments",
        "20",
        "--strategy",
        "pct",
        "--budget",
        "300",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}\n{}", stdout(&out), stderr(&out));
    assert!(stdout(&out).contains("no failure in 300 schedules"), "{}", stdout(&out));
}

#[test]
fn shards_split_the_schedules_between_machines() {
    let found = |shard: u64| {
        Explorer::new(
            Config::default()
                .strategy(StrategyKind::Random)
                .seed(3)
                .budget(30)
                .shard(shard, 2)
                .minimize(false)
                .trace_dir(scratch("explore-shards")),
        )
        .run(split_increment)
        .failure
        .map(|f| f.schedule)
    };
    let (a, b) = (found(0), found(1));
    // Schedules are numbered from 1: shard 0 of 2 runs 1, 3, 5, ...
    assert!(a.is_some_and(|s| s % 2 == 1), "{a:?}");
    assert!(b.is_some_and(|s| s % 2 == 0), "{b:?}");
}

#[test]
fn the_same_seed_explores_the_same_schedules() {
    let config = || {
        Config::default()
            .strategy(StrategyKind::Random)
            .seed(7)
            .budget(50)
            .minimize(false)
            .trace_dir(scratch("explore-same-seed"))
    };
    let first = Explorer::new(config()).run(split_increment);
    let second = Explorer::new(config()).run(split_increment);
    let (a, b) = (first.failure.unwrap(), second.failure.unwrap());
    assert_eq!(a.schedule, b.schedule);
    assert_eq!(a.steps, b.steps);
}

reprise::thread_local! {
    static CALLS: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

#[test]
fn reprise_thread_locals_stay_per_thread_under_the_explorer() {
    let outcome = Explorer::new(Config::default().budget(100)).run(|| {
        let bump = || {
            for _ in 0..3 {
                CALLS.with(|c| c.set(c.get() + 1));
                thread::yield_now();
            }
            CALLS.with(|c| c.get())
        };
        let t = thread::spawn(bump);
        let mine = bump();
        assert_eq!((mine, t.join().unwrap()), (3, 3), "explored threads share one OS thread");
    });
    assert!(outcome.failure.is_none(), "{}", outcome.failure.unwrap().report);
}

#[test]
fn a_lock_cycle_is_reported_while_other_threads_still_run() {
    let config =
        Config::default().strategy(StrategyKind::Random).budget(500).trace_dir(scratch("explore-cycle"));
    let outcome = Explorer::new(config).run(|| {
        let busy = Arc::new(AtomicU64::new(0));
        let counting = Arc::clone(&busy);
        // Keeps running long after the other two are stuck.
        let bystander = thread::spawn(move || {
            for _ in 0..200 {
                counting.fetch_add(1, Ordering::Relaxed);
            }
        });
        lock_order();
        bystander.join().unwrap();
    });
    let failure = outcome.failure.expect("the cycle is found");
    let FailureKind::Deadlock { stuck, partial } = &failure.kind else { panic!("{:?}", failure.kind) };
    assert!(*partial, "found only once everything stopped: {}", failure.report);
    assert_eq!(stuck.len(), 2, "{}", failure.report);
}

#[test]
fn pct_change_points_fall_within_the_choices_a_schedule_makes() {
    use reprise::explore::strategy::{Pct, Runnable, Strategy};
    let mut pct = Pct::new(0, 2);
    let mut preempted_runs = 0;
    for i in 0..1000 {
        pct.begin(i);
        pct.runnable(0, Runnable::Ready);
        pct.runnable(1, Runnable::Ready);
        let (mut current, mut preempted) = (None, false);
        for _ in 0..6 {
            let pick = pct.choose_next(&[0, 1], current, &|_| None);
            pct.ran(pick, None);
            preempted |= current.is_some_and(|c| c != pick);
            current = Some(pick);
        }
        pct.end(60);
        preempted_runs += u32::from(preempted);
    }
    // Depth 2: one change point among the 6 choices; it preempts unless it
    // falls on the first choice (nothing runs yet) or the thread already lost.
    assert!(preempted_runs > 600, "only {preempted_runs} of 1000 schedules had a preemption");
}

/// Fails only if `main` preempts the worker between its two stores: a
/// preemption back to a lower-numbered thread.
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
fn dfs_preempts_toward_lower_numbered_threads_too() {
    let dfs = Explorer::new(
        Config::default()
            .strategy(StrategyKind::Dfs { preemptions: 2 })
            .budget(1000)
            .minimize(false)
            .trace_dir(scratch("explore-dfs-lower")),
    )
    .run(sees_the_intermediate_value);
    assert!(dfs.failure.is_some(), "DFS missed it: {dfs:?}");
}

/// No threads, so the only choice is which ready arm the select takes.
fn selects_between_two_ready_channels() {
    let (a_tx, a_rx) = channel::unbounded::<u32>();
    let (b_tx, b_rx) = channel::unbounded::<u32>();
    a_tx.send(0).unwrap();
    b_tx.send(1).unwrap();
    let (arm, _) = channel::select(&[&a_rx, &b_rx]);
    assert_eq!(arm, 0, "select took arm {arm}");
}

#[test]
fn which_ready_arm_a_select_takes_is_a_choice_of_the_schedule() {
    for _ in 0..5 {
        let config = Config::default()
            .strategy(StrategyKind::Dfs { preemptions: 0 })
            .budget(10)
            .minimize(false)
            .trace_dir(scratch("explore-select-arm"));
        let outcome = Explorer::new(config).run(selects_between_two_ready_channels);
        let failure = outcome.failure.expect("DFS tries both arms");
        assert_eq!(failure.schedule, 2, "arm 0 first, then arm 1: the same every time");
    }
}

#[test]
#[should_panic(expected = "replay it: REPRISE_REPLAY=")]
fn the_one_line_form_panics_with_the_report_in_a_test() {
    reprise::explore(split_increment, 500);
}

/// Explores the settlement batch with `bug` (2 settlers, 24 orders) and checks
/// the failure breaks `invariant` and its trace replays to the same digest.
fn explore_settlement(bug: reprise::pipelines::settlement::Bug, invariant: &str, budget: u64) {
    use reprise::pipelines::settlement::{run, SettlementConfig, SettlementOutcome};
    let dir = scratch("explore-settlement");
    let pipeline = SettlementConfig { orders: 24, settlers: 2, seed: 1, bug };
    let program = move || {
        let outcome = run(&pipeline);
        reprise::annotate("digest", outcome.digest.clone());
        outcome
    };
    let config = Config::default().budget(budget).trace_dir(&dir).name(format!("settlement-{bug}"));
    let outcome = Explorer::new(config).run_checked(
        program,
        |o: &SettlementOutcome| (!o.is_ok()).then(|| o.invariants_line()),
        |_| {},
    );
    let failure = outcome.failure.unwrap_or_else(|| panic!("{bug}: nothing in {budget} schedules"));
    assert!(
        matches!(&failure.kind, FailureKind::Check { message } if message.contains(invariant)),
        "{bug}: {:?}",
        failure.kind
    );
    eprintln!("settlement {bug}: found after {} schedules", outcome.schedules);
    let trace = read_trace_file(failure.trace.as_ref().expect("trace written")).unwrap();
    let replayed = replay(&trace, program);
    assert_eq!(replayed.outcome, ReplayOutcome::Matched, "{bug}: {}", replayed.outcome);
    let result = replayed.result.expect("the replay returns");
    assert!(result.violations.contains(&invariant), "{bug}: {result:?}");
    assert_eq!(Some(result.digest.as_str()), failure.annotation("digest"), "{bug}");
}

#[test]
fn the_explorer_finds_the_settlement_stale_rate_and_its_trace_replays() {
    explore_settlement(reprise::pipelines::settlement::Bug::StaleRate, "no-stale-rate", 300);
}

#[test]
fn the_explorer_finds_the_settlement_double_settlement_and_its_trace_replays() {
    explore_settlement(reprise::pipelines::settlement::Bug::DoubleSettle, "exactly-once", 300);
}

#[test]
fn the_explorer_finds_no_failure_in_the_correct_settlement_batch() {
    use reprise::pipelines::settlement::{run, SettlementConfig, SettlementOutcome};
    let pipeline = SettlementConfig { orders: 24, settlers: 2, ..SettlementConfig::default() };
    let outcome = Explorer::new(Config::default().budget(200)).run_checked(
        move || run(&pipeline),
        |o: &SettlementOutcome| (!o.is_ok()).then(|| o.invariants_line()),
        |_| {},
    );
    assert!(outcome.failure.is_none(), "{}", outcome.failure.unwrap().report);
    assert_eq!(outcome.schedules, 200);
}

#[test]
fn the_cli_finds_the_settlement_stale_rate_and_replay_reproduces_it() {
    use crate::util::{reprise, stderr, stdout};
    let dir = scratch("cli-explore-settlement");
    let out = reprise(&[
        "explore",
        "--pipeline",
        "settlement",
        "--bug",
        "stale-rate",
        "--orders",
        "24",
        "--budget",
        "300",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}\n{}", stdout(&out), stderr(&out));
    let text = stdout(&out);
    let trace = text.lines().find_map(|l| l.strip_prefix("trace: ")).expect("the trace path").to_string();
    let digest = text.lines().find(|l| l.starts_with("digest: ")).expect("the failing run's digest");
    let out = reprise(&["replay", &trace]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("invariants: violated: no-stale-rate"), "{}", stdout(&out));
    assert!(stdout(&out).contains(digest), "replay gives the explored run's {digest}:\n{}", stdout(&out));
}

use super::ledger::{lock_order, FinalState, Journal, Totals};
use super::*;
use rust_decimal::Decimal;

fn config(bug: Bug, workers: usize, seed: u64) -> PaymentsConfig {
    PaymentsConfig { payments: 200, workers, seed, bug, ..PaymentsConfig::default() }
}

/// Runs `bug` with 4 workers until `invariant` breaks; returns the run count.
fn runs_until_violated(bug: Bug, invariant: &str, budget: u64) -> Option<u64> {
    (1..=budget).find(|&seed| run(&config(bug, 4, seed)).violations.contains(&invariant))
}

#[test]
fn no_schedule_breaks_an_invariant_without_a_bug() {
    for workers in [2, 4, 8] {
        for seed in 0..30 {
            let outcome = run(&config(Bug::None, workers, seed));
            assert!(outcome.is_ok(), "{workers} workers, seed {seed}: {outcome:?}");
            assert!(outcome.applied > 0 && outcome.rejected > 0, "{outcome:?}");
        }
    }
}

#[test]
fn lost_update_breaks_conservation_under_os_scheduling() {
    assert!(runs_until_violated(Bug::LostUpdate, CONSERVATION, 200).is_some());
}

#[test]
fn double_apply_breaks_exactly_once_under_os_scheduling() {
    assert!(runs_until_violated(Bug::DoubleApply, EXACTLY_ONCE, 200).is_some());
}

#[test]
fn reorder_breaks_no_overdraft_under_os_scheduling() {
    assert!(runs_until_violated(Bug::Reorder, NO_OVERDRAFT, 200).is_some());
}

#[test]
fn deadlock_locks_source_then_destination() {
    assert_eq!(lock_order(5, 2, Bug::Deadlock), (5, 2));
    assert_eq!(lock_order(2, 5, Bug::Deadlock), (2, 5));
    for bug in [Bug::None, Bug::LostUpdate, Bug::DoubleApply, Bug::Reorder] {
        assert_eq!(lock_order(5, 2, bug), (2, 5));
        assert_eq!(lock_order(2, 5, bug), (2, 5));
    }
}

#[test]
fn one_worker_runs_are_deterministic_and_match_the_raw_build() {
    // Not reorder: its worker polls two channels, so even alone it has schedules.
    for bug in [Bug::None, Bug::LostUpdate, Bug::DoubleApply, Bug::Deadlock] {
        let config = config(bug, 1, 9);
        let first = run(&config);
        assert!(first.is_ok(), "{bug}: {first:?}");
        assert_eq!(run(&config), first, "{bug}");
        assert_eq!(raw::run(&config), first, "{bug}");
    }
}

#[test]
fn digest_is_stable_for_a_fixed_final_state() {
    let payment = |id, amount| Payment {
        id,
        amount: Decimal::new(amount, 2),
        kind: PaymentKind::Transfer { from: 0, to: 1 },
    };
    let mut journal = Journal::default();
    journal.record(&payment(3, 2_500), true, false);
    journal.record(&payment(1, 1_000), true, false);
    journal.record(&payment(2, 999_999), false, false);
    let state = FinalState {
        opening: vec![Decimal::new(10_000, 2), Decimal::new(5_000, 2)],
        balances: vec![Decimal::new(6_500, 2), Decimal::new(85, 0)],
        journal,
        accepted: vec![1, 2, 3],
        malformed: 1,
        reconciler: Totals { count: 2, volume: Decimal::new(35, 0) },
    };
    let outcome = state.into_outcome();
    assert!(outcome.is_ok(), "{outcome:?}");
    assert_eq!((outcome.applied, outcome.rejected), (2, 2));
    // Checked against an independent FNV-1a 64 of the same bytes (little-endian
    // lengths, cents as i128, ids as u64); 85 and 85.00 hash alike.
    assert_eq!(outcome.digest, "7db6036b49ef9e2a");
}

#[test]
fn a_final_state_names_each_broken_invariant() {
    let payment =
        Payment { id: 0, amount: Decimal::new(100, 0), kind: PaymentKind::Transfer { from: 0, to: 1 } };
    let mut journal = Journal::default();
    journal.record(&payment, true, true);
    journal.record(&payment, true, false);
    let state = FinalState {
        opening: vec![Decimal::ZERO, Decimal::ZERO],
        balances: vec![Decimal::new(-100, 0), Decimal::new(200, 0)],
        journal,
        accepted: vec![0],
        malformed: 0,
        reconciler: Totals::default(),
    };
    assert_eq!(state.violations(), INVARIANTS);
    assert_eq!(
        state.into_outcome().invariants_line(),
        "invariants: violated: conservation, no-overdraft, exactly-once, \
         reconciler-matches-ledger"
    );
}

#[test]
fn bugs_parse_from_and_display_as_their_names() {
    for bug in Bug::ALL {
        assert_eq!(bug.to_string().parse::<Bug>(), Ok(bug));
    }
    assert_eq!(Bug::DoubleApply.to_string(), "double-apply");
    let error = "lost_update".parse::<Bug>().unwrap_err();
    assert_eq!(
        error.to_string(),
        "unknown payments bug `lost_update`, expected one of: none, lost-update, double-apply, \
         reorder, deadlock, panic"
    );
}

#[test]
fn invalid_configs_are_refused_before_anything_runs() {
    let zero = PaymentsConfig { workers: 0, ..PaymentsConfig::default() };
    assert_eq!(try_run(&zero), Err(ConfigError::Workers { workers: 0 }));
    let many = PaymentsConfig { workers: 65, ..PaymentsConfig::default() };
    assert!(many.validate().is_err());
    let huge = PaymentsConfig { payments: MAX_PAYMENTS + 1, ..PaymentsConfig::default() };
    assert_eq!(huge.validate().unwrap_err().to_string(), "`payments` must be at most 10000000, got 10000001");
    let edge = PaymentsConfig { workers: MAX_WORKERS, payments: 0, ..PaymentsConfig::default() };
    assert!(run(&edge).is_ok());
}

#[test]
fn generated_payments_are_a_pure_function_of_seed_and_index() {
    let mut kinds = [0; 4];
    for n in 0..2_000 {
        let payment = next_payment(5, n);
        assert_eq!(payment, next_payment(5, n));
        assert_eq!(payment.id, n);
        if !payment.is_well_formed() {
            kinds[3] += 1;
            continue;
        }
        match payment.kind {
            PaymentKind::Transfer { .. } => kinds[0] += 1,
            PaymentKind::Deposit { .. } => kinds[1] += 1,
            PaymentKind::FundedTransfer { from, .. } => {
                kinds[2] += 1;
                let deposit = next_payment(5, n - 1);
                assert_eq!(deposit.kind, PaymentKind::Deposit { to: from });
                assert_eq!(deposit.amount, payment.amount);
            }
        }
    }
    assert!(kinds.iter().all(|&count| count > 20), "{kinds:?}");
    assert_ne!(next_payment(5, 0), next_payment(6, 0));
}

#[test]
fn the_floor_runs_the_same_pipeline_and_logs_every_event_a_replay_needs() {
    use reprise_recorder::trace::model::{Op, Record};

    let config = config(Bug::None, 1, 9);
    let before = floor::logged();
    let outcome = floor::run(&config);
    let logged = floor::logged() - before;
    assert_eq!(outcome, raw::run(&config), "one worker: one schedule, one final state");

    // The counts do not depend on the schedule: no `try_recv` without the
    // reorder bug, so a recording of another run has as many of each.
    let path = std::env::temp_dir().join(format!("reprise-floor-test-{}.trace", std::process::id()));
    let recording = crate::record(&path, crate::RecordConfig::new("floor-test", "1"), move || run(&config))
        .expect("the recording starts");
    assert_eq!(recording.result.expect("the recorded run ends"), outcome);
    let trace = crate::read_trace_file(&path).expect("the trace reads");
    std::fs::remove_file(&path).ok();
    let events = trace.threads.values().flat_map(|records| records.iter());
    let events: Vec<Op> =
        events.filter_map(|r| if let Record::Event(e) = r { Some(e.op) } else { None }).collect();
    let count = |op: Op| events.iter().filter(|&&o| o == op).count() as u64;
    // The floor logs no unlock, no thread's exit and no start of the
    // calling thread: it does log every lock, send, receive, spawn, join
    // and spawned thread's start.
    let threads = trace.threads.len() as u64;
    assert_eq!(logged, events.len() as u64 - count(Op::Unlock) - threads - 1);
    assert!(count(Op::Lock) > 400 && count(Op::Send) > 200, "{} events", events.len());
}

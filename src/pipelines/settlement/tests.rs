use rust_decimal::Decimal;

use super::outcome::{FinalState, Settlement, Volumes};
use super::workload::{rates, redelivered};
use super::*;

fn config(bug: Bug, settlers: usize, seed: u64) -> SettlementConfig {
    SettlementConfig { orders: 150, settlers, seed, bug }
}

/// A consistent final state of two orders, each settled once at version 1.
fn clean_state() -> FinalState {
    let journal = vec![
        Settlement {
            order: 0,
            currency: 1,
            amount: Decimal::new(1000, 2),
            usd: Decimal::new(1085, 2),
            priced_at: 1,
            committed_at: 1,
        },
        Settlement {
            order: 1,
            currency: 2,
            amount: Decimal::new(200, 2),
            usd: Decimal::new(254, 2),
            priced_at: 1,
            committed_at: 1,
        },
    ];
    let mut netting = Volumes::default();
    let mut positions = vec![vec![Decimal::ZERO; PARTIES]; CURRENCIES.len()];
    for (s, (buyer, seller)) in journal.iter().zip([(0, 1), (2, 3)]) {
        netting.add(s.currency, s.amount, s.usd);
        positions[usize::from(s.currency)][buyer] += s.amount;
        positions[usize::from(s.currency)][seller] -= s.amount;
        positions[USD][buyer] -= s.usd;
        positions[USD][seller] += s.usd;
    }
    FinalState {
        orders: 2,
        closing: Some(positions.clone()),
        positions,
        journal,
        netting,
        duplicates: 0,
        rate_version: 1,
    }
}

#[test]
fn a_consistent_state_breaks_no_invariant() {
    assert_eq!(clean_state().violations(), Vec::<&str>::new());
}

#[test]
fn a_repeated_or_missing_settlement_breaks_exactly_once() {
    let mut twice = clean_state();
    let again = twice.journal[0];
    twice.journal.push(again);
    twice.netting.add(again.currency, again.amount, again.usd);
    assert_eq!(twice.violations(), vec![EXACTLY_ONCE]);

    let mut missing = clean_state();
    missing.orders = 3;
    assert_eq!(missing.violations(), vec![EXACTLY_ONCE]);

    // Two settlements, but of one order: the count alone does not make it right.
    let mut swapped = clean_state();
    swapped.journal[1].order = 0;
    assert_eq!(swapped.violations(), vec![EXACTLY_ONCE]);
}

#[test]
fn a_one_sided_position_breaks_net_zero() {
    let mut state = clean_state();
    state.positions[3][5] += Decimal::new(1, 2);
    assert_eq!(state.violations(), vec![NET_ZERO]);
}

#[test]
fn a_batch_that_never_closed_or_moved_after_closing_breaks_net_zero() {
    let mut open = clean_state();
    open.closing = None;
    assert_eq!(open.violations(), vec![NET_ZERO]);
    let mut late = clean_state();
    if let Some(closing) = late.closing.as_mut() {
        closing[1][0] = Decimal::ZERO;
    }
    assert_eq!(late.violations(), vec![NET_ZERO]);
}

#[test]
fn a_commit_at_a_newer_rate_version_breaks_no_stale_rate() {
    let mut state = clean_state();
    state.journal[1].committed_at = 2;
    assert_eq!(state.violations(), vec![NO_STALE_RATE]);
}

#[test]
fn netting_that_missed_a_report_breaks_netting_matches_journal() {
    let mut state = clean_state();
    state.netting = Volumes::default();
    state.netting.add(state.journal[0].currency, state.journal[0].amount, state.journal[0].usd);
    assert_eq!(state.violations(), vec![NETTING_MATCHES_JOURNAL]);
}

#[test]
fn the_digest_changes_with_the_state() {
    let base = clean_state().digest();
    assert_eq!(base.len(), 16);
    assert_eq!(clean_state().digest(), base);
    let mut later = clean_state();
    later.rate_version = 2;
    assert_ne!(later.digest(), base);
    let mut moved = clean_state();
    moved.positions[1][0] += Decimal::ONE;
    assert_ne!(moved.digest(), base);
}

#[test]
fn opening_rates_are_version_one_and_usd_is_always_one() {
    for seed in 0..5 {
        assert_eq!(rates(seed, 1), rates(seed + 1, 1));
        for version in 1..20 {
            let table = rates(seed, version);
            assert_eq!(table[USD], Decimal::ONE);
            assert!(table.iter().all(|r| *r > Decimal::ZERO));
        }
    }
    assert_ne!(rates(1, 2), rates(1, 1));
}

#[test]
fn the_workload_redelivers_some_orders_and_never_trades_usd_or_with_oneself() {
    let redeliveries = (0..600).filter(|&n| redelivered(1, n)).count();
    assert!((50..200).contains(&redeliveries), "{redeliveries}");
    for n in 0..600 {
        let order = next_order(3, n);
        assert_ne!(usize::from(order.currency), USD);
        assert_ne!(order.buyer, order.seller);
        assert!(order.amount > Decimal::ZERO);
    }
}

#[test]
fn no_run_breaks_an_invariant_without_a_bug_and_redeliveries_are_absorbed() {
    for settlers in [1, 2, 4, 8] {
        for seed in 0..12 {
            let outcome = run(&config(Bug::None, settlers, seed));
            assert!(outcome.is_ok(), "{settlers} settlers, seed {seed}: {outcome:?}");
            assert_eq!(outcome.settled, 150);
            let expected = (0..150).filter(|&n| redelivered(seed, n)).count() as u64;
            assert_eq!(outcome.duplicates, expected, "every redelivery is dropped once");
        }
    }
}

#[test]
fn an_invalid_config_is_an_error_not_a_run() {
    let zero = SettlementConfig { settlers: 0, ..SettlementConfig::default() };
    assert_eq!(try_run(&zero), Err(ConfigError::Settlers { settlers: 0 }));
    let huge = SettlementConfig { orders: MAX_ORDERS + 1, ..SettlementConfig::default() };
    assert_eq!(try_run(&huge), Err(ConfigError::Orders { orders: MAX_ORDERS + 1 }));
}

/// Runs `bug` with 4 settlers until `invariant` breaks; returns the seed.
fn seed_until_violated(bug: Bug, invariant: &str, budget: u64) -> Option<u64> {
    (1..=budget).find(|&seed| run(&config(bug, 4, seed)).violations.contains(&invariant))
}

#[test]
fn stale_rate_breaks_no_stale_rate_under_os_scheduling() {
    assert!(seed_until_violated(Bug::StaleRate, NO_STALE_RATE, 300).is_some());
}

#[test]
fn double_settle_breaks_exactly_once_under_os_scheduling() {
    assert!(seed_until_violated(Bug::DoubleSettle, EXACTLY_ONCE, 300).is_some());
}

//! (2) Check-then-act overdraft: two card payments against one account each
//! check the balance, release the lock, then debit; both checks can pass
//! before either debit, and the account goes below zero.
//!
//! Measured (seed 0): PCT depth 2 found it at schedule 1; over seeds 0-29:
//! median 3.5, at most 26.

use reprise::explore::StrategyKind;
use reprise::sync::{Arc, Mutex};
use reprise::thread;

use super::{Bug, Hunt};

const HUNT: Hunt = Hunt::new("check_then_act", StrategyKind::Pct { depth: 2 }, 200);

/// Debits `amount` if the balance covers it: the check and the debit are
/// separate critical sections. Returns whether it debited.
fn pay_split(balance: &Mutex<i64>, amount: i64) -> bool {
    let covered = *balance.lock().unwrap() >= amount;
    if covered {
        *balance.lock().unwrap() -= amount;
    }
    covered
}

/// Checks and debits under one guard.
fn pay(balance: &Mutex<i64>, amount: i64) -> bool {
    let mut balance = balance.lock().unwrap();
    let covered = *balance >= amount;
    if covered {
        *balance -= amount;
    }
    covered
}

fn account(pay: fn(&Mutex<i64>, i64) -> bool) {
    let balance = Arc::new(Mutex::new(100));
    let payments: Vec<_> = [70, 60]
        .into_iter()
        .map(|amount| {
            let balance = Arc::clone(&balance);
            thread::spawn(move || pay(&balance, amount))
        })
        .collect();
    let accepted = payments.into_iter().map(|p| p.join().unwrap()).filter(|&paid| paid).count();
    let left = *balance.lock().unwrap();
    assert!(left >= 0, "overdraft: balance {left} after {accepted} payments");
    assert_eq!(accepted, 1, "only one of the two payments fits");
}

fn buggy() {
    account(pay_split)
}

fn fixed() {
    account(pay)
}

#[test]
fn check_then_act_overdraft_is_found_by_pct_within_200_schedules() {
    HUNT.finds(Bug::Panics("overdraft"), buggy);
}

#[test]
fn fixed_check_then_act_passes_200_schedules() {
    HUNT.passes(fixed);
}

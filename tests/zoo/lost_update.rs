//! (1) Lost update: two ledger workers credit one account; each reads the
//! balance under the lock, computes, and writes it back under a second
//! acquisition, so a credit made between the two is overwritten.
//!
//! Measured (seed 0): PCT depth 2 found it at schedule 1; over seeds 0-29:
//! median 3.5, at most 26.

use reprise::explore::StrategyKind;
use reprise::sync::{Arc, Mutex};
use reprise::thread;

use super::{Bug, Hunt};

const HUNT: Hunt = Hunt::new("lost_update", StrategyKind::Pct { depth: 2 }, 200);

/// Credits `amount`: the read and the write are separate critical sections.
fn credit_split(balance: &Mutex<i64>, amount: i64) {
    let read = *balance.lock().unwrap();
    *balance.lock().unwrap() = read + amount;
}

/// Credits `amount` in one critical section.
fn credit(balance: &Mutex<i64>, amount: i64) {
    *balance.lock().unwrap() += amount;
}

fn ledger(apply: fn(&Mutex<i64>, i64)) {
    let balance = Arc::new(Mutex::new(100));
    let workers: Vec<_> = [25, 40]
        .into_iter()
        .map(|amount| {
            let balance = Arc::clone(&balance);
            thread::spawn(move || apply(&balance, amount))
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    let total = *balance.lock().unwrap();
    assert_eq!(total, 165, "lost update: balance {total}, expected 165");
}

fn buggy() {
    ledger(credit_split)
}

fn fixed() {
    ledger(credit)
}

#[test]
fn lost_update_is_found_by_pct_within_200_schedules() {
    HUNT.finds(Bug::Panics("lost update"), buggy);
}

#[test]
fn fixed_lost_update_passes_200_schedules() {
    HUNT.passes(fixed);
}

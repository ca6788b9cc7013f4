//! (3) Double-apply on redelivery: the broker redelivers a payment whose ack
//! has not come back yet (at-least-once delivery), and the two ledger workers
//! deduplicate by idempotency key with a check and a later insert; when both
//! copies are in flight at once, both pass the check and the payment is
//! applied twice.
//!
//! Measured (seed 0): PCT depth 3 found it at schedule 17; over seeds 0-29:
//! median 6, at most 27.

use std::collections::BTreeSet;

use reprise::explore::StrategyKind;
use reprise::sync::{Arc, Mutex};
use reprise::{channel, thread};

use super::{Bug, Hunt};

const HUNT: Hunt = Hunt::new("redelivery", StrategyKind::Pct { depth: 3 }, 300);

#[derive(Clone, Copy, Debug)]
struct Payment {
    key: u64,
    amount: i64,
}

#[derive(Default)]
struct Ledger {
    balance: Mutex<i64>,
    applied: Mutex<BTreeSet<u64>>,
}

/// Applies a payment unless its key was applied: the check, the credit and
/// the insert of the key are three critical sections.
fn apply_checked(ledger: &Ledger, p: Payment) {
    if !ledger.applied.lock().unwrap().contains(&p.key) {
        *ledger.balance.lock().unwrap() += p.amount;
        ledger.applied.lock().unwrap().insert(p.key);
    }
}

/// Claims the key first, atomically, and credits only if it was new.
fn apply_once(ledger: &Ledger, p: Payment) {
    if ledger.applied.lock().unwrap().insert(p.key) {
        *ledger.balance.lock().unwrap() += p.amount;
    }
}

fn pipeline(apply: fn(&Ledger, Payment)) {
    let ledger = Arc::new(Ledger::default());
    let (tx, rx) = channel::unbounded::<Payment>();
    let (ack_tx, ack_rx) = channel::unbounded::<u64>();
    let workers: Vec<_> = (0..2)
        .map(|_| {
            let (rx, ack_tx, ledger) = (rx.clone(), ack_tx.clone(), Arc::clone(&ledger));
            thread::spawn(move || {
                for p in rx.iter() {
                    apply(&ledger, p);
                    ack_tx.send(p.key).unwrap();
                }
            })
        })
        .collect();
    let payment = Payment { key: 7, amount: 50 };
    tx.send(payment).unwrap();
    // The ack timeout: no ack yet, so deliver it again.
    if ack_rx.try_recv().is_err() {
        tx.send(payment).unwrap();
    }
    drop(tx);
    for w in workers {
        w.join().unwrap();
    }
    let balance = *ledger.balance.lock().unwrap();
    assert_eq!(balance, 50, "double apply: payment 7 credited {} times", balance / 50);
}

fn buggy() {
    pipeline(apply_checked)
}

fn fixed() {
    pipeline(apply_once)
}

#[test]
fn double_apply_on_redelivery_is_found_by_pct_within_300_schedules() {
    HUNT.finds(Bug::Panics("double apply"), buggy);
}

#[test]
fn fixed_redelivery_applies_once_in_300_schedules() {
    HUNT.passes(fixed);
}

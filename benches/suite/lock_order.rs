//! A lock-order deadlock: a transfer from A to B locks A then B, one from B
//! to A locks B then A. Fixed twin: both lock the lower-numbered account
//! first.

use super::prim::sync::{Arc, Mutex};
use super::prim::thread;

pub(super) fn run(fixed: bool) {
    let accounts = Arc::new([Mutex::new(100i64), Mutex::new(100i64)]);
    let transfer = move |accounts: &[Mutex<i64>; 2], from: usize, to: usize, amount: i64| {
        let (first, second) = if fixed { (from.min(to), from.max(to)) } else { (from, to) };
        let mut a = accounts[first].lock().unwrap();
        let mut b = accounts[second].lock().unwrap();
        let (src, dst) = if first == from { (&mut *a, &mut *b) } else { (&mut *b, &mut *a) };
        *src -= amount;
        *dst += amount;
    };
    let threads: Vec<_> = [(0, 1, 30), (1, 0, 20)]
        .into_iter()
        .map(|(from, to, amount)| {
            let accounts = Arc::clone(&accounts);
            thread::spawn(move || transfer(&accounts, from, to, amount))
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let total: i64 = accounts.iter().map(|a| *a.lock().unwrap()).sum();
    assert_eq!(total, 200, "money was created or destroyed");
}

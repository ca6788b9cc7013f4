//! Dining philosophers: each takes the fork on the left, then the one on the
//! right, eats, and puts both down, twice. When every philosopher holds the
//! left fork, nobody gets a right one. Fixed twin: the last philosopher
//! takes the right fork first (forks in one global order).

use super::prim::sync::{Arc, Mutex};
use super::prim::thread;

/// Meals per philosopher.
const MEALS: u64 = 2;

pub(super) fn run(philosophers: usize, fixed: bool) {
    let forks: Arc<Vec<Mutex<u64>>> = Arc::new((0..philosophers).map(|_| Mutex::new(0)).collect());
    let diners: Vec<_> = (0..philosophers)
        .map(|seat| {
            let forks = Arc::clone(&forks);
            thread::spawn(move || {
                let (left, right) = (seat, (seat + 1) % philosophers);
                let (first, second) = if fixed { (left.min(right), left.max(right)) } else { (left, right) };
                for _ in 0..MEALS {
                    let mut a = forks[first].lock().unwrap();
                    let mut b = forks[second].lock().unwrap();
                    *a += 1;
                    *b += 1;
                }
            })
        })
        .collect();
    for diner in diners {
        diner.join().unwrap();
    }
    let uses: u64 = forks.iter().map(|f| *f.lock().unwrap()).sum();
    assert_eq!(uses, 2 * MEALS * philosophers as u64, "a meal went missing");
}

//! Many short-lived objects and deep stacks: three booking workers make
//! a `Mutex` and a one-shot `bounded(1)` channel per order (hundreds
//! each, all dropped at once), batching into a shared total; a netting
//! worker walks a deep tree of exposures by recursion, taking a shared
//! lock every hundred levels, one on std's default stack and one on a
//! `Builder::stack_size` of its own.

use std::sync::Arc;

use reprise::channel;
use reprise::sync::Mutex;
use reprise::thread;

const ORDERS: u64 = 300;

/// Books one order through objects made for it alone.
fn book(order: u64) -> u64 {
    let cell = Mutex::new(order);
    let (tx, rx) = channel::bounded::<u64>(1);
    tx.send(*cell.lock().unwrap() * 3).unwrap();
    let tripled = rx.recv().unwrap();
    *cell.lock().unwrap() += tripled;
    let booked = *cell.lock().unwrap();
    booked
}

/// Nets a chain of exposures `depth` deep, a 64-word frame a level.
fn net(tag: char, depth: u32, total: &Mutex<Vec<char>>) -> u64 {
    let mut frame = [0u64; 64];
    for (i, slot) in frame.iter_mut().enumerate() {
        *slot = u64::from(depth) ^ i as u64;
    }
    if depth.is_multiple_of(100) {
        total.lock().unwrap().push(tag);
    }
    let below = if depth == 0 { 0 } else { net(tag, depth - 1, total) };
    below + frame.iter().sum::<u64>() % 7
}

pub(crate) fn churn_and_depth() -> String {
    let total = Arc::new(Mutex::new(0u64));
    let bookers: Vec<_> = (0..3u64)
        .map(|w| {
            let total = Arc::clone(&total);
            thread::spawn(move || {
                let mut batch = 0;
                for order in (w * ORDERS)..((w + 1) * ORDERS) {
                    batch += book(order);
                    if order % 50 == 49 {
                        *total.lock().unwrap() += batch;
                        batch = 0;
                    }
                }
            })
        })
        .collect();
    let marks = Arc::new(Mutex::new(Vec::new()));
    let default_stack = {
        let marks = Arc::clone(&marks);
        thread::spawn(move || net('a', 1200, &marks))
    };
    let big_stack = {
        let marks = Arc::clone(&marks);
        thread::Builder::new().stack_size(16 << 20).spawn(move || net('b', 6000, &marks)).unwrap()
    };
    for b in bookers {
        b.join().unwrap();
    }
    let (a, b) = (default_stack.join().unwrap(), big_stack.join().unwrap());
    let booked = *total.lock().unwrap();
    assert_eq!(booked, (0..3 * ORDERS).map(|o| o * 4).sum::<u64>());
    let marks = marks.lock().unwrap().clone();
    assert_eq!(marks.len(), 13 + 61);
    // How the walkers' marks interleave is the schedule's.
    let order: String = marks.iter().collect();
    format!("booked {booked}, nets {a} {b}, marks {order}")
}

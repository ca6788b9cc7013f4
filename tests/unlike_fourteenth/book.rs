//! An order book with a lock per symbol: pair trades (buy one symbol,
//! sell another) lock both books in whatever order the trade names them,
//! taking the first with `lock` and the second with `try_lock`, backing
//! off (drop, `yield_now`, retry) when it is busy, as desks write it to
//! dodge lock-order deadlocks; a rate limiter in front of it that admits
//! a trade per window of reprise's clock (`Instant` deltas decide who
//! waits, and how long a trader sleeps). Planted: the same trades with a
//! plain `lock` for the second book (a deadlock when two pairs cross), and
//! a fill that checks the resting quantity under one lock and takes it
//! under another (an oversold book).

use std::sync::Arc;

use reprise::sync::{Mutex, TryLockError};
use reprise::thread;
use reprise::time::{Duration, Instant};

struct Book {
    resting: i64,
    fills: Vec<(usize, i64)>,
}

#[derive(Clone, Copy, PartialEq)]
enum Second {
    BackOff,
    /// Planted: a plain `lock`; two traders locking a pair each from its
    /// own end wait for each other.
    Block,
}

/// A trader's pair trades: (first symbol, second symbol, quantity).
fn trades(t: usize) -> Vec<(usize, usize, i64)> {
    match t {
        0 => vec![(0, 1, 5), (1, 2, 3), (0, 2, 2)],
        1 => vec![(1, 0, 4), (2, 1, 6), (2, 0, 1)],
        _ => vec![(2, 0, 2), (0, 1, 1), (1, 2, 2)],
    }
}

/// A limiter admitting one trade per `window` of reprise's clock: a
/// trader asks for a slot and sleeps until it starts.
struct Limiter {
    next: Mutex<Option<Instant>>,
    window: Duration,
}

impl Limiter {
    /// Claims the next slot; returns how long the trader waited for it.
    fn admit(&self) -> Duration {
        let now = Instant::now();
        let start = {
            let mut next = self.next.lock().expect("the limiter");
            let start = next.map_or(now, |n| n.max(now));
            *next = Some(start + self.window);
            start
        };
        let wait = start.saturating_duration_since(now);
        if !wait.is_zero() {
            thread::sleep(wait);
        }
        wait
    }
}

fn session(second: Second) -> (String, Vec<i64>) {
    let books: Arc<Vec<Mutex<Book>>> =
        Arc::new((0..3).map(|_| Mutex::new(Book { resting: 100, fills: Vec::new() })).collect());
    let limiter = Arc::new(Limiter { next: Mutex::new(None), window: Duration::from_millis(2) });
    let traders: Vec<_> = (0..3usize)
        .map(|t| {
            let (books, limiter) = (Arc::clone(&books), Arc::clone(&limiter));
            thread::Builder::new()
                .name(format!("trader-{t}"))
                .spawn(move || {
                    let (mut backoffs, mut waited) = (0u32, 0u32);
                    for (buy, sell, qty) in trades(t) {
                        if !limiter.admit().is_zero() {
                            waited += 1;
                        }
                        loop {
                            let mut first = books[buy].lock().expect("a book");
                            let mut other = match second {
                                Second::Block => books[sell].lock().expect("a book"),
                                Second::BackOff => match books[sell].try_lock() {
                                    Ok(g) => g,
                                    Err(TryLockError::WouldBlock) => {
                                        drop(first);
                                        backoffs += 1;
                                        thread::yield_now();
                                        continue;
                                    }
                                    Err(TryLockError::Poisoned(e)) => panic!("poisoned: {e}"),
                                },
                            };
                            first.resting -= qty;
                            first.fills.push((t, -qty));
                            other.resting += qty;
                            other.fills.push((t, qty));
                            break;
                        }
                    }
                    (backoffs, waited)
                })
                .expect("spawn a trader")
        })
        .collect();
    let mut stats = Vec::new();
    for t in traders {
        let (backoffs, waited) = t.join().expect("a trader ends");
        stats.push(format!("{}/{}", backoffs > 0, waited));
    }
    let resting: Vec<i64> = books.iter().map(|b| b.lock().expect("a book").resting).collect();
    assert_eq!(resting.iter().sum::<i64>(), 300, "a pair trade moves quantity, never makes it");
    let first_fills: String = books
        .iter()
        .map(|b| b.lock().expect("a book").fills.first().map_or('-', |f| char::from(b'a' + f.0 as u8)))
        .collect();
    (format!("resting {resting:?}, first fills {first_fills}, traders {}", stats.join(" ")), resting)
}

pub(crate) fn pair_trades() -> String {
    let (transcript, resting) = session(Second::BackOff);
    // Every trade moved its quantity: the books end where the trade
    // lists say, whatever the order.
    assert_eq!(resting, [99, 103, 98]);
    transcript
}

pub(crate) fn crossed_locks() {
    session(Second::Block);
}

/// Planted: two takers fill against one resting order; each checks the
/// quantity under the lock, lets it go to price the fill, and takes it
/// under a second lock.
pub(crate) fn oversold() {
    let book = Arc::new(Mutex::new(Book { resting: 10, fills: Vec::new() }));
    let takers: Vec<_> = (0..2usize)
        .map(|t| {
            let book = Arc::clone(&book);
            thread::spawn(move || {
                let available = book.lock().expect("the book").resting;
                if available >= 7 {
                    let mut b = book.lock().expect("the book");
                    b.resting -= 7;
                    b.fills.push((t, 7));
                }
            })
        })
        .collect();
    for t in takers {
        t.join().expect("a taker ends");
    }
    let left = book.lock().expect("the book").resting;
    assert!(left >= 0, "planted: the book was oversold ({left} left)");
}

//! Panics that do not carry a string: a booking desk whose workers reject
//! orders with `panic_any` of a struct and of a bare `u32`, a ledger guard
//! whose `Drop` panics (not while unwinding: its own panic) when it finds
//! the books unbalanced, and a root that takes the payloads from `join`'s
//! `Err`, downcasts them, and throws one on with reprise's
//! `resume_unwind` into its own `catch_unwind`; a retry loop that catches
//! every panic around a lock and a send, going on with the poisoned lock.

use std::sync::Arc;

use reprise::channel;
use reprise::panic::{catch_unwind, panic_any, resume_unwind, AssertUnwindSafe};
use reprise::sync::atomic::{AtomicI64, Ordering};
use reprise::sync::Mutex;
use reprise::thread;

#[derive(Debug, PartialEq)]
pub(crate) struct Reject {
    pub(crate) desk: u32,
    pub(crate) order: u32,
}

#[derive(Debug)]
struct Unbalanced(i64);

/// Checks the books balance when the desk's batch ends; panics with its
/// own payload when they do not (the desk was not unwinding: a panic in
/// `Drop` then is an ordinary panic).
struct BatchGuard<'a> {
    books: &'a Mutex<Vec<(u32, i64)>>,
    desk: u32,
}

impl Drop for BatchGuard<'_> {
    fn drop(&mut self) {
        if thread::panicking() {
            return;
        }
        let net: i64 = {
            let books = self.books.lock().unwrap_or_else(|e| e.into_inner());
            books.iter().filter(|(d, _)| *d == self.desk).map(|(_, a)| a).sum()
        };
        if net != 0 {
            panic_any(Unbalanced(net));
        }
    }
}

/// Desk `d` books legs; desk 1 rejects an order with a struct, desk 2 with
/// a bare number, desk 3 leaves its books unbalanced, desk 0 ends well.
fn desk(d: u32, books: Arc<Mutex<Vec<(u32, i64)>>>) -> u32 {
    let _guard = BatchGuard { books: &books, desk: d };
    for order in 0..4u32 {
        let leg = i64::from(order + 1) * 10;
        books.lock().expect("the books are not poisoned").push((d, leg));
        if d == 1 && order == 2 {
            books.lock().expect("the books").push((d, -leg));
            panic_any(Reject { desk: d, order });
        }
        if d == 2 && order == 1 {
            books.lock().expect("the books").push((d, -leg));
            panic_any(42u32);
        }
        if d != 3 {
            books.lock().expect("the books").push((d, -leg));
        }
    }
    d
}

pub(crate) fn booking_desk() -> String {
    let books = Arc::new(Mutex::new(Vec::new()));
    let desks: Vec<_> = (0..4u32)
        .map(|d| {
            let books = Arc::clone(&books);
            thread::Builder::new()
                .name(format!("desk-{d}"))
                .spawn(move || desk(d, books))
                .expect("spawn a desk")
        })
        .collect();
    let mut seen = Vec::new();
    let mut to_rethrow = None;
    for (d, h) in desks.into_iter().enumerate() {
        match h.join() {
            Ok(d) => seen.push(format!("{d} ok")),
            Err(payload) => {
                if let Some(r) = payload.downcast_ref::<Reject>() {
                    assert_eq!(*r, Reject { desk: 1, order: 2 });
                    seen.push(format!("{d} rejected {}", r.order));
                    to_rethrow = Some(payload);
                } else if let Some(code) = payload.downcast_ref::<u32>() {
                    seen.push(format!("{d} code {code}"));
                } else if let Some(Unbalanced(net)) = payload.downcast_ref::<Unbalanced>() {
                    seen.push(format!("{d} unbalanced {net}"));
                } else {
                    panic!("desk {d}: a payload of another type");
                }
            }
        }
    }
    assert_eq!(seen, ["0 ok", "1 rejected 2", "2 code 42", "3 unbalanced 100"]);
    // The rejection goes on up, as if the root had not looked, and is
    // caught where the session ends.
    let payload = to_rethrow.expect("desk 1's rejection");
    let caught = catch_unwind(AssertUnwindSafe(|| resume_unwind(payload))).expect_err("resumed");
    assert!(caught.downcast_ref::<Reject>().is_some(), "the same payload came back");
    // Which desk booked first is the schedule's.
    let books = books.lock().expect("desks panic without the lock held");
    let firsts: Vec<u32> = books.iter().map(|(d, _)| *d).fold(Vec::new(), |mut v, d| {
        if !v.contains(&d) {
            v.push(d);
        }
        v
    });
    format!("{}; first bookings {firsts:?}", seen.join(", "))
}

/// Three workers each try eight postings; posting `k` of worker `w` fails
/// (a panic under the lock, poisoning it) when `(w + k) % 5 == 0`. Each
/// worker catches every panic and goes on with the poisoned lock; the
/// failures are reported on a channel from inside the catch.
pub(crate) fn retry_loop() -> String {
    let journal = Arc::new(Mutex::new(Vec::new()));
    let total = Arc::new(AtomicI64::new(0));
    let (fail_tx, fail_rx) = channel::unbounded::<(u32, u32)>();
    let workers: Vec<_> = (0..3u32)
        .map(|w| {
            let (journal, total, fail_tx) = (Arc::clone(&journal), Arc::clone(&total), fail_tx.clone());
            thread::spawn(move || {
                for k in 0..8u32 {
                    let posted = catch_unwind(AssertUnwindSafe(|| {
                        let mut j = journal.lock().unwrap_or_else(|e| e.into_inner());
                        j.push((w, k));
                        if (w + k) % 5 == 0 {
                            panic_any((w, k));
                        }
                        total.fetch_add(i64::from(k), Ordering::SeqCst);
                    }));
                    if let Err(payload) = posted {
                        let at = *payload.downcast_ref::<(u32, u32)>().expect("a (worker, posting) payload");
                        fail_tx.send(at).expect("the root collects failures");
                    }
                }
            })
        })
        .collect();
    drop(fail_tx);
    for w in workers {
        w.join().expect("the worker caught its panics");
    }
    let failures: Vec<(u32, u32)> = fail_rx.iter().collect();
    let mut sorted = failures.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, [(0, 0), (0, 5), (1, 4), (2, 3)]);
    assert!(journal.is_poisoned(), "the failures poisoned the journal");
    let journal = journal.lock().unwrap_or_else(|e| e.into_inner()).clone();
    assert_eq!(journal.len(), 24);
    let expected: i64 = 3 * (0..8).sum::<i64>() - (5 + 4 + 3); // the failed postings' k
    assert_eq!(total.load(Ordering::SeqCst), expected);
    let order: String = journal.iter().map(|(w, _)| char::from(b'a' + *w as u8)).collect();
    format!("failures {failures:?}, journal {order}")
}

/// An overdraft, reported as a payload with no message.
#[derive(Debug)]
#[expect(dead_code, reason = "the amount is for whoever looks at the payload in a debugger")]
struct Overdraft(i64);

/// A planted check-then-act on an account: each withdrawal checks the
/// balance, then takes it off in a second step.
pub(crate) fn overdraft_with_a_struct() {
    let balance = Arc::new(AtomicI64::new(100));
    let withdraw = |balance: Arc<AtomicI64>| {
        move || {
            if balance.load(Ordering::SeqCst) >= 60 {
                thread::yield_now();
                balance.fetch_sub(60, Ordering::SeqCst);
            }
        }
    };
    let t = thread::spawn(withdraw(Arc::clone(&balance)));
    withdraw(Arc::clone(&balance))();
    t.join().expect("the teller ends");
    let left = balance.load(Ordering::SeqCst);
    if left < 0 {
        panic_any(Overdraft(left));
    }
}

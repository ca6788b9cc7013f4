//! Netting buckets on `thread::scope`, the shape README's newest fix
//! touches (a scope's end records joins of the threads nobody joined): a
//! drain thread whose handle is dropped at once; three named buckets
//! (`Builder::spawn_scoped`), each opening a scope of its own whose one
//! thread is joined and one is not, and one of which spawns on the outer
//! scope from inside the inner one; the buckets joined in reverse order
//! but the first, left to the scope's end; then threads spawned after the
//! scope, whose events every view must number after the scope's.
//! `examples/thirteenth_scopes.rs` runs the same program under
//! `reprise::main`.

use reprise::channel;
use reprise::sync::Mutex;
use reprise::thread;

pub(crate) fn netting() -> String {
    let ledger = Mutex::new(Vec::new());
    let (tx, rx) = channel::bounded::<u64>(1);
    let mut totals = [0u64; 3];
    let late = Mutex::new(0u64);
    thread::scope(|s| {
        let (ledger, late) = (&ledger, &late);
        s.spawn(move || {
            for v in rx.iter() {
                ledger.lock().unwrap().push(v);
            }
        });
        let buckets: Vec<_> = totals
            .iter_mut()
            .enumerate()
            .map(|(i, slot)| {
                let tx = tx.clone();
                thread::Builder::new()
                    .name(format!("bucket-{i}"))
                    .spawn_scoped(s, move || {
                        let part = thread::scope(|inner| {
                            let base = inner.spawn(move || (i as u64 + 1) * 10);
                            let tx2 = tx.clone();
                            inner.spawn(move || tx2.send(i as u64 + 100).unwrap());
                            if i == 1 {
                                s.spawn(move || *late.lock().unwrap() += 7);
                            }
                            tx.send(i as u64).unwrap();
                            base.join().unwrap()
                        });
                        *slot = part;
                    })
                    .unwrap()
            })
            .collect();
        drop(tx);
        for b in buckets.into_iter().skip(1).rev() {
            b.join().unwrap();
        }
    });
    let after: Vec<_> = (0..2u64)
        .map(|k| {
            let ledger = &ledger;
            thread::scope(|s| s.spawn(move || ledger.lock().unwrap().len() as u64 + k).join().unwrap())
        })
        .collect();
    let spawned = thread::spawn(|| 5u64).join().unwrap();
    let ledger = ledger.into_inner().unwrap();
    let mut sorted = ledger.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, vec![0, 1, 2, 100, 101, 102]);
    assert_eq!(*late.lock().unwrap(), 7);
    format!("ledger {ledger:?}, totals {totals:?}, after {after:?} {spawned}")
}

/// Two scoped threads nobody joins; the second locks three times.
pub(crate) fn two_unjoined() -> String {
    let m = Mutex::new(Vec::new());
    thread::scope(|s| {
        s.spawn(|| m.lock().unwrap().push(1));
        s.spawn(|| {
            for _ in 0..3 {
                m.lock().unwrap().push(2);
                thread::yield_now();
            }
        });
    });
    let order = m.into_inner().unwrap();
    format!("{order:?}")
}

/// A scoped thread that spawns on its own scope, and is not joined.
pub(crate) fn spawned_on_the_outer_scope() -> String {
    let m = Mutex::new(Vec::new());
    thread::scope(|s| {
        let m = &m;
        s.spawn(move || {
            m.lock().unwrap().push(1);
            s.spawn(move || {
                for _ in 0..3 {
                    m.lock().unwrap().push(2);
                }
            });
        });
    });
    let order = m.into_inner().unwrap();
    format!("{order:?}")
}

/// Two scoped pickers nobody joins take stock from a `reprise::Tracked`
/// count with a read, a yield and a write: a lost update (planted; the
/// stock is checked after the scope). Returns the stock left and whether
/// it is right.
pub(crate) fn scoped_pickers() -> (u32, bool) {
    const STOCK: u32 = 100;
    const PICKS: u32 = 10;
    let stock = reprise::Tracked::new(STOCK);
    thread::scope(|s| {
        for p in 0..2 {
            let stock = &stock;
            thread::Builder::new()
                .name(format!("picker-{p}"))
                .spawn_scoped(s, move || {
                    for _ in 0..PICKS {
                        let left = stock.get();
                        thread::yield_now();
                        stock.set(left - 1);
                    }
                })
                .unwrap();
        }
    });
    let left = stock.get();
    (left, left == STOCK - 2 * PICKS)
}

/// A scoped writer ends the process with `std::process::exit(4)` at its
/// fifth amount, while the root waits at the scope's end and two scoped
/// feeders may still be sending (examples/thirteenth_scopes.rs only: it
/// would end the test process).
#[allow(dead_code)]
pub(crate) fn exit_in_scope() -> String {
    let (tx, rx) = channel::bounded::<u64>(1);
    let total = Mutex::new(0u64);
    thread::scope(|s| {
        for f in 0..2u64 {
            let tx = tx.clone();
            s.spawn(move || {
                for i in 0..6 {
                    if tx.send(f * 10 + i).is_err() {
                        return;
                    }
                }
            });
        }
        drop(tx);
        let total = &total;
        s.spawn(move || {
            for (n, v) in rx.iter().enumerate() {
                *total.lock().unwrap() += v;
                if n == 4 {
                    println!("exit digest {}", *total.lock().unwrap());
                    std::process::exit(4);
                }
            }
        });
    });
    unreachable!("the writer exits the process")
}

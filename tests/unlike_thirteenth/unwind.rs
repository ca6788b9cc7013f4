//! A settlement run where one settler meets a bad instruction and panics
//! holding the ledger's lock: its stack holds a rollback guard whose
//! `Drop`, run by the unwind, locks an exceptions book (a `MutexGuard`
//! taken and dropped inside a `Drop`) and sends a rollback notice on the
//! audit channel (a `Sender` dropped with it), and each settler's
//! `reprise::thread_local!` tally sends its count on the audit channel
//! from its destructor. The settler catches the panic around its batch
//! (reprise's `catch_unwind`) and stops; the other settlers find the
//! ledger poisoned, take it with `PoisonError::into_inner`, repair the
//! half-applied batch and `clear_poison` it.

use std::cell::RefCell;
use std::sync::Arc;

use reprise::channel::{self, Sender};
use reprise::panic::{self, AssertUnwindSafe};
use reprise::sync::Mutex;
use reprise::thread;

struct Ledger {
    balance: i64,
    /// The batch being applied: settled legs are committed when it is
    /// cleared; a poisoned ledger's pending legs are rolled back.
    pending: Vec<i64>,
    repaired: u32,
    /// Who locked it, in order.
    journal: Vec<usize>,
}

/// Sends a rollback notice and books the exception when its settler
/// unwinds.
struct Rollback {
    settler: usize,
    audit: Sender<String>,
    exceptions: Arc<Mutex<Vec<usize>>>,
}

impl Drop for Rollback {
    fn drop(&mut self) {
        if thread::panicking() {
            self.exceptions.lock().unwrap().push(self.settler);
            self.audit.send(format!("rollback by settler {}", self.settler)).unwrap();
        }
    }
}

/// A settler's count of legs, sent when its thread ends.
struct Tally(RefCell<Option<(Sender<String>, usize, u32)>>);

impl Drop for Tally {
    fn drop(&mut self) {
        if let Some((audit, settler, legs)) = self.0.borrow_mut().take() {
            audit.send(format!("settler {settler} tallied {legs}")).unwrap();
        }
    }
}

reprise::thread_local! {
    static TALLY: Tally = Tally(RefCell::new(None));
}

const SETTLERS: usize = 3;
const BAD: usize = 1;

pub(crate) fn settlement() -> String {
    let ledger =
        Arc::new(Mutex::new(Ledger { balance: 0, pending: Vec::new(), repaired: 0, journal: Vec::new() }));
    let exceptions = Arc::new(Mutex::new(Vec::new()));
    let (audit_tx, audit_rx) = channel::unbounded::<String>();
    let auditor = thread::spawn(move || {
        let mut notices: Vec<String> = audit_rx.iter().collect();
        notices.sort();
        notices
    });
    let settlers: Vec<_> = (0..SETTLERS)
        .map(|settler| {
            let (ledger, exceptions, audit) =
                (Arc::clone(&ledger), Arc::clone(&exceptions), audit_tx.clone());
            thread::Builder::new()
                .name(format!("settler-{settler}"))
                .spawn(move || {
                    TALLY.with(|t| *t.0.borrow_mut() = Some((audit.clone(), settler, 0)));
                    for batch in 0..3i64 {
                        let rollback =
                            Rollback { settler, audit: audit.clone(), exceptions: Arc::clone(&exceptions) };
                        let applied = panic::catch_unwind(AssertUnwindSafe(|| {
                            let _rollback = rollback;
                            apply(&ledger, settler, batch)
                        }));
                        if applied.is_err() {
                            audit.send(format!("settler {settler} stopped at batch {batch}")).unwrap();
                            return false;
                        }
                        TALLY.with(|t| {
                            if let Some((_, _, legs)) = t.0.borrow_mut().as_mut() {
                                *legs += 2;
                            }
                        });
                        thread::yield_now();
                    }
                    true
                })
                .unwrap()
        })
        .collect();
    drop(audit_tx);
    let outcomes: Vec<bool> = settlers.into_iter().map(|s| s.join().unwrap()).collect();
    let notices = auditor.join().unwrap();
    let exceptions = exceptions.lock().unwrap().clone();
    let ledger = match ledger.lock() {
        Ok(l) => l,
        Err(poisoned) => poisoned.into_inner(),
    };
    // The bad settler's batch 0 stands, and its batch 1's legs too unless
    // someone locked the ledger after it panicked and rolled them back.
    let good: i64 = (0..SETTLERS as i64)
        .filter(|&s| s != BAD as i64)
        .flat_map(|s| (0..3).flat_map(move |b| (1..=2).map(move |l| (s + 1) * 100 + b * 10 + l)))
        .sum();
    let bad_done: i64 = (1..=2).map(|l| 200 + l).sum::<i64>();
    let expected = good + bad_done + ledger.pending.iter().sum::<i64>();
    assert_eq!(ledger.balance, expected, "a repair lost or doubled a leg");
    assert_eq!(exceptions, vec![BAD]);
    assert_eq!(outcomes, vec![true, false, true]);
    format!(
        "journal {:?}, notices {notices:?}, repaired {}, pending {:?}",
        ledger.journal, ledger.repaired, ledger.pending
    )
}

/// Applies a settler's batch of two legs under the ledger's lock,
/// repairing a poisoned ledger first; the bad settler's second batch
/// panics halfway.
fn apply(ledger: &Mutex<Ledger>, settler: usize, batch: i64) {
    let mut book = match ledger.lock() {
        Ok(book) => book,
        Err(poisoned) => {
            let mut book = poisoned.into_inner();
            let undo: i64 = book.pending.drain(..).sum();
            book.balance -= undo;
            book.repaired += 1;
            ledger.clear_poison();
            book
        }
    };
    book.journal.push(settler);
    for leg in 1..=2 {
        let amount = (settler as i64 + 1) * 100 + batch * 10 + leg;
        book.balance += amount;
        book.pending.push(amount);
        if settler == BAD && batch == 1 && leg == 2 {
            panic!("settler {settler}: a bad instruction");
        }
    }
    book.pending.clear();
}

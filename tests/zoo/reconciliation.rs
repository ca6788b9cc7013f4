//! (12) A reconciliation that reads totals mid-batch: a batch moves 40 from
//! the client account to the nostro account, debit then credit, each account
//! under its own lock; the reconciler sums the two balances, one lock at a
//! time, and can do it between the debit and the credit: the books seem 40
//! short. The fix: the batch holds a write lock on the books across the
//! whole batch, and the reconciler a read lock while it sums.
//!
//! Measured (seed 0): PCT depth 2 found it at schedule 1; over seeds 0-29:
//! median 3.5, at most 26.

use reprise::explore::StrategyKind;
use reprise::sync::{Arc, Mutex, RwLock};
use reprise::thread;

use super::{Bug, Hunt};

const HUNT: Hunt = Hunt::new("reconciliation", StrategyKind::Pct { depth: 2 }, 200);

struct Books {
    client: Mutex<i64>,
    nostro: Mutex<i64>,
    /// Taken for writing by a batch, for reading by a reconciliation, when
    /// `atomic_batches` (the fix).
    batch: RwLock<()>,
    atomic_batches: bool,
}

impl Books {
    fn batch(&self, amount: i64) {
        let _batch = self.atomic_batches.then(|| self.batch.write().unwrap());
        *self.client.lock().unwrap() -= amount;
        *self.nostro.lock().unwrap() += amount;
    }

    fn total(&self) -> i64 {
        let _batch = self.atomic_batches.then(|| self.batch.read().unwrap());
        let client = *self.client.lock().unwrap();
        client + *self.nostro.lock().unwrap()
    }
}

fn day(atomic_batches: bool) {
    let books = Arc::new(Books {
        client: Mutex::new(150),
        nostro: Mutex::new(50),
        batch: RwLock::new(()),
        atomic_batches,
    });
    let batch = {
        let books = Arc::clone(&books);
        thread::spawn(move || books.batch(40))
    };
    let reconciler = {
        let books = Arc::clone(&books);
        thread::spawn(move || books.total())
    };
    batch.join().unwrap();
    let total = reconciler.join().unwrap();
    assert_eq!(total, 200, "reconciliation break: total {total}, the books say 200");
}

fn buggy() {
    day(false)
}

fn fixed() {
    day(true)
}

#[test]
fn reconciliation_reading_totals_mid_batch_is_found_by_pct_within_200_schedules() {
    HUNT.finds(Bug::Panics("reconciliation break"), buggy);
}

#[test]
fn fixed_reconciliation_passes_200_schedules() {
    HUNT.passes(fixed);
}

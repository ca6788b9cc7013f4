//! An atomic's modification order in record mode: a per-object sequence
//! lock makes "do the operation" and "take its store number" one step.
//!
//! Only a store or read-modify-write takes the lock: a load reads the
//! sequence, the value, and the sequence again, and keeps the value when the
//! sequence did not move (the store it read is then the last one numbered);
//! loads of one atomic never wait for each other.
//!
//! This is a concurrent structure reprise itself relies on, so it is written
//! against `rt::primitive` atomics, which are loom's under `--cfg reprise_loom`
//! (see the loom tests).

use crate::rt::primitive::{fence, spin_wait, AtomicU64, Ordering};

/// A sequence lock whose even values count the stores.
#[derive(Debug)]
pub(crate) struct ModificationOrder {
    /// `2 * stores` while free; odd while a writer holds it.
    seq: AtomicU64,
}

impl ModificationOrder {
    #[cfg(not(reprise_loom))]
    pub(crate) const fn new() -> ModificationOrder {
        ModificationOrder { seq: AtomicU64::new(0) }
    }

    #[cfg(reprise_loom)]
    pub(crate) fn new() -> ModificationOrder {
        ModificationOrder { seq: AtomicU64::new(0) }
    }

    /// Runs `op` while holding the lock; `store` says whether it wrote.
    /// Returns its result and its store number (or, when it did not write,
    /// the number of the store it read).
    #[inline]
    pub(crate) fn serialized<R>(&self, store: impl FnOnce(&R) -> bool, op: impl FnOnce() -> R) -> (R, u64) {
        let mut spins = 0u32;
        let held = loop {
            let seq = self.seq.load(Ordering::Relaxed);
            if seq & 1 == 0
                && self.seq.compare_exchange_weak(seq, seq + 1, Ordering::Acquire, Ordering::Relaxed).is_ok()
            {
                break seq;
            }
            spins += 1;
            spin_wait(spins);
        };
        // A load that sees what `op` writes must then see the odd sequence.
        fence(Ordering::Release);
        let result = op();
        let n = held / 2 + u64::from(store(&result));
        self.seq.store(2 * n, Ordering::Release);
        (result, n)
    }

    /// Runs the load `op` without the lock; returns its value and the number
    /// of the store it read. Retries while a writer holds the lock or
    /// finished between the two reads of the sequence.
    #[inline]
    pub(crate) fn read<R>(&self, op: impl Fn() -> R) -> (R, u64) {
        let mut spins = 0u32;
        loop {
            let before = self.seq.load(Ordering::Acquire);
            if before & 1 == 0 {
                let value = op();
                // If `op` read a writer's value, the writer's release fence
                // makes its odd sequence visible to the load below.
                fence(Ordering::Acquire);
                if self.seq.load(Ordering::Relaxed) == before {
                    return (value, before / 2);
                }
            }
            spins += 1;
            spin_wait(spins);
        }
    }
}

#[cfg(all(test, reprise_loom))]
mod loom_tests {
    //! `RUSTFLAGS="--cfg reprise_loom" cargo test -p reprise-recorder --lib loom_tests`

    use super::ModificationOrder;
    use loom::sync::atomic::{AtomicU64, Ordering};
    use loom::sync::Arc;
    use loom::thread;

    /// The shared state: the lock and the atomic it orders. Every store
    /// writes its own store number (an increment from 0), so each result
    /// can be checked against the number `serialized` gave it.
    type Shared = Arc<(ModificationOrder, AtomicU64)>;

    /// `threads - 1` spawned threads each increment then load; the model's
    /// own thread loads, then compare-exchanges (a store only when it
    /// succeeds). Checks every outcome against its store number.
    fn check(threads: usize, max_preemptions: usize) {
        let mut builder = loom::model::Builder::new();
        let bound = builder.preemption_bound.get_or_insert(2);
        *bound = (*bound).min(max_preemptions);
        let executions = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = std::sync::Arc::clone(&executions);
        builder.check(move || {
            counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let shared: Shared = Arc::new((ModificationOrder::new(), AtomicU64::new(0)));
            let workers: Vec<_> = (1..threads)
                .map(|_| {
                    let shared = Arc::clone(&shared);
                    thread::spawn(move || increment_then_load(&shared))
                })
                .collect();
            let (order, value) = &*shared;
            let (seen, read) = order.read(|| value.load(Ordering::Relaxed));
            assert_eq!(seen, read, "a load is given the number of the store whose value it read");
            let (result, number) = order.serialized(
                |r: &Result<u64, u64>| r.is_ok(),
                || value.compare_exchange(seen, seen + 1, Ordering::Relaxed, Ordering::Relaxed),
            );
            let mut stores: Vec<u64> = match result {
                Ok(previous) => {
                    assert_eq!(previous + 1, number, "a successful exchange is the next store");
                    vec![number]
                }
                Err(current) => {
                    assert_eq!(current, number, "a failed exchange names the store it read");
                    vec![]
                }
            };
            stores.extend(workers.into_iter().map(|w| w.join().unwrap()));
            stores.sort_unstable();
            let total = value.load(Ordering::Relaxed);
            assert_eq!(stores, (1..=total).collect::<Vec<_>>(), "store numbers are 1..=n, each once");
        });
        eprintln!("ModificationOrder, {threads} threads: {executions:?} executions");
    }

    /// An increment, then a load: the increment's store number.
    fn increment_then_load(shared: &Shared) -> u64 {
        let (order, value) = &**shared;
        let (previous, stored) = order.serialized(|_| true, || value.fetch_add(1, Ordering::Relaxed));
        assert_eq!(previous + 1, stored, "a store's number is one past the value it replaced");
        let (seen, read) = order.read(|| value.load(Ordering::Relaxed));
        assert_eq!(seen, read, "a load is given the number of the store whose value it read");
        assert!(read >= stored, "a thread reads its own store or a later one, never an earlier one");
        stored
    }

    #[test]
    fn serialized_store_numbers_are_distinct_gap_free_and_match_the_values() {
        check(2, usize::MAX);
    }

    /// Three threads spinning on the lock, with at most one preemption: with
    /// two, loom's search schedules two yielding spinners in alternation
    /// while the holder waits, and gives up at its branch limit.
    #[test]
    fn serialized_store_numbers_stay_gap_free_with_three_threads() {
        check(3, 1);
    }
}

//! (7) Split read-modify-write on an atomic counter: two order gateways take
//! trade ids from a shared sequence with a load and a store instead of one
//! `fetch_add`; both can load the same value and stamp two trades with the
//! same id.
//!
//! Measured (seed 0): random found it at schedule 0; over seeds 0-29:
//! median 1, at most 16.

use reprise::explore::StrategyKind;
use reprise::sync::atomic::{AtomicU64, Ordering};
use reprise::sync::Arc;
use reprise::thread;

use super::{Bug, Hunt};

const HUNT: Hunt = Hunt::new("split_counter", StrategyKind::Random, 200);

/// Each atomic operation is SeqCst, but the pair is not one operation.
fn next_id_split(sequence: &AtomicU64) -> u64 {
    let id = sequence.load(Ordering::SeqCst);
    sequence.store(id + 1, Ordering::SeqCst);
    id
}

fn next_id(sequence: &AtomicU64) -> u64 {
    sequence.fetch_add(1, Ordering::SeqCst)
}

fn gateways(next: fn(&AtomicU64) -> u64) {
    let sequence = Arc::new(AtomicU64::new(1000));
    let gateways: Vec<_> = (0..2)
        .map(|_| {
            let sequence = Arc::clone(&sequence);
            thread::spawn(move || next(&sequence))
        })
        .collect();
    let ids: Vec<u64> = gateways.into_iter().map(|g| g.join().unwrap()).collect();
    assert_ne!(ids[0], ids[1], "duplicate trade id {}", ids[0]);
    assert_eq!(sequence.load(Ordering::SeqCst), 1002, "the sequence skipped or repeated");
}

fn buggy() {
    gateways(next_id_split)
}

fn fixed() {
    gateways(next_id)
}

#[test]
fn split_atomic_increment_is_found_by_random_within_200_schedules() {
    HUNT.finds(Bug::Panics("duplicate trade id"), buggy);
}

#[test]
fn fixed_atomic_increment_passes_200_schedules() {
    HUNT.passes(fixed);
}

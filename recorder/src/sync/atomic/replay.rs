//! Atomics in replay (gated) mode: stores and read-modify-writes are
//! admitted in recorded order; a load waits for the store it read and
//! returns the recorded value. The real atomic is kept in step by each
//! store, so passthrough after a stopped replay sees a plausible value.

use std::panic::Location;

use super::{Order, Value};
use crate::rt::gated::{self, GatedCall};
use crate::trace::model::{ObjectKind, Op, Outcome};

/// The gated call of `op` and its recorded outcome; `None`: pass through.
fn begin(order: &Order, op: Op, location: &'static Location<'static>) -> Option<(GatedCall, Outcome)> {
    let call = gated::begin(op, Some((&order.slot, ObjectKind::Atomic)), location)?;
    let outcome = call.outcome()?;
    Some((call, outcome))
}

pub(super) fn load<V: Value>(
    order: &Order,
    location: &'static Location<'static>,
    load: impl FnOnce() -> V,
) -> V {
    match begin(order, Op::AtomicLoad, location) {
        Some((call, outcome @ Outcome::AtomicLoad { value, .. })) => {
            call.wait_for_outcome(&outcome);
            V::from_bits(value)
        }
        _ => load(),
    }
}

pub(super) fn store(order: &Order, location: &'static Location<'static>, store: impl FnOnce()) {
    let Some((call, outcome)) = begin(order, Op::AtomicStore, location) else {
        return store();
    };
    call.wait_for_outcome(&outcome);
    store();
    call.announce(&outcome);
}

pub(super) fn rmw<V: Value>(
    order: &Order,
    location: &'static Location<'static>,
    rmw: impl FnOnce() -> V,
) -> V {
    match begin(order, Op::AtomicRmw, location) {
        Some((call, outcome @ Outcome::AtomicRmw { previous, .. })) => {
            call.wait_for_outcome(&outcome);
            rmw();
            call.announce(&outcome);
            V::from_bits(previous)
        }
        _ => rmw(),
    }
}

/// `store_new` writes the exchange's new value: a recorded success stores it
/// whatever the real atomic holds, a recorded failure (spurious ones too)
/// stores nothing.
pub(super) fn cas<V: Value>(
    order: &Order,
    location: &'static Location<'static>,
    store_new: impl FnOnce(),
    cas: impl FnOnce() -> Result<V, V>,
) -> Result<V, V> {
    match begin(order, Op::AtomicCas, location) {
        Some((call, outcome @ Outcome::AtomicCas { seen, succeeded, .. })) => {
            call.wait_for_outcome(&outcome);
            let seen = V::from_bits(seen);
            if succeeded {
                store_new();
                call.announce(&outcome);
                Ok(seen)
            } else {
                Err(seen)
            }
        }
        _ => cas(),
    }
}

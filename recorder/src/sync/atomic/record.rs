//! Atomics in record mode: each operation and its place in the object's
//! modification order are taken in one step (the per-object spin lock of
//! [`ModificationOrder`](crate::rt::order::ModificationOrder)), then recorded.

use std::panic::Location;

use super::{Order, Value};
use crate::rt::context;
use crate::trace::model::{ObjectKind, Outcome};

impl Order {
    /// Appends `outcome` on this atomic to the thread's log.
    #[inline]
    fn record(&self, outcome: Outcome, location: &'static Location<'static>) {
        context::with(|ctx| {
            let object = ctx.object(&self.slot, ObjectKind::Atomic, location);
            ctx.record_outcome(outcome, object, location);
        });
    }
}

#[inline]
pub(super) fn load<V: Value>(
    order: &Order,
    location: &'static Location<'static>,
    load: impl FnOnce() -> V,
) -> V {
    let (value, store) = order.order.serialized(|_| false, load);
    order.record(Outcome::AtomicLoad { store, value: value.to_bits() }, location);
    value
}

#[inline]
pub(super) fn store(order: &Order, location: &'static Location<'static>, store: impl FnOnce()) {
    let ((), number) = order.order.serialized(|_| true, store);
    order.record(Outcome::AtomicStore { store: number }, location);
}

#[inline]
pub(super) fn rmw<V: Value>(
    order: &Order,
    location: &'static Location<'static>,
    rmw: impl FnOnce() -> V,
) -> V {
    let (previous, store) = order.order.serialized(|_| true, rmw);
    order.record(Outcome::AtomicRmw { store, previous: previous.to_bits() }, location);
    previous
}

#[inline]
pub(super) fn cas<V: Value>(
    order: &Order,
    location: &'static Location<'static>,
    cas: impl FnOnce() -> Result<V, V>,
) -> Result<V, V> {
    let (result, store) = order.order.serialized(|r: &Result<V, V>| r.is_ok(), cas);
    let (seen, succeeded) = match result {
        Ok(v) => (v, true),
        Err(v) => (v, false),
    };
    order.record(Outcome::AtomicCas { store, seen: seen.to_bits(), succeeded }, location);
    result
}

//! Atomics in record mode: each operation and its place in the object's
//! modification order are taken in one step (the per-object sequence lock
//! of [`ModificationOrder`](crate::rt::order::ModificationOrder): stores and
//! read-modify-writes hold it, loads only read it), then recorded.

use std::panic::Location;

use super::{Order, Value};
use crate::rt::context;
use crate::trace::model::{ObjectKind, Outcome};

impl Order {
    /// Appends `outcome()` on this atomic to the thread's log. A closure, not
    /// a value: each operation then gets its own instance of the context
    /// visit, in which the outcome's variant is known and its encoding folds
    /// away (one shared instance would match on it at every event).
    #[inline(always)]
    fn record(&self, location: &'static Location<'static>, outcome: impl FnOnce() -> Outcome) {
        context::with(|ctx| {
            let object = ctx.object(&self.slot, ObjectKind::Atomic, location);
            ctx.record_outcome(outcome(), object, location);
        });
    }
}

#[inline]
pub(super) fn load<V: Value>(order: &Order, location: &'static Location<'static>, load: impl Fn() -> V) -> V {
    // Lock-free: a load may run more than once, and keeps the run that no
    // store overlapped.
    let (value, store) = order.order.read(load);
    order.record(location, || Outcome::AtomicLoad { store, value: value.to_bits() });
    value
}

#[inline]
pub(super) fn store(order: &Order, location: &'static Location<'static>, store: impl FnOnce()) {
    let ((), number) = order.order.serialized(|_| true, store);
    order.record(location, || Outcome::AtomicStore { store: number });
}

#[inline]
pub(super) fn rmw<V: Value>(
    order: &Order,
    location: &'static Location<'static>,
    rmw: impl FnOnce() -> V,
) -> V {
    let (previous, store) = order.order.serialized(|_| true, rmw);
    order.record(location, || Outcome::AtomicRmw { store, previous: previous.to_bits() });
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
    order.record(location, || Outcome::AtomicCas { store, seen: seen.to_bits(), succeeded });
    result
}

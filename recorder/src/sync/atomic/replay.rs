//! Atomics in replay (gated) mode: stores and read-modify-writes are
//! admitted in recorded order; a load waits for the store it read and
//! returns that store's value (`history.rs`: the recorded bits, or for a
//! pointer this run's address). The real atomic is kept in step by each
//! store, so passthrough after a stopped replay sees a plausible value.
//! Each store tells the gate the bits it wrote, and a read compares them
//! with the recorded value while that store is the last one: a program
//! that computes another value than when recorded diverges there instead
//! of being handed the recorded one.

use std::panic::Location;

use super::history::History;
use super::Order;
use crate::rt::gated::{self, GatedCall};
use crate::trace::model::{ObjectKind, Op, Outcome};

/// The gated call of `op` and its recorded outcome; `None`: pass through.
fn begin(order: &Order, op: Op, location: &'static Location<'static>) -> Option<(GatedCall, Outcome)> {
    let call = gated::begin(op, Some((&order.slot, ObjectKind::Atomic)), location)?;
    let outcome = call.outcome()?;
    Some((call, outcome))
}

/// The real atomic, read by `current`, and this object's history.
pub(super) struct Real<'a, H, C> {
    pub(super) history: &'a H,
    pub(super) current: C,
}

pub(super) fn load<V, H: History<V>>(
    order: &Order,
    real: Real<'_, H, impl Fn() -> V>,
    location: &'static Location<'static>,
) -> V {
    match begin(order, Op::AtomicLoad, location) {
        Some((call, outcome @ Outcome::AtomicLoad { store, value })) => {
            if !call.wait_for_outcome(&outcome) || !call.check_read(store, value) {
                return (real.current)();
            }
            real.history.read(store, value, real.current)
        }
        _ => (real.current)(),
    }
}

pub(super) fn store<V, H: History<V>>(
    order: &Order,
    real: Real<'_, H, impl Fn() -> V>,
    location: &'static Location<'static>,
    store: impl FnOnce(),
) {
    match begin(order, Op::AtomicStore, location) {
        Some((call, outcome @ Outcome::AtomicStore { store: number })) => {
            call.wait_for_outcome(&outcome);
            real.history.modify(number, &real.current, store);
            tell_stored(&call, &real, number);
            call.announce(&outcome);
        }
        Some((call, outcome)) => {
            call.wait_for_outcome(&outcome);
            store();
            call.announce(&outcome);
        }
        None => store(),
    }
}

pub(super) fn rmw<V, H: History<V>>(
    order: &Order,
    real: Real<'_, H, impl Fn() -> V>,
    location: &'static Location<'static>,
    rmw: impl FnOnce() -> V,
) -> V {
    match begin(order, Op::AtomicRmw, location) {
        Some((call, outcome @ Outcome::AtomicRmw { store, previous })) => {
            if !call.wait_for_outcome(&outcome) || !call.check_read(store.wrapping_sub(1), previous) {
                return rmw();
            }
            let got = real.history.modify(store, &real.current, rmw);
            tell_stored(&call, &real, store);
            call.announce(&outcome);
            real.history.read(store.wrapping_sub(1), previous, || got)
        }
        _ => rmw(),
    }
}

/// `store_new` writes the exchange's new value: a recorded success stores it
/// whatever the real atomic holds, a recorded failure (spurious ones too)
/// stores nothing.
pub(super) fn cas<V, H: History<V>>(
    order: &Order,
    real: Real<'_, H, impl Fn() -> V>,
    location: &'static Location<'static>,
    store_new: impl FnOnce(),
    cas: impl FnOnce() -> Result<V, V>,
) -> Result<V, V> {
    match begin(order, Op::AtomicCas, location) {
        Some((call, outcome @ Outcome::AtomicCas { store, seen, succeeded })) => {
            // A success read the store before its own, a failure the one it
            // names.
            let read = if succeeded { store.wrapping_sub(1) } else { store };
            if !call.wait_for_outcome(&outcome) || !call.check_read(read, seen) {
                return cas();
            }
            if succeeded {
                let before = real.history.modify(store, &real.current, || {
                    let before = (real.current)();
                    store_new();
                    before
                });
                tell_stored(&call, &real, store);
                call.announce(&outcome);
                Ok(real.history.read(read, seen, || before))
            } else {
                Err(real.history.read(read, seen, real.current))
            }
        }
        _ => cas(),
    }
}

/// Tells the gate the bits store number `store` wrote, read back from the
/// real atomic: no other store is admitted before this one is announced.
fn tell_stored<V, H: History<V>>(call: &GatedCall, real: &Real<'_, H, impl Fn() -> V>, store: u64) {
    if let Some(bits) = real.history.comparable((real.current)()) {
        call.stored(store, bits);
    }
}

/// The value was changed without an event (`get_mut`): the last store's
/// bits the gate holds are no longer what a load reads.
pub(super) fn changed_without_event(order: &Order) {
    if let Some(object) = gated::object_of(&order.slot) {
        gated::forget_stored(object);
    }
}

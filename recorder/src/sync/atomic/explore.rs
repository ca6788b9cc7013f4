//! Atomics in explore (cooperative) mode: a scheduling point before each
//! operation, then the operation recorded as in record mode.

use std::panic::Location;

use super::{record, Order, Value};
use crate::rt::coop;
use crate::trace::model::{ObjectKind, Op};

fn switch(order: &Order, op: Op, location: &'static Location<'static>) {
    coop::switch_on(&order.slot, ObjectKind::Atomic, op, location);
}

pub(super) fn load<V: Value>(order: &Order, location: &'static Location<'static>, load: impl Fn() -> V) -> V {
    switch(order, Op::AtomicLoad, location);
    record::load(order, location, load)
}

pub(super) fn store(order: &Order, location: &'static Location<'static>, store: impl FnOnce()) {
    switch(order, Op::AtomicStore, location);
    record::store(order, location, store);
}

pub(super) fn rmw<V: Value>(
    order: &Order,
    location: &'static Location<'static>,
    rmw: impl FnOnce() -> V,
) -> V {
    switch(order, Op::AtomicRmw, location);
    record::rmw(order, location, rmw)
}

pub(super) fn cas<V: Value>(
    order: &Order,
    location: &'static Location<'static>,
    cas: impl FnOnce() -> Result<V, V>,
) -> Result<V, V> {
    switch(order, Op::AtomicCas, location);
    record::cas(order, location, cas)
}

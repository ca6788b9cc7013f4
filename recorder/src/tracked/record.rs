//! A tracked cell in record mode: the access's number is taken and the
//! event recorded while holding the cell's lock, so the trace's order of
//! accesses is the order they happened in.

use std::panic::Location;

use super::{Access, Tracked};
use crate::rt::context;
use crate::trace::model::ObjectKind;

pub(super) fn access<T, R>(
    cell: &Tracked<T>,
    access: Access,
    location: &'static Location<'static>,
    f: impl FnOnce(&mut T) -> R,
) -> R {
    let mut held = cell.lock();
    held.1 += 1;
    let number = held.1;
    let result = f(&mut held.0);
    context::with(|ctx| {
        let object = ctx.object(&cell.slot, ObjectKind::Tracked, location);
        ctx.record_outcome(access.outcome(number), object, location);
    });
    result
}

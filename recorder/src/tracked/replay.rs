//! A tracked cell in replay: each access waits for its recorded turn among
//! the cell's accesses, then happens.

use std::panic::Location;

use super::{Access, Tracked};
use crate::rt::gated;
use crate::trace::model::ObjectKind;

pub(super) fn access<T, R>(
    cell: &Tracked<T>,
    access: Access,
    location: &'static Location<'static>,
    f: impl FnOnce(&mut T) -> R,
) -> R {
    let gated = gated::begin(access.op(), Some((&cell.slot, ObjectKind::Tracked)), location)
        .and_then(|call| call.outcome().map(|outcome| (call, outcome)));
    let Some((call, outcome)) = gated else {
        return f(&mut cell.lock().0);
    };
    call.wait_for_outcome(&outcome);
    let result = {
        let mut held = cell.lock();
        held.1 += 1;
        f(&mut held.0)
    };
    call.announce(&outcome);
    result
}

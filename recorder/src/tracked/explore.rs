//! A tracked cell under the explorer: a scheduling point before each
//! access, so the explorer can put another thread's access between two of
//! this thread's; then the access recorded as in record mode.

use std::panic::Location;

use super::{record, Access, Tracked};
use crate::rt::coop;
use crate::trace::model::ObjectKind;

pub(super) fn access<T, R>(
    cell: &Tracked<T>,
    access: Access,
    location: &'static Location<'static>,
    f: impl FnOnce(&mut T) -> R,
) -> R {
    coop::switch_on(&cell.slot, ObjectKind::Tracked, access.op(), location);
    record::access(cell, access, location, f)
}

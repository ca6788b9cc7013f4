//! Randomness in record mode: the thread's own seeded stream, each draw
//! recorded.

use std::panic::Location;

use crate::rt::context;
use crate::trace::model::Outcome;

#[inline]
pub(super) fn u64(location: &'static Location<'static>) -> u64 {
    context::with(|ctx| {
        let value = ctx.next_random();
        ctx.record_outcome(Outcome::Random { value }, 0, location);
        value
    })
}

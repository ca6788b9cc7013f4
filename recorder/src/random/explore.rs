//! Randomness under the explorer: the thread's own seeded stream, each draw
//! recorded; under a coroutine replay, the recorded draw.

use std::panic::Location;

use crate::rt::{context, coop};
use crate::trace::model::{Op, Outcome};

pub(super) fn u64(location: &'static Location<'static>) -> u64 {
    let served = coop::served(Op::Random);
    context::with(|ctx| {
        let value = match served {
            Some(Outcome::Random { value }) => value,
            _ => ctx.next_random(),
        };
        ctx.record_outcome(Outcome::Random { value }, 0, location);
        value
    })
}

//! Randomness in replay: the recorded draw.

use std::panic::Location;

use crate::rt::gated;
use crate::trace::model::{Op, Outcome};

pub(super) fn u64(location: &'static Location<'static>) -> u64 {
    match gated::begin(Op::Random, None, location).and_then(|call| call.outcome()) {
        Some(Outcome::Random { value }) => value,
        // The replay stopped and this thread is unwinding: any value will do.
        _ => 0,
    }
}

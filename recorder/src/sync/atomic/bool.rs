//! `AtomicBool`.

use std::fmt;
#[cfg(not(reprise_loom))]
use std::panic::Location;

#[cfg(not(reprise_loom))]
use super::history::{Bits, History};
use super::Ordering;
#[cfg(not(reprise_loom))]
use super::{explore, record, replay, Order};
use crate::rt::mode::{self, Mode};

#[cfg(reprise_loom)]
use super::loom as inner;
#[cfg(not(reprise_loom))]
use std::sync::atomic as inner;

/// An atomic `bool` whose every access is an event. Like std's.
pub struct AtomicBool {
    #[cfg(not(reprise_loom))]
    order: Order,
    inner: inner::AtomicBool,
}

atomic_shell!([] AtomicBool, inner::AtomicBool, bool);

impl AtomicBool {
    /// A new atomic. `const`, so it can live in a `static` (under loom,
    /// create it inside the model).
    #[track_caller]
    pub const fn new(value: bool) -> Self {
        Self {
            #[cfg(not(reprise_loom))]
            order: Order::new(),
            inner: inner::AtomicBool::new(value),
        }
    }

    /// Replay hands back the recorded value.
    #[cfg(not(reprise_loom))]
    fn history(&self) -> &Bits {
        &Bits
    }

    /// Nothing remembered.
    fn forget_history(&mut self) {}

    /// Logical and, returning the previous value.
    #[track_caller]
    pub fn fetch_and(&self, value: bool, order: Ordering) -> bool {
        self.rmw(|a| a.fetch_and(value, order))
    }

    /// Logical nand, returning the previous value.
    #[track_caller]
    pub fn fetch_nand(&self, value: bool, order: Ordering) -> bool {
        self.rmw(|a| a.fetch_nand(value, order))
    }

    /// Logical or, returning the previous value.
    #[track_caller]
    pub fn fetch_or(&self, value: bool, order: Ordering) -> bool {
        self.rmw(|a| a.fetch_or(value, order))
    }

    /// Logical xor, returning the previous value.
    #[track_caller]
    pub fn fetch_xor(&self, value: bool, order: Ordering) -> bool {
        self.rmw(|a| a.fetch_xor(value, order))
    }

    /// Logical not, returning the previous value.
    #[track_caller]
    pub fn fetch_not(&self, order: Ordering) -> bool {
        self.rmw(|a| a.fetch_xor(true, order))
    }
}

impl Default for AtomicBool {
    #[track_caller]
    fn default() -> Self {
        Self::new(false)
    }
}

impl From<bool> for AtomicBool {
    #[track_caller]
    fn from(value: bool) -> Self {
        Self::new(value)
    }
}

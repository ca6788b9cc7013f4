//! The integer atomics, `AtomicI8` to `AtomicUsize`: one macro for all.

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

macro_rules! atomic_int {
    ($($name:ident($t:ty)),* $(,)?) => {$(
        /// An atomic integer whose every access is an event. Like the std
        /// type of the same name.
        pub struct $name {
            #[cfg(not(reprise_loom))]
            order: Order,
            inner: inner::$name,
        }

        atomic_shell!([] $name, inner::$name, $t);

        impl $name {
            /// A new atomic. `const`, so it can live in a `static` (under
            /// loom, create it inside the model).
            #[track_caller]
            pub const fn new(value: $t) -> Self {
                Self {
                    #[cfg(not(reprise_loom))]
                    order: Order::new(),
                    inner: inner::$name::new(value),
                }
            }

            /// Replay hands back the recorded value.
            #[cfg(not(reprise_loom))]
            fn history(&self) -> &Bits {
                &Bits
            }

            /// Nothing remembered.
            fn forget_history(&mut self) {}

            /// Adds (wrapping), returning the previous value.
            #[track_caller]
            pub fn fetch_add(&self, value: $t, order: Ordering) -> $t {
                self.rmw(|a| a.fetch_add(value, order))
            }

            /// Subtracts (wrapping), returning the previous value.
            #[track_caller]
            pub fn fetch_sub(&self, value: $t, order: Ordering) -> $t {
                self.rmw(|a| a.fetch_sub(value, order))
            }

            /// Bitwise and, returning the previous value.
            #[track_caller]
            pub fn fetch_and(&self, value: $t, order: Ordering) -> $t {
                self.rmw(|a| a.fetch_and(value, order))
            }

            /// Bitwise nand, returning the previous value.
            #[track_caller]
            pub fn fetch_nand(&self, value: $t, order: Ordering) -> $t {
                self.rmw(|a| a.fetch_nand(value, order))
            }

            /// Bitwise or, returning the previous value.
            #[track_caller]
            pub fn fetch_or(&self, value: $t, order: Ordering) -> $t {
                self.rmw(|a| a.fetch_or(value, order))
            }

            /// Bitwise xor, returning the previous value.
            #[track_caller]
            pub fn fetch_xor(&self, value: $t, order: Ordering) -> $t {
                self.rmw(|a| a.fetch_xor(value, order))
            }

            /// Takes the maximum, returning the previous value.
            #[track_caller]
            pub fn fetch_max(&self, value: $t, order: Ordering) -> $t {
                self.rmw(|a| a.fetch_max(value, order))
            }

            /// Takes the minimum, returning the previous value.
            #[track_caller]
            pub fn fetch_min(&self, value: $t, order: Ordering) -> $t {
                self.rmw(|a| a.fetch_min(value, order))
            }
        }

        impl Default for $name {
            #[track_caller]
            fn default() -> Self {
                Self::new(<$t>::default())
            }
        }

        impl From<$t> for $name {
            #[track_caller]
            fn from(value: $t) -> Self {
                Self::new(value)
            }
        }
    )*};
}

atomic_int!(
    AtomicI8(i8),
    AtomicU8(u8),
    AtomicI16(i16),
    AtomicU16(u16),
    AtomicI32(i32),
    AtomicU32(u32),
    AtomicI64(i64),
    AtomicU64(u64),
    AtomicIsize(isize),
    AtomicUsize(usize),
);

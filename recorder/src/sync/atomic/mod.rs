//! Atomics: every store and read-modify-write takes a place in the object's
//! modification order; every load records which store it read and the value.
//!
//! In record mode a tiny per-object spin lock makes "do the operation" and
//! "take its number" one step. Replay admits stores in recorded order and
//! hands each load its recorded value once the store it read is in, so data
//! published before a `Release` store is there when the `Acquire` load returns.
//!
//! This file is the std-shaped shell; the backends are `record.rs`,
//! `replay.rs` and `explore.rs` (passthrough is inline). Under
//! `--cfg reprise_loom` the inner atomics are loom's (`loom.rs`): loom
//! explores every value a load may return under the given orderings (C11's
//! memory model), so a missing `Acquire`/`Release` pair is found.

#[cfg(not(reprise_loom))]
mod explore;
#[cfg(reprise_loom)]
mod loom;
#[cfg(not(reprise_loom))]
mod record;
#[cfg(not(reprise_loom))]
mod replay;

use std::fmt;
#[cfg(not(reprise_loom))]
use std::panic::Location;

#[cfg(reprise_loom)]
pub use ::loom::sync::atomic::fence;
#[cfg(not(reprise_loom))]
pub use std::sync::atomic::fence;
pub use std::sync::atomic::Ordering;

use crate::rt::mode::{self, Mode};
#[cfg(not(reprise_loom))]
use crate::rt::object::ObjectSlot;
#[cfg(not(reprise_loom))]
use crate::rt::order::ModificationOrder;

#[cfg(reprise_loom)]
use self::loom as inner;
#[cfg(not(reprise_loom))]
use std::sync::atomic as inner;

/// The record-mode bookkeeping every atomic carries.
#[cfg(not(reprise_loom))]
struct Order {
    slot: ObjectSlot,
    order: ModificationOrder,
}

#[cfg(not(reprise_loom))]
impl Order {
    const fn new() -> Order {
        Order { slot: ObjectSlot::new(), order: ModificationOrder::new() }
    }
}

/// An atomic's value as the trace stores it: 64 bits.
#[cfg(not(reprise_loom))]
trait Value: Copy {
    fn to_bits(self) -> u64;
    fn from_bits(bits: u64) -> Self;
}

macro_rules! value_as_bits {
    ($($t:ty),*) => {$(
        #[cfg(not(reprise_loom))]
        impl Value for $t {
            fn to_bits(self) -> u64 {
                self as u64
            }
            fn from_bits(bits: u64) -> Self {
                bits as $t
            }
        }
    )*};
}

value_as_bits!(u64, i64, usize, u32);

#[cfg(not(reprise_loom))]
impl Value for bool {
    fn to_bits(self) -> u64 {
        u64::from(self)
    }
    fn from_bits(bits: u64) -> Self {
        bits != 0
    }
}

macro_rules! atomic_common {
    ($name:ident, $t:ty) => {
        /// An atomic whose every access is an event. Like the std type of the
        /// same name.
        pub struct $name {
            #[cfg(not(reprise_loom))]
            order: Order,
            inner: inner::$name,
        }

        impl $name {
            /// A new atomic. `const`, so it can live in a `static` (under
            /// loom, create it inside the model).
            pub const fn new(value: $t) -> Self {
                $name {
                    #[cfg(not(reprise_loom))]
                    order: Order::new(),
                    inner: inner::$name::new(value),
                }
            }

            /// Loads the value.
            #[track_caller]
            pub fn load(&self, order: Ordering) -> $t {
                // Passthrough calls the inner atomic directly, so that under
                // loom its panics point at the caller.
                #[cfg(not(reprise_loom))]
                let load = || self.inner.load(order);
                match mode::mode() {
                    Mode::Off => self.inner.load(order),
                    #[cfg(not(reprise_loom))]
                    Mode::Record => record::load(&self.order, Location::caller(), load),
                    #[cfg(not(reprise_loom))]
                    Mode::Gated => replay::load(&self.order, Location::caller(), load),
                    #[cfg(not(reprise_loom))]
                    Mode::Coop => explore::load(&self.order, Location::caller(), load),
                }
            }

            /// Stores a value.
            #[track_caller]
            pub fn store(&self, value: $t, order: Ordering) {
                #[cfg(not(reprise_loom))]
                let store = || self.inner.store(value, order);
                match mode::mode() {
                    Mode::Off => self.inner.store(value, order),
                    #[cfg(not(reprise_loom))]
                    Mode::Record => record::store(&self.order, Location::caller(), store),
                    #[cfg(not(reprise_loom))]
                    Mode::Gated => replay::store(&self.order, Location::caller(), store),
                    #[cfg(not(reprise_loom))]
                    Mode::Coop => explore::store(&self.order, Location::caller(), store),
                }
            }

            /// A read-modify-write: `op` on the inner atomic, returning the
            /// previous value.
            #[inline]
            #[track_caller]
            fn rmw(&self, op: impl Fn(&inner::$name) -> $t) -> $t {
                #[cfg(not(reprise_loom))]
                let rmw = || op(&self.inner);
                match mode::mode() {
                    Mode::Off => op(&self.inner),
                    #[cfg(not(reprise_loom))]
                    Mode::Record => record::rmw(&self.order, Location::caller(), rmw),
                    #[cfg(not(reprise_loom))]
                    Mode::Gated => replay::rmw(&self.order, Location::caller(), rmw),
                    #[cfg(not(reprise_loom))]
                    Mode::Coop => explore::rmw(&self.order, Location::caller(), rmw),
                }
            }

            /// Swaps the value, returning the previous one.
            #[track_caller]
            pub fn swap(&self, value: $t, order: Ordering) -> $t {
                self.rmw(|a| a.swap(value, order))
            }

            /// A compare-exchange: `op` on the inner atomic, storing `new`
            /// when it succeeds.
            #[track_caller]
            #[cfg_attr(reprise_loom, allow(unused_variables))]
            fn cas(&self, new: $t, op: impl FnOnce(&inner::$name) -> Result<$t, $t>) -> Result<$t, $t> {
                match mode::mode() {
                    Mode::Off => op(&self.inner),
                    #[cfg(not(reprise_loom))]
                    Mode::Record => record::cas(&self.order, Location::caller(), || op(&self.inner)),
                    #[cfg(not(reprise_loom))]
                    Mode::Gated => replay::cas(
                        &self.order,
                        Location::caller(),
                        || self.inner.store(new, Ordering::SeqCst),
                        || op(&self.inner),
                    ),
                    #[cfg(not(reprise_loom))]
                    Mode::Coop => explore::cas(&self.order, Location::caller(), || op(&self.inner)),
                }
            }

            /// Stores `new` if the value is `current`. Like std's.
            ///
            /// # Errors
            ///
            /// The value seen, when it was not `current`.
            #[track_caller]
            pub fn compare_exchange(
                &self,
                current: $t,
                new: $t,
                success: Ordering,
                failure: Ordering,
            ) -> Result<$t, $t> {
                self.cas(new, |a| a.compare_exchange(current, new, success, failure))
            }

            /// Like [`Self::compare_exchange`] but may fail spuriously; a
            /// recorded spurious failure replays as one.
            ///
            /// # Errors
            ///
            /// The value seen, when it was not `current` or the attempt failed.
            #[track_caller]
            pub fn compare_exchange_weak(
                &self,
                current: $t,
                new: $t,
                success: Ordering,
                failure: Ordering,
            ) -> Result<$t, $t> {
                self.cas(new, |a| a.compare_exchange_weak(current, new, success, failure))
            }

            /// The value, through a unique borrow (no event).
            #[track_caller]
            pub fn get_mut(&mut self) -> &mut $t {
                self.inner.get_mut()
            }

            /// Consumes the atomic, returning the value.
            #[track_caller]
            pub fn into_inner(self) -> $t {
                self.inner.into_inner()
            }
        }

        impl Default for $name {
            fn default() -> Self {
                $name::new(<$t>::default())
            }
        }

        impl From<$t> for $name {
            fn from(value: $t) -> Self {
                $name::new(value)
            }
        }

        impl fmt::Debug for $name {
            /// The value (under loom, a `Relaxed` load: a loom operation, so
            /// only inside a model).
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(&self.inner, f)
            }
        }
    };
}

macro_rules! atomic_int {
    ($name:ident, $t:ty) => {
        atomic_common!($name, $t);

        impl $name {
            /// Adds, returning the previous value.
            #[track_caller]
            pub fn fetch_add(&self, value: $t, order: Ordering) -> $t {
                self.rmw(|a| a.fetch_add(value, order))
            }

            /// Subtracts, returning the previous value.
            #[track_caller]
            pub fn fetch_sub(&self, value: $t, order: Ordering) -> $t {
                self.rmw(|a| a.fetch_sub(value, order))
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
    };
}

atomic_int!(AtomicU64, u64);
atomic_int!(AtomicI64, i64);
atomic_int!(AtomicUsize, usize);
atomic_int!(AtomicU32, u32);
atomic_common!(AtomicBool, bool);

impl AtomicBool {
    /// Logical or, returning the previous value.
    #[track_caller]
    pub fn fetch_or(&self, value: bool, order: Ordering) -> bool {
        self.rmw(|a| a.fetch_or(value, order))
    }

    /// Logical and, returning the previous value.
    #[track_caller]
    pub fn fetch_and(&self, value: bool, order: Ordering) -> bool {
        self.rmw(|a| a.fetch_and(value, order))
    }
}

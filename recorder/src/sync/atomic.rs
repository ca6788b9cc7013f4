//! Atomics: every store and read-modify-write takes a place in the object's
//! modification order; every load records which store it read and the value.
//!
//! In record mode a tiny per-object spin lock makes "do the operation" and
//! "take its number" one step. Replay admits stores in recorded order and
//! hands each load its recorded value once the store it read is in, so data
//! published before a `Release` store is there when the `Acquire` load returns.

use std::fmt;
use std::panic::Location;

pub use std::sync::atomic::{fence, Ordering};

use crate::rt::context::{self, Mode};
use crate::rt::coop;
use crate::rt::gate::{Happened, TurnClass, WaitFor};
use crate::rt::gated::{self, GatedCall};
use crate::rt::object::ObjectSlot;
use crate::rt::order::ModificationOrder;
use crate::trace::model::{ObjectKind, Op};

/// The record-mode bookkeeping every atomic carries.
struct Order {
    slot: ObjectSlot,
    order: ModificationOrder,
}

impl Order {
    const fn new() -> Order {
        Order { slot: ObjectSlot::new(), order: ModificationOrder::new() }
    }

    /// See [`ModificationOrder::serialized`].
    #[inline]
    fn serialized<R>(&self, store: impl FnOnce(&R) -> bool, op: impl FnOnce() -> R) -> (R, u64) {
        self.order.serialized(store, op)
    }

    /// In cooperative mode, a scheduling point before the operation.
    #[inline]
    fn coop_switch(&self, mode: Mode, op: Op, location: &'static Location<'static>) {
        if mode == Mode::Coop {
            coop::switch_on(&self.slot, ObjectKind::Atomic, op, location);
        }
    }

    #[inline]
    fn record(&self, op: Op, location: &'static Location<'static>, outcome: [u64; 3]) {
        context::with(|ctx| {
            let object = ctx.object(&self.slot, ObjectKind::Atomic, location);
            ctx.record(op, object, location, outcome);
        });
    }

    fn begin(&self, op: Op, location: &'static Location<'static>) -> Option<GatedCall> {
        gated::begin(op, Some((&self.slot, ObjectKind::Atomic)), location)
    }
}

fn turn(call: &GatedCall) -> WaitFor {
    WaitFor::Turn { object: call.event.object, class: TurnClass::Store, number: call.event.a }
}

fn taken(call: &GatedCall) -> WaitFor {
    WaitFor::Taken { object: call.event.object, class: TurnClass::Store, number: call.event.a }
}

fn stored(call: &GatedCall) {
    call.happened(Happened::Turn { object: call.event.object, class: TurnClass::Store });
}

macro_rules! atomic_common {
    ($name:ident, $std:ty, $t:ty, $to:expr, $from:expr) => {
        /// An atomic whose every access is an event. Like the std type of the
        /// same name.
        pub struct $name {
            order: Order,
            inner: $std,
        }

        impl $name {
            /// A new atomic. `const`, so it can live in a `static`.
            pub const fn new(value: $t) -> Self {
                $name { order: Order::new(), inner: <$std>::new(value) }
            }

            /// Loads the value.
            #[track_caller]
            pub fn load(&self, order: Ordering) -> $t {
                let location = Location::caller();
                match context::mode() {
                    Mode::Off => self.inner.load(order),
                    mode @ (Mode::Record | Mode::Coop) => {
                        self.order.coop_switch(mode, Op::AtomicLoad, location);
                        let (v, n) = self.order.serialized(|_| false, || self.inner.load(order));
                        self.order.record(Op::AtomicLoad, location, [n, $to(v), 0]);
                        v
                    }
                    Mode::Gated => match self.order.begin(Op::AtomicLoad, location) {
                        Some(call) => {
                            call.wait(taken(&call));
                            $from(call.event.b)
                        }
                        None => self.inner.load(order),
                    },
                }
            }

            /// Stores a value.
            #[track_caller]
            pub fn store(&self, value: $t, order: Ordering) {
                let location = Location::caller();
                match context::mode() {
                    Mode::Off => self.inner.store(value, order),
                    mode @ (Mode::Record | Mode::Coop) => {
                        self.order.coop_switch(mode, Op::AtomicStore, location);
                        let ((), n) = self.order.serialized(|_| true, || self.inner.store(value, order));
                        self.order.record(Op::AtomicStore, location, [n, 0, 0]);
                    }
                    Mode::Gated => match self.order.begin(Op::AtomicStore, location) {
                        Some(call) => {
                            call.wait(turn(&call));
                            self.inner.store(value, order);
                            stored(&call);
                        }
                        None => self.inner.store(value, order),
                    },
                }
            }

            #[inline]
            fn rmw(&self, location: &'static Location<'static>, op: impl Fn(&$std) -> $t) -> $t {
                match context::mode() {
                    Mode::Off => op(&self.inner),
                    mode @ (Mode::Record | Mode::Coop) => {
                        self.order.coop_switch(mode, Op::AtomicRmw, location);
                        let (prev, n) = self.order.serialized(|_| true, || op(&self.inner));
                        self.order.record(Op::AtomicRmw, location, [n, $to(prev), 0]);
                        prev
                    }
                    Mode::Gated => match self.order.begin(Op::AtomicRmw, location) {
                        Some(call) => {
                            call.wait(turn(&call));
                            op(&self.inner);
                            stored(&call);
                            $from(call.event.b)
                        }
                        None => op(&self.inner),
                    },
                }
            }

            /// Swaps the value, returning the previous one.
            #[track_caller]
            pub fn swap(&self, value: $t, order: Ordering) -> $t {
                self.rmw(Location::caller(), |a| a.swap(value, order))
            }

            fn cas(
                &self,
                location: &'static Location<'static>,
                new: $t,
                op: impl FnOnce(&$std) -> Result<$t, $t>,
            ) -> Result<$t, $t> {
                match context::mode() {
                    Mode::Off => op(&self.inner),
                    mode @ (Mode::Record | Mode::Coop) => {
                        self.order.coop_switch(mode, Op::AtomicCas, location);
                        let (result, n) =
                            self.order.serialized(|r: &Result<$t, $t>| r.is_ok(), || op(&self.inner));
                        let (seen, ok) = match result {
                            Ok(v) => (v, 1),
                            Err(v) => (v, 0),
                        };
                        self.order.record(Op::AtomicCas, location, [n, $to(seen), ok]);
                        result
                    }
                    Mode::Gated => match self.order.begin(Op::AtomicCas, location) {
                        Some(call) => {
                            let seen = $from(call.event.b);
                            if call.event.c == 1 {
                                call.wait(turn(&call));
                                self.inner.store(new, Ordering::SeqCst);
                                stored(&call);
                                Ok(seen)
                            } else {
                                call.wait(taken(&call));
                                Err(seen)
                            }
                        }
                        None => op(&self.inner),
                    },
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
                self.cas(Location::caller(), new, |a| a.compare_exchange(current, new, success, failure))
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
                self.cas(Location::caller(), new, |a| a.compare_exchange_weak(current, new, success, failure))
            }

            /// The value, through a unique borrow (no event).
            pub fn get_mut(&mut self) -> &mut $t {
                self.inner.get_mut()
            }

            /// Consumes the atomic, returning the value.
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
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(&self.inner, f)
            }
        }
    };
}

macro_rules! atomic_int {
    ($name:ident, $std:ty, $t:ty) => {
        atomic_common!($name, $std, $t, |v: $t| v as u64, |v: u64| v as $t);

        impl $name {
            /// Adds, returning the previous value.
            #[track_caller]
            pub fn fetch_add(&self, value: $t, order: Ordering) -> $t {
                self.rmw(Location::caller(), |a| a.fetch_add(value, order))
            }

            /// Subtracts, returning the previous value.
            #[track_caller]
            pub fn fetch_sub(&self, value: $t, order: Ordering) -> $t {
                self.rmw(Location::caller(), |a| a.fetch_sub(value, order))
            }

            /// Takes the maximum, returning the previous value.
            #[track_caller]
            pub fn fetch_max(&self, value: $t, order: Ordering) -> $t {
                self.rmw(Location::caller(), |a| a.fetch_max(value, order))
            }

            /// Takes the minimum, returning the previous value.
            #[track_caller]
            pub fn fetch_min(&self, value: $t, order: Ordering) -> $t {
                self.rmw(Location::caller(), |a| a.fetch_min(value, order))
            }
        }
    };
}

atomic_int!(AtomicU64, std::sync::atomic::AtomicU64, u64);
atomic_int!(AtomicI64, std::sync::atomic::AtomicI64, i64);
atomic_int!(AtomicUsize, std::sync::atomic::AtomicUsize, usize);
atomic_int!(AtomicU32, std::sync::atomic::AtomicU32, u32);
atomic_common!(AtomicBool, std::sync::atomic::AtomicBool, bool, |v: bool| u64::from(v), |v: u64| v != 0);

impl AtomicBool {
    /// Logical or, returning the previous value.
    #[track_caller]
    pub fn fetch_or(&self, value: bool, order: Ordering) -> bool {
        self.rmw(Location::caller(), |a| a.fetch_or(value, order))
    }

    /// Logical and, returning the previous value.
    #[track_caller]
    pub fn fetch_and(&self, value: bool, order: Ordering) -> bool {
        self.rmw(Location::caller(), |a| a.fetch_and(value, order))
    }
}

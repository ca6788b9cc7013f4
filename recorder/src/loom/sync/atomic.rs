//! Atomics under loom: loom's, behind reprise's `const fn new`. loom explores
//! every value a load may return under the given orderings (C11's memory
//! model), so a missing `Acquire`/`Release` pair is found.

use std::fmt;

pub use loom::sync::atomic::fence;
pub use std::sync::atomic::Ordering;

use crate::loom_execution::Lazy;

macro_rules! atomic_common {
    ($name:ident, $t:ty) => {
        /// An atomic model-checked by loom. Like the std type of the same name.
        pub struct $name {
            /// The value until the loom atomic is made (or after `get_mut`).
            init: $t,
            inner: Lazy<loom::sync::atomic::$name>,
        }

        impl $name {
            /// A new atomic. `const`, like reprise's; its loom atomic is made
            /// on first use, holding `value`.
            pub const fn new(value: $t) -> Self {
                $name { init: value, inner: Lazy::new() }
            }

            #[track_caller]
            fn inner(&self) -> &loom::sync::atomic::$name {
                self.inner.get(stringify!($name), || loom::sync::atomic::$name::new(self.init))
            }

            /// Loads the value. Like std's.
            #[track_caller]
            pub fn load(&self, order: Ordering) -> $t {
                self.inner().load(order)
            }

            /// Stores a value. Like std's.
            #[track_caller]
            pub fn store(&self, value: $t, order: Ordering) {
                self.inner().store(value, order)
            }

            /// Stores a value, returning the previous one. Like std's.
            #[track_caller]
            pub fn swap(&self, value: $t, order: Ordering) -> $t {
                self.inner().swap(value, order)
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
                self.inner().compare_exchange(current, new, success, failure)
            }

            /// Like [`Self::compare_exchange`] but allowed to fail spuriously.
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
                self.inner().compare_exchange_weak(current, new, success, failure)
            }

            /// The value, through a unique borrow. The loom atomic (if any)
            /// is read out and made again on the next use: holding `&mut`,
            /// every earlier access happens before this one.
            #[track_caller]
            pub fn get_mut(&mut self) -> &mut $t {
                if let Some(atomic) = self.inner.take(stringify!($name)) {
                    self.init = atomic.into_inner();
                }
                &mut self.init
            }

            /// Consumes the atomic, returning the value.
            #[track_caller]
            pub fn into_inner(mut self) -> $t {
                *self.get_mut()
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
            /// A `Relaxed` load: a loom operation, so only inside a model.
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(&self.load(Ordering::Relaxed), f)
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
                self.inner().fetch_add(value, order)
            }

            /// Subtracts, returning the previous value.
            #[track_caller]
            pub fn fetch_sub(&self, value: $t, order: Ordering) -> $t {
                self.inner().fetch_sub(value, order)
            }

            /// Takes the maximum, returning the previous value.
            #[track_caller]
            pub fn fetch_max(&self, value: $t, order: Ordering) -> $t {
                self.inner().fetch_max(value, order)
            }

            /// Takes the minimum, returning the previous value.
            #[track_caller]
            pub fn fetch_min(&self, value: $t, order: Ordering) -> $t {
                self.inner().fetch_min(value, order)
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
        self.inner().fetch_or(value, order)
    }

    /// Logical and, returning the previous value.
    #[track_caller]
    pub fn fetch_and(&self, value: bool, order: Ordering) -> bool {
        self.inner().fetch_and(value, order)
    }
}

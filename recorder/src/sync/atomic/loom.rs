//! The atomics' inner atomics under `--cfg reprise_loom`: loom's, made on
//! first use so that the shell's `new` stays `const`, behind the part of
//! std's API the shell uses. loom has every std atomic type; `AtomicPtr`'s
//! pointer arithmetic is a loom `fetch_update` (a compare-exchange loop).

use std::fmt;
use std::sync::atomic::Ordering;

use crate::sync::loom_lazy::Lazy;

macro_rules! loom_atomic {
    ($name:ident, $t:ty) => {
        /// An atomic checked by loom.
        pub(crate) struct $name {
            /// The value until the loom atomic is made (or after `get_mut`).
            init: $t,
            inner: Lazy<loom::sync::atomic::$name>,
        }

        impl $name {
            pub(crate) const fn new(value: $t) -> Self {
                $name { init: value, inner: Lazy::new() }
            }

            #[track_caller]
            fn inner(&self) -> &loom::sync::atomic::$name {
                self.inner.get(stringify!($name), || loom::sync::atomic::$name::new(self.init))
            }

            #[track_caller]
            pub(crate) fn load(&self, order: Ordering) -> $t {
                self.inner().load(order)
            }

            #[track_caller]
            pub(crate) fn store(&self, value: $t, order: Ordering) {
                self.inner().store(value, order)
            }

            #[track_caller]
            pub(crate) fn swap(&self, value: $t, order: Ordering) -> $t {
                self.inner().swap(value, order)
            }

            #[track_caller]
            pub(crate) fn compare_exchange(
                &self,
                current: $t,
                new: $t,
                success: Ordering,
                failure: Ordering,
            ) -> Result<$t, $t> {
                self.inner().compare_exchange(current, new, success, failure)
            }

            #[track_caller]
            pub(crate) fn compare_exchange_weak(
                &self,
                current: $t,
                new: $t,
                success: Ordering,
                failure: Ordering,
            ) -> Result<$t, $t> {
                self.inner().compare_exchange_weak(current, new, success, failure)
            }

            /// The loom atomic (if any) is read out and made again on the
            /// next use: holding `&mut`, every earlier access happens before
            /// this one.
            #[track_caller]
            pub(crate) fn get_mut(&mut self) -> &mut $t {
                if let Some(atomic) = self.inner.take(stringify!($name)) {
                    self.init = atomic.into_inner();
                }
                &mut self.init
            }

            #[track_caller]
            pub(crate) fn into_inner(mut self) -> $t {
                *self.get_mut()
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

macro_rules! loom_atomic_int {
    ($name:ident, $t:ty) => {
        loom_atomic!($name, $t);

        impl $name {
            #[track_caller]
            pub(crate) fn fetch_add(&self, value: $t, order: Ordering) -> $t {
                self.inner().fetch_add(value, order)
            }

            #[track_caller]
            pub(crate) fn fetch_sub(&self, value: $t, order: Ordering) -> $t {
                self.inner().fetch_sub(value, order)
            }

            #[track_caller]
            pub(crate) fn fetch_and(&self, value: $t, order: Ordering) -> $t {
                self.inner().fetch_and(value, order)
            }

            #[track_caller]
            pub(crate) fn fetch_nand(&self, value: $t, order: Ordering) -> $t {
                self.inner().fetch_nand(value, order)
            }

            #[track_caller]
            pub(crate) fn fetch_or(&self, value: $t, order: Ordering) -> $t {
                self.inner().fetch_or(value, order)
            }

            #[track_caller]
            pub(crate) fn fetch_xor(&self, value: $t, order: Ordering) -> $t {
                self.inner().fetch_xor(value, order)
            }

            #[track_caller]
            pub(crate) fn fetch_max(&self, value: $t, order: Ordering) -> $t {
                self.inner().fetch_max(value, order)
            }

            #[track_caller]
            pub(crate) fn fetch_min(&self, value: $t, order: Ordering) -> $t {
                self.inner().fetch_min(value, order)
            }
        }
    };
}

loom_atomic_int!(AtomicI8, i8);
loom_atomic_int!(AtomicU8, u8);
loom_atomic_int!(AtomicI16, i16);
loom_atomic_int!(AtomicU16, u16);
loom_atomic_int!(AtomicI32, i32);
loom_atomic_int!(AtomicU32, u32);
loom_atomic_int!(AtomicI64, i64);
loom_atomic_int!(AtomicU64, u64);
loom_atomic_int!(AtomicIsize, isize);
loom_atomic_int!(AtomicUsize, usize);
loom_atomic!(AtomicBool, bool);

impl AtomicBool {
    #[track_caller]
    pub(crate) fn fetch_or(&self, value: bool, order: Ordering) -> bool {
        self.inner().fetch_or(value, order)
    }

    #[track_caller]
    pub(crate) fn fetch_and(&self, value: bool, order: Ordering) -> bool {
        self.inner().fetch_and(value, order)
    }

    #[track_caller]
    pub(crate) fn fetch_nand(&self, value: bool, order: Ordering) -> bool {
        self.inner().fetch_nand(value, order)
    }

    #[track_caller]
    pub(crate) fn fetch_xor(&self, value: bool, order: Ordering) -> bool {
        self.inner().fetch_xor(value, order)
    }
}

/// `AtomicPtr<T>` checked by loom.
pub(crate) struct AtomicPtr<T> {
    /// The pointer until the loom atomic is made (or after `get_mut`): a std
    /// atomic only as a `Send + Sync` const-made cell, never shared.
    init: std::sync::atomic::AtomicPtr<T>,
    inner: Lazy<loom::sync::atomic::AtomicPtr<T>>,
}

impl<T> AtomicPtr<T> {
    pub(crate) const fn new(value: *mut T) -> Self {
        AtomicPtr { init: std::sync::atomic::AtomicPtr::new(value), inner: Lazy::new() }
    }

    #[track_caller]
    fn inner(&self) -> &loom::sync::atomic::AtomicPtr<T> {
        self.inner.get("AtomicPtr", || loom::sync::atomic::AtomicPtr::new(self.init.load(Ordering::Relaxed)))
    }

    #[track_caller]
    pub(crate) fn load(&self, order: Ordering) -> *mut T {
        self.inner().load(order)
    }

    #[track_caller]
    pub(crate) fn store(&self, value: *mut T, order: Ordering) {
        self.inner().store(value, order)
    }

    #[track_caller]
    pub(crate) fn swap(&self, value: *mut T, order: Ordering) -> *mut T {
        self.inner().swap(value, order)
    }

    #[track_caller]
    pub(crate) fn compare_exchange(
        &self,
        current: *mut T,
        new: *mut T,
        success: Ordering,
        failure: Ordering,
    ) -> Result<*mut T, *mut T> {
        self.inner().compare_exchange(current, new, success, failure)
    }

    #[track_caller]
    pub(crate) fn compare_exchange_weak(
        &self,
        current: *mut T,
        new: *mut T,
        success: Ordering,
        failure: Ordering,
    ) -> Result<*mut T, *mut T> {
        self.inner().compare_exchange_weak(current, new, success, failure)
    }

    /// The pointer arithmetic is built on this (loom has no `fetch_ptr_add`).
    #[track_caller]
    pub(crate) fn fetch_update(
        &self,
        set_order: Ordering,
        fetch_order: Ordering,
        f: impl FnMut(*mut T) -> Option<*mut T>,
    ) -> Result<*mut T, *mut T> {
        self.inner().fetch_update(set_order, fetch_order, f)
    }

    /// As for the other atomics: the loom atomic is read out and made again
    /// on the next use.
    #[track_caller]
    pub(crate) fn get_mut(&mut self) -> &mut *mut T {
        if let Some(atomic) = self.inner.take("AtomicPtr") {
            *self.init.get_mut() = atomic.into_inner();
        }
        self.init.get_mut()
    }

    #[track_caller]
    pub(crate) fn into_inner(mut self) -> *mut T {
        *self.get_mut()
    }
}

impl<T> fmt::Debug for AtomicPtr<T> {
    /// A `Relaxed` load: a loom operation, so only inside a model.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.load(Ordering::Relaxed), f)
    }
}

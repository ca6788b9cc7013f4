//! `reprise::thread_local!`: per-thread values that stay per *logical* thread
//! under the explorer and loom, where threads are coroutines on one OS thread
//! (and would otherwise share std's thread-locals).
//!
//! This file is the shell: off, record and replay run threads on their own
//! OS threads and use std's thread-locals (`os.rs`, which drops a thread's
//! values before it leaves its execution, so that their destructors are
//! recorded); `explore.rs` keeps the values in the explorer's per-thread
//! context; under `--cfg reprise_loom` the key is loom's, whose values are
//! per loom thread.

#[cfg(not(reprise_loom))]
mod explore;
#[cfg(not(reprise_loom))]
mod os;

#[cfg(not(reprise_loom))]
#[doc(hidden)]
pub use os::Slot;

use std::cell::{Cell, RefCell};

use crate::rt::mode::{self, Mode};

/// The error of [`LocalKey::try_with`] during or after the value's
/// destruction. std's (loom's under `--cfg reprise_loom`).
#[cfg(reprise_loom)]
pub use loom::thread::AccessError;
#[cfg(not(reprise_loom))]
pub use std::thread::AccessError;

/// The loom the macro names under `--cfg reprise_loom`, so that user crates
/// need no loom dependency of their own.
#[cfg(reprise_loom)]
#[doc(hidden)]
pub use loom as __loom;

/// A thread-local key made by [`thread_local!`](crate::thread_local). Like
/// [`std::thread::LocalKey`].
pub struct LocalKey<T: 'static> {
    #[cfg(not(reprise_loom))]
    std: &'static std::thread::LocalKey<os::Slot<T>>,
    #[cfg(not(reprise_loom))]
    init: fn() -> T,
    #[cfg(reprise_loom)]
    loom: &'static loom::thread::LocalKey<T>,
}

impl<T: 'static> std::fmt::Debug for LocalKey<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LocalKey { .. }")
    }
}

impl<T: 'static> LocalKey<T> {
    #[doc(hidden)]
    #[cfg(not(reprise_loom))]
    pub const fn new(std: &'static std::thread::LocalKey<os::Slot<T>>, init: fn() -> T) -> LocalKey<T> {
        LocalKey { std, init }
    }

    #[doc(hidden)]
    #[cfg(reprise_loom)]
    pub const fn new(loom: &'static loom::thread::LocalKey<T>) -> LocalKey<T> {
        LocalKey { loom }
    }

    /// Runs `f` with this thread's value. Like [`std::thread::LocalKey::with`].
    pub fn with<F, R>(&'static self, f: F) -> R
    where
        F: FnOnce(&T) -> R,
    {
        match mode::mode() {
            #[cfg(not(reprise_loom))]
            Mode::Off | Mode::Record | Mode::Gated => f(&self.std.with(|slot| os::value(self, slot))),
            #[cfg(not(reprise_loom))]
            Mode::Coop => explore::with(self, self.init, f),
            #[cfg(reprise_loom)]
            Mode::Off => self.loom.with(f),
        }
    }

    /// Runs `f` with this thread's value, or fails during or after the
    /// value's destruction. Like [`std::thread::LocalKey::try_with`]; under
    /// the explorer a logical thread's values live as long as it runs, so
    /// this never fails there.
    ///
    /// # Errors
    ///
    /// As std's (loom's under `--cfg reprise_loom`).
    pub fn try_with<F, R>(&'static self, f: F) -> Result<R, AccessError>
    where
        F: FnOnce(&T) -> R,
    {
        match mode::mode() {
            #[cfg(not(reprise_loom))]
            Mode::Off | Mode::Record | Mode::Gated => {
                self.std.try_with(|slot| os::value(self, slot)).map(|value| f(&value))
            }
            #[cfg(not(reprise_loom))]
            Mode::Coop => Ok(explore::with(self, self.init, f)),
            #[cfg(reprise_loom)]
            Mode::Off => self.loom.try_with(f),
        }
    }
}

impl<T: 'static> LocalKey<Cell<T>> {
    /// Sets the value. Like [`std::thread::LocalKey::set`] (the initializer
    /// runs first if the value was not made yet).
    pub fn set(&'static self, value: T) {
        self.with(|cell| cell.set(value));
    }

    /// A copy of the value. Like [`std::thread::LocalKey::get`].
    pub fn get(&'static self) -> T
    where
        T: Copy,
    {
        self.with(Cell::get)
    }

    /// Takes the value, leaving `Default::default()`. Like
    /// [`std::thread::LocalKey::take`].
    pub fn take(&'static self) -> T
    where
        T: Default,
    {
        self.with(Cell::take)
    }

    /// Replaces the value, returning the old one. Like
    /// [`std::thread::LocalKey::replace`].
    pub fn replace(&'static self, value: T) -> T {
        self.with(|cell| cell.replace(value))
    }
}

impl<T: 'static> LocalKey<RefCell<T>> {
    /// Runs `f` with a shared borrow of the value. Like
    /// [`std::thread::LocalKey::with_borrow`].
    ///
    /// # Panics
    ///
    /// When the value is mutably borrowed, as std's.
    pub fn with_borrow<F, R>(&'static self, f: F) -> R
    where
        F: FnOnce(&T) -> R,
    {
        self.with(|cell| f(&cell.borrow()))
    }

    /// Runs `f` with a mutable borrow of the value. Like
    /// [`std::thread::LocalKey::with_borrow_mut`].
    ///
    /// # Panics
    ///
    /// When the value is borrowed, as std's.
    pub fn with_borrow_mut<F, R>(&'static self, f: F) -> R
    where
        F: FnOnce(&mut T) -> R,
    {
        self.with(|cell| f(&mut cell.borrow_mut()))
    }

    /// Sets the value. Like [`std::thread::LocalKey::set`] on a `RefCell`.
    ///
    /// # Panics
    ///
    /// When the value is borrowed, as std's.
    pub fn set(&'static self, value: T) {
        self.with(|cell| *cell.borrow_mut() = value);
    }

    /// Takes the value, leaving `Default::default()`. Like
    /// [`std::thread::LocalKey::take`] on a `RefCell`.
    ///
    /// # Panics
    ///
    /// When the value is borrowed, as std's.
    pub fn take(&'static self) -> T
    where
        T: Default,
    {
        self.with(RefCell::take)
    }

    /// Replaces the value, returning the old one. Like
    /// [`std::thread::LocalKey::replace`] on a `RefCell`.
    ///
    /// # Panics
    ///
    /// When the value is borrowed, as std's.
    pub fn replace(&'static self, value: T) -> T {
        self.with(|cell| cell.replace(value))
    }
}

/// A thread of an execution ends its body: drops the `thread_local!` values
/// it made in the execution while it is still in it, so that what their
/// destructors do is recorded, replayed or explored in its place (std would
/// run them after the thread left, unrecorded). Every thread of an
/// execution, the root included, runs on an OS thread (or a coroutine) of
/// its own that ends with it.
///
/// # Errors
///
/// The payload of the first destructor that panicked; the others still ran.
#[cfg(not(reprise_loom))]
pub(crate) fn end_of_thread() -> Result<(), Box<dyn std::any::Any + Send>> {
    match mode::mode() {
        Mode::Coop => explore::drop_values(),
        Mode::Off | Mode::Record | Mode::Gated => os::drop_values(),
    }
}

/// How many times [`drop_in_rounds`] looks again for values that
/// destructors made: std gives up after a few rounds too, and leaves the
/// rest to the thread's exit.
#[cfg(not(reprise_loom))]
const ROUNDS: usize = 8;

/// Takes the thread's values with `take` and drops each with `drop_one`,
/// again while destructors made new ones (at most [`ROUNDS`] times).
///
/// # Errors
///
/// The payload of the first destructor that panicked (the others still run).
#[cfg(not(reprise_loom))]
fn drop_in_rounds<T: IntoIterator>(
    mut take: impl FnMut() -> T,
    mut drop_one: impl FnMut(T::Item),
) -> Result<(), Box<dyn std::any::Any + Send>> {
    let mut first_panic = Ok(());
    for _ in 0..ROUNDS {
        let mut values = take().into_iter().peekable();
        if values.peek().is_none() {
            break;
        }
        for value in values {
            let dropped = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| drop_one(value)));
            if let (Err(payload), Ok(())) = (dropped, &first_panic) {
                first_panic = Err(payload);
            }
        }
    }
    first_panic
}

/// Declares thread-local values that stay per thread under the explorer too.
/// Like [`std::thread_local!`]: any number of `static`s, `const { }`
/// initializers accepted.
///
/// ```
/// reprise_recorder::thread_local! {
///     static SEEN: std::cell::Cell<u32> = std::cell::Cell::new(0);
/// }
/// SEEN.with(|s| s.set(s.get() + 1));
/// assert_eq!(SEEN.with(|s| s.get()), 1);
/// ```
#[cfg(not(reprise_loom))]
#[macro_export]
macro_rules! thread_local {
    () => {};
    ($(#[$attr:meta])* $vis:vis static $name:ident: $t:ty = const { $init:expr }; $($rest:tt)+) => {
        $crate::thread_local!($(#[$attr])* $vis static $name: $t = $init;);
        $crate::thread_local!($($rest)+);
    };
    ($(#[$attr:meta])* $vis:vis static $name:ident: $t:ty = const { $init:expr } $(;)?) => {
        $crate::thread_local!($(#[$attr])* $vis static $name: $t = $init;);
    };
    ($(#[$attr:meta])* $vis:vis static $name:ident: $t:ty = $init:expr;) => {
        $(#[$attr])* $vis static $name: $crate::local::LocalKey<$t> = {
            ::std::thread_local! {
                static STD: $crate::local::Slot<$t> = const { $crate::local::Slot::new() };
            }
            fn init() -> $t {
                $init
            }
            $crate::local::LocalKey::new(&STD, init)
        };
    };
    ($(#[$attr:meta])* $vis:vis static $name:ident: $t:ty = $init:expr; $($rest:tt)+) => {
        $crate::thread_local!($(#[$attr])* $vis static $name: $t = $init;);
        $crate::thread_local!($($rest)+);
    };
    ($(#[$attr:meta])* $vis:vis static $name:ident: $t:ty = $init:expr) => {
        $crate::thread_local!($(#[$attr])* $vis static $name: $t = $init;);
    };
}

/// Declares thread-local values, per loom thread. Like
/// [`std::thread_local!`]: any number of `static`s.
#[cfg(reprise_loom)]
#[macro_export]
macro_rules! thread_local {
    () => {};
    ($(#[$attr:meta])* $vis:vis static $name:ident: $t:ty = const { $init:expr }; $($rest:tt)+) => {
        $crate::thread_local!($(#[$attr])* $vis static $name: $t = $init;);
        $crate::thread_local!($($rest)+);
    };
    ($(#[$attr:meta])* $vis:vis static $name:ident: $t:ty = const { $init:expr } $(;)?) => {
        $crate::thread_local!($(#[$attr])* $vis static $name: $t = $init;);
    };
    ($(#[$attr:meta])* $vis:vis static $name:ident: $t:ty = $init:expr;) => {
        $(#[$attr])* $vis static $name: $crate::local::LocalKey<$t> = {
            $crate::local::__loom::thread_local! { static LOOM: $t = $init; }
            $crate::local::LocalKey::new(&LOOM)
        };
    };
    ($(#[$attr:meta])* $vis:vis static $name:ident: $t:ty = $init:expr; $($rest:tt)+) => {
        $crate::thread_local!($(#[$attr])* $vis static $name: $t = $init;);
        $crate::thread_local!($($rest)+);
    };
    ($(#[$attr:meta])* $vis:vis static $name:ident: $t:ty = $init:expr) => {
        $crate::thread_local!($(#[$attr])* $vis static $name: $t = $init;);
    };
}

#[cfg(all(test, reprise_loom))]
mod loom_tests;

//! `reprise::thread_local!`: per-thread values that stay per *logical* thread
//! under the explorer and loom, where threads are coroutines on one OS thread
//! (and would otherwise share std's thread-locals).
//!
//! This file is the shell: off, record and replay run threads on their own
//! OS threads and use std's thread-locals; `explore.rs` keeps the values in
//! the explorer's per-thread context; under `--cfg reprise_loom` the key is
//! loom's, whose values are per loom thread.

#[cfg(not(reprise_loom))]
mod explore;

use crate::rt::mode::{self, Mode};

/// The loom the macro names under `--cfg reprise_loom`, so that user crates
/// need no loom dependency of their own.
#[cfg(reprise_loom)]
#[doc(hidden)]
pub use loom as __loom;

/// A thread-local key made by [`thread_local!`](crate::thread_local). Like
/// [`std::thread::LocalKey`].
pub struct LocalKey<T: 'static> {
    #[cfg(not(reprise_loom))]
    std: &'static std::thread::LocalKey<T>,
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
    pub const fn new(std: &'static std::thread::LocalKey<T>, init: fn() -> T) -> LocalKey<T> {
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
            Mode::Off | Mode::Record | Mode::Gated => self.std.with(f),
            #[cfg(not(reprise_loom))]
            Mode::Coop => explore::with(self, self.init, f),
            #[cfg(reprise_loom)]
            Mode::Off => self.loom.with(f),
        }
    }
}

/// Declares thread-local values that stay per thread under the explorer too.
/// Like [`std::thread_local!`], one `static` per invocation.
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
    ($(#[$attr:meta])* $vis:vis static $name:ident: $t:ty = const { $init:expr };) => {
        $crate::thread_local!($(#[$attr])* $vis static $name: $t = $init;);
    };
    ($(#[$attr:meta])* $vis:vis static $name:ident: $t:ty = $init:expr;) => {
        $(#[$attr])* $vis static $name: $crate::local::LocalKey<$t> = {
            ::std::thread_local! { static STD: $t = $init; }
            fn init() -> $t {
                $init
            }
            $crate::local::LocalKey::new(&STD, init)
        };
    };
}

/// Declares thread-local values, per loom thread. Like
/// [`std::thread_local!`], one `static` per invocation.
#[cfg(reprise_loom)]
#[macro_export]
macro_rules! thread_local {
    ($(#[$attr:meta])* $vis:vis static $name:ident: $t:ty = const { $init:expr };) => {
        $crate::thread_local!($(#[$attr])* $vis static $name: $t = $init;);
    };
    ($(#[$attr:meta])* $vis:vis static $name:ident: $t:ty = $init:expr;) => {
        $(#[$attr])* $vis static $name: $crate::local::LocalKey<$t> = {
            $crate::local::__loom::thread_local! { static LOOM: $t = $init; }
            $crate::local::LocalKey::new(&LOOM)
        };
    };
}

#[cfg(all(test, reprise_loom))]
mod loom_tests;

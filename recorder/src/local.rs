//! `reprise::thread_local!`: per-thread values that stay per *logical* thread
//! under the explorer, where every explored thread runs on the same OS thread
//! (and would otherwise share std's thread-locals).

use std::any::Any;

use crate::rt::context::{self, Mode};

/// A thread-local key made by [`thread_local!`](crate::thread_local). Like
/// [`std::thread::LocalKey`].
pub struct LocalKey<T: 'static> {
    std: &'static std::thread::LocalKey<T>,
    init: fn() -> T,
}

impl<T: 'static> std::fmt::Debug for LocalKey<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LocalKey { .. }")
    }
}

impl<T: 'static> LocalKey<T> {
    #[doc(hidden)]
    pub const fn new(std: &'static std::thread::LocalKey<T>, init: fn() -> T) -> LocalKey<T> {
        LocalKey { std, init }
    }

    /// Runs `f` with this thread's value. Like [`std::thread::LocalKey::with`].
    pub fn with<F, R>(&'static self, f: F) -> R
    where
        F: FnOnce(&T) -> R,
    {
        if context::mode() != Mode::Coop {
            return self.std.with(f);
        }
        // Under the explorer: the value lives in the logical thread's
        // context. It is taken out while `f` runs, so that `f` may use
        // primitives (and be switched away from) without the context borrowed.
        let key = self as *const Self as usize;
        let taken: Option<Box<dyn Any>> = context::with(|ctx| ctx.locals.remove(&key));
        let value: Box<dyn Any> = taken.unwrap_or_else(|| Box::new((self.init)()));
        let result = f(value.downcast_ref::<T>().expect("a thread-local holds its own type"));
        context::try_with(|ctx| ctx.locals.insert(key, value));
        result
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

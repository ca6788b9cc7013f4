//! Thread-locals under the explorer: every explored thread runs on the same
//! OS thread, so each logical thread's values live in its context, by key.

use std::any::Any;

use crate::rt::context;

use super::LocalKey;

/// Runs `f` with the running logical thread's value of `key`, made by `init`
/// on first use.
pub(super) fn with<T: 'static, R>(key: &'static LocalKey<T>, init: fn() -> T, f: impl FnOnce(&T) -> R) -> R {
    // The value is taken out while `f` runs, so that `f` may use primitives
    // (and be switched away from) without the context borrowed.
    let key = key as *const LocalKey<T> as usize;
    let taken: Option<Box<dyn Any>> = context::with(|ctx| ctx.locals.remove(&key));
    let value: Box<dyn Any> = taken.unwrap_or_else(|| Box::new(init()));
    let result = f(value.downcast_ref::<T>().expect("a thread-local holds its own type"));
    context::try_with(|ctx| ctx.locals.insert(key, value));
    result
}

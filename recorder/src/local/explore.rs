//! Thread-locals under the explorer: every explored thread runs on the same
//! OS thread, so each logical thread's values live in its context, by key.

use std::rc::Rc;

use crate::rt::context;

use super::LocalKey;

/// Runs `f` with the running logical thread's value of `key`, made by `init`
/// on first use.
pub(super) fn with<T: 'static, R>(key: &'static LocalKey<T>, init: fn() -> T, f: impl FnOnce(&T) -> R) -> R {
    // A shared handle on the value, not a borrow of the context, while `f`
    // runs: `f` may use primitives (and be switched away from) and may reach
    // the same key again, as it may with std's.
    let key = key as *const LocalKey<T> as usize;
    let existing = context::with(|ctx| ctx.locals.get(&key).and_then(|v| v.downcast_ref::<Rc<T>>()).cloned());
    let value = match existing {
        Some(value) => value,
        None => {
            // Made outside the context's borrow: `init` may use thread-locals.
            let value = Rc::new(init());
            context::with(|ctx| {
                let kept = ctx.locals.entry(key).or_insert_with(|| Box::new(Rc::clone(&value)));
                kept.downcast_ref::<Rc<T>>().cloned().unwrap_or(value)
            })
        }
    };
    f(&value)
}

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

/// Drops the running logical thread's values before it leaves the
/// execution, so that their destructors' calls are explored (and, in a
/// coroutine replay, followed) like the thread's others, as `os.rs` does
/// on OS threads.
///
/// # Errors
///
/// As [`super::drop_in_rounds`].
pub(super) fn drop_values() -> Result<(), Box<dyn std::any::Any + Send>> {
    super::drop_in_rounds(
        || context::try_with(|ctx| std::mem::take(&mut ctx.locals)).unwrap_or_default(),
        drop,
    )
}

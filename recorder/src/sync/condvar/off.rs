//! The condvar in passthrough: the inner condvar (std's, or loom's under
//! `--cfg reprise_loom`), waited on with the inner mutex guard.

use std::time::Duration;

use super::InnerCondvar;
use crate::sync::mutex::InnerGuard;

/// A real wait. Returns the guard (`Err` when the mutex is poisoned) and
/// whether the wait timed out.
pub(super) fn wait<'a, T>(
    condvar: &InnerCondvar,
    guard: InnerGuard<'a, T>,
    timeout: Option<Duration>,
) -> (Result<InnerGuard<'a, T>, InnerGuard<'a, T>>, bool) {
    match timeout {
        None => match condvar.wait(guard) {
            Ok(g) => (Ok(g), false),
            Err(p) => (Err(p.into_inner()), false),
        },
        Some(t) => match condvar.wait_timeout(guard, t) {
            Ok((g, r)) => (Ok(g), r.timed_out()),
            Err(p) => {
                let (g, r) = p.into_inner();
                (Err(g), r.timed_out())
            }
        },
    }
}

/// A real notification.
pub(super) fn notify(condvar: &InnerCondvar, all: bool) {
    if all {
        condvar.notify_all();
    } else {
        condvar.notify_one();
    }
}

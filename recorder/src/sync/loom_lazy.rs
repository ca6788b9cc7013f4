//! Under loom: loom objects created on first use, so that reprise's `const`
//! constructors keep working.
//!
//! loom's objects (a mutex, an atomic) belong to one execution and are made by
//! non-`const` constructors, while reprise's `Mutex::new`, `Condvar::new`,
//! `RwLock::new` and the atomics' `new` are `const`. So each of their loom
//! backends holds a [`Lazy`] cell that makes its loom object the first time an
//! execution uses it, stamped with that execution's id. A primitive that
//! outlives its execution (a `static`, or one made before `loom::model`) would
//! carry a loom object from an earlier execution into the next one, where it
//! would alias another object: that is caught and reported instead.

use std::sync::OnceLock;

use crate::loom_execution::current;

/// A loom object made the first time an execution uses it.
#[derive(Debug)]
pub(crate) struct Lazy<L> {
    cell: OnceLock<(u64, L)>,
}

impl<L> Lazy<L> {
    /// An empty cell; `const`, like the constructors it serves.
    pub(crate) const fn new() -> Lazy<L> {
        Lazy { cell: OnceLock::new() }
    }

    /// The loom object, made by `make` if this is its first use.
    /// `make` must not reach a loom scheduling point (loom's constructors
    /// don't), since another loom thread could then find the cell half made.
    ///
    /// # Panics
    ///
    /// When the object was made by an earlier execution; `what` names the
    /// primitive in the message.
    #[track_caller]
    pub(crate) fn get(&self, what: &'static str, make: impl FnOnce() -> L) -> &L {
        let id = current().id;
        let (owner, object) = self.cell.get_or_init(|| (id, make()));
        if *owner != id {
            stale(what);
        }
        object
    }

    /// Takes the loom object out (for `get_mut` and `into_inner`, which hold
    /// the primitive uniquely), leaving the cell empty.
    ///
    /// # Panics
    ///
    /// As [`Lazy::get`].
    #[track_caller]
    pub(crate) fn take(&mut self, what: &'static str) -> Option<L> {
        let (owner, object) = self.cell.take()?;
        if owner != current().id {
            stale(what);
        }
        Some(object)
    }
}

#[cold]
#[track_caller]
fn stale(what: &str) -> ! {
    panic!(
        "a reprise `{what}` was used by two loom executions: under `--cfg reprise_loom`, \
         create it inside the model closure (not in a `static`, not before `loom::model`) \
         so that every execution gets its own"
    )
}

//! `LazyLock`: a value made on first use, built on reprise's
//! [`OnceLock`] (so on its `Once`): which thread runs the initializer, and
//! when the others see the value, are recorded and replayed.
//!
//! The initializing function waits in a std mutex that only the `Once`'s
//! initializer takes, so it is never contended and never blocks.

use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::PoisonError;

use crate::sync::OnceLock;

/// A value made on first use. Like [`std::sync::LazyLock`].
pub struct LazyLock<T, F = fn() -> T> {
    cell: OnceLock<T>,
    init: std::sync::Mutex<Option<F>>,
}

impl<T, F: FnOnce() -> T> LazyLock<T, F> {
    /// A lazy value made by `f` on first use. `const`, so it can live in a
    /// `static` (under loom, create it inside the model).
    pub const fn new(f: F) -> LazyLock<T, F> {
        LazyLock { cell: OnceLock::new(), init: std::sync::Mutex::new(Some(f)) }
    }

    /// The value, made first if needed. Like [`std::sync::LazyLock::force`].
    ///
    /// # Panics
    ///
    /// When the initializing function panicked, now or earlier, as std's.
    #[track_caller]
    pub fn force(this: &LazyLock<T, F>) -> &T {
        this.cell.get_or_init(|| match this.take_init() {
            Some(f) => f(),
            None => poisoned(),
        })
    }

    /// The value through a unique borrow, made first if needed. Like
    /// [`std::sync::LazyLock::force_mut`].
    ///
    /// # Panics
    ///
    /// As [`LazyLock::force`].
    pub fn force_mut(this: &mut LazyLock<T, F>) -> &mut T {
        if this.cell.get_mut().is_none() {
            let f = this.init.get_mut().unwrap_or_else(PoisonError::into_inner).take();
            let value = match f {
                Some(f) => f(),
                None => poisoned(),
            };
            this.cell = OnceLock::from(value);
        }
        this.cell.get_mut().expect("just initialized")
    }

    fn take_init(&self) -> Option<F> {
        self.init.lock().unwrap_or_else(PoisonError::into_inner).take()
    }
}

impl<T, F> LazyLock<T, F> {
    /// The value if already made. Like [`std::sync::LazyLock::get`];
    /// recorded, as [`OnceLock::get`].
    #[track_caller]
    pub fn get(this: &LazyLock<T, F>) -> Option<&T> {
        this.cell.get()
    }

    /// The value if already made, through a unique borrow. Like
    /// [`std::sync::LazyLock::get_mut`].
    pub fn get_mut(this: &mut LazyLock<T, F>) -> Option<&mut T> {
        this.cell.get_mut()
    }
}

#[cold]
#[track_caller]
fn poisoned() -> ! {
    panic!("LazyLock instance has previously been poisoned")
}

impl<T, F: FnOnce() -> T> Deref for LazyLock<T, F> {
    type Target = T;

    #[track_caller]
    fn deref(&self) -> &T {
        LazyLock::force(self)
    }
}

impl<T, F: FnOnce() -> T> DerefMut for LazyLock<T, F> {
    fn deref_mut(&mut self) -> &mut T {
        LazyLock::force_mut(self)
    }
}

impl<T: Default> Default for LazyLock<T> {
    fn default() -> Self {
        LazyLock::new(T::default)
    }
}

impl<T: fmt::Debug, F> fmt::Debug for LazyLock<T, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_tuple("LazyLock");
        match self.cell.get() {
            Some(value) => d.field(value),
            None => d.field(&format_args!("<uninit>")),
        };
        d.finish()
    }
}

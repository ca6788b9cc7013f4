//! `OnceLock`: a cell written once, built on reprise's [`Once`].
//!
//! The `Once` decides, recorded and replayed, which thread initializes the
//! cell and when each thread sees it initialized; the value itself sits in a
//! std `OnceLock` that only the `Once`'s initializer writes, so it is never
//! contended and never blocks. A read goes by the `Once` (`get` returns
//! `None` until the `Once` says complete, even if the value is already in),
//! so replay returns what the recording saw.

use std::fmt;

use crate::sync::once::Once;

/// A cell written once. Like [`std::sync::OnceLock`].
pub struct OnceLock<T> {
    once: Once,
    value: std::sync::OnceLock<T>,
}

impl<T> OnceLock<T> {
    /// An empty cell. `const`, so it can live in a `static` (under loom,
    /// create it inside the model).
    pub const fn new() -> OnceLock<T> {
        OnceLock { once: Once::new(), value: std::sync::OnceLock::new() }
    }

    /// The value, if initialized. Like [`std::sync::OnceLock::get`];
    /// recorded, so replay answers as the recording did at this point.
    #[track_caller]
    pub fn get(&self) -> Option<&T> {
        if self.once.is_completed() {
            self.value.get()
        } else {
            None
        }
    }

    /// The value, through a unique borrow (no event: nobody else can race).
    /// Like [`std::sync::OnceLock::get_mut`].
    pub fn get_mut(&mut self) -> Option<&mut T> {
        self.value.get_mut()
    }

    /// Blocks until the cell is initialized. Like
    /// [`std::sync::OnceLock::wait`].
    #[track_caller]
    pub fn wait(&self) -> &T {
        self.once.wait_force();
        self.initialized()
    }

    /// Initializes the cell with `value` unless it already is, blocking
    /// while another thread initializes it. Like
    /// [`std::sync::OnceLock::set`].
    ///
    /// # Errors
    ///
    /// Gives `value` back when the cell was already initialized.
    #[track_caller]
    pub fn set(&self, value: T) -> Result<(), T> {
        match self.try_insert(value) {
            Ok(_) => Ok(()),
            Err((_, value)) => Err(value),
        }
    }

    #[track_caller]
    fn try_insert(&self, value: T) -> Result<&T, (&T, T)> {
        let mut value = Some(value);
        let stored = self.get_or_init(|| value.take().expect("the initializer runs once"));
        match value {
            None => Ok(stored),
            Some(value) => Err((stored, value)),
        }
    }

    /// The value, initializing it with `f` first if the cell is empty. Like
    /// [`std::sync::OnceLock::get_or_init`]: when `f` panics, the cell stays
    /// empty and the next caller initializes it.
    #[track_caller]
    pub fn get_or_init<F>(&self, f: F) -> &T
    where
        F: FnOnce() -> T,
    {
        if let Some(value) = self.get() {
            return value;
        }
        self.once.initialize(true, |_| {
            let _ = self.value.set(f());
        });
        self.initialized()
    }

    /// Consumes the cell, returning its value if initialized. Like
    /// [`std::sync::OnceLock::into_inner`].
    pub fn into_inner(self) -> Option<T> {
        self.value.into_inner()
    }

    /// Takes the value out, leaving the cell empty. Like
    /// [`std::sync::OnceLock::take`].
    pub fn take(&mut self) -> Option<T> {
        let value = self.value.take();
        if value.is_some() {
            self.once = Once::new();
        }
        value
    }

    /// The value, once the `Once` completed: its initializer set it first.
    fn initialized(&self) -> &T {
        self.value.get().expect("a completed OnceLock holds its value")
    }
}

impl<T> Default for OnceLock<T> {
    fn default() -> Self {
        OnceLock::new()
    }
}

impl<T> From<T> for OnceLock<T> {
    /// A cell initialized with `value` (no event: nobody has it yet).
    fn from(value: T) -> Self {
        OnceLock { once: Once::completed(), value: std::sync::OnceLock::from(value) }
    }
}

impl<T: Clone> Clone for OnceLock<T> {
    #[track_caller]
    fn clone(&self) -> Self {
        match self.get() {
            Some(value) => OnceLock::from(value.clone()),
            None => OnceLock::new(),
        }
    }
}

impl<T: fmt::Debug> fmt::Debug for OnceLock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_tuple("OnceLock");
        match self.get() {
            Some(value) => d.field(value),
            None => d.field(&format_args!("<uninit>")),
        };
        d.finish()
    }
}

impl<T: PartialEq> PartialEq for OnceLock<T> {
    #[track_caller]
    fn eq(&self, other: &OnceLock<T>) -> bool {
        self.get() == other.get()
    }
}

impl<T: Eq> Eq for OnceLock<T> {}

//! The floor's mutex: std's, with an acquisition count kept inside it and
//! logged by each lock. Unlocking logs nothing: the acquisitions' order is
//! all a replay needs.

use std::ops::{Deref, DerefMut};
use std::sync::{LockResult, PoisonError};

use super::log::{self, Op};

/// A value and how many times its mutex was locked.
struct Counted<T> {
    acquisitions: u64,
    value: T,
}

/// std's `Mutex`, counting its acquisitions.
pub(crate) struct Mutex<T>(std::sync::Mutex<Counted<T>>);

/// The guard of a locked [`Mutex`].
pub(crate) struct MutexGuard<'a, T>(std::sync::MutexGuard<'a, Counted<T>>);

impl<T> Mutex<T> {
    /// A mutex holding `value`.
    pub(crate) fn new(value: T) -> Self {
        Mutex(std::sync::Mutex::new(Counted { acquisitions: 0, value }))
    }

    /// Locks it, as std's `lock`; logs the acquisition's count.
    pub(crate) fn lock(&self) -> LockResult<MutexGuard<'_, T>> {
        let (mut guard, poisoned) = match self.0.lock() {
            Ok(guard) => (guard, false),
            Err(poison) => (poison.into_inner(), true),
        };
        guard.acquisitions += 1;
        log::append(Op::Lock, guard.acquisitions);
        let guard = MutexGuard(guard);
        if poisoned {
            Err(PoisonError::new(guard))
        } else {
            Ok(guard)
        }
    }
}

impl<T> Deref for MutexGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0.value
    }
}

impl<T> DerefMut for MutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.0.value
    }
}

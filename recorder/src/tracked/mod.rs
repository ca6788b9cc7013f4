//! `Tracked<T>`: a cell whose reads and writes are recorded as accesses, so
//! that `reprise races` can look for conflicting accesses that nothing
//! orders (data races) and for a thread's read and write of it split by
//! another thread's write (a lost update).
//!
//! An access is not synchronization: the cell's own lock keeps it memory
//! safe, but the happens-before analysis never draws an edge through it.
//! Replay admits a cell's accesses in the recorded order (reads too: what a
//! read sees is this run's value), and the explorer makes each access a
//! scheduling point.
//!
//! This file is the shell; `record.rs`, `replay.rs` and `explore.rs` are the
//! backends. Under `--cfg reprise_loom` only passthrough exists.
//!
//! ```
//! use std::sync::Arc;
//! use reprise_recorder::{thread, Tracked};
//!
//! let balance = Arc::new(Tracked::new(100i64));
//! let other = Arc::clone(&balance);
//! let t = thread::spawn(move || other.update(|b| *b -= 30));
//! t.join().unwrap();
//! assert_eq!(balance.get(), 70);
//! ```

#[cfg(not(reprise_loom))]
mod explore;
#[cfg(not(reprise_loom))]
mod record;
#[cfg(not(reprise_loom))]
mod replay;

use std::fmt;
use std::panic::Location;
use std::sync::{Mutex, MutexGuard};

use crate::rt::mode::{self, Mode};
#[cfg(not(reprise_loom))]
use crate::rt::object::ObjectSlot;

/// Whether an access reads or writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Access {
    Read,
    Write,
}

/// A shared value whose every read and write is recorded as an access.
pub struct Tracked<T> {
    #[cfg(not(reprise_loom))]
    pub(crate) slot: ObjectSlot,
    /// The value and how many accesses it has had.
    cell: Mutex<(T, u64)>,
}

crate::named::nameable!([T] Tracked<T>, Tracked, |t| t.slot);

impl<T> Tracked<T> {
    /// A new cell holding `value`. `const`, so it can live in a `static`.
    #[track_caller]
    pub const fn new(value: T) -> Tracked<T> {
        Tracked {
            #[cfg(not(reprise_loom))]
            slot: ObjectSlot::here(),
            cell: Mutex::new((value, 0)),
        }
    }

    /// Consumes the cell, returning the value (not an access: nobody else
    /// can see it any more).
    pub fn into_inner(self) -> T {
        self.cell.into_inner().unwrap_or_else(|p| p.into_inner()).0
    }

    /// A copy of the value: a read.
    #[track_caller]
    pub fn get(&self) -> T
    where
        T: Copy,
    {
        self.access(Access::Read, Location::caller(), |v| *v)
    }

    /// `f` of the value: a read.
    #[track_caller]
    pub fn read<R>(&self, f: impl FnOnce(&T) -> R) -> R {
        self.access(Access::Read, Location::caller(), |v| f(v))
    }

    /// Replaces the value: a write.
    #[track_caller]
    pub fn set(&self, value: T) {
        self.access(Access::Write, Location::caller(), move |v| *v = value);
    }

    /// Changes the value in place: one write (the cell is not read
    /// separately, so nothing can come between).
    #[track_caller]
    pub fn update<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        self.access(Access::Write, Location::caller(), f)
    }

    fn access<R>(
        &self,
        access: Access,
        location: &'static Location<'static>,
        f: impl FnOnce(&mut T) -> R,
    ) -> R {
        #[cfg(reprise_loom)]
        let _ = (access, location);
        match mode::mode() {
            Mode::Off => f(&mut self.lock().0),
            #[cfg(not(reprise_loom))]
            Mode::Record => record::access(self, access, location, f),
            #[cfg(not(reprise_loom))]
            Mode::Gated => replay::access(self, access, location, f),
            #[cfg(not(reprise_loom))]
            Mode::Coop => explore::access(self, access, location, f),
        }
    }

    /// The cell's own lock: memory safety only, never recorded.
    pub(crate) fn lock(&self) -> MutexGuard<'_, (T, u64)> {
        self.cell.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl<T: Default> Default for Tracked<T> {
    #[track_caller]
    fn default() -> Tracked<T> {
        Tracked::new(T::default())
    }
}

impl<T: fmt::Debug> fmt::Debug for Tracked<T> {
    /// Shows the value without recording a read.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Tracked").field(&self.lock().0).finish()
    }
}

#[cfg(not(reprise_loom))]
impl Access {
    pub(crate) fn op(self) -> crate::trace::model::Op {
        match self {
            Access::Read => crate::trace::model::Op::TrackedRead,
            Access::Write => crate::trace::model::Op::TrackedWrite,
        }
    }

    pub(crate) fn outcome(self, access: u64) -> crate::trace::model::Outcome {
        match self {
            Access::Read => crate::trace::model::Outcome::TrackedRead { access },
            Access::Write => crate::trace::model::Outcome::TrackedWrite { access },
        }
    }
}

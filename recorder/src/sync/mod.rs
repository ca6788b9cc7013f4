//! Synchronization: `std::sync`'s locks and atomics, with every acquisition,
//! release, load and store an event.
//!
//! Each primitive is a std-shaped shell in its own folder, with one backend
//! file per mode beside it. Under `--cfg reprise_loom` the same shells run on
//! loom's objects: `Mutex`, `RwLock`, `Condvar` and the atomics keep their
//! signatures (`const fn new`, std's `LockResult`s, reprise's
//! [`WaitTimeoutResult`]), and [`Arc`] is loom's, which also checks that
//! every `Arc` is dropped by the end of each execution.
//!
//! `Barrier`, `Once`, `OnceLock` and `LazyLock` are reprise's own, built on
//! its `Mutex`, `Condvar` and atomics: who leads a barrier, which thread runs
//! an initializer and when the others see it done are lock acquisitions and
//! atomic loads, recorded and replayed like any other, and a thread waiting on
//! them is a blocked coroutine under the explorer. [`mpsc`] is std's channel
//! API over reprise's channels.
//!
//! Under loom, a primitive's loom object is made the first time an execution
//! uses it, so create primitives inside the model closure: one in a `static`
//! (or made before `loom::model`) would outlive its execution, and the next
//! execution that uses it panics and says so rather than alias another loom
//! object. `Barrier`, `Once`, `OnceLock`, `LazyLock` and `mpsc` run there on
//! the loom-backed mutex, condvar, atomics and channels, with the same rule
//! (so a `static` one is not for loom models). Not available under loom:
//! `Weak` (loom's `Arc` has none) and `RwLockWriteGuard::downgrade` (loom's
//! `RwLock` cannot downgrade). A `Mutex` or `RwLock` is poisoned under loom
//! as in std when a panic under its guard is caught inside the model (an
//! uncaught one ends the model).

pub mod atomic;
mod barrier;
mod condvar;
#[cfg(not(reprise_loom))]
mod explored_poison;
mod lazy_lock;
#[cfg(reprise_loom)]
pub(crate) mod loom_failed;
#[cfg(reprise_loom)]
mod loom_lazy;
pub mod mpsc;
mod mutex;
mod once;
mod once_lock;
pub(crate) mod passthrough;
mod rwlock;

#[cfg(reprise_loom)]
pub use ::loom::sync::Arc;
pub use barrier::{Barrier, BarrierWaitResult};
pub use condvar::{Condvar, WaitTimeoutResult};
pub use lazy_lock::LazyLock;
pub use mutex::{Mutex, MutexGuard};
pub use once::{Once, OnceState};
pub use once_lock::OnceLock;
pub use rwlock::{RwLock, RwLockReadGuard, RwLockWriteGuard};
#[cfg(not(reprise_loom))]
pub use std::sync::{Arc, LockResult, PoisonError, TryLockError, TryLockResult, Weak};
#[cfg(reprise_loom)]
pub use std::sync::{LockResult, PoisonError, TryLockError, TryLockResult};

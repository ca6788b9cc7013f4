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
//! Under loom, a primitive's loom object is made the first time an execution
//! uses it, so create primitives inside the model closure: one in a `static`
//! (or made before `loom::model`) would outlive its execution, and the next
//! execution that uses it panics and says so rather than alias another loom
//! object. Not available under loom: `Barrier` (loom does not implement it),
//! `Weak` (loom's `Arc` has none), `Once` and `OnceLock` (a std one could
//! block loom's only OS thread; use `loom::lazy_static!`).

pub mod atomic;
mod condvar;
#[cfg(reprise_loom)]
mod loom_lazy;
mod mutex;
mod rwlock;

#[cfg(reprise_loom)]
pub use ::loom::sync::Arc;
pub use condvar::{Condvar, WaitTimeoutResult};
pub use mutex::{Mutex, MutexGuard};
pub use rwlock::{RwLock, RwLockReadGuard, RwLockWriteGuard};
#[cfg(not(reprise_loom))]
pub use std::sync::{
    Arc, Barrier, LockResult, Once, OnceLock, PoisonError, TryLockError, TryLockResult, Weak,
};
#[cfg(reprise_loom)]
pub use std::sync::{LockResult, PoisonError, TryLockError, TryLockResult};

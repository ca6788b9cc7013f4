//! Synchronization under `--cfg reprise_loom`: the same names as reprise's
//! `sync`, model-checked by loom.
//!
//! `Mutex`, `RwLock`, `Condvar` and the atomics keep reprise's signatures
//! (`const fn new`, std's `LockResult`s, reprise's [`WaitTimeoutResult`]) and
//! run on loom's; [`Arc`] is loom's, which also checks that every `Arc` is
//! dropped by the end of each execution.
//!
//! A primitive's loom object is made the first time an execution uses it, so
//! create primitives inside the model closure: one in a `static` (or made
//! before `loom::model`) would outlive its execution, and the next execution
//! that uses it panics and says so rather than alias another loom object.
//!
//! Not available under loom: `Barrier` (loom does not implement it), `Weak`
//! (loom's `Arc` has none), `Once` and `OnceLock` (a std one could block
//! loom's only OS thread; use `loom::lazy_static!`).

pub mod atomic;
mod condvar;
mod mutex;
mod rwlock;

pub use condvar::{Condvar, WaitTimeoutResult};
pub use loom::sync::Arc;
pub use mutex::{Mutex, MutexGuard};
pub use rwlock::{RwLock, RwLockReadGuard, RwLockWriteGuard};
pub use std::sync::{LockResult, PoisonError, TryLockError, TryLockResult};

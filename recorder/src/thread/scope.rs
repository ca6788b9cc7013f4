//! Scoped threads: std's scope, whose threads join the execution like
//! spawned ones. Not under the explorer yet (a scope would block its one OS
//! thread) nor under loom (loom has no scoped threads).

use std::io;
use std::panic::Location;

use crate::rt::mode::{self, Mode};
use crate::trace::model::ThreadIndex;

use super::{join_os, lifecycle, record, replay, Builder, Result};

/// A scope for spawning threads that borrow from their environment. Like
/// [`std::thread::scope`]; the scope handle is a small `Copy` value, so a
/// thread that spawns more threads takes a copy (`let s = *s;`).
pub fn scope<'env, F, T>(f: F) -> T
where
    F: for<'scope> FnOnce(&Scope<'scope, 'env>) -> T,
{
    std::thread::scope(|inner| f(&Scope { inner }))
}

/// Threads spawned in a [`scope`]. Like [`std::thread::Scope`].
#[derive(Debug, Clone, Copy)]
pub struct Scope<'scope, 'env: 'scope> {
    inner: &'scope std::thread::Scope<'scope, 'env>,
}

impl<'scope, 'env> Scope<'scope, 'env> {
    /// Spawns a scoped thread. Like [`std::thread::Scope::spawn`].
    ///
    /// # Panics
    ///
    /// When the OS cannot create the thread.
    #[track_caller]
    pub fn spawn<F, T>(&self, f: F) -> ScopedJoinHandle<'scope, T>
    where
        F: FnOnce() -> T + Send + 'scope,
        T: Send + 'scope,
    {
        Builder::new().spawn_scoped(self, f).expect("failed to spawn thread")
    }
}

impl Builder {
    /// Spawns a scoped thread. Like [`std::thread::Builder::spawn_scoped`].
    ///
    /// # Errors
    ///
    /// When the OS cannot create the thread.
    ///
    /// # Panics
    ///
    /// Under the explorer, which does not support scoped threads yet.
    #[track_caller]
    pub fn spawn_scoped<'scope, 'env, F, T>(
        self,
        scope: &Scope<'scope, 'env>,
        f: F,
    ) -> io::Result<ScopedJoinHandle<'scope, T>>
    where
        F: FnOnce() -> T + Send + 'scope,
        T: Send + 'scope,
    {
        let seed = match mode::mode() {
            Mode::Off => None,
            Mode::Record => Some(record::spawn(self.name.clone(), Location::caller())),
            Mode::Gated => replay::spawn(self.name.clone(), Location::caller()),
            Mode::Coop => {
                panic!("reprise: thread::scope is not supported under the explorer yet; use thread::spawn")
            }
        };
        let index = seed.as_ref().map(|s| s.index);
        let inner = self.std_builder().spawn_scoped(scope.inner, move || lifecycle::thread_body(seed, f))?;
        Ok(ScopedJoinHandle { inner, index })
    }
}

/// An owned permission to join a scoped thread. Like
/// [`std::thread::ScopedJoinHandle`].
#[derive(Debug)]
pub struct ScopedJoinHandle<'scope, T> {
    inner: std::thread::ScopedJoinHandle<'scope, T>,
    index: Option<ThreadIndex>,
}

impl<T> ScopedJoinHandle<'_, T> {
    /// Waits for the thread to finish.
    ///
    /// # Errors
    ///
    /// The thread's panic payload, if it panicked.
    #[track_caller]
    pub fn join(self) -> Result<T> {
        let inner = self.inner;
        join_os(self.index, Location::caller(), move || inner.join())
    }

    /// Whether the thread has finished.
    pub fn is_finished(&self) -> bool {
        self.inner.is_finished()
    }
}

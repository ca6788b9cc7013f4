//! Threads under `--cfg reprise_loom`: loom's, behind reprise's `thread` API.
//!
//! loom runs at most `loom::MAX_THREADS` threads (the model's own included)
//! and has no scoped threads, so `scope`, `Scope`, `ScopedJoinHandle` and
//! `Builder::spawn_scoped` are not available under loom.

use std::fmt;
use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

pub use loom::thread::{current, yield_now, Thread, ThreadId};
pub use std::thread::{panicking, Result};

/// Spawns a loom thread. Like [`std::thread::spawn`].
///
/// # Panics
///
/// When loom refuses the thread (more than the model's `max_threads`).
#[track_caller]
pub fn spawn<F, T>(f: F) -> JoinHandle<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    Builder::new().spawn(f).expect("failed to spawn thread")
}

/// Advances the execution's virtual clock by `duration` and lets the other
/// threads run (a loom yield), so that polling loops with a sleep terminate.
#[track_caller]
pub fn sleep(duration: Duration) {
    crate::time::sleep(duration);
}

/// Configures a thread before spawning it. Like [`std::thread::Builder`].
#[derive(Debug, Default)]
pub struct Builder {
    name: Option<String>,
    stack_size: Option<usize>,
}

impl Builder {
    /// A builder with no name and the default stack size.
    pub fn new() -> Builder {
        Builder::default()
    }

    /// Names the thread.
    pub fn name(mut self, name: String) -> Builder {
        self.name = Some(name);
        self
    }

    /// Sets the stack size (loom's coroutine stack).
    pub fn stack_size(mut self, size: usize) -> Builder {
        self.stack_size = Some(size);
        self
    }

    /// Spawns the thread. Like [`std::thread::Builder::spawn`].
    ///
    /// # Errors
    ///
    /// As loom's `Builder::spawn`.
    #[track_caller]
    pub fn spawn<F, T>(self, f: F) -> io::Result<JoinHandle<T>>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        // Make the execution's state here, in the parent, before the child
        // exists: loom orders each later access after the one that made it,
        // and the spawn already orders the parent's past before the child.
        let _ = crate::loom_execution::current();
        let mut builder = loom::thread::Builder::new();
        if let Some(name) = self.name {
            builder = builder.name(name);
        }
        if let Some(size) = self.stack_size {
            builder = builder.stack_size(size);
        }
        let finished = std::sync::Arc::new(AtomicBool::new(false));
        let flag = Finished(std::sync::Arc::clone(&finished));
        let inner = builder.spawn(move || {
            let _flag = flag;
            f()
        })?;
        Ok(JoinHandle { inner, finished })
    }
}

/// Sets its flag when dropped: when the thread's closure returned or unwound.
struct Finished(std::sync::Arc<AtomicBool>);

impl Drop for Finished {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// An owned permission to join a loom thread. Like [`std::thread::JoinHandle`].
pub struct JoinHandle<T> {
    inner: loom::thread::JoinHandle<T>,
    /// A std flag, not a loom atomic: reading it is not a scheduling point and
    /// orders nothing, as std's `is_finished` (which is no synchronization).
    finished: std::sync::Arc<AtomicBool>,
}

impl<T> JoinHandle<T> {
    /// Waits for the thread to finish. Like [`std::thread::JoinHandle::join`].
    ///
    /// # Errors
    ///
    /// The thread's panic payload, if it panicked.
    #[track_caller]
    pub fn join(self) -> Result<T> {
        self.inner.join()
    }

    /// The underlying loom thread.
    pub fn thread(&self) -> &Thread {
        self.inner.thread()
    }

    /// Whether the thread's closure has returned.
    pub fn is_finished(&self) -> bool {
        self.finished.load(Ordering::Relaxed)
    }
}

impl<T> fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinHandle").field("thread", self.thread()).finish_non_exhaustive()
    }
}

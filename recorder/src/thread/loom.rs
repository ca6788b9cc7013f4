//! Threads under `--cfg reprise_loom`: loom's, behind the same shell.

use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use super::{Result, Thread};

/// Spawns `f` as a loom thread.
///
/// # Errors
///
/// As loom's `Builder::spawn`.
pub(super) fn spawn<F, T>(name: Option<String>, stack_size: Option<usize>, f: F) -> io::Result<LoomThread<T>>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    // Make the execution's state here, in the parent, before the child
    // exists: loom orders each later access after the one that made it,
    // and the spawn already orders the parent's past before the child.
    let _ = crate::loom_execution::current();
    let mut builder = loom::thread::Builder::new();
    if let Some(name) = name {
        builder = builder.name(name);
    }
    if let Some(size) = stack_size {
        builder = builder.stack_size(size);
    }
    let finished = Arc::new(AtomicBool::new(false));
    let flag = Finished(Arc::clone(&finished));
    let inner = builder.spawn(move || {
        let _flag = flag;
        f()
    })?;
    Ok(LoomThread { inner, finished })
}

/// Sets its flag when dropped: when the thread's closure returned or unwound.
struct Finished(Arc<AtomicBool>);

impl Drop for Finished {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// A loom thread, as its `JoinHandle` holds it.
pub(super) struct LoomThread<T> {
    inner: loom::thread::JoinHandle<T>,
    /// A std flag, not a loom atomic: reading it is not a scheduling point and
    /// orders nothing, as std's `is_finished` (which is no synchronization).
    finished: Arc<AtomicBool>,
}

impl<T> LoomThread<T> {
    /// Waits for the thread to finish.
    pub(super) fn join(self) -> Result<T> {
        let _blocking = crate::sync::loom_failed::Blocking::enter();
        self.inner.join()
    }

    /// The underlying loom thread.
    pub(super) fn thread(&self) -> &Thread {
        self.inner.thread()
    }

    /// Whether the thread's closure has returned or unwound.
    pub(super) fn is_finished(&self) -> bool {
        self.finished.load(Ordering::Relaxed)
    }
}

impl<T> std::fmt::Debug for LoomThread<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoomThread").field("thread", self.thread()).finish_non_exhaustive()
    }
}

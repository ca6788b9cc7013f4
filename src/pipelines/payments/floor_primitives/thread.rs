//! The floor's threads: std's, each logging its start, and its parent the
//! spawn and the join.

use std::any::Any;
use std::io;

pub(crate) use std::thread::yield_now;

use super::log::{self, Op};

/// std's `thread::Builder`, for named threads.
pub(crate) struct Builder(std::thread::Builder);

/// A spawned thread, to join.
pub(crate) struct JoinHandle<T>(std::thread::JoinHandle<T>);

impl Builder {
    /// A builder for a thread with std's defaults.
    #[allow(clippy::new_without_default)] // std's has none either
    pub(crate) fn new() -> Self {
        Builder(std::thread::Builder::new())
    }

    /// Names the thread.
    pub(crate) fn name(self, name: String) -> Self {
        Builder(self.0.name(name))
    }

    /// Spawns `body` on a new thread, which logs its start and adds its
    /// words to the floor's total at its end.
    pub(crate) fn spawn<F, T>(self, body: F) -> io::Result<JoinHandle<T>>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let handle = self.0.spawn(move || {
            log::start_thread();
            let result = body();
            log::end_thread();
            result
        })?;
        log::append(Op::Spawn, 0);
        Ok(JoinHandle(handle))
    }
}

impl<T> JoinHandle<T> {
    /// Waits for the thread to end, as std's `join`; logs the join.
    pub(crate) fn join(self) -> Result<T, Box<dyn Any + Send + 'static>> {
        let result = self.0.join();
        log::append(Op::Join, 0);
        result
    }
}

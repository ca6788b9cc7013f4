//! Threads under the explorer: each is a coroutine on the explorer's one OS
//! thread; a spawn and a join are scheduling points, and a join blocks in
//! the scheduler, not in the OS. Events are recorded as in record mode.

use std::panic::Location;
use std::sync::Arc;

use crate::rt::coop::{self, Resource};
use crate::trace::model::{Op, ThreadIndex};

use super::{lifecycle, record, JoinHandle, JoinInner, Result, Thread};

/// Where a coroutine thread leaves its result for its joiner.
type Slot<T> = Arc<parking_lot::Mutex<Option<Result<T>>>>;

/// A coroutine thread, as its [`JoinHandle`] holds it.
#[derive(Debug)]
pub(super) struct Coroutine<T> {
    index: ThreadIndex,
    slot: Slot<T>,
    /// The explorer's OS thread, which runs every coroutine.
    thread: Thread,
}

/// Spawns `f` as a coroutine of the running exploration.
pub(super) fn spawn<F, T>(name: Option<String>, location: &'static Location<'static>, f: F) -> JoinHandle<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    coop::switch(Op::Spawn, None, location);
    let seed = record::spawn(name, location);
    let index = seed.index;
    let slot: Slot<T> = Arc::new(parking_lot::Mutex::new(None));
    let filled = Arc::clone(&slot);
    coop::scheduler().spawn(
        index,
        Box::new(move || {
            let result = lifecycle::run_thread(seed, f);
            *filled.lock() = Some(result);
        }),
    );
    let inner = JoinInner::Coop(Coroutine { index, slot, thread: std::thread::current() });
    JoinHandle { inner, index: Some(index) }
}

impl<T> Coroutine<T> {
    /// Waits in the scheduler until the thread has finished.
    pub(super) fn join(self, location: &'static Location<'static>) -> Result<T> {
        coop::switch(Op::Join, None, location);
        loop {
            if let Some(result) = self.slot.lock().take() {
                crate::rt::context::with(|ctx| {
                    record::record_join(ctx, self.index, result.is_err(), location)
                });
                return result;
            }
            coop::block(&[Resource::Thread(self.index)], None, Op::Join, None, location);
        }
    }

    /// The explorer's OS thread.
    pub(super) fn thread(&self) -> &Thread {
        &self.thread
    }

    /// Whether the coroutine has returned or unwound.
    pub(super) fn is_finished(&self) -> bool {
        self.slot.lock().is_some()
    }
}

/// A scheduling point: spin loops need one to let the others run.
pub(super) fn yield_now(location: &'static Location<'static>) {
    coop::yield_point(location);
}

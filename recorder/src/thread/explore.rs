//! Threads under the explorer: each is a coroutine on the explorer's one OS
//! thread; a spawn and a join are scheduling points, and a join blocks in
//! the scheduler, not in the OS. Events are recorded as in record mode.

use std::panic::Location;
use std::sync::Arc;

use crate::rt::context::ChildSeed;
use crate::rt::coop::{self, Resource};
use crate::trace::model::{Op, ThreadIndex};

use super::{handle, lifecycle, record, JoinHandle, JoinInner, Result, Thread};

/// Where a coroutine thread leaves its result for its joiner.
type Slot<T> = Arc<parking_lot::Mutex<Option<Result<T>>>>;

/// A coroutine thread, as its [`JoinHandle`] holds it.
#[derive(Debug)]
pub(super) struct Coroutine<T> {
    index: ThreadIndex,
    slot: Slot<T>,
}

/// The scheduling point of a spawn, the spawn's event, and the child's seed
/// and handle.
pub(super) fn begin_spawn(name: Option<String>, location: &'static Location<'static>) -> (ChildSeed, Thread) {
    coop::switch(Op::Spawn, None, location);
    let seed = record::spawn(name.clone(), location);
    (seed, Thread::new(name, None))
}

/// Runs `f` as the coroutine thread `seed` names, with `thread` as its
/// handle, on a stack of `stack` bytes if given; hands its result to `done`.
fn start<F, T>(
    seed: ChildSeed,
    thread: Thread,
    stack: Option<usize>,
    f: F,
    done: impl FnOnce(Result<T>) + 'static,
) where
    F: FnOnce() -> T + 'static,
{
    let index = seed.index;
    let name = thread.name().map(str::to_owned);
    coop::scheduler().spawn(
        index,
        name.as_deref(),
        stack,
        Box::new(move || {
            let result = lifecycle::run_thread(seed, move || {
                handle::set_coop_current(thread);
                f()
            });
            done(result);
        }),
    );
}

/// Spawns `f` as a coroutine of the running exploration.
pub(super) fn spawn<F, T>(
    name: Option<String>,
    stack: Option<usize>,
    location: &'static Location<'static>,
    f: F,
) -> JoinHandle<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let (seed, thread) = begin_spawn(name, location);
    let index = seed.index;
    let slot: Slot<T> = Arc::new(parking_lot::Mutex::new(None));
    let filled = Arc::clone(&slot);
    start(seed, thread.clone(), stack, f, move |result| *filled.lock() = Some(result));
    let inner = JoinInner::Coop(Coroutine { index, slot });
    JoinHandle { inner, index: Some(index), thread }
}

/// Waits in the scheduler until thread `index` is finished, as `finished`
/// says, then records the join.
pub(super) fn join_when<T>(
    index: ThreadIndex,
    location: &'static Location<'static>,
    mut finished: impl FnMut() -> Option<Result<T>>,
) -> Result<T> {
    coop::switch(Op::Join, None, location);
    loop {
        if let Some(result) = finished() {
            crate::rt::context::with(|ctx| record::record_join(ctx, index, result.is_err(), location));
            return result;
        }
        coop::block(&[Resource::Thread(index)], None, Op::Join, None, location);
    }
}

impl<T> Coroutine<T> {
    /// Waits in the scheduler until the thread has finished.
    pub(super) fn join(self, location: &'static Location<'static>) -> Result<T> {
        join_when(self.index, location, || self.slot.lock().take())
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

//! A scope's count of its threads, and each thread's packet: its result,
//! shared by the thread and its handle; the last to let go of it tells the
//! scope, which is what the scope's end waits for.

use std::marker::PhantomData;
use std::panic::{self as std_panic, AssertUnwindSafe, Location};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::rt::coop::{self, Resource};
use crate::thread::Result;
use crate::trace::model::{Op, ThreadIndex};

/// What a scope and its threads share.
#[derive(Debug)]
pub(super) struct ScopeData {
    /// Made under the explorer: its threads are coroutines, and its end
    /// waits in the scheduler.
    coop: bool,
    running: parking_lot::Mutex<usize>,
    all_done: parking_lot::Condvar,
    a_thread_panicked: AtomicBool,
    /// The coroutine threads' indexes, which the end blocks on.
    coroutines: parking_lot::Mutex<Vec<ThreadIndex>>,
}

impl ScopeData {
    pub(super) fn new(coop: bool) -> ScopeData {
        ScopeData {
            coop,
            running: parking_lot::Mutex::new(0),
            all_done: parking_lot::Condvar::new(),
            a_thread_panicked: AtomicBool::new(false),
            coroutines: parking_lot::Mutex::new(Vec::new()),
        }
    }

    pub(super) fn running(&self) -> usize {
        *self.running.lock()
    }

    pub(super) fn a_thread_panicked(&self) -> bool {
        self.a_thread_panicked.load(Ordering::Acquire)
    }

    pub(super) fn add_coroutine(&self, index: ThreadIndex) {
        self.coroutines.lock().push(index);
    }

    fn decrement(&self, unhandled_panic: bool) {
        if unhandled_panic {
            self.a_thread_panicked.store(true, Ordering::Release);
        }
        let mut running = self.running.lock();
        *running -= 1;
        if *running == 0 {
            self.all_done.notify_all();
        }
    }

    /// Waits until every packet is dropped: on the OS, or (a coroutine
    /// scope) blocked in the scheduler on the threads, as a join.
    pub(super) fn wait_all(&self, location: &'static Location<'static>) {
        if self.coop {
            while self.running() > 0 {
                let on: Vec<Resource> = self.coroutines.lock().iter().map(|&t| Resource::Thread(t)).collect();
                coop::block(&on, None, Op::Join, None, location);
            }
        } else {
            let mut running = self.running.lock();
            while *running > 0 {
                self.all_done.wait(&mut running);
            }
        }
    }
}

/// A scoped thread's result, until joined.
pub(super) struct Packet<'scope, T> {
    scope: Arc<ScopeData>,
    result: parking_lot::Mutex<Option<Result<T>>>,
    _scope: PhantomData<&'scope ()>,
}

impl<'scope, T> Packet<'scope, T> {
    /// A packet of a thread of `scope`, counted by it until dropped.
    pub(super) fn new(scope: &Arc<ScopeData>) -> Arc<Packet<'scope, T>> {
        *scope.running.lock() += 1;
        Arc::new(Packet {
            scope: Arc::clone(scope),
            result: parking_lot::Mutex::new(None),
            _scope: PhantomData,
        })
    }

    /// The thread's last act: its result in, its share of the packet out.
    pub(super) fn finish(self: Arc<Self>, result: Result<T>) {
        *self.result.lock() = Some(result);
    }

    /// The result, if the thread has finished.
    pub(super) fn try_take(&self) -> Option<Result<T>> {
        self.result.lock().take()
    }

    /// The result of a thread known to have finished.
    pub(super) fn take(&self) -> Result<T> {
        self.try_take().unwrap_or_else(|| Err(Box::new("reprise: a scoped thread ended without a result")))
    }
}

impl<T> Drop for Packet<'_, T> {
    fn drop(&mut self) {
        let unhandled_panic = matches!(self.result.get_mut(), Some(Err(_)));
        // Dropped here, before the scope hears of it: the result may borrow
        // from the scope. A panicking drop must not keep the count up.
        let result = self.result.get_mut().take();
        let _ = std_panic::catch_unwind(AssertUnwindSafe(move || drop::<Option<Result<T>>>(result)));
        self.scope.decrement(unhandled_panic);
    }
}

//! A scope's count of its threads, and each thread's packet: its result,
//! shared by the thread and its handle; the last to let go of it tells the
//! scope, which is what the scope's end waits for.

use std::marker::PhantomData;
use std::panic::{self as std_panic, AssertUnwindSafe, Location};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::rt::context;
use crate::rt::coop::{self, Resource};
use crate::rt::gated::{self, ReplayStopped};
use crate::rt::mode::{self, Mode};
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
    /// A thread was unwound by its replay's stop, which is no panic of the
    /// program: the end stops too.
    a_thread_stopped: AtomicBool,
    /// The execution's indexes of the threads whose packets are alive: what
    /// the end blocks on (in the scheduler), or says it waits for (to the
    /// deadlock monitor).
    children: parking_lot::Mutex<Vec<ThreadIndex>>,
    /// The execution's indexes of every thread the scope spawned.
    spawned: parking_lot::Mutex<Vec<ThreadIndex>>,
    /// Threads whose result nobody took (no `join`), each with whether it
    /// panicked: the end joins them, and records those joins, so that the
    /// trace orders the scope's threads before what follows the scope.
    unjoined: parking_lot::Mutex<Vec<(ThreadIndex, bool)>>,
}

impl ScopeData {
    pub(super) fn new(coop: bool) -> ScopeData {
        ScopeData {
            coop,
            running: parking_lot::Mutex::new(0),
            all_done: parking_lot::Condvar::new(),
            a_thread_panicked: AtomicBool::new(false),
            a_thread_stopped: AtomicBool::new(false),
            children: parking_lot::Mutex::new(Vec::new()),
            spawned: parking_lot::Mutex::new(Vec::new()),
            unjoined: parking_lot::Mutex::new(Vec::new()),
        }
    }

    pub(super) fn running(&self) -> usize {
        *self.running.lock()
    }

    pub(super) fn a_thread_panicked(&self) -> bool {
        self.a_thread_panicked.load(Ordering::Acquire)
    }

    /// Whether a thread was unwound by its replay's stop.
    pub(super) fn a_thread_stopped(&self) -> bool {
        self.a_thread_stopped.load(Ordering::Acquire)
    }

    fn decrement(&self, index: Option<ThreadIndex>, unjoined: bool, unhandled_panic: bool, stopped: bool) {
        if unhandled_panic {
            self.a_thread_panicked.store(true, Ordering::Release);
        }
        if stopped {
            self.a_thread_stopped.store(true, Ordering::Release);
        }
        if let Some(index) = index {
            self.children.lock().retain(|&t| t != index);
            if unjoined {
                self.unjoined.lock().push((index, unhandled_panic));
            }
        }
        *self.running.lock() -= 1;
        // Every one: a waiting end names the next thread it waits for.
        self.all_done.notify_all();
    }

    /// Waits until every packet is dropped: on the OS, or (a coroutine
    /// scope) blocked in the scheduler on the threads, as a join. Recording,
    /// the wait is shown to the deadlock monitor as a join of a thread still
    /// running; replaying, a wait where the thread's log ends is parked
    /// there, as the recording left it.
    pub(super) fn wait_all(&self, location: &'static Location<'static>) {
        self.follow_recorded_joins(location);
        if self.coop {
            while self.running() > 0 {
                let on: Vec<Resource> = self.children.lock().iter().map(|&t| Resource::Thread(t)).collect();
                coop::block(&on, None, Op::Join, None, location);
            }
            self.join_unjoined(location);
            return;
        }
        let mode = mode::mode();
        let parked = mode == Mode::Gated && self.running() > 0 && gated::park_if_log_ends(Op::Join, location);
        let mut running = self.running.lock();
        while *running > 0 {
            let target = self.children.lock().first().copied();
            let shown = mode == Mode::Record && target.is_some();
            if let (true, Some(target)) = (shown, target) {
                context::with(|ctx| ctx.block(Op::Join, target, location, false));
            }
            self.all_done.wait(&mut running);
            if shown {
                context::with(|ctx| ctx.unblock());
            }
        }
        drop(running);
        if parked {
            // The replay is over (the gate let this thread go only then):
            // its threads are done, so it may unwind as any stopped thread.
            gated::stop();
        }
        if !self.a_thread_stopped() {
            self.join_unjoined(location);
        }
    }

    /// Replaying: the end's joins the trace holds, each as soon as its own
    /// thread has ended, as the trace orders them, before waiting for the
    /// rest. The recording made them once every thread had ended, but a
    /// join's one edge is from its own thread's exit, so the numbering may
    /// put the end's join of one thread before another's events; a replay
    /// waiting for all first could never reach that point (`--stop-at`
    /// there waited for good, silent). Joins it replays here are not in the
    /// log's way when [`ScopeData::join_unjoined`] looks after the wait.
    fn follow_recorded_joins(&self, location: &'static Location<'static>) {
        let mine = |thread: ThreadIndex| self.spawned.lock().contains(&thread);
        loop {
            match mode::mode() {
                Mode::Gated => {
                    let Some(thread) = gated::next_join().filter(|&t| mine(t)) else { return };
                    let _ = crate::thread::replay::join(thread, location, || Ok(()));
                }
                Mode::Coop if coop::follows_trace() => {
                    let Some((thread, panicked)) = coop::next_join().filter(|&(t, _)| mine(t)) else {
                        return;
                    };
                    let mut ended = || (!self.children.lock().contains(&thread)).then(|| joined(panicked));
                    let _ = crate::thread::explore::join_when(thread, location, &mut ended);
                }
                Mode::Off | Mode::Record | Mode::Coop => return,
            }
        }
    }

    /// The end's joins of the threads nobody joined, in the order of their
    /// indexes (the order they finished in is the OS's): recorded, replayed
    /// or explored as a `join` at the scope's call site. Without them the
    /// trace had no edge from a scoped thread's exit to what the scope's
    /// caller does next, and every view numbered the caller's later events
    /// before the scoped threads' own. A trace written before these joins
    /// were recorded has none: its replay joins nothing here.
    fn join_unjoined(&self, location: &'static Location<'static>) {
        let mut unjoined = std::mem::take(&mut *self.unjoined.lock());
        unjoined.sort_unstable();
        for (thread, panicked) in unjoined {
            match mode::mode() {
                Mode::Record => {
                    context::with(|ctx| crate::thread::record::record_join(ctx, thread, panicked, location))
                }
                Mode::Gated if gated::next_join() == Some(thread) => {
                    let _ = crate::thread::replay::join(thread, location, || Ok(()));
                }
                Mode::Coop
                    if !coop::follows_trace() || coop::next_join().is_some_and(|(t, _)| t == thread) =>
                {
                    let mut result = Some(joined(panicked));
                    let _ = crate::thread::explore::join_when(thread, location, || result.take());
                }
                Mode::Off | Mode::Gated | Mode::Coop => {}
            }
        }
    }
}

/// What an explorer's join of a scope's thread records whether it panicked
/// from: the thread's own result was dropped with its packet, so a panic's
/// stands in for it.
fn joined(panicked: bool) -> Result<()> {
    if panicked {
        Err(Box::new(()))
    } else {
        Ok(())
    }
}

/// A scoped thread's result, until joined.
pub(super) struct Packet<'scope, T> {
    scope: Arc<ScopeData>,
    /// The thread's index in the execution; `None` in passthrough.
    index: Option<ThreadIndex>,
    result: parking_lot::Mutex<Option<Result<T>>>,
    _scope: PhantomData<&'scope ()>,
}

impl<'scope, T> Packet<'scope, T> {
    /// A packet of thread `index` of `scope`, counted by it until dropped.
    pub(super) fn new(scope: &Arc<ScopeData>, index: Option<ThreadIndex>) -> Arc<Packet<'scope, T>> {
        *scope.running.lock() += 1;
        if let Some(index) = index {
            scope.children.lock().push(index);
            scope.spawned.lock().push(index);
        }
        Arc::new(Packet {
            scope: Arc::clone(scope),
            index,
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
        let stopped = matches!(self.result.get_mut(), Some(Err(p)) if p.is::<ReplayStopped>());
        let unjoined = self.result.get_mut().is_some();
        let unhandled_panic = matches!(self.result.get_mut(), Some(Err(_))) && !stopped;
        // Dropped here, before the scope hears of it: the result may borrow
        // from the scope. A panicking drop must not keep the count up.
        let result = self.result.get_mut().take();
        let _ = std_panic::catch_unwind(AssertUnwindSafe(move || drop::<Option<Result<T>>>(result)));
        self.scope.decrement(self.index, unjoined, unhandled_panic, stopped);
    }
}

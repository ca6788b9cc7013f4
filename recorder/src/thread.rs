//! Threads: `std::thread`'s API, with spawn, join and exit as events.
//!
//! A thread spawned here joins its parent's execution (a recording, a replay)
//! and is named by its spawn path, the same in every run that follows the
//! same schedule.

use std::any::Any;
use std::io;
use std::panic::{self as std_panic, AssertUnwindSafe, Location};
use std::time::Duration;

use std::sync::Arc;

use crate::rt::context::{self, ChildSeed, Mode, ThreadCtx};
use crate::rt::coop::{self, Resource};
use crate::rt::gate::{Happened, WaitFor};
use crate::rt::gated::{self, ReplayStopped};
use crate::rt::panic;
use crate::trace::model::{Op, ThreadIndex};

pub use std::thread::{current, panicking, Result, Thread, ThreadId};

/// The call site of thread start and exit events: one place, the same in
/// every mode.
fn lifecycle_site() -> &'static Location<'static> {
    Location::caller()
}

/// Record mode: the thread's first event.
pub(crate) fn record_start(ctx: &mut ThreadCtx) {
    ctx.record(Op::ThreadStart, 0, lifecycle_site(), [0; 3]);
}

/// Record mode: the thread's last event; flushes its buffer.
pub(crate) fn record_exit(ctx: &mut ThreadCtx, panicked: bool) {
    ctx.record(Op::ThreadExit, 0, lifecycle_site(), [u64::from(panicked), 0, 0]);
    ctx.close_buffer();
    ctx.shared.exited.store(true, std::sync::atomic::Ordering::Release);
}

/// Runs `f` as the thread `seed` describes, with its start, panic and exit
/// recorded or replayed. The thread's context is removed afterwards.
pub(crate) fn run_thread<F, T>(seed: ChildSeed, f: F) -> std::result::Result<T, Box<dyn Any + Send>>
where
    F: FnOnce() -> T,
{
    let ctx = ThreadCtx::new(seed);
    let gated = ctx.exec.gate().cloned();
    let index = ctx.index;
    context::install(Box::new(ctx));
    match &gated {
        None => context::with(record_start),
        Some(gate) => {
            gate.thread_started(index);
            let started = std_panic::catch_unwind(|| gated::begin(Op::ThreadStart, None, lifecycle_site()));
            if started.is_err() {
                gate.thread_finished(index);
                context::take();
                return Err(Box::new(ReplayStopped));
            }
        }
    }
    let outcome = std_panic::catch_unwind(AssertUnwindSafe(f));
    let stopped = matches!(&outcome, Err(p) if p.is::<ReplayStopped>());
    let panicked = outcome.is_err();
    if let (Err(payload), false) = (&outcome, stopped) {
        let message = panic::message(payload.as_ref());
        let site = panic::take_site();
        if context::try_with(|ctx| ctx.exec.coop) == Some(true) {
            coop::scheduler().panicked(index, &message);
        }
        match &gated {
            // `try_with`: an explorer tearing down a run unwinds coroutines
            // whose contexts are no longer installed.
            None => {
                context::try_with(|ctx| ctx.record_panic(&message, &site));
            }
            Some(_) => {
                let _ = std_panic::catch_unwind(AssertUnwindSafe(|| gated::check_panic(&message, &site)));
            }
        }
    }
    match &gated {
        None => {
            context::try_with(|ctx| record_exit(ctx, panicked));
        }
        Some(gate) => {
            if !stopped && context::mode() == Mode::Gated {
                let _ = std_panic::catch_unwind(|| {
                    if let Some(call) = gated::begin(Op::ThreadExit, None, lifecycle_site()) {
                        call.happened(Happened::Exited(index));
                    }
                });
            }
            gate.thread_finished(index);
        }
    }
    context::take();
    outcome
}

fn spawn_seed(name: Option<String>, location: &'static Location<'static>) -> Option<ChildSeed> {
    match context::mode() {
        Mode::Off => None,
        Mode::Record | Mode::Coop => Some(context::with(|ctx| {
            let index = ctx.exec.allocate_thread();
            ctx.record(Op::Spawn, 0, location, [u64::from(index), 0, 0]);
            ctx.child_seed(index, name.unwrap_or_default())
        })),
        Mode::Gated => {
            let call = gated::begin(Op::Spawn, None, location)?;
            let index = call.event.a as ThreadIndex;
            Some(context::with(|ctx| ctx.child_seed(index, name.unwrap_or_default())))
        }
    }
}

fn thread_body<F, T>(seed: Option<ChildSeed>, f: F) -> T
where
    F: FnOnce() -> T,
{
    match seed {
        None => f(),
        Some(seed) => match run_thread(seed, f) {
            Ok(value) => value,
            Err(payload) => std_panic::resume_unwind(payload),
        },
    }
}

/// Where a join waits, shared by [`JoinHandle`] and [`ScopedJoinHandle`].
fn join_with<T>(
    target: Option<ThreadIndex>,
    location: &'static Location<'static>,
    join: impl FnOnce() -> Result<T>,
) -> Result<T> {
    let Some(target) = target else { return join() };
    match context::mode() {
        Mode::Off | Mode::Coop => join(),
        Mode::Record => {
            context::with(|ctx| ctx.block(Op::Join, target, location, false));
            let result = join();
            context::with(|ctx| {
                ctx.unblock();
                ctx.record(Op::Join, 0, location, [u64::from(target), u64::from(result.is_err()), 0]);
            });
            result
        }
        Mode::Gated => {
            let Some(call) = gated::begin(Op::Join, None, location) else { return join() };
            if call.event.a != u64::from(target) {
                call.diverge(format!("joined thread {target}, the recording joined thread {}", call.event.a));
            }
            call.wait(WaitFor::Exit(target));
            join()
        }
    }
}

/// Spawns a thread in the current execution. Like [`std::thread::spawn`].
///
/// # Panics
///
/// When the OS cannot create the thread, as std's does.
#[track_caller]
pub fn spawn<F, T>(f: F) -> JoinHandle<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    Builder::new().spawn(f).expect("failed to spawn thread")
}

/// Cooperative mode: waits in the scheduler until the thread has finished.
fn join_coop<T>(
    target: ThreadIndex,
    location: &'static Location<'static>,
    slot: &CoopResult<T>,
) -> Result<T> {
    coop::switch(Op::Join, None, location);
    loop {
        if let Some(result) = slot.lock().take() {
            context::with(|ctx| {
                ctx.record(Op::Join, 0, location, [u64::from(target), u64::from(result.is_err()), 0]);
            });
            return result;
        }
        coop::block(&[Resource::Thread(target)], None, Op::Join, None, location);
    }
}

/// Where a coroutine thread leaves its result for its joiner.
type CoopResult<T> = Arc<parking_lot::Mutex<Option<Result<T>>>>;

/// Offers to let other threads run. Like [`std::thread::yield_now`]; under
/// the explorer it is a scheduling point (spin loops need one).
#[track_caller]
pub fn yield_now() {
    if context::mode() == Mode::Coop {
        coop::yield_point(Location::caller());
    } else {
        std::thread::yield_now();
    }
}

/// Sleeps. In replay the recorded sleep returns at once.
#[track_caller]
pub fn sleep(duration: Duration) {
    crate::time::sleep_at(duration, Location::caller());
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

    /// Names the thread (also in the trace's thread table).
    pub fn name(mut self, name: String) -> Builder {
        self.name = Some(name);
        self
    }

    /// Sets the stack size.
    pub fn stack_size(mut self, size: usize) -> Builder {
        self.stack_size = Some(size);
        self
    }

    fn std_builder(&self) -> std::thread::Builder {
        let mut b = std::thread::Builder::new();
        if let Some(name) = &self.name {
            b = b.name(name.clone());
        }
        if let Some(size) = self.stack_size {
            b = b.stack_size(size);
        }
        b
    }

    /// Spawns the thread. Like [`std::thread::Builder::spawn`].
    ///
    /// # Errors
    ///
    /// When the OS cannot create the thread.
    #[track_caller]
    pub fn spawn<F, T>(self, f: F) -> io::Result<JoinHandle<T>>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let location = Location::caller();
        let coop = context::mode() == Mode::Coop;
        if coop {
            coop::switch(Op::Spawn, None, location);
        }
        let seed = spawn_seed(self.name.clone(), location);
        let index = seed.as_ref().map(|s| s.index);
        let seed = match (coop, seed) {
            (true, Some(seed)) => Err(seed),
            (_, seed) => Ok(seed),
        };
        if let Err(seed) = seed {
            let slot: CoopResult<T> = Arc::new(parking_lot::Mutex::new(None));
            let filled = Arc::clone(&slot);
            let child = seed.index;
            coop::scheduler().spawn(
                child,
                Box::new(move || {
                    let result = run_thread(seed, f);
                    *filled.lock() = Some(result);
                }),
            );
            let inner = JoinInner::Coop { slot, thread: std::thread::current() };
            return Ok(JoinHandle { inner, index });
        }
        let seed = seed.unwrap_or_else(|_| unreachable!("handled above"));
        let inner = JoinInner::Os(self.std_builder().spawn(move || thread_body(seed, f))?);
        Ok(JoinHandle { inner, index })
    }

    /// Spawns a scoped thread. Like [`std::thread::Builder::spawn_scoped`].
    ///
    /// # Errors
    ///
    /// When the OS cannot create the thread.
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
        assert!(
            context::mode() != Mode::Coop,
            "reprise: thread::scope is not supported under the explorer yet; use thread::spawn"
        );
        let seed = spawn_seed(self.name.clone(), Location::caller());
        let index = seed.as_ref().map(|s| s.index);
        let inner = self.std_builder().spawn_scoped(scope.inner, move || thread_body(seed, f))?;
        Ok(ScopedJoinHandle { inner, index })
    }
}

/// An owned permission to join a thread. Like [`std::thread::JoinHandle`].
#[derive(Debug)]
pub struct JoinHandle<T> {
    inner: JoinInner<T>,
    index: Option<ThreadIndex>,
}

/// An OS thread, or a coroutine under the explorer.
#[derive(Debug)]
enum JoinInner<T> {
    Os(std::thread::JoinHandle<T>),
    Coop { slot: CoopResult<T>, thread: Thread },
}

impl<T> JoinHandle<T> {
    /// Waits for the thread to finish. Like [`std::thread::JoinHandle::join`].
    ///
    /// # Errors
    ///
    /// The thread's panic payload, if it panicked.
    #[track_caller]
    pub fn join(self) -> Result<T> {
        let location = Location::caller();
        match (self.inner, self.index) {
            (JoinInner::Os(inner), index) => join_with(index, location, move || inner.join()),
            (JoinInner::Coop { slot, .. }, Some(index)) => join_coop(index, location, &slot),
            (JoinInner::Coop { .. }, None) => unreachable!("a coroutine thread always has an index"),
        }
    }

    /// The underlying thread (under the explorer: the explorer's OS thread).
    pub fn thread(&self) -> &Thread {
        match &self.inner {
            JoinInner::Os(inner) => inner.thread(),
            JoinInner::Coop { thread, .. } => thread,
        }
    }

    /// Whether the thread has finished.
    pub fn is_finished(&self) -> bool {
        match &self.inner {
            JoinInner::Os(inner) => inner.is_finished(),
            JoinInner::Coop { slot, .. } => slot.lock().is_some(),
        }
    }
}

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
        join_with(self.index, Location::caller(), move || inner.join())
    }

    /// Whether the thread has finished.
    pub fn is_finished(&self) -> bool {
        self.inner.is_finished()
    }
}

impl ThreadCtx {
    /// Record mode: the thread's panic, with its message and call site.
    pub(crate) fn record_panic(&mut self, message: &str, site: &(String, u32, u32)) {
        self.record_at_content(Op::Panic, site, [message.len() as u64, 0, 0]);
        self.record_blob(message.as_bytes());
    }
}

//! Scoped threads: std's `scope`, with std's exact signatures, in every mode
//! but loom (which has no scoped threads). A scoped thread joins the
//! execution like a spawned one: an OS thread in record and replay, a
//! coroutine under the explorer, where the scope's end waits for its threads
//! in the scheduler, as joins, never blocking the explorer's OS thread.
//!
//! A scope counts its threads' packets (a thread's result, shared by the
//! thread and its handle); its end waits until every packet is dropped,
//! then panics if a thread panicked without being joined, as std's.

#[allow(unsafe_code)]
mod launch;
mod packet;

use std::fmt;
use std::io;
use std::marker::PhantomData;
use std::panic::{self as std_panic, AssertUnwindSafe, Location};
use std::sync::Arc;

use crate::rt::mode::{self, Mode};
use crate::trace::model::ThreadIndex;

use super::{explore, join_os, record, replay, Builder, Result, Thread};
use packet::{Packet, ScopeData};

/// Runs `f` with a scope for spawning threads that borrow from the caller's
/// stack, and waits for all of them. Like [`std::thread::scope`], with its
/// signature: a scoped thread may spawn more through the same `&Scope`.
///
/// # Panics
///
/// When `f` panics (after the threads are done), or when a thread panicked
/// and was not joined, as std's.
#[track_caller]
pub fn scope<'env, F, T>(f: F) -> T
where
    F: for<'scope> FnOnce(&'scope Scope<'scope, 'env>) -> T,
{
    let location = Location::caller();
    let scope = Scope {
        data: Arc::new(ScopeData::new(mode::mode() == Mode::Coop)),
        scope: PhantomData,
        env: PhantomData,
    };
    let result = std_panic::catch_unwind(AssertUnwindSafe(|| f(&scope)));
    scope.data.wait_all(location);
    if scope.data.a_thread_stopped() {
        // Its replay stopped: this thread stops too, as its gate would make
        // it at its next call.
        crate::rt::gated::stop();
    }
    match result {
        Err(payload) => std_panic::resume_unwind(payload),
        Ok(_) if scope.data.a_thread_panicked() => panic!("a scoped thread panicked"),
        Ok(value) => value,
    }
}

/// Threads spawned in a [`scope`]. Like [`std::thread::Scope`].
pub struct Scope<'scope, 'env: 'scope> {
    data: Arc<ScopeData>,
    /// Invariant in both, as std's: a scoped thread may borrow for exactly
    /// `'scope`, no longer.
    scope: PhantomData<&'scope mut &'scope ()>,
    env: PhantomData<&'env mut &'env ()>,
}

impl fmt::Debug for Scope<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Scope").field("running", &self.data.running()).finish_non_exhaustive()
    }
}

impl<'scope, 'env> Scope<'scope, 'env> {
    /// Spawns a scoped thread. Like [`std::thread::Scope::spawn`].
    ///
    /// # Panics
    ///
    /// When the OS cannot create the thread.
    #[track_caller]
    pub fn spawn<F, T>(&'scope self, f: F) -> ScopedJoinHandle<'scope, T>
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
    #[track_caller]
    pub fn spawn_scoped<'scope, 'env, F, T>(
        self,
        scope: &'scope Scope<'scope, 'env>,
        f: F,
    ) -> io::Result<ScopedJoinHandle<'scope, T>>
    where
        F: FnOnce() -> T + Send + 'scope,
        T: Send + 'scope,
    {
        let location = Location::caller();
        if mode::mode() == Mode::Coop {
            crate::rt::coop::reserve_stack(self.stack_size)?;
            let (seed, thread) = explore::begin_spawn(self.name, location);
            let index = seed.index;
            let packet: Arc<Packet<'scope, T>> = Packet::new(&scope.data, Some(index));
            launch::coroutine(seed, thread.clone(), self.stack_size, f, Arc::clone(&packet));
            return Ok(ScopedJoinHandle { os: None, index: Some(index), thread, packet });
        }
        let seed = match mode::mode() {
            Mode::Record => Some(record::spawn(self.name.clone(), location)),
            Mode::Gated => replay::spawn(self.name.clone(), location),
            Mode::Off | Mode::Coop => None,
        };
        let index = seed.as_ref().map(|s| s.index);
        let packet: Arc<Packet<'scope, T>> = Packet::new(&scope.data, index);
        let thread = Thread::new(self.name.clone(), None);
        let os = launch::os(self.std_builder(seed.is_some()), seed, thread.clone(), f, Arc::clone(&packet))?;
        thread.attach_os(os.thread().clone());
        Ok(ScopedJoinHandle { os: Some(os), index, thread, packet })
    }
}

/// An owned permission to join a scoped thread. Like
/// [`std::thread::ScopedJoinHandle`].
pub struct ScopedJoinHandle<'scope, T> {
    /// The OS thread; `None` for a coroutine thread.
    os: Option<std::thread::JoinHandle<()>>,
    /// The thread's index in the execution; `None` in passthrough.
    index: Option<ThreadIndex>,
    thread: Thread,
    packet: Arc<Packet<'scope, T>>,
}

impl<T> fmt::Debug for ScopedJoinHandle<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScopedJoinHandle").field("thread", &self.thread).finish_non_exhaustive()
    }
}

impl<T> ScopedJoinHandle<'_, T> {
    /// Waits for the thread to finish. Like
    /// [`std::thread::ScopedJoinHandle::join`].
    ///
    /// # Errors
    ///
    /// The thread's panic payload, if it panicked.
    #[track_caller]
    pub fn join(self) -> Result<T> {
        let location = Location::caller();
        let packet = self.packet;
        match (self.os, self.index) {
            (Some(os), index) => join_os(index, location, move || {
                // The body catches the thread's panic, so the OS join is Ok.
                let _ = os.join();
                packet.take()
            }),
            (None, Some(index)) => explore::join_when(index, location, || packet.try_take()),
            (None, None) => packet.take(),
        }
    }

    /// The thread's handle. Like [`std::thread::ScopedJoinHandle::thread`].
    pub fn thread(&self) -> &Thread {
        &self.thread
    }

    /// Whether the thread has finished. Like
    /// [`std::thread::ScopedJoinHandle::is_finished`]. Recorded as a
    /// captured value (see [`crate::capture()`]), as
    /// [`JoinHandle::is_finished`](crate::thread::JoinHandle::is_finished) is.
    #[track_caller]
    pub fn is_finished(&self) -> bool {
        crate::capture::capture(|| Arc::strong_count(&self.packet) == 1)
    }
}

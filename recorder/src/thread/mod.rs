//! Threads: `std::thread`'s API, with spawn, join and exit as events.
//!
//! A thread spawned here joins its parent's execution (a recording, a replay)
//! and is named by its spawn path, the same in every run that follows the
//! same schedule.
//!
//! This file is the shell: each call reads the thread's mode once and hands
//! over to one backend, `record.rs`, `replay.rs` (gated by a trace),
//! `explore.rs` (a coroutine under the explorer), or, under
//! `--cfg reprise_loom`, `loom.rs`. A thread's own run (start, panic, exit)
//! is in `lifecycle.rs`, scoped threads in `scope.rs`.
//!
//! A thread's handle ([`Thread`], [`ThreadId`], [`current`]) is reprise's
//! own (`handle.rs`), so that under the explorer each logical thread has its
//! own name, id and token; `park`, `park_timeout` and `Thread::unpark` are
//! events (`park/`).
//!
//! Under loom, threads are loom's: loom runs at most `loom::MAX_THREADS`
//! threads (the model's own included), its `Thread`, `ThreadId`, `current`
//! and `park` are used, `park_timeout` is a yield (a park that returns
//! spuriously, which std allows: loom has no time), and loom has no scoped
//! threads, so `scope`, `Scope`, `ScopedJoinHandle` and
//! `Builder::spawn_scoped` are not available.

#[cfg(not(reprise_loom))]
mod explore;
#[cfg(not(reprise_loom))]
mod handle;
#[cfg(not(reprise_loom))]
mod lifecycle;
#[cfg(reprise_loom)]
mod loom;
#[cfg(not(reprise_loom))]
mod park;
#[cfg(not(reprise_loom))]
mod record;
#[cfg(not(reprise_loom))]
mod replay;
#[cfg(not(reprise_loom))]
mod scope;

use std::io;
use std::panic::Location;
use std::time::Duration;

use crate::rt::mode::{self, Mode};
#[cfg(not(reprise_loom))]
use crate::trace::model::ThreadIndex;

pub use crate::local::{AccessError, LocalKey};
#[cfg(reprise_loom)]
pub use ::loom::thread::{current, park, Thread, ThreadId};
#[cfg(not(reprise_loom))]
pub use handle::{current, Thread, ThreadId};
#[cfg(not(reprise_loom))]
pub(crate) use lifecycle::run_thread;
#[cfg(not(reprise_loom))]
pub use park::{park, park_timeout};
#[cfg(not(reprise_loom))]
pub(crate) use record::{record_exit, record_start};
#[cfg(not(reprise_loom))]
pub use scope::{scope, Scope, ScopedJoinHandle};
#[cfg(reprise_loom)]
pub use std::thread::panicking;
pub use std::thread::Result;

/// Whether this thread is unwinding from a panic. Like
/// [`std::thread::panicking`], which counts panics per OS thread: under the
/// explorer, whose threads share one OS thread, std's answers true in every
/// thread while one is suspended mid-unwind (blocked in a `Drop`); this
/// answers for the calling thread alone.
#[cfg(not(reprise_loom))]
pub fn panicking() -> bool {
    crate::rt::coop::panicking()
}

/// [`park`] for at most `timeout`, under loom: a yield, after which it
/// returns (spuriously, which std allows: loom has no time).
#[cfg(reprise_loom)]
pub fn park_timeout(timeout: Duration) {
    let _ = timeout;
    ::loom::thread::yield_now();
}

/// How many threads the program should use. Like
/// [`std::thread::available_parallelism`]; recorded as a captured value, so
/// replay returns the recorded count on any machine (a recorded error
/// replays as an error of kind `Other` with the recorded message).
///
/// # Errors
///
/// As std's: when the count cannot be known.
#[track_caller]
pub fn available_parallelism() -> io::Result<std::num::NonZeroUsize> {
    match mode::mode() {
        Mode::Off => std::thread::available_parallelism(),
        #[cfg(not(reprise_loom))]
        Mode::Record | Mode::Gated | Mode::Coop => captured_parallelism(),
    }
}

#[cfg(not(reprise_loom))]
#[track_caller]
fn captured_parallelism() -> io::Result<std::num::NonZeroUsize> {
    let count = crate::capture::capture(|| {
        std::thread::available_parallelism().map(|n| n.get()).map_err(|e| e.to_string())
    });
    match count {
        Ok(n) => std::num::NonZeroUsize::new(n).ok_or_else(|| io::Error::other("zero threads recorded")),
        Err(message) => Err(io::Error::other(message)),
    }
}

/// Spawns a thread in the current execution. Like [`std::thread::spawn`].
///
/// # Panics
///
/// When the OS cannot create the thread, as std's does (under loom: when loom
/// refuses it, past the model's `max_threads`).
#[track_caller]
pub fn spawn<F, T>(f: F) -> JoinHandle<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    Builder::new().spawn(f).expect("failed to spawn thread")
}

/// Offers to let other threads run. Like [`std::thread::yield_now`]; under
/// the explorer and loom it is a scheduling point (spin loops need one).
#[track_caller]
pub fn yield_now() {
    match mode::mode() {
        #[cfg(not(reprise_loom))]
        Mode::Off | Mode::Record | Mode::Gated => std::thread::yield_now(),
        #[cfg(reprise_loom)]
        Mode::Off => ::loom::thread::yield_now(),
        #[cfg(not(reprise_loom))]
        Mode::Coop => explore::yield_now(Location::caller()),
    }
}

/// Sleeps. In replay the recorded sleep returns at once; under loom it
/// advances the execution's virtual clock and lets the other threads run.
#[track_caller]
pub fn sleep(duration: Duration) {
    crate::time::sleep_at(duration, Location::caller());
}

/// What a parallel replay adds to a stack size the program asks for: the
/// replay reads the thread's log (decoding its chunks), waits at the gate
/// and checks each event on the thread's own stack, where a recording
/// only appends to a buffer. A worker on a 16 KiB or 20 KB stack, fine
/// under std and recorded, overflowed it at its first replayed event in a
/// debug build and aborted the process (tests/unlike_fourteenth/stacks.rs).
/// Address space, mapped as it is touched.
#[cfg(not(reprise_loom))]
const REPLAY_STACK_HEADROOM: usize = 256 << 10;

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

    /// Sets the stack size (under loom: its coroutine's).
    pub fn stack_size(mut self, size: usize) -> Builder {
        self.stack_size = Some(size);
        self
    }

    /// The std builder for an OS thread; `seeded` when the thread is one of
    /// the execution's. A parallel replay's own bookkeeping runs on its
    /// threads' stacks on top of the program's (a size asked for gets
    /// [`REPLAY_STACK_HEADROOM`] more).
    #[cfg(not(reprise_loom))]
    fn std_builder(&self, seeded: bool) -> std::thread::Builder {
        let replayed = seeded && mode::mode() == Mode::Gated;
        let mut b = std::thread::Builder::new();
        if let Some(name) = &self.name {
            b = b.name(name.clone());
        }
        if let Some(size) = self.stack_size {
            b = b.stack_size(if replayed { size.saturating_add(REPLAY_STACK_HEADROOM) } else { size });
        }
        b
    }

    /// Spawns the thread. Like [`std::thread::Builder::spawn`].
    ///
    /// # Errors
    ///
    /// When the OS (under loom: loom) cannot create the thread.
    #[track_caller]
    pub fn spawn<F, T>(self, f: F) -> io::Result<JoinHandle<T>>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        match mode::mode() {
            #[cfg(not(reprise_loom))]
            Mode::Off => self.spawn_os(None, f),
            #[cfg(reprise_loom)]
            Mode::Off => {
                let inner = JoinInner::Loom(loom::spawn(self.name, self.stack_size, f)?);
                Ok(JoinHandle { inner })
            }
            #[cfg(not(reprise_loom))]
            Mode::Record => {
                let seed = record::spawn(self.name.clone(), Location::caller());
                self.spawn_os(Some(seed), f)
            }
            #[cfg(not(reprise_loom))]
            Mode::Gated => {
                let seed = replay::spawn(self.name.clone(), Location::caller());
                self.spawn_os(seed, f)
            }
            #[cfg(not(reprise_loom))]
            Mode::Coop => {
                crate::rt::coop::reserve_stack(self.stack_size)?;
                Ok(explore::spawn(self.name, self.stack_size, Location::caller(), f))
            }
        }
    }

    /// Spawns an OS thread that runs as `seed` says (`None`: outside any
    /// execution).
    #[cfg(not(reprise_loom))]
    fn spawn_os<F, T>(self, seed: Option<crate::rt::context::ChildSeed>, f: F) -> io::Result<JoinHandle<T>>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let index = seed.as_ref().map(|s| s.index);
        let thread = Thread::new(self.name.clone(), None);
        let child = thread.clone();
        let os = self.std_builder(seed.is_some()).spawn(move || {
            handle::set_os_current(child);
            lifecycle::thread_body(seed, f)
        })?;
        thread.attach_os(os.thread().clone());
        Ok(JoinHandle { inner: JoinInner::Os(os), index, thread })
    }
}

/// An owned permission to join a thread. Like [`std::thread::JoinHandle`].
#[derive(Debug)]
pub struct JoinHandle<T> {
    inner: JoinInner<T>,
    /// The thread's index in the execution; `None` in passthrough.
    #[cfg(not(reprise_loom))]
    index: Option<ThreadIndex>,
    /// Its handle, the one `current()` gives inside it.
    #[cfg(not(reprise_loom))]
    thread: Thread,
}

/// What a [`JoinHandle`] joins, by the backend that spawned it.
#[derive(Debug)]
enum JoinInner<T> {
    #[cfg(not(reprise_loom))]
    Os(std::thread::JoinHandle<T>),
    #[cfg(not(reprise_loom))]
    Coop(explore::Coroutine<T>),
    #[cfg(reprise_loom)]
    Loom(loom::LoomThread<T>),
}

impl<T> JoinHandle<T> {
    /// Waits for the thread to finish. Like [`std::thread::JoinHandle::join`].
    ///
    /// # Errors
    ///
    /// The thread's panic payload, if it panicked.
    #[track_caller]
    pub fn join(self) -> Result<T> {
        match self.inner {
            #[cfg(not(reprise_loom))]
            JoinInner::Os(inner) => join_os(self.index, Location::caller(), move || inner.join()),
            // A coroutine thread exists only under the explorer, whatever the
            // joiner's mode is by now.
            #[cfg(not(reprise_loom))]
            JoinInner::Coop(coroutine) => coroutine.join(Location::caller()),
            #[cfg(reprise_loom)]
            JoinInner::Loom(inner) => inner.join(),
        }
    }

    /// The thread's handle (under the explorer, the logical thread's).
    /// Like [`std::thread::JoinHandle::thread`].
    pub fn thread(&self) -> &Thread {
        #[cfg(not(reprise_loom))]
        return &self.thread;
        #[cfg(reprise_loom)]
        match &self.inner {
            JoinInner::Loom(inner) => inner.thread(),
        }
    }

    /// Whether the thread has finished. The answer depends on how the run
    /// interleaved: it is recorded as a captured value (see
    /// [`crate::capture()`]), and a replay gets the recorded answer.
    #[track_caller]
    pub fn is_finished(&self) -> bool {
        crate::capture::capture(|| self.finished_now())
    }

    fn finished_now(&self) -> bool {
        match &self.inner {
            #[cfg(not(reprise_loom))]
            JoinInner::Os(inner) => inner.is_finished(),
            #[cfg(not(reprise_loom))]
            JoinInner::Coop(coroutine) => coroutine.is_finished(),
            #[cfg(reprise_loom)]
            JoinInner::Loom(inner) => inner.is_finished(),
        }
    }
}

/// Joins an OS thread of the execution (`target`), shared by [`JoinHandle`]
/// and [`ScopedJoinHandle`]: `join` is the OS join.
#[cfg(not(reprise_loom))]
fn join_os<T>(
    target: Option<ThreadIndex>,
    location: &'static Location<'static>,
    join: impl FnOnce() -> Result<T>,
) -> Result<T> {
    let Some(target) = target else { return join() };
    match mode::mode() {
        Mode::Off | Mode::Coop => join(),
        Mode::Record => record::join(target, location, join),
        Mode::Gated => replay::join(target, location, join),
    }
}

#[cfg(all(test, reprise_loom))]
mod loom_tests;

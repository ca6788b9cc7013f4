//! reprise's own [`Thread`] and [`ThreadId`]: a logical thread's handle, the
//! same type in every mode. std's cannot serve: under the explorer every
//! logical thread runs on the explorer's one OS thread, so std's `current()`
//! would name that thread, not the logical one, and its `unpark` would wake
//! nothing the explorer models.
//!
//! OS threads (off, record, replay) keep their handle in a std thread-local;
//! coroutine threads (explorer) keep it in their context, which the explorer
//! swaps with the coroutine.

use std::cell::OnceCell;
use std::fmt;
use std::num::NonZeroU64;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use crate::rt::context;
use crate::rt::mode::{self, Mode};
use crate::rt::object::ObjectSlot;

/// A thread's unique identifier. Like [`std::thread::ThreadId`], but per
/// logical thread: under the explorer each coroutine thread has its own.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct ThreadId(NonZeroU64);

impl ThreadId {
    fn fresh() -> ThreadId {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        let id = NEXT.fetch_add(1, Ordering::Relaxed);
        // 2^64 threads are not made in a process's life.
        ThreadId(NonZeroU64::new(id).unwrap_or(NonZeroU64::MIN))
    }
}

/// A handle to a thread. Like [`std::thread::Thread`]: cheap to clone, and
/// the way to unpark the thread.
#[derive(Clone)]
pub struct Thread {
    pub(super) inner: Arc<Inner>,
}

pub(super) struct Inner {
    id: ThreadId,
    name: Option<String>,
    /// The OS thread running it; never set for a coroutine thread.
    pub(super) os: OnceLock<std::thread::Thread>,
    pub(super) parker: Parker,
}

/// What `park` and `unpark` share: the token, and the unparks counted for
/// the trace.
#[derive(Debug)]
pub(super) struct Parker {
    /// Names the parker in an execution (its park and unpark events' object).
    pub(super) slot: ObjectSlot,
    /// Unparks made in the execution that last used the parker: `(its id,
    /// how many)`, numbered from 1 (the parker's modification order). Per
    /// execution, since a handle (the main thread's) outlives a recording.
    pub(super) unparks: parking_lot::Mutex<(u32, u64)>,
    /// The token of a coroutine thread (an OS thread's is std's).
    pub(super) token: AtomicBool,
}

impl Thread {
    pub(super) fn new(name: Option<String>, os: Option<std::thread::Thread>) -> Thread {
        let cell = OnceLock::new();
        if let Some(os) = os {
            let _ = cell.set(os);
        }
        Thread {
            inner: Arc::new(Inner {
                id: ThreadId::fresh(),
                name,
                os: cell,
                parker: Parker {
                    slot: ObjectSlot::new(),
                    unparks: parking_lot::Mutex::new((0, 0)),
                    token: AtomicBool::new(false),
                },
            }),
        }
    }

    /// The thread's identifier. Like [`std::thread::Thread::id`].
    pub fn id(&self) -> ThreadId {
        self.inner.id
    }

    /// The thread's name, if it has one. Like [`std::thread::Thread::name`]:
    /// the main thread is `"main"`, a thread spawned without a name has none.
    pub fn name(&self) -> Option<&str> {
        self.inner.name.as_deref()
    }

    /// The OS thread now known to run it (a spawned thread's is set by the
    /// spawn and by the thread itself, whichever comes first).
    pub(super) fn attach_os(&self, os: std::thread::Thread) {
        let _ = self.inner.os.set(os);
    }
}

impl fmt::Debug for Thread {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Thread").field("id", &self.id()).field("name", &self.name()).finish_non_exhaustive()
    }
}

thread_local! {
    /// The handle of the logical thread this OS thread runs (off, record,
    /// replay).
    static OS_CURRENT: OnceCell<Thread> = const { OnceCell::new() };
}

/// A handle to the calling thread. Like [`std::thread::current`]; under the
/// explorer, the logical thread's (its name is the one its `Builder` gave).
pub fn current() -> Thread {
    match mode::mode() {
        Mode::Coop => coop_current(),
        Mode::Off | Mode::Record | Mode::Gated => os_current(),
    }
}

fn os_current() -> Thread {
    let make = || {
        let os = std::thread::current();
        Thread::new(os.name().map(str::to_owned), Some(os))
    };
    // A thread-local destructor asking late gets a handle of its own.
    OS_CURRENT.try_with(|cell| cell.get_or_init(make).clone()).unwrap_or_else(|_| make())
}

/// Makes `thread` the handle of the OS thread calling this (a spawned
/// thread's first act).
pub(super) fn set_os_current(thread: Thread) {
    thread.attach_os(std::thread::current());
    let _ = OS_CURRENT.try_with(|cell| cell.set(thread));
}

fn coop_current() -> Thread {
    context::with(|ctx| {
        let index = ctx.index;
        ctx.coop_thread
            .get_or_insert_with(|| {
                // The root thread, whose handle nobody made at a spawn.
                let name = if index == 0 { Some("main".to_owned()) } else { None };
                Thread::new(name, None)
            })
            .clone()
    })
}

/// Makes `thread` the handle of the running coroutine thread (a spawned
/// coroutine's first act).
pub(super) fn set_coop_current(thread: Thread) {
    context::with(|ctx| ctx.coop_thread = Some(thread));
}

impl Parker {
    /// Counts one more unpark in execution `exec`; its number.
    pub(super) fn count_unpark(&self, exec: u32) -> u64 {
        let mut counts = self.unparks.lock();
        if counts.0 != exec {
            *counts = (exec, 0);
        }
        counts.1 += 1;
        counts.1
    }

    /// How many unparks execution `exec` has made.
    pub(super) fn unparks(&self, exec: u32) -> u64 {
        let counts = self.unparks.lock();
        if counts.0 == exec {
            counts.1
        } else {
            0
        }
    }
}

//! Starting a scoped thread: its body borrows from its scope, and a thread
//! (an OS thread, a coroutine) runs only `'static` bodies, so the body's
//! lifetime is erased here, the one place that does it. std's own scope does
//! the same with `Builder::spawn_unchecked` (newer than this crate's minimum
//! Rust).
//!
//! Sound because each body ends by handing its result to its packet and
//! dropping its share of it, after everything it borrowed is dropped (`f`
//! is consumed by then), and the scope's end waits until every packet is
//! dropped. Under the explorer a torn-down run unwinds its fibers newest
//! first, so a scoped coroutine is gone before the thread whose stack it
//! borrows.

use std::io;
use std::sync::Arc;

use crate::rt::context::ChildSeed;
use crate::rt::coop;
use crate::thread::{handle, lifecycle, Thread};

use super::packet::Packet;

type Body<'scope> = Box<dyn FnOnce() + Send + 'scope>;

fn erase(body: Body<'_>) -> Body<'static> {
    // SAFETY: only the lifetime bound changes (the same fat pointer, the
    // same vtable). Callers are this file's two functions, whose bodies end
    // by dropping their packet, which the scope's end waits for (see the
    // module's comment).
    unsafe { std::mem::transmute::<Body<'_>, Body<'static>>(body) }
}

/// Spawns `f` on an OS thread as `seed` says (`None`: outside any execution).
pub(super) fn os<'scope, F, T>(
    builder: std::thread::Builder,
    seed: Option<ChildSeed>,
    thread: Thread,
    f: F,
    packet: Arc<Packet<'scope, T>>,
) -> io::Result<std::thread::JoinHandle<()>>
where
    F: FnOnce() -> T + Send + 'scope,
    T: Send + 'scope,
{
    let body: Body<'scope> = Box::new(move || {
        handle::set_os_current(thread);
        packet.finish(lifecycle::run_caught(seed, f));
    });
    builder.spawn(erase(body))
}

/// Starts `f` as the coroutine thread `seed` names, on a stack of `stack`
/// bytes if given.
pub(super) fn coroutine<'scope, F, T>(
    seed: ChildSeed,
    thread: Thread,
    stack: Option<usize>,
    f: F,
    packet: Arc<Packet<'scope, T>>,
) where
    F: FnOnce() -> T + Send + 'scope,
    T: Send + 'scope,
{
    let index = seed.index;
    let name = thread.name().map(str::to_owned);
    let body: Body<'scope> = Box::new(move || {
        let result = lifecycle::run_thread(seed, move || {
            handle::set_coop_current(thread);
            f()
        });
        packet.finish(result);
    });
    coop::scheduler().spawn(index, name.as_deref(), stack, erase(body));
}

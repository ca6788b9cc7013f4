//! Threads in record mode (and the explorer, which records the same events):
//! a thread's start, exit and panic, a spawn's child and a join's target.

use std::panic::Location;
use std::sync::atomic::Ordering;

use crate::rt::context::{self, ChildSeed, ThreadCtx};
use crate::thread::Result;
use crate::trace::model::{Outcome, ThreadIndex};

/// The call site of thread start and exit events: one place, the same in
/// every mode.
pub(super) fn lifecycle_site() -> &'static Location<'static> {
    Location::caller()
}

/// The thread's first event.
pub(crate) fn record_start(ctx: &mut ThreadCtx) {
    ctx.record_outcome(Outcome::ThreadStart, 0, lifecycle_site());
}

/// The thread's last event; flushes its buffer.
pub(crate) fn record_exit(ctx: &mut ThreadCtx, panicked: bool) {
    ctx.record_outcome(Outcome::ThreadExit { panicked }, 0, lifecycle_site());
    ctx.close_buffer();
    ctx.shared.exited.store(true, Ordering::Release);
}

/// Names the child about to be spawned and records the spawn.
pub(super) fn spawn(name: Option<String>, location: &'static Location<'static>) -> ChildSeed {
    context::with(|ctx| {
        let child = ctx.exec.allocate_thread();
        ctx.record_outcome(Outcome::Spawn { child }, 0, location);
        ctx.child_seed(child, name.unwrap_or_default())
    })
}

/// Joins `target` with `join`, the thread marked blocked on it meanwhile (a
/// deadlock report needs to see it), and records whether it had panicked.
pub(super) fn join<T>(
    target: ThreadIndex,
    location: &'static Location<'static>,
    join: impl FnOnce() -> Result<T>,
) -> Result<T> {
    context::with(|ctx| ctx.block(crate::trace::model::Op::Join, target, location, false));
    let result = join();
    context::with(|ctx| {
        ctx.unblock();
        record_join(ctx, target, result.is_err(), location);
    });
    result
}

/// Records a join of `joined`; the explorer's joins record it too.
pub(super) fn record_join(
    ctx: &mut ThreadCtx,
    joined: ThreadIndex,
    panicked: bool,
    location: &'static Location<'static>,
) {
    ctx.record_outcome(Outcome::Join { joined, panicked }, 0, location);
}

impl ThreadCtx {
    /// Record mode: the thread's panic, with its message and call site.
    pub(crate) fn record_panic(&mut self, message: &str, site: &(String, u32, u32)) {
        self.end_panic_watch();
        let outcome = Outcome::Panic { len: message.len() as u64 };
        self.record_at_content(outcome.op(), site, outcome.fields());
        self.record_blob(message.as_bytes());
    }
}

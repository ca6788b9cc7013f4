//! Threads in replay (gated) mode: a spawn gets its recorded child's index, a
//! join waits for the recorded thread's exit, and a thread's start, panic and
//! exit are checked against its log.

use std::panic::{self as std_panic, AssertUnwindSafe, Location};
use std::sync::Arc;

use crate::rt::context::{self, ChildSeed, Mode};
use crate::rt::gate::Gate;
use crate::rt::gated;
use crate::thread::Result;
use crate::trace::model::{Op, Outcome, ThreadIndex};

use super::record::lifecycle_site;

/// The thread `index` starts: its first recorded event. `false`: the replay
/// stopped there, the thread must not run.
pub(super) fn start(gate: &Arc<dyn Gate>, index: ThreadIndex) -> bool {
    gate.thread_started(index);
    let started = std_panic::catch_unwind(|| {
        if let Some(call) = gated::begin(Op::ThreadStart, None, lifecycle_site()) {
            // Its one outcome carries nothing, but a forged one is reported.
            call.outcome();
        }
    });
    if started.is_err() {
        gate.thread_finished(index);
    }
    started.is_ok()
}

/// The thread panicked: its log must hold the same panic next.
pub(super) fn check_panic(message: &str, site: &(String, u32, u32)) {
    let _ = std_panic::catch_unwind(AssertUnwindSafe(|| gated::check_panic(message, site)));
}

/// The thread `index` exits (`stopped`: unwound by its gate, so it has no
/// exit left to check) and tells its joiners.
pub(super) fn exit(gate: &Arc<dyn Gate>, index: ThreadIndex, stopped: bool) {
    if !stopped && context::mode() == Mode::Gated {
        let _ = std_panic::catch_unwind(|| {
            if let Some(call) = gated::begin(Op::ThreadExit, None, lifecycle_site()) {
                if let Some(outcome) = call.outcome() {
                    call.announce(&outcome);
                }
            }
        });
    }
    gate.thread_finished(index);
}

/// The child about to be spawned, with its recorded index. `None`: pass
/// through (the replay stopped while this thread unwinds).
pub(super) fn spawn(name: Option<String>, location: &'static Location<'static>) -> Option<ChildSeed> {
    let call = gated::begin(Op::Spawn, None, location)?;
    // `begin` matched the op, so the outcome is a spawn's; `None`: a forged
    // one, reported, and this thread is unwinding.
    let Some(Outcome::Spawn { child }) = call.outcome() else { return None };
    Some(context::with(|ctx| ctx.child_seed(child, name.unwrap_or_default())))
}

/// Joins `target` with `join` once its recorded exit has happened.
pub(super) fn join<T>(
    target: ThreadIndex,
    location: &'static Location<'static>,
    join: impl FnOnce() -> Result<T>,
) -> Result<T> {
    let Some(call) = gated::begin(Op::Join, None, location) else { return join() };
    let Some(outcome @ Outcome::Join { joined, .. }) = call.outcome() else { return join() };
    if joined != target {
        call.diverge(format!("joined thread {target}, the recording joined thread {joined}"));
    }
    call.wait_for_outcome(&outcome);
    join()
}

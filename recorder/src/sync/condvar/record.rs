//! The condvar in record mode: a real wait, then the mutex's re-acquisition
//! number (read while holding it again) and whether the wait timed out.

use std::panic::Location;
use std::time::Duration;

use super::{off, Condvar};
use crate::rt::context;
use crate::rt::exec::{self, Progress, ProgressMark};
use crate::sync::mutex::{InnerGuard, Mutex};
use crate::trace::model::{ObjectIndex, ObjectKind, Op, Outcome};

impl Condvar {
    fn progress(&self) -> &Progress {
        self.progress.get_or_init(Progress::default)
    }
}

pub(super) fn wait<'a, T>(
    condvar: &Condvar,
    mutex: &Mutex<T>,
    mutex_object: ObjectIndex,
    guard: InnerGuard<'a, T>,
    timeout: Option<Duration>,
    location: &'static Location<'static>,
) -> (Result<InnerGuard<'a, T>, InnerGuard<'a, T>>, bool) {
    let object = context::with(|ctx| {
        let object = ctx.object(&condvar.slot, ObjectKind::Condvar, location);
        // Read while the mutex is still held, before the wait: a
        // notification that can wake this wait comes later.
        let mark = ctx.exec.closed_world.then(|| ProgressMark::read(condvar.progress()));
        ctx.shared.release(mutex_object);
        ctx.block_marked(Op::CondWait, mutex_object, location, timeout.is_some(), mark);
        object
    });
    let (result, timed_out) = off::wait(&condvar.inner, guard, timeout);
    let reacquisition = mutex.next_acquisition();
    context::with(|ctx| {
        ctx.unblock();
        ctx.shared.hold(mutex_object);
        let outcome = Outcome::CondWait { reacquisition, timed_out, mutex: mutex_object };
        ctx.record_outcome(outcome, object, location);
    });
    (result, timed_out)
}

pub(super) fn notify(condvar: &Condvar, all: bool, location: &'static Location<'static>) {
    let counted = context::with(|ctx| {
        let object = ctx.object(&condvar.slot, ObjectKind::Condvar, location);
        ctx.record_outcome(Outcome::Notify { all }, object, location);
        ctx.exec.closed_world
    });
    off::notify(&condvar.inner, all);
    // Counted once it took effect, for the deadlock monitor.
    if counted {
        exec::bump(condvar.progress());
    }
}

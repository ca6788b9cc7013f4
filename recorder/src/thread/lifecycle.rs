//! A thread's own run inside an execution: its start, its panic and its exit,
//! recorded (record and explore) or checked against the trace (replay).

use std::any::Any;
use std::panic::{self as std_panic, AssertUnwindSafe};

use crate::rt::context::{self, ChildSeed, ThreadCtx};
use crate::rt::coop;
use crate::rt::gated::ReplayStopped;
use crate::rt::panic;

use super::{record, replay};

/// Runs `f` as the thread `seed` describes, with its start, panic and exit
/// recorded or replayed. The thread's context is removed afterwards.
pub(crate) fn run_thread<F, T>(seed: ChildSeed, f: F) -> std::result::Result<T, Box<dyn Any + Send>>
where
    F: FnOnce() -> T,
{
    let ctx = ThreadCtx::new(seed);
    // Decided by the execution, not by the mode: a recording that failed
    // switched its threads to passthrough, and they still close their logs.
    let gate = ctx.exec.gate().cloned();
    let index = ctx.index;
    context::install(Box::new(ctx));
    match &gate {
        None => context::with(record::record_start),
        Some(gate) => {
            if !replay::start(gate, index) {
                context::take();
                return Err(Box::new(ReplayStopped));
            }
        }
    }
    let mut outcome = std_panic::catch_unwind(AssertUnwindSafe(f));
    let stopped = matches!(&outcome, Err(p) if p.is::<ReplayStopped>());
    // Its thread-locals' destructors run while the thread is still in the
    // execution (a stopped replay's thread leaves them to std). One that
    // panics is the thread's panic, unless the body panicked first (std
    // would abort the process; reprise must not).
    if !stopped {
        if let Err(payload) = crate::local::end_of_thread() {
            if outcome.is_ok() {
                outcome = Err(payload);
            }
        }
    }
    let panicked = outcome.is_err();
    if let (Err(payload), false) = (&outcome, stopped) {
        let message = panic::message(payload.as_ref());
        let site = panic::take_site();
        if context::try_with(|ctx| ctx.exec.coop) == Some(true) {
            coop::scheduler().panicked(index, &message);
        }
        match &gate {
            // `try_with`: an explorer tearing down a run unwinds coroutines
            // whose contexts are no longer installed.
            None => {
                context::try_with(|ctx| ctx.record_panic(&message, &site));
            }
            Some(_) => replay::check_panic(&message, &site),
        }
    }
    match &gate {
        None => {
            context::try_with(|ctx| record::record_exit(ctx, panicked));
        }
        Some(gate) => replay::exit(gate, index, stopped),
    }
    context::leave();
    outcome
}

/// `f` as the thread `seed` names (`None`: outside any execution), its
/// panic caught and handed back.
pub(super) fn run_caught<F, T>(seed: Option<ChildSeed>, f: F) -> std::result::Result<T, Box<dyn Any + Send>>
where
    F: FnOnce() -> T,
{
    match seed {
        None => std_panic::catch_unwind(AssertUnwindSafe(f)),
        Some(seed) => run_thread(seed, f),
    }
}

/// The body of an OS thread: `f`, inside the execution `seed` names, if any.
pub(super) fn thread_body<F, T>(seed: Option<ChildSeed>, f: F) -> T
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

#[cfg(test)]
mod tests;

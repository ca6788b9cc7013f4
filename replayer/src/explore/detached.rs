//! Running an exploration on an OS thread of its own, so the caller can be
//! told when an explored thread blocks where reprise cannot see (see
//! [`super::backstop`]) instead of blocking with it.

use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::Arc;
use std::time::Duration;

use super::backstop::{Sampler, Watch};
use super::stuck_unwinding::Stop;
use super::{trace_out, ExploreOutcome, Explorer};

/// How often the waiting thread reports progress. The exploring thread
/// only stores its count: a message per schedule would wake this thread
/// (a futex call and a context switch) for every schedule, which cost more
/// than a small schedule itself.
const PROGRESS_INTERVAL: Duration = Duration::from_millis(50);

/// [`Explorer::run_checked`]: explores on a new thread and waits for it on
/// this one, calling `progress` here (every [`PROGRESS_INTERVAL`] while the
/// count moves, and with the final count); abandons that thread, blocked,
/// when the backstop passes.
pub(super) fn run<F, R, C, P>(explorer: &Explorer, program: F, check: C, mut progress: P) -> ExploreOutcome
where
    F: Fn() -> R + Send + 'static,
    R: 'static,
    C: Fn(&R) -> Option<String> + Send + 'static,
    P: FnMut(u64),
{
    let watch = Arc::new(Watch::default());
    let (tx, rx) = mpsc::channel();
    let (exploring_with, header, theirs) =
        (explorer.clone(), trace_out::program_header(), Arc::clone(&watch));
    let exploring = std::thread::Builder::new()
        .name("reprise-explore".into())
        .spawn(move || {
            trace_out::restore_program_header(header);
            let counted = Arc::clone(&theirs);
            Watch::install(theirs);
            let explored = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                exploring_with.explore_here(program, check, |n| counted.schedules_done(n))
            }));
            let outcome = match explored {
                Ok(outcome) => outcome,
                // A run left a thread stuck mid-unwind: this thread's panic
                // count stays raised, so it makes no more runs.
                Err(payload) => match payload.downcast::<Stop>() {
                    Ok(stop) => ExploreOutcome {
                        stuck_unwinding: Some(stop.0),
                        ..ExploreOutcome::after(counted.schedules(), 0)
                    },
                    Err(payload) => std::panic::resume_unwind(payload),
                },
            };
            let _ = tx.send(Box::new(outcome));
        })
        .expect("reprise: cannot start the exploration's thread");
    let mut sampler = explorer.config.backstop.map(Sampler::new);
    let mut schedules = 0;
    let report = |progress: &mut P, schedules: &mut u64| {
        let n = watch.schedules();
        if n != *schedules {
            *schedules = n;
            progress(n);
        }
    };
    loop {
        let wait = sampler.as_ref().map_or(PROGRESS_INTERVAL, |s| s.interval().min(PROGRESS_INTERVAL));
        let message = rx.recv_timeout(wait);
        report(&mut progress, &mut schedules);
        match message {
            Ok(outcome) => {
                let _ = exploring.join();
                return *outcome;
            }
            Err(RecvTimeoutError::Timeout) => {
                if let Some(blocked) = sampler.as_mut().and_then(|s| s.sample(&watch, schedules)) {
                    // `exploring` is dropped: its thread is detached, blocked.
                    return ExploreOutcome { blocked: Some(blocked), ..ExploreOutcome::after(schedules, 0) };
                }
            }
            Err(RecvTimeoutError::Disconnected) => match exploring.join() {
                Err(panic) => std::panic::resume_unwind(panic),
                // Messages sent before the channel closed are still received.
                Ok(()) => unreachable!("the exploration's thread sends its outcome before it ends"),
            },
        }
    }
}

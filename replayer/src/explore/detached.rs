//! Running an exploration on an OS thread of its own, so the caller can be
//! told when an explored thread blocks where reprise cannot see (see
//! [`super::backstop`]) instead of blocking with it.

use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::Arc;

use super::backstop::{Sampler, Watch};
use super::{trace_out, ExploreOutcome, Explorer};

/// [`Explorer::run_checked`]: explores on a new thread and waits for it on
/// this one, calling `progress` here; abandons that thread, blocked, when
/// the backstop passes.
pub(super) fn run<F, R, C, P>(explorer: &Explorer, program: F, check: C, mut progress: P) -> ExploreOutcome
where
    F: Fn() -> R + Send + 'static,
    R: 'static,
    C: Fn(&R) -> Option<String> + Send + 'static,
    P: FnMut(u64),
{
    enum Message {
        Progress(u64),
        Done(Box<ExploreOutcome>),
    }
    let watch = Arc::new(Watch::default());
    let (tx, rx) = mpsc::channel();
    let (exploring_with, header, theirs) =
        (explorer.clone(), trace_out::program_header(), Arc::clone(&watch));
    let exploring = std::thread::Builder::new()
        .name("reprise-explore".into())
        .spawn(move || {
            trace_out::restore_program_header(header);
            Watch::install(theirs);
            let progress_tx = tx.clone();
            let outcome = exploring_with.explore_here(program, check, |n| {
                let _ = progress_tx.send(Message::Progress(n));
            });
            let _ = tx.send(Message::Done(Box::new(outcome)));
        })
        .expect("reprise: cannot start the exploration's thread");
    let mut sampler = explorer.config.backstop.map(Sampler::new);
    let mut schedules = 0;
    loop {
        let message = match &sampler {
            Some(sampler) => rx.recv_timeout(sampler.interval()),
            None => rx.recv().map_err(|_| RecvTimeoutError::Disconnected),
        };
        match message {
            Ok(Message::Progress(n)) => {
                schedules = n;
                progress(n);
            }
            Ok(Message::Done(outcome)) => {
                let _ = exploring.join();
                return *outcome;
            }
            Err(RecvTimeoutError::Timeout) => {
                if let Some(blocked) = sampler.as_mut().and_then(|s| s.sample(&watch, schedules)) {
                    // `exploring` is dropped: its thread is detached, blocked.
                    return ExploreOutcome {
                        schedules,
                        failure: None,
                        exhausted: false,
                        blocked: Some(blocked),
                    };
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

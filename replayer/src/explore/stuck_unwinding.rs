//! A run that ended with a thread blocked in a `Drop` while it unwinds: a
//! deadlock (or a spin) that goes through a panic's cleanup.
//!
//! Such a thread cannot be torn down: unwinding its fiber throws from the
//! call it is blocked in, inside a destructor already running for a panic,
//! and Rust aborts the process there. Its fiber is left as it is instead,
//! never resumed, and with it the raised panic count of the OS thread the
//! exploration runs on (std counts panics per OS thread): no further run
//! can be made on that thread, so the exploration stops with this report
//! (no minimized schedule, no trace) and its thread ends.

use std::fmt;

use reprise_recorder::hook::coop::CoopCall;
use reprise_recorder::trace::model::ThreadIndex;

/// A run ended with threads blocked mid-unwind; the exploration stopped.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct StuckUnwinding {
    /// How the run ended (a deadlock, a livelock).
    pub summary: String,
    /// The threads blocked while unwinding, with the call each waits in.
    pub threads: Vec<(ThreadIndex, Option<CoopCall>)>,
}

impl fmt::Display for StuckUnwinding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let threads: Vec<String> = self
            .threads
            .iter()
            .map(|(thread, call)| match call {
                Some(call) => {
                    let op = call.op.map_or("yield", |o| o.name());
                    format!("thread {thread} in {op} at {}", call.location)
                }
                None => format!("thread {thread}"),
            })
            .collect();
        write!(
            f,
            "{}, through a panic's cleanup: {} blocked in a Drop while unwinding. std would hang there \
             too. The explorer cannot unwind a thread stopped mid-unwind (Rust aborts a panic thrown \
             inside a destructor running for one), so it left it and stopped: no minimized schedule, no \
             trace. Look at what that Drop waits for while its thread unwinds",
            self.summary,
            threads.join(", ")
        )
    }
}

/// The panic payload that carries a [`StuckUnwinding`] from the run that
/// ended so to the exploration's top (`detached.rs`), past whatever was
/// running it (the search, a minimization, the traced re-run).
pub(crate) struct Stop(pub(crate) StuckUnwinding);

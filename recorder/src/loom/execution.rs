//! Under loom: which loom execution is running, and the state reprise keeps
//! per execution (a virtual clock, a random stream). The primitives' loom
//! objects, made on first use and stamped with the execution's id, are
//! `sync/loom_lazy.rs`'s.

use std::sync::atomic::{AtomicU64, Ordering};

/// The id the next execution gets (std's atomic: this counts executions, it is
/// not part of any model).
static NEXT_EXECUTION: AtomicU64 = AtomicU64::new(1);

/// What reprise keeps for one loom execution. Its fields are std atomics:
/// loom runs one thread at a time, so they change only between loom's
/// scheduling points, the same way in every run of the same schedule.
#[derive(Debug)]
pub(crate) struct Execution {
    /// This execution's id (distinct for every execution in the process).
    pub(crate) id: u64,
    /// Virtual time since the execution started, advanced only by sleeps.
    pub(crate) clock_nanos: AtomicU64,
    /// The state of the execution's random stream (xorshift).
    pub(crate) random: AtomicU64,
}

loom::lazy_static! {
    /// loom drops and re-creates its `lazy_static`s for every execution.
    static ref EXECUTION: Execution = Execution {
        id: NEXT_EXECUTION.fetch_add(1, Ordering::Relaxed),
        clock_nanos: AtomicU64::new(0),
        random: AtomicU64::new(0x9E37_79B9_7F4A_7C15),
    };
}

/// The running execution's state.
///
/// # Panics
///
/// Outside a loom execution (loom's own panic).
pub(crate) fn current() -> &'static Execution {
    &EXECUTION
}

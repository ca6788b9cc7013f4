//! The bug suite: small concurrent programs with one classic bug each, and a
//! fixed twin of each that must never fail. Written once over
//! `prim::{thread, sync}`: here `reprise::{thread, sync}`, in `shuttle/mod.rs`
//! the same files over `shuttle::{thread, sync}`, so both tools run the same
//! source. Shared by the `suite` bench (schedules to the first failure per
//! strategy), the `suite_shuttle` bench (the same under shuttle, and the
//! speed of both) and the `suite` test (a quick regression run).
//!
//! The sizes are fixed here, before any strategy was tuned against them: a
//! suite sized after the fact measures the tuning, not the search.

/// The primitives the programs are written over.
mod prim {
    pub(super) use reprise::{sync, thread};
}

mod deque;
mod lock_order;
mod lost_update;
mod lost_wakeup;
mod order_violation;
mod philosophers;
mod publication;
mod reorder;
mod token_ring;
mod two_stage;
mod uneven;

include!("catalog.rs");

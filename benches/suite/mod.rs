//! The bug suite: small concurrent programs with one classic bug each, and a
//! fixed twin of each that must never fail. Written for reprise's explorer
//! (`reprise::{thread, sync}`); shared by the `suite` bench (schedules to the
//! first failure per strategy) and the `suite` test (a quick regression run).
//!
//! The sizes are fixed here, before any strategy was tuned against them: a
//! suite sized after the fact measures the tuning, not the search.

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

/// How a buggy program's failure shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bug {
    /// A panic whose message contains this text.
    Panic(&'static str),
    /// A deadlock (the explorer's own verdict).
    Deadlock,
}

/// One program of the suite: the buggy version and its fixed twin.
#[derive(Clone, Copy, Debug)]
pub struct Program {
    /// Its name in the tables.
    pub name: &'static str,
    /// Threads, the main thread included.
    pub threads: usize,
    /// How its bug shows.
    pub bug: Bug,
    /// The buggy version.
    pub buggy: fn(),
    /// The fixed twin: never fails, on any schedule.
    pub fixed: fn(),
}

/// Every program, in table order.
pub const PROGRAMS: [Program; 14] = [
    Program {
        name: "reorder, 9 checkers",
        threads: 11,
        bug: Bug::Panic(reorder::BUG),
        buggy: || reorder::run(9, false),
        fixed: || reorder::run(9, true),
    },
    Program {
        name: "reorder, 99 checkers",
        threads: 101,
        bug: Bug::Panic(reorder::BUG),
        buggy: || reorder::run(99, false),
        fixed: || reorder::run(99, true),
    },
    Program {
        name: "two-stage, 10 writers",
        threads: 12,
        bug: Bug::Panic(two_stage::BUG),
        buggy: || two_stage::run(10, false),
        fixed: || two_stage::run(10, true),
    },
    Program {
        name: "two-stage, 50 writers",
        threads: 52,
        bug: Bug::Panic(two_stage::BUG),
        buggy: || two_stage::run(50, false),
        fixed: || two_stage::run(50, true),
    },
    Program {
        name: "two-stage, 99 writers",
        threads: 101,
        bug: Bug::Panic(two_stage::BUG),
        buggy: || two_stage::run(99, false),
        fixed: || two_stage::run(99, true),
    },
    Program {
        name: "uneven workloads",
        threads: 4,
        bug: Bug::Panic(uneven::BUG),
        buggy: || uneven::run(false),
        fixed: || uneven::run(true),
    },
    Program {
        name: "work-stealing deque",
        threads: 2,
        bug: Bug::Panic(deque::BUG),
        buggy: || deque::run(false),
        fixed: || deque::run(true),
    },
    Program {
        name: "5 dining philosophers",
        threads: 6,
        bug: Bug::Deadlock,
        buggy: || philosophers::run(5, false),
        fixed: || philosophers::run(5, true),
    },
    Program {
        name: "token ring, 5 nodes",
        threads: 6,
        bug: Bug::Panic(token_ring::BUG),
        buggy: || token_ring::run(5, false),
        fixed: || token_ring::run(5, true),
    },
    Program {
        name: "lost update",
        threads: 3,
        bug: Bug::Panic(lost_update::BUG),
        buggy: || lost_update::run(false),
        fixed: || lost_update::run(true),
    },
    Program {
        name: "lock-order deadlock",
        threads: 3,
        bug: Bug::Deadlock,
        buggy: || lock_order::run(false),
        fixed: || lock_order::run(true),
    },
    Program {
        name: "condvar lost wakeup",
        threads: 2,
        bug: Bug::Deadlock,
        buggy: || lost_wakeup::run(false),
        fixed: || lost_wakeup::run(true),
    },
    Program {
        name: "order violation",
        threads: 2,
        bug: Bug::Panic(order_violation::BUG),
        buggy: || order_violation::run(false),
        fixed: || order_violation::run(true),
    },
    Program {
        name: "publication race",
        threads: 2,
        bug: Bug::Panic(publication::BUG),
        buggy: || publication::run(false),
        fixed: || publication::run(true),
    },
];

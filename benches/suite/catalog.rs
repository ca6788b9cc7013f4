// The suite's catalog, included by `mod.rs` (over reprise) and by
// `shuttle/mod.rs` (over shuttle): the programs' modules are in scope in
// both.

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

/// The seed of search number `i`: fixed by the harness, the same on every
/// machine, not picked after looking at results.
#[allow(dead_code)] // the benches draw seeds; the test uses its own
pub fn seed(i: u64) -> u64 {
    let mut z = 0x5EED_5017_u64.wrapping_add(i.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// `median (found/seeds)`; the median counts a miss as more than the budget.
#[allow(dead_code)] // the benches' tables; the test asserts instead
pub fn cell(found: &[Option<u64>], budget: u64) -> String {
    let mut counts: Vec<u64> = found.iter().map(|f| f.unwrap_or(u64::MAX)).collect();
    counts.sort_unstable();
    let hits = found.iter().filter(|f| f.is_some()).count();
    let median = match counts[counts.len() / 2] {
        u64::MAX => format!("> {budget}"),
        n => n.to_string(),
    };
    format!("{median} ({hits}/{})", found.len())
}


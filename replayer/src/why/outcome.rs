//! What `why` found, and how a flipped run ended.

use crate::explore::FailureKind;

use super::pairs::Placed;

/// Two conflicting events on one object, in their recorded order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pair {
    /// The event that came first in the recording.
    pub first: Placed,
    /// The event of another thread on the same object that came after it.
    pub second: Placed,
}

/// How a run with a pair's order flipped ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Flip {
    /// The run ended without failing: this pair's order caused the failure.
    Gone,
    /// It failed as the recording did.
    Same,
    /// It failed another way (the summary).
    Different(String),
    /// The second event's thread could not reach it without the first's:
    /// the order cannot be flipped.
    Infeasible,
    /// The flipped run asked for a captured value the trace does not have
    /// (why, in words): what it would have done is unknown.
    Inconclusive(String),
}

/// The result of [`why`](super::why).
#[derive(Debug)]
#[non_exhaustive]
pub enum WhyOutcome {
    /// Following the recorded order, the program did not fail: nothing to
    /// explain.
    NotFailed,
    /// The run following the recorded order could not be made, or said
    /// nothing (why, in words): a program in a child process that exited
    /// without reporting, or did not end in time.
    NoRun {
        /// What went wrong.
        why: String,
    },
    /// The latest pair whose flip makes the failure go away.
    Found {
        /// The pair.
        pair: Pair,
    },
    /// No pair's flip made the failure go away within the budget.
    NotFound {
        /// Whether the budget ran out before every candidate was tried.
        budget_spent: bool,
        /// Whether the program fails even without the recorded order, run
        /// without preemption (its failure may not depend on the schedule).
        fails_anyway: bool,
        /// Pairs whose flip gave another failure.
        different: Vec<(Pair, String)>,
        /// Pairs whose flipped run was inconclusive, with why.
        inconclusive: Vec<(Pair, String)>,
    },
}

/// What [`why`](super::why) did and found.
#[derive(Debug)]
#[non_exhaustive]
pub struct WhyReport {
    /// The failure the recorded order reproduced (`None`: it did not fail).
    pub failure: Option<String>,
    /// The event from which on the failure no longer depends on the order
    /// (the shortest recorded prefix after which a run without preemption
    /// still fails), when it was found.
    pub critical: Option<u64>,
    /// Runs made, the reproduction included.
    pub runs: u64,
    /// Candidate pairs there were.
    pub candidates: usize,
    /// What was found.
    pub outcome: WhyOutcome,
}

/// Whether `b` is the failure `a` is, for deciding that a run still fails:
/// a panic with the same message, the same broken check (its numbers may
/// differ), a deadlock, a livelock.
pub(crate) fn same_failure(a: &FailureKind, b: &FailureKind) -> bool {
    match (a, b) {
        (FailureKind::Check { .. }, FailureKind::Check { .. }) => true,
        _ => a.same_kind(b),
    }
}

//! Why did it break: given a trace of a run that failed, find the two
//! conflicting events whose order caused it.
//!
//! The program runs under the explorer's scheduler following the recorded
//! order up to a point; there one thread is held back until another has
//! made its conflicting event on the same object (two lock turns, two
//! takes from one channel, an atomic's load and store), and the rest runs
//! without preemption. If the failure goes away, that pair's order caused
//! it. The search first bisects for the critical event (the shortest
//! recorded prefix after which the failure is certain), then tries the
//! pairs around it latest first and walks back, as Hermit's `analyze`
//! bisects schedules; every run counts against a budget.
//!
//! Limits: the runs are live runs of the program under the explorer, so
//! what the recording captured from outside (captures, the time, random
//! numbers) is produced again, not served from the trace.

mod flip;
mod outcome;
mod pairs;
mod search;

use std::rc::Rc;

use reprise_recorder::trace::read::TraceFile;

pub use outcome::{Flip, Pair, WhyOutcome, WhyReport};
pub use pairs::Placed;

use crate::views::number::number;

/// How much `why` may do.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct WhyConfig {
    /// Runs of the program at most, the reproduction and the bisection
    /// included. Default 200.
    pub budget: u64,
    /// Scheduling points per run before it counts as a livelock. Default
    /// 1,000,000.
    pub max_steps: u64,
}

impl Default for WhyConfig {
    fn default() -> Self {
        WhyConfig { budget: 200, max_steps: 1_000_000 }
    }
}

impl WhyConfig {
    /// Sets [`WhyConfig::budget`].
    pub fn budget(mut self, budget: u64) -> Self {
        self.budget = budget;
        self
    }
}

/// Finds the pair of events in `trace` whose order made `program` fail:
/// see the [module docs](self). A failure is a panic, a deadlock, a
/// livelock, or what `check` says of the result; `progress` is told about
/// every run.
pub fn why<F, R, C, P>(trace: &TraceFile, program: F, check: C, config: &WhyConfig, progress: P) -> WhyReport
where
    F: Fn() -> R + 'static,
    R: 'static,
    C: Fn(&R) -> Option<String>,
    P: FnMut(&str),
{
    let numbering = number(trace);
    let order: Rc<[flip::At]> = pairs::order(&numbering).into();
    let pairs = pairs::conflicting(&numbering);
    search::Search::new(program, check, progress, order, config).search(&pairs)
}

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
//! Captured values are served from the trace by (thread, call index), as a
//! coroutine replay serves them; a flipped run that asks for one the trace
//! lacks (it took another path) is inconclusive, not a fix. Clock readings
//! and random numbers are served the same way while the run follows the
//! recorded order (past it, the explorer's own: its virtual clock, its
//! seed), and a select takes the arm it took in the recording; the
//! earliest timer fires where the recorded order has its sleeper's next
//! event, as a time choice of the explorer. The order has no edges for
//! time, so a select that took a timer arm (or a timer's receive that got
//! its instant) may come in it before the timed waits that moved the clock
//! there in the recording: the clock moves to the recorded instant before
//! it runs, firing every timer due by then.

pub mod child;
mod flip;
mod outcome;
mod pairs;
pub mod process_group;
mod run;
mod search;

use reprise_recorder::trace::read::TraceFile;

pub use outcome::{Flip, Pair, WhyOutcome, WhyReport};
pub use pairs::Placed;
pub use run::{RunRequest, RunResult};

use crate::views::number::{number, Numbering};

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
    // Numbered once, for the plan the runs follow and the pairs they flip.
    let numbering = number(trace);
    let mut runs = run::InProcess::new(program, check, run::Plan::of_numbered(&numbering));
    search(&numbering, config, progress, |request| Ok(runs.run(request)))
}

/// [`why`] with the runs made by `run`: for a program that cannot be run
/// here as a closure, `run` starts it in a child process per run (see
/// [`child`]). `Err` from `run`: the run could not be made or said nothing
/// (why, in words); the first run's error ends the search
/// ([`WhyOutcome::NoRun`]), a flipped run's makes that flip inconclusive.
pub fn why_with<R, P>(trace: &TraceFile, config: &WhyConfig, progress: P, run: R) -> WhyReport
where
    R: FnMut(&RunRequest) -> Result<RunResult, String>,
    P: FnMut(&str),
{
    search(&number(trace), config, progress, run)
}

/// The search over a numbered trace's conflicting pairs.
fn search<R, P>(numbering: &Numbering<'_>, config: &WhyConfig, progress: P, run: R) -> WhyReport
where
    R: FnMut(&RunRequest) -> Result<RunResult, String>,
    P: FnMut(&str),
{
    let pairs = pairs::conflicting(numbering);
    search::Search::new(run, progress, numbering.len() as usize, config).search(&pairs)
}

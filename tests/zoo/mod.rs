//! The bug zoo: classic concurrency bugs written with reprise's primitives,
//! each next to its fixed twin. For every bug, a test states the strategy and
//! the budget that find it, and checks that the failing schedule's trace
//! replays to the same failure; the twin must pass the same budget.
//!
//! Every program checks its invariants in the root thread, after joining its
//! workers (a worker hands back what it saw): a failure is the root's panic
//! with the invariant's own message, which the trace's verdict must repeat
//! and replay must reach at the same call site. A deadlock must replay to a
//! deadlock of the same threads.
//!
//! Each file records, at its top, the schedule number (`Failure::schedule`,
//! counted from 0) at which its strategy found the bug with seed 0, and the
//! spread over seeds 0-29; the tests print a summary of them:
//! `cargo test --test main zoo -- --nocapture --test-threads 1`.
//!
//! Two explorer bugs found on the way (DFS skipped preemptions toward
//! lower-numbered threads; `select` picked its arm outside the scheduler) are
//! fixed; tests/explore.rs checks both.

mod aba_free_list;
mod bounded_buffer;
mod check_then_act;
mod condvar_missed;
mod lock_order;
mod lost_update;
mod publication;
mod reconciliation;
mod redelivery;
mod reordering;
mod shutdown;
mod split_counter;
mod stolen_wakeup;

use std::collections::BTreeMap;
use std::sync::Mutex;

use reprise::explore::{Config, ExploreOutcome, Explorer, Failure, FailureKind, StrategyKind};
use reprise::trace::format::Verdict;
use reprise::{read_trace_file, replay, ReplayOutcome};

use crate::util::scratch;

/// How a buggy program fails.
#[derive(Clone, Copy, Debug)]
pub enum Bug {
    /// The root thread panics with a message that contains this text.
    Panics(&'static str),
    /// Every thread ends up blocked.
    Deadlocks,
}

/// One search of the zoo: a program explored with a strategy, a budget and a
/// seed, its failing trace written to a scratch directory.
#[derive(Clone, Debug)]
pub struct Hunt {
    name: &'static str,
    strategy: StrategyKind,
    budget: u64,
    seed: u64,
}

impl Hunt {
    /// A search of `budget` schedules with `strategy`, seed 0.
    pub const fn new(name: &'static str, strategy: StrategyKind, budget: u64) -> Hunt {
        Hunt { name, strategy, budget, seed: 0 }
    }

    fn explore(&self, program: fn()) -> ExploreOutcome {
        let config = Config::default()
            .strategy(self.strategy)
            .budget(self.budget)
            .seed(self.seed)
            .trace_dir(scratch(&format!("zoo-{}", self.name)))
            .name(self.name);
        Explorer::new(config).run(program)
    }

    /// Asserts that the search finds `bug` in `program`, and that the failing
    /// schedule's trace replays to the same failure.
    pub fn finds(&self, bug: Bug, program: fn()) -> Failure {
        let outcome = self.explore(program);
        let Some(failure) = outcome.failure else {
            panic!("{}: {} found nothing in {} schedules", self.name, self.strategy, outcome.schedules);
        };
        match (bug, &failure.kind) {
            (Bug::Panics(text), FailureKind::Panic { message, .. }) => {
                assert!(message.contains(text), "{}: expected `{text}`\n{}", self.name, failure.report)
            }
            (Bug::Deadlocks, FailureKind::Deadlock { .. }) => {}
            (_, kind) => panic!("{}: expected {bug:?}, found {kind:?}\n{}", self.name, failure.report),
        }
        let path = failure.trace.as_ref().unwrap_or_else(|| panic!("no trace\n{}", failure.report));
        let trace = read_trace_file(path).unwrap();
        assert!(trace.is_whole(), "{}: {}", self.name, path.display());
        // The trace's verdict is the explored failure, and replay reaches it.
        let verdict = trace.footer.as_ref().map(|f| f.verdict.clone());
        let replayed = replay(&trace, program);
        match (&failure.kind, verdict) {
            (FailureKind::Panic { message, .. }, Some(Verdict::Panicked { message: recorded, .. })) => {
                assert_eq!(&recorded, message, "{}: the trace's verdict", self.name);
                // `Matched` includes the panic event at the same call site;
                // no result: the root panicked.
                assert_eq!(replayed.outcome, ReplayOutcome::Matched, "{}: {}", self.name, failure.report);
                assert!(replayed.result.is_none(), "{}: the replay returned\n{}", self.name, failure.report);
            }
            (FailureKind::Deadlock { stuck, .. }, Some(Verdict::Deadlock { .. })) => {
                // The same threads are blocked in replay as in the explorer.
                let ReplayOutcome::Deadlock(Verdict::Deadlock { blocked }) = &replayed.outcome else {
                    panic!("{}: {}\n{}", self.name, replayed.outcome, failure.report);
                };
                let mut explored: Vec<u32> = stuck.iter().map(|s| s.thread).collect();
                let mut replayed: Vec<u32> = blocked.iter().map(|b| b.thread).collect();
                explored.sort_unstable();
                replayed.sort_unstable();
                assert_eq!(replayed, explored, "{}: blocked threads\n{}", self.name, failure.report);
            }
            (kind, verdict) => panic!("{}: explored {kind:?}, trace verdict {verdict:?}", self.name),
        }
        assert_eq!(replayed.replayed, trace.events, "{}: the whole trace replays", self.name);
        summarize(
            self.name,
            format!(
                "found by {} at schedule {} of {} (seed {}), {} steps, {} preemptions; the trace replayed",
                self.strategy, failure.schedule, self.budget, self.seed, failure.steps, failure.preemptions
            ),
        );
        failure
    }

    /// Asserts that the whole budget runs without a failure.
    pub fn passes(&self, program: fn()) {
        let outcome = self.explore(program);
        if let Some(failure) = outcome.failure {
            panic!("{}: {} failed\n{}", self.name, self.strategy, failure.report);
        }
        assert!(
            outcome.schedules == self.budget || outcome.exhausted,
            "{}: {} of {} schedules",
            self.name,
            outcome.schedules,
            self.budget
        );
        let exhausted = if outcome.exhausted { ", the search exhausted" } else { "" };
        summarize(
            self.name,
            format!("passes {} schedules of {}{exhausted}", outcome.schedules, self.strategy),
        );
    }

    /// Asserts that the search does not find a bug that `program` has: one
    /// the explorer cannot see, for the reason `why`.
    pub fn misses(&self, program: fn(), why: &str) -> ExploreOutcome {
        let outcome = self.explore(program);
        if let Some(failure) = outcome.failure {
            panic!(
                "{}: {} was expected to miss the bug ({why}) but found it\n{}",
                self.name, self.strategy, failure.report
            );
        }
        let exhausted = if outcome.exhausted { ", the search exhausted" } else { "" };
        summarize(
            self.name,
            format!("not found in {} schedules of {}{exhausted}: {why}", outcome.schedules, self.strategy),
        );
        outcome
    }
}

/// Adds a line to the summary of the zoo and prints the summary so far.
fn summarize(name: &str, line: String) {
    static SUMMARY: Mutex<BTreeMap<String, Vec<String>>> = Mutex::new(BTreeMap::new());
    let mut summary = SUMMARY.lock().unwrap_or_else(|p| p.into_inner());
    summary.entry(name.to_string()).or_default().push(line);
    let mut text = String::from("bug zoo so far:\n");
    for (name, lines) in summary.iter() {
        for line in lines {
            text.push_str(&format!("  {name:<16} {line}\n"));
        }
    }
    eprintln!("{text}");
}

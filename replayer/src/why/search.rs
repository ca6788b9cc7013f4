//! The search: reproduce the failure by the recorded order, find the
//! critical event by bisection (the shortest recorded prefix after which a
//! run without preemption still fails), then flip conflicting pairs around
//! it, latest first, walking back from there, until a flip makes the
//! failure go away or the budget is spent.

use std::collections::{HashMap, HashSet};

use crate::explore::FailureKind;

use super::flip::Hold;
use super::outcome::{same_failure, Flip, Pair, WhyOutcome, WhyReport};
use super::pairs::Placed;
use super::run::{RunRequest, RunResult};
use super::WhyConfig;

/// One recorded order, a way to run the program, a budget of runs.
pub(crate) struct Search<'a, R, P> {
    /// Makes one run; `Err`: the run could not be made, or said nothing
    /// (why, in words).
    pub(crate) runner: R,
    pub(crate) progress: P,
    /// Events in the recorded order.
    pub(crate) events: usize,
    pub(crate) config: &'a WhyConfig,
    pub(crate) runs: u64,
}

impl<'a, R, P> Search<'a, R, P>
where
    R: FnMut(&RunRequest) -> Result<RunResult, String>,
    P: FnMut(&str),
{
    pub(crate) fn new(runner: R, progress: P, events: usize, config: &'a WhyConfig) -> Self {
        Search { runner, progress, events, config, runs: 0 }
    }

    fn spent(&self) -> bool {
        self.runs >= self.config.budget
    }

    /// Runs the program following the first `upto` recorded events, with
    /// `hold`.
    fn run(&mut self, upto: usize, hold: Option<Hold>, what: &str) -> Result<RunResult, String> {
        self.runs += 1;
        (self.progress)(&format!("run {}/{}: {what}", self.runs, self.config.budget));
        (self.runner)(&RunRequest { upto, hold, max_steps: self.config.max_steps })
    }

    /// Whether following the first `upto` events and then no preemption
    /// fails as `failure` did; `None` when the run could not tell.
    fn fails(&mut self, upto: usize, failure: &FailureKind) -> Option<bool> {
        let result = self.run(upto, None, &format!("following the first {upto} events")).ok()?;
        Some(result.failure.is_some_and(|got| same_failure(failure, &got)))
    }

    /// Runs with `pair` flipped.
    fn flip(&mut self, pair: &Pair, failure: &FailureKind) -> Flip {
        let (first, second) = (pair.first, pair.second);
        let hold = Hold { held: first.at, until: second.at, until_at: index(&second) };
        let what = format!("flipping events {} and {}", first.number, second.number);
        let RunResult { failure: got, flipped } = match self.run(index(&first), Some(hold), &what) {
            Ok(result) => result,
            Err(why) => return Flip::Inconclusive(why),
        };
        if flipped.infeasible.get() || !flipped.happened.get() {
            return Flip::Infeasible;
        }
        if let Some((thread, index)) = flipped.missing_capture.get() {
            return Flip::Inconclusive(format!(
                "thread {thread} asked for a captured value at its event {index}, where the trace has none"
            ));
        }
        match got {
            None => Flip::Gone,
            Some(got) if same_failure(failure, &got) => Flip::Same,
            Some(got) => Flip::Different(got.summary()),
        }
    }

    /// The whole search over `pairs` (ascending by the later event).
    pub(crate) fn search(&mut self, pairs: &[(Placed, Placed)]) -> WhyReport {
        let all = self.events;
        let failure = match self.run(all, None, "following the whole recorded order") {
            Ok(result) => result.failure,
            Err(why) => return self.report(None, None, pairs.len(), WhyOutcome::NoRun { why }),
        };
        let Some(failure) = failure else {
            return self.report(None, None, pairs.len(), WhyOutcome::NotFailed);
        };
        let summary = Some(failure.summary());
        // When the run without the recorded order fails too, there is no
        // prefix to bisect: the pairs are tried walking back from the end.
        let fails_anyway = !self.spent() && self.fails(0, &failure) == Some(true);
        let critical = if fails_anyway { None } else { self.bisect(all, &failure) };
        let (mut different, mut inconclusive) = (Vec::new(), Vec::new());
        for (first, second) in candidates(pairs, critical) {
            if self.spent() {
                let outcome =
                    WhyOutcome::NotFound { budget_spent: true, fails_anyway, different, inconclusive };
                return self.report(summary, critical, pairs.len(), outcome);
            }
            let pair = Pair { first, second };
            match self.flip(&pair, &failure) {
                Flip::Gone => {
                    let pair = self.narrow(pairs, pair, &failure);
                    return self.report(summary, critical, pairs.len(), WhyOutcome::Found { pair });
                }
                Flip::Different(summary) => different.push((pair, summary)),
                Flip::Inconclusive(why) => inconclusive.push((pair, why)),
                Flip::Same | Flip::Infeasible => {}
            }
        }
        let outcome = WhyOutcome::NotFound { budget_spent: false, fails_anyway, different, inconclusive };
        self.report(summary, critical, pairs.len(), outcome)
    }

    /// A flip of `found` holds its first thread from its first event until
    /// the other thread has made its second: it moves a stretch of events.
    /// The cause can be a tighter pair inside that stretch (the held
    /// thread's later access and the other thread's earlier one, such as a
    /// load after a send that was flipped); those are tried, tightest
    /// first, and one that also makes the failure go away replaces it, until
    /// none does or [`NARROWING_RUNS`] runs are spent.
    fn narrow(&mut self, pairs: &[(Placed, Placed)], mut found: Pair, failure: &FailureKind) -> Pair {
        let mut runs = 0;
        'tighter: loop {
            let (held, other) = (found.first.at.0, found.second.at.0);
            let mut inside: Vec<&(Placed, Placed)> = pairs
                .iter()
                .filter(|(a, b)| {
                    a.at.0 == held
                        && b.at.0 == other
                        && a.number >= found.first.number
                        && b.number <= found.second.number
                        && (a.number, b.number) != (found.first.number, found.second.number)
                })
                .collect();
            inside.sort_by_key(|(a, b)| (b.number - a.number, std::cmp::Reverse(a.number)));
            for &&(first, second) in &inside {
                if runs >= NARROWING_RUNS || self.spent() {
                    return found;
                }
                runs += 1;
                let pair = Pair { first, second };
                if self.flip(&pair, failure) == Flip::Gone {
                    found = pair;
                    continue 'tighter;
                }
            }
            return found;
        }
    }

    fn report(
        &self,
        failure: Option<String>,
        critical: Option<u64>,
        candidates: usize,
        outcome: WhyOutcome,
    ) -> WhyReport {
        WhyReport { failure, critical, runs: self.runs, candidates, outcome }
    }

    /// The global number of the critical event: the smallest `k` such that
    /// following the first `k` events still fails (`fails(0)` is false and
    /// `fails(all)` true). `None` when the budget ran out first, or a run could not
    /// tell.
    fn bisect(&mut self, all: usize, failure: &FailureKind) -> Option<u64> {
        let (mut passes, mut fails) = (0usize, all);
        while fails - passes > 1 {
            if self.spent() {
                return None;
            }
            let mid = passes + (fails - passes) / 2;
            match self.fails(mid, failure)? {
                true => fails = mid,
                false => passes = mid,
            }
        }
        Some(fails as u64)
    }
}

/// Runs at most spent looking for a tighter pair inside a found one.
const NARROWING_RUNS: u32 = 12;

/// A placed event's position in the recorded order.
fn index(p: &Placed) -> usize {
    (p.number - 1) as usize
}

/// The pairs to try, in order: those around the critical event (the first
/// at or before it, the second at or after it), latest first event first and
/// nearest second first, each after
/// the pairs that follow it on its object (its second event with the next
/// conflicting one: a read-read pair's read-write successor); then the
/// pairs before it and after it by distance from it, nearest first. Without a critical event, every pair
/// walking back from the end.
fn candidates(pairs: &[(Placed, Placed)], critical: Option<u64>) -> Vec<(Placed, Placed)> {
    let Some(k) = critical else {
        return pairs.iter().rev().copied().collect();
    };
    let mut by_first: HashMap<u64, Vec<(Placed, Placed)>> = HashMap::new();
    for &(a, b) in pairs {
        by_first.entry(a.number).or_default().push((a, b));
    }
    let mut around: Vec<_> = pairs.iter().filter(|(a, b)| a.number <= k && b.number >= k).copied().collect();
    // Latest first event first; for one first event, the nearest second
    // first: the smallest reorder that can make the failure go away.
    around.sort_by_key(|(a, b)| (std::cmp::Reverse(a.number), b.number));
    let mut seen = HashSet::new();
    let mut ordered = Vec::new();
    for pair in around {
        let next = by_first.get(&pair.1.number).into_iter().flatten().copied();
        for p in next.chain(std::iter::once(pair)) {
            if seen.insert((p.0.number, p.1.number)) {
                ordered.push(p);
            }
        }
    }
    // Then the rest by distance from the critical event, nearest first:
    // pairs before it, and pairs after it, whose recorded order the run
    // without preemption can repeat (the thread that ran at the critical
    // event goes on first); at equal distance the earlier pair first.
    let mut rest: Vec<(u64, bool, (Placed, Placed))> = pairs
        .iter()
        .filter(|p| !seen.contains(&(p.0.number, p.1.number)))
        .filter_map(|&(a, b)| match () {
            _ if b.number < k => Some((k - b.number, false, (a, b))),
            _ if a.number > k => Some((a.number - k, true, (a, b))),
            _ => None,
        })
        .collect();
    rest.sort_by_key(|&(distance, after, (a, b))| (distance, after, std::cmp::Reverse((a.number, b.number))));
    ordered.extend(rest.into_iter().map(|(_, _, pair)| pair));
    ordered
}

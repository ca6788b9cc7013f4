//! The search: reproduce the failure by the recorded order, find the
//! critical event by bisection (the shortest recorded prefix after which a
//! run without preemption still fails), then flip conflicting pairs around
//! it, latest first, walking back from there, until a flip makes the
//! failure go away or the budget is spent.

use std::collections::{HashMap, HashSet};
use std::rc::Rc;

use crate::explore::{failure_of, run_once, FailureKind, Spare};

use super::flip::{At, Captures, Flipped, Guided, Hold, Positions};
use super::outcome::{same_failure, Flip, Pair, WhyOutcome, WhyReport};
use super::pairs::Placed;
use super::WhyConfig;

/// One program, one recorded order, a budget of runs.
pub(crate) struct Search<'a, F, C, P> {
    pub(crate) program: Rc<F>,
    pub(crate) check: C,
    pub(crate) progress: P,
    pub(crate) order: Rc<[At]>,
    positions: Rc<Positions>,
    pub(crate) captures: Rc<Captures>,
    pub(crate) config: &'a WhyConfig,
    pub(crate) runs: u64,
    spare: Spare,
}

impl<'a, F, R, C, P> Search<'a, F, C, P>
where
    F: Fn() -> R + 'static,
    R: 'static,
    C: Fn(&R) -> Option<String>,
    P: FnMut(&str),
{
    pub(crate) fn new(
        program: F,
        check: C,
        progress: P,
        (order, captures): (Rc<[At]>, Rc<Captures>),
        config: &'a WhyConfig,
    ) -> Self {
        let program = Rc::new(program);
        let positions = Rc::new(order.iter().enumerate().map(|(p, &at)| (at, p)).collect());
        Search {
            program,
            check,
            progress,
            order,
            positions,
            captures,
            config,
            runs: 0,
            spare: Spare::default(),
        }
    }

    fn spent(&self) -> bool {
        self.runs >= self.config.budget
    }

    /// Runs the program following `order[..upto]`, with `hold`: its failure,
    /// and what became of the flip.
    fn run(&mut self, upto: usize, hold: Option<Hold>, what: &str) -> (Option<FailureKind>, Rc<Flipped>) {
        self.runs += 1;
        (self.progress)(&format!("run {}/{}: {what}", self.runs, self.config.budget));
        let flipped = Rc::new(Flipped::default());
        let strategy = Box::new(Guided::new(
            (Rc::clone(&self.order), Rc::clone(&self.positions)),
            Rc::clone(&self.captures),
            upto,
            hold,
            Rc::clone(&flipped),
        ));
        let spare = std::mem::take(&mut self.spare);
        let (explored, result) =
            run_once(&self.program, strategy, self.config.max_steps, spare, self.runs, |s| s.keep_yielded());
        let mut end = explored.end;
        self.spare = std::mem::take(&mut end.spare);
        let failure = failure_of(&mut end, result.as_ref(), &self.check);
        (failure, flipped)
    }

    /// Whether following `order[..upto]` and then no preemption fails as
    /// `failure` did.
    fn fails(&mut self, upto: usize, failure: &FailureKind) -> bool {
        let (got, _) = self.run(upto, None, &format!("following the first {upto} events"));
        got.is_some_and(|got| same_failure(failure, &got))
    }

    /// Runs with `pair` flipped.
    fn flip(&mut self, pair: &Pair, failure: &FailureKind) -> Flip {
        let (first, second) = (pair.first, pair.second);
        let hold = Hold { held: first.at, until: second.at, until_at: index(&second) };
        let what = format!("flipping events {} and {}", first.number, second.number);
        let (got, flipped) = self.run(index(&first), Some(hold), &what);
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
        let all = self.order.len();
        let (failure, _) = self.run(all, None, "following the whole recorded order");
        let Some(failure) = failure else {
            return self.report(None, None, pairs.len(), WhyOutcome::NotFailed);
        };
        let summary = Some(failure.summary());
        // When the run without the recorded order fails too, there is no
        // prefix to bisect: the pairs are tried walking back from the end.
        let fails_anyway = !self.spent() && self.fails(0, &failure);
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
                Flip::Gone => return self.report(summary, critical, pairs.len(), WhyOutcome::Found { pair }),
                Flip::Different(summary) => different.push((pair, summary)),
                Flip::Inconclusive(why) => inconclusive.push((pair, why)),
                Flip::Same | Flip::Infeasible => {}
            }
        }
        let outcome = WhyOutcome::NotFound { budget_spent: false, fails_anyway, different, inconclusive };
        self.report(summary, critical, pairs.len(), outcome)
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
    /// `fails(all)` true). `None` when the budget ran out first.
    fn bisect(&mut self, all: usize, failure: &FailureKind) -> Option<u64> {
        let (mut passes, mut fails) = (0usize, all);
        while fails - passes > 1 {
            if self.spent() {
                return None;
            }
            let mid = passes + (fails - passes) / 2;
            if self.fails(mid, failure) {
                fails = mid;
            } else {
                passes = mid;
            }
        }
        Some(fails as u64)
    }
}

/// A placed event's position in the recorded order.
fn index(p: &Placed) -> usize {
    (p.number - 1) as usize
}

/// The pairs to try, in order: those around the critical event (the first
/// at or before it, the second at or after it), latest first, each after
/// the pairs that follow it on its object (its second event with the next
/// conflicting one: a read-read pair's read-write successor); then every
/// earlier pair, walking back from it. Without a critical event, every pair
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
    around.sort_by_key(|(a, b)| std::cmp::Reverse((a.number, b.number)));
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
    let before = pairs.iter().rev().filter(|(_, b)| b.number < k).copied();
    ordered.into_iter().chain(before).collect()
}

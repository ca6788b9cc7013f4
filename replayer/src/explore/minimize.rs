//! Shrinking a failing schedule until each of its preemptions is needed:
//! removing any one of them makes the failure go away (1-minimal), or the
//! stated budget of re-runs ran out. Then fewer steps, while it still fails.
//!
//! A schedule is kept as a plan: segments "thread T runs n scheduling
//! points", plus the run's other choices (wakes, select arms). Removing the
//! preemption that ends a segment lets its thread run on until it blocks or
//! ends, then the plan goes on: the preemption is gone, not moved one step
//! later (which is what editing a flat list of choices does). Every candidate
//! is re-run, and kept only if it fails the same way with fewer preemptions
//! (or as many, in fewer steps): the result is a real failing run, whatever
//! the plan's heuristics did.

use std::rc::Rc;

use reprise_recorder::trace::model::ThreadIndex;

use super::run_failure::{FailureKind, Step};
use super::scheduler::Captured;
use super::spare::Spare;
use super::strategy::Strategy;
use super::{failure_of, run_once, Explored, Limits};

/// Re-runs minimization may spend by default ([`super::Config::minimize_runs`]).
pub(crate) const DEFAULT_MINIMIZE_RUNS: u64 = 1000;

/// Schedules of the bounded search (0, 1, 2 preemptions) tried first, per bound:
/// in a small program it finds the fewest preemptions outright.
const DFS_RUNS_PER_BOUND: u64 = 40;

/// A run of one thread.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Segment {
    pub(crate) thread: ThreadIndex,
    /// Scheduling points it runs for; `u64::MAX`: until it blocks or ends.
    pub(crate) steps: u64,
}

/// A schedule to follow.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Plan {
    pub(crate) segments: Vec<Segment>,
    /// The other choices (see `RunEnd::side`).
    pub(crate) side: Vec<u32>,
    /// The captured values to give back (see `RunEnd::captured`).
    pub(crate) captured: Rc<Captured>,
}

impl Plan {
    /// The plan a run followed: its log cut where the running thread
    /// changes. A segment counts the points where the strategy was asked
    /// (a point with one runnable thread asks nothing).
    pub(crate) fn of(log: &[Step], side: &[u32]) -> Plan {
        let mut segments: Vec<Segment> = Vec::new();
        for step in log {
            let asked = u64::from(step.asked);
            match segments.last_mut() {
                Some(last) if last.thread == step.thread => last.steps += asked,
                _ => segments.push(Segment { thread: step.thread, steps: asked }),
            }
        }
        Plan { segments, side: side.to_vec(), captured: Rc::default() }
    }

    /// The plan `run` followed, with the values it captured.
    pub(crate) fn of_run(run: &Explored) -> Plan {
        Plan { captured: Rc::clone(&run.end.captured), ..Plan::of(&run.end.log, &run.end.side) }
    }

    /// The segments that start with a preemption, by index, for `log` (the
    /// run this plan was cut from).
    pub(crate) fn preempting(log: &[Step]) -> Vec<usize> {
        let mut at = 0;
        let mut out = Vec::new();
        for (i, step) in log.iter().enumerate() {
            if i > 0 && log[i - 1].thread != step.thread {
                at += 1;
                if step.preempted {
                    out.push(at);
                }
            }
        }
        out
    }

    /// This plan without the preemptions that start `segments`: the thread
    /// before each runs on until it cannot.
    pub(crate) fn without(&self, segments: &[usize]) -> Plan {
        let mut plan = self.clone();
        for &s in segments {
            if s > 0 {
                if let Some(before) = plan.segments.get_mut(s - 1) {
                    before.steps = u64::MAX;
                }
            }
        }
        plan
    }

    /// The ways to take away the preemption that starts segment `s` (thread
    /// B preempting thread A), each a plan: A goes on with the steps of its
    /// next segment there (it runs as far as it would have before its next
    /// switch); B's steps move to its next segment (or to the end); A runs
    /// on until it blocks or ends.
    pub(crate) fn removals(&self, s: usize) -> Vec<Plan> {
        let mut out = Vec::new();
        let (Some(a), Some(b)) = (self.segments.get(s.wrapping_sub(1)), self.segments.get(s)) else {
            return out;
        };
        if let Some(j) = (s + 1..self.segments.len()).find(|&j| self.segments[j].thread == a.thread) {
            let mut plan = self.clone();
            plan.segments[s - 1].steps = a.steps.saturating_add(self.segments[j].steps);
            plan.segments.remove(j);
            out.push(plan);
        }
        let mut plan = self.clone();
        if let Some(k) = (s + 1..self.segments.len()).find(|&k| self.segments[k].thread == b.thread) {
            plan.segments[k].steps = plan.segments[k].steps.saturating_add(b.steps);
        }
        plan.segments.remove(s);
        out.push(plan);
        out.push(self.without(&[s]));
        out
    }

    /// This plan without segment `s` (its thread runs when the plan or the
    /// fallback next picks it).
    fn dropping(&self, s: usize) -> Plan {
        let mut plan = self.clone();
        plan.segments.remove(s);
        plan
    }
}

/// Follows a [`Plan`]; past its end (or where it cannot be followed), the
/// running thread goes on and, when it cannot, the lowest-numbered one runs:
/// no preemptions of its own.
#[derive(Debug)]
pub(crate) struct Guided {
    segments: Vec<Segment>,
    at: usize,
    taken: u64,
}

impl Guided {
    pub(crate) fn new(plan: &Plan) -> Guided {
        Guided { segments: plan.segments.clone(), at: 0, taken: 0 }
    }
}

impl Strategy for Guided {
    fn begin(&mut self, _index: u64) -> bool {
        self.at = 0;
        self.taken = 0;
        true
    }

    fn choose(&mut self, runnable: &[ThreadIndex], current: Option<ThreadIndex>) -> ThreadIndex {
        while let Some(segment) = self.segments.get(self.at) {
            if self.taken < segment.steps && runnable.contains(&segment.thread) {
                self.taken += 1;
                return segment.thread;
            }
            self.at += 1;
            self.taken = 0;
        }
        current.filter(|c| runnable.contains(c)).unwrap_or(runnable[0])
    }

    fn name(&self) -> String {
        "guided".into()
    }
}

/// How minimization went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Minimized {
    /// Re-runs spent.
    pub(crate) runs: u64,
    /// The budget it had.
    pub(crate) budget: u64,
    /// Every way of taking away any one preemption left was run, and none
    /// failed the same way with fewer: the schedule is 1-minimal.
    pub(crate) one_minimal: bool,
}

pub(crate) fn preemptions(e: &Explored) -> usize {
    e.end.log.iter().filter(|s| s.preempted).count()
}

/// A failing run and its failure.
pub(crate) struct Found {
    pub(crate) explored: Explored,
    pub(crate) kind: FailureKind,
}

/// Re-runs the program along `plan`.
pub(crate) fn run_plan<F, R>(
    program: &Rc<F>,
    plan: &Plan,
    limits: Limits,
    index: u64,
    observe: bool,
) -> (Explored, Option<R>)
where
    F: Fn() -> R + 'static,
    R: 'static,
{
    let guided: Box<dyn Strategy> = Box::new(Guided::new(plan));
    // Only an observed run's trace is read: the others need their schedule.
    let spare = if observe { Spare::default() } else { Spare::untraced() };
    run_once(program, guided, limits, spare, index, |scheduler| {
        scheduler.follow_side(plan.side.clone());
        scheduler.serve_captures(Rc::clone(&plan.captured));
        if observe {
            scheduler.observe();
        }
    })
}

/// The re-runs of one minimization, with its budget.
struct Search<'a, F, C> {
    program: &'a Rc<F>,
    check: &'a C,
    limits: Limits,
    index: u64,
    runs: u64,
    budget: u64,
}

impl<F, R, C> Search<'_, F, C>
where
    F: Fn() -> R + 'static,
    R: 'static,
    C: Fn(&R) -> Option<String>,
{
    fn spent(&self) -> bool {
        self.runs >= self.budget
    }

    /// Runs `plan`; the run if it fails as `best` did and is smaller: fewer
    /// preemptions, or as many and fewer steps.
    fn smaller(&mut self, best: &Found, plan: &Plan) -> Option<Found> {
        self.runs += 1;
        let (mut again, result) = run_plan(self.program, plan, self.limits, self.index, false);
        self.judge(best, &mut again, result.as_ref()).map(|kind| Found { explored: again, kind })
    }

    fn judge(&self, best: &Found, again: &mut Explored, result: Option<&R>) -> Option<FailureKind> {
        let failed = failure_of(&mut again.end, result, self.check)?;
        let smaller =
            (preemptions(again), again.end.steps) < (preemptions(&best.explored), best.explored.end.steps);
        (failed.same_kind(&best.kind) && smaller).then_some(failed)
    }

    /// Bounded DFS at 0, 1, 2 preemptions: small programs' shortest failures.
    fn bounded(&mut self, best: Found) -> Found {
        let found = preemptions(&best.explored);
        for bound in 0..found.min(3) as u32 {
            let mut dfs: Box<dyn Strategy> = Box::new(super::strategy::Dfs::new(bound));
            for index in 0..DFS_RUNS_PER_BOUND {
                if self.spent() || !dfs.begin(index) {
                    break;
                }
                self.runs += 1;
                let captured = Rc::clone(&best.explored.end.captured);
                let (mut again, result) =
                    run_once(self.program, dfs, self.limits, Spare::untraced(), self.index, |s| {
                        s.serve_captures(captured)
                    });
                dfs = again.end.strategy.take().expect("a run hands its strategy back");
                dfs.end(again.end.steps);
                if let Some(kind) = self.judge(&best, &mut again, result.as_ref()) {
                    return Found { explored: again, kind };
                }
            }
        }
        best
    }
}

/// Minimizes `found` within `budget` re-runs: fewer preemptions until none
/// can be removed alone, then fewer steps.
pub(crate) fn minimize<F, R, C>(
    program: &Rc<F>,
    check: &C,
    found: Found,
    limits: Limits,
    index: u64,
    budget: u64,
) -> (Found, Minimized)
where
    F: Fn() -> R + 'static,
    R: 'static,
    C: Fn(&R) -> Option<String>,
{
    let mut search = Search { program, check, limits, index, runs: 0, budget };
    let mut best = search.bounded(found);
    let plan_of = |f: &Found| Plan::of_run(&f.explored);

    // Many preemptions at once first: keep only the first k (k = 0, 1, 2,
    // 4, ...), the rest removed. A long random schedule has a hundred, of
    // which the bug needs a few, usually early.
    let mut keep = 0;
    while !search.spent() {
        let points = Plan::preempting(&best.explored.end.log);
        if keep >= points.len() {
            break;
        }
        let candidate = plan_of(&best).without(&points[keep..]);
        match search.smaller(&best, &candidate) {
            Some(smaller) => best = smaller,
            None => keep = if keep == 0 { 1 } else { keep * 2 },
        }
    }

    // Then one at a time, the last first, until a whole round removes none;
    // then fewer steps: drop a segment (its thread runs later), the last
    // first. A shorter run is another schedule: the rounds run again on it.
    let mut one_minimal = false;
    while !search.spent() {
        one_minimal = single_removals(&mut search, &mut best);
        if !one_minimal || !shorten(&mut search, &mut best) {
            break;
        }
        one_minimal = false;
    }
    (best, Minimized { runs: search.runs, budget, one_minimal })
}

/// Removes single preemptions until none can be: `true` when a whole round
/// of them ran and none could (the run is 1-minimal: no way of taking
/// away one preemption, [`Plan::removals`], fails the same way with fewer),
/// `false` when the budget ran out first.
fn single_removals<F, R, C>(search: &mut Search<'_, F, C>, best: &mut Found) -> bool
where
    F: Fn() -> R + 'static,
    R: 'static,
    C: Fn(&R) -> Option<String>,
{
    'rounds: loop {
        let points = Plan::preempting(&best.explored.end.log);
        let plan = Plan::of_run(&best.explored);
        for &s in points.iter().rev() {
            for candidate in plan.removals(s) {
                if search.spent() {
                    return false;
                }
                if let Some(smaller) = search.smaller(best, &candidate) {
                    *best = smaller;
                    continue 'rounds;
                }
            }
        }
        return true;
    }
}

/// Shortens `best` by dropping segments while it fails the same way with
/// at most as many preemptions; `true` when it took one (the single
/// removals must run again on it).
fn shorten<F, R, C>(search: &mut Search<'_, F, C>, best: &mut Found) -> bool
where
    F: Fn() -> R + 'static,
    R: 'static,
    C: Fn(&R) -> Option<String>,
{
    let plan = Plan::of_run(&best.explored);
    for s in (1..plan.segments.len()).rev() {
        if plan.segments[s].steps == 0 {
            continue;
        }
        if search.spent() {
            return false;
        }
        if let Some(smaller) = search.smaller(best, &plan.dropping(s)) {
            *best = smaller;
            return true;
        }
    }
    false
}

#[cfg(test)]
#[path = "minimize_tests.rs"]
mod tests;

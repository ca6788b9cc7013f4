//! The default: several strategies taking schedules in a fixed rotation, so
//! a bug any of them finds quickly is found quickly. SURW takes every other
//! schedule: on the bug suite (`benches/suite/`) it found every bug on
//! every seed, most within tens of schedules, where the others each miss
//! some. PCT at depth 2 (the uneven-workload bug, which it finds fastest)
//! and 3, POS, and bounded DFS (a small program's schedules, exhaustively)
//! share the rest.

use reprise_recorder::hook::coop::CoopCall;
use reprise_recorder::trace::model::ThreadIndex;

use super::{Dfs, NextCall, Pct, Pos, Strategy, Surw};

/// Several strategies, one schedule each in turn.
pub struct Portfolio {
    members: Vec<Box<dyn Strategy>>,
    /// Which member takes each schedule, in turn.
    order: Vec<usize>,
    /// Schedules each member has started.
    runs: Vec<u64>,
    active: usize,
    exhausted: Vec<bool>,
}

impl std::fmt::Debug for Portfolio {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<String> = self.members.iter().map(|m| m.name()).collect();
        f.debug_struct("Portfolio").field("members", &names).field("order", &self.order).finish()
    }
}

impl Portfolio {
    /// The default portfolio, seeded with `seed`.
    pub fn new(seed: u64) -> Portfolio {
        let members: Vec<Box<dyn Strategy>> = vec![
            Box::new(Surw::new(seed)),
            Box::new(Pct::new(seed.wrapping_add(1), 2)),
            Box::new(Pos::new(seed.wrapping_add(2))),
            Box::new(Pct::new(seed.wrapping_add(3), 3)),
            Box::new(Dfs::new(2)),
        ];
        // One SURW takes every other schedule, so that all its schedules
        // teach the same estimates.
        Portfolio::of(members, vec![0, 1, 0, 2, 0, 3, 0, 4])
    }

    /// `members` taking schedules in the rotation `order` (indices into
    /// `members`; each member at least once).
    pub fn of(members: Vec<Box<dyn Strategy>>, order: Vec<usize>) -> Portfolio {
        let n = members.len();
        assert!(order.iter().all(|&m| m < n), "the rotation names members by index");
        Portfolio { members, order, runs: vec![0; n], active: 0, exhausted: vec![false; n] }
    }
}

impl Strategy for Portfolio {
    fn begin(&mut self, index: u64) -> bool {
        let n = self.order.len();
        for offset in 0..n {
            let member = self.order[(index as usize + offset) % n];
            if self.exhausted[member] {
                continue;
            }
            if self.members[member].begin(self.runs[member]) {
                self.runs[member] += 1;
                self.active = member;
                return true;
            }
            self.exhausted[member] = true;
        }
        false
    }

    fn choose(&mut self, runnable: &[ThreadIndex], current: Option<ThreadIndex>) -> ThreadIndex {
        self.members[self.active].choose(runnable, current)
    }

    fn choose_next(
        &mut self,
        runnable: &[ThreadIndex],
        current: Option<ThreadIndex>,
        next: NextCall<'_>,
    ) -> ThreadIndex {
        self.members[self.active].choose_next(runnable, current, next)
    }

    fn ran(&mut self, thread: ThreadIndex, call: Option<CoopCall>) {
        self.members[self.active].ran(thread, call);
    }

    fn runnable(&mut self, thread: ThreadIndex, state: super::Runnable) {
        self.members[self.active].runnable(thread, state);
    }

    fn end(&mut self, steps: u64) {
        self.members[self.active].end(steps);
    }

    fn name(&self) -> String {
        self.members[self.active].name()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn surw_takes_every_other_schedule_and_the_others_take_turns() {
        let mut portfolio = Portfolio::new(7);
        let names: Vec<String> = (0..10)
            .map(|index| {
                assert!(portfolio.begin(index));
                portfolio.end(0);
                portfolio.name()
            })
            .collect();
        let expected = ["surw", "pct2", "surw", "pos", "surw", "pct3", "surw", "dfs2", "surw", "pct2"];
        assert_eq!(names, expected);
    }
}

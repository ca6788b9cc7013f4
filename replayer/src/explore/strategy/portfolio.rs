//! The default: random walk, PCT at depths 2 and 3, and bounded DFS, taking
//! schedules in turn, so a bug any of them finds quickly is found quickly.

use reprise_recorder::trace::model::ThreadIndex;

use super::{Dfs, Pct, RandomWalk, Strategy};

/// Several strategies, one schedule each in turn.
pub struct Portfolio {
    members: Vec<Box<dyn Strategy>>,
    /// Schedules each member has started.
    runs: Vec<u64>,
    active: usize,
    exhausted: Vec<bool>,
}

impl std::fmt::Debug for Portfolio {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<String> = self.members.iter().map(|m| m.name()).collect();
        f.debug_struct("Portfolio").field("members", &names).finish()
    }
}

impl Portfolio {
    /// The default portfolio, seeded with `seed`.
    pub fn new(seed: u64) -> Portfolio {
        let members: Vec<Box<dyn Strategy>> = vec![
            Box::new(RandomWalk::new(seed)),
            Box::new(Pct::new(seed.wrapping_add(1), 2)),
            Box::new(Pct::new(seed.wrapping_add(2), 3)),
            Box::new(Dfs::new(2)),
        ];
        let n = members.len();
        Portfolio { members, runs: vec![0; n], active: 0, exhausted: vec![false; n] }
    }
}

impl Strategy for Portfolio {
    fn begin(&mut self, index: u64) -> bool {
        let n = self.members.len();
        for offset in 0..n {
            let member = (index as usize + offset) % n;
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

    fn end(&mut self, steps: u64) {
        self.members[self.active].end(steps);
    }

    fn name(&self) -> String {
        self.members[self.active].name()
    }
}

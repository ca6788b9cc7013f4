//! PCT (Burckhardt et al., "A randomized scheduler with probabilistic
//! guarantees of finding bugs", ASPLOS 2010): threads get random priorities,
//! the highest-priority runnable thread runs, and at d - 1 random steps the
//! running thread drops to the lowest priority. A bug of depth d is found
//! with probability at least 1 / (n k^(d-1)) per schedule.

use std::collections::BTreeMap;

use reprise_recorder::trace::model::ThreadIndex;

use super::rng::{run_seed, Rng};
use super::Strategy;

/// Probabilistic concurrency testing with bug depth `depth`.
#[derive(Debug)]
pub struct Pct {
    seed: u64,
    depth: u32,
    rng: Rng,
    priorities: BTreeMap<ThreadIndex, u64>,
    change_points: Vec<u64>,
    step: u64,
    /// The most choices a schedule has asked for so far: k, the range of the
    /// change points. Counted in choices, not scheduling points: a point
    /// with one runnable thread asks the strategy nothing, and change points
    /// drawn past the last choice would never fire.
    longest: u64,
}

impl Pct {
    /// PCT seeded with `seed`, for bugs of depth `depth` (at least 1).
    pub fn new(seed: u64, depth: u32) -> Pct {
        Pct {
            seed,
            depth: depth.max(1),
            rng: Rng::new(seed),
            priorities: BTreeMap::new(),
            change_points: Vec::new(),
            step: 0,
            longest: 8,
        }
    }
}

impl Strategy for Pct {
    fn begin(&mut self, index: u64) -> bool {
        self.rng = Rng::new(run_seed(self.seed, index));
        self.priorities.clear();
        self.step = 0;
        self.change_points = (1..self.depth).map(|_| self.rng.below(self.longest.max(1))).collect();
        true
    }

    fn choose(&mut self, runnable: &[ThreadIndex], current: Option<ThreadIndex>) -> ThreadIndex {
        // New threads get random priorities above every change-point value.
        for &t in runnable {
            let fresh = u64::from(self.depth) + 1 + self.rng.below(1 << 32);
            self.priorities.entry(t).or_insert(fresh);
        }
        if let Some(i) = self.change_points.iter().position(|&c| c == self.step) {
            if let Some(t) = current {
                self.priorities.insert(t, i as u64 + 1);
            }
        }
        self.step += 1;
        *runnable
            .iter()
            .max_by_key(|t| self.priorities.get(t).copied().unwrap_or(0))
            .expect("runnable is not empty")
    }

    fn end(&mut self, _steps: u64) {
        self.longest = self.longest.max(self.step);
    }

    fn name(&self) -> String {
        format!("pct{}", self.depth)
    }
}

//! The random walk: at each scheduling point, any runnable thread, uniformly.

use reprise_recorder::trace::model::ThreadIndex;

use super::rng::{run_seed, Rng};
use super::Strategy;

/// Uniformly random choices, reseeded per schedule from the search seed.
#[derive(Debug)]
pub struct RandomWalk {
    seed: u64,
    rng: Rng,
}

impl RandomWalk {
    /// A random walk seeded with `seed`.
    pub fn new(seed: u64) -> RandomWalk {
        RandomWalk { seed, rng: Rng::new(seed) }
    }
}

impl Strategy for RandomWalk {
    fn begin(&mut self, index: u64) -> bool {
        self.rng = Rng::new(run_seed(self.seed, index));
        true
    }

    fn choose(&mut self, runnable: &[ThreadIndex], _current: Option<ThreadIndex>) -> ThreadIndex {
        runnable[self.rng.below(runnable.len() as u64) as usize]
    }

    fn name(&self) -> String {
        "random".into()
    }
}

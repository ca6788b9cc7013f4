//! How the explorer picks the next thread at each scheduling point. One file
//! per strategy, behind a small trait; the portfolio mixes them.

mod dfs;
mod pct;
mod portfolio;
mod random;
mod rng;
pub(crate) mod shard;

pub use dfs::Dfs;
pub use pct::Pct;
pub use portfolio::Portfolio;
pub use random::RandomWalk;

use reprise_recorder::trace::model::ThreadIndex;

/// A search strategy over schedules.
pub trait Strategy {
    /// Prepares schedule number `index`; `false` when the strategy has
    /// nothing left to try (an exhausted systematic search).
    fn begin(&mut self, index: u64) -> bool;

    /// Picks who runs at a scheduling point: one of `runnable` (sorted, never
    /// empty). `current` is the thread that reached the point, if it can go
    /// on: picking another one is a preemption.
    fn choose(&mut self, runnable: &[ThreadIndex], current: Option<ThreadIndex>) -> ThreadIndex;

    /// The schedule ended after `steps` scheduling points.
    fn end(&mut self, steps: u64) {
        let _ = steps;
    }

    /// A short name for reports.
    fn name(&self) -> String;
}

/// Which strategy to use, as a config value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StrategyKind {
    /// A uniformly random choice at each point.
    Random,
    /// Probabilistic concurrency testing with bug depth `d`.
    Pct {
        /// The bug depth: how many ordering constraints the bug needs.
        depth: u32,
    },
    /// Depth-first search over schedules with at most `preemptions`
    /// preemptions.
    Dfs {
        /// The preemption bound.
        preemptions: u32,
    },
    /// Random, PCT (depth 2 and 3) and bounded DFS in turn.
    Portfolio,
}

impl StrategyKind {
    /// Builds the strategy, seeded with `seed`.
    pub fn build(self, seed: u64) -> Box<dyn Strategy> {
        match self {
            StrategyKind::Random => Box::new(RandomWalk::new(seed)),
            StrategyKind::Pct { depth } => Box::new(Pct::new(seed, depth)),
            StrategyKind::Dfs { preemptions } => Box::new(Dfs::new(preemptions)),
            StrategyKind::Portfolio => Box::new(Portfolio::new(seed)),
        }
    }
}

impl std::str::FromStr for StrategyKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "random" => Ok(StrategyKind::Random),
            "pct" => Ok(StrategyKind::Pct { depth: 3 }),
            "dfs" => Ok(StrategyKind::Dfs { preemptions: 2 }),
            "portfolio" => Ok(StrategyKind::Portfolio),
            other => match other.strip_prefix("pct").and_then(|d| d.parse().ok()) {
                Some(depth) if depth >= 1 => Ok(StrategyKind::Pct { depth }),
                _ => Err(format!("unknown strategy `{other}`: use random, pct, pctN, dfs or portfolio")),
            },
        }
    }
}

impl std::fmt::Display for StrategyKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StrategyKind::Random => f.write_str("random"),
            StrategyKind::Pct { depth } => write!(f, "pct{depth}"),
            StrategyKind::Dfs { preemptions } => write!(f, "dfs (at most {preemptions} preemptions)"),
            StrategyKind::Portfolio => f.write_str("portfolio"),
        }
    }
}

//! How the explorer picks the next thread at each scheduling point. One file
//! per strategy, behind a small trait; the portfolio mixes them.

mod conflict;
mod dfs;
mod pct;
mod portfolio;
mod pos;
mod random;
mod ranked;
mod rng;
pub(crate) mod shard;
mod surw;

pub use dfs::Dfs;
pub use pct::Pct;
pub use portfolio::Portfolio;
pub use pos::Pos;
pub use random::RandomWalk;
pub use surw::Surw;

use reprise_recorder::hook::coop::CoopCall;
use reprise_recorder::trace::model::ThreadIndex;

/// What a runnable thread is about to do at a scheduling point (`None`: it
/// is starting, or it called `yield_now`), as [`Strategy::choose_next`] sees
/// it.
pub type NextCall<'a> = &'a dyn Fn(ThreadIndex) -> Option<CoopCall>;

/// Whether a thread can run, as the scheduler tells a strategy
/// ([`Strategy::runnable`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Runnable {
    /// Runnable.
    Ready,
    /// Runnable, but it called `yield_now`: offered only when no ready
    /// thread is.
    Yielded,
    /// Blocked or finished.
    No,
}

/// A search strategy over schedules.
pub trait Strategy {
    /// Prepares schedule number `index`; `false` when the strategy has
    /// nothing left to try (an exhausted systematic search).
    fn begin(&mut self, index: u64) -> bool;

    /// Picks who runs at a scheduling point: one of `runnable` (sorted, never
    /// empty). `current` is the thread that reached the point, if it can go
    /// on: picking another one is a preemption.
    fn choose(&mut self, runnable: &[ThreadIndex], current: Option<ThreadIndex>) -> ThreadIndex;

    /// [`Strategy::choose`], told what each runnable thread is about to do:
    /// the scheduler calls this one. Strategies that weigh events (POS,
    /// SURW) override it; the default ignores `next`.
    fn choose_next(
        &mut self,
        runnable: &[ThreadIndex],
        current: Option<ThreadIndex>,
        next: NextCall<'_>,
    ) -> ThreadIndex {
        let _ = next;
        self.choose(runnable, current)
    }

    /// `thread` was picked to make `call` (`None`: starting, or after a
    /// `yield_now`). Called at every scheduling point, also the ones with a
    /// single runnable thread, which ask the strategy nothing.
    fn ran(&mut self, thread: ThreadIndex, call: Option<CoopCall>) {
        let _ = (thread, call);
    }

    /// `thread` made `event`: strategies that follow a recorded order
    /// (`reprise why`'s) count each thread's events here.
    fn made(&mut self, thread: ThreadIndex, event: &reprise_recorder::trace::model::Event) {
        let _ = (thread, event);
    }

    /// The value `thread`'s next call, `op`, returns instead of deciding it
    /// (a captured value served from a trace, for `reprise why`'s runs);
    /// `None`, the explorer's own: decide as usual.
    fn served(
        &mut self,
        thread: ThreadIndex,
        op: reprise_recorder::trace::model::Op,
    ) -> Option<reprise_recorder::hook::coop::Served> {
        let _ = (thread, op);
        None
    }

    /// The ready arm `thread`'s select takes, one of `options`, when the
    /// strategy knows it (the arm a recorded select took, for `reprise
    /// why`'s runs); `None`: chosen as any other choice.
    fn arm(&mut self, thread: ThreadIndex, options: &[u32]) -> Option<u32> {
        let _ = (thread, options);
        None
    }

    /// The virtual time `thread`'s next event may not come before, when the
    /// strategy knows it (`reprise why`'s runs: a recorded select that took
    /// a timer arm, or a timer receive, at that time); the scheduler moves
    /// the clock there (firing every timer due by then) before the thread
    /// runs. `None`: any time.
    fn not_before(&mut self, thread: ThreadIndex) -> Option<u64> {
        let _ = thread;
        None
    }

    /// `thread` became runnable (ready, or runnable after a `yield_now`),
    /// or stopped being runnable. Told of every change, so that a strategy
    /// can keep its own order of the runnable threads instead of scanning
    /// them at each choice; the others ignore it.
    fn runnable(&mut self, thread: ThreadIndex, state: Runnable) {
        let _ = (thread, state);
    }

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
    /// SURW on every other schedule; PCT (depth 2 and 3), POS and bounded
    /// DFS in turn on the rest.
    Portfolio,
    /// Partial order sampling: a random priority per pending event,
    /// redrawn when a conflicting event runs.
    Pos,
    /// Selectively uniform random walk: threads weighted by their remaining
    /// events (learned from earlier schedules) on the objects in focus.
    Surw,
}

impl StrategyKind {
    /// Builds the strategy, seeded with `seed`.
    pub fn build(self, seed: u64) -> Box<dyn Strategy> {
        match self {
            StrategyKind::Random => Box::new(RandomWalk::new(seed)),
            StrategyKind::Pct { depth } => Box::new(Pct::new(seed, depth)),
            StrategyKind::Dfs { preemptions } => Box::new(Dfs::new(preemptions)),
            StrategyKind::Portfolio => Box::new(Portfolio::new(seed)),
            StrategyKind::Pos => Box::new(Pos::new(seed)),
            StrategyKind::Surw => Box::new(Surw::new(seed)),
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
            "pos" => Ok(StrategyKind::Pos),
            "surw" => Ok(StrategyKind::Surw),
            other => match other.strip_prefix("pct").and_then(|d| d.parse().ok()) {
                Some(depth) if depth >= 1 => Ok(StrategyKind::Pct { depth }),
                _ => Err(format!(
                    "unknown strategy `{other}`: use random, pct, pctN, dfs, pos, surw or portfolio"
                )),
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
            StrategyKind::Pos => f.write_str("pos"),
            StrategyKind::Surw => f.write_str("surw"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::StrategyKind;

    #[test]
    fn every_kind_parses_from_its_name() {
        for (name, kind) in [
            ("random", StrategyKind::Random),
            ("pct", StrategyKind::Pct { depth: 3 }),
            ("pct2", StrategyKind::Pct { depth: 2 }),
            ("dfs", StrategyKind::Dfs { preemptions: 2 }),
            ("pos", StrategyKind::Pos),
            ("surw", StrategyKind::Surw),
            ("portfolio", StrategyKind::Portfolio),
        ] {
            assert_eq!(name.parse::<StrategyKind>(), Ok(kind));
        }
        assert!("posh".parse::<StrategyKind>().unwrap_err().contains("pos, surw"));
    }
}

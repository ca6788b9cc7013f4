//! Depth-first search over schedules, bounded by the number of preemptions
//! (Musuvathi and Qadeer, "Iterative context bounding", PLDI 2007): most
//! concurrency bugs need few preemptions, and the bound keeps the tree small.
//!
//! The bound grows: first every schedule without a preemption, then every
//! one with at most 1, and so on up to the configured bound, so a bug that
//! needs one preemption is found before any schedule with two runs. Each
//! round runs the earlier rounds' schedules again (a schedule's preemptions
//! are known only once it has run); they are the fewest, as the tree grows
//! with the bound. A sharded search runs only the last round (`sharded`).

use reprise_recorder::trace::model::ThreadIndex;

use super::shard::Shards;
use super::Strategy;

/// One scheduling point of the current schedule.
#[derive(Clone, Debug)]
struct Point {
    /// The runnable threads, as the point offered them.
    runnable: Vec<ThreadIndex>,
    /// The order they are tried in: the thread that reached the point first
    /// (no preemption), then the others.
    order: Vec<ThreadIndex>,
    current: Option<ThreadIndex>,
    /// Index into `order` of the choice made.
    chosen: usize,
    /// Preemptions before this point.
    preemptions: u32,
    /// The shards that own this point's subtree.
    owners: Shards,
}

impl Point {
    fn preempts(&self, choice: usize) -> bool {
        self.current.is_some_and(|c| self.order[choice] != c)
    }

    /// Whether `shard` owns the subtree of `choice`.
    fn owned(&self, choice: usize, shard: u64) -> bool {
        self.owners.option(choice, self.order.len()).contains(shard)
    }
}

/// Bounded depth-first search. Deterministic: it needs no seed.
#[derive(Debug)]
pub struct Dfs {
    /// The bound of this round.
    bound: u32,
    /// The last round's bound.
    max_bound: u32,
    stack: Vec<Point>,
    /// How many points of `stack` the running schedule replays.
    replay: usize,
    depth: usize,
    exhausted: bool,
    /// This search's shard and the number of shards (see `shard.rs`).
    shard: (u64, u64),
}

impl Dfs {
    /// A search with at most `bound` preemptions per schedule, in rounds of
    /// bound 0, 1, ... `bound`.
    pub fn new(bound: u32) -> Dfs {
        Dfs {
            bound: 0,
            max_bound: bound,
            stack: Vec::new(),
            replay: 0,
            depth: 0,
            exhausted: false,
            shard: (0, 1),
        }
    }

    /// This search as shard `index` of `count`: it runs only its share of
    /// the schedule tree (see `strategy/shard.rs`).
    ///
    /// A sharded search runs one round, at the full bound: in a round with a
    /// smaller bound a shard can own no choice within it at some point, and
    /// would then run a schedule another shard runs too.
    pub fn sharded(mut self, index: u64, count: u64) -> Dfs {
        self.shard = (index, count.max(1));
        if count > 1 {
            self.bound = self.max_bound;
        }
        self
    }

    /// Moves to the next unexplored branch: the deepest point with another
    /// choice within the bound.
    fn advance(&mut self) -> bool {
        let shard = self.shard.0;
        while let Some(point) = self.stack.last_mut() {
            let mut next = point.chosen + 1;
            while next < point.order.len() {
                if point.preemptions + u32::from(point.preempts(next)) <= self.bound
                    && point.owned(next, shard)
                {
                    point.chosen = next;
                    self.replay = self.stack.len();
                    return true;
                }
                next += 1;
            }
            self.stack.pop();
        }
        false
    }
}

impl Strategy for Dfs {
    fn begin(&mut self, index: u64) -> bool {
        if index > 0 && !self.advance() {
            if self.bound < self.max_bound {
                // The next round: the whole tree again, with one more preemption.
                self.bound += 1;
                self.stack.clear();
                self.replay = 0;
            } else {
                self.exhausted = true;
            }
        }
        self.depth = 0;
        !self.exhausted
    }

    fn choose(&mut self, runnable: &[ThreadIndex], current: Option<ThreadIndex>) -> ThreadIndex {
        let depth = self.depth;
        self.depth += 1;
        if depth < self.replay {
            let point = &self.stack[depth];
            // The program is deterministic given the schedule, so the same
            // point comes back; if not, fall through and start afresh here.
            if point.runnable == runnable && point.current == current {
                return point.order[point.chosen];
            }
            self.stack.truncate(depth);
            self.replay = depth;
        }
        let preemptions = self.stack.last().map_or(0, |p| p.preemptions + u32::from(p.preempts(p.chosen)));
        // First branch: no preemption (keep running the current thread), then
        // every other runnable thread, lower-numbered ones included.
        let mut order: Vec<ThreadIndex> = Vec::with_capacity(runnable.len());
        order.extend(current.filter(|c| runnable.contains(c)));
        order.extend(runnable.iter().copied().filter(|&t| Some(t) != current));
        let owners =
            self.stack.last().map_or(Shards::all(self.shard.1), |p| p.owners.option(p.chosen, p.order.len()));
        let mut point = Point { runnable: runnable.to_vec(), order, current, chosen: 0, preemptions, owners };
        // The first branch of this shard's within the bound (none: the first,
        // which another shard runs too).
        point.chosen = (0..point.order.len())
            .find(|&c| {
                point.owned(c, self.shard.0) && preemptions + u32::from(point.preempts(c)) <= self.bound
            })
            .unwrap_or(0);
        let choice = point.order[point.chosen];
        self.stack.push(point);
        self.replay = self.stack.len();
        choice
    }

    fn end(&mut self, _steps: u64) {
        self.stack.truncate(self.depth);
    }

    fn name(&self) -> String {
        format!("dfs{}", self.max_bound)
    }
}

#[cfg(test)]
mod tests {
    use super::{Dfs, Strategy};

    /// Runs `dfs` over `threads` threads of `steps` steps each until it is
    /// done; returns each schedule's preemption count, in order.
    fn preemptions_of_each_schedule(mut dfs: Dfs, threads: u32, steps: u32) -> Vec<u32> {
        let mut counts = Vec::new();
        let mut index = 0;
        while dfs.begin(index) {
            let mut left = vec![steps; threads as usize];
            let (mut current, mut preemptions) = (None, 0);
            loop {
                let runnable: Vec<u32> = (0..threads).filter(|&t| left[t as usize] > 0).collect();
                if runnable.is_empty() {
                    break;
                }
                let current_runnable = current.filter(|c| runnable.contains(c));
                let chosen = dfs.choose(&runnable, current_runnable);
                if current_runnable.is_some_and(|c| c != chosen) {
                    preemptions += 1;
                }
                left[chosen as usize] -= 1;
                current = Some(chosen);
            }
            dfs.end(u64::from(steps * threads));
            counts.push(preemptions);
            index += 1;
        }
        counts
    }

    #[test]
    fn every_schedule_with_one_preemption_runs_before_any_with_two() {
        let counts = preemptions_of_each_schedule(Dfs::new(2), 3, 2);
        let first_two = counts.iter().position(|&p| p == 2).expect("no schedule with 2 preemptions");
        // Every schedule with one preemption: what a search bounded at 1 runs.
        let ones = preemptions_of_each_schedule(Dfs::new(1), 3, 2).iter().filter(|&&p| p == 1).count();
        assert!(ones > 0);
        assert!(counts[..first_two].iter().filter(|&&p| p == 1).count() >= ones, "{counts:?}");
        // And the first round has no preemption at all.
        assert_eq!(counts[0], 0, "{counts:?}");
        assert!(counts.iter().all(|&p| p <= 2), "{counts:?}");
    }
}

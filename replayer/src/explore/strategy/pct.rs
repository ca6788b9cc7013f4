//! PCT (Burckhardt et al., "A randomized scheduler with probabilistic
//! guarantees of finding bugs", ASPLOS 2010): threads get random priorities,
//! the highest-priority runnable thread runs, and at d - 1 random steps the
//! thread that ran last drops to the lowest priority. A bug of depth d is
//! found with probability at least 1 / (n k^(d-1)) per schedule.
//!
//! The runnable threads are kept ranked by priority ([`Ranked`], told of
//! every change by [`Strategy::runnable`]), so a choice costs O(log n)
//! whatever the number of threads, and a thread draws its priority once.

use reprise_recorder::hook::coop::CoopCall;
use reprise_recorder::trace::model::ThreadIndex;

use super::ranked::Ranked;
use super::rng::{run_seed, Rng};
use super::{NextCall, Runnable, Strategy};

/// Probabilistic concurrency testing with bug depth `depth`.
#[derive(Debug)]
pub struct Pct {
    seed: u64,
    depth: u32,
    rng: Rng,
    /// Each thread's priority, by index; 0: none drawn yet.
    priority: Vec<u64>,
    /// The runnable threads that did not yield, by priority.
    ready: Ranked,
    /// The runnable threads that yielded, by priority: offered only when no
    /// other is, as the scheduler does.
    yielded: Ranked,
    change_points: Vec<u64>,
    /// Choices made in this schedule.
    step: u64,
    /// The most choices a schedule has asked for so far: k, the range of the
    /// change points. Counted in choices, not scheduling points: a point
    /// with one runnable thread asks the strategy nothing, and change points
    /// drawn past the last choice would never fire.
    longest: u64,
    /// The thread that ran last: a change point lowers it even when it has
    /// just blocked (it is lowered for when it can run again), as the
    /// algorithm says; skipping those would lose change points.
    last: Option<ThreadIndex>,
}

impl Pct {
    /// PCT seeded with `seed`, for bugs of depth `depth` (at least 1).
    pub fn new(seed: u64, depth: u32) -> Pct {
        Pct {
            seed,
            depth: depth.max(1),
            rng: Rng::new(seed),
            priority: Vec::new(),
            ready: Ranked::default(),
            yielded: Ranked::default(),
            change_points: Vec::new(),
            step: 0,
            longest: 8,
            last: None,
        }
    }

    /// Sets `thread`'s priority, re-ranking it where it is.
    fn set_priority(&mut self, thread: ThreadIndex, priority: u64) {
        let at = thread as usize;
        if at >= self.priority.len() {
            self.priority.resize(at + 1, 0);
        }
        self.priority[at] = priority;
        if self.ready.contains(thread) {
            self.ready.set(thread, true, &self.priority);
        }
        if self.yielded.contains(thread) {
            self.yielded.set(thread, true, &self.priority);
        }
    }
}

impl Strategy for Pct {
    fn begin(&mut self, index: u64) -> bool {
        self.rng = Rng::new(run_seed(self.seed, index));
        self.priority.clear();
        self.ready.clear();
        self.yielded.clear();
        self.step = 0;
        self.last = None;
        self.change_points.clear();
        // Distinct points: two at one step would be one.
        let points = u64::from(self.depth - 1).min(self.longest);
        while (self.change_points.len() as u64) < points {
            let point = self.rng.below(self.longest.max(1));
            if !self.change_points.contains(&point) {
                self.change_points.push(point);
            }
        }
        true
    }

    /// Only for choices that are not threads (which waiter a notify wakes,
    /// which ready operation a select takes): uniform.
    fn choose(&mut self, options: &[ThreadIndex], _current: Option<ThreadIndex>) -> ThreadIndex {
        options[self.rng.below(options.len() as u64) as usize]
    }

    fn choose_next(
        &mut self,
        runnable: &[ThreadIndex],
        _current: Option<ThreadIndex>,
        _next: NextCall<'_>,
    ) -> ThreadIndex {
        if let Some(i) = self.change_points.iter().position(|&c| c == self.step) {
            if let Some(last) = self.last {
                // Below every priority drawn (those are above the depth).
                self.set_priority(last, i as u64 + 1);
            }
        }
        self.step += 1;
        let pick = self.ready.top().or_else(|| self.yielded.top());
        debug_assert!(pick.is_some_and(|p| runnable.contains(&p)), "{pick:?} not in {runnable:?}");
        pick.unwrap_or(runnable[0])
    }

    fn ran(&mut self, thread: ThreadIndex, _call: Option<CoopCall>) {
        self.last = Some(thread);
    }

    fn runnable(&mut self, thread: ThreadIndex, state: Runnable) {
        let at = thread as usize;
        if self.priority.get(at).copied().unwrap_or(0) == 0 && state != Runnable::No {
            // New threads get random priorities above every change-point value.
            let fresh = u64::from(self.depth) + 1 + self.rng.below(1 << 32);
            self.set_priority(thread, fresh);
        }
        self.ready.set(thread, state == Runnable::Ready, &self.priority);
        self.yielded.set(thread, state == Runnable::Yielded, &self.priority);
    }

    fn end(&mut self, _steps: u64) {
        self.longest = self.longest.max(self.step);
    }

    fn name(&self) -> String {
        format!("pct{}", self.depth)
    }
}

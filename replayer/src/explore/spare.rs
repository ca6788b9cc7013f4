//! What one explored run leaves for the next (stacks, slots, the log), so
//! that a schedule of a program already explored allocates nothing in the
//! scheduler; and the events an observed run made.

use corosensei::stack::DefaultStack;
use reprise_recorder::hook::coop::CoopRun;
use reprise_recorder::trace::model::{ObjectIndex, ThreadIndex};

use super::coroutine::Spawned;
use super::run_failure::Step;
use super::threads::{IndexMap, Threads};

/// An event an observed run made, in the order the run made them.
#[derive(Clone, Debug)]
pub(crate) struct Made {
    /// The scheduling point it followed (an index into the log).
    pub(crate) step: usize,
    pub(crate) thread: ThreadIndex,
    pub(crate) event: reprise_recorder::trace::model::Event,
    /// Its call site, `file:line`.
    pub(crate) site: String,
}

/// Memory one run leaves for the next, so that a schedule of a program
/// already explored allocates nothing in the scheduler: coroutine stacks,
/// the threads' slots and sets, the lock owners, the log.
#[derive(Default)]
pub(crate) struct Spare {
    pub(crate) pool: Vec<DefaultStack>,
    /// The last passing run's execution, renewed for the next one
    /// ([`CoopRun::renew`]).
    pub(crate) run: Option<CoopRun>,
    /// Whether runs write no trace ([`CoopRun::untraced`]): a search's and
    /// minimization's runs, which need only their schedules.
    pub(crate) untraced: bool,
    pub(super) threads: Threads,
    pub(super) lock_owner: IndexMap<ObjectIndex, ThreadIndex>,
    pub(super) waiters: Vec<ThreadIndex>,
    pub(super) spawned: Vec<Spawned>,
    pub(super) log: Vec<Step>,
    pub(super) side: Vec<u32>,
}

impl Spare {
    /// Memory for runs that write no trace.
    pub(crate) fn untraced() -> Spare {
        Spare { untraced: true, ..Spare::default() }
    }

    /// Takes back a passing run's execution, log and other choices.
    pub(crate) fn recycle(&mut self, run: CoopRun, mut log: Vec<Step>, mut side: Vec<u32>) {
        log.clear();
        side.clear();
        self.run = Some(run);
        self.log = log;
        self.side = side;
    }
}

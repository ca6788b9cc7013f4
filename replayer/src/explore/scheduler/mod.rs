//! One explored run: the program's threads as fibers on this OS thread, a
//! strategy choosing who runs at each scheduling point, blocking modeled
//! (a blocked thread is not runnable), virtual time, and the checks that turn
//! a run into a failure: a panic, a deadlock (every live thread blocked, or a
//! cycle of lock waits while others still run), or a livelock (too many steps).

use std::cell::RefCell;
use std::rc::Rc;

use corosensei::stack::DefaultStack;
use reprise_recorder::hook::coop::{self, Resource, SavedContext, Scheduler, Served};
use reprise_recorder::trace::model::{ObjectIndex, ThreadIndex};

use super::coroutine::{Fiber, Ran, Spawned};
use super::run_failure::{FailureKind, Step, Stuck};
use super::spare::{Made, Spare};
use super::strategy::Strategy;
use super::stuck_unwinding::{Stop, StuckUnwinding};
use super::threads::{IndexMap, Status, Threads};

mod hook;

use crate::unwinding::Unwinding;

/// The root thread of every run: the closure the explorer was given.
const ROOT: ThreadIndex = 0;

/// How many steps the threads left after the root's end run at most (see
/// `RunScheduler::pick`): enough to show how a program's detached threads
/// wind down (the events `why` flips may come after a root's panic), not a
/// spinner's forever.
const AFTER_ROOT_STEPS: u64 = 1_000;

struct State {
    threads: Threads,
    clock: u64,
    steps: u64,
    max_steps: u64,
    /// The step at which the root thread ended.
    root_ended_at: Option<u64>,
    strategy: Box<dyn Strategy>,
    lock_owner: IndexMap<ObjectIndex, ThreadIndex>,
    log: Vec<Step>,
    failure: Option<FailureKind>,
    running: Option<ThreadIndex>,
    pool: Vec<DefaultStack>,
    /// Scratch list of the waiters a wake chooses from.
    waiters: Vec<ThreadIndex>,
    /// Bodies of threads spawned during the current slice, made into fibers
    /// once it suspends.
    spawned: Vec<Spawned>,
    /// The run's other choices (which waiter a wake lets go, which ready
    /// arm a select takes), in order: with the log, the whole schedule.
    side: Vec<u32>,
    /// Other choices to make instead of asking the strategy (a minimization
    /// re-run), and how many were used.
    side_plan: Option<(Vec<u32>, usize)>,
    /// Every event the run made, when the failure report asks for them.
    made: Option<Vec<Made>>,
    /// Whether a thread that yielded waits until every other thread is
    /// blocked (the default) or stays a candidate like any other (`why`'s
    /// runs, whose strategy decides).
    yield_defers: bool,
    /// Whether the earliest timer may expire while threads can run, as one
    /// more choice (the default), or only when nothing else can happen
    /// ([`crate::explore::Config::time_choices`] off).
    time_is_a_choice: bool,
    /// How far ahead of the clock, in nanoseconds, the earliest timer may
    /// be and still expire by choice ([`crate::explore::Config::time_horizon`]).
    time_horizon: u64,
    /// Scratch list of the options of a timer choice.
    options: Vec<ThreadIndex>,
    /// Events made so far, per thread (a capture's index among them).
    made_by: Vec<u64>,
    /// The captures this run made, by (thread, event index).
    captured: Captured,
    /// Captures to give back instead of running their closures (a run of a
    /// failing schedule again), by (thread, event index).
    serve: Option<Rc<Captured>>,
    /// Who unwinds, the OS thread's panic count being shared.
    unwinding: Unwinding,
}

/// Captured values by (thread, event index): a run's, given back to a run
/// of its schedule again, so that it reads what the first one read.
pub(crate) type Captured = std::collections::HashMap<(ThreadIndex, u64), Served>;

/// The scheduler of one run, shared by the fibers through the recorder's
/// thread-local hook.
pub(crate) struct RunScheduler {
    state: RefCell<State>,
}

/// What a run left behind.
pub(crate) struct RunEnd {
    pub(crate) failure: Option<FailureKind>,
    pub(crate) log: Vec<Step>,
    pub(crate) steps: u64,
    /// The strategy, handed back for the next schedule (taken once).
    pub(crate) strategy: Option<Box<dyn Strategy>>,
    /// Memory for the next run.
    pub(crate) spare: Spare,
    /// The other choices the run made (see `State::side`).
    pub(crate) side: Vec<u32>,
    /// The events, if the run was observed ([`RunScheduler::observe`]).
    pub(crate) made: Vec<Made>,
    /// The captures it made.
    pub(crate) captured: Rc<Captured>,
    /// The run had to guess whether a thread was unwinding (it started a
    /// panic while another was suspended mid-unwind, and std's panic count
    /// is one per OS thread): its failure, if any, may be the guess's, so
    /// it is not reported.
    pub(crate) uncertain: bool,
}

impl RunScheduler {
    pub(crate) fn new(strategy: Box<dyn Strategy>, max_steps: u64, spare: Spare) -> Rc<RunScheduler> {
        let Spare { pool, run: _, untraced: _, threads, lock_owner, waiters, spawned, log, side } = spare;
        Rc::new(RunScheduler {
            state: RefCell::new(State {
                threads,
                clock: 0,
                steps: 0,
                max_steps,
                root_ended_at: None,
                strategy,
                lock_owner,
                log,
                failure: None,
                running: None,
                pool,
                waiters,
                spawned,
                side,
                side_plan: None,
                made: None,
                yield_defers: true,
                time_is_a_choice: true,
                time_horizon: u64::MAX,
                options: Vec::new(),
                made_by: Vec::new(),
                captured: Captured::new(),
                serve: None,
                // Raised already: an earlier run on this OS thread left a
                // fiber mid-unwind (its teardown stranded it in a `Drop`).
                unwinding: Unwinding::new(std::thread::panicking()),
            }),
        })
    }

    /// Makes the run's other choices (wakes, select arms) as `plan` lists
    /// them, in order, instead of asking the strategy; past its end, or
    /// where its choice is not on offer, the first option.
    pub(crate) fn follow_side(&self, plan: Vec<u32>) {
        self.state.borrow_mut().side_plan = Some((plan, 0));
    }

    /// Lets a thread that yielded stay a candidate at the next point: the
    /// strategy decides whether a yield gives the turn away.
    pub(crate) fn keep_yielded(&self) {
        self.state.borrow_mut().yield_defers = false;
    }

    /// Lets timers expire only when no thread can run.
    pub(crate) fn timers_wait(&self) {
        self.state.borrow_mut().time_is_a_choice = false;
    }

    /// Lets a timer expire by choice only when it is due within `horizon`
    /// of virtual time; one due later waits until no thread can run.
    pub(crate) fn timers_within(&self, horizon: std::time::Duration) {
        self.state.borrow_mut().time_horizon = u64::try_from(horizon.as_nanos()).unwrap_or(u64::MAX);
    }

    /// Gives back `captures` (another run's, of the same schedule) instead
    /// of running the closures of the captures at the same places.
    pub(crate) fn serve_captures(&self, captures: Rc<Captured>) {
        if !captures.is_empty() {
            self.state.borrow_mut().serve = Some(captures);
        }
    }

    /// Keeps every event the run makes, for the failure report.
    pub(crate) fn observe(&self) {
        self.state.borrow_mut().made = Some(Vec::new());
    }

    /// Runs the program whose root thread is `root` to its end or first
    /// failure. Consumes the scheduler's state.
    pub(crate) fn run(self: &Rc<Self>, root: Box<dyn FnOnce()>) -> RunEnd {
        coop::install_scheduler(Rc::clone(self) as Rc<dyn Scheduler>);
        self.state.borrow_mut().spawned.push((0, None, None, root));
        let watch = super::backstop::Watch::current();
        loop {
            self.start_spawned();
            let Some(pick) = self.pick() else { break };
            let mut fiber = {
                let mut st = self.state.borrow_mut();
                let slot = st.threads.get_mut(pick).expect("picked thread exists");
                if let Some(ctx) = slot.ctx.take() {
                    ctx.restore();
                }
                if let Some(watch) = &watch {
                    watch.resuming(pick, slot.next);
                }
                let fiber = slot.fiber.take().expect("a runnable thread has a fiber");
                st.running = Some(pick);
                st.unwinding.resume(pick);
                fiber
            };
            let ran = fiber.resume();
            if let Some(watch) = &watch {
                watch.returned();
            }
            let saved = SavedContext::save();
            {
                let mut st = self.state.borrow_mut();
                let st = &mut *st;
                st.running = None;
                let slot = st.threads.get_mut(pick).expect("resumed thread exists");
                slot.ctx = Some(saved);
                match ran {
                    Ran::Suspended => slot.fiber = Some(fiber),
                    Ran::Finished => {
                        if pick == ROOT {
                            st.root_ended_at = Some(st.steps);
                        }
                        if let Some(stack) = fiber.into_stack() {
                            st.pool.push(stack);
                        }
                        st.threads.finish(pick, &mut *st.strategy);
                        st.unwinding.finished(pick);
                        st.threads.wake_all(Resource::Thread(pick), &mut *st.strategy);
                    }
                }
            }
            // A deadlock stops the run; after a panic it goes on, so the
            // trace shows how the program ends (replay reproduces that too).
            if matches!(self.state.borrow().failure, Some(FailureKind::Deadlock { .. })) {
                break;
            }
        }
        coop::remove_scheduler();
        let (end, stuck) = self.teardown();
        if let Some(stuck) = stuck {
            // Not `panic!`: no hook, no message; `detached.rs` catches it.
            std::panic::resume_unwind(Box::new(Stop(stuck)));
        }
        end
    }

    fn start_spawned(&self) {
        let mut st = self.state.borrow_mut();
        let st = &mut *st;
        for (index, name, stack, body) in st.spawned.drain(..) {
            let fiber = Fiber::new(index, name, body, stack, &mut st.pool);
            st.threads.add(index, fiber, &mut *st.strategy);
        }
    }

    /// Chooses the next thread, advancing virtual time or declaring a
    /// deadlock when nothing can run. `None`: the run is over.
    fn pick(&self) -> Option<ThreadIndex> {
        let mut st = self.state.borrow_mut();
        let st = &mut *st;
        let idle = !st.threads.any_runnable() && !self.fire_timers(st);
        if let Some(ended) = st.root_ended_at {
            // The root's end (a return or a panic) is the program's, as in
            // std, where the process exits with its main thread: threads
            // never joined run on only until they all wait, or for
            // `AFTER_ROOT_STEPS`, and are torn down where they are (any
            // point is one where the exit could have come). Neither is a
            // failure: one left waiting was a false deadlock, and one
            // retrying for ever (a loop catching the panic of a lock the
            // root's unwind poisoned) ran every run to its step limit.
            if idle || st.steps - ended >= AFTER_ROOT_STEPS {
                return None;
            }
        }
        if idle {
            let stuck: Vec<Stuck> = st
                .threads
                .iter()
                .filter(|(_, s)| matches!(s.status, Status::Blocked { .. }))
                .map(|(t, s)| Stuck { thread: t, call: s.next, waits_for: None })
                .collect();
            if !stuck.is_empty() && st.failure.is_none() {
                let stuck = with_owners(stuck, st);
                st.failure = Some(FailureKind::Deadlock { stuck, partial: false });
            }
            return None;
        }
        let expired = if st.time_is_a_choice { self.expire_by_choice(st) } else { None };
        let State { threads, strategy, log, .. } = &mut *st;
        // A thread that yielded is not on offer until every thread that
        // could run when it yielded has had a step (or blocked), or until
        // no other can run: otherwise spin-waits under a priority strategy
        // (PCT) pass the turn among themselves and never let the thread
        // they wait for run; and it is not kept off for longer, so that a
        // yielding thread waiting for threads that spin without yielding
        // is not starved (`Slot::owed`).
        let offered = threads.offered();
        let current = log.last().map(|s| s.thread).filter(|t| offered.binary_search(t).is_ok());
        // A sleeper woken by a time choice was chosen on the side (logged
        // there), not by the strategy: counted as asked, it shifted a plan's
        // re-run by one step, and an explored failure found after a time
        // choice did not fail again when run to record its trace.
        let asked = offered.len() > 1 && expired.is_none();
        let pick = if let Some(sleeper) = expired {
            sleeper
        } else if asked {
            let threads = &*threads;
            strategy.choose_next(offered, current, &|t| threads.next(t))
        } else {
            offered[0]
        };
        // An event that a followed recording made at a later virtual time
        // (a select that took a timer arm) waits for the clock: it moves
        // there now, firing every timer due by then. Nothing in the order
        // the run follows says which timed waits moved it in the recording
        // (the trace has no time edges), and a select run early takes
        // another arm.
        if let Some(at) = strategy.not_before(pick).filter(|&at| at > st.clock) {
            advance_clock(st, at);
        }
        let State { threads, strategy, log, .. } = &mut *st;
        let preempted = current.is_some_and(|c| c != pick);
        let call = threads.next(pick);
        strategy.ran(pick, call);
        threads.ran(pick, &mut **strategy);
        log.push(Step { thread: pick, call, preempted, asked });
        st.steps += 1;
        if st.steps > st.max_steps {
            let steps = st.max_steps;
            if st.failure.is_none() {
                st.failure = Some(FailureKind::Livelock { thread: pick, call, steps });
            }
            return None;
        }
        Some(pick)
    }

    /// Time as a choice: while threads can run, the earliest timer's expiry
    /// is one more option beside them (a heartbeat, a rate feed's tick, a
    /// timeout racing a reply), so that a timer-paced thread interleaves
    /// with busy ones. The sleeper comes last among the options, so that a
    /// strategy's first option (DFS's default branch) is a thread that can
    /// run. When it is chosen, virtual time moves to its deadline (waking
    /// every timer due by then) and the sleeper runs next. Logged with the
    /// other choices, so a minimization re-run makes the same one.
    fn expire_by_choice(&self, st: &mut State) -> Option<ThreadIndex> {
        let (deadline, sleeper) = st.threads.earliest_timer()?;
        if deadline.saturating_sub(st.clock) > st.time_horizon {
            // A liveness guard: the earliest timer, and every later one,
            // waits until nothing else can happen.
            return None;
        }
        let mut options = std::mem::take(&mut st.options);
        options.clear();
        options.extend_from_slice(st.threads.offered());
        let current = st.log.last().map(|s| s.thread).filter(|t| options.binary_search(t).is_ok());
        options.push(sleeper);
        // Past the plan, or off it, the first option: the timer waits.
        let choice = side_choice(st, &options, current);
        st.options = options;
        if choice != sleeper {
            return None;
        }
        advance_clock(st, deadline);
        Some(sleeper)
    }

    /// Nothing can run: fires the earliest timer, if any (time passes only
    /// when nothing else can happen). Whether one fired.
    fn fire_timers(&self, st: &mut State) -> bool {
        let Some((deadline, _)) = st.threads.earliest_timer() else { return false };
        advance_clock(st, deadline);
        true
    }

    /// Stops every unfinished thread: flushes its recorded events (the
    /// failure's trace needs them) and unwinds its fiber, except a thread
    /// blocked mid-unwind, whose fiber is left (see `stuck_unwinding.rs`)
    /// and said.
    fn teardown(&self) -> (RunEnd, Option<StuckUnwinding>) {
        let mut st = self.state.borrow_mut();
        let st = &mut *st;
        let mut fibers = Vec::new();
        let mut stuck = Vec::new();
        for (index, slot) in st.threads.indexed_slots_mut() {
            if let Some(ctx) = slot.ctx.take() {
                ctx.close();
            }
            if let Some(fiber) = slot.fiber.take() {
                if let Some(blocked) = st.unwinding.suspended(index) {
                    // Switched out mid-unwind, it was runnable: only a
                    // deadlock ends a run then, and that is the report.
                    if blocked {
                        stuck.push((index, slot.next));
                    }
                    // Never resumed, never unwound: Rust would abort.
                    std::mem::forget(fiber);
                } else {
                    fibers.push(fiber);
                }
            }
        }
        let stuck = (!stuck.is_empty()).then(|| StuckUnwinding {
            summary: st.failure.as_ref().map_or_else(|| "the run ended".to_string(), FailureKind::summary),
            threads: stuck,
        });
        st.threads.reset();
        st.lock_owner.clear();
        // Bodies never started are dropped, not started by the next run.
        st.spawned.clear();
        use std::mem::take;
        let spare = Spare {
            pool: take(&mut st.pool),
            run: None,
            untraced: false,
            threads: take(&mut st.threads),
            lock_owner: take(&mut st.lock_owner),
            waiters: take(&mut st.waiters),
            spawned: take(&mut st.spawned),
            log: Vec::new(),
            side: Vec::new(),
        };
        let end = RunEnd {
            failure: st.failure.take(),
            log: take(&mut st.log),
            steps: st.steps,
            // A zero-sized stand-in: boxing it does not allocate.
            strategy: Some(std::mem::replace(&mut st.strategy, Box::new(Spent))),
            spare,
            side: take(&mut st.side),
            made: st.made.take().unwrap_or_default(),
            captured: Rc::new(take(&mut st.captured)),
            uncertain: st.unwinding.uncertain(),
        };
        // Unwinding a fiber runs its destructors with no context installed:
        // the primitives pass through and call no scheduler (one that
        // catches the unwind and calls reprise again is left, see
        // `Fiber::tear_down`). Newest first: a scoped thread borrows from its
        // spawner's stack (a child's index is above its parent's), so it
        // must be gone before that stack unwinds.
        while let Some(fiber) = fibers.pop() {
            fiber.tear_down();
        }
        (end, stuck)
    }

    /// A blocked thread closes a cycle of lock waits?
    fn lock_cycle(&self, st: &State, from: ThreadIndex) -> Option<Vec<ThreadIndex>> {
        let mut path = vec![from];
        let mut at = from;
        loop {
            let slot = st.threads.get(at)?;
            let Status::Blocked { .. } = slot.status else { return None };
            let owner = slot.on.iter().find_map(|r| match r {
                Resource::Object(o) => st.lock_owner.get(o).copied(),
                Resource::Thread(_) => None,
            })?;
            if owner == at {
                return None;
            }
            if let Some(start) = path.iter().position(|&t| t == owner) {
                return Some(path[start..].to_vec());
            }
            path.push(owner);
            at = owner;
        }
    }
}

/// The strategy a run holds once it has handed its own back.
struct Spent;

impl Strategy for Spent {
    fn begin(&mut self, _index: u64) -> bool {
        false
    }

    fn choose(&mut self, runnable: &[ThreadIndex], _current: Option<ThreadIndex>) -> ThreadIndex {
        runnable[0]
    }

    fn name(&self) -> String {
        "spent".into()
    }
}

/// Fills in who holds the lock each stuck thread waits for.
fn with_owners(mut stuck: Vec<Stuck>, st: &State) -> Vec<Stuck> {
    for s in &mut stuck {
        if let Some(slot) = st.threads.get(s.thread).filter(|s| matches!(s.status, Status::Blocked { .. })) {
            s.waits_for = slot.on.iter().find_map(|r| match r {
                Resource::Object(o) => st.lock_owner.get(o).copied(),
                Resource::Thread(t) => Some(*t),
            });
        }
    }
    stuck
}

/// Moves virtual time to `deadline` (never back) and wakes, timed out,
/// every thread whose timer is due by then.
fn advance_clock(st: &mut State, deadline: u64) {
    st.clock = st.clock.max(deadline);
    st.threads.fire_timers(st.clock, &mut *st.strategy);
}

/// A choice other than the next thread (`current`: the thread that would
/// go on, if it is among the options): from the side plan when following
/// one (past its end, or where its choice is not on offer, the first
/// option), else the strategy's; logged either way.
fn side_choice(st: &mut State, options: &[u32], current: Option<ThreadIndex>) -> u32 {
    let choice = match &mut st.side_plan {
        Some((plan, at)) => {
            let planned = plan.get(*at).copied().filter(|c| options.contains(c));
            *at += 1;
            planned.unwrap_or(options[0])
        }
        None => st.strategy.choose(options, current),
    };
    st.side.push(choice);
    choice
}

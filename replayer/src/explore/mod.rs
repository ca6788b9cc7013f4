//! The explorer: run a program's threads one at a time under a controlled
//! scheduler, choosing who runs at every primitive call, until a schedule
//! breaks it; hand back that schedule as a trace that `reprise replay`
//! reproduces.
//!
//! ```
//! use reprise_recorder::sync::{atomic::{AtomicU64, Ordering}, Arc};
//! use reprise_recorder::thread;
//! use reprise_replayer::explore::{Config, Explorer};
//!
//! // A split read-modify-write: two threads can both read 0.
//! let outcome = Explorer::new(Config::default().budget(200)).run(|| {
//!     let n = Arc::new(AtomicU64::new(0));
//!     let n2 = Arc::clone(&n);
//!     let t = thread::spawn(move || {
//!         let v = n2.load(Ordering::SeqCst);
//!         n2.store(v + 1, Ordering::SeqCst);
//!     });
//!     let v = n.load(Ordering::SeqCst);
//!     n.store(v + 1, Ordering::SeqCst);
//!     t.join().unwrap();
//!     assert_eq!(n.load(Ordering::SeqCst), 2, "an increment was lost");
//! });
//! let failure = outcome.failure.expect("the explorer finds the lost increment");
//! assert!(failure.kind.summary().contains("an increment was lost"));
//! ```

pub mod backstop;
mod config;
#[allow(unsafe_code)]
pub(crate) mod coroutine;
mod detached;
mod failure;
mod interleaving;
mod minimize;
#[allow(unsafe_code)]
mod overflow;
mod replay_here;
mod run_failure;
mod scheduler;
mod spare;
pub mod strategy;
mod stuck_unwinding;
mod threads;
pub(crate) mod trace_out;

use std::cell::RefCell;
use std::rc::Rc;

use reprise_recorder::hook::coop::CoopRun;

pub use backstop::UninstrumentedBlocking;
pub use config::{parse_shard, Config, DEFAULT_TIME_HORIZON, TIME_HORIZON_ENV};
pub use failure::{set_program_header, Failure};
pub use replay_here::REPLAY_ENV;
pub use run_failure::{FailureKind, Step, Stuck};
pub use strategy::{Strategy, StrategyKind};
pub use stuck_unwinding::StuckUnwinding;
pub use trace_out::{explored_test, TEST_PARAMETER};

use scheduler::{RunEnd, RunScheduler};
pub(crate) use spare::Spare;

/// What an exploration did.
#[derive(Debug)]
#[non_exhaustive]
pub struct ExploreOutcome {
    /// Schedules run (not counting minimization).
    pub schedules: u64,
    /// The first failure, minimized and written as a trace.
    pub failure: Option<Failure>,
    /// Whether a systematic strategy ran out of schedules before the budget.
    pub exhausted: bool,
    /// The exploration was stopped because an explored thread blocked in a
    /// call reprise does not see for longer than [`Config::backstop`]: not a
    /// finding about the program, and the search is incomplete.
    pub blocked: Option<UninstrumentedBlocking>,
    /// Schedules whose verdict was not kept: a thread started a panic while
    /// another was suspended mid-unwind, and whether it had caught it by a
    /// later call could only be guessed (std counts panics per OS thread,
    /// and explored threads share one). Their failures, if any, are not
    /// reported; the search went on.
    pub uncertain: u64,
    /// The exploration stopped because a run ended with a thread blocked in
    /// a `Drop` while it unwinds (a deadlock through a panic's cleanup),
    /// which cannot be torn down: a finding, reported without a trace.
    pub stuck_unwinding: Option<StuckUnwinding>,
}

impl ExploreOutcome {
    /// `schedules` run, `uncertain` of them not judged, and nothing else.
    pub(crate) fn after(schedules: u64, uncertain: u64) -> ExploreOutcome {
        ExploreOutcome {
            schedules,
            failure: None,
            exhausted: false,
            blocked: None,
            uncertain,
            stuck_unwinding: None,
        }
    }

    /// What to say of the schedules not judged, if any.
    pub fn uncertain_note(&self) -> Option<String> {
        (self.uncertain > 0).then(|| {
            format!(
                "{} of {} schedules not judged: a thread panicked while another was suspended \
                 mid-unwind, and whether it had caught its panic could only be guessed",
                self.uncertain, self.schedules
            )
        })
    }
}

/// Explores the schedules of a program: see the [module docs](self).
#[derive(Debug, Clone)]
pub struct Explorer {
    config: Config,
}

/// What one explored run gives back, besides its schedule.
pub(crate) struct Explored {
    pub(crate) end: RunEnd,
    pub(crate) run: CoopRun,
}

impl Explorer {
    /// An explorer with `config`.
    pub fn new(config: Config) -> Explorer {
        Explorer { config }
    }

    /// The config.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Explores `program`: a failure is a panic in any thread, a deadlock or
    /// a livelock.
    pub fn run<F>(&self, program: F) -> ExploreOutcome
    where
        F: Fn() + Send + 'static,
    {
        self.run_checked(program, |_: &()| None, |_| ())
    }

    /// Explores `program` and calls `progress` after every schedule with the
    /// number run so far; `check` turns a result into a failure message
    /// (for programs that report problems instead of panicking).
    ///
    /// The exploration runs on an OS thread of its own (which is why
    /// `program` and `check` are `Send`), and this thread waits for it and
    /// calls `progress`: when an explored thread blocks where reprise cannot
    /// see ([`Config::backstop`]), this returns with
    /// [`ExploreOutcome::blocked`] and that OS thread is left blocked until
    /// the process ends.
    pub fn run_checked<F, R, C, P>(&self, program: F, check: C, progress: P) -> ExploreOutcome
    where
        F: Fn() -> R + Send + 'static,
        R: 'static,
        C: Fn(&R) -> Option<String> + Send + 'static,
        P: FnMut(u64),
    {
        if self.config.test.is_some() {
            return detached::run(self, program, check, progress);
        }
        let mut explorer = self.clone();
        explorer.config.test = replay_here::calling_test();
        detached::run(&explorer, program, check, progress)
    }

    /// [`Explorer::run_checked`] on this OS thread.
    pub(crate) fn explore_here<F, R, C, P>(&self, program: F, check: C, mut progress: P) -> ExploreOutcome
    where
        F: Fn() -> R + 'static,
        R: 'static,
        C: Fn(&R) -> Option<String>,
        P: FnMut(u64),
    {
        let program = Rc::new(program);
        let (shard, shards) = self.config.shard;
        // A DFS shard counts its own schedules: it starts its part of the
        // tree at its first.
        let own_count = matches!(self.config.strategy, StrategyKind::Dfs { .. });
        let mut strategy = match self.config.strategy {
            // DFS is deterministic: its shards split the schedule tree.
            StrategyKind::Dfs { preemptions } if shards > 1 => {
                Box::new(strategy::Dfs::new(preemptions).sharded(shard, shards))
            }
            kind => kind.build(self.config.seed),
        };
        // The search writes no traces: a failing schedule is run again,
        // traced, for its trace and report (`failure::build`).
        let mut spare = Spare::untraced();
        let mut schedules = 0;
        let mut uncertain = 0;
        // Schedules are numbered from 1 to the budget, which the shards
        // split: shard i of n runs the numbers n * k + i + 1 (a DFS shard,
        // as many of its own part of the tree).
        for number in 1..=self.config.budget {
            if (number - 1) % shards != shard {
                continue;
            }
            if !strategy.begin(if own_count { schedules } else { number - 1 }) {
                return ExploreOutcome { exhausted: true, ..ExploreOutcome::after(schedules, uncertain) };
            }
            let (explored, result) =
                run_once(&program, strategy, self.config.limits(), spare, number - 1, |_| ());
            schedules += 1;
            progress(schedules);
            let mut end = explored.end;
            strategy = end.strategy.take().expect("a run hands its strategy back");
            strategy.end(end.steps);
            spare = std::mem::take(&mut end.spare);
            spare.untraced = true;
            uncertain += u64::from(end.uncertain);
            let failure = failure_of(&mut end, result.as_ref(), &check);
            if let Some(kind) = failure {
                let explored = Explored { end, run: explored.run };
                let failure = failure::build(self, &program, &check, kind, explored, number, strategy.name());
                return ExploreOutcome {
                    failure: Some(failure),
                    ..ExploreOutcome::after(schedules, uncertain)
                };
            }
            spare.recycle(explored.run, end.log, end.side);
        }
        ExploreOutcome::after(schedules, uncertain)
    }
}

/// How a run failed: its own verdict (panic, deadlock, livelock), or what
/// the program's check says of its result. None for a run whose verdict is
/// a guess ([`ExploreOutcome::uncertain`]).
pub(crate) fn failure_of<R>(
    end: &mut RunEnd,
    result: Option<&R>,
    check: &impl Fn(&R) -> Option<String>,
) -> Option<FailureKind> {
    if end.uncertain {
        return None;
    }
    end.failure.take().or_else(|| result.and_then(check).map(|message| FailureKind::Check { message }))
}

/// What one run may do: its scheduling points before it counts as a
/// livelock, whether timers expire by choice ([`Config::time_choices`])
/// and how far ahead ([`Config::time_horizon`]).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Limits {
    pub(crate) max_steps: u64,
    pub(crate) time_choices: bool,
    pub(crate) time_horizon: Option<std::time::Duration>,
}

/// Runs `program` once under `strategy`.
pub(crate) fn run_once<F, R>(
    program: &Rc<F>,
    strategy: Box<dyn Strategy>,
    limits: Limits,
    mut spare: Spare,
    index: u64,
    setup: impl FnOnce(&RunScheduler),
) -> (Explored, Option<R>)
where
    F: Fn() -> R + 'static,
    R: 'static,
{
    let run = match spare.run.take() {
        Some(last) => last.renew(index),
        None if spare.untraced => CoopRun::untraced(index),
        None => CoopRun::new(index),
    };
    let result: Rc<RefCell<Option<R>>> = Rc::new(RefCell::new(None));
    let (program, slot) = (Rc::clone(program), Rc::clone(&result));
    let root = run.root(move || {
        let value = program();
        *slot.borrow_mut() = Some(value);
    });
    let scheduler = RunScheduler::new(strategy, limits.max_steps, spare);
    if !limits.time_choices {
        scheduler.timers_wait();
    } else if let Some(horizon) = limits.time_horizon {
        scheduler.timers_within(horizon);
    }
    setup(&scheduler);
    let end = scheduler.run(Box::new(move || {
        let _ = root();
    }));
    let value = result.borrow_mut().take();
    (Explored { end, run }, value)
}

/// Explores `program` with `budget` schedules and the environment's config,
/// and panics with the failure report if a schedule breaks it: one line in a
/// `#[test]`.
///
/// With [`REPLAY_ENV`] (`REPRISE_REPLAY`) naming a trace this test's
/// exploration wrote (its header holds the test's path), it replays that
/// schedule instead, with the program's threads as OS threads, and fails as
/// the explored run did: what the report's `replay it:` line does. Other
/// tests in the process explore as usual.
///
/// Under `reprise why FILE --test NAME`, the call of the test that wrote
/// `FILE` makes the one run of the search the environment asks for (see
/// [`crate::why::child`]) and returns.
///
/// # Panics
///
/// With the report (the failure, the interleaving, the command that replays
/// the saved trace) when a schedule fails, and with the
/// [`UninstrumentedBlocking`] error when an explored thread blocked where
/// reprise cannot see; after a replay in place, with how it went.
pub fn explore<F>(program: F, budget: u64)
where
    F: Fn() + Send + 'static,
{
    let test = replay_here::calling_test();
    if let Some(child) = crate::why::child::ChildRun::requested() {
        if child.is_for_test(test.as_deref()) {
            // `reprise why --test`: one run of its search, in place of exploring.
            child.run(program, |_: &()| None);
            return;
        }
    }
    if let Some((path, trace)) = replay_here::requested(test.as_deref()) {
        panic!("{}", replay_here::replay_in_place(&path, &trace, program));
    }
    let config = Config::from_env();
    let mut config =
        if std::env::var_os("REPRISE_BUDGET").is_some() { config } else { config.budget(budget) };
    config.replays_in_place = true;
    let outcome = Explorer::new(config).run(program);
    if let Some(failure) = outcome.failure {
        panic!("{}", failure.report);
    }
    if let Some(blocked) = outcome.blocked {
        panic!("{blocked}");
    }
    if let Some(stuck) = outcome.stuck_unwinding {
        panic!("{stuck}");
    }
    if let Some(note) = outcome.uncertain_note() {
        eprintln!("reprise: {note}");
    }
}

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
#[allow(unsafe_code)]
pub(crate) mod coroutine;
mod detached;
mod failure;
mod minimize;
mod scheduler;
pub mod strategy;

use std::cell::RefCell;
use std::path::PathBuf;
use std::rc::Rc;
use std::time::Duration;

use reprise_recorder::hook::coop::CoopRun;

pub use backstop::UninstrumentedBlocking;
pub use failure::{set_program_header, Failure};
pub use scheduler::{FailureKind, Step, Stuck};
pub use strategy::{Strategy, StrategyKind};

use scheduler::{RunEnd, RunScheduler};

/// How to explore. Every field has a default and an environment variable that
/// overrides it (read by [`Config::from_env`]).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Config {
    /// How to choose the next thread. Default: [`StrategyKind::Portfolio`];
    /// `REPRISE_STRATEGY=random|pct|pctN|dfs|pos|surw|portfolio`.
    pub strategy: StrategyKind,
    /// How many schedules to try. Default: 1000; `REPRISE_BUDGET`.
    pub budget: u64,
    /// Seed of the strategies' choices: the same seed gives the same
    /// schedules. Default: 0; `REPRISE_SEED`.
    pub seed: u64,
    /// Scheduling points one schedule may take before it counts as a
    /// livelock. Default: 100,000; `REPRISE_MAX_STEPS`.
    pub max_steps: u64,
    /// Where failing schedules are written as traces. Default: the system's
    /// temp dir; `REPRISE_TRACE_DIR`.
    pub trace_dir: Option<PathBuf>,
    /// The file name (without `.trace`) of a failure's trace. Default:
    /// `explore-failure`; `REPRISE_TRACE_NAME`.
    pub name: String,
    /// This machine's share of the schedules: `(i, n)` runs schedule numbers
    /// congruent to `i` modulo `n` (random and PCT seeds; DFS is not split).
    /// Default: `(0, 1)`; `REPRISE_SHARD=i/n`.
    pub shard: (u64, u64),
    /// Whether to shrink a failing schedule (fewer preemptions and steps)
    /// before writing it. Default: true; `REPRISE_MINIMIZE=0` turns it off.
    pub minimize: bool,
    /// The command the failure report gives for replaying the trace, with
    /// `{trace}` for its path. Default: none (the report shows the API call).
    pub replay_command: Option<String>,
    /// How long an explored thread may stay inside a call reprise does not
    /// see (a std lock, a socket read) before the exploration is stopped
    /// with [`ExploreOutcome::blocked`] (see [`backstop`]); `None`: never.
    /// Default: 60 s; `REPRISE_EXPLORE_BACKSTOP=SECONDS|off`.
    pub backstop: Option<Duration>,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            strategy: StrategyKind::Portfolio,
            budget: 1000,
            seed: 0,
            max_steps: 100_000,
            trace_dir: None,
            name: "explore-failure".into(),
            shard: (0, 1),
            minimize: true,
            replay_command: None,
            backstop: Some(backstop::DEFAULT_EXPLORE_BACKSTOP),
        }
    }
}

impl Config {
    /// The defaults, overridden by the `REPRISE_*` environment variables.
    ///
    /// # Panics
    ///
    /// When a variable is set to something unreadable: a test run with a
    /// typo in its environment should not silently explore something else.
    pub fn from_env() -> Config {
        let mut config = Config::default();
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let number =
            |name: &str| var(name).map(|v| v.parse::<u64>().unwrap_or_else(|e| panic!("{name}={v}: {e}")));
        if let Some(v) = var("REPRISE_STRATEGY") {
            config.strategy = v.parse().unwrap_or_else(|e| panic!("REPRISE_STRATEGY: {e}"));
        }
        config.budget = number("REPRISE_BUDGET").unwrap_or(config.budget);
        config.seed = number("REPRISE_SEED").unwrap_or(config.seed);
        config.max_steps = number("REPRISE_MAX_STEPS").unwrap_or(config.max_steps);
        config.trace_dir = var("REPRISE_TRACE_DIR").map(PathBuf::from).or(config.trace_dir);
        if let Some(name) = var("REPRISE_TRACE_NAME") {
            config.name = name;
        }
        if let Some(v) = var("REPRISE_SHARD") {
            config.shard = parse_shard(&v).unwrap_or_else(|e| panic!("REPRISE_SHARD: {e}"));
        }
        if let Some(v) = var("REPRISE_MINIMIZE") {
            config.minimize = v != "0";
        }
        if let Some(v) = var(backstop::EXPLORE_BACKSTOP_ENV) {
            config.backstop = backstop::parse_explore_backstop(&v).unwrap_or_else(|e| panic!("{e}"));
        }
        config
    }

    /// Sets the budget.
    pub fn budget(mut self, budget: u64) -> Config {
        self.budget = budget;
        self
    }

    /// Sets the strategy.
    pub fn strategy(mut self, strategy: StrategyKind) -> Config {
        self.strategy = strategy;
        self
    }

    /// Sets the seed.
    pub fn seed(mut self, seed: u64) -> Config {
        self.seed = seed;
        self
    }

    /// Sets where failing traces go.
    pub fn trace_dir(mut self, dir: impl Into<PathBuf>) -> Config {
        self.trace_dir = Some(dir.into());
        self
    }

    /// Sets a failure trace's file name (without `.trace`).
    pub fn name(mut self, name: impl Into<String>) -> Config {
        self.name = name.into();
        self
    }

    /// Sets the shard.
    pub fn shard(mut self, index: u64, count: u64) -> Config {
        self.shard = (index, count.max(1));
        self
    }

    /// Sets the step bound.
    pub fn max_steps(mut self, steps: u64) -> Config {
        self.max_steps = steps;
        self
    }

    /// Turns minimization on or off.
    pub fn minimize(mut self, minimize: bool) -> Config {
        self.minimize = minimize;
        self
    }

    /// Sets the backstop for blocking reprise does not see (`None`: none).
    pub fn backstop(mut self, backstop: Option<Duration>) -> Config {
        self.backstop = backstop;
        self
    }

    /// Sets the replay command shown in reports (`{trace}` is the path).
    pub fn replay_command(mut self, command: impl Into<String>) -> Config {
        self.replay_command = Some(command.into());
        self
    }
}

/// Parses `i/n`.
///
/// # Errors
///
/// A message when it is not two numbers with `i < n`.
pub fn parse_shard(s: &str) -> Result<(u64, u64), String> {
    let (i, n) = s.split_once('/').ok_or_else(|| format!("`{s}` is not i/n"))?;
    let i: u64 = i.trim().parse().map_err(|_| format!("`{s}`: `{i}` is not a number"))?;
    let n: u64 = n.trim().parse().map_err(|_| format!("`{s}`: `{n}` is not a number"))?;
    if n == 0 || i >= n {
        return Err(format!("`{s}`: need 0 <= i < n"));
    }
    Ok((i, n))
}

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
        detached::run(self, program, check, progress)
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
        let mut strategy = self.config.strategy.build(self.config.seed);
        let mut pool = Vec::new();
        let (shard, shards) = self.config.shard;
        let sharded = !matches!(self.config.strategy, StrategyKind::Dfs { .. });
        let mut schedules = 0;
        let mut index = 0u64;
        while schedules < self.config.budget {
            let mine = !sharded || index % shards == shard;
            index += 1;
            if !mine {
                continue;
            }
            if !strategy.begin(index - 1) {
                return ExploreOutcome { schedules, failure: None, exhausted: true, blocked: None };
            }
            let (explored, result) = run_once(&program, strategy, self.config.max_steps, pool, index - 1);
            schedules += 1;
            progress(schedules);
            let mut end = explored.end;
            strategy = end.strategy.take().expect("a run hands its strategy back");
            strategy.end(end.steps);
            pool = std::mem::take(&mut end.pool);
            let failure = failure_of(&mut end, result.as_ref(), &check);
            if let Some(kind) = failure {
                let explored = Explored { end, run: explored.run };
                let failure =
                    failure::build(self, &program, &check, kind, explored, index - 1, strategy.name());
                return ExploreOutcome { schedules, failure: Some(failure), exhausted: false, blocked: None };
            }
        }
        ExploreOutcome { schedules, failure: None, exhausted: false, blocked: None }
    }
}

/// How a run failed: its own verdict (panic, deadlock, livelock), or what
/// the program's check says of its result.
pub(crate) fn failure_of<R>(
    end: &mut RunEnd,
    result: Option<&R>,
    check: &impl Fn(&R) -> Option<String>,
) -> Option<FailureKind> {
    end.failure.take().or_else(|| result.and_then(check).map(|message| FailureKind::Check { message }))
}

/// Runs `program` once under `strategy`.
pub(crate) fn run_once<F, R>(
    program: &Rc<F>,
    strategy: Box<dyn Strategy>,
    max_steps: u64,
    pool: Vec<corosensei::stack::DefaultStack>,
    index: u64,
) -> (Explored, Option<R>)
where
    F: Fn() -> R + 'static,
    R: 'static,
{
    let run = CoopRun::new(index);
    let result: Rc<RefCell<Option<R>>> = Rc::new(RefCell::new(None));
    let (program, slot) = (Rc::clone(program), Rc::clone(&result));
    let root = run.root(move || {
        let value = program();
        *slot.borrow_mut() = Some(value);
    });
    let scheduler = RunScheduler::new(strategy, max_steps, pool);
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
/// # Panics
///
/// With the report (the failure, the interleaving, the command that replays
/// the saved trace) when a schedule fails, and with the
/// [`UninstrumentedBlocking`] error when an explored thread blocked where
/// reprise cannot see.
pub fn explore<F>(program: F, budget: u64)
where
    F: Fn() + Send + 'static,
{
    let config = Config::from_env();
    let config = if std::env::var_os("REPRISE_BUDGET").is_some() { config } else { config.budget(budget) };
    let outcome = Explorer::new(config).run(program);
    if let Some(failure) = outcome.failure {
        panic!("{}", failure.report);
    }
    if let Some(blocked) = outcome.blocked {
        panic!("{blocked}");
    }
}

//! How to explore: the budget, the strategy, the shard, minimization and
//! the report, each with its `REPRISE_*` environment variable.

use std::path::PathBuf;
use std::time::Duration;

use super::{backstop, minimize, Limits, StrategyKind};

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
    /// How a failure's trace file name starts; the test's path (or the
    /// program's name), the schedule's number and a suffix unique to the
    /// process follow, so two failures never share a file. Default: none
    /// (the test's path alone); `REPRISE_TRACE_NAME`.
    pub name: String,
    /// This machine's share of the budget: `(i, n)` runs the schedules
    /// numbered `n * k + i + 1` of the `budget`, so n machines together run
    /// `budget` schedules. Random and PCT split by schedule number (their
    /// choices are seeded per number); DFS splits its schedule tree, each
    /// shard searching its own part. The portfolio's members take the
    /// numbers in turn, so a shard runs the members its numbers fall on;
    /// its DFS member is not split (with a shard count that does not divide
    /// the portfolio's four, several shards walk the same DFS schedules).
    /// Default: `(0, 1)`;
    /// `REPRISE_SHARD=i/n`.
    pub shard: (u64, u64),
    /// Whether to shrink a failing schedule (fewer preemptions and steps)
    /// before writing it. Default: true; `REPRISE_MINIMIZE=0` turns it off.
    pub minimize: bool,
    /// How many re-runs minimization may spend; the report says when they
    /// ran out before every preemption left was shown to be needed.
    /// Default: 1000; `REPRISE_MINIMIZE_RUNS`.
    pub minimize_runs: u64,
    /// Whether the report shows every event of the failing run, not only
    /// those on the objects of the failure. Default: false;
    /// `REPRISE_REPORT=all`.
    pub report_all: bool,
    /// The full path of the test that explores (`module::test_name`), for
    /// the trace's header and the replay instruction. Default: the name of
    /// the thread calling [`Explorer::run_checked`](super::Explorer::run_checked) (libtest names a test's
    /// thread after the test), unless it is `main` or unnamed.
    pub test: Option<String>,
    /// Whether the exploring call replays a trace in place under
    /// `REPRISE_REPLAY` ([`explore`](super::explore) does), so the report can give that
    /// instruction.
    pub(crate) replays_in_place: bool,
    /// The command the failure report gives for replaying the trace, with
    /// `{trace}` for its path. Default: none (the report shows the API call).
    pub replay_command: Option<String>,
    /// How long an explored thread may stay inside a call reprise does not
    /// see (a std lock, a socket read) before the exploration is stopped
    /// with [`ExploreOutcome::blocked`](super::ExploreOutcome::blocked) (see [`backstop`]); `None`: never.
    /// Default: 60 s; `REPRISE_EXPLORE_BACKSTOP=SECONDS|off`.
    pub backstop: Option<Duration>,
    /// Whether a timer (a `sleep`, a `recv_timeout`, a `wait_timeout`) may
    /// expire while threads can still run, as one more choice of the
    /// strategy's (a slow peer, a heartbeat between a busy thread's steps),
    /// or only once every thread is blocked. Default: true;
    /// `REPRISE_TIME_CHOICES=0` turns it off, for programs whose timeouts
    /// are liveness guards they do not want explored.
    pub time_choices: bool,
    /// With [`Config::time_choices`] on: how far ahead of virtual time a
    /// timer may be and still expire by choice while threads can run. A
    /// timer due further off is a liveness guard (a `recv_timeout` of an
    /// hour, a deadline in 400 years): it fires only once every thread is
    /// blocked, as in a real run where nothing stalls that long; without
    /// this, a program's "never" timeouts expired in explored runs and were
    /// reported as failures. `None`: no limit. Default: one hour;
    /// `REPRISE_TIME_HORIZON=SECONDS|off`.
    pub time_horizon: Option<Duration>,
}

/// [`Config::time_horizon`]'s default: timeouts of up to an hour are
/// explored expiring while their peers run (a slow reply, a stalled
/// feed); longer ones are taken for liveness guards.
pub const DEFAULT_TIME_HORIZON: Duration = Duration::from_secs(3600);

/// The variable that sets [`Config::time_horizon`]: seconds, or `off` for
/// no limit.
pub const TIME_HORIZON_ENV: &str = "REPRISE_TIME_HORIZON";

/// Reads [`TIME_HORIZON_ENV`]'s value: seconds (more than 0, at most a
/// year), or `off`.
fn parse_time_horizon(value: &str) -> Result<Option<Duration>, String> {
    crate::backstop::seconds_or_off(TIME_HORIZON_ENV, value)
}

impl Default for Config {
    fn default() -> Config {
        Config {
            strategy: StrategyKind::Portfolio,
            budget: 1000,
            seed: 0,
            max_steps: 100_000,
            trace_dir: None,
            name: String::new(),
            shard: (0, 1),
            minimize: true,
            minimize_runs: minimize::DEFAULT_MINIMIZE_RUNS,
            report_all: false,
            test: None,
            replays_in_place: false,
            replay_command: None,
            backstop: Some(backstop::DEFAULT_EXPLORE_BACKSTOP),
            time_choices: true,
            time_horizon: Some(DEFAULT_TIME_HORIZON),
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
        config.minimize_runs = number("REPRISE_MINIMIZE_RUNS").unwrap_or(config.minimize_runs);
        if let Some(v) = var("REPRISE_REPORT") {
            config.report_all = v == "all";
        }
        if let Some(v) = var("REPRISE_TIME_CHOICES") {
            config.time_choices = v != "0";
        }
        if let Some(v) = var(TIME_HORIZON_ENV) {
            config.time_horizon = parse_time_horizon(&v).unwrap_or_else(|e| panic!("{e}"));
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

    /// Sets whether timers may expire while threads can run
    /// ([`Config::time_choices`]).
    pub fn time_choices(mut self, on: bool) -> Config {
        self.time_choices = on;
        self
    }

    /// Sets how far ahead a timer may expire by choice
    /// ([`Config::time_horizon`]; `None`: no limit).
    pub fn time_horizon(mut self, horizon: Option<Duration>) -> Config {
        self.time_horizon = horizon;
        self
    }

    /// What bounds each run.
    pub(crate) fn limits(&self) -> Limits {
        Limits { max_steps: self.max_steps, time_choices: self.time_choices, time_horizon: self.time_horizon }
    }

    /// Turns minimization on or off.
    pub fn minimize(mut self, minimize: bool) -> Config {
        self.minimize = minimize;
        self
    }

    /// Sets how many re-runs minimization may spend.
    pub fn minimize_runs(mut self, runs: u64) -> Config {
        self.minimize_runs = runs;
        self
    }

    /// Shows every event in the report, not only those on the failure's
    /// objects.
    pub fn report_all(mut self, all: bool) -> Config {
        self.report_all = all;
        self
    }

    /// Sets the test's full path (see [`Config::test`]).
    pub fn test(mut self, path: impl Into<String>) -> Config {
        self.test = Some(path.into());
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_time_horizon_reads_seconds_or_off_and_names_a_bad_value() {
        for (value, horizon) in [("90", Some(90.0)), ("0.5", Some(0.5)), ("off", None)] {
            assert_eq!(parse_time_horizon(value), Ok(horizon.map(Duration::from_secs_f64)), "{value}");
        }
        let error = parse_time_horizon("1h").unwrap_err();
        assert!(error.starts_with("REPRISE_TIME_HORIZON=\"1h\"") && error.contains("`off`"), "{error}");
        assert_eq!(Config::default().time_horizon, Some(DEFAULT_TIME_HORIZON));
        let limits = Config::default().time_horizon(None).limits();
        assert_eq!(limits.time_horizon, None);
    }
}

//! `reprise explore`: search the schedules of a built-in pipeline for one
//! that breaks an invariant, and save it as a trace `reprise replay` runs.

use std::io::IsTerminal;
use std::path::PathBuf;

use anyhow::anyhow;
use indicatif::{ProgressBar, ProgressStyle};
use reprise_replayer::explore::{self, Config, Explorer, StrategyKind};

use crate::cli::payments::Lines;
use crate::cli::pipeline::{self, Choice, Pipeline};
use crate::cli::{default_out_dir, explore_json, out, out_dir_usable, Failure, Outcome};
use crate::exit;

/// Arguments of `reprise explore`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The built-in pipeline to explore.
    #[arg(long, value_name = "NAME", value_parser = pipeline::NAMES)]
    pipeline: String,
    /// The seeded bug to build it with: payments: none, lost-update,
    /// double-apply, reorder, deadlock, panic; settlement: none, stale-rate,
    /// double-settle.
    #[arg(long, default_value = "none", value_name = "BUG")]
    bug: String,
    /// How many payments ingest generates (settlement: orders). Every one
    /// lengthens each schedule; 60 is the least with a deposit-then-transfer
    /// pair in each worker's share, which the payments reorder bug needs.
    #[arg(long, visible_alias = "orders", default_value_t = 60, value_name = "N")]
    payments: u64,
    /// How many ledger workers (settlement: settlers).
    #[arg(long, visible_alias = "settlers", default_value_t = 2, value_name = "W")]
    workers: usize,
    /// How to choose the next thread at each scheduling point.
    #[arg(long, default_value = "portfolio", value_name = "random|pct|pctN|dfs|pos|surw|portfolio")]
    strategy: StrategyKind,
    /// How many schedules to try.
    #[arg(long, default_value_t = 1000, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    budget: u64,
    /// Seed of the strategy's choices (the payments come from seed 1).
    #[arg(long, default_value_t = 0, value_name = "S")]
    seed: u64,
    /// This machine's share of the schedules, for splitting one budget across CI machines.
    /// [default: REPRISE_SHARD, else 0/1]
    #[arg(long, value_name = "i/n", value_parser = explore::parse_shard)]
    shard: Option<(u64, u64)>,
    /// Scheduling points one schedule may take before it counts as a livelock.
    #[arg(long, default_value_t = 200_000, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    max_steps: u64,
    /// Where to write a failure's trace (default: a fresh folder in the temp dir).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// How long a schedule may sit in a call reprise does not see (a std
    /// lock, a socket read) before the exploration stops with an error that
    /// names it: seconds, or `off` [default: REPRISE_EXPLORE_BACKSTOP, else 60]
    #[arg(long, value_name = "SECONDS|off")]
    backstop: Option<String>,
    /// Print the result as one JSON object on stdout (the report still goes
    /// to stderr); the exit code is the same.
    #[arg(long)]
    json: bool,
}

/// `--backstop`, else `REPRISE_EXPLORE_BACKSTOP`, else the default.
fn backstop(flag: Option<String>) -> Result<Option<std::time::Duration>, Failure> {
    let env = || std::env::var(explore::backstop::EXPLORE_BACKSTOP_ENV).ok().filter(|v| !v.is_empty());
    let usage = |e: String| Failure::new(exit::USAGE, anyhow!("{e}"));
    match (flag, env()) {
        (Some(text), _) => explore::backstop::parse_explore_backstop(&text)
            .map_err(|_| usage(format!("--backstop {text:?}: expected seconds greater than 0, or `off`"))),
        (None, Some(text)) => explore::backstop::parse_explore_backstop(&text).map_err(usage),
        (None, None) => Ok(Some(explore::backstop::DEFAULT_EXPLORE_BACKSTOP)),
    }
}

/// `--shard`, else `REPRISE_SHARD`, else the whole budget. The CLI used to
/// ignore `REPRISE_SHARD`, which README documents beside `--shard`: every
/// CI machine ran the whole budget.
fn shard(flag: Option<(u64, u64)>) -> Result<(u64, u64), Failure> {
    match (flag, std::env::var("REPRISE_SHARD").ok().filter(|v| !v.is_empty())) {
        (Some(shard), _) => Ok(shard),
        (None, Some(text)) => explore::parse_shard(&text)
            .map_err(|e| Failure::new(exit::USAGE, anyhow!("REPRISE_SHARD={text:?}: {e}"))),
        (None, None) => Ok((0, 1)),
    }
}

pub(crate) fn run(args: Args) -> Outcome {
    let backstop = backstop(args.backstop)?;
    let shard = shard(args.shard)?;
    // The workload's seed stays 1: `--seed` seeds the strategy's choices.
    let pipeline = Pipeline::choose(&Choice {
        name: &args.pipeline,
        bug: &args.bug,
        count: args.payments,
        workers: args.workers,
        seed: 1,
        tracked: false,
    })?;
    if let Some(dir) = &args.out {
        out_dir_usable(dir, "explore writes a failure's trace into it")?;
    }
    let dir = args.out.unwrap_or_else(default_out_dir);
    let name = format!(
        "{}-{}-{}",
        args.pipeline,
        pipeline.bug(),
        args.strategy.to_string().split(' ').next().unwrap_or("x")
    );
    let config = Config::default()
        .strategy(args.strategy)
        .budget(args.budget)
        .seed(args.seed)
        .shard(shard.0, shard.1)
        .max_steps(args.max_steps)
        .backstop(backstop)
        .trace_dir(&dir)
        .name(name)
        .replay_command("reprise replay {trace}");
    explore::set_program_header(pipeline.program(), env!("CARGO_PKG_VERSION"), pipeline.parameters());
    let settings = explore_json::Settings {
        pipeline: &args.pipeline,
        bug: &args.bug,
        strategy: args.strategy.to_string(),
        seed: args.seed,
        budget: args.budget,
        shard,
    };
    if !args.json {
        out!(
            "exploring the {} with {}: {} schedules{}",
            pipeline.describe(),
            args.strategy,
            args.budget,
            if shard.1 > 1 { format!(", shard {}/{}", shard.0, shard.1) } else { String::new() }
        );
    }
    let progress = Progress::new(Progress::share(args.budget, shard));
    let explorer = Explorer::new(config);
    let outcome = explorer.run_checked(
        move || pipeline.run_annotated(),
        |lines: &Lines| (lines.invariants != "invariants: ok").then(|| lines.invariants.clone()),
        |n| progress.tick(n),
    );
    progress.finish();
    if args.json {
        return json_result(&settings, &outcome);
    }
    if let Some(blocked) = outcome.blocked {
        // Not a finding: the search stopped where reprise cannot see.
        return Err(Failure::new(exit::STALLED, anyhow!("{blocked}")));
    }
    if let Some(stuck) = outcome.stuck_unwinding {
        // A finding, without a trace.
        out!("failure after {} schedules: {stuck}", outcome.schedules);
        return Ok(exit::FINDING);
    }
    match outcome.failure {
        Some(failure) => {
            eprint!("{}", failure.report);
            let trace = failure.trace.as_ref().ok_or_else(|| {
                Failure::new(exit::IO_ERROR, anyhow!("the failing schedule's trace could not be written"))
            })?;
            out!("failure after {} schedules: {}", outcome.schedules, failure.kind.summary());
            if let Some(digest) = failure.annotation("digest") {
                out!("digest: {digest}");
            }
            out!("trace: {}", trace.display());
            Ok(exit::FINDING)
        }
        None => {
            let why = if outcome.exhausted { " (the search space was exhausted)" } else { "" };
            out!("no failure in {} schedules{why}", outcome.schedules);
            if let Some(note) = outcome.uncertain_note() {
                out!("{note}");
            }
            Ok(exit::SUCCESS)
        }
    }
}

/// `--json`: the result on stdout, the report on stderr, the exit code as
/// without it.
fn json_result(settings: &explore_json::Settings<'_>, outcome: &explore::ExploreOutcome) -> Outcome {
    if let Some(failure) = &outcome.failure {
        eprint!("{}", failure.report);
    }
    // Not through `out!`: JSON is escaped already, and a long line is whole.
    crate::cli::write_stdout(&format!("{}\n", explore_json::render(settings, outcome)))?;
    Ok(match (&outcome.blocked, &outcome.failure) {
        (Some(_), _) => exit::STALLED,
        (None, None) if outcome.stuck_unwinding.is_some() => exit::FINDING,
        (None, Some(failure)) if failure.trace.is_none() => exit::IO_ERROR,
        (None, Some(_)) => exit::FINDING,
        (None, None) => exit::SUCCESS,
    })
}

/// A progress bar on a terminal, plain lines every tenth of the budget
/// otherwise (CI logs). `budget` is this shard's share of the schedules.
struct Progress {
    bar: Option<ProgressBar>,
    budget: u64,
    /// The last tenth a plain line was printed for: the explorer reports
    /// progress when it samples it, not at every schedule, so a count
    /// rarely lands on a tenth exactly.
    tenth: std::cell::Cell<u64>,
}

impl Progress {
    fn new(budget: u64) -> Progress {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new(budget);
            if let Ok(style) =
                ProgressStyle::with_template("{bar:40} {pos}/{len} schedules, {per_sec}, {eta} left")
            {
                bar.set_style(style);
            }
            bar
        });
        Progress { bar, budget, tenth: std::cell::Cell::new(0) }
    }

    /// How many of the schedules numbered 1 to `budget` shard `i` of `n` runs.
    fn share(budget: u64, (i, n): (u64, u64)) -> u64 {
        if budget > i {
            (budget - i).div_ceil(n)
        } else {
            0
        }
    }

    fn tick(&self, done: u64) {
        match &self.bar {
            Some(bar) => bar.set_position(done),
            None => {
                let tenth = done.saturating_mul(10) / self.budget.max(1);
                if tenth > self.tenth.get() && done < self.budget {
                    self.tenth.set(tenth);
                    eprintln!("reprise: explored {done}/{} schedules", self.budget);
                }
            }
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

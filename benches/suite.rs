//! The bug suite (`benches/suite/`): per program and strategy, the median
//! number of schedules to the first failure over the harness's seeds and on
//! how many seeds it was found at all; then every fixed twin under every
//! strategy with the same budget, which must never fail.
//!
//! ```text
//! cargo bench --bench suite                      # budget 10,000, 10 seeds
//! cargo bench --bench suite -- --budget 2000 --strategies random,pct3 --programs two-stage
//! ```
//!
//! Options (also after `--` of `cargo bench`): `--budget N` (or
//! `REPRISE_SUITE_BUDGET`; default 10,000), `--seeds N` (default 10),
//! `--twin-seeds N` (seeds per strategy for the fixed twins; default 2),
//! `--strategies a,b,…` (names as `--strategy` takes them), `--programs
//! TEXT` (only programs whose name contains it), `--max-threads N` (only
//! programs with at most N threads). `cargo test --bench suite`
//! (no `--bench` flag) runs a smoke pass: budget 100, one seed.
//!
//! A search counts `Failure::schedule + 1` schedules (minimization off), and
//! a failure other than the program's known bug is an error. The process
//! exits with 1 when a fixed twin failed or a search met another failure.

#[path = "suite/mod.rs"]
mod programs;

use std::panic;
use std::path::{Path, PathBuf};
use std::time::Instant;

use programs::{cell, seed, Bug, Program, PROGRAMS};
use reprise::explore::{Config, Explorer, FailureKind, StrategyKind};

/// The strategies compared by default.
const STRATEGIES: &str = "random,pct2,pct3,dfs,pos,surw,portfolio";

struct Options {
    budget: u64,
    seeds: u64,
    twin_seeds: u64,
    strategies: Vec<StrategyKind>,
    programs: Option<String>,
    max_threads: usize,
}

impl Options {
    fn parse() -> Options {
        let args: Vec<String> = std::env::args().skip(1).collect();
        let full = args.iter().any(|a| a == "--bench");
        let value = |flag: &str| args.iter().position(|a| a == flag).and_then(|i| args.get(i + 1)).cloned();
        let number =
            |flag: &str| value(flag).map(|v| v.parse::<u64>().unwrap_or_else(|e| panic!("{flag} {v}: {e}")));
        let env_budget = std::env::var("REPRISE_SUITE_BUDGET")
            .ok()
            .map(|v| v.parse::<u64>().unwrap_or_else(|e| panic!("REPRISE_SUITE_BUDGET={v}: {e}")));
        let strategies = value("--strategies").unwrap_or_else(|| STRATEGIES.to_string());
        Options {
            budget: number("--budget").or(env_budget).unwrap_or(if full { 10_000 } else { 100 }),
            seeds: number("--seeds").unwrap_or(if full { 10 } else { 1 }).max(1),
            twin_seeds: number("--twin-seeds").unwrap_or(if full { 2 } else { 1 }),
            strategies: strategies
                .split(',')
                .map(|s| s.trim().parse().unwrap_or_else(|e| panic!("--strategies: {e}")))
                .collect(),
            programs: value("--programs"),
            max_threads: number("--max-threads").map_or(usize::MAX, |n| n as usize),
        }
    }
}

/// How one search ended.
enum Found {
    /// The known bug, after this many schedules.
    Bug(u64),
    /// Nothing within the budget.
    Nothing,
    /// Some other failure (an error of the suite or of the explorer).
    Other(String),
}

fn search(
    program: fn(),
    bug: Option<Bug>,
    strategy: StrategyKind,
    seed: u64,
    budget: u64,
    dir: &Path,
) -> Found {
    let config = Config::default()
        .strategy(strategy)
        .seed(seed)
        .budget(budget)
        .minimize(false)
        .trace_dir(dir)
        .name(format!("suite-{seed}"));
    let outcome = Explorer::new(config).run(program);
    if let Some(blocked) = outcome.blocked {
        return Found::Other(blocked.to_string());
    }
    let Some(failure) = outcome.failure else { return Found::Nothing };
    let summary = failure.kind.summary();
    let expected = match (bug, &failure.kind) {
        (Some(Bug::Deadlock), FailureKind::Deadlock { .. }) => true,
        (Some(Bug::Panic(text)), FailureKind::Panic { message, .. }) => message.contains(text),
        _ => false,
    };
    if expected {
        Found::Bug(failure.schedule + 1)
    } else {
        Found::Other(summary)
    }
}

fn main() {
    let options = Options::parse();
    let dir: PathBuf = std::env::temp_dir().join(format!("reprise-suite-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temp dir for failure traces");
    let chosen: Vec<&Program> = PROGRAMS
        .iter()
        .filter(|p| options.programs.as_ref().is_none_or(|text| p.name.contains(text.as_str())))
        .filter(|p| p.threads <= options.max_threads)
        .collect();
    let default = Config::default().strategy;
    let names: Vec<String> = options
        .strategies
        .iter()
        .map(|s| if *s == default { format!("{s} (default)") } else { s.to_string() })
        .collect();
    // The explorer reports panics itself; the default hook would print every
    // failing schedule's message.
    let hook = panic::take_hook();
    panic::set_hook(Box::new(|_| {}));
    let start = Instant::now();
    let mut errors = Vec::new();
    let mut bug_rows = Vec::new();
    let mut twin_rows = Vec::new();
    let mut default_misses = 0;
    for program in &chosen {
        let began = Instant::now();
        let mut cells = Vec::new();
        let mut twin_cells = Vec::new();
        for &strategy in &options.strategies {
            let mut found = Vec::new();
            for i in 0..options.seeds {
                match search(program.buggy, Some(program.bug), strategy, seed(i), options.budget, &dir) {
                    Found::Bug(n) => found.push(Some(n)),
                    Found::Nothing => found.push(None),
                    Found::Other(what) => {
                        errors.push(format!(
                            "{} under {strategy}, seed {i}: another failure: {what}",
                            program.name
                        ));
                        found.push(None);
                    }
                }
            }
            if strategy == default {
                default_misses += found.iter().filter(|f| f.is_none()).count();
            }
            cells.push(cell(&found, options.budget));
            let mut failed = 0;
            for i in 0..options.twin_seeds {
                if let Found::Bug(_) | Found::Other(_) =
                    search(program.fixed, None, strategy, seed(i), options.budget, &dir)
                {
                    failed += 1;
                    errors.push(format!("fixed {} failed under {strategy}, seed {i}", program.name));
                }
            }
            twin_cells.push(format!("{failed}/{}", options.twin_seeds));
        }
        eprintln!("{}: {:.1} s", program.name, began.elapsed().as_secs_f64());
        bug_rows.push(format!("| {} | {} | {} |", program.name, program.threads, cells.join(" | ")));
        twin_rows.push(format!("| {} | {} |", program.name, twin_cells.join(" | ")));
    }
    panic::set_hook(hook);
    let header = |first: &str| {
        println!("| {first} | {} |", names.join(" | "));
        println!("|{}", " --- |".repeat(names.len() + first.matches('|').count() + 1));
    };
    println!(
        "## Schedules to the first failure: median (found/seeds), budget {}, {} seeds\n",
        options.budget, options.seeds
    );
    header("program | threads");
    for row in &bug_rows {
        println!("{row}");
    }
    println!("\n## Fixed twins: failed searches / searches, {} schedules each\n", options.budget);
    header("program");
    for row in &twin_rows {
        println!("{row}");
    }
    if options.strategies.contains(&default) {
        println!(
            "\nDefault strategy ({default}): {default_misses} of {} searches missed their bug.",
            chosen.len() as u64 * options.seeds
        );
    }
    println!("(whole run: {:.1} s)", start.elapsed().as_secs_f64());
    std::fs::remove_dir_all(&dir).ok();
    if !errors.is_empty() {
        for error in &errors {
            eprintln!("error: {error}");
        }
        std::process::exit(1);
    }
}

//! The bug suite (`benches/suite/`) under shuttle 0.9.9, beside reprise:
//! the same program files compiled over `shuttle::{thread, sync}`
//! (`suite/shuttle/mod.rs`), searched with shuttle's random and PCT (depth 2
//! and 3) schedulers with the seeds and budget of the `suite` bench, so its
//! table's shuttle columns sit beside reprise's; then every fixed twin's
//! schedules per second under shuttle's random scheduler and reprise's
//! random strategy, side by side in one run, alternating which goes first.
//!
//! ```text
//! cargo bench --bench suite_shuttle                  # budget 10,000, 10 seeds
//! cargo bench --bench suite_shuttle -- --programs reorder --budget 2000
//! ```
//!
//! Options: `--budget N` (default 10,000), `--seeds N` (default 10),
//! `--speed-schedules N` (default 1,000 per run, 3 runs per tool),
//! `--programs TEXT`, `--max-threads N`. `cargo test --bench suite_shuttle`
//! runs a smoke pass (budget 100, one seed, 20 schedules).
//!
//! Shuttle prints a line on stderr for every failing execution whatever its
//! config says, so the failure searches run in a child process of this
//! binary with stderr discarded (`SUITE_SHUTTLE_CHILD`); a failure other
//! than the program's known bug fails the bench.

// Each program file is compiled twice on purpose, once per tool's
// primitives: that is what makes the two runs the same source.
#![allow(clippy::duplicate_mod)]

// Only its fixed twins are run here, for the speed pass.
#[allow(dead_code)]
#[path = "suite/mod.rs"]
mod on_reprise;
#[path = "suite/shuttle/mod.rs"]
mod on_shuttle;

use std::panic::{self, AssertUnwindSafe};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use on_shuttle::{cell, seed, Bug, Program, PROGRAMS};
use reprise::explore::{Config, Explorer, StrategyKind};
use shuttle::scheduler::{PctScheduler, RandomScheduler};
use shuttle::Runner;

/// Set in the child that runs the failure searches.
const CHILD: &str = "SUITE_SHUTTLE_CHILD";

/// Shuttle's schedulers compared.
const FAMILIES: [(&str, usize); 3] = [("random", 0), ("pct2", 2), ("pct3", 3)];

struct Options {
    budget: u64,
    seeds: u64,
    speed_schedules: u64,
    programs: Option<String>,
    max_threads: usize,
}

impl Options {
    fn parse() -> Options {
        let args: Vec<String> = std::env::args().skip(1).collect();
        let full = args.iter().any(|a| a == "--bench") || std::env::var(CHILD).is_ok_and(|v| v == "full");
        let value = |flag: &str| args.iter().position(|a| a == flag).and_then(|i| args.get(i + 1)).cloned();
        let number =
            |flag: &str| value(flag).map(|v| v.parse::<u64>().unwrap_or_else(|e| panic!("{flag} {v}: {e}")));
        Options {
            budget: number("--budget").unwrap_or(if full { 10_000 } else { 100 }),
            seeds: number("--seeds").unwrap_or(if full { 10 } else { 1 }).max(1),
            speed_schedules: number("--speed-schedules").unwrap_or(if full { 1_000 } else { 20 }).max(1),
            programs: value("--programs"),
            max_threads: number("--max-threads").map_or(usize::MAX, |n| n as usize),
        }
    }

    fn chosen(&self) -> Vec<(usize, &'static Program)> {
        PROGRAMS
            .iter()
            .enumerate()
            .filter(|(_, p)| self.programs.as_ref().is_none_or(|text| p.name.contains(text.as_str())))
            .filter(|(_, p)| p.threads <= self.max_threads)
            .collect()
    }

    /// The arguments a child gets to search the same programs.
    fn child_args(&self) -> Vec<String> {
        let mut args = vec![
            "--budget".to_string(),
            self.budget.to_string(),
            "--seeds".to_string(),
            self.seeds.to_string(),
            "--max-threads".to_string(),
            self.max_threads.min(u32::MAX as usize).to_string(),
        ];
        if let Some(text) = &self.programs {
            args.extend(["--programs".to_string(), text.clone()]);
        }
        args
    }
}

/// Calls of the test closure: shuttle runs it once per schedule.
static CALLS: AtomicU64 = AtomicU64::new(0);

/// Runs `program` under shuttle (`depth` 0: random; else PCT with that
/// depth): the schedules run, and the panic that ended them, if any.
fn run_shuttle(program: fn(), depth: usize, seed: u64, budget: u64) -> (u64, Option<String>) {
    let budget = usize::try_from(budget).expect("a budget that fits usize");
    let test = move || {
        CALLS.fetch_add(1, Ordering::Relaxed);
        program();
    };
    CALLS.store(0, Ordering::Relaxed);
    let result = panic::catch_unwind(AssertUnwindSafe(|| {
        if depth == 0 {
            Runner::new(RandomScheduler::new_from_seed(seed, budget), shuttle::Config::default()).run(test)
        } else {
            Runner::new(PctScheduler::new_from_seed(seed, depth, budget), shuttle::Config::default())
                .run(test)
        }
    }));
    let failure = result.err().map(|payload| {
        if let Some(s) = payload.downcast_ref::<&str>() {
            (*s).to_string()
        } else if let Some(s) = payload.downcast_ref::<String>() {
            s.clone()
        } else {
            "a panic with a non-string payload".to_string()
        }
    });
    (CALLS.load(Ordering::Relaxed), failure)
}

/// Whether a shuttle failure is `bug`.
fn is_bug(bug: Bug, message: &str) -> bool {
    match bug {
        Bug::Panic(text) => message.contains(text),
        Bug::Deadlock => message.contains("deadlock"),
    }
}

/// The child: one line per search, `program family seed schedules|none`.
fn failures_child(options: &Options) {
    panic::set_hook(Box::new(|_| {}));
    for (index, program) in options.chosen() {
        for (family, depth) in FAMILIES {
            for i in 0..options.seeds {
                let (schedules, failure) = run_shuttle(program.buggy, depth, seed(i), options.budget);
                let found = match failure {
                    Some(message) if is_bug(program.bug, &message) => schedules.to_string(),
                    Some(message) => {
                        println!("error {index} {family} {i} {}", message.replace('\n', " "));
                        continue;
                    }
                    None => "none".to_string(),
                };
                println!("{index} {family} {i} {found}");
            }
        }
    }
}

/// The failure pass, from the parent: the table's rows.
fn failures(options: &Options) -> Vec<String> {
    let output = Command::new(std::env::current_exe().expect("this binary's path"))
        .args(options.child_args())
        .env(CHILD, "run")
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .expect("the failure pass runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "the failure pass failed ({}); run it with {CHILD}=run\n{stdout}",
        output.status
    );
    let errors: Vec<&str> = stdout.lines().filter(|l| l.starts_with("error ")).collect();
    assert!(errors.is_empty(), "shuttle met failures other than the programs' bugs:\n{}", errors.join("\n"));
    let mut rows = Vec::new();
    for (index, program) in options.chosen() {
        let mut cells = Vec::new();
        for (family, _) in FAMILIES {
            let found: Vec<Option<u64>> = stdout
                .lines()
                .filter_map(|l| {
                    let words: Vec<&str> = l.split(' ').collect();
                    (words.len() == 4 && words[0] == index.to_string() && words[1] == family)
                        .then(|| words[3].parse().ok())
                })
                .collect();
            assert_eq!(found.len() as u64, options.seeds, "{}: {family}: {stdout}", program.name);
            cells.push(cell(&found, options.budget));
        }
        rows.push(format!("| {} | {} | {} |", program.name, program.threads, cells.join(" | ")));
    }
    rows
}

/// Runs `fixed` for `schedules` schedules under reprise's random strategy.
fn reprise_run(fixed: fn(), schedules: u64, seed: u64) -> Duration {
    let config = Config::default()
        .strategy(StrategyKind::Random)
        .seed(seed)
        .budget(schedules)
        .minimize(false)
        .trace_dir(std::env::temp_dir());
    let start = Instant::now();
    let outcome = Explorer::new(config).run(fixed);
    let elapsed = start.elapsed();
    assert!(outcome.failure.is_none(), "a fixed twin failed under reprise");
    assert_eq!(outcome.schedules, schedules);
    elapsed
}

/// Runs `fixed` for `schedules` schedules under shuttle's random scheduler.
fn shuttle_run(fixed: fn(), schedules: u64, seed: u64) -> Duration {
    let start = Instant::now();
    let (ran, failure) = run_shuttle(fixed, 0, seed, schedules);
    let elapsed = start.elapsed();
    assert!(failure.is_none(), "a fixed twin failed under shuttle: {failure:?}");
    assert_eq!(ran, schedules);
    elapsed
}

/// The speed pass: each fixed twin's schedules per second under both.
fn speed(options: &Options) -> Vec<String> {
    let n = options.speed_schedules;
    let mut rows = Vec::new();
    for (index, program) in options.chosen() {
        let (on_reprise, on_shuttle) = (on_reprise::PROGRAMS[index].fixed, program.fixed);
        // Warm up both (stacks, page faults, caches).
        reprise_run(on_reprise, (n / 10).max(1), 99);
        shuttle_run(on_shuttle, (n / 10).max(1), 99);
        let (mut reprise, mut shuttle) = (Vec::new(), Vec::new());
        for round in 0..3u64 {
            if round % 2 == 0 {
                reprise.push(reprise_run(on_reprise, n, round));
                shuttle.push(shuttle_run(on_shuttle, n, round));
            } else {
                shuttle.push(shuttle_run(on_shuttle, n, round));
                reprise.push(reprise_run(on_reprise, n, round));
            }
        }
        let per_second = |times: &mut Vec<Duration>| {
            times.sort_unstable();
            n as f64 / times[times.len() / 2].as_secs_f64()
        };
        let (r, s) = (per_second(&mut reprise), per_second(&mut shuttle));
        rows.push(format!(
            "| {} | {} | {:.0} | {:.0} | {:.2}x | {:.1} / {:.1} |",
            program.name,
            program.threads,
            r,
            s,
            r / s,
            1e6 / r,
            1e6 / s
        ));
    }
    rows
}

fn main() {
    let options = Options::parse();
    if std::env::var_os(CHILD).is_some() {
        failures_child(&options);
        return;
    }
    let start = Instant::now();
    println!(
        "## Under shuttle: schedules to the first failure, median (found/seeds), budget {}, {} seeds\n",
        options.budget, options.seeds
    );
    println!("| program | threads | shuttle random | shuttle pct2 | shuttle pct3 |");
    println!("| --- | --- | --- | --- | --- |");
    for row in failures(&options) {
        println!("{row}");
    }
    // The explorer and shuttle report panics themselves.
    let hook = panic::take_hook();
    panic::set_hook(Box::new(|_| {}));
    let rows = speed(&options);
    panic::set_hook(hook);
    println!(
        "\n## Fixed twins: schedules per second, random on both ({} schedules per run, median of 3)\n",
        options.speed_schedules
    );
    println!(
        "| program | threads | reprise | shuttle | reprise / shuttle | µs per schedule (reprise / shuttle) |"
    );
    println!("| --- | --- | --- | --- | --- | --- |");
    for row in rows {
        println!("{row}");
    }
    println!("\n(whole run: {:.1} s)", start.elapsed().as_secs_f64());
}

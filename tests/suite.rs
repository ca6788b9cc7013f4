//! The bug suite of `benches/suite/` as a quick regression check: every
//! fixed twin survives a few hundred schedules of the default strategy (a
//! twin that fails means a model bug or an explorer bug), and the default
//! strategy finds each buggy program's bug within a small budget (the bench
//! measures with the full one). The seeds are fixed, so this is
//! deterministic.

#[path = "../benches/suite/mod.rs"]
mod programs;

use programs::{Bug, Program, PROGRAMS};
use reprise::explore::{Config, Explorer, FailureKind, StrategyKind};

use crate::util::scratch;

fn config(program: &Program, strategy: StrategyKind, budget: u64) -> Config {
    let name: String =
        program.name.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).collect();
    Config::default()
        .strategy(strategy)
        .budget(budget)
        .minimize(false)
        .trace_dir(scratch("suite"))
        .name(format!("suite-{name}"))
}

/// Searches `program`'s buggy version; the schedules it took, or why not.
fn find(program: &Program, strategy: StrategyKind, budget: u64) -> Result<u64, String> {
    let outcome = Explorer::new(config(program, strategy, budget)).run(program.buggy);
    let failure = outcome.failure.ok_or_else(|| format!("nothing in {} schedules", outcome.schedules))?;
    match (program.bug, &failure.kind) {
        (Bug::Deadlock, FailureKind::Deadlock { .. }) => Ok(failure.schedule + 1),
        (Bug::Panic(text), FailureKind::Panic { message, .. }) if message.contains(text) => {
            Ok(failure.schedule + 1)
        }
        _ => Err(format!("another failure: {}", failure.kind.summary())),
    }
}

#[test]
fn no_fixed_twin_fails() {
    for program in &PROGRAMS {
        // The 100-thread twins are slow in a debug build.
        let budget = if program.threads > 50 { 30 } else { 200 };
        let outcome = Explorer::new(config(program, StrategyKind::Portfolio, budget)).run(program.fixed);
        if let Some(failure) = outcome.failure {
            panic!("fixed {} failed: {}", program.name, failure.report);
        }
        assert_eq!(outcome.schedules, budget, "fixed {} ran its budget", program.name);
    }
}

#[test]
fn the_default_strategy_finds_every_bug_within_a_small_budget() {
    let mut missed = Vec::new();
    for program in &PROGRAMS {
        let budget = if program.threads > 50 { 400 } else { 2000 };
        if let Err(why) = find(program, Config::default().strategy, budget) {
            missed.push(format!("{}: {why}", program.name));
        }
    }
    assert!(missed.is_empty(), "missed:\n{}", missed.join("\n"));
}

#[test]
fn surw_finds_the_small_bugs() {
    for program in PROGRAMS.iter().filter(|p| p.threads <= 6) {
        if let Err(why) = find(program, StrategyKind::Surw, 2000) {
            panic!("surw on {}: {why}", program.name);
        }
    }
}

/// Not the uneven workload: the collector's read of the pending count
/// conflicts with each of the worker's decrements, which redraws its
/// priority every time, so POS lets the worker reach its end first on some
/// seeds only (the bench's table); SURW and PCT find it on every seed.
#[test]
fn pos_finds_the_small_bugs_but_the_uneven_one() {
    for program in PROGRAMS.iter().filter(|p| p.threads <= 6 && p.name != "uneven workloads") {
        if let Err(why) = find(program, StrategyKind::Pos, 2000) {
            panic!("pos on {}: {why}", program.name);
        }
    }
}

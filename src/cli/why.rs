//! `reprise why`: name the two events whose order made a recorded run fail.

use std::ffi::OsString;
use std::io::IsTerminal;
use std::path::PathBuf;

use anyhow::anyhow;
use reprise_replayer::views::{outcome_text, Tables};
use reprise_replayer::why::{self, Placed, WhyConfig, WhyOutcome, WhyReport};

use crate::cli::{out, payments, pipeline, Failure, Outcome};
use crate::exit;

/// Arguments of `reprise why`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The trace of a run that broke an invariant, panicked or deadlocked.
    #[arg(value_name = "FILE")]
    file: PathBuf,
    /// Runs of the program at most (the reproduction and the bisection
    /// included). Exits 1 when no pair was found within them.
    #[arg(long, default_value_t = 200, value_name = "N")]
    budget: u64,
    /// Scheduling points per run before it counts as a livelock.
    #[arg(long, default_value_t = 1_000_000, value_name = "N")]
    max_steps: u64,
    /// Your own program. Not supported yet: `why` runs the built-in
    /// pipelines, which the trace header names.
    #[arg(last = true, value_name = "CMD ARGS")]
    command: Vec<OsString>,
    /// A test that explored the trace. Not supported yet, as CMD.
    #[arg(long, value_name = "NAME")]
    test: Option<String>,
}

pub(crate) fn run(args: Args) -> Outcome {
    if !args.command.is_empty() || args.test.is_some() {
        return Err(Failure::new(
            exit::USAGE,
            anyhow!("why runs the built-in pipelines for now; `-- CMD` and `--test` are not supported yet"),
        ));
    }
    if args.budget == 0 {
        return Err(Failure::new(exit::USAGE, anyhow!("--budget must be at least 1")));
    }
    let trace = payments::read(&args.file)?;
    if let Some(refusal) = reprise_recorder::trace::window::Window::refusal(&trace.header) {
        return Err(Failure::new(exit::WINDOW, anyhow!("{refusal}")));
    }
    if !pipeline::is_builtin(&trace.header.program) {
        return Err(Failure::new(
            exit::USAGE,
            anyhow!(
                "the trace is of `{}`, not a built-in pipeline; why runs the built-in pipelines for now",
                reprise_recorder::trace::show::text(&trace.header.program)
            ),
        ));
    }
    if recorded_failure(&trace) == Some(false) {
        return Err(Failure::new(
            exit::USAGE,
            anyhow!(
                "the recorded run did not fail (it completed with its invariants kept): nothing to explain; \
                 why needs the trace of a run that broke an invariant, panicked or deadlocked"
            ),
        ));
    }
    if !trace.is_whole() {
        eprintln!("reprise: warning: the trace is not whole; why follows what it holds");
    }
    let pipeline = pipeline::Pipeline::from_header(&trace.header)?;
    let mut config = WhyConfig::default().budget(args.budget);
    config.max_steps = args.max_steps;
    let verbose = std::io::stderr().is_terminal() || std::env::var_os("REPRISE_PROGRESS").is_some();
    let progress = |line: &str| {
        if verbose {
            eprintln!("reprise: why: {line}");
        }
    };
    eprintln!(
        "reprise: why: {} of {} events, budget {} runs",
        pipeline.describe(),
        trace.events,
        args.budget
    );
    let report = why::why(
        &trace,
        move || pipeline.run_annotated(),
        |lines: &payments::Lines| (lines.invariants != "invariants: ok").then(|| lines.invariants.clone()),
        &config,
        progress,
    );
    print(&Tables::of(&trace), &report, args.budget)
}

/// Prints the report; the exit code says whether a pair was found.
fn print(tables: &Tables, report: &WhyReport, budget: u64) -> Outcome {
    if let WhyOutcome::NotFailed = report.outcome {
        // The footer said it failed, or a cut trace does not say.
        return Err(Failure::new(
            exit::MISMATCHED,
            anyhow!(
                "following the recorded order under the explorer, the run did not fail as recorded: \
                 the failure cannot be explained from this trace"
            ),
        ));
    }
    if let Some(failure) = &report.failure {
        out!("failure: {failure}");
    }
    if let Some(critical) = report.critical {
        out!("critical event: {critical} (after it the failure no longer depends on the order)");
    }
    match &report.outcome {
        WhyOutcome::Found { pair } => {
            out!("racing pair: flipping their order makes the failure go away");
            out!("  first:  {}", line(tables, &pair.first));
            out!("  second: {}", line(tables, &pair.second));
            out!(
                "flipped run: failure gone ({} made event {} before {} made event {})",
                tables.thread_label(pair.second.at.0),
                pair.second.number,
                tables.thread_label(pair.first.at.0),
                pair.first.number
            );
            out!("runs: {} of {budget}, {} candidate pairs", report.runs, report.candidates);
            Ok(exit::SUCCESS)
        }
        WhyOutcome::NotFound { budget_spent, fails_anyway, different, inconclusive } => {
            if *budget_spent {
                out!(
                    "no pair found within the budget of {budget} runs ({} candidate pairs); raise --budget",
                    report.candidates
                );
            } else {
                out!(
                    "no pair found: no flip of the {} candidate pairs made the failure go away",
                    report.candidates
                );
            }
            if *fails_anyway {
                out!("the program fails without the recorded order too: its failure may not be a matter of schedule");
            }
            for (pair, summary) in different {
                out!(
                    "  flipping events {} and {} gave another failure: {summary}",
                    pair.first.number,
                    pair.second.number
                );
            }
            for (pair, why) in inconclusive {
                out!(
                    "  flipping events {} and {} was inconclusive: {why}",
                    pair.first.number,
                    pair.second.number
                );
            }
            Ok(exit::FINDING)
        }
        _ => Ok(exit::FINDING),
    }
}

/// Whether the recorded run failed, by its footer: a verdict other than
/// completed, or a broken invariant. `None`: the trace has no footer.
fn recorded_failure(trace: &reprise_recorder::trace::read::TraceFile) -> Option<bool> {
    let footer = trace.footer.as_ref()?;
    let broken = footer.annotation("invariants").is_some_and(|line| line != "invariants: ok");
    Some(broken || !matches!(footer.verdict, reprise_recorder::trace::format::Verdict::Completed))
}

/// `event 12 ledger-0 lock mutex #4 (src/…:88) at src/…:90: turn 3`.
fn line(tables: &Tables, p: &Placed) -> String {
    let (thread, e) = (p.at.0, &p.event);
    let outcome = outcome_text(e);
    format!(
        "event {} {} {} {} at {}{}",
        p.number,
        tables.thread_label(thread),
        e.op.name(),
        tables.object_label(e.object),
        tables.site_label(thread, e.site),
        if outcome.is_empty() { String::new() } else { format!(": {outcome}") }
    )
}

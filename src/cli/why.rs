//! `reprise why`: name the two events whose order made a recorded run fail.

use std::ffi::OsString;
use std::io::IsTerminal;
use std::path::PathBuf;

use anyhow::anyhow;
use reprise_replayer::views::{outcome_text, Tables};
use reprise_replayer::why::{self, Placed, WhyConfig, WhyOutcome, WhyReport};

use reprise_recorder::trace::read::TraceFile;
use reprise_replayer::explore::explored_test;

use crate::cli::why_child::{ChildRunner, Target};
use crate::cli::{out, payments, pipeline, Failure, Outcome};
use crate::exit;
use crate::EXIT_CODE_NOTE;

/// Arguments of `reprise why`.
#[derive(Debug, clap::Args)]
#[command(after_long_help = WHY_EXAMPLES)]
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
    /// With `-- CMD` or `--test`: seconds a run may take before it is
    /// killed and counted as inconclusive (a backstop for a program that
    /// blocks where reprise cannot see; the first `--test` run includes
    /// cargo's build).
    #[arg(long, default_value_t = 900, value_name = "SECS")]
    run_timeout: u64,
    /// Your own program, whose `main` runs its body through
    /// `reprise::main`: started again for each run (not needed for the
    /// built-in pipelines, which the trace header names).
    #[arg(last = true, value_name = "CMD ARGS", conflicts_with = "test")]
    command: Vec<OsString>,
    /// The test whose `reprise::explore` call wrote the trace, by its full
    /// path (the trace header names it): each run is that test, run alone.
    #[arg(long, value_name = "NAME")]
    test: Option<String>,
}

const WHY_EXAMPLES: &str = "\
Examples:
  reprise why traces/lost-update.trace
  reprise why booking.trace -- target/debug/examples/seat_booking
  reprise why /tmp/tests--two_tellers-schedule4-7538-1.trace --test tests::two_tellers

With `-- CMD` each run starts CMD again (its `reprise::main` makes the run
and exits); with `--test` the first run is `cargo test NAME -- --exact` in
this directory and later runs start the test binary it built.";

pub(crate) fn run(args: Args) -> Outcome {
    if args.budget == 0 {
        return Err(Failure::new(exit::USAGE, anyhow!("--budget must be at least 1")));
    }
    if args.run_timeout == 0 {
        return Err(Failure::new(exit::USAGE, anyhow!("--run-timeout must be at least 1 second")));
    }
    let trace = payments::read(&args.file)?;
    if let Some(refusal) = reprise_recorder::trace::window::Window::refusal(&trace.header) {
        return Err(Failure::new(exit::WINDOW, anyhow!("{refusal}")));
    }
    let target = target(&args, &trace)?;
    if recorded_failure(&trace) != Some(true) {
        if let Some(unfinished) = unfinished(&trace) {
            return Err(Failure::new(
                exit::TRACE_ENDED,
                anyhow!(
                    "the recorded run did not finish ({unfinished}), and its trace records no failure: \
                     nothing for why to reproduce; `reprise replay` replays what the trace holds"
                ),
            ));
        }
    }
    if recorded_failure(&trace) == Some(false) {
        return Err(Failure::new(
            exit::USAGE,
            anyhow!(
                "the recorded run did not fail (it completed with its invariants kept and exit code 0): \
                 nothing to explain; why needs the trace of a run that broke an invariant, panicked, \
                 deadlocked or exited with another code"
            ),
        ));
    }
    if !trace.is_whole() {
        eprintln!("reprise: warning: the trace is not whole; why follows what it holds");
    }
    let mut config = WhyConfig::default().budget(args.budget);
    config.max_steps = args.max_steps;
    let verbose = std::io::stderr().is_terminal() || std::env::var_os("REPRISE_PROGRESS").is_some();
    let progress = |line: &str| {
        if verbose {
            eprintln!("reprise: why: {line}");
        }
    };
    let report = match target {
        None => {
            let pipeline = pipeline::Pipeline::from_header(&trace.header)?;
            eprintln!(
                "reprise: why: {} of {} events, budget {} runs",
                pipeline.describe(),
                trace.events,
                args.budget
            );
            why::why(
                &trace,
                move || pipeline.run_annotated(),
                |lines: &payments::Lines| {
                    (lines.invariants != "invariants: ok").then(|| lines.invariants.clone())
                },
                &config,
                progress,
            )
        }
        Some(target) => {
            let timeout = std::time::Duration::from_secs(args.run_timeout);
            let mut runner = ChildRunner::new(target, &args.file, timeout).map_err(|e| {
                Failure::new(
                    exit::IO_ERROR,
                    anyhow!("cannot prepare the runs of {}: {e}", args.file.display()),
                )
            })?;
            eprintln!(
                "reprise: why: {} events of {}, budget {} runs, each in a new process",
                trace.events,
                reprise_recorder::trace::show::text(&trace.header.program),
                args.budget
            );
            why::why_with(&trace, &config, progress, |request| runner.run(request))
        }
    };
    print(&Tables::of(&trace), &report, args.budget)
}

/// How the runs are made: `None` in this process (a built-in pipeline),
/// else the program or test to start for each.
fn target(args: &Args, trace: &TraceFile) -> Result<Option<Target>, Failure> {
    let program = reprise_recorder::trace::show::text(&trace.header.program);
    if let Some(name) = &args.test {
        let wrote = explored_test(&trace.header);
        return match wrote {
            Some(test) if test == name => Ok(Some(Target::Test(name.clone()))),
            Some(test) => Err(Failure::new(
                exit::USAGE,
                anyhow!(
                    "the trace was written by the test `{}`, not `{name}`: run `reprise why {} --test {}`",
                    reprise_recorder::trace::show::text(test),
                    args.file.display(),
                    reprise_recorder::trace::show::text(test)
                ),
            )),
            None => Err(Failure::new(
                exit::USAGE,
                anyhow!(
                    "the trace of `{program}` was not written by a test's `reprise::explore` call (its header \
                     names no test); for a program with its own `main`, give it as `-- CMD ARGS`"
                ),
            )),
        };
    }
    if !args.command.is_empty() {
        return Ok(Some(Target::Command(args.command.clone())));
    }
    if pipeline::is_builtin(&trace.header.program) {
        return Ok(None);
    }
    let hint = match explored_test(&trace.header) {
        Some(test) => format!("`--test {}`", reprise_recorder::trace::show::text(test)),
        None => "`-- CMD ARGS` (a program whose `main` calls `reprise::main`)".to_string(),
    };
    Err(Failure::new(
        exit::USAGE,
        anyhow!("the trace is of `{program}`, not a built-in pipeline: say how to run it with {hint}"),
    ))
}

/// Prints the report; the exit code says whether a pair was found.
fn print(tables: &Tables, report: &WhyReport, budget: u64) -> Outcome {
    if let WhyOutcome::NoRun { why } = &report.outcome {
        return Err(Failure::new(
            exit::MISMATCHED,
            anyhow!("the run following the recorded order could not be made: {why}"),
        ));
    }
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
/// completed, a broken invariant, or an exit code other than 0. `None`: the trace has no footer.
/// Why the recorded run did not finish, if it did not: its footer is
/// missing, or says the run went on or was cut while it recorded. Its
/// verdict then is a placeholder ("completed" so far), not the run's.
fn unfinished(trace: &TraceFile) -> Option<String> {
    let Some(footer) = trace.footer.as_ref() else {
        return Some("the trace has no end: the recording was killed or crashed".into());
    };
    if footer.annotation(reprise_recorder::EXIT_ANNOTATION).is_some() {
        return Some(
            "std::process::exit ended the process while it recorded; its exit code is not in the trace"
                .into(),
        );
    }
    if let Some(signal) = footer.annotation("reprise.signal") {
        return Some(format!("{signal} ended the process while it recorded"));
    }
    if footer.annotation(reprise_recorder::flight::RUNNING_NOTE).is_some() {
        return Some("a flight-recorder dump taken while the run went on".into());
    }
    if let Some(reason) = footer.annotation(reprise_recorder::STOPPED_ANNOTATION) {
        return Some(format!("the recording stopped: {reason}"));
    }
    None
}

fn recorded_failure(trace: &TraceFile) -> Option<bool> {
    let footer = trace.footer.as_ref()?;
    let broken = footer.annotation("invariants").is_some_and(|line| line != "invariants: ok")
        || footer.annotation(EXIT_CODE_NOTE).is_some_and(|code| code != "0");
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

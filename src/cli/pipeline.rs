//! Which built-in pipeline a command runs: chosen by `--pipeline` when
//! recording or exploring, by the trace header's `pipeline` parameter when
//! replaying.

use std::path::Path;

use anyhow::anyhow;
use reprise_recorder::trace::format::Header;
use reprise_recorder::trace::read::TraceFile;
use reprise_replayer::{IndexedTrace, ReplayOptions, ReplayOutcome, ReplayReport};

use crate::cli::payments::{self, Lines};
use crate::cli::{settlement, Failure};
use crate::exit;
use crate::pipelines::payments::PaymentsConfig;
use crate::pipelines::settlement::SettlementConfig;

/// The names `--pipeline` accepts.
pub(crate) const NAMES: [&str; 2] = ["payments", "settlement"];

/// A built-in pipeline with its configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Pipeline {
    Payments(PaymentsConfig),
    Settlement(SettlementConfig),
}

/// What `record` and `explore` take from the command line, before it is
/// validated for the pipeline it names.
#[derive(Debug)]
pub(crate) struct Choice<'a> {
    pub(crate) name: &'a str,
    pub(crate) bug: &'a str,
    /// Payments, or orders.
    pub(crate) count: u64,
    /// Ledger workers, or settlers.
    pub(crate) workers: usize,
    pub(crate) seed: u64,
    /// Payments: keep the balances in `Tracked` cells (for `reprise races`).
    pub(crate) tracked: bool,
}

impl Pipeline {
    /// The pipeline `choice` names, validated; a usage error otherwise.
    pub(crate) fn choose(choice: &Choice<'_>) -> Result<Pipeline, Failure> {
        let usage = |e: &dyn std::fmt::Display| Failure::new(exit::USAGE, anyhow!("{e}"));
        let pipeline = match choice.name {
            "payments" => Pipeline::Payments(PaymentsConfig {
                bug: choice.bug.parse().map_err(|e| usage(&e))?,
                payments: choice.count,
                workers: choice.workers,
                seed: choice.seed,
                tracked_balances: choice.tracked,
                ..PaymentsConfig::default()
            }),
            "settlement" if choice.tracked => {
                return Err(usage(&"--tracked-balances is a payments option"));
            }
            "settlement" => Pipeline::Settlement(SettlementConfig {
                bug: choice.bug.parse().map_err(|e| usage(&e))?,
                orders: choice.count,
                settlers: choice.workers,
                seed: choice.seed,
            }),
            other => {
                return Err(usage(&format!(
                    "unknown pipeline `{other}`, expected one of: {}",
                    NAMES.join(", ")
                )))
            }
        };
        match pipeline {
            Pipeline::Payments(c) => c.validate().map_err(|e| usage(&e))?,
            Pipeline::Settlement(c) => c.validate().map_err(|e| usage(&e))?,
        }
        Ok(pipeline)
    }

    /// The pipeline a trace header describes.
    pub(crate) fn from_header(header: &Header) -> Result<Pipeline, Failure> {
        match header.parameter("pipeline") {
            Some("settlement") => settlement::config_from_header(header).map(Pipeline::Settlement),
            // Anything else is the payments pipeline's to accept or refuse.
            _ => payments::config_from_header(header).map(Pipeline::Payments),
        }
    }

    /// The program name its traces carry.
    pub(crate) fn program(&self) -> &'static str {
        match self {
            Pipeline::Payments(_) => payments::PROGRAM,
            Pipeline::Settlement(_) => settlement::PROGRAM,
        }
    }

    /// The header parameters a replay needs.
    pub(crate) fn parameters(&self) -> Vec<(String, String)> {
        match self {
            Pipeline::Payments(c) => payments::record_config_parameters(c),
            Pipeline::Settlement(c) => settlement::record_config_parameters(c),
        }
    }

    /// What a run does, for people: `payments pipeline (60 payments, 2
    /// workers, bug: none)`.
    pub(crate) fn describe(&self) -> String {
        match self {
            Pipeline::Payments(c) => {
                format!("payments pipeline ({} payments, {} workers, bug: {})", c.payments, c.workers, c.bug)
            }
            Pipeline::Settlement(c) => {
                format!("settlement batch ({} orders, {} settlers, bug: {})", c.orders, c.settlers, c.bug)
            }
        }
    }

    /// The seeded bug's name.
    pub(crate) fn bug(&self) -> String {
        match self {
            Pipeline::Payments(c) => c.bug.to_string(),
            Pipeline::Settlement(c) => c.bug.to_string(),
        }
    }

    /// Runs the pipeline once, annotating the current recording (if any) with
    /// its digest and invariants line, and returns those lines.
    pub(crate) fn run_annotated(&self) -> Lines {
        let lines = match *self {
            Pipeline::Payments(c) => Lines::of_outcome(&crate::pipelines::payments::run(&c)),
            Pipeline::Settlement(c) => Lines::of_settlement(&crate::pipelines::settlement::run(&c)),
        };
        reprise_recorder::annotate("digest", lines.digest.clone());
        reprise_recorder::annotate("invariants", lines.invariants.clone());
        lines
    }

    /// The recording config: program name, parameters and random seed.
    fn record_config(&self) -> reprise_recorder::RecordConfig {
        let seed = match self {
            Pipeline::Payments(c) => c.seed,
            Pipeline::Settlement(c) => c.seed,
        };
        self.parameters()
            .into_iter()
            .fold(
                reprise_recorder::RecordConfig::new(self.program(), env!("CARGO_PKG_VERSION")),
                |c, (k, v)| c.parameter(k, v),
            )
            .seed(seed)
            // The CLI reports a deadlock and ends; it must not wait forever.
            .on_deadlock(reprise_recorder::OnDeadlock::Return)
    }

    /// Records one run into `out`.
    pub(crate) fn record(&self, out: &Path) -> Result<payments::Recorded, Failure> {
        let pipeline = *self;
        let recording = reprise_recorder::record(out, self.record_config(), move || pipeline.run_annotated())
            .map_err(|e| Failure::new(exit::IO_ERROR, e))?;
        // Writing failed partway (a full disk, a closed pipe): the run went
        // on unrecorded, and was reported as "recorded 0 events", exit 0.
        if let Some(why) = &recording.stopped {
            return Err(Failure::new(
                exit::IO_ERROR,
                anyhow!(
                    "the recording stopped early ({why}): `{}` holds only the {} events written before",
                    out.display(),
                    recording.stats.events
                ),
            ));
        }
        // A panic is in the trace, and replays: a recording made.
        let Some(lines) = Lines::of_run(recording.result, &recording.verdict) else {
            let verdict = &recording.verdict;
            return Err(Failure::new(exit::IO_ERROR, anyhow!("the pipeline did not finish: {verdict}")));
        };
        Ok(payments::Recorded { lines, stats: recording.stats, verdict: recording.verdict })
    }
}

impl Pipeline {
    /// Runs once under a flight recorder dumping into `out` (on a panic, a
    /// deadlock, and at the end), keeping `events` / `bytes` per thread.
    pub(crate) fn flight(
        &self,
        out: &Path,
        events: Option<u64>,
        bytes: Option<usize>,
    ) -> Result<reprise_recorder::FlightRun<Lines>, Failure> {
        let mut config = reprise_recorder::FlightConfig::new(self.record_config()).dump_at_end(true);
        if let Some(events) = events {
            config = config.events(events);
        }
        if let Some(bytes) = bytes {
            config = config.bytes(bytes);
        }
        let pipeline = *self;
        reprise_recorder::flight(out, config, move || pipeline.run_annotated())
            .map_err(|e| Failure::new(exit::IO_ERROR, e))
    }
}

/// Replays a built-in pipeline's trace; `None` lines when the replay did not
/// match.
pub(crate) fn replay(trace: &TraceFile) -> Result<(Option<Lines>, ReplayReport<Lines>), Failure> {
    let pipeline = Pipeline::from_header(&trace.header)?;
    Ok(lines_of(reprise_replayer::replay(trace, move || pipeline.run_annotated())))
}

/// [`replay`] of a trace indexed from its file: its events are decoded as the
/// replay reaches them, in memory that does not grow with the trace.
pub(crate) fn replay_indexed(
    trace: IndexedTrace,
    options: &ReplayOptions,
) -> Result<(Option<Lines>, ReplayReport<Lines>), Failure> {
    let pipeline = Pipeline::from_header(&trace.end.header)?;
    Ok(lines_of(reprise_replayer::replay_indexed(trace, options, move || pipeline.run_annotated())))
}

/// [`replay_indexed`] on coroutines: every thread a coroutine on one OS
/// thread, following the recorded order, each thread's events decoded as
/// the replay reaches them.
pub(crate) fn replay_coroutines(
    trace: IndexedTrace,
) -> Result<(Option<Lines>, ReplayReport<Lines>), Failure> {
    let pipeline = Pipeline::from_header(&trace.end.header)?;
    Ok(lines_of(reprise_replayer::replay_coroutines_indexed(trace, None, move || pipeline.run_annotated())))
}

fn lines_of(report: ReplayReport<Lines>) -> (Option<Lines>, ReplayReport<Lines>) {
    let lines = match (&report.outcome, &report.reproduced) {
        (ReplayOutcome::Deadlock(verdict) | ReplayOutcome::Livelock(verdict), _) => {
            Lines::of_run(None, verdict)
        }
        // The recorded verdict came back (the verdicts were compared).
        (ReplayOutcome::Matched, Some(verdict)) => Lines::of_run(report.result.clone(), verdict),
        (ReplayOutcome::Matched, None) => report.result.clone(),
        _ => None,
    };
    (lines, report)
}

/// Whether `program` is the name a built-in pipeline's traces carry.
pub(crate) fn is_builtin(program: &str) -> bool {
    program == payments::PROGRAM || program == settlement::PROGRAM
}

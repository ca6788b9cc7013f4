//! `reprise record`: record a built-in pipeline.

use std::path::PathBuf;

use crate::cli::payments::{self, Lines};
use crate::cli::pipeline::{self, Choice, Pipeline};
use crate::cli::{out, Failure, Outcome};
use crate::exit;

/// Arguments of `reprise record`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The built-in pipeline to record.
    #[arg(long, value_name = "NAME", value_parser = pipeline::NAMES)]
    pipeline: String,
    /// The seeded bug to build it with: payments: none, lost-update,
    /// double-apply, reorder, deadlock, panic; settlement: none, stale-rate,
    /// double-settle.
    #[arg(long, default_value = "none", value_name = "BUG")]
    bug: String,
    /// How many payments ingest generates (settlement: orders).
    #[arg(long, visible_alias = "orders", default_value_t = 200, value_name = "N")]
    payments: u64,
    /// How many ledger workers (settlement: settlers).
    #[arg(long, visible_alias = "settlers", default_value_t = 4, value_name = "W")]
    workers: usize,
    /// Seed of the generated payments and of the recorded random source.
    #[arg(long, default_value_t = 1, value_name = "S")]
    seed: u64,
    /// Where to write the trace.
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    /// Payments: keep the account balances in `reprise::Tracked` cells, so
    /// the trace holds every read and write of them for `reprise races`.
    #[arg(long)]
    tracked_balances: bool,
    /// Run under the flight recorder instead: keep only each thread's last
    /// events in memory, and write them to FILE (a dump, a normal trace whose
    /// header says where each thread's window starts) when the run panics,
    /// deadlocks or ends. A dump replays when its window covers the whole run.
    #[arg(long)]
    flight: bool,
    /// With --flight: keep at least this many events per thread (default 65536).
    #[arg(long, value_name = "N", requires = "flight", value_parser = clap::value_parser!(u64).range(1..))]
    flight_events: Option<u64>,
    /// With --flight: keep at most this many bytes of chunks per thread
    /// (default 1 MiB; the newest chunk always stays).
    #[arg(long, value_name = "BYTES", requires = "flight")]
    flight_bytes: Option<usize>,
}

pub(crate) fn run(args: Args) -> Outcome {
    let pipeline = Pipeline::choose(&Choice {
        name: &args.pipeline,
        bug: &args.bug,
        count: args.payments,
        workers: args.workers,
        seed: args.seed,
        tracked: args.tracked_balances,
    })?;
    crate::cli::report_beside(&args.out);
    if args.flight {
        return fly(&pipeline, &args);
    }
    let recorded = pipeline.record(&args.out)?;
    if std::fs::symlink_metadata(&args.out).is_err() {
        // Unix lets a file be removed while it is written: the recording
        // went on into it and was called a success, with no trace left.
        return Err(Failure::new(
            exit::IO_ERROR,
            anyhow::anyhow!(
                "the trace `{}` was removed while it was being recorded: its {} events are lost",
                args.out.display(),
                recorded.stats.events
            ),
        ));
    }
    print_summary(&args.out, &recorded)?;
    recorded.lines.print()?;
    Ok(exit::SUCCESS)
}

pub(crate) fn print_summary(path: &std::path::Path, recorded: &payments::Recorded) -> Result<(), Failure> {
    let stats = recorded.stats;
    let per_event = if stats.events == 0 { 0.0 } else { stats.bytes as f64 / stats.events as f64 };
    out!(
        "recorded {} events in {} chunks to {} ({} bytes, {per_event:.2} bytes/event)",
        stats.events,
        stats.chunks,
        path.display(),
        stats.bytes
    );
    out!("verdict: {}", recorded.verdict);
    Ok(())
}

/// `record --flight`: the run under the flight recorder, then what its last
/// dump holds.
fn fly(pipeline: &Pipeline, args: &Args) -> Outcome {
    // The dump is written only once the run panics, deadlocks or ends: a
    // path it cannot be written to is said once, before the run, as a
    // recording's is (the flight recorder would say it at every dump, and
    // the CLI once more).
    if let Err(e) = std::fs::OpenOptions::new().write(true).create(true).truncate(false).open(&args.out) {
        return Err(Failure::new(
            exit::IO_ERROR,
            anyhow::anyhow!("cannot write the flight-recorder dump `{}`: {e}", args.out.display()),
        ));
    }
    let run = pipeline.flight(&args.out, args.flight_events, args.flight_bytes)?;
    let Some(dump) = run.dumps.last() else {
        let why = run.failures.last().cloned().unwrap_or_else(|| "no dump was written".into());
        return Err(crate::cli::Failure::new(exit::IO_ERROR, anyhow::anyhow!("{why}")));
    };
    let window = if dump.covers_run {
        "its window covers the whole run".to_string()
    } else {
        let late: Vec<String> =
            dump.window.late_starts().map(|(t, e)| format!("thread {t} from event {e}")).collect();
        format!("its window starts late: {}", late.join(", "))
    };
    out!("flight recorder: dumped {} events to {} ({window})", dump.events, dump.path.display());
    out!("verdict: {}", run.verdict);
    // The lines a replay of the dump prints, to compare with.
    if let Some(lines) = Lines::of_run(run.result, &run.verdict) {
        lines.print()?;
    }
    Ok(exit::SUCCESS)
}

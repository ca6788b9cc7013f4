//! `reprise record`: record a built-in pipeline.

use std::path::PathBuf;

use crate::cli::payments;
use crate::cli::pipeline::{self, Choice, Pipeline};
use crate::cli::{out, Outcome};
use crate::exit;

/// Arguments of `reprise record`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The built-in pipeline to record.
    #[arg(long, value_name = "NAME", value_parser = pipeline::NAMES)]
    pipeline: String,
    /// The seeded bug to build it with: payments: none, lost-update,
    /// double-apply, reorder, deadlock; settlement: none, stale-rate,
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
}

pub(crate) fn run(args: Args) -> Outcome {
    let pipeline = Pipeline::choose(&Choice {
        name: &args.pipeline,
        bug: &args.bug,
        count: args.payments,
        workers: args.workers,
        seed: args.seed,
    })?;
    let recorded = pipeline.record(&args.out)?;
    print_summary(&args.out, &recorded);
    recorded.lines.print();
    Ok(exit::SUCCESS)
}

pub(crate) fn print_summary(path: &std::path::Path, recorded: &payments::Recorded) {
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
}

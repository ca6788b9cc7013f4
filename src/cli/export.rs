//! `reprise export`: a trace as Chrome Trace Event JSON or JSON Lines, with
//! the global event numbers every view uses.

use std::io::Write;
use std::path::PathBuf;

use reprise_recorder::trace::show::block;
use reprise_replayer::views::export::{export, Format};
use reprise_replayer::views::Numbering;

use crate::cli::stages::{count, Stages};
use crate::cli::{Failure, Outcome};
use crate::exit;

/// The formats `--format` takes.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum FormatArg {
    /// Chrome Trace Event JSON: open it in Perfetto UI (ui.perfetto.dev) or
    /// chrome://tracing.
    Chrome,
    /// JSON Lines: one event per line.
    Jsonl,
}

/// Arguments of `reprise export`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The trace to export.
    #[arg(value_name = "FILE")]
    file: PathBuf,
    /// What to write.
    #[arg(long, value_enum, value_name = "FORMAT")]
    format: FormatArg,
    /// Where to write it (standard output without it).
    #[arg(long, value_name = "OUT")]
    out: Option<PathBuf>,
}

/// Says on stderr where `trace` stops being whole, if it does.
pub(crate) fn warn_if_damaged(trace: &reprise_recorder::trace::read::TraceFile) {
    if let Some(damage) = &trace.damage {
        eprintln!("reprise: warning: the trace is not whole: {}", block(&damage.to_string()));
    }
}

/// Warns on stderr when the trace is damaged or some events could not be
/// placed: the view still shows what there is.
pub(crate) fn warn_if_not_whole(numbering: &Numbering<'_>) {
    warn_if_damaged(numbering.trace());
    if numbering.forced_count() > 0 {
        eprintln!(
            "reprise: warning: {} events lost what they waited for; their numbers say nothing about their order",
            numbering.forced_count()
        );
    }
}

pub(crate) fn run(args: Args) -> Outcome {
    if let Some(out) = &args.out {
        crate::cli::not_the_trace(&args.file, out)?;
    }
    let stages = Stages::new();
    let trace = stages.read(&args.file)?;
    let numbering = stages.number(&trace);
    warn_if_not_whole(&numbering);
    stages.stage(&format!("writing {} events", count(numbering.len())));
    let format = match args.format {
        FormatArg::Chrome => Format::Chrome,
        FormatArg::Jsonl => Format::Jsonl,
    };
    let written = match &args.out {
        Some(path) => {
            let io = |e: std::io::Error| {
                Failure::new(exit::IO_ERROR, anyhow::anyhow!("cannot write `{}`: {e}", path.display()))
            };
            let mut file = reprise_recorder::trace::file::create(path).map_err(io)?;
            export(&numbering, format, &mut file).and_then(|()| file.flush()).map_err(io)
        }
        None => match export(&numbering, format, &mut std::io::stdout().lock()) {
            // A closed pipe (`| head`) is the reader's choice, not an error.
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
            other => other
                .map_err(|e| Failure::new(exit::IO_ERROR, anyhow::anyhow!("cannot write the export: {e}"))),
        },
    };
    drop(stages);
    written?;
    Ok(exit::SUCCESS)
}

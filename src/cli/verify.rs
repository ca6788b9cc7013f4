//! `reprise verify`: check every chunk of a trace, and that the footer counts
//! what was read.

use std::path::PathBuf;

use anyhow::anyhow;
use reprise_recorder::trace::read::TraceErrorKind;

use crate::cli::payments;
use crate::cli::{out, Failure, Outcome};
use crate::exit;

/// Arguments of `reprise verify`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The trace to check.
    #[arg(value_name = "FILE")]
    file: PathBuf,
}

pub(crate) fn run(args: Args) -> Outcome {
    let trace = payments::stream(&args.file)?.finish().map_err(|e| payments::stream_failed(&args.file, e))?;
    let Some(damage) = &trace.damage else {
        out!("intact: {} chunks, {} events", trace.chunks, trace.events);
        if trace.seal.is_none() {
            // An older file cannot prove it lost no chunk: say so rather than imply it.
            out!(
                "note: trace format {} has no chunk count in its footer, so a chunk removed and \
                 the frames re-linked around it would go unseen (format 1.2 checks it)",
                trace.version
            );
        }
        return Ok(exit::SUCCESS);
    };
    // When the footer disagrees, no chunk count read can be called intact.
    let counts_disagree =
        matches!(damage.kind, TraceErrorKind::FooterMismatch { .. } | TraceErrorKind::ChainMismatch { .. });
    let label = if counts_disagree { "read" } else { "intact" };
    out!("{label}: {} chunks, {} events", trace.chunks, trace.events);
    Err(Failure::new(exit::DAMAGED, anyhow!("`{}` is not whole: {damage}", args.file.display())))
}

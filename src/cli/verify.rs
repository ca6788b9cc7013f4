//! `reprise verify`: check every chunk of a trace.

use std::path::PathBuf;

use anyhow::anyhow;

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
    let trace = payments::read(&args.file)?;
    out!("intact: {} chunks, {} events", trace.chunks, trace.events);
    match &trace.damage {
        None => Ok(exit::SUCCESS),
        Some(damage) => {
            Err(Failure::new(exit::DAMAGED, anyhow!("`{}` is not whole: {damage}", args.file.display())))
        }
    }
}

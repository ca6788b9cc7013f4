//! `reprise timeline`: a trace as one self-contained HTML page (see
//! `reprise_replayer::views::timeline`).

use std::io::Write;
use std::path::PathBuf;

use reprise_replayer::views::timeline::timeline;

use crate::cli::export::warn_if_not_whole;
use crate::cli::stages::{count, Stages};
use crate::cli::{Failure, Outcome};
use crate::exit;

/// Arguments of `reprise timeline`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The trace to draw.
    #[arg(value_name = "FILE")]
    file: PathBuf,
    /// Where to write the page: `-` for standard output. Without it, the
    /// trace's path with `.html` added.
    #[arg(long, value_name = "OUT.html")]
    out: Option<PathBuf>,
}

pub(crate) fn run(args: Args) -> Outcome {
    let out = args.out.unwrap_or_else(|| {
        let mut name = args.file.clone().into_os_string();
        name.push(".html");
        PathBuf::from(name)
    });
    crate::cli::not_the_trace(&args.file, &out)?;
    let stages = Stages::new();
    let trace = stages.read(&args.file)?;
    let numbering = stages.number(&trace);
    warn_if_not_whole(&numbering);
    stages.stage(&format!("drawing {} events", count(numbering.len())));
    if out.as_os_str() == "-" {
        return match timeline(&numbering, &mut std::io::stdout().lock()) {
            Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
                Err(Failure::new(exit::IO_ERROR, anyhow::anyhow!("cannot write the page: {e}")))
            }
            _ => Ok(exit::SUCCESS),
        };
    }
    let io = |e: std::io::Error| {
        Failure::new(exit::IO_ERROR, anyhow::anyhow!("cannot write `{}`: {e}", out.display()))
    };
    let mut file = reprise_recorder::trace::file::create(&out).map_err(io)?;
    timeline(&numbering, &mut file).and_then(|()| file.flush()).map_err(io)?;
    drop(stages);
    let size = std::fs::metadata(&out).map(|m| m.len()).unwrap_or(0);
    eprintln!(
        "reprise: wrote {} ({} events, {} threads, {} bytes); open it in a browser",
        out.display(),
        numbering.len(),
        numbering.threads().count(),
        size
    );
    Ok(exit::SUCCESS)
}

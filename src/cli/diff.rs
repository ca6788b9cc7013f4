//! `reprise diff`: where two traces of the same program first part, and the
//! objects whose orders differ.

use std::path::{Path, PathBuf};

use reprise_recorder::trace::model::sensitive::SealKey;
use reprise_recorder::trace::read::TraceFile;
use reprise_recorder::trace::show::block;
use reprise_replayer::views::diff::{diff, render, Side};
use reprise_replayer::views::{number, Tables};

use crate::cli::stages::{count, Stages};
use crate::cli::{out, payments, Failure, Outcome};
use crate::exit;

/// Arguments of `reprise diff`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The first trace (A), e.g. the failing run.
    #[arg(value_name = "A")]
    a: PathBuf,
    /// The second trace (B), e.g. a good run of the same program.
    #[arg(value_name = "B")]
    b: PathBuf,
}

fn read(path: &Path) -> Result<TraceFile, Failure> {
    let trace = payments::read(path)?;
    if let Some(damage) = &trace.damage {
        eprintln!("reprise: warning: `{}` is not whole: {}", path.display(), block(&damage.to_string()));
    }
    Ok(trace)
}

pub(crate) fn run(args: Args) -> Outcome {
    let stages = Stages::new();
    stages.stage(&format!("reading {}", args.a.display()));
    let ta = read(&args.a)?;
    stages.stage(&format!("reading {}", args.b.display()));
    let tb = read(&args.b)?;
    if ta.header.program != tb.header.program {
        eprintln!(
            "reprise: warning: the traces are of different programs ({} and {}): the alignment means little",
            block(&ta.header.program),
            block(&tb.header.program)
        );
    }
    stages.stage(&format!("numbering {} and {} events", count(ta.events), count(tb.events)));
    let (na, nb) = (number(&ta), number(&tb));
    let (tables_a, tables_b) = (Tables::of(&ta), Tables::of(&tb));
    // One key for both: two runs of one program are recorded with its key.
    let key = SealKey::from_env().unwrap_or_else(|e| {
        eprintln!("reprise: warning: {e}; comparing without a key");
        None
    });
    let a = Side { numbering: &na, tables: &tables_a, key: key.as_ref() };
    let b = Side { numbering: &nb, tables: &tables_b, key: key.as_ref() };
    stages.stage("comparing");
    let found = diff(&a, &b);
    drop(stages);
    out!("A: {} ({} events)", args.a.display(), na.len());
    out!("B: {} ({} events)", args.b.display(), nb.len());
    for line in render(&found, &a, &b) {
        out!("{line}");
    }
    Ok(if found.identical() {
        exit::SUCCESS
    } else if found.undecided() {
        exit::SENSITIVE
    } else {
        exit::FINDING
    })
}

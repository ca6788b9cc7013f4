//! `reprise diff`: where two traces of the same program first part, and the
//! objects whose orders differ.

use std::path::{Path, PathBuf};

use anyhow::anyhow;

use reprise_recorder::trace::model::sensitive::SealKey;
use reprise_recorder::trace::read::TraceFile;
use reprise_recorder::trace::show::block;
use reprise_recorder::trace::window::{Window, WindowRefusal};
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

/// Why diff does not compare `name`'s trace, a flight-recorder dump whose
/// window does not cover the run: diff lines threads up from their first
/// events, and such a dump's first kept events are not the run's (it
/// compared the window's first event with the other run's first, calling
/// both "its event 0").
fn window_refused(name: &str, path: &Path, refusal: &WindowRefusal) -> anyhow::Error {
    let path = path.display();
    match refusal {
        WindowRefusal::Partial { thread, event, threads, .. } => anyhow!(
            "{name} (`{path}`) is a flight-recorder dump that holds only the end of the run: thread \
             {thread}'s events start at its event {event} ({threads} thread(s) start late). diff lines \
             up two runs from each thread's first event; compare whole recordings, or dumps whose \
             window covers the run (`reprise inspect` shows a dump's window)"
        ),
        WindowRefusal::Unreadable(error) => {
            anyhow!("{name} (`{path}`) is a flight-recorder dump whose window cannot be read: {error}")
        }
    }
}

pub(crate) fn run(args: Args) -> Outcome {
    let stages = Stages::new();
    stages.stage(&format!("reading {}", args.a.display()));
    let ta = read(&args.a)?;
    stages.stage(&format!("reading {}", args.b.display()));
    let tb = read(&args.b)?;
    for (name, path, trace) in [("A", &args.a, &ta), ("B", &args.b, &tb)] {
        if let Some(refusal) = Window::refusal(&trace.header) {
            return Err(Failure::new(exit::WINDOW, window_refused(name, path, &refusal)));
        }
    }
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

//! `reprise races`: data races and atomicity violations among a trace's
//! accesses of `Tracked` cells (see `reprise_replayer::views::races`).

use std::path::PathBuf;

use reprise_recorder::trace::model::{Op, Record};
use reprise_recorder::trace::read::TraceFile;
use reprise_replayer::views::races::{races, Access, Findings};

use crate::cli::export::{warn_if_damaged, warn_if_not_whole};
use crate::cli::stages::Stages;
use crate::cli::{out, Outcome};
use crate::exit;

/// Arguments of `reprise races`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The trace to analyse.
    #[arg(value_name = "FILE")]
    file: PathBuf,
}

fn line(who: &str, access: &Access) -> String {
    format!("  {who:<7} {} {} it at {} (#{})", access.thread, access.verb(), access.site, access.number)
}

/// Whether any event of `trace` reads or writes a `Tracked` cell.
fn accesses_tracked_cells(trace: &TraceFile) -> bool {
    trace.threads.values().flat_map(|records| records.iter()).any(|record| {
        matches!(record, Record::Event(event) if matches!(event.op, Op::TrackedRead | Op::TrackedWrite))
    })
}

pub(crate) fn run(args: Args) -> Outcome {
    let stages = Stages::new();
    let trace = stages.read(&args.file)?;
    // Numbering a long trace takes a while (19 s for 1,000,000 payments):
    // without one access of a tracked cell there is nothing it could find.
    let found = if accesses_tracked_cells(&trace) {
        let numbering = stages.number(&trace);
        warn_if_not_whole(&numbering);
        stages.stage("looking for races");
        races(&numbering)
    } else {
        warn_if_damaged(&trace);
        Findings::default()
    };
    drop(stages);
    out!(
        "{} accesses of {} tracked cells: {} data races, {} atomicity violations",
        found.accesses,
        found.cells,
        found.races.len(),
        found.violations.len()
    );
    if found.accesses == 0 {
        out!(
            "(nothing to check: keep the shared data in `reprise::Tracked`, or record the payments \
             pipeline with --tracked-balances)"
        );
    }
    for v in &found.violations {
        out!("");
        out!("atomicity violation ({}, {}) on {}, {} times:", v.meaning, v.pattern, v.object, v.count);
        out!("{}", line("first", &v.before));
        out!("{}", line("then", &v.between));
        out!("{}", line("then", &v.after));
        out!(
            "  {}'s write is based on what it read before {}'s write: that write is lost",
            v.after.thread,
            v.between.thread
        );
    }
    for r in &found.races {
        out!("");
        out!("data race on {}, {} times: nothing orders these accesses", r.object, r.count);
        out!("{}", line("", &r.first));
        out!("{}", line("", &r.second));
    }
    Ok(if found.races.is_empty() && found.violations.is_empty() { exit::SUCCESS } else { exit::FINDING })
}

//! `reprise demo`: catch the lost-update bug in a recording, then replay it.

use std::path::PathBuf;

use anyhow::anyhow;

use crate::cli::payments;
use crate::cli::{default_out_dir, out, out_dir_usable, Failure, Outcome};
use crate::exit;
use crate::pipelines::payments::{Bug, PaymentsConfig};

/// Arguments of `reprise demo`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Where to write the trace (default: a fresh folder in the temp dir).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Give up after this many recorded runs.
    #[arg(long, default_value_t = 500, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    max_runs: u32,
}

pub(crate) fn run(args: Args) -> Outcome {
    if let Some(dir) = &args.out {
        out_dir_usable(dir, "demo writes its trace into it")?;
    }
    let dir = args.out.unwrap_or_else(default_out_dir);
    std::fs::create_dir_all(&dir)
        .map_err(|e| Failure::new(exit::IO_ERROR, anyhow!("cannot create `{}`: {e}", dir.display())))?;
    let trace = dir.join("lost-update.trace");
    out!("reprise demo: the payments pipeline (ingest -> validate -> 4 ledger workers -> reconciler)");
    out!("built with a lost-update bug: a balance is read and written back under two separate lock");
    out!("acquisitions, so two workers can overwrite each other. Recording runs until one breaks an invariant...");
    let mut found = None;
    for run in 1..=args.max_runs {
        let config = PaymentsConfig {
            bug: Bug::LostUpdate,
            payments: 200,
            workers: 4,
            seed: u64::from(run),
            ..PaymentsConfig::default()
        };
        let recorded = payments::record(&config, &trace)?;
        if recorded.lines.invariants != "invariants: ok" {
            found = Some((run, recorded));
            break;
        }
        if run % 10 == 0 {
            out!("  {run} runs recorded, all invariants held so far");
        }
    }
    let Some((runs, recorded)) = found else {
        return Err(Failure::new(
            exit::FINDING,
            anyhow!("no run out of {} broke an invariant; try again or raise --max-runs", args.max_runs),
        ));
    };
    out!("run {runs} broke an invariant ({} runs recorded):", runs);
    crate::cli::record::print_summary(&trace, &recorded)?;
    recorded.lines.print()?;
    out!("");
    out!("replaying {} three times:", trace.display());
    let mut all_same = true;
    for attempt in 1..=3 {
        let file = payments::read(&trace)?;
        let (lines, report) = crate::cli::pipeline::replay(&file)?;
        match lines {
            Some(lines) => {
                let mismatches = payments::mismatches(file.footer.as_ref(), &report, &lines);
                if !mismatches.is_empty() {
                    let explained = reprise_replayer::compare::explain(&mismatches);
                    return Err(Failure::new(exit::MISMATCHED, anyhow!("replay {attempt}: {explained}")));
                }
                let same = lines == recorded.lines;
                all_same &= same;
                out!(
                    "  replay {attempt}: {} events, {} | digest {} {}",
                    report.replayed,
                    lines.invariants,
                    lines.digest,
                    if same { "(same as recorded)" } else { "(DIFFERENT)" }
                );
            }
            None => {
                let code = exit::of_outcome(&report.outcome);
                return Err(Failure::new(
                    code.max(exit::DIVERGED),
                    anyhow!("replay {attempt}: {}", report.outcome),
                ));
            }
        }
    }
    if all_same {
        out!("");
        out!("reproduced: every replay broke the same invariant with the same digest.");
        out!("replay it yourself: reprise replay {}", trace.display());
        Ok(exit::SUCCESS)
    } else {
        Err(Failure::new(exit::MISMATCHED, anyhow!("a replay ended in a different state than the recording")))
    }
}

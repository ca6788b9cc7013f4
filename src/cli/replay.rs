//! `reprise replay`: re-execute a trace.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::Command;

use anyhow::anyhow;

use crate::cli::{out, Failure, Outcome};
use crate::cli::{payments, pipeline};
use crate::exit;

/// Arguments of `reprise replay`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The trace to replay.
    #[arg(value_name = "FILE")]
    file: PathBuf,
    /// Your own instrumented program (one that calls `reprise::main`) and its
    /// arguments, run with `REPRISE_REPLAY=FILE`; its exit code is passed on.
    #[arg(last = true, value_name = "CMD ARGS")]
    command: Vec<OsString>,
}

pub(crate) fn run(args: Args) -> Outcome {
    let trace = payments::read(&args.file)?;
    if let Some(damage) = &trace.damage {
        eprintln!("reprise: warning: the trace is not whole ({damage}); replaying its consistent prefix");
    }
    if let Some((program, rest)) = args.command.split_first() {
        let status = Command::new(program)
            .args(rest)
            .env("REPRISE_REPLAY", &args.file)
            .env_remove("REPRISE_RECORD")
            .status()
            .map_err(|e| {
                Failure::new(exit::IO_ERROR, anyhow!("cannot run `{}`: {e}", program.to_string_lossy()))
            })?;
        return Ok(status.code().unwrap_or(exit::IO_ERROR));
    }
    if pipeline::is_builtin(&trace.header.program)
        && trace.header.program_version != env!("CARGO_PKG_VERSION")
    {
        eprintln!(
            "reprise: warning: the trace was recorded by reprise {}, this is {}; any real difference shows up as a divergence",
            trace.header.program_version,
            env!("CARGO_PKG_VERSION")
        );
    }
    let (lines, report) = pipeline::replay(&trace)?;
    if report.cut > 0 {
        eprintln!(
            "reprise: the trace was cut to its largest consistent prefix: {} events dropped",
            report.cut
        );
    }
    match lines {
        Some(lines) => {
            out!("replayed {} of {} events: {}", report.replayed, report.events, report.outcome);
            lines.print();
            Ok(exit::SUCCESS)
        }
        None => {
            let code = exit::of_outcome(&report.outcome);
            let code = if code == exit::SUCCESS { exit::DIVERGED } else { code };
            Err(Failure::new(code, anyhow!("{}", report.outcome)))
        }
    }
}

//! Choosing the mode without recompiling: `REPRISE_RECORD=path` records,
//! `REPRISE_REPLAY=path` replays, neither runs plainly.

use std::path::PathBuf;

use crate::exit;

/// The mode the environment asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Run plainly (passthrough).
    Off,
    /// Record into this file (`REPRISE_RECORD`).
    Record(PathBuf),
    /// Replay this file (`REPRISE_REPLAY`).
    Replay(PathBuf),
}

impl Mode {
    /// Reads `REPRISE_RECORD` / `REPRISE_REPLAY`.
    pub fn from_env() -> Mode {
        if let Some(path) = std::env::var_os("REPRISE_REPLAY").filter(|p| !p.is_empty()) {
            Mode::Replay(path.into())
        } else if let Some(path) = std::env::var_os("REPRISE_RECORD").filter(|p| !p.is_empty()) {
            Mode::Record(path.into())
        } else {
            Mode::Off
        }
    }
}

/// Runs a program's body in the mode the environment asks for, then exits
/// the process: one line in `main`.
///
/// ```no_run
/// // In `fn main()`:
/// reprise::main(env!("CARGO_PKG_NAME"), env!("CARGO_PKG_VERSION"), || {
///     // the pipeline, built on reprise::{thread, channel, sync}
/// });
/// ```
///
/// Plain and recorded runs exit 0 when `body` returns and 101 when it panics
/// (as Rust programs do); a recorded deadlock exits
/// [`reprise_recorder::DEADLOCK_EXIT_CODE`] once the trace is written. A replay
/// prints its outcome on stderr and exits with the codes of [`crate::exit`]:
/// 0 when it matched the whole trace, 3 diverged, 4 stalled, 5 the trace ended
/// early, 6 the trace is damaged, 7 it cannot be read.
pub fn main<F>(program: &str, version: &str, body: F) -> !
where
    F: FnOnce() + Send + 'static,
{
    let code = match Mode::from_env() {
        Mode::Off => match std::panic::catch_unwind(std::panic::AssertUnwindSafe(body)) {
            Ok(()) => 0,
            Err(_) => 101,
        },
        Mode::Record(path) => {
            let config = crate::RecordConfig::new(program, version);
            match crate::record(&path, config, body) {
                Ok(recording) => match recording.verdict {
                    reprise_recorder::trace::format::Verdict::Completed => 0,
                    reprise_recorder::trace::format::Verdict::Deadlock { .. } => {
                        eprintln!("reprise: {}", recording.verdict);
                        reprise_recorder::DEADLOCK_EXIT_CODE
                    }
                    _ => 101,
                },
                Err(e) => {
                    eprintln!("reprise: {e}");
                    exit::IO_ERROR
                }
            }
        }
        Mode::Replay(path) => replay(&path, program, version, body),
    };
    std::process::exit(code)
}

/// `reprise::main`'s replay: the outcome, then the verdict and notes set
/// against the recording's; the exit code is also handed back to the CLI.
fn replay<F>(path: &std::path::Path, program: &str, version: &str, body: F) -> i32
where
    F: FnOnce() + Send + 'static,
{
    let trace = match crate::read_trace_file(path) {
        Ok(trace) => trace,
        Err(e) => {
            let code = exit::of_read_error(&e);
            let message = reprise_recorder::trace::show::block(&format!("{e}"));
            eprintln!("reprise: {message}");
            crate::handoff::write(code, &message);
            return code;
        }
    };
    if trace.header.program_version != version || trace.header.program != program {
        eprintln!(
            "reprise: warning: the trace was recorded from {} {}, this is {program} {version}",
            reprise_recorder::trace::show::text(&trace.header.program),
            reprise_recorder::trace::show::text(&trace.header.program_version)
        );
    }
    crate::notes::start_collecting();
    let report = crate::replay(&trace, body);
    let notes = crate::notes::take();
    let mut message = report.outcome.to_string();
    let mut code = exit::of_outcome(&report.outcome);
    if code == exit::SUCCESS {
        if let (Some(footer), Some(reproduced)) = (&trace.footer, &report.reproduced) {
            let mismatches = reprise_replayer::compare::compare(footer, reproduced, &notes);
            if !mismatches.is_empty() {
                message = reprise_replayer::compare::explain(&mismatches);
                code = exit::MISMATCHED;
            }
        }
    }
    let message = reprise_recorder::trace::show::block(&message);
    eprintln!("reprise: {message}");
    crate::handoff::write(code, &message);
    code
}

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
/// A recording stores a hash of the program's arguments in the trace header,
/// and the arguments in clear only with `REPRISE_RECORD_ARGS=1` (they can hold
/// secrets); a replay whose arguments differ says so on stderr, with both in
/// clear when the recording stored them.
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
            // Opt-in only: the arguments can hold secrets; their hash is always kept.
            let clear = std::env::var_os("REPRISE_RECORD_ARGS").is_some_and(|v| v == "1");
            let config = crate::RecordConfig::new(program, version).record_arguments(clear);
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
        Mode::Replay(path) => match crate::read_trace_file(&path) {
            Ok(trace) => {
                if trace.header.program_version != version || trace.header.program != program {
                    eprintln!(
                        "reprise: warning: the trace was recorded from {} {}, this is {program} {version}",
                        trace.header.program, trace.header.program_version
                    );
                }
                let args = reprise_recorder::args::ArgsCheck::of(&trace.header, std::env::args_os().skip(1));
                if let Some(warning) = args.warning() {
                    eprintln!("reprise: warning: {warning}");
                }
                let report = crate::replay(&trace, body);
                eprintln!("reprise: {}", report.outcome);
                exit::of_outcome(&report.outcome)
            }
            Err(e) => {
                eprintln!("reprise: {e}");
                exit::of_read_error(&e)
            }
        },
    };
    std::process::exit(code)
}

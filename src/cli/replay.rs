//! `reprise replay`: re-execute a trace.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::anyhow;
use reprise_recorder::trace::show::{block, text};
use reprise_replayer::compare::explain;
use reprise_replayer::ReplayOptions;

use crate::cli::stages::{count, Stages};
use crate::cli::{out, Failure, Outcome};
use crate::cli::{payments, pipeline};
use crate::exit;
use crate::handoff::{self, REPORT_ENV};

/// Arguments of `reprise replay`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The trace to replay.
    #[arg(value_name = "FILE")]
    file: PathBuf,
    /// Your own instrumented program (one that calls `reprise::main`) and its
    /// arguments, run with `REPRISE_REPLAY=FILE`; the replay's exit code is
    /// passed on. A program that exits without replaying the trace (it never
    /// reached `reprise::main`) exits 8; one killed by a signal exits 9.
    #[arg(last = true, value_name = "CMD ARGS")]
    command: Vec<OsString>,
    /// Replay with every thread as a coroutine on one OS thread, following
    /// the recorded order: no OS thread parks or wakes, so it is faster when
    /// threads hand work to each other often. Same checks and exit codes as
    /// the default parallel replay; not for debuggers (they see one thread).
    /// With `-- CMD` the program's `reprise::main` replays so
    /// (`REPRISE_REPLAY_COROUTINES=1`).
    #[arg(long)]
    coroutines: bool,
    /// Pause the program for a debugger: each thread stops before its first
    /// event numbered above EVENT (the numbers of `export`, `debug` and
    /// `timeline`); once all have stopped or finished, the pid is printed
    /// and `gdb -p PID` can attach (no root needed). While paused it reads
    /// stdin: Enter or `c` runs on to the end (the result an uninterrupted
    /// replay gives), a later event number moves the stop there, `q` quits
    /// (exit 9). At EOF on stdin it stays paused until it is killed.
    #[arg(long, value_name = "EVENT", conflicts_with = "coroutines")]
    stop_at: Option<u64>,
}

pub(crate) fn run(args: Args) -> Outcome {
    // A paused replay prints its own announcement: no spinner over it.
    let stages = args.stop_at.is_none().then(Stages::new);
    let stage = |what: &str| {
        if let Some(stages) = &stages {
            stages.stage(what);
        }
    };
    stage(&format!("indexing {}", args.file.display()));
    // Indexed, not read whole: replay decodes each thread's events as it
    // reaches them, so a trace of any length replays in bounded memory.
    let trace = payments::index(&args.file)?;
    // A window that lost the run's start: nothing to replay, whichever way.
    if let Some(refusal) = reprise_recorder::trace::window::Window::refusal(&trace.end.header) {
        return Err(Failure::new(exit::WINDOW, anyhow!("{refusal}")));
    }
    let damage = trace.end.damage.as_ref().map(|damage| block(&damage.to_string()));
    if let Some(damage) = &damage {
        eprintln!("reprise: warning: the trace is not whole ({damage}); replaying its consistent prefix");
    }
    let stop = match args.stop_at {
        Some(event) => Some(
            crate::stop_at::plan(&args.file, event).map_err(|(code, e)| Failure::new(code, anyhow!(e)))?,
        ),
        None => None,
    };
    if let Some((program, rest)) = args.command.split_first() {
        // The program reads REPRISE_KEY itself: reading it here too named a
        // bad key twice. Its output is its own: no spinner over it.
        drop(stages);
        return run_child(&args.file, program, rest, args.stop_at, args.coroutines);
    }
    let mut options = ReplayOptions::default();
    if let Some(stop) = stop {
        options = options.stop_at(stop);
    }
    let header = &trace.end.header;
    if pipeline::is_builtin(&header.program) && header.program_version != env!("CARGO_PKG_VERSION") {
        eprintln!(
            "reprise: warning: the trace was recorded by reprise {}, this is {}; any real difference shows up as a divergence",
            text(&header.program_version),
            env!("CARGO_PKG_VERSION")
        );
    }
    let footer = trace.end.footer.clone();
    stage(&format!("replaying {} events", count(trace.log.event_count())));
    let (lines, report) = if args.coroutines {
        pipeline::replay_coroutines(trace)?
    } else {
        pipeline::replay_indexed(trace, &options)?
    };
    drop(stages);
    if report.cut > 0 {
        eprintln!(
            "reprise: the trace was cut to its largest consistent prefix: {} events dropped",
            report.cut
        );
    }
    match lines {
        Some(lines) => {
            out!("replayed {} of {} events: {}", report.replayed, report.events, report.outcome);
            lines.print()?;
            let mismatches = payments::mismatches(footer.as_ref(), &report, &lines);
            if !mismatches.is_empty() {
                return Err(Failure::new(exit::MISMATCHED, anyhow!("{}", explain(&mismatches))));
            }
            match damage {
                // Everything the replay compared matched, but not everything
                // the recording wrote is there to compare.
                Some(damage) => {
                    Err(Failure::new(exit::DAMAGED, anyhow!("{}", crate::env::not_whole(&damage))))
                }
                None => Ok(exit::SUCCESS),
            }
        }
        None => {
            let code = exit::of_outcome(&report.outcome);
            let code = if code == exit::SUCCESS { exit::DIVERGED } else { code };
            Err(Failure::new(code, anyhow!("{}", report.outcome)))
        }
    }
}

/// Runs the user's program under the trace and passes on the exit code its
/// replay reported; a program that did not replay is a failure, not a match.
fn run_child(
    file: &Path,
    program: &OsString,
    rest: &[OsString],
    stop_at: Option<u64>,
    coroutines: bool,
) -> Outcome {
    let name = program.to_string_lossy();
    let report = handoff::new_path();
    let mut command = Command::new(program);
    match stop_at {
        Some(event) => command
            .env(crate::STOP_AT_ENV, event.to_string())
            .env(crate::stop_at::STOP_AT_PARENT_ENV, std::process::id().to_string()),
        None => command.env_remove(crate::STOP_AT_ENV).env_remove(crate::stop_at::STOP_AT_PARENT_ENV),
    };
    match coroutines {
        true => command.env(crate::COROUTINES_ENV, "1"),
        false => command.env_remove(crate::COROUTINES_ENV),
    };
    let status = command
        .args(rest)
        .env("REPRISE_REPLAY", file)
        .env(REPORT_ENV, &report)
        .env_remove("REPRISE_RECORD")
        .status()
        .map_err(|e| Failure::new(exit::IO_ERROR, anyhow!("cannot run `{name}`: {e}")));
    let code = handoff::read(&report);
    let _ = std::fs::remove_file(&report);
    let status = status?;
    if let Some(signal) = killed_by(&status) {
        let replayed =
            if code.is_some() { "after its replay finished" } else { "before its replay finished" };
        return Err(Failure::new(exit::KILLED, anyhow!("`{name}` was killed by {signal} {replayed}")));
    }
    match code {
        Some(code) => Ok(code),
        None => Err(Failure::new(
            exit::MISMATCHED,
            anyhow!(
                "`{name}` exited with {status} without replaying the trace: it must call \
                 `reprise::main`, which replays `REPRISE_REPLAY` and reports back"
            ),
        )),
    }
}

/// "signal 9 (SIGKILL)" when the program was killed by a signal.
fn killed_by(status: &std::process::ExitStatus) -> Option<String> {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        let signal = status.signal()?;
        let name = match signal {
            1 => "SIGHUP",
            2 => "SIGINT",
            3 => "SIGQUIT",
            4 => "SIGILL",
            5 => "SIGTRAP",
            6 => "SIGABRT",
            7 => "SIGBUS",
            8 => "SIGFPE",
            9 => "SIGKILL",
            11 => "SIGSEGV",
            13 => "SIGPIPE",
            14 => "SIGALRM",
            15 => "SIGTERM",
            _ => return Some(format!("signal {signal}")),
        };
        Some(format!("signal {signal} ({name})"))
    }
    #[cfg(not(unix))]
    {
        let _ = status;
        None
    }
}

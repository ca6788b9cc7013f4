//! The command line: one file per subcommand. Arguments are parsed once into
//! validated values, then acted on; every error is one clear line on stderr
//! and an exit code from [`crate::exit`].

mod captured;
mod debug;
mod demo;
mod diff;
mod explore;
mod explore_json;
mod export;
mod inspect;
mod payments;
mod pipeline;
mod races;
mod record;
mod replay;
mod settlement;
mod stages;
mod timeline;
mod verify;
mod why;
mod why_child;

use std::ffi::OsString;
use std::io::Write;
use std::path::PathBuf;

use clap::{Parser, Subcommand};
use reprise_recorder::trace::show::block;

use crate::exit;

/// reprise: a determinism-replay debugger for concurrent Rust pipelines.
#[derive(Debug, Parser)]
#[command(name = "reprise", version, after_help = exit::TABLE, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Record the payments pipeline with its lost-update bug until a run breaks
    /// an invariant, then replay that trace three times to show it comes back.
    #[command(after_help = exit::TABLE)]
    Demo(demo::Args),
    /// Search a built-in pipeline's schedules for one that breaks an invariant,
    /// and save it as a trace that `reprise replay` reproduces.
    #[command(after_help = exit::TABLE)]
    Explore(explore::Args),
    /// Record a built-in pipeline into a trace file.
    #[command(after_help = exit::TABLE)]
    Record(record::Args),
    /// Replay a trace: a built-in pipeline's, or your own program's with `-- CMD ARGS...`.
    #[command(after_help = exit::TABLE)]
    Replay(replay::Args),
    /// Describe a trace: threads, objects, events by kind, duration, bytes per event, verdict.
    #[command(after_help = exit::TABLE)]
    Inspect(inspect::Args),
    /// Check every chunk of a trace and say where it stops being whole.
    #[command(after_help = exit::TABLE)]
    Verify(verify::Args),
    /// Write a trace as Chrome Trace Event JSON (Perfetto UI, chrome://tracing)
    /// or JSON Lines, events numbered as every view numbers them.
    #[command(after_help = exit::TABLE)]
    Export(export::Args),
    /// Compare two traces of the same program: the first divergence (thread,
    /// event, what differs, call sites, context) and the objects whose orders
    /// differ. Exits 0 when identical, 1 when they differ, 10 when only
    /// sensitive captures could differ and REPRISE_KEY does not open them,
    /// 11 when one is a flight-recorder dump that lost the run's start.
    #[command(after_help = exit::TABLE)]
    Diff(diff::Args),
    /// Step through a trace offline, no program needed: step, back, goto,
    /// thread, break, continue, reverse-continue, where, print, help. Reads
    /// commands from standard input when it is not a terminal.
    #[command(after_help = exit::TABLE)]
    Debug(debug::Args),
    /// Draw a trace as one self-contained HTML page: a swimlane per thread,
    /// events colored by kind, arrows for messages and lock hand-overs, zoom,
    /// pan and details on hover, the verdict on top.
    #[command(after_help = exit::TABLE)]
    Timeline(timeline::Args),
    /// Find data races and atomicity violations (a lost update: a read and
    /// a write split by another thread's write) among a trace's accesses of
    /// `reprise::Tracked` cells, with every call site. Exits 1 when it finds any.
    #[command(after_help = exit::TABLE)]
    Races(races::Args),
    /// Name the two events whose order made a recorded run fail: replay the
    /// recorded order up to a point, flip two conflicting events on one
    /// object, run on, and see whether the failure goes away. Exits 0 with
    /// the pair, 1 when none was found within --budget runs.
    #[command(after_help = exit::TABLE)]
    Why(why::Args),
}

/// A failure with its exit code; the message is printed as one line first,
/// then its causes.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) code: i32,
    pub(crate) error: anyhow::Error,
}

impl Failure {
    pub(crate) fn new(code: i32, error: impl Into<anyhow::Error>) -> Failure {
        Failure { code, error: error.into() }
    }
}

pub(crate) type Outcome = Result<i32, Failure>;

/// Parses `args` and runs the subcommand; returns the process exit code.
pub fn run<I>(args: I) -> i32
where
    I: IntoIterator<Item = OsString>,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            if e.use_stderr() {
                let _ = e.print();
                return exit::USAGE;
            }
            // --help and --version: help nobody could read (a full disk) is
            // no success either; a closed pipe is the reader's choice.
            let printed = e.print().and_then(|()| std::io::stdout().flush());
            return match printed {
                Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
                    eprintln!("reprise: error: {}", stdout_failed(&e).error);
                    exit::IO_ERROR
                }
                _ => exit::SUCCESS,
            };
        }
    };
    let outcome = match cli.command {
        Command::Demo(args) => demo::run(args),
        Command::Explore(args) => explore::run(args),
        Command::Record(args) => record::run(args),
        Command::Replay(args) => replay::run(args),
        Command::Inspect(args) => inspect::run(args),
        Command::Verify(args) => verify::run(args),
        Command::Export(args) => export::run(args),
        Command::Diff(args) => diff::run(args),
        Command::Debug(args) => debug::run(args),
        Command::Timeline(args) => timeline::run(args),
        Command::Races(args) => races::run(args),
        Command::Why(args) => why::run(args),
    };
    let outcome = outcome.and_then(|code| flush_stdout().map(|()| code));
    match outcome {
        Ok(code) => code,
        Err(failure) => {
            eprintln!("reprise: error: {}", block(&format!("{:#}", failure.error)));
            failure.code
        }
    }
}

/// Prints a line to stdout, or returns from the function with the
/// [`Failure`] of a write that failed (see [`write_stdout`]). The line goes
/// through [`block`]: whatever trace text it quotes cannot drive the
/// terminal.
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::cli::write_stdout(&format!("{}\n", ::reprise_recorder::trace::show::block(&format!($($arg)*))))?
    };
}
pub(crate) use out;

/// The failure of a write to stdout: [`exit::IO_ERROR`], as `export` gives.
fn stdout_failed(e: &std::io::Error) -> Failure {
    Failure::new(exit::IO_ERROR, anyhow::anyhow!("cannot write to standard output: {e}"))
}

/// Writes `text` to stdout as it is and flushes it. A closed pipe (`| head`)
/// is the reader's choice, not an error: as `export`, the command goes on
/// unheard and exits with its own code. Any other error (a full disk) is a
/// [`Failure`]: a report nobody could read must not pass for a success.
pub(crate) fn write_stdout(text: &str) -> Result<(), Failure> {
    if REPORT_ON_STDERR.load(std::sync::atomic::Ordering::Relaxed) {
        // Best effort, as eprintln's: stderr is where errors go too.
        let _ = std::io::stderr().lock().write_all(text.as_bytes());
        return Ok(());
    }
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(stdout_failed(&e)),
        _ => Ok(()),
    }
}

/// Set when the command's output file is its standard output: its report
/// goes to stderr instead of into the file.
static REPORT_ON_STDERR: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Sends this command's report to stderr when `out` is its standard output
/// (`--out /dev/stdout`, `/proc/self/fd/1`, or any other name of the file or
/// pipe stdout is): `record --out /dev/stdout > t.trace` wrote the summary
/// after the trace's last chunk, into the trace.
pub(crate) fn report_beside(out: &std::path::Path) {
    if same_file(out, std::path::Path::new("/dev/stdout")) {
        REPORT_ON_STDERR.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

/// Whether `a` and `b` name one file (one device and inode: a symlink, a
/// hard link, `/dev/stdout` and where it points); false when either cannot
/// be looked at, and off Unix.
fn same_file(a: &std::path::Path, b: &std::path::Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        match (std::fs::metadata(a), std::fs::metadata(b)) {
            (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
            _ => false,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = (a, b);
        false
    }
}

fn flush_stdout() -> Result<(), Failure> {
    match std::io::stdout().flush() {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(stdout_failed(&e)),
        _ => Ok(()),
    }
}

/// `--out DIR` names a folder (made when needed): a path that is, or lies
/// under, an existing file is refused at once. explore would otherwise run
/// its whole search and fail to write with "File exists", and demo said
/// "cannot create `FILE`: File exists".
fn out_dir_usable(dir: &std::path::Path, what_for: &str) -> Result<(), Failure> {
    for path in dir.ancestors().filter(|p| !p.as_os_str().is_empty()) {
        match std::fs::metadata(path) {
            Ok(meta) if meta.is_dir() => return Ok(()),
            Ok(_) => {
                let file =
                    if path == dir { String::new() } else { format!(" (`{}` is a file)", path.display()) };
                return Err(Failure::new(
                    exit::USAGE,
                    anyhow::anyhow!("--out `{}` is not a folder{file}: {what_for}", dir.display()),
                ));
            }
            Err(_) => {}
        }
    }
    Ok(())
}

/// Refuses an `--out` that names the trace being read (the same path, a
/// symlink or a hard link to it): `export t.trace --out t.trace` and
/// `timeline t.trace --out t.trace` wrote over the trace, often the only
/// copy of an incident, and said they succeeded.
fn not_the_trace(trace: &std::path::Path, out: &std::path::Path) -> Result<(), Failure> {
    let same_path = match (std::fs::canonicalize(trace), std::fs::canonicalize(out)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    };
    if same_path || same_file(trace, out) {
        return Err(Failure::new(
            exit::USAGE,
            anyhow::anyhow!(
                "--out `{}` is the trace being read: writing there would destroy it; name another file",
                out.display()
            ),
        ));
    }
    Ok(())
}

fn default_out_dir() -> PathBuf {
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    std::env::temp_dir().join(format!("reprise-{}-{stamp}", std::process::id()))
}

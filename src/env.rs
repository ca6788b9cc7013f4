//! Choosing the mode without recompiling: `REPRISE_RECORD=path` records,
//! `REPRISE_REPLAY=path` replays, `REPRISE_FLIGHT=path[,events=N][,bytes=N][,exited=N]`
//! runs under the flight recorder, none of them runs plainly.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use reprise_recorder::trace::format::Verdict;
use reprise_recorder::{OnRecordError, RecordConfig};

use crate::exit;
use crate::termination::{Termination, EXIT_CODE_NOTE};

/// The mode the environment asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Run plainly (passthrough).
    Off,
    /// Record into this file (`REPRISE_RECORD`).
    Record(PathBuf),
    /// Replay this file (`REPRISE_REPLAY`).
    Replay(PathBuf),
    /// Run under the flight recorder (`REPRISE_FLIGHT`), as the variable
    /// says it: `path[,events=N][,bytes=N][,exited=N]` (see [`crate::FlightConfig::from_spec`]).
    Flight(String),
}

impl Mode {
    /// Reads `REPRISE_REPLAY`, `REPRISE_RECORD` and `REPRISE_FLIGHT`, the
    /// first one set winning; `%p` in a recording's path is the process id.
    pub fn from_env() -> Mode {
        let var = |name| crate::inherited::var(name).filter(|v| !v.is_empty());
        if let Some(path) = var("REPRISE_REPLAY") {
            Mode::Replay(path.into())
        } else if let Some(path) = var("REPRISE_RECORD") {
            Mode::Record(crate::inherited::with_pid(&path).into())
        } else if let Some(spec) = var("REPRISE_FLIGHT") {
            Mode::Flight(crate::inherited::with_pid(&spec).to_string_lossy().into_owned())
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
/// With `REPRISE_FLIGHT=path[,events=N][,bytes=N][,exited=N]` (and neither
/// `REPRISE_REPLAY` nor `REPRISE_RECORD`) the body runs under the flight
/// recorder ([`crate::flight()`]): each thread's last `N` events (default
/// 65536; at most `bytes`, default 1 MiB, per thread) are kept in memory and
/// written to `path` only on a panic, a proven deadlock, `SIGUSR1` or
/// [`crate::flight_dump`]. A value it cannot read is named on stderr and the
/// program runs without it (or exits, under [`OnRecordError::Exit`]).
///
/// A recording stores a hash of the program's arguments in the trace header,
/// and the arguments in clear only with `REPRISE_RECORD_ARGS=1` (they can hold
/// secrets); a replay whose arguments differ says so on stderr, with both in
/// clear when the recording stored them.
///
/// The program's own child processes run plainly in every mode: once read,
/// `REPRISE_RECORD`, `REPRISE_REPLAY`, `REPRISE_FLIGHT` and the variables of
/// `reprise replay FILE -- CMD` and `reprise why` are taken out of the
/// environment they inherit (while the process runs one thread; see
/// `examples/child_process.rs`). A helper that inherited them recorded into
/// its parent's trace, or replayed it. `%p` in `REPRISE_RECORD`'s or
/// `REPRISE_FLIGHT`'s path is the process id, and such a variable stays:
/// each process records a trace of its own. A trace file being written is
/// locked, and a second recording into it is refused (the program runs
/// unrecorded).
///
/// Under `reprise why FILE -- CMD` (the variables of
/// [`reprise_replayer::why::child`] set), the body runs once under the
/// explorer, following the trace as the search asks, and the process exits
/// after writing how the run ended; an exit code other than 0 counts as a
/// failure.
///
/// `body` returns what `fn main` may: `()`, [`std::process::ExitCode`],
/// `Result<T, E: Debug>` (see [`Termination`]), and the process exits with
/// that code in every mode; an `Err(e)` is printed as `Error: {e:?}` and
/// exits 1, a panic exits 101, as Rust programs do. Since `main` never
/// returns, it also fits an `fn main() -> ExitCode` as its last expression.
///
/// A recording stores the code `body` returned as the annotation
/// [`EXIT_CODE_NOTE`](crate::EXIT_CODE_NOTE), and a replay whose body returns
/// another code is a mismatch (exit 8). A recording follows the default [`RecordConfig`]
/// (see [`main_with`] to choose): a proven deadlock is written to the trace
/// and the program is left as it is, and a trace that cannot be created is
/// reported on stderr and the program runs unrecorded. A replay prints its
/// outcome on stderr; when it matched the whole trace it exits as the
/// recording did (the body's code, or 101 for a reproduced panic, 0 for a
/// reproduced deadlock); otherwise with the codes of [`crate::exit`]: 3
/// diverged, 4 stalled, 5 the trace ended early, 6 the trace is damaged, 7 it
/// cannot be read, 8 it ended differently. (`reprise replay FILE -- CMD`
/// passes on the replay's own code, 0 for a match, whatever the body returned.)
pub fn main<F, T>(program: &str, version: &str, body: F) -> !
where
    F: FnOnce() -> T + Send + 'static,
    T: Termination,
{
    main_with(RecordConfig::new(program, version), body)
}

/// [`main`] with a chosen [`RecordConfig`] (its `program` and
/// `program_version` name the program, also when replaying).
///
/// A recording's exit code, beyond 0 and 101: under
/// [`crate::OnDeadlock::Exit`] the policy's code once a proven deadlock is written;
/// under [`crate::OnDeadlock::Return`] [`crate::DEADLOCK_EXIT_CODE`]
/// (there is no caller to return to); under [`crate::OnDeadlock::Wait`] (the
/// default) none: the deadlocked program waits as it would without reprise.
/// When the trace cannot be created, [`OnRecordError::Exit`]'s code without
/// running `body`; [`OnRecordError::RunUnrecorded`] (the default) runs it.
///
/// ```no_run
/// use reprise::{OnDeadlock, RecordConfig};
/// let config = RecordConfig::new("ledger", "2.1").on_deadlock(OnDeadlock::exit());
/// reprise::main_with(config, || { /* the pipeline */ });
/// ```
pub fn main_with<F, T>(config: RecordConfig, body: F) -> !
where
    F: FnOnce() -> T + Send + 'static,
    T: Termination,
{
    let why = reprise_replayer::why::child::ChildRun::requested();
    let mode = Mode::from_env();
    if why.is_none() {
        ignored_variables(&mode, &mut std::io::stderr());
    }
    // Read: the program's own child processes run plainly.
    crate::inherited::withhold();
    if let Some(child) = why {
        why_run(child, body);
    }
    let code = match mode {
        Mode::Off => run_plainly(move || body().exit_code()),
        Mode::Record(path) => {
            // Opt-in only: the arguments can hold secrets; their hash is always kept.
            let clear = std::env::var_os("REPRISE_RECORD_ARGS").is_some_and(|v| v == "1");
            let config = if clear { config.record_arguments(true) } else { config };
            record_or_run(&path, config, noting_exit_code(body), &mut std::io::stderr())
        }
        Mode::Replay(path) => replay(&path, &config.program, &config.program_version, noting_exit_code(body)),
        Mode::Flight(spec) => fly_or_run(&spec, config, noting_exit_code(body), &mut std::io::stderr()),
    };
    std::process::exit(code)
}

/// Names the mode variables that are set but lost to the one `mode` took
/// (REPRISE_REPLAY before REPRISE_RECORD before REPRISE_FLIGHT): with
/// REPRISE_RECORD left set, a program replayed and wrote no trace without
/// a word.
fn ignored_variables(mode: &Mode, notices: &mut dyn Write) {
    let (taken, after): (&str, &[&str]) = match mode {
        Mode::Replay(_) => ("REPRISE_REPLAY", &["REPRISE_RECORD", "REPRISE_FLIGHT"]),
        Mode::Record(_) => ("REPRISE_RECORD", &["REPRISE_FLIGHT"]),
        Mode::Flight(_) | Mode::Off => return,
    };
    for name in after {
        if crate::inherited::var(name).is_some_and(|v| !v.is_empty()) {
            let _ = writeln!(notices, "reprise: warning: {taken} and {name} are both set: {name} is ignored");
        }
    }
}

/// `reprise why FILE -- CMD`: makes the one run of the search the
/// environment asks for, under the explorer, and exits. A body that ends
/// with a code other than 0 failed, as a panic or a deadlock did.
fn why_run<F, T>(child: reprise_replayer::why::child::ChildRun, body: F) -> !
where
    F: FnOnce() -> T + Send + 'static,
    T: Termination,
{
    // The explorer runs a program as often as it likes; a child runs it once.
    let body = std::cell::RefCell::new(Some(noting_exit_code(body)));
    let program = move || {
        let body = body.borrow_mut().take();
        body.map(|body| body())
    };
    child.run(program, |code: &Option<u8>| match code {
        Some(0) => None,
        Some(code) => Some(format!("the program exited with code {code}")),
        None => Some("the program was run twice in one process".to_string()),
    });
    std::process::exit(0)
}

/// `body`, turning what it returns into its exit code inside the recorded (or
/// replayed) run, where the code is noted for the trace's footer: a
/// recording keeps it, a replay compares it. Converted there, the returned
/// value need not be `Send` (a `Box<dyn Error>` is not).
fn noting_exit_code<F, T>(body: F) -> impl FnOnce() -> u8 + Send + 'static
where
    F: FnOnce() -> T + Send + 'static,
    T: Termination,
{
    move || {
        let code = body().exit_code();
        crate::annotate(EXIT_CODE_NOTE, code.to_string());
        code
    }
}

/// `reprise::main`'s replay: the outcome, then the verdict and notes set
/// against the recording's; the exit code is also handed back to the CLI.
fn replay<F>(path: &std::path::Path, program: &str, version: &str, body: F) -> i32
where
    F: FnOnce() -> u8 + Send + 'static,
{
    // Indexed, not read whole: the replay decodes each thread's events as it
    // reaches them, in memory that does not grow with the trace.
    let trace = match crate::IndexedTrace::open(path) {
        Ok(trace) => trace,
        Err(e) => {
            let code = exit::of_read_error(&e);
            // With its causes, as the CLI prints it: "cannot read `t.trace`"
            // alone did not say the file is missing, or empty.
            return refuse(code, &format!("{:#}", anyhow::Error::new(e)));
        }
    };
    let header = &trace.end.header;
    if header.program_version != version || header.program != program {
        eprintln!(
            "reprise: warning: the trace was recorded from {} {}, this is {program} {version}",
            reprise_recorder::trace::show::text(&header.program),
            reprise_recorder::trace::show::text(&header.program_version)
        );
    }
    let damage =
        trace.end.damage.as_ref().map(|damage| reprise_recorder::trace::show::block(&damage.to_string()));
    if let Some(damage) = &damage {
        eprintln!("reprise: warning: the trace is not whole ({damage}); replaying its consistent prefix");
    }
    let args = reprise_recorder::args::ArgsCheck::of(header, std::env::args_os().skip(1));
    if let Some(warning) = args.warning() {
        eprintln!("reprise: warning: {warning}");
    }
    let mut options = crate::ReplayOptions::default();
    match crate::stop_at::from_env(path) {
        Some(Ok(stop)) => options = options.stop_at(under_reprise(stop)),
        Some(Err((code, message))) => return refuse(code, &message),
        None => {}
    }
    let footer = trace.end.footer.clone();
    let recorded_exit =
        footer.as_ref().is_some_and(|footer| footer.annotation(reprise_recorder::EXIT_ANNOTATION).is_some());
    crate::notes::start_collecting();
    crate::replay_exit::begin(recorded_exit);
    let report = match coroutines() {
        Ok(false) => crate::replay_indexed(trace, &options, body),
        Ok(true) if options.stop_at.is_some() => {
            let message = format!(
                "{COROUTINES_ENV}=1 and {}: a pause for a debugger needs the parallel replay",
                crate::STOP_AT_ENV
            );
            return refuse(exit::USAGE, &message);
        }
        Ok(true) => crate::replay_coroutines_indexed(trace, None, body),
        Err(message) => return refuse(exit::USAGE, &message),
    };
    crate::replay_exit::done();
    if reprise_recorder::hook::is_forked_child() {
        // A child forked without exec came back through `reprise::main`: it
        // ran unreplayed, and the replay's verdict is its parent's to give.
        return report.result.map_or(0, i32::from);
    }
    let notes = crate::notes::take();
    let mut message = report.outcome.to_string();
    let mut code = exit::of_outcome(&report.outcome);
    if code == exit::SUCCESS {
        if let (Some(footer), Some(reproduced)) = (&footer, &report.reproduced) {
            let mismatches = reprise_replayer::compare::compare(footer, reproduced, &notes);
            if !mismatches.is_empty() {
                message = reprise_replayer::compare::explain(&mismatches);
                code = exit::MISMATCHED;
            }
        }
    }
    if let (exit::SUCCESS, Some(damage)) = (code, &damage) {
        message = not_whole(damage);
        code = exit::DAMAGED;
    }
    let message = reprise_recorder::trace::show::block(&message);
    eprintln!("reprise: {message}");
    // The CLI hears the replay's code; the process exits as the recording did.
    crate::handoff::write(code, &message);
    if code != exit::SUCCESS {
        return code;
    }
    match (report.result, &report.reproduced) {
        (Some(body_code), _) => i32::from(body_code),
        (None, Some(Verdict::Panicked { .. })) => 101,
        // A reproduced deadlock or livelock: the replay's success.
        (None, _) => code,
    }
}

/// Why a replay that matched everything it read still fails: the trace is
/// not the whole recording (a chunk lost, moved or replaced, or no end
/// marker), so what is missing was never compared. `reprise replay` says
/// the same.
pub(crate) fn not_whole(damage: &str) -> String {
    format!(
        "the replay matched the events it read, but the trace is not whole ({damage}): what was lost or \
         moved could not be checked; `reprise verify` says more"
    )
}

/// The variable asking `reprise::main`'s replay for coroutines (`reprise
/// replay --coroutines FILE -- CMD` sets it): `1` runs the program's threads
/// as coroutines on one OS thread, following the recorded order.
pub const COROUTINES_ENV: &str = "REPRISE_REPLAY_COROUTINES";

/// Whether [`COROUTINES_ENV`] asks for coroutines; a value other than `0`
/// or `1` is an error to report.
fn coroutines() -> Result<bool, String> {
    match crate::inherited::var(COROUTINES_ENV) {
        None => Ok(false),
        Some(v) if v.is_empty() || v == "0" => Ok(false),
        Some(v) if v == "1" => Ok(true),
        Some(v) => Err(format!("{COROUTINES_ENV}={v:?}: give 1 (replay on coroutines) or 0")),
    }
}

/// Says `message` and hands `code` to the CLI: a replay that could not start.
fn refuse(code: i32, message: &str) -> i32 {
    let message = reprise_recorder::trace::show::block(message);
    eprintln!("reprise: {message}");
    crate::handoff::write(code, &message);
    code
}

/// A pause asked by `reprise replay FILE --stop-at N -- CMD` (a report file
/// is named): it ends with that `reprise`, whose pid it says (else this
/// process's parent now).
fn under_reprise(stop: reprise_replayer::StopAt) -> reprise_replayer::StopAt {
    #[cfg(unix)]
    if crate::inherited::var(crate::REPORT_ENV).is_some_and(|p| !p.is_empty()) {
        let said = crate::inherited::var(crate::stop_at::STOP_AT_PARENT_ENV)
            .and_then(|pid| pid.to_str().and_then(|pid| pid.parse().ok()));
        return stop.ending_with_parent(said.unwrap_or_else(std::os::unix::process::parent_id));
    }
    stop
}

fn run_plainly(body: impl FnOnce() -> u8) -> i32 {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(body)) {
        Ok(code) => i32::from(code),
        Err(_) => 101,
    }
}

/// Records `body` into `path` as [`main_with`] does, telling `notices` what
/// went wrong; the process's exit code.
fn record_or_run<F>(path: &Path, config: RecordConfig, body: F, notices: &mut dyn Write) -> i32
where
    F: FnOnce() -> u8 + Send + 'static,
{
    let on_error = config.on_record_error;
    run_held(body, on_error, Some("running without recording"), notices, |held| {
        crate::record(path, config, held).map(|recording| (recording.verdict, recording.result))
    })
}

/// Runs `body` under the flight recorder `spec` asks for, as [`main_with`]
/// does; a spec it cannot read is named and the program runs as
/// [`RecordConfig::on_record_error`] says. The process's exit code.
fn fly_or_run<F>(spec: &str, config: RecordConfig, body: F, notices: &mut dyn Write) -> i32
where
    F: FnOnce() -> u8 + Send + 'static,
{
    let on_error = config.on_record_error;
    let (path, flight) =
        match reprise_recorder::FlightConfig::from_spec(spec, reprise_recorder::FlightConfig::new(config)) {
            Ok(parsed) => parsed,
            Err(e) => {
                let _ = writeln!(notices, "reprise: {e}");
                return match on_error {
                    OnRecordError::Exit { code } => code,
                    _ => {
                        let _ = writeln!(notices, "reprise: running without the flight recorder");
                        run_plainly(body)
                    }
                };
            }
        };
    // The dump is written only at a panic, a deadlock or SIGUSR1, maybe days
    // later: a path it cannot go to is said now, as REPRISE_RECORD's is,
    // not when the dump that was wanted fails.
    if let Some(why) = unwritable(&path) {
        let _ =
            writeln!(notices, "reprise: cannot write the flight-recorder dump `{}`: {why}", path.display());
        return match on_error {
            OnRecordError::Exit { code } => code,
            _ => {
                let _ = writeln!(notices, "reprise: running without the flight recorder");
                run_plainly(body)
            }
        };
    }
    run_held(body, on_error, None, notices, |held| {
        crate::flight(&path, flight, held).map(|run| (run.verdict, run.result))
    })
}

/// Why a file could not be created at `path`, as far as can be told without
/// creating it: it is a folder, or its folder is missing or is a file.
fn unwritable(path: &Path) -> Option<String> {
    if path.is_dir() {
        return Some("it is a folder".into());
    }
    let parent = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    match std::fs::metadata(parent) {
        Ok(meta) if meta.is_dir() => None,
        Ok(_) => Some(format!("`{}` is not a folder", parent.display())),
        Err(e) => Some(format!("its folder `{}`: {e}", parent.display())),
    }
}

/// Runs `body` inside `start` (a recording or a flight) and turns how it
/// ended into the process's exit code. `start` takes the body; when it fails
/// before running it, the body is taken back from here and runs plainly (after
/// `fallback` is noted), or the process exits as `on_error` says.
fn run_held<F, E>(
    body: F,
    on_error: OnRecordError,
    fallback: Option<&str>,
    notices: &mut dyn Write,
    start: impl FnOnce(Box<dyn FnOnce() -> Option<u8> + Send>) -> Result<(Verdict, Option<Option<u8>>), E>,
) -> i32
where
    F: FnOnce() -> u8 + Send + 'static,
    E: std::error::Error + Send + Sync + 'static,
{
    let body = Arc::new(std::sync::Mutex::new(Some(body)));
    let held_body = Arc::clone(&body);
    let started = start(Box::new(move || {
        let taken = held_body.lock().unwrap_or_else(|p| p.into_inner()).take();
        taken.map(|body| body())
    }));
    let not_run = body.lock().unwrap_or_else(|p| p.into_inner()).take();
    match started {
        Ok((verdict, result)) => match verdict {
            // The body ran (the trace was created), so it returned its code.
            Verdict::Completed => result.flatten().map_or(exit::SUCCESS, i32::from),
            Verdict::Deadlock { .. } => {
                let _ = writeln!(notices, "reprise: {verdict}");
                reprise_recorder::DEADLOCK_EXIT_CODE
            }
            _ => 101,
        },
        Err(e) => {
            let _ = writeln!(notices, "reprise: {:#}", anyhow::Error::new(e));
            match (not_run, on_error) {
                (Some(_), OnRecordError::Exit { code }) => code,
                (Some(body), _) => {
                    if let Some(fallback) = fallback {
                        let _ = writeln!(notices, "reprise: {fallback}");
                    }
                    run_plainly(body)
                }
                // The trace failed after the body ran.
                (None, _) => exit::IO_ERROR,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, Ordering};

    use super::*;

    /// A trace path whose directory does not exist.
    fn unwritable() -> std::path::PathBuf {
        std::env::temp_dir().join(format!("reprise-no-such-dir-{}", std::process::id())).join("t.trace")
    }

    #[test]
    fn a_trace_that_cannot_be_created_is_explained_and_the_program_runs_unrecorded() {
        static RAN: AtomicBool = AtomicBool::new(false);
        let mut notices = Vec::new();
        let config = RecordConfig::new("env-test", "1");
        let code = record_or_run(
            &unwritable(),
            config,
            || {
                RAN.store(true, Ordering::SeqCst);
                5
            },
            &mut notices,
        );
        let notices = String::from_utf8(notices).unwrap();
        // The unrecorded body's own exit code.
        assert_eq!(code, 5, "{notices}");
        assert!(RAN.load(Ordering::SeqCst), "the body did not run");
        assert!(notices.contains("cannot write the trace"), "{notices}");
        // The OS error, through the error's chain.
        assert!(notices.contains("No such file or directory"), "{notices}");
        assert!(notices.contains("running without recording"), "{notices}");
    }

    #[test]
    fn a_trace_that_cannot_be_created_exits_with_the_chosen_code_without_running_the_program() {
        static RAN: AtomicBool = AtomicBool::new(false);
        let mut notices = Vec::new();
        let config = RecordConfig::new("env-test", "1").on_record_error(OnRecordError::exit());
        let code = record_or_run(
            &unwritable(),
            config,
            || {
                RAN.store(true, Ordering::SeqCst);
                5
            },
            &mut notices,
        );
        let notices = String::from_utf8(notices).unwrap();
        assert_eq!(code, reprise_recorder::RECORD_ERROR_EXIT_CODE, "{notices}");
        assert!(!RAN.load(Ordering::SeqCst), "the body ran");
        assert!(notices.contains("No such file or directory"), "{notices}");
    }
}

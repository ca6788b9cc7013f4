//! `reprise why FILE -- CMD` and `--test NAME`: each run of the search is
//! the program started again in a child process, told by
//! [`reprise_replayer::why::child`]'s variables which run to make; it writes
//! how the run ended to a file this side reads back.
//!
//! For a test the first run goes through `cargo test NAME -- --exact` (which
//! builds what is needed); the child reports its executable and directory,
//! and every later run starts that test binary directly.

use std::ffi::OsString;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use reprise_replayer::why::child::{ChildReport, WHY_RESULT_ENV, WHY_RUN_ENV, WHY_TRACE_ENV};
use reprise_replayer::why::{RunRequest, RunResult};

/// Lines of a child's stderr quoted when it said nothing.
const QUOTED_LINES: usize = 12;

/// How each run is started.
pub(crate) enum Target {
    /// A program with a `main` of its own and its arguments.
    Command(Vec<OsString>),
    /// A test by its full path, run through cargo until its binary is known.
    Test(String),
}

/// Starts one child per run.
pub(crate) struct ChildRunner {
    target: Target,
    /// The test binary and its directory, once the first run said them.
    test_binary: Option<(PathBuf, PathBuf)>,
    trace: PathBuf,
    dir: PathBuf,
    timeout: Duration,
    runs: u64,
}

impl ChildRunner {
    /// A runner for `target` following `trace`, each run killed after
    /// `timeout` (a backstop for a program that blocks where reprise cannot
    /// see).
    pub(crate) fn new(target: Target, trace: &Path, timeout: Duration) -> std::io::Result<ChildRunner> {
        // The child may run in another directory (cargo runs tests in the
        // package's).
        let trace = std::fs::canonicalize(trace)?;
        let dir = std::env::temp_dir().join(format!("reprise-why-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        Ok(ChildRunner { target, test_binary: None, trace, dir, timeout, runs: 0 })
    }

    /// The command that makes a run, and what to call it in messages.
    fn command(&self) -> (Command, String) {
        match (&self.target, &self.test_binary) {
            (Target::Command(argv), _) => {
                let mut command = Command::new(&argv[0]);
                command.args(&argv[1..]);
                (command, format!("`{}`", argv[0].to_string_lossy()))
            }
            (Target::Test(name), Some((exe, cwd))) => {
                let mut command = Command::new(exe);
                command.args([name.as_str(), "--exact"]).current_dir(cwd);
                (command, format!("the test binary {}", exe.display()))
            }
            (Target::Test(name), None) => {
                let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
                let mut command = Command::new(cargo);
                command.args(["test", name.as_str(), "--", "--exact"]);
                (command, format!("`cargo test {name} -- --exact`"))
            }
        }
    }

    /// Makes the run `request` asks for in a new child.
    pub(crate) fn run(&mut self, request: &RunRequest) -> Result<RunResult, String> {
        self.runs += 1;
        let result = self.dir.join(format!("run-{}", self.runs));
        let stderr_path = self.dir.join(format!("run-{}.stderr", self.runs));
        let (mut command, name) = self.command();
        let stderr = File::create(&stderr_path)
            .map_err(|e| format!("cannot create {}: {e}", stderr_path.display()))?;
        command
            .env(WHY_TRACE_ENV, &self.trace)
            .env(WHY_RUN_ENV, request.encode())
            .env(WHY_RESULT_ENV, &result)
            .env_remove("REPRISE_RECORD")
            .env_remove("REPRISE_REPLAY")
            .env_remove("REPRISE_FLIGHT")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr);
        own_process_group(&mut command);
        let child = command.spawn().map_err(|e| format!("cannot run {name}: {e}"))?;
        let status = wait(child, self.timeout);
        let said = std::fs::read_to_string(&result);
        let quoted = quote_tail(&stderr_path);
        let _ = std::fs::remove_file(&result);
        let _ = std::fs::remove_file(&stderr_path);
        let status = match status {
            Ok(status) => status,
            Err(Waited::TimedOut) => {
                return Err(format!(
                    "{name} did not end within {} s (--run-timeout): it may block where reprise cannot see{quoted}",
                    self.timeout.as_secs()
                ))
            }
            Err(Waited::Failed(e)) => return Err(format!("cannot wait for {name}: {e}")),
        };
        let Ok(text) = said else {
            let (status, hint) = (describe(status), self.hint());
            return Err(format!("{name} {status} without making the run{hint}{quoted}"));
        };
        let report = ChildReport::decode(&text)?;
        if let (Target::Test(_), None, Some(exe), Some(cwd)) =
            (&self.target, &self.test_binary, report.exe, report.cwd)
        {
            self.test_binary = Some((exe, cwd));
        }
        report.result
    }

    /// What to check when a child made no run.
    fn hint(&self) -> String {
        match self.target {
            Target::Command(_) => "; does it run its body through `reprise::main`?".to_string(),
            Target::Test(_) => {
                "; does the test call `reprise::explore` (the call that wrote the trace)?".to_string()
            }
        }
    }
}

impl Drop for ChildRunner {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Why a wait ended without an exit status.
enum Waited {
    TimedOut,
    Failed(std::io::Error),
}

/// Waits for `child`, killing it (and what it started) after `timeout`.
fn wait(mut child: Child, timeout: Duration) -> Result<ExitStatus, Waited> {
    let start = Instant::now();
    let mut pause = Duration::from_millis(1);
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Ok(status),
            Ok(None) => {}
            Err(e) => return Err(Waited::Failed(e)),
        }
        if start.elapsed() >= timeout {
            kill_group(&mut child);
            let _ = child.wait();
            return Err(Waited::TimedOut);
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(50));
    }
}

/// The child leads a process group of its own, so that a timeout also
/// stops the test binary `cargo test` started.
#[cfg(unix)]
fn own_process_group(command: &mut Command) {
    use std::os::unix::process::CommandExt;
    command.process_group(0);
}

#[cfg(not(unix))]
fn own_process_group(_command: &mut Command) {}

fn kill_group(child: &mut Child) {
    reprise_replayer::why::process_group::kill(child.id());
    let _ = child.kill();
}

/// `exited with code 1`, `was killed by signal 9`.
fn describe(status: ExitStatus) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            return format!("was killed by signal {signal}");
        }
    }
    match status.code() {
        Some(code) => format!("exited with code {code}"),
        None => "ended".to_string(),
    }
}

/// The last lines of what a child wrote on stderr, as `:\n  …` to append to
/// a message; empty when it wrote nothing.
fn quote_tail(path: &Path) -> String {
    let text = std::fs::read(path).unwrap_or_default();
    let text = String::from_utf8_lossy(&text);
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    if lines.is_empty() {
        return String::new();
    }
    let tail = &lines[lines.len().saturating_sub(QUOTED_LINES)..];
    let quoted: Vec<String> =
        tail.iter().map(|l| format!("  | {}", reprise_recorder::trace::show::text(l))).collect();
    format!("; its stderr ended with:\n{}", quoted.join("\n"))
}

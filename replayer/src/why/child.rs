//! `why` for a program with a `main` of its own (`reprise why FILE --
//! CMD`) or for a test (`--test NAME`): the search stays in `reprise`, and
//! each run is the program started again, in a child process, told by three
//! variables which run to make. The program's [`reprise::main`] (or the
//! test's explore call whose test wrote the trace) sees them, makes that one
//! run under the explorer in place of its usual mode, writes how it ended
//! to the result file, and the process ends. A fresh process per run also
//! gives each run fresh statics, as a new recording would have.
//!
//! [`reprise::main`]: https://docs.rs/reprise/latest/reprise/fn.main.html

use std::path::{Path, PathBuf};

use reprise_recorder::trace::read::{read_trace_file, TraceFile};

use crate::explore::{FailureKind, Stuck};

use super::flip::{Flipped, Hold};
use super::run::{InProcess, Plan, RunRequest, RunResult};

/// The trace a child run follows.
pub const WHY_TRACE_ENV: &str = "REPRISE_WHY_TRACE";
/// The run to make ([`RunRequest::encode`]).
pub const WHY_RUN_ENV: &str = "REPRISE_WHY_RUN";
/// Where the child writes how the run ended ([`ChildReport::decode`]).
pub const WHY_RESULT_ENV: &str = "REPRISE_WHY_RESULT";

/// The first line of a result file, naming its format.
const RESULT_MAGIC: &str = "reprise why run 1";

/// A run the environment asks this process to make.
#[derive(Debug)]
pub struct ChildRun {
    trace: Result<TraceFile, String>,
    request: Result<RunRequest, String>,
    result: PathBuf,
}

impl ChildRun {
    /// The run the variables ask for, when [`WHY_RESULT_ENV`] is set: the
    /// trace read and the request decoded (what went wrong with either is
    /// written to the result file by [`ChildRun::run`]).
    pub fn requested() -> Option<ChildRun> {
        let result = std::env::var_os(WHY_RESULT_ENV).filter(|p| !p.is_empty())?;
        let trace = match std::env::var_os(WHY_TRACE_ENV).filter(|p| !p.is_empty()) {
            Some(path) => read_trace_file(Path::new(&path))
                .map_err(|e| format!("cannot read the trace {}: {e}", Path::new(&path).display())),
            None => Err(format!("{WHY_RESULT_ENV} is set but {WHY_TRACE_ENV} is not")),
        };
        let request = match std::env::var(WHY_RUN_ENV) {
            Ok(text) => RunRequest::decode(&text),
            Err(_) => Err(format!("{WHY_RESULT_ENV} is set but {WHY_RUN_ENV} is not")),
        };
        Some(ChildRun { trace, request, result: result.into() })
    }

    /// Whether this run is `test`'s: the trace names it as the test whose
    /// exploration wrote it. A trace that cannot be read is everyone's, so
    /// that the first explore call reports it.
    pub fn is_for_test(&self, test: Option<&str>) -> bool {
        match &self.trace {
            Ok(trace) => test.is_some() && crate::explore::explored_test(&trace.header) == test,
            Err(_) => true,
        }
    }

    /// Makes the run with `program` and writes how it ended, `check` saying
    /// whether the program's result is a failure. An error writing the
    /// result is said on stderr (the parent then reports the run as one
    /// that said nothing).
    pub fn run<F, R, C>(self, program: F, check: C)
    where
        F: Fn() -> R + 'static,
        R: 'static,
        C: Fn(&R) -> Option<String>,
    {
        let result = match (self.trace, self.request) {
            (Ok(trace), Ok(request)) => Ok(InProcess::new(program, check, Plan::of(&trace)).run(&request)),
            (Err(e), _) | (_, Err(e)) => Err(e),
        };
        let text = ChildReport::encode(&result);
        let temporary = self.result.with_extension("partial");
        let written =
            std::fs::write(&temporary, text).and_then(|()| std::fs::rename(&temporary, &self.result));
        if let Err(e) = written {
            eprintln!("reprise: why: cannot write the run's result to {}: {e}", self.result.display());
        }
    }
}

impl RunRequest {
    /// The request as [`WHY_RUN_ENV`] carries it:
    /// `upto=N;steps=N[;hold=T:I,T:I,P]`.
    pub fn encode(&self) -> String {
        let mut text = format!("upto={};steps={}", self.upto, self.max_steps);
        if let Some(h) = self.hold {
            text += &format!(";hold={}:{},{}:{},{}", h.held.0, h.held.1, h.until.0, h.until.1, h.until_at);
        }
        text
    }

    /// Reads what [`RunRequest::encode`] wrote.
    pub fn decode(text: &str) -> Result<RunRequest, String> {
        let bad = || format!("{WHY_RUN_ENV}={text:?} is not a run (upto=N;steps=N[;hold=T:I,T:I,P])");
        let (mut upto, mut max_steps, mut hold) = (None, None, None);
        for field in text.split(';') {
            let (key, value) = field.split_once('=').ok_or_else(bad)?;
            match key {
                "upto" => upto = Some(value.parse().map_err(|_| bad())?),
                "steps" => max_steps = Some(value.parse().map_err(|_| bad())?),
                "hold" => hold = Some(decode_hold(value).ok_or_else(bad)?),
                _ => return Err(bad()),
            }
        }
        Ok(RunRequest { upto: upto.ok_or_else(bad)?, hold, max_steps: max_steps.ok_or_else(bad)? })
    }
}

fn decode_hold(value: &str) -> Option<Hold> {
    let mut parts = value.split(',');
    let at = |s: Option<&str>| -> Option<(u32, u64)> {
        let (t, i) = s?.split_once(':')?;
        Some((t.parse().ok()?, i.parse().ok()?))
    };
    let (held, until) = (at(parts.next())?, at(parts.next())?);
    let until_at = parts.next()?.parse().ok()?;
    parts.next().is_none().then_some(Hold { held, until, until_at })
}

/// What a child wrote: how its run ended (or why it could not make it),
/// and where it ran, so that later runs can start the same executable
/// directly instead of through `cargo test`.
#[derive(Debug)]
pub struct ChildReport {
    /// How the run ended, or what kept the child from making it.
    pub result: Result<RunResult, String>,
    /// The child's executable.
    pub exe: Option<PathBuf>,
    /// Its working directory.
    pub cwd: Option<PathBuf>,
}

impl ChildReport {
    /// The result file's text for `result`, with this process's executable
    /// and directory.
    fn encode(result: &Result<RunResult, String>) -> String {
        let mut lines = vec![RESULT_MAGIC.to_string()];
        if let Ok(exe) = std::env::current_exe() {
            lines.push(format!("exe {}", escape(&exe.to_string_lossy())));
        }
        if let Ok(cwd) = std::env::current_dir() {
            lines.push(format!("cwd {}", escape(&cwd.to_string_lossy())));
        }
        match result {
            Err(e) => lines.push(format!("error {}", escape(e))),
            Ok(RunResult { failure, flipped }) => {
                let missing =
                    flipped.missing_capture.get().map_or("-".to_string(), |(t, i)| format!("{t}:{i}"));
                let flag = |b: bool| if b { "1" } else { "0" };
                lines.push(format!(
                    "flipped {} {} {missing}",
                    flag(flipped.infeasible.get()),
                    flag(flipped.happened.get())
                ));
                lines.push(match failure {
                    None => "failure none".to_string(),
                    Some(FailureKind::Panic { thread, message }) => {
                        format!("failure panic {thread} {}", escape(message))
                    }
                    Some(FailureKind::Deadlock { stuck, partial }) => {
                        let threads: Vec<String> = stuck.iter().map(|s| s.thread.to_string()).collect();
                        format!("failure deadlock {} {}", flag(*partial), threads.join(","))
                    }
                    Some(FailureKind::Livelock { thread, steps, .. }) => {
                        format!("failure livelock {thread} {steps}")
                    }
                    Some(FailureKind::Check { message }) => format!("failure check {}", escape(message)),
                });
            }
        }
        lines.join("\n") + "\n"
    }

    /// Reads a result file's text.
    pub fn decode(text: &str) -> Result<ChildReport, String> {
        let mut lines = text.lines();
        if lines.next() != Some(RESULT_MAGIC) {
            return Err("the result file is not a why run's result".into());
        }
        let bad = |line: &str| format!("the result file has a line it should not: {line:?}");
        let (mut exe, mut cwd, mut flipped, mut failure, mut error) = (None, None, None, None, None);
        for line in lines {
            let (key, rest) = line.split_once(' ').unwrap_or((line, ""));
            match key {
                "exe" => exe = Some(PathBuf::from(unescape(rest))),
                "cwd" => cwd = Some(PathBuf::from(unescape(rest))),
                "error" => error = Some(unescape(rest)),
                "flipped" => flipped = Some(decode_flipped(rest).ok_or_else(|| bad(line))?),
                "failure" => failure = Some(decode_failure(rest).ok_or_else(|| bad(line))?),
                _ => return Err(bad(line)),
            }
        }
        let result = match (error, flipped, failure) {
            (Some(e), _, _) => Err(e),
            (None, Some(flipped), Some(failure)) => Ok(RunResult { failure, flipped }),
            _ => return Err("the result file is cut short".into()),
        };
        Ok(ChildReport { result, exe, cwd })
    }
}

fn decode_flipped(rest: &str) -> Option<Flipped> {
    let mut words = rest.split(' ');
    let flag = |w: Option<&str>| match w? {
        "0" => Some(false),
        "1" => Some(true),
        _ => None,
    };
    let flipped = Flipped::default();
    flipped.infeasible.set(flag(words.next())?);
    flipped.happened.set(flag(words.next())?);
    match words.next()? {
        "-" => {}
        at => {
            let (t, i) = at.split_once(':')?;
            flipped.missing_capture.set(Some((t.parse().ok()?, i.parse().ok()?)));
        }
    }
    words.next().is_none().then_some(flipped)
}

fn decode_failure(rest: &str) -> Option<Option<FailureKind>> {
    let (kind, rest) = rest.split_once(' ').unwrap_or((rest, ""));
    let kind = match kind {
        "none" => return rest.is_empty().then_some(None),
        "panic" => {
            let (thread, message) = rest.split_once(' ')?;
            FailureKind::Panic { thread: thread.parse().ok()?, message: unescape(message) }
        }
        "deadlock" => {
            let (partial, threads) = rest.split_once(' ').unwrap_or((rest, ""));
            let stuck = threads
                .split(',')
                .filter(|t| !t.is_empty())
                .map(|t| Some(Stuck { thread: t.parse().ok()?, call: None, waits_for: None }))
                .collect::<Option<Vec<_>>>()?;
            FailureKind::Deadlock { stuck, partial: partial == "1" }
        }
        "livelock" => {
            let (thread, steps) = rest.split_once(' ')?;
            FailureKind::Livelock { thread: thread.parse().ok()?, call: None, steps: steps.parse().ok()? }
        }
        "check" => FailureKind::Check { message: unescape(rest) },
        _ => return None,
    };
    Some(Some(kind))
}

/// One line of text: backslashes and line breaks escaped.
fn escape(text: &str) -> String {
    text.replace('\\', "\\\\").replace('\n', "\\n").replace('\r', "\\r")
}

fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_comes_back_as_it_was_sent() {
        let hold = Hold { held: (1, 7), until: (2, 3), until_at: 41 };
        for request in [
            RunRequest { upto: 12, hold: None, max_steps: 1_000_000 },
            RunRequest { upto: 0, hold: Some(hold), max_steps: 5 },
        ] {
            assert_eq!(RunRequest::decode(&request.encode()), Ok(request));
        }
        for bad in ["", "upto=1", "upto=x;steps=1", "upto=1;steps=1;hold=1:2", "upto=1;steps=2;more=3"] {
            assert!(RunRequest::decode(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_result_comes_back_as_it_was_written() {
        let flipped = Flipped::default();
        flipped.happened.set(true);
        flipped.missing_capture.set(Some((3, 9)));
        let failures = [
            None,
            Some(FailureKind::Panic { thread: 2, message: "over\\drawn:\n-20".into() }),
            Some(FailureKind::Check { message: "the program exited with code 3".into() }),
            Some(FailureKind::Livelock { thread: 1, call: None, steps: 99 }),
            Some(FailureKind::Deadlock {
                stuck: vec![Stuck { thread: 1, call: None, waits_for: None }],
                partial: true,
            }),
        ];
        for failure in failures {
            let text =
                ChildReport::encode(&Ok(RunResult { failure: failure.clone(), flipped: flipped.clone() }));
            let report = ChildReport::decode(&text).unwrap();
            let back = report.result.unwrap();
            assert_eq!(
                back.failure.as_ref().map(FailureKind::summary),
                failure.as_ref().map(FailureKind::summary)
            );
            assert!(back.flipped.happened.get() && !back.flipped.infeasible.get());
            assert_eq!(back.flipped.missing_capture.get(), Some((3, 9)));
            assert!(report.exe.is_some());
        }
        let error = ChildReport::decode(&ChildReport::encode(&Err("no\ntrace".into()))).unwrap();
        assert_eq!(error.result.unwrap_err(), "no\ntrace");
    }

    #[test]
    fn a_damaged_result_is_an_error_not_a_panic() {
        let good = ChildReport::encode(&Ok(RunResult { failure: None, flipped: Flipped::default() }));
        assert!(ChildReport::decode("").is_err());
        assert!(ChildReport::decode(&good[..good.len() / 2]).is_err());
        for line in ["flipped 2 0 -", "flipped 0 0 x", "failure panic x y", "failure what", "other"] {
            let text = format!("{RESULT_MAGIC}\n{line}\nfailure none\n");
            assert!(ChildReport::decode(&text).is_err(), "{line}");
        }
    }
}

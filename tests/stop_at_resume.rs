//! A paused `reprise replay FILE --stop-at N` takes commands on stdin: a
//! later event moves the stop there, Enter runs on to the end with exactly
//! the result an uninterrupted replay gives, `q` quits (exit 9), and
//! anything else is refused while it stays paused. Driven as a child with
//! piped stdin and stderr, decided from what it prints and how it exits;
//! the time is only a backstop.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::util::{example, scratch, stderr, stdout};

const LOST_UPDATE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/traces/lost-update.trace");

/// How long a line may take on a loaded machine before the test fails
/// rather than hangs.
const BACKSTOP: Duration = Duration::from_secs(120);

/// A running `reprise replay --stop-at`: its stdin, its stderr line by line,
/// its stdout once it ends. Killed when the test ends, however it ends.
struct Session {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
    /// Every stderr line read so far, for failure messages.
    seen: Vec<String>,
    out: Option<JoinHandle<String>>,
}

impl Session {
    fn start(mut command: Command) -> Session {
        let mut child =
            command.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        let stdin = child.stdin.take();
        let err = child.stderr.take().unwrap();
        let (tx, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut out = child.stdout.take().unwrap();
        let out = std::thread::spawn(move || {
            let mut text = String::new();
            let _ = out.read_to_string(&mut text);
            text
        });
        Session { child, stdin, lines, seen: Vec::new(), out: Some(out) }
    }

    /// The next stderr line; panics at the backstop or when stderr ends.
    fn line(&mut self) -> String {
        match self.lines.recv_timeout(BACKSTOP) {
            Ok(line) => {
                self.seen.push(line.clone());
                line
            }
            Err(e) => panic!("no more stderr ({e}); so far: {:#?}", self.seen),
        }
    }

    /// The lines of the next pause announcement, from its "stopped at" line
    /// to its "attach with" line.
    fn announcement(&mut self) -> Vec<String> {
        let mut lines = Vec::new();
        loop {
            let line = self.line();
            if line.contains("stopped at event") {
                lines.clear();
            }
            let done = line.contains("attach with");
            lines.push(line);
            if done {
                return lines;
            }
        }
    }

    /// The next stderr line containing `what`.
    fn until(&mut self, what: &str) -> String {
        loop {
            let line = self.line();
            assert!(!line.contains("stopped at event"), "paused again instead of `{what}`: {:#?}", self.seen);
            if line.contains(what) {
                return line;
            }
        }
    }

    fn send(&mut self, text: &str) {
        let stdin = self.stdin.as_mut().unwrap();
        stdin.write_all(text.as_bytes()).unwrap();
        stdin.flush().unwrap();
    }

    /// Waits for the end (closing stdin): exit code, stdout, the rest of stderr.
    fn finish(mut self) -> (Option<i32>, String, Vec<String>) {
        drop(self.stdin.take());
        let mut rest = Vec::new();
        while let Ok(line) = self.lines.recv_timeout(BACKSTOP) {
            rest.push(line);
        }
        let status = self.child.wait().unwrap();
        let out = self.out.take().unwrap().join().unwrap();
        (status.code(), out, rest)
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The event numbers an announcement says threads paused before.
fn paused_before(lines: &[String]) -> Vec<u64> {
    lines
        .iter()
        .filter_map(|l| l.split("paused before #").nth(1))
        .map(|rest| rest.split(',').next().unwrap().parse().unwrap())
        .collect()
}

/// An announcement's per-thread lines (without the pid).
fn thread_lines(lines: &[String]) -> Vec<String> {
    lines.iter().filter(|l| l.contains("paused before")).cloned().collect()
}

/// `reprise replay ARGS` with `--stop-at EVENT` put in after the trace.
fn replay(trace: &Path, stop: Option<u64>, command: &[PathBuf]) -> Command {
    let mut replay = Command::new(env!("CARGO_BIN_EXE_reprise"));
    replay.arg("replay").arg(trace);
    if let Some(event) = stop {
        replay.args(["--stop-at", &event.to_string()]);
    }
    if !command.is_empty() {
        replay.arg("--").args(command);
    }
    replay
}

/// The pause of a replay stopped at `event` straight away, stdin at EOF.
fn direct_pause(trace: &Path, event: u64, command: &[PathBuf]) -> Vec<String> {
    let mut session = Session::start(replay(trace, Some(event), command));
    // Closed: the pause reads EOF and takes no command.
    session.stdin = None;
    session.announcement()
}

/// Pauses at `first`, moves to `second`, then runs on to the end: each
/// pause is the one a replay stopped there straight away gives, and the end
/// is an uninterrupted replay's (exit code, stdout, last stderr line).
fn moves_then_runs_on(trace: &Path, first: u64, second: u64, command: &[PathBuf]) {
    let plain = replay(trace, None, command).stdin(Stdio::null()).output().unwrap();
    let mut session = Session::start(replay(trace, Some(first), command));
    let one = session.announcement();
    assert!(one[0].contains(&format!("stopped at event {first}:")), "{one:#?}");
    assert!(one.last().unwrap().contains("type Enter or `c`"), "the commands are announced: {one:#?}");
    assert!(paused_before(&one).iter().all(|&n| n > first), "{one:#?}");

    session.send(&format!("{second}\n"));
    let two = session.announcement();
    assert!(two[0].contains(&format!("stopped at event {second}:")), "{two:#?}");
    let before = paused_before(&two);
    assert!(!before.is_empty(), "{two:#?}");
    assert!(before.iter().all(|&n| n > second), "a thread passed event {second}: {two:#?}");
    assert_eq!(
        thread_lines(&two),
        thread_lines(&direct_pause(trace, second, command)),
        "the moved stop is not where `--stop-at {second}` stops"
    );

    session.send("\n");
    let (code, out, rest) = session.finish();
    assert_eq!(code, plain.status.code(), "{rest:#?}\nuninterrupted: {}", stderr(&plain));
    assert_eq!(out, stdout(&plain), "the resumed replay's report differs");
    // What the resumed replay said after it was told to run on is what an
    // uninterrupted one says.
    let after: Vec<&str> =
        rest.iter().map(String::as_str).filter(|l| !l.starts_with("reprise: running on")).collect();
    assert_eq!(after, stderr(&plain).lines().collect::<Vec<_>>(), "the resumed replay's stderr differs");
}

#[test]
fn a_paused_pipeline_moves_its_stop_then_runs_on_to_an_uninterrupted_replays_end() {
    moves_then_runs_on(Path::new(LOST_UPDATE), 500, 700, &[]);
}

/// Records `examples/transfer.rs` into a scratch folder `dir`: the trace
/// and the command that replays it.
fn transfer(dir: &str) -> (PathBuf, Vec<PathBuf>) {
    let trace = scratch(dir).join("transfer.trace");
    let example = example("transfer");
    let recorded = Command::new(&example).arg("5").env("REPRISE_RECORD", &trace).output().unwrap();
    assert!(recorded.status.success(), "{}", stderr(&recorded));
    (trace, vec![example, PathBuf::from("5")])
}

#[test]
fn a_paused_program_moves_its_stop_then_runs_on_to_an_uninterrupted_replays_end() {
    let (trace, command) = transfer("resume-program");
    moves_then_runs_on(&trace, 10, 20, &command);
}

/// Sends `line` and checks the pause refuses it with `why`, saying it is
/// still paused at `event`.
fn refused(session: &mut Session, line: &str, why: &str, event: u64) {
    session.send(&format!("{line}\n"));
    let answer = session.until("still paused");
    assert!(answer.contains(why), "`{line}`: {answer}");
    assert!(answer.contains(&format!("still paused at event {event}")), "`{line}`: {answer}");
}

/// Refuses a bad line, a stop not after the current one and one past the
/// trace's end, staying paused; then quits with exit 9.
fn refuses_then_quits(trace: &Path, event: u64, command: &[PathBuf]) {
    let mut session = Session::start(replay(trace, Some(event), command));
    session.announcement();
    refused(&mut session, "next please", "is not a command", event);
    refused(&mut session, &event.to_string(), "is not after the current stop", event);
    refused(&mut session, &(event - 1).to_string(), "is not after the current stop", event);
    refused(&mut session, "99999999", "would never come", event);
    session.send("q\n");
    let (code, _, rest) = session.finish();
    assert_eq!(code, Some(9), "{rest:#?}");
    assert!(rest.iter().any(|l| l.contains(&format!("quit while paused at event {event}"))), "{rest:#?}");
    assert!(!rest.iter().any(|l| l.contains("stopped at event")), "it ran on: {rest:#?}");
}

#[test]
fn a_paused_pipeline_refuses_what_it_cannot_do_and_quits() {
    refuses_then_quits(Path::new(LOST_UPDATE), 500, &[]);
}

#[test]
fn a_paused_program_refuses_what_it_cannot_do_and_quits() {
    let (trace, command) = transfer("resume-program-quit");
    refuses_then_quits(&trace, 10, &command);
}

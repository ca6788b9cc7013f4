//! `reprise replay FILE --stop-at EVENT`: the replayed program pauses with
//! every thread before its first event numbered above EVENT, prints its pid
//! once all have stopped or finished, and stays paused (decided from the
//! process's state, not from how long it took).

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use crate::util::{example, reprise, scratch, stderr, wait_bounded};

const LOST_UPDATE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/traces/lost-update.trace");

/// A child killed when the test ends, however it ends.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `command`, reads its stderr up to the pause announcement, and
/// returns the child, the announced pid and the announcement's lines.
fn paused(mut command: Command) -> (Killed, u32, Vec<String>) {
    // Stdin at EOF: the pause takes no command and stays as it is until
    // killed (`tests/stop_at_resume.rs` sends it commands).
    let mut child =
        Killed(command.stdin(Stdio::null()).stderr(Stdio::piped()).stdout(Stdio::null()).spawn().unwrap());
    let mut lines = Vec::new();
    let reader = BufReader::new(child.0.stderr.take().unwrap());
    for line in reader.lines() {
        let line = line.unwrap();
        let done = line.contains("attach with");
        lines.push(line);
        if done {
            break;
        }
    }
    let announced =
        lines.iter().find_map(|l| l.split("; pid ").nth(1)).unwrap_or_else(|| panic!("no pid: {lines:#?}"));
    let pid = announced.trim().parse().unwrap();
    (child, pid, lines)
}

/// The state letter of each thread of `pid`, by thread name (`/proc`).
fn thread_states(pid: u32) -> Vec<(String, char)> {
    let tasks = PathBuf::from(format!("/proc/{pid}/task"));
    let mut states = Vec::new();
    for task in std::fs::read_dir(tasks).unwrap() {
        // A thread that exited since the listing (the stdin reader at EOF,
        // a finished helper) is gone: it is not one that pauses.
        let Ok(stat) = std::fs::read_to_string(task.unwrap().path().join("stat")) else { continue };
        let open = stat.find('(').unwrap();
        let close = stat.rfind(')').unwrap();
        let state = stat[close + 2..].chars().next().unwrap();
        states.push((stat[open + 1..close].to_string(), state));
    }
    states
}

/// The event numbers the announcement says threads paused before.
fn paused_before(lines: &[String]) -> Vec<u64> {
    lines
        .iter()
        .filter_map(|l| l.split("paused before #").nth(1))
        .map(|rest| rest.split(',').next().unwrap().parse().unwrap())
        .collect()
}

#[test]
fn a_replayed_pipeline_pauses_after_the_event_and_prints_its_pid() {
    let mut command = Command::new(env!("CARGO_BIN_EXE_reprise"));
    command.args(["replay", LOST_UPDATE, "--stop-at", "500"]);
    let (child, pid, lines) = paused(command);
    assert_eq!(pid, child.0.id(), "the built-in pipeline pauses in the reprise process itself");
    assert!(lines[0].contains("stopped at event 500: 4 threads paused, 2 finished"), "{lines:#?}");
    let before = paused_before(&lines);
    assert_eq!(before.len(), 4, "{lines:#?}");
    assert!(before.iter().all(|&n| n > 500), "a thread passed event 500: {lines:#?}");
    // Each paused thread goes to sleep (state S) and stays there. The last
    // one to pause prints the announcement just before it parks, so on a
    // loaded machine it may still be running when it is first looked at:
    // look again, up to a long backstop.
    let paused = ["ledger-0", "ledger-1", "reconciler", "main"];
    let asleep = |states: &[(String, char)]| {
        paused.iter().all(|name| states.iter().any(|(n, state)| n == name && *state == 'S'))
    };
    let mut states = thread_states(pid);
    for _ in 0..400 {
        if asleep(&states) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(25));
        states = thread_states(pid);
    }
    assert!(asleep(&states), "not every paused thread is asleep: {states:?}");
    // Still asleep a moment later: paused, not passing by.
    std::thread::sleep(std::time::Duration::from_millis(100));
    let later = thread_states(pid);
    assert!(asleep(&later), "a paused thread woke up: {later:?}");
    assert!(!states.iter().any(|(n, _)| n == "ingest"), "ingest finished before event 500: {states:?}");
}

/// Records `examples/transfer.rs` into a scratch folder `dir`, then runs
/// `reprise replay TRACE --stop-at 10 -- transfer 5` up to its pause.
fn paused_program(dir: &str) -> (Killed, u32, Vec<String>) {
    let trace = scratch(dir).join("transfer.trace");
    let example = example("transfer");
    let recorded = Command::new(&example).arg("5").env("REPRISE_RECORD", &trace).output().unwrap();
    assert!(recorded.status.success(), "{}", stderr(&recorded));
    let mut command = Command::new(env!("CARGO_BIN_EXE_reprise"));
    command.arg("replay").arg(&trace).args(["--stop-at", "10", "--"]).arg(&example).arg("5");
    paused(command)
}

#[test]
fn an_instrumented_program_pauses_in_its_own_process() {
    let (child, pid, lines) = paused_program("stop-at-program");
    assert_ne!(pid, child.0.id(), "the program, not the CLI, pauses");
    assert!(Path::new(&format!("/proc/{pid}")).exists());
    assert!(paused_before(&lines).iter().all(|&n| n > 10), "{lines:#?}");
    let _ = Command::new("kill").arg(pid.to_string()).status();
}

/// Whether `pid` has ended (gone, or a zombie nobody reaped yet).
fn ended(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat.rfind(')').and_then(|close| stat[close + 2..].chars().next()) == Some('Z'),
    }
}

#[test]
fn a_paused_program_ends_with_the_reprise_that_ran_it() {
    let (mut child, pid, _) = paused_program("stop-at-orphan");
    assert!(!ended(pid), "the program paused");
    // What a CI timeout or `kill -9` does to the CLI: the program it
    // paused must not stay behind, paused for good. Decided from the
    // process's state; the time is only a backstop.
    child.0.kill().unwrap();
    child.0.wait().unwrap();
    let mut gone = ended(pid);
    for _ in 0..1200 {
        if gone {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(25));
        gone = ended(pid);
    }
    if !gone {
        let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
    }
    assert!(gone, "the paused program {pid} outlived the killed reprise");
}

/// Waits, up to util's backstop, until `pid` has ended; kills it if not.
fn ends(pid: u32) -> bool {
    let started = std::time::Instant::now();
    while !ended(pid) {
        if started.elapsed() > crate::util::CHILD_BACKSTOP {
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
            return false;
        }
        std::thread::sleep(std::time::Duration::from_millis(25));
    }
    true
}

/// The children of process `parent` (`/proc`).
fn children(parent: u32) -> Vec<u32> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else { continue };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else { continue };
        let Some(close) = stat.rfind(')') else { continue };
        let ppid = stat[close + 2..].split(' ').nth(1).and_then(|p| p.parse::<u32>().ok());
        if ppid == Some(parent) {
            found.push(pid);
        }
    }
    found
}

/// A replay that never reaches its pause (`examples/outside_wait.rs`: the
/// root pauses before it sets the flag a worker spins on outside reprise)
/// ends with the `reprise` that ran it too. The program was set to end
/// with its parent only once paused: one killed here stayed, spinning.
#[test]
fn a_replay_that_never_pauses_ends_with_the_reprise_that_ran_it() {
    let program = example("outside_wait");
    let trace = scratch("stop-at-never-pauses").join("w.trace");
    let recorded =
        Command::new(&program).env("REPRISE_RECORD", &trace).env_remove("REPRISE_REPLAY").output().unwrap();
    assert!(recorded.status.success(), "{}", stderr(&recorded));
    let mut command = Command::new(env!("CARGO_BIN_EXE_reprise"));
    command.arg("replay").arg(&trace).args(["--stop-at", "7", "--"]).arg(&program);
    let mut cli =
        Killed(command.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap());
    let started = std::time::Instant::now();
    let pid = loop {
        if let Some(&pid) = children(cli.0.id()).first() {
            break pid;
        }
        assert!(started.elapsed() < crate::util::CHILD_BACKSTOP, "the program never started");
        assert!(cli.0.try_wait().unwrap().is_none(), "reprise ended before its program started");
        std::thread::sleep(std::time::Duration::from_millis(5));
    };
    cli.0.kill().unwrap();
    cli.0.wait().unwrap();
    assert!(ends(pid), "the replayed program {pid} outlived the killed reprise");
}

#[test]
fn an_event_the_run_never_reaches_is_refused() {
    let events = reprise::read_trace_file(Path::new(LOST_UPDATE)).unwrap().events;
    let out = reprise(&["replay", LOST_UPDATE, "--stop-at", &events.to_string()]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains(&format!("the trace has {events} events")), "{}", stderr(&out));
    let out = reprise(&["replay", LOST_UPDATE, "--stop-at", "10", "--coroutines"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}

/// `examples/twelfth_desk.rs storm` alternates batches of joined and scoped
/// threads. A scope's end joins its threads without a `join` call of the
/// program's; the trace records those joins, so the numbering puts the
/// scoped threads' events before the root's next spawn, and a stop just
/// after that spawn pauses. Before the joins were recorded the numbering
/// put the spawn first, and the pause waited, silent and for good, for a
/// thread the root could not spawn yet.
#[test]
fn a_stop_just_after_a_scope_pauses() {
    let trace = scratch("stop-at-scope").join("storm.trace");
    let recorded = Command::new(example("twelfth_desk"))
        .args(["storm", "4"])
        .env_remove("REPRISE_FLIGHT")
        .env("REPRISE_RECORD", &trace)
        .output()
        .unwrap();
    assert!(recorded.status.success(), "{}", stderr(&recorded));
    let exported = reprise(&["export", trace.to_str().unwrap(), "--format", "jsonl"]);
    let events: Vec<serde_json::Value> =
        String::from_utf8_lossy(&exported.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let root_spawn_at = |e: &serde_json::Value, line: &str| {
        e["thread"] == 0 && e["op"] == "spawn" && e["site"].as_str().unwrap().contains(line)
    };
    let first_scoped = events.iter().position(|e| root_spawn_at(e, "twelfth_desk.rs:78:")).unwrap();
    let scoped: Vec<u64> = events[first_scoped..]
        .iter()
        .take_while(|e| root_spawn_at(e, "twelfth_desk.rs:78:"))
        .map(|e| e["fields"][0].as_u64().unwrap())
        .collect();
    assert_eq!(scoped.len(), 4, "the first scope's four threads");
    let next_spawn = events[first_scoped..].iter().find(|e| root_spawn_at(e, "twelfth_desk.rs:61:")).unwrap();
    let next_spawn = next_spawn["event"].as_u64().unwrap();
    let last_scoped_event = events
        .iter()
        .filter(|e| scoped.contains(&e["thread"].as_u64().unwrap()))
        .map(|e| e["event"].as_u64().unwrap())
        .max()
        .unwrap();
    assert!(last_scoped_event < next_spawn, "scoped threads' events (to #{last_scoped_event}) come before the root's spawn #{next_spawn} after the scope");

    pauses_and_quits(&trace, next_spawn + 1, &example("twelfth_desk"), &["storm", "4"]);
}

/// `reprise replay TRACE --stop-at STOP -- PROGRAM ARGS` pauses at `STOP`
/// and quits on `q` (exit 9); a replay that never pauses fails at
/// util's backstop.
fn pauses_and_quits(trace: &Path, stop: u64, program: &Path, args: &[&str]) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_reprise"));
    command.arg("replay").arg(trace).args(["--stop-at", &stop.to_string(), "--"]).arg(program).args(args);
    let mut child =
        Killed(command.stdin(Stdio::piped()).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap());
    // Quit once paused (stdin is read only after the pause is announced).
    child.0.stdin.take().unwrap().write_all(b"q\n").unwrap();
    let status = wait_bounded(&mut child.0);
    let mut err = String::new();
    let _ = child.0.stderr.take().unwrap().read_to_string(&mut err);
    assert!(err.contains(&format!("stopped at event {stop}")), "{err}");
    assert_eq!(status.code(), Some(9), "quit while paused at {stop}: {err}");
}

/// Two scoped threads nobody joins (`examples/thirteenth_scopes.rs two`):
/// the scope's end joins each, and a join's one edge is from its own
/// thread's exit, so the numbering may put the end's join of the first
/// before the second's last locks. A replay that waited for every scoped
/// thread before its first join could not reach a stop there: it waited,
/// silent and for good (found by the thirteenth hunt). The replay now makes
/// each join the trace holds as soon as its thread has ended.
#[test]
fn a_stop_between_a_scope_ends_joins_pauses() {
    let program = example("thirteenth_scopes");
    let dir = scratch("stop-at-scope-joins");
    // A recording whose numbering puts a lock of the second thread after
    // the end's first join (it depends on the recorded interleaving).
    let found = (0..40).find_map(|i| {
        let trace = dir.join(format!("two{i}.trace"));
        let recorded = Command::new(&program)
            .arg("two")
            .env("REPRISE_RECORD", &trace)
            .env_remove("REPRISE_REPLAY")
            .output()
            .unwrap();
        assert!(recorded.status.success(), "{}", stderr(&recorded));
        let exported = reprise(&["export", trace.to_str().unwrap(), "--format", "jsonl"]);
        let events: Vec<serde_json::Value> = String::from_utf8_lossy(&exported.stdout)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let first_join = events.iter().find(|e| e["thread"] == 0 && e["op"] == "join")?;
        let stop = first_join["event"].as_u64().unwrap();
        let later = events
            .iter()
            .any(|e| e["event"].as_u64().unwrap() > stop && e["thread"] != 0 && e["op"] == "lock");
        later.then_some((trace, stop))
    });
    let (trace, stop) =
        found.expect("in 40 recordings, one whose second thread locks after the end's first join");
    pauses_and_quits(&trace, stop, &program, &["two"]);
}

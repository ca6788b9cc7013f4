//! What a developer debugging a replay runs into: gdb holding threads,
//! `kill -STOP`, sessions longer than the stall backstop. Each test failed
//! before its fix; none is decided by how long something took (the waits
//! below only set a scene, and their bounds are generous backstops).

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use reprise::sync::Mutex;
use reprise::thread;

use crate::util::{scratch, stderr, stdout};

/// Environment variable that turns [`held_program`] into a program: the
/// FIFO its worker opens between two reprise calls.
const HELD_FIFO: &str = "DEBUGGER_HUNT_FIFO";

/// gdb's batch mode, or `None` (with a message) where gdb is not installed.
fn gdb() -> Option<Command> {
    match Command::new("gdb").arg("--version").output() {
        Ok(out) if out.status.success() => {
            let mut gdb = Command::new("gdb");
            gdb.args(["-nx", "-q", "-batch", "-ex", "set pagination off", "-ex", "set confirm off"]);
            Some(gdb)
        }
        _ => {
            eprintln!("skipped: gdb is not installed");
            None
        }
    }
}

/// Whether gdb's output says this machine refuses ptrace (a container
/// without CAP_SYS_PTRACE, a seccomp filter): the test cannot run here.
fn ptrace_refused(gdb_output: &str) -> bool {
    ["ptrace: Operation not permitted", "Could not attach", "Couldn't get registers", "not permitted"]
        .iter()
        .any(|s| gdb_output.contains(s))
}

/// The line of `src/pipelines/payments/body.rs` that holds `text`, as gdb's
/// `file:line`: found, not written down, so the test follows edits.
fn payments_line(text: &str) -> String {
    let file = "src/pipelines/payments/body.rs";
    let source = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(file)).unwrap();
    let line =
        source.lines().position(|l| l.trim() == text).unwrap_or_else(|| panic!("{text:?} not in {file}"));
    format!("{file}:{}", line + 1)
}

fn digest(text: &str) -> Option<&str> {
    text.lines().find_map(|l| l.strip_prefix("digest: "))
}

/// gdb's non-stop mode holds the thread at a breakpoint and lets the others
/// run: the replay's watchdog ran on, saw no event for the backstop's
/// length, and stopped a healthy replay with exit 4 "stall (backstop)"
/// while the developer was still looking at the thread. The backstop now
/// holds while a debugger is attached.
#[test]
fn a_thread_held_at_a_breakpoint_past_the_backstop_is_not_a_stall() {
    let Some(mut gdb) = gdb() else { return };
    let dir = scratch("debugger-hunt-nonstop");
    let trace = dir.join("t.trace");
    let recorded = Command::new(env!("CARGO_BIN_EXE_reprise"))
        .args(["record", "--pipeline", "payments", "--payments", "60", "--out"])
        .arg(&trace)
        .output()
        .unwrap();
    assert!(recorded.status.success(), "{}", stderr(&recorded));
    let recorded_digest = stdout(&recorded);
    let breakpoint = payments_line("source.set(before - amount);");
    // The replay's stdout goes to a file of its own: sharing gdb's, its
    // lines were cut by gdb's asynchronous "[Thread ... exited]" notices
    // (seen: "[digest: …" with the notice's end on the next line).
    let replay_stdout = dir.join("replay.out");
    // `run` with a redirection takes its arguments too: they replace --args.
    let run = format!("run replay '{}' > '{}'", trace.display(), replay_stdout.display());
    // Held for twice the backstop: the watchdog, running, sees no event.
    let out = gdb
        .args(["-ex", "set non-stop on", "-ex", "set print thread-events off"])
        .args(["-ex", &format!("break {breakpoint}"), "-ex", &run])
        .args(["-ex", "shell sleep 2", "-ex", "delete", "-ex", "continue -a"])
        .arg(env!("CARGO_BIN_EXE_reprise"))
        .env("REPRISE_STALL_BACKSTOP", "1")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let text = format!("{}{}", stdout(&out), stderr(&out));
    if !text.contains("hit Breakpoint 1") {
        assert!(ptrace_refused(&text), "gdb never stopped at {breakpoint}:\n{text}");
        eprintln!("skipped: ptrace is refused here:\n{text}");
        return;
    }
    assert!(!text.contains("backstop"), "{text}");
    assert!(text.contains("exited normally"), "the replay did not exit 0:\n{text}");
    let replayed = std::fs::read_to_string(&replay_stdout).unwrap();
    assert_eq!(digest(&replayed), digest(&recorded_digest), "{replayed}\n{text}");
    assert!(digest(&replayed).is_some(), "{replayed}");
}

/// The program of [`a_stopped_process_past_the_backstop_is_not_a_stall`]
/// when [`HELD_FIFO`] is set, run by re-running this test binary: a worker
/// takes a lock, says `ready <pid>`, opens the FIFO (a blocking call reprise
/// does not see, so the test decides when it returns) and takes the lock
/// again. Without the variable it is a test that passes.
#[test]
fn held_program() {
    let Some(fifo) = std::env::var_os(HELD_FIFO) else { return };
    reprise::main("debugger-hunt-held", "1", move || {
        let lock = std::sync::Arc::new(Mutex::new(0u32));
        let worker = {
            let lock = std::sync::Arc::clone(&lock);
            thread::Builder::new()
                .name("held".into())
                .spawn(move || {
                    *lock.lock().unwrap() += 1;
                    println!("ready {}", std::process::id());
                    std::io::stdout().flush().unwrap();
                    let mut line = String::new();
                    BufReader::new(std::fs::File::open(&fifo).unwrap()).read_line(&mut line).unwrap();
                    *lock.lock().unwrap() += 1;
                })
                .unwrap()
        };
        worker.join().unwrap();
        let total = *lock.lock().unwrap();
        reprise::annotate("total", total.to_string());
    })
}

/// [`held_program`] run by `command`, its FIFO at `fifo`.
fn held(mut command: Command, fifo: &Path) -> std::process::Child {
    command
        .arg("debugger_hunt::held_program")
        .args(["--exact", "--nocapture", "--test-threads", "1"])
        .env(HELD_FIFO, fifo)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Reads lines of `child`'s stdout up to `ready <pid>`; the pid.
fn ready(child: &mut std::process::Child) -> (u32, BufReader<std::process::ChildStdout>) {
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    loop {
        line.clear();
        assert!(out.read_line(&mut line).unwrap() > 0, "the program ended before it was ready");
        // libtest's "test … " may begin the line.
        if let Some((_, pid)) = line.trim().split_once("ready ") {
            return (pid.parse().unwrap(), out);
        }
    }
}

/// Lets the worker of process `pid` past its FIFO: waits for it to open the
/// FIFO (it says `ready` just before), unless the process ended.
fn release(fifo: &Path, pid: u32) {
    use std::os::unix::fs::OpenOptionsExt;
    loop {
        // Non-blocking: with no reader yet it fails at once, and the
        // process's end is noticed instead of waited on forever.
        match std::fs::OpenOptions::new().write(true).custom_flags(libc::O_NONBLOCK).open(fifo) {
            Ok(mut writer) => {
                writer.write_all(b"go\n").unwrap();
                return;
            }
            Err(e) if e.raw_os_error() == Some(libc::ENXIO) => {
                if !Path::new(&format!("/proc/{pid}")).exists() || zombie(pid) {
                    return;
                }
                std::thread::sleep(Duration::from_millis(2));
            }
            Err(e) => panic!("cannot open {} to write: {e}", fifo.display()),
        }
    }
}

/// Whether `pid` ended and waits for its parent to collect its status.
fn zombie(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map_or(true, |stat| stat.rsplit(')').next().is_some_and(|rest| rest.trim_start().starts_with('Z')))
}

fn mkfifo(path: &Path) {
    let status = Command::new("mkfifo").arg(path).status().unwrap();
    assert!(status.success(), "mkfifo {} failed", path.display());
}

/// The watchdog thread of process `pid`: its count of sleeps (voluntary
/// context switches), `None` once the process is gone.
fn watchdog_sleeps(pid: u32) -> Option<u64> {
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).ok()?;
    for task in tasks.flatten() {
        let comm = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
        if comm.trim() == "reprise-watchdo" {
            let status = std::fs::read_to_string(task.path().join("status")).ok()?;
            return status
                .lines()
                .find_map(|l| l.strip_prefix("voluntary_ctxt_switches:"))
                .and_then(|n| n.trim().parse().ok());
        }
    }
    None
}

/// Waits until the watchdog of process `pid` slept three more times: it
/// went round its loop at least once since the call. Returns at once when
/// the process is gone or has no watchdog.
fn watchdog_goes_round(pid: u32) {
    let Some(before) = watchdog_sleeps(pid) else { return };
    let backstop = Instant::now() + Duration::from_secs(60);
    while watchdog_sleeps(pid).is_some_and(|now| now < before + 3) {
        assert!(Instant::now() < backstop, "the watchdog of {pid} did not go round in 60 s");
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn signal(pid: u32, name: &str) {
    let status = Command::new("kill").args([&format!("-{name}"), &pid.to_string()]).status().unwrap();
    assert!(status.success(), "kill -{name} {pid} failed");
}

/// `kill -STOP` (or gdb's all-stop mode, which stops every thread the same
/// way) held the replay longer than the backstop; the watchdog, stopped
/// too, woke on `kill -CONT`, counted the stop as time without an event and
/// ended the replay with exit 4 before the program could go on. Only time
/// in which the process ran counts now.
///
/// Decided by state: the worker is let past its blocking call only after
/// the watchdog has gone round its loop after the `CONT`.
#[test]
fn a_stopped_process_past_the_backstop_is_not_a_stall() {
    if !Path::new("/proc/self/task").exists() {
        eprintln!("skipped: needs /proc to find the watchdog thread");
        return;
    }
    let dir = scratch("debugger-hunt-sigstop");
    let (fifo, trace) = (dir.join("fifo"), dir.join("held.trace"));
    mkfifo(&fifo);
    let me = std::env::current_exe().unwrap();

    let mut record = Command::new(&me);
    record.env("REPRISE_RECORD", &trace).env_remove("REPRISE_REPLAY");
    let mut recording = held(record, &fifo);
    let _ = ready(&mut recording);
    release(&fifo, recording.id());
    let recorded = recording.wait_with_output().unwrap();
    assert!(recorded.status.success(), "{}", stderr(&recorded));

    let mut replay = Command::new(env!("CARGO_BIN_EXE_reprise"));
    replay.arg("replay").arg(&trace).arg("--").arg(&me);
    replay.env("REPRISE_STALL_BACKSTOP", "2").env_remove("REPRISE_RECORD");
    let mut replaying = held(replay, &fifo);
    let (pid, _stdout) = ready(&mut replaying);
    // The watchdog must have seen the worker's last event before the stop,
    // or it takes that event for progress made after the CONT.
    watchdog_goes_round(pid);
    signal(pid, "STOP");
    std::thread::sleep(Duration::from_secs(3));
    signal(pid, "CONT");
    // It looks at the clock, after the CONT, before the worker can go on.
    watchdog_goes_round(pid);
    release(&fifo, pid);
    let out = replaying.wait_with_output().unwrap();
    let text = stderr(&out);
    assert!(!text.contains("backstop"), "{text}");
    assert_eq!(out.status.code(), Some(0), "{text}");
}

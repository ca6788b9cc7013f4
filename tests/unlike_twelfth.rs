//! A twelfth hunt, along the less-travelled paths: whole programs run
//! through `reprise::main` (`examples/twelfth_desk.rs`), under
//! `REPRISE_FLIGHT` or `REPRISE_RECORD`, then looked at with every offline
//! tool and replayed with `reprise replay FILE -- CMD`, as a responder to an
//! incident would.
//!
//! - flight.rs: a storm of short-lived threads (spawned and joined, scoped)
//!   under a flight recorder whose rings wrap, a dump asked for by the API
//!   halfway, and a panic in a non-root thread the root propagates: every
//!   dump verifies, inspects, exports, draws and steps; replay refuses the
//!   wrapped one (exit 11), replays the mid-run one to its end (exit 5) and
//!   a whole-run one to the same panic, both ways (exit 0);
//! - killed.rs: a recording of a rendezvous channel, an RwLock and a
//!   condvar killed with SIGKILL: `verify` says where it stops being whole
//!   (exit 6), `inspect` and `export` read it, and both replays of the CLI
//!   replay the same consistent prefix (exit 5); the same program under
//!   the flight recorder, dumped by SIGUSR1 then SIGTERM;
//! - views.rs: a lost update on a `reprise::Tracked` stock count, read by
//!   `races`, `why -- CMD`, `diff` and `replay -- CMD`, which must agree
//!   with each other and with `export`; a scripted `debug` session over a
//!   trace of 52 threads whose every position names the event `export`
//!   numbers so;
//! - inputs.rs: the clock, random numbers, an environment variable, a
//!   file and a sealed secret, replayed after the file is gone and the
//!   variable changed, with the key, without it and with a wrong one.
//!
//! Found, and fixed since (each with a test of its own): `why` called a
//! run that ended by `std::process::exit(3)`, SIGTERM or a mid-run dump
//! "completed with ... exit code 0" (tests/why_unfinished.rs); `diff`
//! lined a flight window's first kept event up with the other trace's
//! first event ("its event 0"; tests/diff_window.rs); a keyless coroutine
//! replay warned as a recording does ("sensitive captures are recorded
//! redacted") and std printed its stop as a panic (tests/sensitive.rs);
//! `diff` called a tracked cell's accesses "store"s
//! (tests/diff_tracked.rs).
//!
//! `replay --stop-at N -- CMD` hung silently when N fell after a
//! `thread::scope` ended and before its scoped threads' events (the trace
//! had no event for the scope's joins, so the numbering put the root's
//! later spawns first): fixed, the joins are recorded (tests/stop_at.rs).
//! A mid-run flight dump could hold a rendezvous receive without its send
//! (3-4 of 12 dumps), so its replay cut events the dump held: fixed
//! (tests/flight_rendezvous.rs), and killed.rs now asks the SIGUSR1 dump
//! to replay every event it holds.

mod flight;
mod inputs;
mod killed;
mod views;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

use crate::util::{example, reprise_on, stderr, stdout};

pub(crate) const KEY: &str = "abababababababababababababababababababababababababababababababab";

/// The program.
pub(crate) fn desk() -> PathBuf {
    example("twelfth_desk")
}

/// `twelfth_desk ARGS` with `var=value` (`REPRISE_FLIGHT`, `REPRISE_RECORD`),
/// no inherited reprise variables and no backtraces.
pub(crate) fn run(var: &str, value: &str, args: &[&str], envs: &[(&str, &str)]) -> Output {
    plain(desk()).args(args).env(var, value).envs(envs.iter().copied()).output().unwrap()
}

/// A command without the reprise variables this process may have.
pub(crate) fn plain(program: impl AsRef<std::ffi::OsStr>) -> Command {
    let mut cmd = Command::new(program);
    for var in ["REPRISE_RECORD", "REPRISE_REPLAY", "REPRISE_FLIGHT", "REPRISE_KEY", "REPRISE_PROGRESS"] {
        cmd.env_remove(var);
    }
    cmd.env("RUST_BACKTRACE", "0");
    cmd
}

/// `reprise replay [--coroutines] TRACE -- twelfth_desk ARGS`.
pub(crate) fn replay(trace: &Path, coroutines: bool, args: &[&str], envs: &[(&str, &str)]) -> Output {
    let mut cmd = plain(env!("CARGO_BIN_EXE_reprise"));
    cmd.arg("replay");
    if coroutines {
        cmd.arg("--coroutines");
    }
    cmd.arg(trace).arg("--").arg(desk()).args(args).envs(envs.iter().copied()).output().unwrap()
}

/// `reprise verify`: (exit code, chunks and events of its `intact:` line).
pub(crate) fn verify(trace: &Path) -> (Option<i32>, u64, u64, String) {
    let out = reprise_on(&["verify"], trace);
    let said = format!("{}{}", stdout(&out), stderr(&out));
    let line = said.lines().find(|l| l.starts_with("intact: ")).unwrap_or_else(|| panic!("verify: {said}"));
    let numbers: Vec<u64> = line.split(' ').filter_map(|w| w.parse().ok()).collect();
    (out.status.code(), numbers[0], numbers[1], said)
}

/// `reprise inspect`'s output, which must succeed.
pub(crate) fn inspect(trace: &Path) -> String {
    let out = reprise_on(&["inspect"], trace);
    assert_eq!(out.status.code(), Some(0), "inspect: {}", stderr(&out));
    stdout(&out)
}

/// `reprise export --format jsonl`, parsed; numbered 1, 2, ... in order.
pub(crate) fn export(trace: &Path) -> Vec<Value> {
    let out = reprise_on(&["export", "--format", "jsonl"], trace);
    assert_eq!(out.status.code(), Some(0), "export: {}", stderr(&out));
    let events: Vec<Value> = stdout(&out).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    for (i, e) in events.iter().enumerate() {
        assert_eq!(e["event"].as_u64(), Some(i as u64 + 1), "export numbers its events in order: {e}");
    }
    events
}

/// How many events the replay's last words say it replayed
/// ("replayed its first N events").
pub(crate) fn replayed_first(said: &str) -> u64 {
    said.split("replayed its first ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no replayed count in: {said}"))
}

/// The program's digest line on stdout.
pub(crate) fn digest_line(out: &Output) -> String {
    stdout(out)
        .lines()
        .find(|l| l.contains(" digest "))
        .unwrap_or_else(|| panic!("no digest: {}{}", stdout(out), stderr(out)))
        .to_owned()
}

pub(crate) use crate::util::debug_session;

/// Every event line a debug session printed (`#N [thread] op ...`) names
/// the event `export` numbers N: its thread's name (or `thread T`) and op.
/// Returns the numbers, in the order printed.
pub(crate) fn positions_agree_with_export(session: &str, events: &[Value]) -> Vec<u64> {
    let mut seen = Vec::new();
    for line in session.lines() {
        let line = line.trim_start_matches("(reprise) ");
        let Some(rest) = line.strip_prefix('#') else { continue };
        let Some((number, rest)) = rest.split_once(" [") else { continue };
        let Ok(number) = number.parse::<u64>() else { continue };
        let (thread, rest) = rest.split_once("] ").unwrap_or_else(|| panic!("{line}"));
        let op = rest.split(" ").next().unwrap().trim_end_matches(":");
        let e = &events[usize::try_from(number).unwrap() - 1];
        let name = e["thread_name"].as_str().map_or_else(|| format!("thread {}", e["thread"]), str::to_owned);
        assert!(
            thread == name || thread == format!("thread {}", e["thread"]),
            "debug says #{number} is {thread}'s, export says {e}"
        );
        assert_eq!(op, e["op"].as_str().unwrap(), "debug's #{number} against export's {e}");
        seen.push(number);
    }
    seen
}

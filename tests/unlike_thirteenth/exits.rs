//! `examples/thirteenth_exit.rs` through `reprise::main` under
//! `REPRISE_RECORD`: a writer thread that ends the process with
//! `std::process::exit(4)` while the root waits in `join`, and a clearer
//! that panics and is never joined. Each trace goes through `verify`,
//! `inspect`, `export`, `races`, `why` and `diff`, which must agree with
//! each other, and `reprise replay FILE -- CMD` both ways.

use std::path::{Path, PathBuf};
use std::process::Output;

use crate::unlike_twelfth::{digest_line, export, inspect, plain, verify};
use crate::util::{example, reprise, reprise_on, scratch, stderr, stdout};

fn program() -> PathBuf {
    example("thirteenth_exit")
}

/// `thirteenth_exit SCENARIO` recorded into `trace`.
fn record(trace: &Path, scenario: &str) -> Output {
    plain(program()).arg(scenario).env("REPRISE_RECORD", trace).output().unwrap()
}

/// `reprise replay [--coroutines] TRACE -- thirteenth_exit SCENARIO`.
fn replay(trace: &Path, coroutines: bool, scenario: &str) -> Output {
    let mut cmd = plain(env!("CARGO_BIN_EXE_reprise"));
    cmd.arg("replay");
    if coroutines {
        cmd.arg("--coroutines");
    }
    cmd.arg(trace).arg("--").arg(program()).arg(scenario).output().unwrap()
}

/// The number on `inspect`'s `events: N in C chunks` line.
fn inspected_events(said: &str) -> u64 {
    let line = said.lines().find(|l| l.starts_with("events: ")).unwrap_or_else(|| panic!("{said}"));
    line["events: ".len()..].split(' ').next().unwrap().parse().unwrap()
}

/// `why -- CMD` on a trace that has nothing for it: it says so, and
/// neither it nor the program it runs panics.
fn why_declines(trace: &Path, scenario: &str, reason: &str) {
    let out = reprise(&["why", trace.to_str().unwrap(), "--", program().to_str().unwrap(), scenario]);
    let said = format!("{}{}", stdout(&out), stderr(&out));
    assert_ne!(out.status.code(), Some(0), "{said}");
    assert!(said.contains(reason), "{said}");
    assert!(!said.contains("reprise panicked") && !said.contains("RUST_BACKTRACE"), "{said}");
}

/// Each recording exits 4 as the writer asked, and its trace is whole:
/// `verify`, `inspect` and `export` count the same events; `races` finds
/// nothing to check; `why` declines; the parallel replay runs to the exit
/// after every event the trace holds (exit 5) and prints the recorded
/// digest again, and so does the coroutine replay. Two recordings are
/// identical to `diff` exactly when `export` gives the same lines, objects
/// named by where they were made.
#[test]
fn a_writer_that_exits_the_process_is_viewed_and_replayed_alike() {
    let dir = scratch("thirteenth-exit");
    let mut traces = Vec::new();
    for run in 0..3 {
        let path = dir.join(format!("e{run}.trace"));
        let recorded = record(&path, "exit");
        assert_eq!(recorded.status.code(), Some(4), "{}", stderr(&recorded));
        let (code, _, events, said) = verify(&path);
        assert_eq!(code, Some(0), "{said}");
        let inspected = inspect(&path);
        assert!(inspected.contains("reprise.exit: the process exited"), "{inspected}");
        assert_eq!(inspected_events(&inspected), events, "{inspected}");
        let exported = export(&path);
        assert_eq!(exported.len() as u64, events);
        let races = reprise_on(&["races"], &path);
        assert_eq!(races.status.code(), Some(0), "{}", stdout(&races));
        if run == 0 {
            why_declines(&path, "exit", "std::process::exit ended the process");
        }
        let parallel = replay(&path, false, "exit");
        assert_eq!(parallel.status.code(), Some(5), "{}", stderr(&parallel));
        let said = stderr(&parallel);
        assert!(said.contains(&format!("after {events} of the trace's {events} events")), "{said}");
        assert_eq!(digest_line(&parallel), digest_line(&recorded));
        let coroutines = replay(&path, true, "exit");
        assert_eq!(coroutines.status.code(), Some(5), "{}", stderr(&coroutines));
        assert_eq!(digest_line(&coroutines), digest_line(&recorded));
        traces.push((path.clone(), super::views::by_creation_site(&path)));
    }
    for (path, exported) in &traces[1..] {
        let diff = reprise(&["diff", traces[0].0.to_str().unwrap(), path.to_str().unwrap()]);
        let same = *exported == traces[0].1;
        assert_eq!(diff.status.code(), Some(if same { 0 } else { 1 }), "{}", stdout(&diff));
    }
}

/// A clearer that panics and is never joined ends nothing: the recording
/// exits 0 as std's process does, its trace says it completed, and both
/// replays match it (exit 0) with the recorded digest; `why` finds no
/// failure to explain; `diff` tells it from a clean run's trace.
#[test]
fn an_orphaned_panic_is_recorded_as_std_ends_and_replays() {
    let dir = scratch("thirteenth-orphan");
    let clean = dir.join("clean.trace");
    assert_eq!(record(&clean, "clean").status.code(), Some(0));
    for run in 0..3 {
        let path = dir.join(format!("o{run}.trace"));
        let recorded = record(&path, "orphan");
        assert_eq!(recorded.status.code(), Some(0), "{}", stderr(&recorded));
        assert!(stderr(&recorded).contains("clearer 1: a bad record"), "{}", stderr(&recorded));
        let inspected = inspect(&path);
        assert!(inspected.contains("verdict: completed"), "{inspected}");
        assert_eq!(inspected_events(&inspected), export(&path).len() as u64);
        for coroutines in [false, true] {
            let replayed = replay(&path, coroutines, "orphan");
            assert_eq!(replayed.status.code(), Some(0), "coroutines {coroutines}: {}", stderr(&replayed));
            assert_eq!(digest_line(&replayed), digest_line(&recorded));
        }
        if run == 0 {
            why_declines(&path, "orphan", "did not fail");
        }
        let diff = reprise(&["diff", path.to_str().unwrap(), clean.to_str().unwrap()]);
        assert_eq!(diff.status.code(), Some(1), "{}", stdout(&diff));
    }
}

/// `examples/thirteenth_scopes.rs` (scopes.rs's netting under
/// `reprise::main`): both replays of the CLI match each recording and
/// print its digest; `inspect` and `export` count the same events; a stop
/// before the first scope's end pauses, and `q` quits it (exit 9). Stops
/// between a scope end's joins are left out: they hang
/// (/tmp/hunt13-found/scope_end_stop_at.rs).
#[test]
fn nested_scopes_replay_through_the_cli_and_pause_before_their_end() {
    use std::io::Write;
    use std::process::Stdio;
    let scopes = example("thirteenth_scopes");
    let dir = scratch("thirteenth-scopes-cli");
    for run in 0..3 {
        let path = dir.join(format!("s{run}.trace"));
        let recorded = plain(&scopes).env("REPRISE_RECORD", &path).output().unwrap();
        assert_eq!(recorded.status.code(), Some(0), "{}", stderr(&recorded));
        assert_eq!(inspected_events(&inspect(&path)), export(&path).len() as u64);
        for coroutines in [false, true] {
            let mut cmd = plain(env!("CARGO_BIN_EXE_reprise"));
            cmd.arg("replay");
            if coroutines {
                cmd.arg("--coroutines");
            }
            let replayed = cmd.arg(&path).arg("--").arg(&scopes).output().unwrap();
            assert_eq!(replayed.status.code(), Some(0), "coroutines {coroutines}: {}", stderr(&replayed));
            assert_eq!(digest_line(&replayed), digest_line(&recorded));
        }
        let mut child = plain(env!("CARGO_BIN_EXE_reprise"))
            .arg("replay")
            .arg(&path)
            .args(["--stop-at", "2", "--"])
            .arg(&scopes)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(b"q\n").unwrap();
        let status = crate::util::wait_bounded(&mut child);
        assert_eq!(status.code(), Some(9), "quit while paused at event 2");
    }
}

/// `thirteenth_scopes pickers`: a lost update between two scoped threads
/// nobody joins (exit 3 when it strikes). On a failing recording `races`
/// names the R-W-W at the pickers' read and write, `why -- CMD` names a
/// tracked read and write of the stock as the racing pair, and both
/// replays give the recorded digest.
#[test]
fn a_lost_update_between_unjoined_scoped_threads_is_named_alike() {
    let scopes = example("thirteenth_scopes");
    let dir = scratch("thirteenth-scoped-pickers");
    let source =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/unlike_thirteenth/scopes.rs"))
            .unwrap();
    let line = |needle: &str| {
        let n = source.lines().position(|l| l.contains(needle)).unwrap() + 1;
        format!("scopes.rs:{n}:")
    };
    let (read, write) = (line("let left = stock.get();"), line("stock.set(left - 1);"));
    let failing = (0..12)
        .find_map(|run| {
            let path = dir.join(format!("p{run}.trace"));
            let out = plain(&scopes).arg("pickers").env("REPRISE_RECORD", &path).output().unwrap();
            let code = out.status.code();
            assert!(code == Some(0) || code == Some(3), "{}", stderr(&out));
            (code == Some(3)).then_some((path, out))
        })
        .expect("one of 12 recordings lost an update");
    let (path, recorded) = failing;
    let races = reprise_on(&["races"], &path);
    let said = stdout(&races);
    assert_eq!(races.status.code(), Some(1), "{said}");
    let violation = said
        .split("\n\n")
        .find(|block| block.starts_with("atomicity violation (lost update, R-W-W) on tracked"))
        .unwrap_or_else(|| panic!("{said}"));
    assert!(violation.contains(&read) && violation.contains(&write), "{violation}");
    let why = reprise(&["why", path.to_str().unwrap(), "--", scopes.to_str().unwrap(), "pickers"]);
    let said = stdout(&why);
    assert_eq!(why.status.code(), Some(0), "{said}{}", stderr(&why));
    let pair = crate::util::why_pair(&said);
    assert_eq!(pair.len(), 2, "{said}");
    assert!(pair.iter().all(|l| l.contains(" tracked-")), "{said}");
    for coroutines in [false, true] {
        let mut cmd = plain(env!("CARGO_BIN_EXE_reprise"));
        cmd.arg("replay");
        if coroutines {
            cmd.arg("--coroutines");
        }
        let replayed = cmd.arg(&path).arg("--").arg(&scopes).arg("pickers").output().unwrap();
        assert_eq!(replayed.status.code(), Some(0), "coroutines {coroutines}: {}", stderr(&replayed));
        assert_eq!(digest_line(&replayed), digest_line(&recorded));
    }
}

/// `thirteenth_scopes exit`: a scoped writer exits the process while the
/// root waits at the scope's end. The recording exits 4; both replays of
/// the CLI run to the exit (exit 5), the parallel one after every event
/// the trace holds, and a stop at every event pauses and runs on to the
/// same end.
#[test]
fn an_exit_inside_a_scope_replays_to_the_exit() {
    use std::io::Write;
    use std::process::Stdio;
    let scopes = example("thirteenth_scopes");
    let path = scratch("thirteenth-scope-exit").join("x.trace");
    let recorded = plain(&scopes).arg("exit").env("REPRISE_RECORD", &path).output().unwrap();
    assert_eq!(recorded.status.code(), Some(4), "{}", stderr(&recorded));
    let events = export(&path).len() as u64;
    for coroutines in [false, true] {
        let mut cmd = plain(env!("CARGO_BIN_EXE_reprise"));
        cmd.arg("replay");
        if coroutines {
            cmd.arg("--coroutines");
        }
        let replayed = cmd.arg(&path).arg("--").arg(&scopes).arg("exit").output().unwrap();
        assert_eq!(replayed.status.code(), Some(5), "coroutines {coroutines}: {}", stderr(&replayed));
        assert_eq!(digest_line(&replayed), digest_line(&recorded));
        if !coroutines {
            let said = stderr(&replayed);
            assert!(said.contains(&format!("after {events} of the trace's {events} events")), "{said}");
        }
    }
    for stop in (0..events).step_by(3) {
        let mut child = plain(env!("CARGO_BIN_EXE_reprise"))
            .arg("replay")
            .arg(&path)
            .args(["--stop-at", &stop.to_string(), "--"])
            .arg(&scopes)
            .arg("exit")
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(b"c\n").unwrap();
        let status = crate::util::wait_bounded(&mut child);
        assert_eq!(status.code(), Some(5), "stop at {stop}");
    }
}

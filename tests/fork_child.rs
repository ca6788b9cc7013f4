//! A program under `reprise::main` that forks without exec
//! (`examples/fork_child.rs`), as a pre-fork server does. The child kept the
//! parent's signal handlers, whose pipe the parent's watcher thread reads:
//! a SIGTERM sent to the child ended the recording parent (exit 143) and
//! the child lived on. A replayed child followed the parent's trace: on
//! coroutines it diverged and exited 3, so the parent noted another exit
//! status than it had recorded; in parallel replay it wrote "replay
//! diverged" into the report the CLI reads for its parent. Now a forked
//! child runs its primitives plainly, gives reprise's signals back to their
//! default action, writes no report, and says on exit that it ran
//! unrecorded.

use std::path::Path;
use std::process::{Command, Output};

use crate::util::{example, reprise_on, scratch, stderr, stdout};

/// The example with `arg`, recording into `trace`.
fn record(arg: &str, trace: &Path) -> Output {
    Command::new(example("fork_child"))
        .arg(arg)
        .env_remove("REPRISE_REPLAY")
        .env_remove("REPRISE_FLIGHT")
        .env("REPRISE_RECORD", trace)
        .output()
        .unwrap()
}

const NOTICE: &str = "was forked without exec from a recorded or replayed process: it ran unrecorded";

#[test]
fn a_sigterm_sent_to_a_forked_child_ends_the_child_not_its_recording_parent() {
    let dir = scratch("fork-child-term");
    let trace = dir.join("t.trace");
    let out = record("term", &trace);
    assert_eq!(out.status.code(), Some(0), "{}{}", stdout(&out), stderr(&out));
    assert!(stdout(&out).contains("child killed by signal 15"), "{}", stdout(&out));
    let out = reprise_on(&["verify"], &trace);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[test]
fn a_forked_child_runs_unrecorded_and_its_parent_replays_in_both_modes() {
    // The child ends with `_exit` (no exit handler: no notice), with
    // `std::process::exit`, or by returning through `reprise::main`.
    for (arg, says) in [("", false), ("exit", true), ("return", true)] {
        let dir = scratch(&format!("fork-child-{arg}"));
        let trace = dir.join("t.trace");
        let out = record(arg, &trace);
        assert_eq!(out.status.code(), Some(0), "{arg}: {}", stderr(&out));
        assert!(stdout(&out).contains("child exit status 0"), "{arg}: {}", stdout(&out));
        assert_eq!(stderr(&out).contains(NOTICE), says, "{arg}: {}", stderr(&out));
        let out = reprise_on(&["verify"], &trace);
        assert_eq!(out.status.code(), Some(0), "{arg}: {}", stderr(&out));
        for how in [&["replay"][..], &["replay", "--coroutines"][..]] {
            let out = Command::new(env!("CARGO_BIN_EXE_reprise"))
                .args(how)
                .arg(&trace)
                .arg("--")
                .arg(example("fork_child"))
                .arg(arg)
                .output()
                .unwrap();
            let err = stderr(&out);
            assert_eq!(out.status.code(), Some(0), "{arg} {how:?}: {}{err}", stdout(&out));
            assert!(stdout(&out).contains("child exit status 0"), "{arg} {how:?}: {}", stdout(&out));
            assert!(!err.contains("diverged"), "{arg} {how:?}: the child's replay spoke: {err}");
            assert_eq!(err.contains(NOTICE), says, "{arg} {how:?}: {err}");
        }
    }
}

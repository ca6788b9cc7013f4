//! A replay that the replayed program ends with `std::process::exit` in a
//! worker says how far it got, on coroutines as in parallel. The coroutine
//! replay said the program exited "before the replay started": its
//! progress was never listed where the exit handler looks (found by the
//! thirteenth hunt; `examples/thirteenth_exit.rs`).

use std::process::Command;

use crate::util::{example, scratch, stderr};

/// How far a replay said it got: `(replayed, events)` of its "after N of
/// the trace's M events".
fn progress(said: &str) -> Option<(u64, u64)> {
    let rest = said.split("after ").nth(1)?;
    let replayed = rest.split(' ').next()?.parse().ok()?;
    let events = rest.split("of the trace's ").nth(1)?.split(' ').next()?.parse().ok()?;
    Some((replayed, events))
}

#[test]
fn a_replay_ended_by_a_workers_exit_says_how_far_it_got_in_both_modes() {
    let program = example("thirteenth_exit");
    let trace = scratch("replay-exit-progress").join("e.trace");
    let recorded = Command::new(&program)
        .arg("exit")
        .env("REPRISE_RECORD", &trace)
        .env_remove("REPRISE_REPLAY")
        .output()
        .unwrap();
    assert_eq!(recorded.status.code(), Some(4), "{}", stderr(&recorded));
    let events = reprise::read_trace_file(&trace).unwrap().events;
    for coroutines in [false, true] {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_reprise"));
        cmd.arg("replay");
        if coroutines {
            cmd.arg("--coroutines");
        }
        let out = cmd.arg(&trace).arg("--").arg(&program).arg("exit").output().unwrap();
        let said = stderr(&out);
        assert_eq!(out.status.code(), Some(5), "coroutines {coroutines}: {said}");
        let (replayed, of) = progress(&said).unwrap_or_else(|| panic!("coroutines {coroutines}: {said}"));
        assert_eq!(of, events, "coroutines {coroutines}: {said}");
        if coroutines {
            // The other threads are coroutines of the exiting one: they do
            // not run on to the end of what the trace holds of them.
            assert!(replayed > 0 && replayed <= events, "{said}");
        } else {
            // The exit handler lets the others replay what the trace holds.
            assert_eq!(replayed, events, "{said}");
        }
    }
}

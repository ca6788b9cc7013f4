//! A program under `reprise::main` that starts a helper process of its own
//! (`examples/child_process.rs`: itself with `child`, outside any capture).
//! The helper inherited `REPRISE_RECORD` and recorded into its parent's
//! file: the trace became a mix of both (`verify`: "a chunk was replaced or
//! moved"). Under `REPRISE_REPLAY` it replayed its parent's trace, diverged
//! and exited 3, so the parent noted another exit status than it had
//! recorded. Now `reprise::main` takes its variables out of the
//! environment its children inherit (they run plainly in every mode), a
//! path may say `%p` to give each process its own trace, and a trace file
//! being written is locked against a second recording.

use std::path::Path;
use std::process::{Command, Output};

use crate::util::{example, reprise, scratch, stderr, stdout};

/// The example with `var` set to `value` (and no other mode variable).
fn run_example(var: &str, value: &Path) -> Output {
    Command::new(example("child_process"))
        .env_remove("REPRISE_RECORD")
        .env_remove("REPRISE_REPLAY")
        .env_remove("REPRISE_FLIGHT")
        .env(var, value)
        .output()
        .unwrap()
}

/// What the parent prints when its helper ran plainly and exited 0.
fn helper_ran_plainly(out: &Output) -> bool {
    let text = stdout(out);
    text.starts_with("parent sum 109900; child: child sum 109900, exit status: 0")
}

#[test]
fn a_helper_process_leaves_its_parents_recording_whole_and_replays_plainly_too() {
    let dir = scratch("child-process-record");
    let trace = dir.join("parent.trace");
    let recorded = run_example("REPRISE_RECORD", &trace);
    assert_eq!(recorded.status.code(), Some(0), "{}", stderr(&recorded));
    assert!(helper_ran_plainly(&recorded), "{}{}", stdout(&recorded), stderr(&recorded));

    let verified = reprise(&["verify", trace.to_str().unwrap()]);
    assert_eq!(verified.status.code(), Some(0), "the helper wrote into the trace: {}", stderr(&verified));
    let inspected = stdout(&reprise(&["inspect", trace.to_str().unwrap()]));
    assert!(inspected.contains("threads: 3"), "{inspected}");

    // In the replay the helper runs again (it was not captured), plainly,
    // as it did in the recording: the note of its exit status matches.
    let exe = example("child_process");
    let replayed = reprise(&["replay", trace.to_str().unwrap(), "--", exe.to_str().unwrap()]);
    assert_eq!(replayed.status.code(), Some(0), "{}{}", stdout(&replayed), stderr(&replayed));
    assert!(helper_ran_plainly(&replayed), "{}{}", stdout(&replayed), stderr(&replayed));
    let replayed_in_process = run_example("REPRISE_REPLAY", &trace);
    assert_eq!(replayed_in_process.status.code(), Some(0), "{}", stderr(&replayed_in_process));
    assert!(helper_ran_plainly(&replayed_in_process), "{}", stdout(&replayed_in_process));
}

#[test]
fn a_path_that_says_percent_p_gives_each_process_a_trace_of_its_own() {
    let dir = scratch("child-process-pid");
    let child = Command::new(example("child_process"))
        .env_remove("REPRISE_REPLAY")
        .env_remove("REPRISE_FLIGHT")
        .env("REPRISE_RECORD", dir.join("run-%p.trace"))
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let parent_pid = child.id();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let mut traces: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    traces.sort();
    assert_eq!(traces.len(), 2, "one trace per process: {traces:?}");
    assert!(traces.contains(&dir.join(format!("run-{parent_pid}.trace"))), "{traces:?}");
    for trace in &traces {
        let verified = reprise(&["verify", trace.to_str().unwrap()]);
        assert_eq!(verified.status.code(), Some(0), "{}: {}", trace.display(), stderr(&verified));
    }
    // The helper's own trace replays with its arguments.
    let exe = example("child_process");
    let helper = traces.iter().find(|t| **t != dir.join(format!("run-{parent_pid}.trace"))).unwrap();
    let replayed = reprise(&["replay", helper.to_str().unwrap(), "--", exe.to_str().unwrap(), "child"]);
    assert_eq!(replayed.status.code(), Some(0), "{}", stderr(&replayed));
}

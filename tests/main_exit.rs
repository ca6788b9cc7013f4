//! `reprise::main` exits as `fn main` would, with what its body returned, in
//! every mode: run plainly, recorded, and replayed (`examples/exit_code.rs`).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use reprise::trace::format::Verdict;
use reprise::EXIT_CODE_NOTE;

use crate::util::{scratch, stderr, stdout};

/// The example program `examples/exit_code.rs`, which `cargo test` builds.
fn example_binary() -> PathBuf {
    crate::util::example("exit_code")
}

/// The example run with `args`, plainly or with `env` set.
fn run(args: &[&str], env: Option<(&str, &Path)>) -> Output {
    let mut command = Command::new(example_binary());
    command.args(args).env_remove("REPRISE_RECORD").env_remove("REPRISE_REPLAY");
    if let Some((key, value)) = env {
        command.env(key, value);
    }
    command.output().unwrap()
}

/// Each shape with the code std's `fn main` exits with, and what it prints
/// on stderr then.
const SHAPES: &[(&[&str], i32, Option<&str>)] = &[
    (&["unit"], 0, None),
    (&["code", "2"], 2, None),
    (&["ok"], 0, None),
    (&["err"], 1, Some("Error: \"no input\"\n")),
    (&["ok-code", "9"], 9, None),
    (&["boxed-err"], 1, Some("Error: \"boxed\"\n")),
];

#[test]
fn a_plain_run_exits_with_what_the_body_returned() {
    for (args, code, printed) in SHAPES {
        let out = run(args, None);
        assert_eq!(out.status.code(), Some(*code), "{args:?}: {}", stderr(&out));
        assert_eq!(stdout(&out), "sum 55\n", "{args:?}");
        match printed {
            Some(line) => assert_eq!(stderr(&out), *line, "{args:?}"),
            None => assert_eq!(stderr(&out), "", "{args:?}"),
        }
    }
}

#[test]
fn a_recording_exits_with_what_the_body_returned_and_notes_it_in_a_whole_trace() {
    let dir = scratch("main-exit-record");
    for (i, (args, code, printed)) in SHAPES.iter().enumerate() {
        let trace = dir.join(format!("{i}.trace"));
        let out = run(args, Some(("REPRISE_RECORD", &trace)));
        assert_eq!(out.status.code(), Some(*code), "{args:?}: {}", stderr(&out));
        if let Some(line) = printed {
            assert!(stderr(&out).contains(line), "{args:?}: {}", stderr(&out));
        }
        // Finished before the process exited.
        let recorded = reprise::read_trace_file(&trace).unwrap();
        assert!(recorded.is_whole(), "{args:?}");
        let footer = recorded.footer.expect("a finished trace has a footer");
        assert_eq!(footer.verdict, Verdict::Completed, "{args:?}");
        assert_eq!(footer.annotation(EXIT_CODE_NOTE), Some(code.to_string().as_str()), "{args:?}");
    }
}

#[test]
fn a_replay_that_matches_exits_with_the_body_s_code_and_the_cli_with_the_replay_s() {
    let dir = scratch("main-exit-replay");
    for (i, (args, code, _)) in SHAPES.iter().enumerate() {
        let trace = dir.join(format!("{i}.trace"));
        let recorded = run(args, Some(("REPRISE_RECORD", &trace)));
        assert_eq!(recorded.status.code(), Some(*code), "{args:?}: {}", stderr(&recorded));
        let replayed = run(args, Some(("REPRISE_REPLAY", &trace)));
        assert_eq!(replayed.status.code(), Some(*code), "{args:?}: {}", stderr(&replayed));
        assert!(stderr(&replayed).contains("replay matched the trace"), "{args:?}: {}", stderr(&replayed));
        assert_eq!(stdout(&replayed), stdout(&recorded), "{args:?}");

        // Through the CLI the code is the replay's: it matched.
        let out = Command::new(env!("CARGO_BIN_EXE_reprise"))
            .arg("replay")
            .arg(&trace)
            .arg("--")
            .arg(example_binary())
            .args(*args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
    }
}

#[test]
fn a_replay_whose_body_returns_another_code_is_a_mismatch() {
    let dir = scratch("main-exit-other");
    let trace = dir.join("two.trace");
    let recorded = run(&["code", "2"], Some(("REPRISE_RECORD", &trace)));
    assert_eq!(recorded.status.code(), Some(2), "{}", stderr(&recorded));
    for other in [&["code", "3"][..], &["unit"], &["err"]] {
        let out = run(other, Some(("REPRISE_REPLAY", &trace)));
        assert_eq!(out.status.code(), Some(8), "{other:?}: {}", stderr(&out));
        assert!(
            stderr(&out).contains(&format!("annotation `{EXIT_CODE_NOTE}`:\n    expected: 2\n")),
            "{other:?}: {}",
            stderr(&out)
        );
    }
}

/// A replay that completes without making a note the recording made took
/// another path (here the note hangs on the environment, which reprise does
/// not see): a mismatch, where it exited 0 before.
#[test]
fn a_replay_that_does_not_make_a_recorded_note_again_is_a_mismatch() {
    let dir = scratch("main-exit-unnoted");
    let trace = dir.join("noted.trace");
    let recorded = run(&["noted"], Some(("REPRISE_RECORD", &trace)));
    assert_eq!(recorded.status.code(), Some(0), "{}", stderr(&recorded));
    let same = run(&["noted"], Some(("REPRISE_REPLAY", &trace)));
    assert_eq!(same.status.code(), Some(0), "{}", stderr(&same));
    let out = Command::new(example_binary())
        .arg("noted")
        .env_remove("REPRISE_RECORD")
        .env("REPRISE_REPLAY", &trace)
        .env("EXIT_CODE_UNNOTED", "1")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(8), "{}", stderr(&out));
    assert!(
        stderr(&out)
            .contains("annotation `digest`:\n    expected: 55\n    got:      (not noted by the replay)"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_panicking_body_exits_101_recorded_and_replayed() {
    let dir = scratch("main-exit-panic");
    let trace = dir.join("panic.trace");
    let out = run(&["panic"], None);
    assert_eq!(out.status.code(), Some(101), "{}", stderr(&out));
    let recorded = run(&["panic"], Some(("REPRISE_RECORD", &trace)));
    assert_eq!(recorded.status.code(), Some(101), "{}", stderr(&recorded));
    let footer = reprise::read_trace_file(&trace).unwrap().footer.unwrap();
    assert!(matches!(footer.verdict, Verdict::Panicked { .. }), "{:?}", footer.verdict);
    assert_eq!(footer.annotation(EXIT_CODE_NOTE), None, "a panic returns no code");
    let replayed = run(&["panic"], Some(("REPRISE_REPLAY", &trace)));
    assert_eq!(replayed.status.code(), Some(101), "{}", stderr(&replayed));
    assert!(stderr(&replayed).contains("replay matched the trace"), "{}", stderr(&replayed));
}

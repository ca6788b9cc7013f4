//! What a new user ran into, driving the CLI and `reprise::main` programs
//! from a fresh clone: each test failed before its fix.

use std::process::Command;

use crate::util::{example, reprise, scratch, stderr};

/// `explore --out` names a folder; given an existing file, the search ran to
/// the end and then said "File exists (os error 17)" about a path under the
/// file. Now it says the path is not a folder, before searching.
#[test]
fn explore_out_that_is_a_file_is_named_before_the_search() {
    let dir = scratch("hunt-explore-out");
    let file = dir.join("found.trace");
    std::fs::write(&file, b"").unwrap();
    let out = reprise(&[
        "explore",
        "--pipeline",
        "payments",
        "--bug",
        "lost-update",
        "--budget",
        "50",
        "--out",
        file.to_str().unwrap(),
    ]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("is not a folder"), "{err}");
    assert!(!err.contains("File exists"), "{err}");
    assert!(!err.contains("failed:"), "the search must not run first: {err}");
}

/// `record --flight --out DIR` printed its error twice (three times when
/// the run panicked), and only after the whole run.
#[test]
fn record_flight_to_a_folder_says_so_once() {
    let dir = scratch("hunt-flight-out");
    for bug in ["none", "panic"] {
        let out = reprise(&[
            "record",
            "--pipeline",
            "payments",
            "--bug",
            bug,
            "--flight",
            "--out",
            dir.to_str().unwrap(),
        ]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(7), "{err}");
        assert_eq!(err.matches("flight-recorder dump").count(), 1, "one error line: {err}");
        assert!(!err.contains("panicked"), "the run must not start: {err}");
    }
}

/// `reprise replay FILE -- CMD` with a bad `REPRISE_KEY` warned twice: once
/// from reprise itself (which opens no capture) and once from the program.
#[test]
fn replay_of_a_program_warns_about_a_bad_key_once() {
    let dir = scratch("hunt-bad-key");
    let trace = dir.join("s.trace");
    let program = example("sensitive");
    let recorded = Command::new(&program)
        .env("REPRISE_RECORD", &trace)
        .env("REPRISE_KEY", "ab".repeat(32))
        .output()
        .unwrap();
    assert!(recorded.status.success(), "{}", stderr(&recorded));
    let out = Command::new(env!("CARGO_BIN_EXE_reprise"))
        .arg("replay")
        .arg(&trace)
        .arg("--")
        .arg(&program)
        .env("REPRISE_KEY", "zz")
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(10), "{err}");
    assert_eq!(err.matches("REPRISE_KEY must be").count(), 1, "{err}");
}

/// `reprise --help > /dev/full` exited 0: help nobody could read passed for
/// a success, where every other output to a full disk exits 7.
#[cfg(target_os = "linux")]
#[test]
fn help_to_a_full_disk_is_an_io_error() {
    for args in [&["--help"][..], &["replay", "--help"], &["--version"]] {
        let full = std::fs::OpenOptions::new().write(true).open("/dev/full").unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_reprise")).args(args).stdout(full).output().unwrap();
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(7), "{args:?}: {err}");
        assert!(err.contains("No space left"), "{args:?}: {err}");
    }
}

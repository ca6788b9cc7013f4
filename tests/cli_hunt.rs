//! What a new user ran into, driving the CLI and `reprise::main` programs
//! from a fresh clone: each test failed before its fix.

use std::process::Command;
use std::sync::Arc;

use reprise::sync::Mutex;
use reprise::{record, replay_coroutines_indexed, replay_indexed, thread, IndexedTrace, RecordConfig};
use reprise::{ReplayOptions, ReplayOutcome};

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

/// Two workers take one lock many times: a trace of many chunks.
fn busy() -> u64 {
    let total = Arc::new(Mutex::new(0u64));
    let workers: Vec<_> = (0..2)
        .map(|_| {
            let total = Arc::clone(&total);
            thread::spawn(move || (0..40_000).for_each(|_| *total.lock().unwrap() += 1))
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    let sum = *total.lock().unwrap();
    sum
}

/// A trace file cut short after its index was read (another process
/// rewriting it, a disk going away) was reported as the program's
/// divergence, exit 3, with the hint about HashMaps and clocks; on
/// coroutines as "the recording says this thread had already exited".
/// It is the trace that became unreadable: exit 6, no such hint.
#[test]
fn a_trace_cut_during_its_replay_is_not_a_divergence_of_the_program() {
    let dir = scratch("hunt-cut-trace");
    let path = dir.join("busy.trace");
    record(&path, RecordConfig::new("busy", "1"), busy).unwrap();
    let len = std::fs::metadata(&path).unwrap().len();
    for coroutines in [false, true] {
        let copy = dir.join(format!("copy-{coroutines}.trace"));
        std::fs::copy(&path, &copy).unwrap();
        let trace = IndexedTrace::open(&copy).unwrap();
        std::fs::OpenOptions::new().write(true).open(&copy).unwrap().set_len(len / 3).unwrap();
        let report = if coroutines {
            replay_coroutines_indexed(trace, None, busy)
        } else {
            replay_indexed(trace, &ReplayOptions::default(), busy)
        };
        let shown = report.outcome.to_string();
        assert!(matches!(report.outcome, ReplayOutcome::Diverged(_)), "coroutines {coroutines}: {shown}");
        assert_eq!(reprise::exit::of_outcome(&report.outcome), reprise::exit::DAMAGED, "{shown}");
        assert!(shown.contains("changed or became unreadable"), "coroutines {coroutines}: {shown}");
        assert!(!shown.contains("HashMap"), "coroutines {coroutines}: {shown}");
    }
}

/// Off a terminal, explore promises a line every tenth of the budget, but
/// the explorer reports its count when it samples it (every 50 ms), which
/// rarely lands on a tenth: a 100,000-schedule search printed none. A shard
/// counted against the whole budget, so its bar never filled.
#[test]
fn explore_off_a_terminal_prints_progress_lines_for_its_shard() {
    let out = reprise(&[
        "explore",
        "--pipeline",
        "payments",
        "--bug",
        "none",
        "--budget",
        "6000",
        "--shard",
        "1/2",
    ]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    let lines: Vec<&str> = err.lines().filter(|l| l.starts_with("reprise: explored ")).collect();
    assert!(lines.len() >= 3, "progress lines: {err}");
    assert!(lines.iter().all(|l| l.ends_with("/3000 schedules")), "the shard's share: {err}");
}

/// `REPRISE_REPLAY=FILE` under `reprise::main` said "cannot read `FILE`"
/// or "`FILE` is not a readable trace" and no more: not that the file is
/// missing, or empty, as `reprise replay FILE` says.
#[test]
fn a_program_replaying_an_unreadable_trace_says_why() {
    let dir = scratch("hunt-replay-env");
    let empty = dir.join("empty.trace");
    std::fs::write(&empty, b"").unwrap();
    for (path, code, why) in [(dir.join("missing.trace"), 7, "No such file"), (empty, 6, "empty file")] {
        let out = Command::new(example("transfer")).env("REPRISE_REPLAY", &path).output().unwrap();
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(code), "{err}");
        assert!(err.contains(why), "{err}");
    }
}

/// `demo --out FILE` said "cannot create `FILE`: File exists (os error 17)",
/// as if the file were in the way of a file it meant to write.
#[test]
fn demo_out_that_is_a_file_says_it_is_not_a_folder() {
    let file = scratch("hunt-demo-out").join("t.trace");
    std::fs::write(&file, b"").unwrap();
    let out = reprise(&["demo", "--out", file.to_str().unwrap()]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("is not a folder"), "{err}");
    assert!(!err.contains("File exists"), "{err}");
}

/// `export t.trace --out t.trace` and `timeline t.trace --out t.trace`
/// wrote over the trace they read (often the only copy of an incident) and
/// exited 0; so did a symlink to it. Now they refuse, exit 2, and the trace
/// is left whole.
#[cfg(unix)]
#[test]
fn export_and_timeline_refuse_to_write_over_their_trace() {
    let dir = scratch("hunt-overwrite");
    let original = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("traces/lost-update.trace");
    let trace = dir.join("t.trace");
    std::fs::copy(&original, &trace).unwrap();
    let link = dir.join("link.trace");
    std::os::unix::fs::symlink(&trace, &link).unwrap();
    let t = trace.to_str().unwrap();
    for out in [t, link.to_str().unwrap()] {
        for args in [&["export", t, "--format", "jsonl", "--out", out][..], &["timeline", t, "--out", out]] {
            let run = reprise(args);
            let err = stderr(&run);
            assert_eq!(run.status.code(), Some(2), "{args:?}: {err}");
            assert!(err.contains("is the trace being read"), "{args:?}: {err}");
            assert_eq!(std::fs::read(&trace).unwrap(), std::fs::read(&original).unwrap(), "{args:?}");
        }
    }
}

/// `REPRISE_FLIGHT=PATH` with a PATH no dump can be written to (a folder, a
/// missing folder) said nothing at start: a program could fly for days and
/// learn only at the crash it was flown for that the dump failed. Now it is
/// said at start, as `REPRISE_RECORD`'s is, and the program runs without it.
#[test]
fn flight_to_a_path_no_dump_can_reach_is_said_at_start() {
    let dir = scratch("hunt-flight-env");
    for path in [dir.clone(), dir.join("missing").join("f.trace")] {
        let out = Command::new(example("transfer")).env("REPRISE_FLIGHT", &path).output().unwrap();
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(0), "{err}");
        assert!(err.contains("cannot write the flight-recorder dump"), "{path:?}: {err}");
        assert!(err.contains("running without the flight recorder"), "{path:?}: {err}");
    }
    // A path that can be written still flies, and writes nothing without a dump.
    let fine = dir.join("f.trace");
    let out = Command::new(example("transfer")).env("REPRISE_FLIGHT", &fine).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).is_empty(), "{}", stderr(&out));
}

/// With REPRISE_REPLAY and REPRISE_RECORD both set, `reprise::main` replayed
/// and recorded nothing, without a word: a user who had left one exported
/// lost the recording they asked for.
#[test]
fn a_mode_variable_that_loses_to_another_is_named() {
    let dir = scratch("hunt-both-modes");
    let trace = dir.join("t.trace");
    let recorded = Command::new(example("transfer")).env("REPRISE_RECORD", &trace).output().unwrap();
    assert!(recorded.status.success(), "{}", stderr(&recorded));
    let wanted = dir.join("new.trace");
    let out = Command::new(example("transfer"))
        .env("REPRISE_REPLAY", &trace)
        .env("REPRISE_RECORD", &wanted)
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(
        err.contains("REPRISE_REPLAY and REPRISE_RECORD are both set: REPRISE_RECORD is ignored"),
        "{err}"
    );
    assert!(!wanted.exists());
}

/// A trace removed while `reprise record` wrote it (Unix lets the write go
/// on into the unlinked file): it printed "recorded N events ... to FILE"
/// and exited 0, with no trace left anywhere.
#[test]
fn a_trace_removed_while_recording_is_not_a_success() {
    let path = scratch("hunt-removed").join("t.trace");
    let child = Command::new(env!("CARGO_BIN_EXE_reprise"))
        .args(["record", "--pipeline", "payments", "--payments", "300000", "--out"])
        .arg(&path)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    while !path.exists() {
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    std::fs::remove_file(&path).unwrap();
    let out = child.wait_with_output().unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(7), "{err}");
    assert!(err.contains("was removed while it was being recorded"), "{err}");
}

/// `explore --max-steps 0` reported every program as a livelock ("no end
/// after 0 steps; main spins at ?"), exit 1, and wrote its trace: a
/// finding made of a bad argument. Now it is a usage error.
#[test]
fn explore_max_steps_zero_is_a_usage_error() {
    let out =
        reprise(&["explore", "--pipeline", "payments", "--bug", "none", "--budget", "5", "--max-steps", "0"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("--max-steps"), "{err}");
    assert!(!err.contains("livelock"), "{err}");
}

/// `explore --budget 0` searched nothing and said "no failure in 0
/// schedules", exit 0: a CI job with a budget left at 0 passed forever.
/// `why --budget 0` is refused; now explore's is too.
#[test]
fn explore_budget_zero_is_a_usage_error() {
    let out = reprise(&["explore", "--pipeline", "payments", "--bug", "lost-update", "--budget", "0"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("--budget"), "{err}");
}

/// README: "`--shard i/n` (and `REPRISE_SHARD`) splits one budget". The
/// CLI ignored REPRISE_SHARD (every machine ran the whole budget) and took
/// a bad one without a word. Now it is the default of --shard.
#[test]
fn explore_takes_its_shard_from_reprise_shard() {
    let explore = |shard: &str, extra: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_reprise"))
            .args(["explore", "--pipeline", "payments", "--bug", "none", "--budget", "10"])
            .args(extra)
            .env("REPRISE_SHARD", shard)
            .output()
            .unwrap()
    };
    let out = explore("1/2", &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(crate::util::stdout(&out).contains("no failure in 5 schedules"), "{}", crate::util::stdout(&out));
    let out = explore("1/2", &["--shard", "0/1"]);
    assert!(crate::util::stdout(&out).contains("no failure in 10 schedules"), "the flag wins");
    let out = explore("9/2", &[]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("REPRISE_SHARD"), "{}", stderr(&out));
}

/// `demo --max-runs 0` recorded nothing, then said "no run out of 0 broke
/// an invariant; try again or raise --max-runs", exit 1 (a finding). Now it
/// is a usage error.
#[test]
fn demo_max_runs_zero_is_a_usage_error() {
    let out = reprise(&["demo", "--max-runs", "0"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("--max-runs"), "{err}");
    assert!(!err.contains("no run out of 0"), "{err}");
}

/// A recording whose writes failed partway (here a pipe whose reader left;
/// a full disk alike) went on unrecorded, and `record` printed "recorded 0
/// events in 0 chunks" and exited 0.
#[cfg(unix)]
#[test]
fn a_recording_that_stopped_early_is_not_a_success() {
    use std::io::Read;
    let fifo = scratch("hunt-stopped").join("pipe");
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let reader_path = fifo.clone();
    let reader = std::thread::spawn(move || {
        let mut first = [0u8; 16];
        std::fs::File::open(reader_path).unwrap().read_exact(&mut first).unwrap();
    });
    let out = reprise(&[
        "record",
        "--pipeline",
        "payments",
        "--payments",
        "20000",
        "--out",
        fifo.to_str().unwrap(),
    ]);
    reader.join().unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(7), "{err}");
    assert!(err.contains("the recording stopped early"), "{err}");
    assert!(!crate::util::stdout(&out).contains("recorded 0 events"), "{}", crate::util::stdout(&out));
}

/// `record --out /dev/stdout`, into a pipe and into a redirected file: the
/// trace alone on stdout, the summary on stderr. Into a file the summary
/// landed after the trace's last chunk (a trace with text at its end); into
/// a pipe the writer's `fsync` failed (a pipe has nothing to sync), the
/// recording was called stopped, and its end hung waiting for a second
/// finish.
#[test]
fn record_to_stdout_writes_the_trace_alone() {
    let dir = scratch("hunt-record-stdout");
    let args = ["record", "--pipeline", "payments", "--payments", "30", "--out", "/dev/stdout"];
    let piped = dir.join("piped.trace");
    let mut child = Command::new(env!("CARGO_BIN_EXE_reprise"))
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The trace of 30 payments fits in the pipe's buffer: wait for the end
    // first, with a backstop for the hang this test was written for.
    let started = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > std::time::Duration::from_secs(120) {
            let _ = child.kill();
            panic!("record --out /dev/stdout into a pipe did not end");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    std::fs::write(&piped, &out.stdout).unwrap();
    let redirected = dir.join("redirected.trace");
    let file = std::fs::File::create(&redirected).unwrap();
    let to_file = Command::new(env!("CARGO_BIN_EXE_reprise")).args(args).stdout(file).output().unwrap();
    for (path, out) in [(&piped, &out), (&redirected, &to_file)] {
        let err = stderr(out);
        assert!(out.status.success(), "{}: {err}", path.display());
        assert!(err.contains("recorded ") && err.contains("verdict: completed"), "the summary: {err}");
        assert!(!err.contains("recording stopped"), "{err}");
        let verify = reprise(&["verify", path.to_str().unwrap()]);
        assert!(verify.status.success(), "{}: {}", path.display(), stderr(&verify));
        let bytes = std::fs::read(path).unwrap();
        assert!(!String::from_utf8_lossy(&bytes).contains("verdict:"), "the summary is in the trace");
        let replayed = reprise(&["replay", path.to_str().unwrap()]);
        assert!(replayed.status.success(), "{}: {}", path.display(), stderr(&replayed));
    }
}

/// A 30-payment trace recorded into the scratch folder `dir`.
fn small_trace(dir: &str) -> std::path::PathBuf {
    let trace = scratch(dir).join("t.trace");
    let recorded =
        reprise(&["record", "--pipeline", "payments", "--payments", "30", "--out", trace.to_str().unwrap()]);
    assert!(recorded.status.success(), "{}", stderr(&recorded));
    trace
}

/// The stage lines `reprise ARGS` prints with `REPRISE_PROGRESS=1` (its
/// stderr), after checking that it prints none without it (off a terminal,
/// as in every other test's run).
fn stages_of(args: &[&str]) -> String {
    let quiet = reprise(args);
    assert!(quiet.status.success(), "{args:?}: {}", stderr(&quiet));
    let said = stderr(&quiet);
    assert!(!said.lines().any(|l| l.ends_with(" s)")), "{args:?} off a terminal: {said}");
    let shown =
        Command::new(env!("CARGO_BIN_EXE_reprise")).args(args).env("REPRISE_PROGRESS", "1").output().unwrap();
    assert!(shown.status.success(), "{args:?}: {}", stderr(&shown));
    stderr(&shown)
}

/// `export`, `timeline`, `diff` and `races` of a million-payment trace run
/// 20 to 30 seconds and said nothing until the end: each now names its stage
/// (a spinner on a terminal; lines with `REPRISE_PROGRESS`, as here), and
/// keeps quiet otherwise, as in these tests' other runs.
#[test]
fn long_views_say_what_they_are_doing() {
    let trace = small_trace("hunt-stages");
    let t = trace.to_str().unwrap();
    let html = trace.with_extension("html");
    let json = trace.with_extension("json");
    let runs: [(&[&str], &str); 4] = [
        (&["export", "--format", "jsonl", "--out", json.to_str().unwrap(), t], "writing"),
        (&["timeline", t, "--out", html.to_str().unwrap()], "drawing"),
        (&["diff", t, t], "comparing"),
        (&["races", t], "reading"),
    ];
    for (args, last) in runs {
        let err = stages_of(args);
        assert!(err.contains(&format!("reprise: reading {t}")), "{args:?}: {err}");
        assert!(err.contains(&format!("reprise: {last}")), "{args:?}: {err}");
    }
}

/// `replay` of a million-payment trace runs seconds (parallel: 4-6 s here)
/// and said nothing until its report: it names its stage too.
#[test]
fn replay_says_what_it_is_doing() {
    let trace = small_trace("hunt-replay-stages");
    let t = trace.to_str().unwrap();
    for args in [&["replay", t][..], &["replay", "--coroutines", t][..]] {
        let err = stages_of(args);
        assert!(err.contains(&format!("reprise: indexing {t}")), "{args:?}: {err}");
        let replaying = err.lines().find(|l| l.starts_with("reprise: replaying "));
        assert!(replaying.is_some_and(|l| l.contains(" events")), "{args:?}: {err}");
    }
}

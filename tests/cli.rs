//! The command line: help, exit codes, and the record -> verify -> inspect ->
//! replay path a user takes.

use crate::util::{reprise, reprise_on, scratch, stderr, stdout};

#[test]
fn every_subcommand_has_help_naming_the_exit_codes() {
    for sub in ["demo", "record", "replay", "inspect", "verify"] {
        let out = reprise(&[sub, "--help"]);
        assert_eq!(out.status.code(), Some(0), "{sub} --help: {}", stderr(&out));
        let help = stdout(&out);
        assert!(help.contains("Usage: reprise"), "{sub}: {help}");
        assert!(help.contains("5  the trace ended before the program did"), "{sub}: {help}");
    }
    assert_eq!(reprise(&["--help"]).status.code(), Some(0));
    assert_eq!(reprise(&["--version"]).status.code(), Some(0));
}

#[test]
fn the_settlement_batch_records_inspects_and_replays_from_the_cli() {
    let dir = scratch("cli-settlement");
    let trace = dir.join("s.trace");
    let out = reprise(&[
        "record",
        "--pipeline",
        "settlement",
        "--bug",
        "double-settle",
        "--orders",
        "300",
        "--settlers",
        "3",
        "--seed",
        "5",
        "--out",
        trace.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let recorded = stdout(&out);
    let last_two: Vec<&str> = recorded.lines().rev().take(2).collect();
    assert!(last_two[1].starts_with("digest: "), "{recorded}");
    assert!(last_two[0].starts_with("invariants: "), "{recorded}");

    let out = reprise_on(&["inspect"], &trace);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let inspected = stdout(&out);
    for needle in ["program: reprise-settlement", "pipeline=settlement", "settler-2", "rate-feed", "rwlock"] {
        assert!(inspected.contains(needle), "inspect lacks {needle:?}:\n{inspected}");
    }

    let out = reprise_on(&["replay"], &trace);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let replayed = stdout(&out);
    assert_eq!(replayed.lines().rev().take(2).collect::<Vec<_>>(), last_two);
}

#[test]
fn usage_errors_exit_2_with_one_clear_line() {
    for args in [
        &["frobnicate"][..],
        &["record", "--pipeline", "payments"][..],
        &["record", "--pipeline", "nope", "--out", "x"][..],
        &["record", "--pipeline", "payments", "--bug", "typo", "--out", "x"][..],
        &["record", "--pipeline", "payments", "--workers", "0", "--out", "x"][..],
        &["record", "--pipeline", "settlement", "--bug", "lost-update", "--out", "x"][..],
        &["record", "--pipeline", "settlement", "--settlers", "0", "--out", "x"][..],
        &["explore", "--pipeline", "settlement", "--bug", "deadlock"][..],
        &["explore", "--pipeline", "payments", "--backstop", "soon"][..],
        &["explore", "--pipeline", "payments", "--backstop", "0"][..],
        &["replay"][..],
    ] {
        let out = reprise(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(!stderr(&out).is_empty(), "{args:?}");
    }
}

#[test]
fn explore_reads_its_backstop_from_the_environment_and_refuses_a_bad_one() {
    let exe = env!("CARGO_BIN_EXE_reprise");
    let out = std::process::Command::new(exe)
        .args(["explore", "--pipeline", "payments", "--budget", "1"])
        .env("REPRISE_EXPLORE_BACKSTOP", "never")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("REPRISE_EXPLORE_BACKSTOP"), "{}", stderr(&out));
    let out = std::process::Command::new(exe)
        .args(["explore", "--pipeline", "payments", "--budget", "1", "--payments", "4", "--backstop", "off"])
        .env("REPRISE_EXPLORE_BACKSTOP", "never")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "the flag wins over the environment: {}", stderr(&out));
}

#[test]
fn record_verify_inspect_and_replay_agree_on_the_last_two_lines() {
    let dir = scratch("cli");
    let trace = dir.join("p.trace");
    let out = reprise(&[
        "record",
        "--pipeline",
        "payments",
        "--bug",
        "double-apply",
        "--payments",
        "150",
        "--workers",
        "3",
        "--seed",
        "9",
        "--out",
        trace.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let recorded = stdout(&out);
    let last_two: Vec<&str> = recorded.lines().rev().take(2).collect();
    assert!(last_two[1].starts_with("digest: "), "{recorded}");
    assert!(last_two[0].starts_with("invariants: "), "{recorded}");

    let out = reprise_on(&["verify"], &trace);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).starts_with("intact: "), "{}", stdout(&out));

    let out = reprise_on(&["inspect"], &trace);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let inspected = stdout(&out);
    for needle in
        ["threads: 7", "ledger-2", "reconciler", "bytes/event", "verdict: completed", "digest: ", "mutex"]
    {
        assert!(inspected.contains(needle), "inspect lacks {needle:?}:\n{inspected}");
    }

    let out = reprise_on(&["replay"], &trace);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let replayed = stdout(&out);
    let replay_last_two: Vec<&str> = replayed.lines().rev().take(2).collect();
    assert_eq!(replay_last_two, last_two);
}

/// A run that panics is a recording made (exit 0, the panic in the trace),
/// and its replay reproduces the panic: a match, in both modes.
#[test]
fn a_panicked_pipeline_records_and_replays_to_the_same_panic_with_exit_0() {
    let trace = scratch("cli-panic").join("p.trace");
    let out =
        reprise(&["record", "--pipeline", "payments", "--bug", "panic", "--out", trace.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}{}", stdout(&out), stderr(&out));
    let recorded = stdout(&out);
    assert!(recorded.contains("verdict: panicked"), "{recorded}");
    let last_two: Vec<&str> = recorded.lines().rev().take(2).collect();
    assert_eq!(last_two[0], "invariants: violated: panic", "{recorded}");
    for mode in [&["replay"][..], &["replay", "--coroutines"]] {
        let out = reprise_on(mode, &trace);
        let replayed = stdout(&out);
        assert_eq!(out.status.code(), Some(0), "{mode:?}: {replayed}{}", stderr(&out));
        assert_eq!(replayed.lines().rev().take(2).collect::<Vec<_>>(), last_two, "{mode:?}");
    }
}

#[test]
fn a_trace_of_another_program_asks_for_the_command_to_run() {
    let dir = scratch("cli-foreign");
    let trace = dir.join("own.trace");
    reprise::record(&trace, reprise::RecordConfig::new("my-service", "2.0"), || 1).unwrap();
    let out = reprise_on(&["replay"], &trace);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("-- <your program>"), "{}", stderr(&out));
}

#[test]
fn the_demo_reproduces_the_lost_update() {
    let dir = scratch("demo");
    let out = reprise(&["demo", "--out", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}\n{}", stdout(&out), stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("invariants: violated: conservation"), "{text}");
    assert_eq!(text.matches("(same as recorded)").count(), 3, "{text}");
    assert!(dir.join("lost-update.trace").exists());
}

/// The example program `examples/transfer.rs`, which `cargo test` builds.
fn example_binary() -> std::path::PathBuf {
    let deps = std::env::current_exe().unwrap();
    let debug = deps.parent().and_then(|d| d.parent()).unwrap();
    let exe = debug.join("examples").join(format!("transfer{}", std::env::consts::EXE_SUFFIX));
    assert!(exe.exists(), "{} is missing: run `cargo test` (it builds the examples)", exe.display());
    exe
}

#[test]
fn replay_runs_a_users_own_program_under_the_trace() {
    let dir = scratch("cli-own");
    let trace = dir.join("transfer.trace");
    let exe = example_binary();
    let recorded = std::process::Command::new(&exe).env("REPRISE_RECORD", &trace).output().unwrap();
    assert_eq!(recorded.status.code(), Some(0), "{}", stderr(&recorded));

    let out = reprise(&["replay", trace.to_str().unwrap(), "--", exe.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), stdout(&recorded), "the replay prints what the recording printed");
    assert!(stderr(&out).contains("replay matched the trace"), "{}", stderr(&out));

    // The same program run differently leaves the recorded path.
    let out = reprise(&["replay", trace.to_str().unwrap(), "--", exe.to_str().unwrap(), "7"]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(stderr(&out).contains("replay diverged in `teller-"), "{}", stderr(&out));
}

#[test]
fn a_trace_from_another_version_warns_and_still_replays() {
    let dir = scratch("cli-version");
    let trace = dir.join("old.trace");
    let config =
        reprise::pipelines::payments::PaymentsConfig { payments: 30, workers: 2, ..Default::default() };
    let header = reprise::RecordConfig::new("reprise-payments", "0.0.1-old")
        .parameter("pipeline", "payments")
        .parameter("bug", "none")
        .parameter("payments", "30")
        .parameter("workers", "2")
        .parameter("seed", "1");
    reprise::record(&trace, header, move || reprise::pipelines::payments::run(&config)).unwrap();
    let out = reprise_on(&["replay"], &trace);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).contains("recorded by reprise 0.0.1-old"), "{}", stderr(&out));
    assert!(stdout(&out).ends_with("invariants: ok\n"), "{}", stdout(&out));
}

#[test]
fn a_header_with_parameters_out_of_range_is_refused_before_use() {
    let dir = scratch("cli-params");
    let trace = dir.join("bad-params.trace");
    let header = reprise::RecordConfig::new("reprise-payments", env!("CARGO_PKG_VERSION"))
        .parameter("pipeline", "payments")
        .parameter("bug", "none")
        .parameter("payments", "30")
        .parameter("workers", "100000")
        .parameter("seed", "1");
    reprise::record(&trace, header, || ()).unwrap();
    let out = reprise_on(&["replay"], &trace);
    assert_eq!(out.status.code(), Some(6), "{}", stderr(&out));
    assert!(stderr(&out).contains("out of range"), "{}", stderr(&out));
}

#[test]
fn a_replay_with_other_arguments_says_so_and_shows_them_only_when_recorded_in_clear() {
    use reprise::args::{args_hash, ARGS_HASH_PARAMETER, ARGS_PARAMETER};
    let dir = scratch("cli-args");
    let exe = example_binary();

    // Hashed only (the default): `50` is the default round count, so the run is
    // the same and replays, but the command line is not.
    let trace = dir.join("hashed.trace");
    let recorded = std::process::Command::new(&exe).env("REPRISE_RECORD", &trace).output().unwrap();
    assert_eq!(recorded.status.code(), Some(0), "{}", stderr(&recorded));
    let header = reprise::read_trace_file(&trace).unwrap().header;
    assert_eq!(header.parameter(ARGS_HASH_PARAMETER), Some(args_hash(Vec::<String>::new()).as_str()));
    assert_eq!(header.parameter(ARGS_PARAMETER), None, "clear arguments only on request");
    let out = reprise(&["replay", trace.to_str().unwrap(), "--", exe.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(!stderr(&out).contains("arguments differ"), "same arguments: {}", stderr(&out));
    let out = reprise(&["replay", trace.to_str().unwrap(), "--", exe.to_str().unwrap(), "50"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("warning: this run's arguments differ from the recorded run's"), "{err}");
    assert!(!err.contains("recorded: "), "no clear values were stored: {err}");
    let out = reprise_on(&["inspect"], &trace);
    let hash = args_hash(Vec::<String>::new());
    assert!(stdout(&out).contains(&format!("arguments: {hash} (not recorded in clear)")), "{}", stdout(&out));

    // In clear, by opting in.
    let trace = dir.join("clear.trace");
    let recorded = std::process::Command::new(&exe)
        .arg("50")
        .env("REPRISE_RECORD", &trace)
        .env("REPRISE_RECORD_ARGS", "1")
        .output()
        .unwrap();
    assert_eq!(recorded.status.code(), Some(0), "{}", stderr(&recorded));
    let out = reprise(&["replay", trace.to_str().unwrap(), "--", exe.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("arguments differ"), "{err}");
    assert!(err.contains("recorded: \"50\"") && err.contains("this run: \n"), "{err}");
    let out = reprise_on(&["inspect"], &trace);
    let hash = args_hash(["50"]);
    assert!(stdout(&out).contains(&format!("arguments: \"50\" ({hash})")), "{}", stdout(&out));
}

#[test]
fn a_recording_hashes_the_arguments_and_stores_them_in_clear_only_when_asked() {
    use reprise::args::{args_hash, render_args, ARGS_HASH_PARAMETER, ARGS_PARAMETER};
    let dir = scratch("lib-args");
    let ours = args_hash(std::env::args_os().skip(1));
    for clear in [false, true] {
        let trace = dir.join(format!("{clear}.trace"));
        let config = reprise::RecordConfig::new("args", "1")
            .parameter(ARGS_HASH_PARAMETER, "a user's value gives way")
            .record_arguments(clear);
        reprise::record(&trace, config, || ()).unwrap();
        let header = reprise::read_trace_file(&trace).unwrap().header;
        assert_eq!(header.parameter(ARGS_HASH_PARAMETER), Some(ours.as_str()));
        let expected = clear.then(|| render_args(std::env::args_os().skip(1)));
        assert_eq!(header.parameter(ARGS_PARAMETER), expected.as_deref());
    }
}

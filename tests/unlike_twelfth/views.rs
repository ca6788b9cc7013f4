//! A lost update on a `Tracked` stock count, and a trace of many threads,
//! through the offline views.

use std::path::PathBuf;

use crate::util::{reprise, reprise_on, scratch, stderr, stdout};

use super::{debug_session, desk, digest_line, export, positions_agree_with_export, replay, run};

/// Recordings of the pickers, each with its exit code and stdout.
fn recordings(name: &str, runs: usize) -> Vec<(PathBuf, i32, std::process::Output)> {
    let dir = scratch(name);
    (0..runs)
        .map(|i| {
            let path = dir.join(format!("p{i}.trace"));
            let out = run("REPRISE_RECORD", path.to_str().unwrap(), &["pickers"], &[]);
            let code = out.status.code().unwrap();
            assert!(code == 0 || code == 3, "{}", stderr(&out));
            (path, code, out)
        })
        .collect()
}

/// The lines of `examples/twelfth_desk.rs` that read and write the stock.
fn picker_lines() -> (String, String) {
    let source =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/twelfth_desk.rs")).unwrap();
    let line = |needle: &str| {
        let n = source.lines().position(|l| l.contains(needle)).unwrap() + 1;
        format!("examples/twelfth_desk.rs:{n}:")
    };
    (line("let left = stock.get();"), line("stock.set(left - 1);"))
}

/// A failing recording (exit 3: the stock lost updates): `races` names an
/// R-W-W on the tracked cell at the pickers' read and write (exit 1);
/// `why -- CMD` names a tracked read and write at those lines (exit 0);
/// `replay -- CMD` gives the same digest both ways. A recording that
/// passed has no lost update, and `diff` tells it from the failing one by
/// its exit code. Two recordings are identical to `diff` exactly when
/// `export` gives the same lines for both.
#[test]
fn a_tracked_lost_update_is_named_alike_by_races_why_diff_and_replay() {
    let (read, write) = picker_lines();
    let recorded = recordings("twelfth-pickers", 12);
    let failing: Vec<_> = recorded.iter().filter(|(_, code, _)| *code == 3).collect();
    let (path, _, out) = failing.first().expect("one of 12 recordings lost an update");

    let races = reprise_on(&["races"], path);
    let said = stdout(&races);
    assert_eq!(races.status.code(), Some(1), "{said}{}", stderr(&races));
    let violation = said
        .split("\n\n")
        .find(|block| block.starts_with("atomicity violation (lost update, R-W-W) on tracked"))
        .unwrap_or_else(|| panic!("{said}"));
    assert!(violation.contains(&read) && violation.contains(&write), "{violation}");

    let desk_path = desk();
    let why = reprise(&["why", path.to_str().unwrap(), "--", desk_path.to_str().unwrap(), "pickers"]);
    let said = stdout(&why);
    assert_eq!(why.status.code(), Some(0), "{said}{}", stderr(&why));
    let pair = crate::util::why_pair(&said);
    assert_eq!(pair.len(), 2, "{said}");
    assert!(pair.iter().all(|l| l.contains(" tracked-")), "a pair of accesses of the stock: {said}");
    assert!(pair.iter().any(|l| l.contains(&read)) && pair.iter().any(|l| l.contains(&write)), "{said}");

    for coroutines in [false, true] {
        let replayed = replay(path, coroutines, &["pickers"], &[]);
        assert_eq!(replayed.status.code(), Some(0), "{}", stderr(&replayed));
        assert_eq!(digest_line(&replayed), digest_line(out));
    }

    if let Some((passed, _, _)) = recorded.iter().find(|(_, code, _)| *code == 0) {
        let races = reprise_on(&["races"], passed);
        assert!(!stdout(&races).contains("atomicity violation (lost update"), "{}", stdout(&races));
        let diff = reprise(&["diff", path.to_str().unwrap(), passed.to_str().unwrap()]);
        assert_eq!(diff.status.code(), Some(1), "{}", stdout(&diff));
        assert!(stdout(&diff).contains("reprise.exit_code=3"), "{}", stdout(&diff));
    }
    let exported: Vec<_> = recorded.iter().map(|(p, _, _)| export(p)).collect();
    for i in 1..recorded.len() {
        let diff = reprise(&["diff", recorded[0].0.to_str().unwrap(), recorded[i].0.to_str().unwrap()]);
        let same = exported[0] == exported[i];
        assert_eq!(
            diff.status.code(),
            Some(if same { 0 } else { 1 }),
            "export says the two are {}: {}",
            if same { "the same" } else { "different" },
            stdout(&diff)
        );
    }
}

/// A recorded storm of 52 threads (named, unnamed and scoped, most
/// short-lived): a scripted session of every motion command never fails,
/// and every position it prints is the event `export` numbers so.
#[test]
fn a_debug_session_over_many_threads_agrees_with_export() {
    let path = scratch("twelfth-debug").join("s.trace");
    let out = run("REPRISE_RECORD", path.to_str().unwrap(), &["storm", "10"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let events = export(&path);
    let last = events.len();
    let script = format!(
        "break thread w4-2\ncontinue\nstep 2\nback 1\nthread all\nbreak recv\ncontinue\ncontinue\nreverse-continue\n\
         delete\ngoto {mid}\nstep 5\nback 9\nthread collector\nstep 3\nback 2\nthread all\nbreak join\n\
         continue\nreverse-continue\nreverse-continue\ngoto {last}\nstep\nback {last}\nstep 0\nwhere\nquit\n",
        mid = last / 2
    );
    let (code, text, err) = debug_session(&path, &script);
    assert_eq!(code, Some(0), "{text}{err}");
    assert!(!err.contains("panicked"), "{err}");
    let seen = positions_agree_with_export(&text, &events);
    assert!(seen.len() >= 15, "{text}");
    assert!(seen.contains(&(last as u64 / 2)) && seen.contains(&(last as u64)), "{text}");
}

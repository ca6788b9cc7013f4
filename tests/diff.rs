//! `reprise diff`: recordings of the payments pipeline's lost-update bug
//! against a clean recording of the same seed name the first divergence,
//! the lock turns given to other workers and both verdicts; a trace against
//! itself is identical (exit 0).

use std::path::{Path, PathBuf};

use crate::util::{reprise, scratch, stderr, stdout};

fn record(dir: &Path, name: &str, bug: &str) -> PathBuf {
    let path = dir.join(format!("{name}.trace"));
    let out = reprise(&[
        "record",
        "--pipeline",
        "payments",
        "--bug",
        bug,
        "--payments",
        "60",
        "--workers",
        "2",
        "--seed",
        "7",
        "--out",
        path.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    path
}

/// A lost-update recording whose run broke conservation (the OS schedule
/// decides; most runs do).
fn record_broken(dir: &Path, name: &str) -> PathBuf {
    for attempt in 0..40 {
        let path = record(dir, &format!("{name}-{attempt}"), "lost-update");
        let out = reprise(&["inspect", path.to_str().unwrap()]);
        if stdout(&out).contains("violated: conservation") {
            return path;
        }
    }
    panic!("40 recordings of the lost-update bug all kept conservation");
}

fn diff(a: &Path, b: &Path) -> (Option<i32>, String) {
    let out = reprise(&["diff", a.to_str().unwrap(), b.to_str().unwrap()]);
    assert!(stderr(&out).is_empty(), "{}", stderr(&out));
    (out.status.code(), stdout(&out))
}

#[test]
fn lost_update_recordings_differ_from_a_clean_one_at_a_ledger_workers_lock() {
    let dir = scratch("diff-payments");
    let clean = record(&dir, "clean", "none");
    for run in 0..2 {
        let buggy = record_broken(&dir, &format!("lost-update-{run}"));
        let (code, text) = diff(&buggy, &clean);
        assert_eq!(code, Some(1), "{text}");
        let first =
            text.lines().find(|l| l.starts_with("first divergence: ")).unwrap_or_else(|| panic!("{text}"));
        // Where they part depends on the schedules (which worker took which
        // payment, or the buggy path's extra lock): a thread past its start,
        // named, with the differing event marked on both sides at its site.
        assert!(first.contains(" (thread ") && first.contains("differs in "), "{text}");
        let marked: Vec<&str> = text.lines().filter(|l| l.starts_with("    > ")).collect();
        assert_eq!(marked.len(), 2, "one marked event on each side: {text}");
        assert!(marked.iter().all(|l| l.contains(" #") && l.contains("payments/body.rs:")), "{text}");
        assert!(text.contains(": A gave turn "), "{text}");
        assert!(text.contains("verdict: A completed") && text.contains("conservation"), "{text}");
        assert!(text.contains("invariants=invariants: ok"), "{text}");
    }
}

#[test]
fn a_trace_and_its_copy_are_identical() {
    let dir = scratch("diff-same");
    let a = record(&dir, "a", "lost-update");
    let b = dir.join("copy.trace");
    std::fs::copy(&a, &b).unwrap();
    let (code, text) = diff(&a, &b);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("identical: "), "{text}");
}

#[test]
fn an_unreadable_trace_exits_6_with_one_line() {
    let dir = scratch("diff-bad");
    let a = record(&dir, "a", "none");
    let bad = dir.join("bad.trace");
    std::fs::write(&bad, b"not a trace at all").unwrap();
    let out = reprise(&["diff", a.to_str().unwrap(), bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(6), "{}", stderr(&out));
    assert!(stderr(&out).starts_with("reprise: error:"), "{}", stderr(&out));
}

//! `reprise::Tracked` and `reprise races`: the payments pipeline's lost
//! update is named as an atomicity violation with its call sites, the fixed
//! pipeline gives nothing, and on small programs unlike it a real data race
//! is found while accesses ordered by a lock, a message or a join are not.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::util::{reprise, scratch, stderr, stdout};

fn record_payments(dir: &Path, bug: &str, seed: u64, workers: &str) -> (PathBuf, String) {
    let trace = dir.join(format!("{bug}-{seed}.trace"));
    let out = reprise(&[
        "record",
        "--pipeline",
        "payments",
        "--bug",
        bug,
        "--payments",
        "60",
        "--workers",
        workers,
        "--seed",
        &seed.to_string(),
        "--tracked-balances",
        "--out",
        trace.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    (trace, stdout(&out))
}

fn races(trace: &Path) -> (Option<i32>, String) {
    let out = reprise(&["races", trace.to_str().unwrap()]);
    (out.status.code(), format!("{}{}", stdout(&out), stderr(&out)))
}

#[test]
fn the_payments_lost_update_is_an_atomicity_violation_with_its_call_sites() {
    let dir = scratch("races-lost-update");
    // The first seed whose recorded run lost an update (most do).
    let (trace, _) = (1..20)
        .map(|seed| record_payments(&dir, "lost-update", seed, "2"))
        .find(|(_, printed)| printed.contains("violated: conservation"))
        .expect("no recording of the lost-update bug broke conservation");
    let (code, report) = races(&trace);
    assert_eq!(code, Some(1), "{report}");
    assert!(report.contains("atomicity violation (lost update, R-W-W)"), "{report}");
    let lines: Vec<&str> = report.lines().filter(|l| l.contains(" it at ")).collect();
    assert!(lines.len() >= 3, "{report}");
    let first = lines[0..3].iter().map(|l| l.split_whitespace().nth(1).unwrap()).collect::<Vec<_>>();
    // One ledger worker reads, the other writes, the first writes.
    assert!(first[0].starts_with("ledger-") && first[1].starts_with("ledger-"), "{report}");
    assert_eq!(first[0], first[2], "{report}");
    assert_ne!(first[0], first[1], "{report}");
    assert!(lines[0].contains(" read it at src/pipelines/payments/body.rs:"), "{report}");
    assert!(lines[1].contains(" wrote it at src/pipelines/payments/body.rs:"), "{report}");
    assert!(lines[2].contains(" wrote it at src/pipelines/payments/body.rs:"), "{report}");
    // The tracked recording replays like any other.
    let replayed = reprise(&["replay", trace.to_str().unwrap()]);
    assert_eq!(replayed.status.code(), Some(0), "{}", stderr(&replayed));
}

#[test]
fn the_fixed_pipeline_has_no_race_and_no_violation() {
    let dir = scratch("races-fixed");
    for seed in 1..5 {
        let (trace, _) = record_payments(&dir, "none", seed, "4");
        let (code, report) = races(&trace);
        assert_eq!(code, Some(0), "seed {seed}: {report}");
        assert!(report.contains("0 data races, 0 atomicity violations"), "seed {seed}: {report}");
        assert!(!report.starts_with("0 accesses"), "seed {seed}: the balances were not tracked: {report}");
    }
}

/// Records `program` and returns `reprise races`'s exit code and report.
fn races_of(name: &str, program: impl FnOnce() + Send + 'static) -> (Option<i32>, String) {
    let dir = scratch(name);
    let trace = dir.join("program.trace");
    reprise::record(&trace, reprise::RecordConfig::new(name, "1"), program).unwrap();
    races(&trace)
}

#[test]
fn two_unordered_writes_are_a_data_race() {
    let (code, report) = races_of("races-unordered", || {
        let cell = Arc::new(reprise::Tracked::new(0));
        let other = Arc::clone(&cell);
        let t = reprise::thread::spawn(move || other.set(1));
        cell.set(2);
        t.join().unwrap();
    });
    assert_eq!(code, Some(1), "{report}");
    assert!(report.contains("1 data races"), "{report}");
    assert!(report.contains("tests/races.rs:"), "the call sites are the program's: {report}");
}

#[test]
fn accesses_ordered_by_a_lock_a_message_or_a_join_are_not_races() {
    let (code, report) = races_of("races-ordered", || {
        let cell = Arc::new(reprise::Tracked::new(0));
        let lock = Arc::new(reprise::sync::Mutex::new(()));
        let (tx, rx) = reprise::channel::unbounded();
        let (c1, l1) = (Arc::clone(&cell), Arc::clone(&lock));
        let locked = reprise::thread::spawn(move || {
            let _held = l1.lock().unwrap();
            c1.update(|v| *v += 1);
        });
        {
            let _held = lock.lock().unwrap();
            cell.update(|v| *v += 1);
        }
        locked.join().unwrap();
        let c2 = Arc::clone(&cell);
        let sender = reprise::thread::spawn(move || {
            c2.set(10);
            tx.send(()).unwrap();
        });
        rx.recv().unwrap();
        let seen = cell.get();
        sender.join().unwrap();
        cell.set(seen + 1);
    });
    assert_eq!(code, Some(0), "{report}");
    assert!(report.contains("0 data races, 0 atomicity violations"), "{report}");
}

#[test]
fn a_trace_without_tracked_accesses_says_there_was_nothing_to_check() {
    let trace = concat!(env!("CARGO_MANIFEST_DIR"), "/traces/lost-update.trace");
    let (code, report) = races(Path::new(trace));
    assert_eq!(code, Some(0), "{report}");
    assert!(report.contains("nothing to check"), "{report}");
}

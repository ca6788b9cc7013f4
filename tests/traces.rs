//! The sample traces in `traces/`: every one verifies and replays to the
//! digest and verdict its footer recorded; each seeded bug of each built-in
//! pipeline has one.

use crate::util::{reprise_on, stderr, stdout};

#[test]
fn every_sample_trace_verifies_and_replays_to_its_recorded_ending() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("traces");
    let mut replayed = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "trace") {
            continue;
        }
        let out = reprise_on(&["verify"], &path);
        assert_eq!(out.status.code(), Some(0), "{}: {}", path.display(), stderr(&out));
        let trace = reprise::read_trace_file(&path).unwrap();
        let footer = trace.footer.as_ref().expect("a whole trace has a footer");
        let out = reprise_on(&["replay"], &path);
        assert_eq!(out.status.code(), Some(0), "{}: {}", path.display(), stderr(&out));
        let text = stdout(&out);
        let lines: Vec<&str> = text.lines().rev().take(2).collect();
        if let Some(digest) = footer.annotation("digest") {
            assert_eq!(lines[1], format!("digest: {digest}"), "{}", path.display());
            assert_eq!(Some(lines[0]), footer.annotation("invariants"), "{}", path.display());
        } else {
            assert_eq!(lines[0], "invariants: violated: deadlock", "{}", path.display());
        }
        replayed.push(path.file_name().unwrap().to_string_lossy().into_owned());
    }
    replayed.sort();
    for bug in ["none", "lost-update", "double-apply", "reorder", "deadlock"] {
        assert!(replayed.iter().any(|n| n.starts_with(bug)), "traces/ has no {bug} trace: {replayed:?}");
    }
    for bug in ["none", "stale-rate", "double-settle"] {
        let name = format!("settlement-{bug}.trace");
        assert!(replayed.contains(&name), "traces/ has no {name}: {replayed:?}");
    }
}

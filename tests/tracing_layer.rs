//! `reprise::TracingLayer`: an application's tracing events and spans are
//! stored in the trace as annotations, shown by export, debug and timeline,
//! and checked by replay like any event.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use tracing::Dispatch;
use tracing_subscriber::prelude::*;

use crate::util::{reprise, reprise_on, scratch, stderr, stdout};

/// A settlement: the root logs, a worker logs inside a span.
fn program() -> u64 {
    let dispatch = Dispatch::new(tracing_subscriber::registry().with(reprise::TracingLayer::new()));
    tracing::dispatcher::with_default(&dispatch.clone(), || {
        tracing::info!(batch = 7, "opening batch");
        let worker = reprise::thread::spawn(move || {
            tracing::dispatcher::with_default(&dispatch, || {
                let span = tracing::info_span!("settle");
                let _entered = span.enter();
                tracing::warn!(amount = 5, "settled");
                5
            })
        });
        worker.join().unwrap()
    })
}

fn recorded(dir: &Path) -> std::path::PathBuf {
    let trace = dir.join("annotated.trace");
    reprise::record(&trace, reprise::RecordConfig::new("annotated", "1"), program).unwrap();
    trace
}

#[test]
fn events_and_spans_are_annotations_that_export_shows() {
    let dir = scratch("tracing-export");
    let trace = recorded(&dir);
    let out = reprise_on(&["export", "--format", "jsonl"], &trace);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let annotations: Vec<String> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter_map(|v| v["annotation"].as_str().map(str::to_string))
        .collect();
    assert_eq!(annotations.len(), 4, "{annotations:?}");
    assert!(
        annotations[0].starts_with("INFO ") && annotations[0].ends_with(": opening batch batch=7"),
        "{annotations:?}"
    );
    assert!(annotations.contains(&"enter span settle".to_string()), "{annotations:?}");
    assert!(
        annotations.iter().any(|a| a.starts_with("WARN ") && a.ends_with(": settled amount=5")),
        "{annotations:?}"
    );
    assert!(annotations.contains(&"exit span settle".to_string()), "{annotations:?}");
    let inspect = reprise_on(&["inspect"], &trace);
    assert!(stdout(&inspect).contains("annotation"), "{}", stdout(&inspect));
    // Chrome's format: each annotation is also an instant event on its
    // thread's track, named by its text.
    let out = reprise_on(&["export", "--format", "chrome"], &trace);
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let instants: Vec<&str> = json["traceEvents"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["ph"] == "i" && e["cat"] == "annotation")
        .filter_map(|e| e["name"].as_str())
        .collect();
    assert_eq!(instants.len(), 4, "{instants:?}");
    assert!(instants.contains(&"enter span settle"), "{instants:?}");
}

#[test]
fn debug_and_timeline_show_the_annotations() {
    let dir = scratch("tracing-views");
    let trace = recorded(&dir);
    let mut child = Command::new(env!("CARGO_BIN_EXE_reprise"))
        .arg("debug")
        .arg(&trace)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"break annotation\ncontinue\ncontinue\n").unwrap();
    let out = child.wait_with_output().unwrap();
    let text = stdout(&out);
    assert!(text.contains("annotation: INFO ") && text.contains("opening batch batch=7"), "{text}");
    assert!(text.contains("annotation: enter span settle"), "{text}");

    let page = dir.join("page.html");
    let out = reprise(&["timeline", trace.to_str().unwrap(), "--out", page.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(std::fs::read_to_string(&page).unwrap().contains("settled amount=5"));
}

#[test]
fn replay_checks_the_annotations_like_any_event() {
    let dir = scratch("tracing-replay");
    let trace = recorded(&dir);
    let trace = reprise::read_trace_file(&trace).unwrap();
    let same = reprise::replay(&trace, program);
    assert!(same.outcome.matched(), "{}", same.outcome);
    assert_eq!(same.result, Some(5));
    // A program that logs one event less diverges where the log differs.
    let quieter = reprise::replay(&trace, || {
        let worker = reprise::thread::spawn(|| 5);
        worker.join().unwrap()
    });
    assert!(!quieter.outcome.matched(), "a replay without the annotations matched");
}

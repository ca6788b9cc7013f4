//! `reprise export`: the Chrome JSON loads, names every thread's track and
//! draws message and lock arrows forward in time; the JSON Lines hold one
//! event per line, numbered consistently with happens-before.

use std::collections::HashMap;
use std::path::Path;

use serde_json::Value;

use crate::util::{reprise, reprise_on, scratch, stderr, stdout};

const LOST_UPDATE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/traces/lost-update.trace");

fn export(format: &str, trace: &Path) -> String {
    let out = reprise_on(&["export", "--format", format], trace);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    stdout(&out)
}

/// How many receives of the trace took a message.
fn messages_received(trace: &reprise::trace::read::TraceFile) -> usize {
    use reprise::trace::model::{Op, Record};
    let records = trace.threads.values().flat_map(|r| r.iter());
    records.filter(|r| matches!(r, Record::Event(e) if e.op == Op::Recv && e.a != 0)).count()
}

#[test]
fn chrome_json_names_every_thread_and_draws_forward_flows() {
    let json: Value = serde_json::from_str(&export("chrome", Path::new(LOST_UPDATE))).unwrap();
    let events = json["traceEvents"].as_array().unwrap();
    let names: Vec<&str> = events
        .iter()
        .filter(|e| e["ph"] == "M" && e["name"] == "thread_name")
        .map(|e| e["args"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["main", "ingest", "validate", "ledger-0", "ledger-1", "reconciler"]);
    // Each slice, by its timestamp (its event number).
    let slices: HashMap<u64, &Value> =
        events.iter().filter(|e| e["ph"] == "X").map(|e| (e["ts"].as_u64().unwrap(), e)).collect();
    let trace = reprise::read_trace_file(Path::new(LOST_UPDATE)).unwrap();
    assert_eq!(slices.len() as u64, trace.events);
    let mut starts: HashMap<u64, &Value> = HashMap::new();
    let mut kinds: HashMap<&str, usize> = HashMap::new();
    for e in events {
        match e["ph"].as_str().unwrap() {
            "s" => {
                starts.insert(e["id"].as_u64().unwrap(), e);
            }
            "f" => {
                let s = starts.remove(&e["id"].as_u64().unwrap()).expect("a flow ends before it starts");
                let (from, to) = (s["ts"].as_f64().unwrap(), e["ts"].as_f64().unwrap());
                assert!(from < to, "a flow goes back in time: {s} -> {e}");
                // The arrow's ends sit in the slices of its two events.
                let at = |ts: f64, flow: &Value| {
                    let slice = slices[&(ts.floor() as u64)];
                    assert_eq!(slice["tid"], flow["tid"]);
                    slice["name"].as_str().unwrap()
                };
                let (a, b) = (at(from, s), at(to, e));
                match e["name"].as_str().unwrap() {
                    "message" => assert_eq!((a, b), ("send", "recv")),
                    "lock" => assert_eq!((a, b), ("unlock", "lock")),
                    other => panic!("unknown flow {other}"),
                }
                *kinds.entry(e["name"].as_str().unwrap()).or_default() += 1;
            }
            _ => {}
        }
    }
    assert!(starts.is_empty(), "flows without an end: {starts:?}");
    assert_eq!(kinds["message"], messages_received(&trace), "an arrow for every message received");
    assert!(kinds["lock"] > 300, "{kinds:?}");
    assert_eq!(json["otherData"]["annotations"]["invariants"], "invariants: violated: conservation");
}

#[test]
fn jsonl_has_one_event_a_line_numbered_consistently_with_happens_before() {
    let dir = scratch("export-jsonl");
    let out_file = dir.join("events.jsonl");
    let out = reprise(&["export", LOST_UPDATE, "--format", "jsonl", "--out", out_file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).is_empty());
    let text = std::fs::read_to_string(&out_file).unwrap();
    let events: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let trace = reprise::read_trace_file(Path::new(LOST_UPDATE)).unwrap();
    assert_eq!(events.len() as u64, trace.events);
    for (i, e) in events.iter().enumerate() {
        assert_eq!(e["event"].as_u64(), Some(i as u64 + 1), "numbers are 1.. in file order");
    }
    // A receive's number is above its send's, found by the message id
    // (sender thread, its send count), not by the export's own links.
    let mut sends = HashMap::new();
    for e in events.iter().filter(|e| e["op"] == "send") {
        sends.insert(
            (e["thread"].as_u64().unwrap(), e["fields"][0].as_u64().unwrap()),
            e["event"].as_u64().unwrap(),
        );
    }
    let mut received = 0;
    for e in events.iter().filter(|e| e["op"] == "recv") {
        let (a, b) = (e["fields"][0].as_u64().unwrap(), e["fields"][1].as_u64().unwrap());
        if a == 0 {
            continue; // none came
        }
        let send = sends[&(a - 1, b)];
        assert!(e["event"].as_u64().unwrap() > send, "{e} before its send #{send}");
        assert_eq!(e["from"]["event"].as_u64(), Some(send), "{e}");
        received += 1;
    }
    assert_eq!(received, messages_received(&trace));
    // Per mutex, in number order: lock, unlock, lock, unlock... with the
    // turns counting up: every lock comes after the previous unlock.
    let mut per_lock: HashMap<u64, Vec<&Value>> = HashMap::new();
    for e in events.iter().filter(|e| e["op"] == "lock" || e["op"] == "unlock") {
        per_lock.entry(e["object"].as_u64().unwrap()).or_default().push(e);
    }
    for (object, seq) in per_lock {
        for (i, pair) in seq.chunks(2).enumerate() {
            assert_eq!(pair[0]["op"], "lock", "mutex {object}: {pair:?}");
            assert_eq!(pair[0]["fields"][0].as_u64(), Some(i as u64 + 1), "mutex {object} turn order");
            assert_eq!(pair[1]["op"], "unlock", "mutex {object}");
            assert_eq!(pair[0]["thread"], pair[1]["thread"], "mutex {object}");
        }
    }
    // Sites and thread names are there for scripts.
    assert!(events.iter().any(|e| e["thread_name"] == "ledger-1"
        && e["site"].as_str().is_some_and(|s| s.contains("payments/body.rs"))));
}

#[test]
fn export_refuses_a_missing_format_and_an_unwritable_out() {
    let out = reprise(&["export", LOST_UPDATE]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let out = reprise(&["export", LOST_UPDATE, "--format", "jsonl", "--out", "/nonexistent/dir/x.jsonl"]);
    assert_eq!(out.status.code(), Some(7), "{}", stderr(&out));
    assert!(stderr(&out).starts_with("reprise: error: cannot write"), "{}", stderr(&out));
    assert_eq!(stderr(&out).lines().count(), 1, "{}", stderr(&out));
}

//! `reprise debug`: a scripted session (commands on standard input) on the
//! payments pipeline's lost-update trace reaches the event where the update
//! was lost, and `where` shows every thread.

use std::collections::HashMap;

use serde_json::Value;

use crate::util::{reprise, stderr, stdout};

const LOST_UPDATE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/traces/lost-update.trace");

fn session(trace: &str, script: &str) -> (Option<i32>, String, String) {
    crate::util::debug_session(trace, script)
}

/// The first lost update, found from the JSON Lines export (the same
/// numbers): a worker's second acquisition of an account's lock in one
/// read-then-write, at another line than its first, with another worker's
/// acquisition between the two. Returns (event, site, object, thread name).
fn lost_update(events: &[Value]) -> (u64, String, u64, String) {
    let mut last: HashMap<u64, &Value> = HashMap::new();
    for e in events.iter().filter(|e| e["op"] == "lock") {
        let object = e["object"].as_u64().unwrap();
        if let Some(before) = last.get(&object) {
            let turn = e["fields"][0].as_u64().unwrap();
            // The same thread's previous acquisition of this lock.
            let own = events.iter().rev().find(|x| {
                x["op"] == "lock"
                    && x["object"] == e["object"]
                    && x["thread"] == e["thread"]
                    && x["event"].as_u64() < e["event"].as_u64()
            });
            if let Some(own) = own {
                let own_turn = own["fields"][0].as_u64().unwrap();
                let site = |v: &Value| v["site"].as_str().unwrap().to_string();
                let between_other = before["thread"] != e["thread"] && own_turn + 1 < turn;
                // The read and the write are two lines of one function.
                let line = |v: &Value| site(v).rsplit(':').nth(1).unwrap().parse::<u32>().unwrap();
                let same_function = line(own) != line(e) && line(own).abs_diff(line(e)) <= 8;
                if between_other && same_function {
                    let name = e["thread_name"].as_str().unwrap().to_string();
                    return (e["event"].as_u64().unwrap(), site(e), object, name);
                }
            }
        }
        last.insert(object, e);
    }
    panic!("no lost update in the trace");
}

#[test]
fn a_scripted_session_reaches_the_lost_update_and_where_shows_every_thread() {
    let out = reprise(&["export", LOST_UPDATE, "--format", "jsonl"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let events: Vec<Value> = stdout(&out).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let (event, site, object, worker) = lost_update(&events);
    let (file, line) = {
        let mut parts = site.rsplitn(3, ':');
        let _column = parts.next();
        let line = parts.next().unwrap().to_string();
        (parts.next().unwrap().rsplit('/').next().unwrap().to_string(), line)
    };
    let script = format!(
        "goto {before}\nbreak {file}:{line}\ncontinue\nwhere\nprint\nstep\nreverse-continue\nhelp\nquit\n",
        before = event - 1
    );
    let (code, text, err) = session(LOST_UPDATE, &script);
    assert_eq!(code, Some(0), "{err}\n{text}");
    // `continue` stops at the overwriting acquisition.
    let stop = text.split("(reprise) continue\n").nth(1).unwrap();
    let mut stop_lines = stop.lines();
    assert_eq!(stop_lines.next(), Some("breakpoint 1:"), "{text}");
    let at = stop_lines.next().unwrap();
    assert!(at.starts_with(&format!("#{event} [{worker}] lock mutex #{object} ")), "{at}\n{text}");
    // `where` shows every thread of the trace.
    let w = text.split("(reprise) where\n").nth(1).unwrap();
    assert!(w.starts_with(&format!("at #{event} of {}", events.len())), "{w}");
    for (i, name) in ["main", "ingest", "validate", "ledger-0", "ledger-1", "reconciler"].iter().enumerate() {
        assert!(w.contains(&format!("thread {i} ({name}): ")), "{name} missing from where:\n{w}");
    }
    // `print` shows the lock's history: the other worker's turn between.
    let p = text.split("(reprise) print\n").nth(1).unwrap();
    assert!(p.contains(&format!("held by {worker} since #{event}")), "{p}");
    let other = if worker == "ledger-0" { "ledger-1" } else { "ledger-0" };
    assert!(p.contains(&format!("[{other}] lock mutex #{object}")), "{p}");
    // Back to the same stop with reverse-continue after one step past it.
    let rc = text.split("(reprise) reverse-continue\n").nth(1).unwrap();
    assert!(rc.lines().nth(1).unwrap().starts_with(&format!("#{event} ")), "{rc}");
    assert!(text.contains("goto EVENT"), "help lists the commands");
    // The trace's own verdict says the invariant broke.
    let end = session(LOST_UPDATE, &format!("goto {}\n", events.len())).1;
    assert!(end.contains("end of the trace: completed") && end.contains("violated: conservation"), "{end}");
}

#[test]
fn a_wrong_command_in_a_script_is_reported_and_fails_the_session() {
    let (code, text, err) = session(LOST_UPDATE, "step\nfrobnicate\ngoto 99999999\nstep\n");
    assert!(text.contains("error: unknown command `frobnicate`"), "{text}");
    assert!(text.contains("error: there is no event 99999999"), "{text}");
    assert!(text.contains("#2 "), "the session goes on after an error: {text}");
    assert_eq!(code, Some(2), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
}

#[test]
fn a_truncated_trace_is_stepped_through_as_far_as_it_goes() {
    let bytes = std::fs::read(LOST_UPDATE).unwrap();
    let dir = crate::util::scratch("debug-cut");
    let cut = dir.join("cut.trace");
    std::fs::write(&cut, &bytes[..bytes.len() * 2 / 3]).unwrap();
    let (code, text, err) =
        session(cut.to_str().unwrap(), "where\nbreak lock\ncontinue\nstep 100000\nwhere\n");
    assert_eq!(code, Some(0), "{err}\n{text}");
    assert!(err.contains("not whole"), "{err}");
    assert!(
        text.contains("breakpoint 1:") && text.contains("end of the trace: the recording did not finish"),
        "{text}"
    );
    assert!(!err.contains("panicked"), "{err}");
}

//! The offline views on the set's recordings made through the API: a
//! settlement whose settler panics and is caught (poison, a rollback's
//! lock and send while unwinding, thread-locals' sends at thread end) and
//! a churn of a thousand short-lived mutexes and channels. `verify`,
//! `inspect`, `export`, `races`, `timeline`, `debug` and `diff` must not
//! fail and must agree with each other and with the trace as the library
//! reads it.

use std::path::{Path, PathBuf};

use crate::unlike_twelfth::{debug_session, export, inspect, positions_agree_with_export, verify};
use crate::util::{reprise, reprise_on, scratch, stderr, stdout};

/// Records `program` `runs` times; the paths.
fn recordings(name: &str, runs: usize, program: fn() -> String) -> Vec<PathBuf> {
    let dir = scratch(name);
    (0..runs)
        .map(|run| {
            let path = dir.join(format!("r{run}.trace"));
            let recorded = reprise::record(&path, reprise::RecordConfig::new(name, "1"), program).unwrap();
            assert!(recorded.result.is_some(), "{name}: {}", recorded.verdict);
            path
        })
        .collect()
}

/// Every view of one trace, checked against the others.
fn views_agree(path: &Path) {
    let trace = reprise::read_trace_file(path).unwrap();
    let (code, _, events, said) = verify(path);
    assert_eq!(code, Some(0), "{said}");
    assert_eq!(events, trace.events, "{said}");
    let inspected = inspect(path);
    assert!(inspected.contains(&format!("events: {events} in ")), "{inspected}");
    assert!(inspected.contains("verdict: completed"), "{inspected}");
    let exported = export(path);
    assert_eq!(exported.len() as u64, events);
    let races = reprise_on(&["races"], path);
    assert_eq!(races.status.code(), Some(0), "{}{}", stdout(&races), stderr(&races));
    let html = path.with_extension("html");
    let timeline = reprise(&["timeline", path.to_str().unwrap(), "--out", html.to_str().unwrap()]);
    assert_eq!(timeline.status.code(), Some(0), "{}", stderr(&timeline));
    assert!(std::fs::metadata(&html).unwrap().len() > 0);
    let itself = reprise(&["diff", path.to_str().unwrap(), path.to_str().unwrap()]);
    assert_eq!(itself.status.code(), Some(0), "{}", stdout(&itself));
    let last = exported.len();
    let script = format!(
        "break lock\ncontinue\ncontinue\nstep 3\nback 2\nreverse-continue\ndelete\ngoto {mid}\nstep 7\nback 4\n\
         goto {last}\nstep\nback {last}\nwhere\nquit\n",
        mid = last / 2
    );
    let (code, text, err) = debug_session(path, &script);
    assert_eq!(code, Some(0), "{text}{err}");
    assert!(!err.contains("panicked"), "{err}");
    let seen = positions_agree_with_export(&text, &exported);
    assert!(seen.contains(&(last as u64 / 2)) && seen.contains(&(last as u64)), "{text}");
}

/// `export`'s events without their object indexes, which follow the order
/// objects were first used in and can differ between two runs that did
/// the same (`diff` names objects by where they were made).
pub(super) fn by_creation_site(path: &Path) -> Vec<serde_json::Value> {
    let mut events = export(path);
    for e in &mut events {
        e.as_object_mut().unwrap().remove("object");
    }
    events
}

/// Two recordings are identical to `diff` exactly when `export` gives the
/// same lines for both, objects named by where they were made.
fn diff_agrees_with_export(paths: &[PathBuf]) {
    let exported: Vec<_> = paths.iter().map(|p| by_creation_site(p)).collect();
    for i in 1..paths.len() {
        let diff = reprise(&["diff", paths[0].to_str().unwrap(), paths[i].to_str().unwrap()]);
        let same = exported[0] == exported[i];
        assert_eq!(diff.status.code(), Some(if same { 0 } else { 1 }), "{}", stdout(&diff));
    }
}

#[test]
fn a_caught_settlement_panic_reads_alike_in_every_view() {
    let paths = recordings("thirteenth-views-settlement", 3, super::unwind::settlement);
    for path in &paths {
        views_agree(path);
        let exported = export(path);
        // The rollback's notice (sent while unwinding), the stop notice and
        // three tallies (sent by thread-locals' destructors).
        let sends = exported.iter().filter(|e| e["op"] == "send").count();
        assert_eq!(sends, 5, "{exported:?}");
    }
    diff_agrees_with_export(&paths);
}

#[test]
fn a_churn_of_short_lived_objects_reads_alike_in_every_view() {
    let paths = recordings("thirteenth-views-churn", 2, super::churn::churn_and_depth);
    for path in &paths {
        views_agree(path);
    }
    diff_agrees_with_export(&paths);
}

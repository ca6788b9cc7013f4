//! A storm of short-lived threads under the flight recorder.

use std::path::{Path, PathBuf};

use crate::util::{scratch, stderr, stdout};

use super::{
    debug_session, digest_line, export, inspect, positions_agree_with_export, replay, replayed_first, run,
    verify,
};

const ARGS: [&str; 3] = ["storm", "20", "panic"];

/// Runs the storm under `REPRISE_FLIGHT=PATH{budget}`: the auditor's panic
/// reaches the root, which exits 101. Returns the dump and the run's
/// stdout.
fn stormed(name: &str, budget: &str) -> (PathBuf, String) {
    let path = scratch(name).join("dump.trace");
    let out = run("REPRISE_FLIGHT", &format!("{}{budget}", path.display()), &ARGS, &[]);
    assert_eq!(out.status.code(), Some(101), "{}{}", stdout(&out), stderr(&out));
    assert!(stderr(&out).contains("audit: ledger holds"), "{}", stderr(&out));
    assert!(path.exists(), "no dump: {}", stderr(&out));
    (path, stdout(&out))
}

/// The dump verifies, and `export`, `timeline`, `races` and a `debug`
/// session read it with the same numbers. Returns its event count.
fn read_by_every_view(path: &Path) -> u64 {
    let (code, _, events, said) = verify(path);
    assert_eq!(code, Some(0), "{said}");
    let exported = export(path);
    assert_eq!(exported.len() as u64, events, "export and verify count the same events");
    let page = path.with_extension("html");
    let out = crate::util::reprise(&["timeline", path.to_str().unwrap(), "--out", page.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "timeline: {}", stderr(&out));
    assert!(std::fs::read_to_string(&page).unwrap().contains("</html>"));
    let out = crate::util::reprise_on(&["races"], path);
    assert_eq!(out.status.code(), Some(0), "races: no tracked cell here: {}{}", stdout(&out), stderr(&out));
    let script = format!("goto {events}\nwhere\nback 7\nbreak panic\nreverse-continue\ncontinue\nstep 3\nback 2\ngoto 1\nquit\n");
    let (code, text, err) = debug_session(path, &script);
    assert_eq!(code, Some(0), "{text}{err}");
    assert!(!err.contains("panicked"), "{err}");
    let seen = positions_agree_with_export(&text, &exported);
    assert!(seen.contains(&events) && seen.contains(&1), "{text}");
    events
}

/// With small rings the end of the run is all a dump holds: every view
/// reads it, and replay and why refuse it (exit 11), saying where its
/// window starts. The dump the root asked for halfway (copied aside by the
/// program) replays to its end (exit 5) when it covers the run from the
/// start, as the program says it does, and is refused otherwise.
#[test]
fn a_wrapped_storm_dump_opens_in_every_view_and_replay_refuses_it() {
    let (path, said) = stormed("twelfth-storm-wrapped", ",events=64");
    let shown = inspect(&path);
    assert!(shown.contains("mode: FlightRecorder"), "{shown}");
    assert!(shown.contains("window: the end of the run only"), "{shown}");
    assert!(shown.contains("verdict: panicked"), "{shown}");
    read_by_every_view(&path);
    for out in [
        replay(&path, false, &ARGS, &[]),
        replay(&path, true, &ARGS, &[]),
        crate::util::reprise(&[
            "why",
            path.to_str().unwrap(),
            "--",
            super::desk().to_str().unwrap(),
            ARGS[0],
            ARGS[1],
            ARGS[2],
        ]),
    ] {
        assert_eq!(out.status.code(), Some(11), "{}", stderr(&out));
        assert!(stderr(&out).contains("its window starts at event"), "{}", stderr(&out));
    }

    let mid_line = said.lines().find(|l| l.starts_with("mid dump: ")).unwrap_or_else(|| panic!("{said}"));
    assert!(mid_line.contains(" events, covers run "), "the API dump failed: {mid_line}");
    let mut mid = path.clone().into_os_string();
    mid.push(".mid");
    let mid = PathBuf::from(mid);
    let events = read_by_every_view(&mid);
    assert!(mid_line.starts_with(&format!("mid dump: {events} events")), "{mid_line} against {events}");
    assert!(inspect(&mid).contains("reprise.flight.running"), "taken while the run went on");
    for coroutines in [false, true] {
        let out = replay(&mid, coroutines, &ARGS, &[]);
        if mid_line.ends_with("covers run true") {
            assert_eq!(out.status.code(), Some(5), "coroutines {coroutines}: {}", stderr(&out));
            assert_eq!(replayed_first(&stderr(&out)), events, "coroutines {coroutines}: the whole dump");
        } else {
            assert_eq!(out.status.code(), Some(11), "coroutines {coroutines}: {}", stderr(&out));
        }
    }
}

/// With room for every event and every exited thread, the run's end
/// (the root's panic, after the auditor's) dumps the whole run: it
/// replays to the same panic and digest in parallel and on coroutines.
#[test]
fn a_whole_run_storm_dump_replays_to_the_same_panic_both_ways() {
    let (path, said) = stormed("twelfth-storm-whole", ",exited=1000");
    let shown = inspect(&path);
    assert!(shown.contains("window: the whole run"), "{shown}");
    assert!(shown.contains("verdict: panicked in thread 0: the auditor passed"), "{shown}");
    assert!(!shown.contains("reprise.flight.running"), "{shown}");
    read_by_every_view(&path);
    let recorded = said.lines().find(|l| l.contains(" digest ")).unwrap().to_owned();
    for coroutines in [false, false, true] {
        let out = replay(&path, coroutines, &ARGS, &[]);
        assert_eq!(out.status.code(), Some(0), "coroutines {coroutines}: {}", stderr(&out));
        assert!(stderr(&out).contains("replay matched the trace"), "{}", stderr(&out));
        assert!(stderr(&out).contains("the auditor passed"), "the same panic: {}", stderr(&out));
        assert_eq!(digest_line(&out), recorded, "coroutines {coroutines}");
    }
}

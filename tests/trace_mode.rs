//! Trace files hold what the program captured (account data): every file
//! reprise writes a trace into is readable by its owner only.
#![cfg(unix)]

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use reprise::explore::{Config, Explorer};
use reprise::sync::Mutex;
use reprise::{record, thread, RecordConfig};

use crate::util::{reprise, scratch, stderr};

fn mode_of(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn a_recording_is_created_readable_by_its_owner_only() {
    let path = scratch("mode-record").join("t.trace");
    record(&path, RecordConfig::new("mode", "1"), || 1).unwrap();
    assert_eq!(mode_of(&path), 0o600);
}

#[test]
fn the_cli_recording_is_created_readable_by_its_owner_only() {
    let path = scratch("mode-cli").join("t.trace");
    let out =
        reprise(&["record", "--pipeline", "payments", "--payments", "20", "--out", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(mode_of(&path), 0o600);
}

#[test]
fn an_explorer_failure_trace_is_created_readable_by_its_owner_only() {
    let dir = scratch("mode-explore");
    let racy = || {
        let total = std::sync::Arc::new(Mutex::new(0));
        let workers: Vec<_> = (0..2)
            .map(|_| {
                let total = std::sync::Arc::clone(&total);
                thread::spawn(move || {
                    let seen = *total.lock().unwrap();
                    *total.lock().unwrap() = seen + 1;
                })
            })
            .collect();
        for w in workers {
            w.join().unwrap();
        }
        assert_eq!(*total.lock().unwrap(), 2, "lost update");
    };
    let outcome = Explorer::new(Config::default().budget(500).trace_dir(&dir).name("mode")).run(racy);
    let failure = outcome.failure.expect("the lost update is found");
    assert_eq!(mode_of(failure.trace.as_ref().expect("trace written")), 0o600);
}

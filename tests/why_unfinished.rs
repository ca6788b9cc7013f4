//! `reprise why` on the trace of a run that did not finish (a worker's
//! `std::process::exit`, a flight dump taken mid-run): it refuses, saying
//! so, with replay's exit code for a trace that ended before the program
//! (5). It called such runs completed with exit code 0 (their footer's
//! verdict is a placeholder), disagreeing with `reprise replay` about the
//! same file. Found by the twelfth unlike set.

use std::process::Command;

use crate::util::{example, scratch, stderr};

/// `reprise why TRACE -- /bin/true`: what it says, and its exit code.
fn why(trace: &std::path::Path) -> (Option<i32>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_reprise"))
        .arg("why")
        .arg(trace)
        .args(["--", "/bin/true"])
        .output()
        .unwrap();
    (out.status.code(), stderr(&out))
}

#[test]
fn why_does_not_call_a_run_that_exited_3_completed_with_exit_code_0() {
    let trace = scratch("found2-why-exit").join("t.trace");
    let out = Command::new(example("process_exit"))
        .env_remove("REPRISE_REPLAY")
        .env_remove("REPRISE_FLIGHT")
        .env("REPRISE_RECORD", &trace)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let (code, said) = why(&trace);
    // It said "the recorded run did not fail (it completed with its
    // invariants kept and exit code 0)", exit 2.
    assert_eq!(code, Some(5), "{said}");
    assert!(said.contains("did not finish (std::process::exit ended the process"), "{said}");
}

#[test]
fn why_does_not_call_a_mid_run_flight_dump_a_completed_run() {
    let path = scratch("found2-why-mid-dump").join("dump.trace");
    let config = reprise::FlightConfig::new(reprise::RecordConfig::new("found2-why", "1"));
    reprise::flight(&path, config, || {
        let lock = std::sync::Arc::new(reprise::sync::Mutex::new(0u32));
        let theirs = std::sync::Arc::clone(&lock);
        let worker = reprise::thread::spawn(move || *theirs.lock().unwrap() += 1);
        *lock.lock().unwrap() += 1;
        worker.join().unwrap();
        reprise::flight_dump().unwrap();
        *lock.lock().unwrap() += 1;
    })
    .unwrap();
    let trace = reprise::read_trace_file(&path).unwrap();
    assert!(trace.footer.as_ref().unwrap().annotation("reprise.flight.running").is_some());
    let (code, said) = why(&path);
    // It said "the recorded run did not fail (it completed ...)", exit 2.
    assert_eq!(code, Some(5), "{said}");
    assert!(said.contains("did not finish (a flight-recorder dump taken while the run went on)"), "{said}");
}

//! `reprise diff` and a flight-recorder dump whose ring lost the run's
//! start: it refuses (exit 11, as replay does) and says where the window
//! starts, instead of lining the window's first event up with the other
//! run's first (found by the twelfth unlike set).

use std::process::Command;

use crate::util::{scratch, stderr, stdout};

fn program() -> u64 {
    let lock = reprise::sync::Mutex::new(0u64);
    for i in 0..500 {
        *lock.lock().unwrap() += i;
    }
    let total = *lock.lock().unwrap();
    total
}

#[test]
fn diff_refuses_a_dump_that_lost_the_runs_start_saying_where_it_starts() {
    let dir = scratch("found2-diff-ring");
    let whole = dir.join("whole.trace");
    let dump = dir.join("dump.trace");
    reprise::record(&whole, reprise::RecordConfig::new("found2-diff", "1"), program).unwrap();
    let config = reprise::FlightConfig::new(reprise::RecordConfig::new("found2-diff", "1"))
        .events(64)
        .dump_at_end(true);
    reprise::flight(&dump, config, program).unwrap();
    let trace = reprise::read_trace_file(&dump).unwrap();
    let window = trace
        .header
        .parameters
        .iter()
        .find(|(k, _)| k == "reprise.window")
        .map(|(_, v)| v.clone())
        .expect("the ring wrapped: a window");
    let out =
        Command::new(env!("CARGO_BIN_EXE_reprise")).arg("diff").arg(&dump).arg(&whole).output().unwrap();
    let said = stdout(&out);
    // It compared the window's first event with the whole run's first,
    // calling both "its event 0", and exited 1.
    assert_eq!(out.status.code(), Some(11), "window {window}:\n{said}{}", stderr(&out));
    assert!(!said.contains("its event 0:"), "{said}");
    let told = stderr(&out);
    assert!(
        told.contains("A (")
            && told.contains("holds only the end of the run: thread 0's events start at its event "),
        "{told}"
    );
    // The other way round, B is named; two whole traces still compare.
    let out =
        Command::new(env!("CARGO_BIN_EXE_reprise")).arg("diff").arg(&whole).arg(&dump).output().unwrap();
    assert_eq!(out.status.code(), Some(11));
    assert!(stderr(&out).contains("B ("), "{}", stderr(&out));
    let out =
        Command::new(env!("CARGO_BIN_EXE_reprise")).arg("diff").arg(&whole).arg(&whole).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
}

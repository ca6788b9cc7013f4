//! Replays of traces whose outcome fields were forged (fields no recorder
//! writes for their operation): the primitives read typed outcomes, so each
//! is a divergence that names the bad outcome, never a panic or a stall.

use reprise::trace::model::{Event, Op, Record};
use reprise::trace::read::TraceFile;
use reprise::{random, read_trace_file, record, replay, thread, RecordConfig, ReplayOutcome};

use crate::util::scratch;

/// The root spawns a worker that draws a number, then joins it.
fn spawn_draw_join() -> u64 {
    let worker = thread::Builder::new().name("worker".into()).spawn(random::u64).unwrap();
    worker.join().unwrap()
}

fn recorded(name: &str) -> TraceFile {
    let path = scratch(name).join("t.trace");
    record(&path, RecordConfig::new("forged-tests", "1"), spawn_draw_join).unwrap();
    read_trace_file(&path).unwrap()
}

/// Applies `forge` to `thread`'s first `op` event.
fn forge(trace: &mut TraceFile, thread: u32, op: Op, forge: impl FnOnce(&mut Event)) {
    let event = trace.records_mut(thread).unwrap().iter_mut().find_map(|r| match r {
        Record::Event(e) if e.op == op => Some(e),
        _ => None,
    });
    forge(event.unwrap_or_else(|| panic!("thread {thread} recorded no {}", op.name())));
}

/// Replays the forged trace and returns the divergence's detail, after
/// checking it is reported at `thread`'s event `index`.
fn divergence(trace: &TraceFile, thread: &str, index: usize) -> String {
    let report = replay(trace, spawn_draw_join);
    let ReplayOutcome::Diverged(d) = &report.outcome else {
        panic!("expected a divergence, got {}", report.outcome)
    };
    assert_eq!(d.thread, thread);
    assert_eq!(d.event, index);
    assert!(d.detail.contains("an outcome no recorder writes"), "{}", d.detail);
    d.detail.clone()
}

#[test]
fn a_join_whose_panicked_flag_is_neither_0_nor_1_is_a_divergence_naming_it() {
    let mut trace = recorded("forged-join");
    forge(&mut trace, 0, Op::Join, |e| e.b = 2);
    let detail = divergence(&trace, "`main` (thread 0)", 2);
    assert!(detail.contains("join with outcome fields (1, 2, 0): panicked is not 0 or 1"), "{detail}");
}

#[test]
fn a_spawn_of_a_thread_index_out_of_range_is_a_divergence_naming_it() {
    let mut trace = recorded("forged-spawn");
    forge(&mut trace, 0, Op::Spawn, |e| e.a = u64::from(u32::MAX) + 1);
    let detail = divergence(&trace, "`main` (thread 0)", 1);
    assert!(detail.contains("spawn with outcome fields (4294967296, 0, 0): not a thread index"), "{detail}");
}

#[test]
fn a_thread_exit_whose_panicked_flag_is_neither_0_nor_1_is_a_divergence_naming_it() {
    let mut trace = recorded("forged-exit");
    forge(&mut trace, 1, Op::ThreadExit, |e| e.a = 7);
    let detail = divergence(&trace, "`worker` (thread 1)", 2);
    assert!(detail.contains("thread-exit with outcome fields (7, 0, 0)"), "{detail}");
}

#[test]
fn a_random_draw_with_a_field_it_does_not_use_is_a_divergence_naming_it() {
    let mut trace = recorded("forged-random");
    forge(&mut trace, 1, Op::Random, |e| e.c = 1);
    let detail = divergence(&trace, "`worker` (thread 1)", 1);
    assert!(detail.contains("random with outcome fields"), "{detail}");
    assert!(detail.contains("a field this operation does not use is set"), "{detail}");
}

//! Object indexes are 32 bits: a recording that used them up stops, rather
//! than naming two objects with one index.

use std::collections::HashSet;

use super::OBJECT_INDEX_LIMIT;
use crate::rt::context;
use crate::trace::model::Record;
use crate::trace::read::read_trace_file;
use crate::{record, sync::Mutex, RecordConfig, STOPPED_ANNOTATION};

#[test]
fn a_recording_that_used_up_object_indexes_stops_and_the_program_runs_on() {
    let dir = std::env::temp_dir().join(format!("reprise-objects-used-up-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("t.trace");
    let run = record(&path, RecordConfig::new("objects", "1"), || {
        context::with(|ctx| ctx.exec.skip_objects_to(OBJECT_INDEX_LIMIT - 3));
        let mut total = 0u64;
        for i in 0..8u64 {
            let lock = Mutex::new(i);
            total += *lock.lock().unwrap();
        }
        total
    })
    .unwrap();
    assert_eq!(run.result, Some(28), "the program ran to its end");
    let stopped = run.stopped.expect("the recording stopped");
    assert!(stopped.contains("32-bit object indexes"), "{stopped}");
    let trace = read_trace_file(&path).unwrap();
    std::fs::remove_dir_all(&dir).ok();
    let footer = trace.footer.as_ref().expect("the trace was finished");
    assert!(footer.annotations.iter().any(|(k, v)| k == STOPPED_ANNOTATION && v == &stopped));
    let mut named = HashSet::new();
    for records in trace.threads.values() {
        for record in records.iter() {
            if let Record::Object { index, .. } = record {
                assert!(named.insert(*index), "object {index} named twice");
                assert!(*index >= OBJECT_INDEX_LIMIT - 3, "object {index}: an index wrapped");
            }
        }
    }
    assert!(named.len() >= 3, "the objects before the limit are in the trace: {named:?}");
}

#[test]
fn object_indexes_never_wrap() {
    let path = std::env::temp_dir().join(format!("reprise-objects-wrap-{}.trace", std::process::id()));
    let run = record(&path, RecordConfig::new("objects", "1"), || {
        context::with(|ctx| {
            ctx.exec.skip_objects_to(u32::MAX - 1);
            (0..3).map(|_| ctx.exec.allocate_object()).collect::<Vec<_>>()
        })
    })
    .unwrap();
    std::fs::remove_file(&path).ok();
    assert_eq!(run.result.unwrap(), [u32::MAX - 1, u32::MAX, u32::MAX]);
    assert!(run.stopped.is_some());
}

#[test]
fn a_flight_recorder_that_used_up_object_indexes_stops_and_its_dump_says_why() {
    let dir = std::env::temp_dir().join(format!("reprise-objects-flight-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("dump.trace");
    let config = crate::FlightConfig::new(RecordConfig::new("objects", "1")).dump_at_end(true);
    let run = crate::flight(&path, config, || {
        context::with(|ctx| ctx.exec.skip_objects_to(OBJECT_INDEX_LIMIT - 3));
        (0..8u64).map(|i| *Mutex::new(i).lock().unwrap()).sum::<u64>()
    })
    .unwrap();
    assert_eq!(run.result, Some(28), "the program ran to its end");
    let trace = read_trace_file(&path).unwrap();
    std::fs::remove_dir_all(&dir).ok();
    let footer = trace.footer.as_ref().expect("the dump was finished");
    assert!(
        footer
            .annotations
            .iter()
            .any(|(k, v)| k == STOPPED_ANNOTATION && v.contains("32-bit object indexes")),
        "{:?}",
        footer.annotations
    );
}

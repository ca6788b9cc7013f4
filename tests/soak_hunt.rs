//! reprise left on the way a long-running service leaves it: many requests,
//! each making and dropping its own objects (a reply channel, a lock), under
//! the recorder and the flight recorder (`examples/soak_service.rs` is the
//! service; these are the small versions of what broke). Every check is
//! decided from a trace's contents and exit codes, never from time.

use std::collections::BTreeSet;
use std::process::{Command, Stdio};

use reprise::sync::Mutex;
use reprise::trace::model::Record;
use reprise::trace::read::TraceFile;
use reprise::{channel, flight, read_trace_file, FlightConfig, RecordConfig};

use crate::util::{example, reprise as cli, scratch, stderr, stdout};

/// The objects a trace names (its object records) and those its events
/// are on.
fn named_and_used(trace: &TraceFile) -> (BTreeSet<u32>, BTreeSet<u32>) {
    let (mut named, mut used) = (BTreeSet::new(), BTreeSet::new());
    for record in trace.threads.values().flat_map(|records| records.iter()) {
        match record {
            Record::Object { index, .. } => {
                named.insert(*index);
            }
            Record::Event(e) if e.op.has_object() => {
                used.insert(e.object);
            }
            _ => {}
        }
    }
    (named, used)
}

/// Objects made and dropped one after another, one per "request".
const OBJECTS: u64 = 150_000;

/// A flight recorder kept the name of every object its run ever made: each
/// overwritten chunk's object records were appended to its thread's tables
/// for ever, so a service making a reply channel and a lock per request grew
/// by about 16 bytes a request (`soak_service`, a ring of 1,000 events: 7.9
/// MB peak at 200,000 requests, 36 MB at 2,000,000). It now forgets the
/// names of dropped objects that no chunk it keeps refers to; the dump at
/// the end is the measure (it writes every name kept): it still names every
/// object its events are on, the one alive since the start among them.
#[test]
fn a_flight_recorder_forgets_the_names_of_objects_dropped_long_ago() {
    let path = scratch("soak-flight-names").join("dump.trace");
    let config = FlightConfig::new(RecordConfig::new("soak-hunt", "1")).events(2_000).dump_at_end(true);
    let run = flight(&path, config, || {
        let (tx, rx) = channel::unbounded::<u64>();
        let total = Mutex::new(0u64);
        *total.lock().unwrap() += 1;
        for i in 0..OBJECTS {
            let scratch = Mutex::new(i);
            *scratch.lock().unwrap() += 1;
            if i % 1_000 == 0 {
                tx.send(i).unwrap();
            }
        }
        let sent: u64 = rx.try_iter().count() as u64;
        *total.lock().unwrap() += sent;
        let total = *total.lock().unwrap();
        total
    })
    .unwrap();
    assert_eq!(run.result, Some(1 + OBJECTS / 1_000));
    assert_eq!(run.dumps.len(), 1, "{:?}", run.failures);
    let trace = read_trace_file(&path).unwrap();
    let (named, used) = named_and_used(&trace);
    let unnamed: Vec<_> = used.difference(&named).collect();
    assert!(unnamed.is_empty(), "the dump's events are on objects it does not name: {unnamed:?}");
    assert!(
        (named.len() as u64) < OBJECTS / 2,
        "the dump names {} objects of the {} the run made and dropped: the keeper keeps them all",
        named.len(),
        OBJECTS + 2
    );
    let verified = cli(&["verify", path.to_str().unwrap()]);
    assert!(verified.status.success(), "{}", stderr(&verified));
}

/// The service itself, small: recorded, then replayed by the CLI with the
/// same digest (exit 0).
#[test]
fn the_soak_service_recorded_replays_to_its_digest() {
    let exe = example("soak_service");
    let path = scratch("soak-service").join("t.trace");
    let out =
        Command::new(&exe).arg("3000").env("REPRISE_RECORD", &path).stderr(Stdio::piped()).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let said = stdout(&out);
    let digest = said.split("digest ").nth(1).unwrap().trim().to_owned();
    let replayed = cli(&["replay", path.to_str().unwrap(), "--", exe.to_str().unwrap(), "3000"]);
    assert_eq!(replayed.status.code(), Some(0), "{}{}", stdout(&replayed), stderr(&replayed));
    assert!(stdout(&replayed).contains(&digest), "{}", stdout(&replayed));
}

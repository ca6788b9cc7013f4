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
use reprise::{channel, flight, read_trace_file, record, replay, FlightConfig, RecordConfig, ReplayOutcome};

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
const OBJECTS: u64 = 400_000;

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
            // The keeper catches up (a dump takes everything handed over):
            // a debug build makes objects faster than its keeper takes them.
            if i % 20_000 == 0 {
                reprise::flight_dump().unwrap();
            }
        }
        let sent: u64 = rx.try_iter().count() as u64;
        *total.lock().unwrap() += sent;
        let total = *total.lock().unwrap();
        total
    })
    .unwrap();
    assert_eq!(run.result, Some(1 + OBJECTS / 1_000));
    assert_eq!(run.dumps.len() as u64, 1 + OBJECTS / 20_000, "{:?}", run.failures);
    let trace = read_trace_file(&path).unwrap();
    let (named, used) = named_and_used(&trace);
    let unnamed: Vec<_> = used.difference(&named).collect();
    assert!(unnamed.is_empty(), "the dump's events are on objects it does not name: {unnamed:?}");
    assert!(
        (named.len() as u64) < OBJECTS / 3,
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

/// A program's worth of trace (some 600 KB): far more than a pipe holds.
fn locks_and_messages() -> u64 {
    let total = std::sync::Arc::new(Mutex::new(0u64));
    let (tx, rx) = channel::bounded::<u64>(8);
    let worker = {
        let total = std::sync::Arc::clone(&total);
        reprise::thread::spawn(move || {
            for n in rx.iter() {
                *total.lock().unwrap() += n;
            }
        })
    };
    for n in 0..50_000u64 {
        tx.send(n).unwrap();
    }
    drop(tx);
    worker.join().unwrap();
    let total = *total.lock().unwrap();
    total
}

/// A recording into a disk that stopped taking writes (a FIFO nobody reads:
/// a hung mount, a pipe to a stuck collector) did not end: the program's
/// last line had run, and its end waited on the writer for ever (into a
/// FIFO read at 100 KB/s, `soak_service` with 100,000 requests served them
/// in 0.4 s, then took 131 s to exit). The end now waits at most
/// `RecordConfig::drain_timeout` (twice): the program goes on; once the
/// disk takes writes again the writer drops what is left and ends the trace
/// with an end marker saying why, and the trace replays up to there (the
/// trace ended). Nothing here depends on how long the timeout is: the FIFO
/// is not read at all until the recording returned.
#[test]
fn a_recording_whose_disk_stops_taking_writes_ends_without_waiting_for_it() {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    use std::os::unix::io::AsRawFd;

    let dir = scratch("soak-stuck-disk");
    let fifo = dir.join("t.trace");
    let c_path = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0);
    // A reader, so that the recording can open the FIFO; it reads nothing
    // until the recording returned.
    let mut reader =
        std::fs::OpenOptions::new().read(true).custom_flags(libc::O_NONBLOCK).open(&fifo).unwrap();
    let config = RecordConfig::new("soak-hunt", "1").drain_timeout(std::time::Duration::from_millis(20));
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    let path = fifo.clone();
    std::thread::spawn(move || {
        let _ = done_tx.send(record(&path, config, locks_and_messages).map(|r| (r.result, r.stopped)));
    });
    // A backstop for the failure only (it hung for ever): with the fix the
    // answer comes after two drain timeouts, whatever the machine's load.
    let (result, stopped) = done_rx
        .recv_timeout(std::time::Duration::from_secs(120))
        .expect("the recording's end waited on a writer that cannot write")
        .unwrap();
    assert_eq!(result, Some((0..50_000u64).sum()));
    assert!(stopped.is_some(), "the recording says it stopped");

    // The disk takes writes again: the writer ends the trace.
    let fd = reader.as_raw_fd();
    unsafe { libc::fcntl(fd, libc::F_SETFL, libc::fcntl(fd, libc::F_GETFL) & !libc::O_NONBLOCK) };
    let mut bytes = Vec::new();
    reader.read_to_end(&mut bytes).unwrap();
    let copy = dir.join("copy.trace");
    std::fs::write(&copy, &bytes).unwrap();
    let trace = read_trace_file(&copy).unwrap();
    let why = trace
        .footer
        .as_ref()
        .and_then(|f| f.annotation(reprise_recorder::STOPPED_ANNOTATION))
        .unwrap_or_default();
    assert!(why.contains("the writer fell behind"), "footer: {:?}", trace.footer);
    let verified = cli(&["verify", copy.to_str().unwrap()]);
    assert!(verified.status.success(), "{}", stderr(&verified));
    let replayed = replay(&trace, locks_and_messages);
    assert!(matches!(replayed.outcome, ReplayOutcome::TraceEnded { .. }), "{}", replayed.outcome);
}

/// The last events on an object can reach the flight recorder long after
/// the object was dropped: another thread's block waits to be handed over
/// while that thread is blocked (the flight recorder has no flusher).
/// Forgetting dropped names a look after hearing of the drop forgot names
/// such events still needed (`soak_service`, a dump on `SIGUSR1`: 70 to 177
/// events of 336,000 on objects the dump did not name). Here a helper locks
/// a lock the root named long before, then blocks while the root drops the
/// lock and makes and drops 150,000 more; the dump at the end must name the
/// lock its events are on.
#[test]
fn a_flight_recorder_keeps_the_name_of_a_dropped_object_whose_last_events_come_late() {
    let path = scratch("soak-flight-late").join("dump.trace");
    let config = FlightConfig::new(RecordConfig::new("soak-hunt", "1")).events(2_000).dump_at_end(true);
    let run = flight(&path, config, || {
        let shared = std::sync::Arc::new(Mutex::new(0u64));
        *shared.lock().unwrap() += 1;
        let (locked_tx, locked_rx) = channel::bounded::<()>(1);
        let (go_tx, go_rx) = channel::bounded::<()>(1);
        let helper = {
            let shared = std::sync::Arc::clone(&shared);
            reprise::thread::spawn(move || {
                *shared.lock().unwrap() += 1;
                drop(shared);
                locked_tx.send(()).unwrap();
                // Blocked, its block with the lock not handed over.
                go_rx.recv().unwrap();
            })
        };
        locked_rx.recv().unwrap();
        let seen = *shared.lock().unwrap();
        drop(shared);
        for i in 0..OBJECTS {
            let scratch = Mutex::new(i);
            *scratch.lock().unwrap() += 1;
        }
        go_tx.send(()).unwrap();
        helper.join().unwrap();
        seen
    })
    .unwrap();
    assert_eq!(run.result, Some(2));
    assert_eq!(run.dumps.len(), 1, "{:?}", run.failures);
    let trace = read_trace_file(&path).unwrap();
    let (named, used) = named_and_used(&trace);
    let unnamed: Vec<_> = used.difference(&named).collect();
    assert!(unnamed.is_empty(), "the dump's events are on objects it does not name: {unnamed:?}");
}

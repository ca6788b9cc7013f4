//! Forged outcomes that a coroutine replay (which checks each call's outcome
//! against the recorded one) reports, and that a parallel replay (threads at
//! a gate) must report too, promptly and from state: a turn number the
//! object never gave, a turn moved past a gap or given twice, and receives
//! of one sender's messages out of their FIFO order. Each forgery is a
//! divergence at the forged event in both modes, never a match (exit 0)
//! and never the time backstop.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use reprise::sync::atomic::AtomicU64;
use reprise::sync::{Mutex, RwLock};
use reprise::trace::model::{Event, Op, Outcome, Received, Record};
use reprise::trace::read::TraceFile;
use reprise::{
    channel, read_trace_file, record, replay_coroutines, replay_with, thread, RecordConfig, ReplayOptions,
    ReplayOutcome,
};

use crate::util::scratch;

/// Locks, an RwLock, an atomic and a channel: the worker takes the mutex
/// three times and sends two messages, the root takes it three times,
/// writes twice, reads, stores, loads and receives both messages.
fn program() -> u64 {
    let mutex = Arc::new(Mutex::new(0u64));
    let rw = Arc::new(RwLock::new(0u64));
    let atomic = Arc::new(AtomicU64::new(0));
    let (tx, rx) = channel::unbounded::<u64>();
    let m = Arc::clone(&mutex);
    let worker = thread::Builder::new()
        .name("worker".into())
        .spawn(move || {
            for _ in 0..3 {
                *m.lock().unwrap() += 1;
            }
            tx.send(1).unwrap();
            tx.send(2).unwrap();
        })
        .unwrap();
    for _ in 0..3 {
        *mutex.lock().unwrap() += 10;
    }
    *rw.write().unwrap() += 1;
    *rw.write().unwrap() += 1;
    let read = *rw.read().unwrap();
    atomic.store(5, Ordering::SeqCst);
    let loaded = atomic.load(Ordering::SeqCst);
    let first = rx.recv().unwrap();
    let second = rx.recv().unwrap();
    worker.join().unwrap();
    let total = *mutex.lock().unwrap();
    total * 1000 + read * 100 + loaded * 10 + first * 2 + second
}

/// A short time backstop: a replay only it ends fails in seconds.
fn options() -> ReplayOptions {
    let mut options = ReplayOptions::default();
    options.stall_backstop = Some(Duration::from_secs(8));
    options
}

fn recorded(name: &str) -> TraceFile {
    let path = scratch(name).join("t.trace");
    record(&path, RecordConfig::new("parallel-checks", "1"), program).unwrap();
    read_trace_file(&path).unwrap()
}

/// The positions (in `thread`'s records and among its events) of its `op` events.
fn events_of(trace: &TraceFile, thread: u32, op: Op) -> Vec<(usize, usize)> {
    let records = &trace.threads[&thread];
    let mut index = 0;
    let mut found = Vec::new();
    for (at, r) in records.iter().enumerate() {
        if let Record::Event(e) = r {
            if e.op == op {
                found.push((at, index));
            }
            index += 1;
        }
    }
    found
}

fn event_mut(trace: &mut TraceFile, thread: u32, at: usize) -> &mut Event {
    match &mut trace.records_mut(thread).unwrap()[at] {
        Record::Event(e) => e,
        _ => unreachable!("an event's position"),
    }
}

/// Sets the counter number of `thread`'s `nth` `op` event to `number`;
/// returns the event's index in the thread's log.
fn forge_number(trace: &mut TraceFile, thread: u32, op: Op, nth: usize, number: u64) -> usize {
    let (at, index) = events_of(trace, thread, op)[nth];
    let e = event_mut(trace, thread, at);
    let outcome = e.outcome().unwrap().with_counter(e.object, |_, _, _| number);
    *e = Event::new(outcome, e.object, e.site);
    index
}

/// Replays `trace` in `parallel` or on coroutines; the divergence's
/// (thread, event, detail). A parallel replay's time backstop is short, so
/// a replay that only the backstop ends fails here in seconds.
fn diverged(trace: &TraceFile, parallel: bool) -> (String, usize, String) {
    let started = Instant::now();
    let report = if parallel {
        let options = options();
        replay_with(trace, &options, program).outcome
    } else {
        replay_coroutines(trace, program).outcome
    };
    let mode = if parallel { "parallel" } else { "coroutines" };
    let ReplayOutcome::Diverged(d) = report else {
        panic!("{mode}: expected a divergence, got {report} after {:?}", started.elapsed())
    };
    (d.thread, d.event, d.detail)
}

fn both_diverge_at(trace: &TraceFile, thread: &str, event: usize) -> Vec<String> {
    [true, false]
        .into_iter()
        .map(|parallel| {
            let (t, e, detail) = diverged(trace, parallel);
            let mode = if parallel { "parallel" } else { "coroutines" };
            assert_eq!((t.as_str(), e), (thread, event), "{mode}: {detail}");
            detail
        })
        .collect()
}

#[test]
fn the_unforged_recording_replays_in_both_modes() {
    let trace = recorded("parallel-checks-whole");
    let options = options();
    let parallel = replay_with(&trace, &options, program);
    assert!(parallel.outcome.matched(), "{}", parallel.outcome);
    let coroutines = replay_coroutines(&trace, program);
    assert!(coroutines.outcome.matched(), "{}", coroutines.outcome);
}

#[test]
fn a_read_lock_that_saw_a_write_never_recorded_is_a_divergence_in_both_modes() {
    let mut trace = recorded("parallel-checks-read");
    let index = forge_number(&mut trace, 0, Op::ReadLock, 0, 1 << 32);
    let details = both_diverge_at(&trace, "`main` (thread 0)", index);
    assert!(
        details[0].contains("write 4294967296") && details[0].contains("never happened"),
        "{}",
        details[0]
    );
}

#[test]
fn an_atomic_load_of_a_store_never_recorded_is_a_divergence_in_both_modes() {
    let mut trace = recorded("parallel-checks-load");
    let index = forge_number(&mut trace, 0, Op::AtomicLoad, 0, 1 << 32);
    let details = both_diverge_at(&trace, "`main` (thread 0)", index);
    assert!(details[0].contains("store 4294967296"), "{}", details[0]);
}

#[test]
fn a_mutex_turn_moved_past_the_last_is_a_divergence_in_both_modes() {
    // The worker's second lock moved to 1004: the acquisitions after it
    // skip a number. Both modes stop at the first turn past the gap, which
    // is not always the same thread's: parallel replay sees the gap where a
    // thread waits for a number after it, coroutines where one gets a
    // number other than its recorded one.
    for nth in [0, 1, 2] {
        let mut trace = recorded("parallel-checks-moved");
        forge_number(&mut trace, 1, Op::Lock, nth, 1004);
        for parallel in [true, false] {
            let (thread, event, detail) = diverged(&trace, parallel);
            assert!(!thread.is_empty() && event > 0, "{detail}");
        }
    }
}

#[test]
fn a_mutex_turn_given_twice_is_a_divergence_not_a_stall() {
    // The root's last lock (after the join) claims the number of its first.
    let mut trace = recorded("parallel-checks-twice");
    let locks = events_of(&trace, 0, Op::Lock).len();
    let first = {
        let (at, _) = events_of(&trace, 0, Op::Lock)[0];
        let e = event_mut(&mut trace, 0, at);
        e.outcome().unwrap().counter(e.object).unwrap().2
    };
    let index = forge_number(&mut trace, 0, Op::Lock, locks - 1, first);
    let details = both_diverge_at(&trace, "`main` (thread 0)", index);
    assert!(details[0].contains("already taken"), "{}", details[0]);
}

#[test]
fn receives_of_one_senders_messages_out_of_fifo_order_are_a_divergence_in_both_modes() {
    let mut trace = recorded("parallel-checks-fifo");
    let recvs = events_of(&trace, 0, Op::Recv);
    assert_eq!(recvs.len(), 2);
    let (a, b) = (recvs[0].0, recvs[1].0);
    let first = *event_mut(&mut trace, 0, a);
    let second = *event_mut(&mut trace, 0, b);
    for (e, from) in [(a, second), (b, first)] {
        let target = event_mut(&mut trace, 0, e);
        (target.a, target.b, target.c) = (from.a, from.b, from.c);
    }
    assert!(matches!(
        event_mut(&mut trace, 0, a).outcome(),
        Ok(Outcome::Recv(Received::Message { seq: 2.., .. }))
    ));
    let details = both_diverge_at(&trace, "`main` (thread 0)", recvs[1].1);
    assert!(details.iter().all(|d| d.contains("FIFO")), "{details:?}");
}

/// `trace` written again with valid checksums, a thread's records in
/// chunks of a few dozen, the footer's event count recounted.
fn encode(trace: &TraceFile) -> Vec<u8> {
    use reprise::trace::codec::{encode_record, EventEncoder};
    use reprise::trace::write::TraceWriter;
    let mut w = TraceWriter::create(Vec::new(), &trace.header).unwrap();
    let mut events = 0u64;
    for (&thread, records) in &trace.threads {
        let mut seq = 0;
        let mut at = 0;
        while at < records.len() {
            let mut end = (at + 48).min(records.len());
            // A blob stays with its event.
            while end < records.len() && matches!(records[end], Record::Blob(_)) {
                end += 1;
            }
            let mut enc = EventEncoder::new();
            let mut payload = Vec::new();
            for r in &records[at..end] {
                encode_record(&mut enc, &mut payload, r);
                events += u64::from(matches!(r, Record::Event(_)));
            }
            w.write_chunk(thread, seq, &payload).unwrap();
            seq += 1;
            at = end;
        }
    }
    let mut footer = trace.footer.clone().unwrap();
    footer.events = events;
    w.finish(&footer).unwrap()
}

/// A built-in pipeline's sample trace with mutex turns moved to 1004, one
/// forgery per run: `reprise replay` reports a divergence (exit 3) in both
/// modes, from state, without the time backstop (set far beyond the limit).
#[test]
fn a_pipelines_mutex_turn_moved_is_a_prompt_divergence_from_the_command_line_in_both_modes() {
    let sample = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("traces/none.trace");
    let original = read_trace_file(&sample).unwrap();
    let dir = scratch("parallel-checks-cli");
    let mut tried = 0;
    for (&thread, records) in &original.threads {
        let locks: Vec<usize> = records
            .iter()
            .enumerate()
            .filter(|(_, r)| matches!(r, Record::Event(e) if e.op == Op::Lock))
            .map(|(at, _)| at)
            .collect();
        for &at in locks.iter().step_by(locks.len().div_ceil(3).max(1)) {
            let mut trace = original.clone();
            let e = event_mut(&mut trace, thread, at);
            let outcome = e.outcome().unwrap().with_counter(e.object, |_, _, _| 1004);
            *e = Event::new(outcome, e.object, e.site);
            let path = dir.join(format!("moved-{thread}-{at}.trace"));
            std::fs::write(&path, encode(&trace)).unwrap();
            for mode in [&["replay"][..], &["replay", "--coroutines"][..]] {
                let started = Instant::now();
                let out = std::process::Command::new(env!("CARGO_BIN_EXE_reprise"))
                    .args(mode)
                    .arg(&path)
                    .env("REPRISE_STALL_BACKSTOP", "600")
                    .output()
                    .unwrap();
                let stderr = String::from_utf8_lossy(&out.stderr);
                assert_eq!(out.status.code(), Some(3), "{mode:?} thread {thread} record {at}: {stderr}");
                assert!(started.elapsed() < Duration::from_secs(60), "{mode:?}: {:?}", started.elapsed());
            }
            tried += 1;
        }
    }
    assert!(tried >= 3, "the sample has locks to forge");
}

#[test]
fn a_write_lock_waiting_for_more_readers_than_the_trace_records_is_a_divergence_in_both_modes() {
    let mut trace = recorded("parallel-checks-readers");
    let (at, index) = events_of(&trace, 0, Op::WriteLock)[1];
    let e = event_mut(&mut trace, 0, at);
    let Ok(Outcome::WriteLock { write, readers: 0 }) = e.outcome() else { panic!("{e:?}") };
    *e = Event::new(Outcome::WriteLock { write, readers: 5 }, e.object, e.site);
    let details = both_diverge_at(&trace, "`main` (thread 0)", index);
    assert!(details.iter().all(|d| d.contains("waits for 5 read locks")), "{details:?}");
}

//! `reprise debug`'s `goto` on a 10,000,000-event trace: the numbering (the
//! index) is built once, then any event is one binary search away. The
//! trace is made in memory (4 threads taking turns on one mutex, so the
//! threads alternate every two events: the worst case for the index's runs)
//! rather than recorded, which would take minutes.
//!
//! `REPRISE_BENCH_DEBUG_EVENTS` sets the size (default 10,000,000).

use std::collections::BTreeMap;
use std::time::Instant;

use criterion::{black_box, Criterion};
use reprise::trace::format::{FormatVersion, Header, TraceMode};
use reprise::trace::model::{Event, Op, Record};
use reprise::trace::read::TraceFile;
use reprise_replayer::views::debug::Session;
use reprise_replayer::views::number;

const THREADS: u64 = 4;
const MUTEX: u32 = 1;

fn event(op: Op, object: u32, a: u64) -> Record {
    Record::Event(Event { op, object, site: 0, a, b: 0, c: 0 })
}

/// `events` events: thread 0 spawns the others, then every thread takes
/// every `THREADS`-th turn of one mutex (lock, unlock).
fn trace(events: u64) -> TraceFile {
    let turns = events / 2;
    let mut threads: BTreeMap<u32, Vec<Record>> = BTreeMap::new();
    for t in 0..THREADS as u32 {
        let records = threads.entry(t).or_default();
        records.push(Record::Thread {
            index: t,
            parent: if t == 0 { u32::MAX } else { 0 },
            child: t,
            name: format!("worker-{t}"),
        });
        records.push(event(Op::ThreadStart, 0, 0));
        if t == 0 {
            for child in 1..THREADS {
                records.push(event(Op::Spawn, 0, child));
            }
        }
    }
    for turn in 1..=turns {
        let records = threads.get_mut(&(((turn - 1) % THREADS) as u32)).unwrap();
        records.push(event(Op::Lock, MUTEX, turn));
        records.push(event(Op::Unlock, MUTEX, 0));
    }
    let events = threads.values().flatten().filter(|r| matches!(r, Record::Event(_))).count() as u64;
    TraceFile {
        version: FormatVersion::CURRENT,
        header: Header {
            program: "bench".into(),
            program_version: "1".into(),
            recorder_version: "0".into(),
            mode: TraceMode::Record,
            parameters: Vec::new(),
            start_unix_ms: 0,
        },
        threads: threads.into_iter().map(|(t, records)| (t, std::sync::Arc::new(records))).collect(),
        footer: None,
        seal: None,
        chunks: 0,
        events,
        bytes: 0,
        intact_bytes: 0,
        damage: None,
    }
}

fn main() {
    let size: u64 =
        std::env::var("REPRISE_BENCH_DEBUG_EVENTS").ok().and_then(|s| s.parse().ok()).unwrap_or(10_000_000);
    let trace = trace(size);
    let started = Instant::now();
    let numbering = number(&trace);
    let built = started.elapsed();
    assert_eq!(numbering.len(), trace.events);
    assert_eq!(numbering.forced_count(), 0, "the synthetic trace is consistent");
    println!("debug: {} events; the index (numbering) built once in {built:.2?}", numbering.len());
    let mut session = Session::new(&numbering);
    let mut c = Criterion::default().configure_from_args();
    // A fixed pseudo-random walk over the whole trace.
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let len = numbering.len();
    c.bench_function(&format!("debug/goto any of {len} events"), |b| {
        b.iter(|| {
            let target = next() % len + 1;
            let n = session.goto(black_box(target)).expect("every number has an event");
            assert_eq!(n.number, target);
            black_box(n.thread)
        })
    });
    c.bench_function(&format!("debug/`goto N` command with its printed line, {len} events"), |b| {
        b.iter(|| {
            let target = next() % len + 1;
            black_box(session.execute(&format!("goto {target}")))
        })
    });
    c.final_summary();
}

//! The streaming reader's memory does not grow with the trace: reading a
//! trace of a million events through it allocates at most a few chunks'
//! worth, where decoding the trace whole allocates tens of megabytes.
//!
//! One test in its own binary, so no other test's allocations are counted.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use reprise_recorder::trace::codec::{encode_record, EventEncoder};
use reprise_recorder::trace::format::{Footer, Header, TraceMode, Verdict};
use reprise_recorder::trace::model::{Event, Outcome, Record};
use reprise_recorder::trace::read::read_trace;
use reprise_recorder::trace::stream::TraceStream;
use reprise_recorder::trace::write::TraceWriter;

/// The system allocator, counting the bytes live and their high-water mark.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is passed unchanged to `System`, which upholds the
// `GlobalAlloc` contract; the counters only observe sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's `layout` obligations are forwarded as they are.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(live, Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `alloc` above with this `layout`.
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Runs `f` and returns the most bytes it had allocated at once beyond what was live before.
fn peak_during(f: impl FnOnce()) -> usize {
    let before = LIVE.load(Ordering::Relaxed);
    PEAK.store(before, Ordering::Relaxed);
    f();
    PEAK.load(Ordering::Relaxed).saturating_sub(before)
}

const THREADS: u32 = 4;
const CHUNKS_PER_THREAD: u32 = 250;
const EVENTS_PER_CHUNK: u64 = 1000;

/// A whole trace of `THREADS * CHUNKS_PER_THREAD * EVENTS_PER_CHUNK` events.
fn big_trace() -> Vec<u8> {
    let header = Header {
        program: "stream-memory".into(),
        program_version: "0".into(),
        recorder_version: "0".into(),
        mode: TraceMode::Record,
        parameters: vec![],
        start_unix_ms: 0,
    };
    let mut w = TraceWriter::create(Vec::new(), &header).unwrap();
    let mut payload = Vec::new();
    for seq in 0..CHUNKS_PER_THREAD {
        for thread in 0..THREADS {
            let mut enc = EventEncoder::new();
            payload.clear();
            for a in 0..EVENTS_PER_CHUNK {
                let outcome =
                    if a % 2 == 0 { Outcome::Lock { acquisition: a / 2 + 1 } } else { Outcome::Unlock };
                let event = Event::new(outcome, thread, 0);
                encode_record(&mut enc, &mut payload, &Record::Event(event));
            }
            w.write_chunk(thread, seq, &payload).unwrap();
        }
    }
    let events = u64::from(THREADS * CHUNKS_PER_THREAD) * EVENTS_PER_CHUNK;
    w.finish(&Footer { verdict: Verdict::Completed, annotations: vec![], events }).unwrap()
}

#[test]
fn streaming_a_trace_takes_the_memory_of_a_chunk_not_of_the_trace() {
    let bytes = big_trace();
    let mut streamed_events = 0;
    let streaming = peak_during(|| {
        let mut stream = TraceStream::new(&bytes[..]).unwrap();
        while let Some(chunk) = stream.next_chunk().unwrap() {
            streamed_events += chunk.records.len() as u64;
        }
        let end = stream.finish().unwrap();
        assert!(end.is_whole(), "{:?}", end.damage);
        assert_eq!(end.events, streamed_events);
    });
    assert_eq!(streamed_events, u64::from(THREADS * CHUNKS_PER_THREAD) * EVENTS_PER_CHUNK);
    let whole = peak_during(|| {
        let file = read_trace(&bytes).unwrap();
        assert!(file.is_whole());
    });
    // A chunk here decodes to ~1000 records; a few of them, the reader's
    // buffer and its per-thread counters fit well within 2 MiB.
    assert!(streaming < 2 << 20, "streaming took {streaming} bytes at once");
    // The control: the same trace decoded whole needs far more, so the bound
    // above says something about the stream.
    assert!(whole > 10 * streaming, "whole {whole} vs streaming {streaming}");
}

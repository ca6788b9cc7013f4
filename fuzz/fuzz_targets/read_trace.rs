//! Fuzzes the trace readers and the chunk codec: no input may panic, hang or
//! allocate beyond its size, whatever decodes must re-encode to itself, and
//! the streaming reader must say what the in-memory one says.
#![no_main]

use std::collections::BTreeMap;

use libfuzzer_sys::fuzz_target;
use reprise_recorder::trace::codec::{decode_chunk, encode_record, EventEncoder};
use reprise_recorder::trace::format::{Footer, Header, TraceMode, Verdict};
use reprise_recorder::trace::model::Record;
use reprise_recorder::trace::read::read_trace;
use reprise_recorder::trace::stream::{StreamError, TraceStream};
use reprise_recorder::trace::write::TraceWriter;

fn check(bytes: &[u8]) {
    let Ok(file) = read_trace(bytes) else { return };
    let len = bytes.len() as u64;
    assert_eq!(file.bytes, len);
    assert!(file.intact_bytes <= len);
    assert!(file.chunks <= len && file.events <= len);
    if let Some(damage) = &file.damage {
        assert!(damage.offset <= len, "{damage}");
    }
    assert_eq!(file.is_whole(), file.damage.is_none() && file.footer.is_some());
    for records in file.threads.values() {
        assert!(records.len() as u64 <= len);
    }
}

/// The streaming reader gives the in-memory reader's error, or its records
/// (gathered per thread), counts, footer, seal and damage.
fn stream_agrees(bytes: &[u8]) {
    let whole = read_trace(bytes);
    let mut stream = match TraceStream::new(bytes) {
        Ok(stream) => stream,
        Err(StreamError::Format(e)) => {
            assert_eq!(whole.err(), Some(e));
            return;
        }
        Err(StreamError::Io(e)) => panic!("a slice cannot fail to read: {e}"),
    };
    let file = whole.expect("the in-memory reader reads the header the stream read");
    let mut threads: BTreeMap<u32, Vec<Record>> = BTreeMap::new();
    while let Some(chunk) = stream.next_chunk().expect("a slice cannot fail to read") {
        threads.entry(chunk.thread).or_default().extend_from_slice(chunk.records);
    }
    let end = stream.finish().expect("a slice cannot fail to read");
    let read: BTreeMap<u32, Vec<Record>> = file.threads.iter().map(|(&t, r)| (t, r.to_vec())).collect();
    assert_eq!(threads, read);
    assert_eq!((end.version, &end.header), (file.version, &file.header));
    assert_eq!((&end.footer, end.seal), (&file.footer, file.seal));
    assert_eq!((end.chunks, end.events), (file.chunks, file.events));
    assert_eq!((end.bytes, end.intact_bytes), (file.bytes, file.intact_bytes));
    assert_eq!(end.damage, file.damage);
}

/// Decoding then encoding then decoding gives the same records.
fn round_trip(payload: &[u8]) {
    let Ok(records) = decode_chunk(payload) else {
        return;
    };
    let mut enc = EventEncoder::new();
    let mut out = Vec::new();
    for r in &records {
        encode_record(&mut enc, &mut out, r);
    }
    let again: Vec<Record> = decode_chunk(&out).expect("re-encoded records decode");
    assert_eq!(again, records);
}

/// `payload` framed as thread 0's only chunk of an otherwise valid trace, so
/// the codec is reached through the reader without forging checksums.
fn framed(payload: &[u8]) -> Option<Vec<u8>> {
    let header = Header {
        program: "fuzz".into(),
        program_version: "0".into(),
        recorder_version: "0".into(),
        mode: TraceMode::Record,
        parameters: vec![],
        start_unix_ms: 0,
    };
    let mut w = TraceWriter::create(Vec::new(), &header).ok()?;
    w.write_chunk(0, 0, payload).ok()?;
    let footer = Footer { verdict: Verdict::Completed, annotations: vec![], events: 0 };
    w.finish(&footer).ok()
}

fuzz_target!(|data: &[u8]| {
    check(data);
    stream_agrees(data);
    round_trip(data);
    if let Some(trace) = framed(data) {
        stream_agrees(&trace);
        let file = read_trace(&trace).expect("a framed chunk has a valid header");
        assert_eq!(file.damage.is_none(), decode_chunk(data).is_ok());
    }
});

use super::*;
use crate::trace::codec::tests::{arb_record, encode_all};
use crate::trace::format::{BlockedThread, TraceMode, Verdict, FORMAT_MINOR};
use crate::trace::format::{FrameHeader, FRAME_CHUNK, FRAME_END, FRAME_HEADER_LEN, MAX_CHUNK_PAYLOAD};
use crate::trace::model::{Event, ObjectKind, Op, NO_THREAD};
use crate::trace::write::TraceWriter;
use proptest::prelude::*;

mod props;

pub(crate) use props::{arb_chunks, arb_mutation, mutate};

pub(crate) fn header() -> Header {
    Header {
        program: "payments".into(),
        program_version: "0.3.1".into(),
        recorder_version: "0.1.0".into(),
        mode: TraceMode::Explore,
        parameters: vec![("seed".into(), "42".into())],
        start_unix_ms: 1_700_000_000_000,
    }
}

pub(crate) fn footer() -> Footer {
    Footer {
        verdict: Verdict::Deadlock {
            blocked: vec![BlockedThread {
                thread: 1,
                op: Op::Lock,
                object: 4,
                file: "src/x.rs".into(),
                line: 10,
                column: 5,
                waits_for: Some(0),
            }],
        },
        annotations: vec![("iteration".into(), "17".into())],
        events: 5,
    }
}

fn ev(op: Op, object: u32, a: u64) -> Record {
    Record::Event(Event { op, object, site: 0, a, b: 0, c: 0 })
}

/// Chunks in file order: (thread, seq, records).
pub(crate) fn sample_chunks() -> Vec<(u32, u32, Vec<Record>)> {
    let site = Record::Site { index: 0, file: "src/main.rs".into(), line: 3, column: 9 };
    vec![
        (
            0,
            0,
            vec![
                Record::Thread { index: 0, parent: NO_THREAD, child: 0, name: "main".into() },
                site.clone(),
                Record::Clock(1_700_000_000_001),
                ev(Op::ThreadStart, 0, 0),
                Record::Object { index: 4, kind: ObjectKind::Mutex, site: 0 },
                ev(Op::Lock, 4, 1),
            ],
        ),
        (
            1,
            0,
            vec![
                Record::Thread { index: 1, parent: 0, child: 0, name: String::new() },
                site,
                ev(Op::ThreadStart, 0, 0),
            ],
        ),
        (0, 1, vec![ev(Op::Capture, 0, 3), Record::Blob(b"abc".to_vec())]),
        (1, 1, vec![ev(Op::Unlock, 4, 0)]),
    ]
}

pub(crate) fn write(chunks: &[(u32, u32, Vec<Record>)], footer: Option<&Footer>) -> Vec<u8> {
    let mut w = TraceWriter::create(Vec::new(), &header()).unwrap();
    for (thread, seq, records) in chunks {
        w.write_chunk(*thread, *seq, &encode_all(records)).unwrap();
    }
    match footer {
        Some(f) => w.finish(f).unwrap(),
        None => std::mem::take(w.get_mut()),
    }
}

pub(crate) fn sample() -> Vec<u8> {
    write(&sample_chunks(), Some(&footer()))
}

fn expected_threads(chunks: &[(u32, u32, Vec<Record>)]) -> BTreeMap<u32, Vec<Record>> {
    let mut threads: BTreeMap<u32, Vec<Record>> = BTreeMap::new();
    for (thread, _, records) in chunks {
        threads.entry(*thread).or_default().extend(records.iter().cloned());
    }
    threads
}

pub(crate) fn event_count(chunks: &[(u32, u32, Vec<Record>)]) -> u64 {
    chunks.iter().flat_map(|(_, _, r)| r).filter(|r| matches!(r, Record::Event(_))).count() as u64
}

/// Each frame of a trace as (offset, header), the end frame last.
fn frames(bytes: &[u8]) -> Vec<(usize, FrameHeader)> {
    let mut pos = PREAMBLE_LEN + u32_at(bytes, 12) as usize + 4;
    let mut out = Vec::new();
    while let Some(raw) = bytes.get(pos..).and_then(|b| b.first_chunk::<FRAME_HEADER_LEN>()) {
        let h = FrameHeader::from_bytes(raw);
        out.push((pos, h));
        pos += FRAME_HEADER_LEN + h.len as usize;
    }
    out
}

/// `bytes` without chunk frame `k`, the later chunks of its thread
/// renumbered and every checksum recomputed: damage no frame check sees.
pub(crate) fn relink_without(bytes: &[u8], k: usize) -> Vec<u8> {
    let all = frames(bytes);
    let (_, removed) = all[k];
    let mut out = bytes[..all[0].0].to_vec();
    for (i, &(pos, h)) in all.iter().enumerate() {
        if i == k {
            continue;
        }
        let payload = &bytes[pos + FRAME_HEADER_LEN..pos + FRAME_HEADER_LEN + h.len as usize];
        let seq = if h.tag == FRAME_CHUNK && h.thread == removed.thread && i > k { h.seq - 1 } else { h.seq };
        out.extend(FrameHeader::new(h.tag, h.thread, seq, payload).to_bytes());
        out.extend(payload);
    }
    out
}

/// Three threads' chunks, interleaved, ten each.
pub(crate) fn many_chunks() -> Vec<(u32, u32, Vec<Record>)> {
    let mut chunks = Vec::new();
    for seq in 0..10u32 {
        for thread in 0..3u32 {
            let n = 1 + (seq as u64 + u64::from(thread)) % 3;
            chunks.push((thread, seq, (1..=n).map(|a| ev(Op::Lock, 4, a)).collect()));
        }
    }
    chunks
}

#[test]
fn a_chunk_removed_and_relinked_is_caught_by_the_seal() {
    let chunks = many_chunks();
    let bytes = write(&chunks, Some(&Footer { events: event_count(&chunks), ..footer() }));
    assert!(read_trace(&bytes).unwrap().is_whole());
    for k in 0..chunks.len() {
        let relinked = relink_without(&bytes, k);
        let f = read_trace(&relinked).unwrap();
        let damage = f.damage.clone().expect("a removed chunk went unseen");
        assert_eq!(
            damage.kind,
            TraceErrorKind::FooterMismatch { what: "chunks", footer: 30, read: 29 },
            "chunk {k}"
        );
        assert!(damage.to_string().contains("the footer says 30 chunks, but the file holds 29"));
        assert!(f.footer.is_some() && !f.is_whole());
    }
}

#[test]
fn a_swapped_chunk_is_caught_by_the_chain() {
    let mut chunks = many_chunks();
    let bytes = write(&chunks, Some(&Footer { events: event_count(&chunks), ..footer() }));
    let sealed = read_trace(&bytes).unwrap().seal.unwrap();
    // Same thread, same seq, same number of events, other content.
    chunks[4].2 = chunks[4].2.iter().map(|_| ev(Op::Lock, 4, 99)).collect();
    let mut w = TraceWriter::create(Vec::new(), &header()).unwrap();
    for (thread, seq, records) in &chunks {
        w.write_chunk(*thread, *seq, &encode_all(records)).unwrap();
    }
    let forged = Footer { events: event_count(&chunks), ..footer() };
    let mut end = postcard::to_stdvec(&forged).unwrap();
    end.extend(postcard::to_stdvec(&sealed).unwrap());
    let mut out = std::mem::take(w.get_mut());
    out.extend(FrameHeader::new(FRAME_END, 0, 0, &end).to_bytes());
    out.extend(end);
    let kind = read_trace(&out).unwrap().damage.unwrap().kind;
    assert!(matches!(kind, TraceErrorKind::ChainMismatch { .. }), "{kind:?}");
}

#[test]
fn a_footer_whose_event_count_is_wrong_is_damage() {
    let bytes = write(&sample_chunks(), Some(&Footer { events: 6, ..footer() }));
    assert_eq!(kind(&bytes), TraceErrorKind::FooterMismatch { what: "events", footer: 6, read: 5 });
}

#[test]
fn a_format_1_1_footer_without_a_seal_still_reads_whole() {
    let body = postcard::to_stdvec(&header()).unwrap();
    let mut bytes = raw_header(1, &body);
    for (thread, seq, records) in sample_chunks() {
        let payload = encode_all(&records);
        bytes.extend(FrameHeader::new(FRAME_CHUNK, thread, seq, &payload).to_bytes());
        bytes.extend(payload);
    }
    // Its counts are not checked: 1.1 wrote a footer with no seal.
    let end = postcard::to_stdvec(&Footer { events: 99, ..footer() }).unwrap();
    bytes.extend(FrameHeader::new(FRAME_END, 0, 0, &end).to_bytes());
    bytes.extend(end);
    let f = read_trace(&bytes).unwrap();
    assert!(f.is_whole(), "{:?}", f.damage);
    assert_eq!((f.version.minor, f.seal), (1, None));
}

fn kind(bytes: &[u8]) -> TraceErrorKind {
    match read_trace(bytes) {
        Err(e) => e.kind,
        Ok(f) => f.damage.expect("expected damage").kind,
    }
}

/// What a damaged read keeps must be a prefix of each thread's records.
fn assert_prefix_of(original: &TraceFile, damaged: &TraceFile) {
    for (thread, records) in &damaged.threads {
        let whole = &original.threads[thread];
        assert!(whole.starts_with(records), "thread {thread} kept records it did not have");
    }
}

#[test]
fn a_written_trace_reads_back_whole() {
    let bytes = sample();
    let f = read_trace(&bytes).unwrap();
    assert!(f.is_whole());
    assert_eq!(f.header, header());
    assert_eq!(f.version, FormatVersion::CURRENT);
    assert_eq!(f.footer, Some(footer()));
    assert_eq!(f.unshared_threads(), expected_threads(&sample_chunks()));
    assert_eq!((f.chunks, f.events), (4, 5));
    assert_eq!((f.bytes, f.intact_bytes), (bytes.len() as u64, bytes.len() as u64));
}

#[test]
fn an_unfinished_recording_keeps_every_chunk_and_says_why() {
    let bytes = write(&sample_chunks(), None);
    let f = read_trace(&bytes).unwrap();
    assert!(!f.is_whole());
    assert_eq!(f.unshared_threads(), expected_threads(&sample_chunks()));
    let damage = f.damage.unwrap();
    assert_eq!(damage.offset, bytes.len() as u64);
    assert_eq!(
        damage.to_string(),
        format!("at byte {}: no end marker: the recording did not finish (a crash or a kill)", bytes.len())
    );
}

#[test]
fn header_faults_are_errors() {
    assert_eq!(read_trace(&[]).unwrap_err(), fail(0, TraceErrorKind::Empty));
    assert_eq!(kind(b"PK\x03\x04 a zip file"), TraceErrorKind::BadMagic);
    assert_eq!(kind(b"REPR"), TraceErrorKind::Truncated { what: "preamble", needed: 16, left: 4 });
    let mut future = sample();
    future[8..10].copy_from_slice(&(FORMAT_MAJOR + 1).to_le_bytes());
    let err = read_trace(&future).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("at byte 8: too new: written by trace format 2.{FORMAT_MINOR}, this reader reads 1.x: upgrade reprise")
    );
    future[8..10].copy_from_slice(&0u16.to_le_bytes());
    assert!(matches!(kind(&future), TraceErrorKind::TooOld { .. }));
    let mut huge = sample();
    huge[12..16].copy_from_slice(&u32::MAX.to_le_bytes());
    assert_eq!(
        read_trace(&huge).unwrap_err(),
        fail(
            12,
            TraceErrorKind::TooLarge { what: "header", len: u32::MAX.into(), limit: MAX_HEADER_LEN.into() }
        )
    );
}

/// A preamble + header + checksum around arbitrary header bytes.
fn raw_header(minor: u16, body: &[u8]) -> Vec<u8> {
    let version = FormatVersion { major: FORMAT_MAJOR, minor };
    let mut out = MAGIC.to_vec();
    out.extend(FORMAT_MAJOR.to_le_bytes());
    out.extend(minor.to_le_bytes());
    out.extend((body.len() as u32).to_le_bytes());
    out.extend(body);
    out.extend(header_checksum(version, body).to_le_bytes());
    out
}

#[test]
fn header_contents_are_checked_after_the_checksum() {
    assert!(matches!(kind(&raw_header(0, &[0xff; 8])), TraceErrorKind::BadHeader(_)));
    let mut h = header();
    h.parameters.push(("seed".into(), "7".into()));
    let body = postcard::to_stdvec(&h).unwrap();
    assert_eq!(
        read_trace(&raw_header(0, &body)).unwrap_err().to_string(),
        "at byte 16: header parameter invalid: parameter `seed` appears twice"
    );
    let mut body = postcard::to_stdvec(&header()).unwrap();
    body.push(0);
    assert_eq!(kind(&raw_header(0, &body)), TraceErrorKind::BadHeader("1 trailing bytes".into()));
    // A newer minor may append fields this reader does not know.
    let f = read_trace(&raw_header(FORMAT_MINOR + 1, &body)).unwrap();
    assert_eq!(f.header, header());
    assert_eq!(f.damage.map(|d| d.kind), Some(TraceErrorKind::NoEndMarker));
}

/// The offset of frame `n` (0-based) in `sample()`.
pub(crate) fn frame_offset(bytes: &[u8], n: usize) -> usize {
    let mut pos = PREAMBLE_LEN + u32_at(bytes, 12) as usize + 4;
    for _ in 0..n {
        pos += FRAME_HEADER_LEN + u32_at(bytes, pos + 9) as usize;
    }
    pos
}

#[test]
fn absurd_frame_lengths_are_damage_not_allocations() {
    let mut bytes = sample();
    let at = frame_offset(&bytes, 2);
    bytes[at + 9..at + 13].copy_from_slice(&u32::MAX.to_le_bytes());
    let f = read_trace(&bytes).unwrap();
    assert_eq!(f.chunks, 2);
    assert_eq!(f.intact_bytes, at as u64);
    let limit = MAX_CHUNK_PAYLOAD.into();
    let what = "chunk payload";
    assert_eq!(f.damage, Some(fail(at + 9, TraceErrorKind::TooLarge { what, len: u32::MAX.into(), limit })));
    bytes[at + 9..at + 13].copy_from_slice(&MAX_CHUNK_PAYLOAD.to_le_bytes());
    assert!(matches!(kind(&bytes), TraceErrorKind::Truncated { what: "chunk payload", .. }));
}

#[test]
fn bytes_after_the_end_marker_are_damage() {
    let mut bytes = sample();
    let end = bytes.len();
    bytes.extend(b"xx");
    let f = read_trace(&bytes).unwrap();
    assert!(f.footer.is_some() && !f.is_whole());
    assert_eq!(f.intact_bytes, end as u64);
    assert_eq!(f.damage, Some(fail(end, TraceErrorKind::BytesAfterEnd(2))));
}

#[test]
fn frame_faults_are_named() {
    let chunks = sample_chunks();
    let mut gap = chunks.clone();
    gap[2].1 = 2;
    assert_eq!(kind(&write(&gap, None)), TraceErrorKind::SequenceGap { thread: 0, expected: 1, found: 2 });

    let mut w = TraceWriter::create(Vec::new(), &header()).unwrap();
    w.write_chunk(3, 0, &[0x84, 1, 0x9f]).unwrap();
    let bytes = std::mem::take(w.get_mut());
    let at = frame_offset(&bytes, 0) + FRAME_HEADER_LEN + 2;
    assert_eq!(
        read_trace(&bytes).unwrap().damage.unwrap().to_string(),
        format!("at byte {at}: undecodable chunk 0 of thread 3: at payload byte 2: unknown record tag 0x9f")
    );

    let mut bytes = write(&chunks, None);
    let mut end = FrameHeader::new(FRAME_END, 1, 0, &[]).to_bytes().to_vec();
    bytes.append(&mut end);
    assert_eq!(kind(&bytes), TraceErrorKind::BadEndMarker { thread: 1, seq: 0 });

    let mut bytes = write(&chunks, None);
    bytes.extend(FrameHeader::new(FRAME_END, 0, 0, &[0x07]).to_bytes());
    bytes.push(0x07);
    assert!(matches!(kind(&bytes), TraceErrorKind::BadFooter(_)));

    let mut bytes = write(&chunks, None);
    bytes.extend(FrameHeader::new(9, 0, 0, &[]).to_bytes());
    assert_eq!(kind(&bytes), TraceErrorKind::UnknownFrameTag(9));

    let mut bytes = sample();
    let at = frame_offset(&bytes, 1) + FRAME_HEADER_LEN;
    bytes[at] ^= 0x10;
    let f = read_trace(&bytes).unwrap();
    assert!(matches!(
        f.damage.unwrap().kind,
        TraceErrorKind::ChecksumMismatch { section: Section::Chunk { thread: 1, seq: 0 }, .. }
    ));
    assert_eq!(f.chunks, 1);
}

#[test]
fn a_trace_cut_anywhere_reads_as_a_prefix() {
    let bytes = sample();
    let whole = read_trace(&bytes).unwrap();
    for cut in 0..bytes.len() {
        match read_trace(&bytes[..cut]) {
            Err(e) => assert!(e.offset <= cut as u64, "cut {cut}: {e}"),
            Ok(f) => {
                let damage = f.damage.as_ref().expect("a cut trace is damaged");
                assert!(damage.offset <= cut as u64 && f.intact_bytes <= cut as u64, "cut {cut}");
                assert!(f.footer.is_none());
                assert_prefix_of(&whole, &f);
            }
        }
    }
}

#[test]
fn every_single_bit_flip_is_detected() {
    let bytes = sample();
    let whole = read_trace(&bytes).unwrap();
    for i in 0..bytes.len() {
        for bit in 0..8 {
            let mut flipped = bytes.clone();
            flipped[i] ^= 1 << bit;
            if let Ok(f) = read_trace(&flipped) {
                assert!(f.damage.is_some(), "flip of bit {bit} of byte {i} went unseen");
                assert!(f.intact_bytes <= i as u64, "byte {i}: intact_bytes {}", f.intact_bytes);
                assert_prefix_of(&whole, &f);
            }
        }
    }
}

#[test]
fn read_trace_file_separates_io_errors_from_format_errors() {
    let dir = std::env::temp_dir().join(format!("reprise-read-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let missing = dir.join("missing.trace");
    assert!(matches!(read_trace_file(&missing), Err(ReadFileError::Io { .. })));
    let junk = dir.join("junk.trace");
    std::fs::write(&junk, b"junk").unwrap();
    let err = read_trace_file(&junk).unwrap_err();
    assert!(matches!(err, ReadFileError::Format { .. }));
    assert_eq!(err.to_string(), format!("`{}` is not a readable trace", junk.display()));
    let good = dir.join("good.trace");
    std::fs::write(&good, sample()).unwrap();
    assert!(read_trace_file(&good).unwrap().is_whole());
    let err = read_trace_file(&dir).unwrap_err();
    assert!(matches!(err, ReadFileError::NotAFile { what: "a directory", .. }), "{err:?}");
    #[cfg(unix)]
    {
        let err = read_trace_file(Path::new("/dev/zero")).unwrap_err();
        assert_eq!(err.to_string(), "`/dev/zero` is a character device, not a trace file");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

//! A per-thread index of a trace's chunks, built in one streaming pass, so a
//! reader can come back to any thread's chunks later and decode them one at
//! a time. Replay reads each thread's stream this way: the memory of a chunk
//! per thread and a few words per chunk, never the decoded trace.
//!
//! A chunk's records are checked again when it is read back (frame fields
//! and checksum): the file may have changed since it was indexed.

use super::codec::decode_chunk;
use super::format::{FrameHeader, FRAME_CHUNK, FRAME_HEADER_LEN, MAX_CHUNK_PAYLOAD};
use super::model::Record;
use super::read::{open_trace_file, ReadFileError, Section, TraceErrorKind, TraceReadError};
use super::stream::{ChunkRecords, TraceEnd, TraceStream};
use std::collections::BTreeMap;
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

/// Where one chunk of a thread lies, and what it holds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ChunkRef {
    /// For a file: the byte offset of its frame. For records held in
    /// memory: the index of its first record.
    pub offset: u64,
    /// For a file: its payload's length in bytes. In memory: its record count.
    pub len: u32,
    /// Its sequence number within its thread.
    pub seq: u32,
    /// The thread's event index of its first event.
    pub first_event: u64,
    /// How many events it holds.
    pub events: u32,
    /// How many of the thread's events before this chunk carry bytes (a
    /// [`Record::Blob`] after them): the ordinal of its first such event.
    pub first_blob: u64,
    /// Whether the bytes of its last event go on in the chunks after it (a
    /// long value is stored in pieces).
    pub continued: bool,
}

impl ChunkRef {
    /// The thread's event index after its last event.
    pub fn end_event(&self) -> u64 {
        self.first_event + u64::from(self.events)
    }
}

/// One thread's chunks, in order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ThreadChunks {
    /// Its chunks.
    pub chunks: Vec<ChunkRef>,
    /// How many events they hold.
    pub events: u64,
    /// How many of those events carry bytes.
    pub blobs: u64,
    /// How many records they hold.
    pub records: u64,
}

impl ThreadChunks {
    /// The position in [`chunks`](Self::chunks) of the chunk holding event
    /// `event`, if any does.
    pub fn chunk_of(&self, event: u64) -> Option<usize> {
        // Chunk ends never decrease; the first that ends past `event` holds it.
        let at = self.chunks.partition_point(|c| c.end_event() <= event);
        (at < self.chunks.len()).then_some(at)
    }
}

/// Builds [`ThreadChunks`] from chunks fed in file order.
#[derive(Debug, Default)]
pub struct ChunkIndexer {
    threads: BTreeMap<u32, Building>,
}

#[derive(Debug, Default)]
struct Building {
    chunks: ThreadChunks,
    /// The chunk holding the thread's last event so far.
    last_event_chunk: Option<usize>,
    /// Whether that event has bytes already.
    last_has_blob: bool,
}

impl ChunkIndexer {
    /// Adds a chunk of `thread`, found at `offset` with payload length `len`.
    pub fn add(&mut self, thread: u32, seq: u32, offset: u64, len: u32, records: &[Record]) {
        let b = self.threads.entry(thread).or_default();
        let here = b.chunks.chunks.len();
        b.chunks.chunks.push(ChunkRef {
            offset,
            len,
            seq,
            first_event: b.chunks.events,
            first_blob: b.chunks.blobs,
            ..ChunkRef::default()
        });
        for record in records {
            match record {
                Record::Event(_) => {
                    b.chunks.events += 1;
                    b.chunks.chunks[here].events += 1;
                    b.last_event_chunk = Some(here);
                    b.last_has_blob = false;
                }
                // Bytes belong to the thread's event just before, wherever it is.
                Record::Blob(_) => {
                    let Some(at) = b.last_event_chunk else { continue };
                    if !b.last_has_blob {
                        b.last_has_blob = true;
                        b.chunks.blobs += 1;
                        // Counted after the chunks since `at` were opened.
                        for chunk in &mut b.chunks.chunks[at + 1..] {
                            chunk.first_blob += 1;
                        }
                    }
                    if at != here {
                        b.chunks.chunks[at].continued = true;
                    }
                }
                _ => {}
            }
        }
        b.chunks.records += records.len() as u64;
    }

    /// Each thread's chunks.
    pub fn finish(self) -> BTreeMap<u32, ThreadChunks> {
        self.threads.into_iter().map(|(t, b)| (t, b.chunks)).collect()
    }
}

/// A trace file and the index of its chunks.
#[derive(Debug)]
pub struct IndexedFile {
    /// What the file held beside its records.
    pub end: TraceEnd,
    /// Each thread's chunks.
    pub threads: BTreeMap<u32, ThreadChunks>,
    /// The file, to read chunks back.
    pub file: ChunkFile,
}

/// Reads the trace at `path` once, chunk by chunk, indexing each thread's
/// chunks; `visit` sees every chunk's records (thread, records) in file order.
///
/// # Errors
///
/// As [`TraceStream::open`], and [`ReadFileError::Io`] when reading fails
/// partway. Damage after the header is not an error: the index covers the
/// chunks before it, and [`TraceEnd::damage`] says where it was.
// The reader's one error type for a file, as `read_trace_file` returns it;
// an index is opened once per replay, so its size costs nothing.
#[allow(clippy::result_large_err)]
pub fn index_trace_file(
    path: &Path,
    mut visit: impl FnMut(u32, &[Record]),
) -> Result<IndexedFile, ReadFileError> {
    let io = |source| ReadFileError::Io { path: path.to_owned(), source };
    let file = ChunkFile::open(path)?;
    let stream = TraceStream::open(path)?;
    let mut indexer = ChunkIndexer::default();
    let mut add = |c: ChunkRecords<'_>| {
        indexer.add(c.thread, c.seq, c.offset, c.len, c.records);
        visit(c.thread, c.records);
    };
    let big = std::fs::metadata(path).is_ok_and(|m| m.len() >= PIPELINE_BYTES);
    let end = if big {
        match pipelined(stream, &mut add) {
            Some(end) => end,
            // No second thread to be had: the file read again, on this one.
            None => sequential(TraceStream::open(path)?, &mut add),
        }
    } else {
        sequential(stream, &mut add)
    };
    let end = end.map_err(io)?;
    Ok(IndexedFile { end, threads: indexer.finish(), file })
}

/// Files from this size on are read and decoded on a second thread.
const PIPELINE_BYTES: u64 = 1 << 20;

/// Decoded chunks the reading thread may be ahead by.
const PIPELINE_CHUNKS: usize = 8;

/// What the reading thread hands over.
enum Decoded {
    /// A chunk's place (its `records` empty) and its records.
    Chunk(ChunkRecords<'static>, Vec<Record>),
    /// What the trace held beside its chunks (boxed: it is sent once).
    End(Box<TraceEnd>),
}

/// Each chunk of `stream` to `add`, in order, on this thread.
fn sequential<R: io::Read>(
    mut stream: TraceStream<R>,
    add: &mut impl FnMut(ChunkRecords<'_>),
) -> io::Result<TraceEnd> {
    while let Some(c) = stream.next_chunk()? {
        add(c);
    }
    stream.finish()
}

/// [`sequential`], with the reading and decoding on a second thread while
/// this one adds: a million-payment trace's pass took a quarter of its
/// coroutine replay, about half of it decoding. `None` when no thread
/// could be started (nothing was read).
fn pipelined<R: io::Read + Send>(
    mut stream: TraceStream<R>,
    add: &mut impl FnMut(ChunkRecords<'_>),
) -> Option<io::Result<TraceEnd>> {
    std::thread::scope(|scope| {
        let (tx, rx) = std::sync::mpsc::sync_channel::<io::Result<Decoded>>(PIPELINE_CHUNKS);
        let read = move || {
            loop {
                let place = match stream.next_chunk() {
                    Ok(Some(c)) => ChunkRecords { records: &[], ..c },
                    Ok(None) => break,
                    Err(e) => {
                        let _ = tx.send(Err(e));
                        return;
                    }
                };
                // A closed channel: the adding side stopped; so does reading.
                if tx.send(Ok(Decoded::Chunk(place, stream.take_records()))).is_err() {
                    return;
                }
            }
            let _ = tx.send(stream.finish().map(|end| Decoded::End(Box::new(end))));
        };
        std::thread::Builder::new().name("reprise-index".into()).spawn_scoped(scope, read).ok()?;
        Some(loop {
            match rx.recv() {
                Ok(Ok(Decoded::Chunk(place, records))) => add(ChunkRecords { records: &records, ..place }),
                Ok(Ok(Decoded::End(end))) => break Ok(*end),
                Ok(Err(e)) => break Err(e),
                // The reader sends its end or its error before it stops;
                // it stops without either only by panicking.
                Err(_) => break Err(io::Error::other("the trace's reading thread stopped")),
            }
        })
    })
}

/// Why a chunk could not be read back.
#[derive(Debug, thiserror::Error)]
pub enum ChunkReadError {
    /// Reading failed.
    #[error("cannot read chunk {seq} of thread {thread} at byte {offset} of `{path}`")]
    Io {
        /// The file.
        path: PathBuf,
        /// The thread.
        thread: u32,
        /// The chunk's sequence number.
        seq: u32,
        /// Where its frame starts.
        offset: u64,
        /// What the OS said.
        #[source]
        source: io::Error,
    },
    /// The frame there is not the one indexed, or no longer checks: the
    /// file changed after it was indexed.
    #[error("`{path}` changed after it was indexed")]
    Changed {
        /// The file.
        path: PathBuf,
        /// What is wrong now.
        #[source]
        source: Box<TraceReadError>,
    },
}

/// A trace file opened to read indexed chunks back, from any thread at once.
#[derive(Debug)]
pub struct ChunkFile {
    path: PathBuf,
    #[cfg(unix)]
    file: File,
    /// Without positional reads, a seek and a read must not interleave.
    #[cfg(not(unix))]
    file: std::sync::Mutex<File>,
}

impl ChunkFile {
    /// Opens `path`, refusing anything but a regular file.
    ///
    /// # Errors
    ///
    /// As [`read_trace_file`](super::read::read_trace_file) when opening.
    #[allow(clippy::result_large_err)] // As `index_trace_file`.
    pub fn open(path: &Path) -> Result<ChunkFile, ReadFileError> {
        let (file, _) = open_trace_file(path)?;
        #[cfg(not(unix))]
        let file = std::sync::Mutex::new(file);
        Ok(ChunkFile { path: path.to_owned(), file })
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Reads `chunk` of `thread` back and decodes it, checking that its
    /// frame is still the one indexed and that its checksum still holds.
    ///
    /// # Errors
    ///
    /// [`ChunkReadError::Io`] when reading fails, [`ChunkReadError::Changed`]
    /// when the bytes there are no longer that chunk.
    pub fn read(&self, thread: u32, chunk: &ChunkRef) -> Result<Vec<Record>, ChunkReadError> {
        let changed = |offset, kind| ChunkReadError::Changed {
            path: self.path.clone(),
            source: Box::new(TraceReadError { offset, kind }),
        };
        let (seq, offset) = (chunk.seq, chunk.offset);
        if chunk.len > MAX_CHUNK_PAYLOAD {
            let kind = TraceErrorKind::TooLarge {
                what: "chunk payload",
                len: chunk.len.into(),
                limit: MAX_CHUNK_PAYLOAD.into(),
            };
            return Err(changed(offset, kind));
        }
        let mut bytes = vec![0u8; FRAME_HEADER_LEN + chunk.len as usize];
        self.read_at(&mut bytes, offset).map_err(|source| ChunkReadError::Io {
            path: self.path.clone(),
            thread,
            seq,
            offset,
            source,
        })?;
        let (head, payload) = bytes.split_at(FRAME_HEADER_LEN);
        let head = head.first_chunk::<FRAME_HEADER_LEN>().copied().unwrap_or([0; FRAME_HEADER_LEN]);
        let frame = FrameHeader::from_bytes(&head);
        let section = Section::Chunk { thread, seq };
        if frame.tag != FRAME_CHUNK || frame.thread != thread || frame.seq != seq || frame.len != chunk.len {
            let kind = TraceErrorKind::ChecksumMismatch { section, stored: frame.checksum, computed: 0 };
            return Err(changed(offset, kind));
        }
        let computed = frame.checksum_of(payload);
        if computed != frame.checksum {
            let kind = TraceErrorKind::ChecksumMismatch { section, stored: frame.checksum, computed };
            return Err(changed(offset, kind));
        }
        let body = offset + FRAME_HEADER_LEN as u64;
        decode_chunk(payload).map_err(|error| {
            changed(body + error.offset as u64, TraceErrorKind::BadChunk { thread, seq, error })
        })
    }

    #[cfg(unix)]
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        std::os::unix::fs::FileExt::read_exact_at(&self.file, buf, offset)
    }

    #[cfg(not(unix))]
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        use std::io::{Read, Seek, SeekFrom};
        let mut file = self.file.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        file.seek(SeekFrom::Start(offset))?;
        file.read_exact(buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::format::Footer;
    use crate::trace::model::{Event, Op};
    use crate::trace::read::read_trace;
    use crate::trace::read::tests::{arb_chunks, event_count, footer, write};
    use proptest::prelude::*;

    fn temp(name: &str, bytes: &[u8]) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("reprise-index-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }

    fn ev(op: Op) -> Record {
        // Acquisition numbers start at 1: the reader refuses a lock without one.
        let a = u64::from(op == Op::Lock);
        Record::Event(Event { op, object: 0, site: 0, a, b: 0, c: 0 })
    }

    /// Every thread's records, read back chunk by chunk through the index.
    fn read_back(f: &IndexedFile) -> BTreeMap<u32, Vec<Record>> {
        f.threads
            .iter()
            .map(|(&t, chunks)| {
                let records = chunks.chunks.iter().flat_map(|c| f.file.read(t, c).unwrap()).collect();
                (t, records)
            })
            .collect()
    }

    #[test]
    fn a_blob_in_the_next_chunk_marks_its_events_chunk_continued_and_counts_once() {
        let chunks = vec![
            (0, 0, vec![ev(Op::Capture), Record::Blob(vec![1]), ev(Op::Capture)]),
            (1, 0, vec![ev(Op::Lock)]),
            (0, 1, vec![Record::Blob(vec![2])]),
            (0, 2, vec![Record::Blob(vec![3]), ev(Op::Capture), Record::Blob(vec![4])]),
        ];
        let bytes = write(&chunks, Some(&Footer { events: event_count(&chunks), ..footer() }));
        let path = temp("continued.trace", &bytes);
        let f = index_trace_file(&path, |_, _| {}).unwrap();
        let t0 = &f.threads[&0];
        assert_eq!((t0.events, t0.blobs), (3, 3));
        let firsts: Vec<_> =
            t0.chunks.iter().map(|c| (c.first_event, c.events, c.first_blob, c.continued)).collect();
        assert_eq!(firsts, vec![(0, 2, 0, true), (2, 0, 2, false), (2, 1, 2, false)]);
        assert_eq!(t0.chunk_of(1), Some(0));
        assert_eq!(t0.chunk_of(2), Some(2));
        assert_eq!(t0.chunk_of(3), None);
        assert_eq!(read_back(&f), read_trace(&bytes).unwrap().unshared_threads());
    }

    #[test]
    fn a_chunk_changed_after_indexing_is_an_error_not_a_panic() {
        let chunks = vec![(0, 0, vec![ev(Op::ThreadStart), ev(Op::ThreadExit)])];
        let mut bytes = write(&chunks, Some(&Footer { events: 2, ..footer() }));
        let path = temp("changed.trace", &bytes);
        let f = index_trace_file(&path, |_, _| {}).unwrap();
        let chunk = f.threads[&0].chunks[0];
        let last = (chunk.offset as usize) + FRAME_HEADER_LEN + chunk.len as usize - 1;
        bytes[last] ^= 1;
        std::fs::write(&path, &bytes).unwrap();
        assert!(matches!(f.file.read(0, &chunk), Err(ChunkReadError::Changed { .. })));
        std::fs::write(&path, &bytes[..last]).unwrap();
        assert!(matches!(f.file.read(0, &chunk), Err(ChunkReadError::Io { .. })));
        let lying = ChunkRef { len: u32::MAX, ..chunk };
        assert!(matches!(f.file.read(0, &lying), Err(ChunkReadError::Changed { .. })));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        #[test]
        fn indexed_chunks_read_back_as_the_trace_reads(chunks in arb_chunks(), cut in any::<prop::sample::Index>()) {
            let whole = write(&chunks, Some(&Footer { events: event_count(&chunks), ..footer() }));
            let bytes = &whole[..cut.index(whole.len() + 1)];
            let path = temp("arb.trace", bytes);
            let Ok(read) = read_trace(bytes) else { return Ok(()) };
            let mut visited: BTreeMap<u32, Vec<Record>> = BTreeMap::new();
            let f = index_trace_file(&path, |t, records| visited.entry(t).or_default().extend_from_slice(records)).unwrap();
            prop_assert_eq!(&read_back(&f), &read.unshared_threads());
            prop_assert_eq!(&visited, &read.unshared_threads());
            prop_assert_eq!(f.end.events, read.events);
            for (t, chunks) in &f.threads {
                let events = read.threads[t].iter().filter(|r| matches!(r, Record::Event(_))).count() as u64;
                prop_assert_eq!(chunks.events, events);
            }
        }

        #[test]
        fn reading_on_a_second_thread_adds_what_reading_on_one_adds(chunks in arb_chunks(), cut in any::<prop::sample::Index>()) {
            let whole = write(&chunks, Some(&Footer { events: event_count(&chunks), ..footer() }));
            let bytes = &whole[..cut.index(whole.len() + 1)];
            let (Ok(one), Ok(two)) = (TraceStream::new(bytes), TraceStream::new(bytes)) else { return Ok(()) };
            let mut added = [Vec::new(), Vec::new()];
            let end_one = sequential(one, &mut |c| added[0].push((c.thread, c.seq, c.offset, c.len, c.records.to_vec())));
            let end_two = pipelined(two, &mut |c| added[1].push((c.thread, c.seq, c.offset, c.len, c.records.to_vec())));
            let end_two = end_two.expect("a thread could be started");
            prop_assert_eq!(end_one.ok(), end_two.ok());
            prop_assert_eq!(&added[0], &added[1]);
        }
    }
}

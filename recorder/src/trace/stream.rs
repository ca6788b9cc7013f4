//! The streaming trace reader: it reads a trace one chunk at a time, so
//! checking or describing a trace of any length takes the memory of one
//! chunk (at most [`MAX_CHUNK_PAYLOAD`](super::format::MAX_CHUNK_PAYLOAD)
//! bytes and its records) plus a counter per thread, never the whole trace.
//!
//! It checks what [`read_trace`](super::read::read_trace) checks, in the same
//! order, with the same errors and offsets: both run the same frame decoder.
//!
//! # Examples
//!
//! ```
//! use reprise_recorder::trace::format::{Footer, Header, TraceMode, Verdict};
//! use reprise_recorder::trace::stream::TraceStream;
//! use reprise_recorder::trace::write::TraceWriter;
//!
//! let header = Header {
//!     program: "doc".into(), program_version: "0".into(), recorder_version: "0".into(),
//!     mode: TraceMode::Record, parameters: vec![], start_unix_ms: 0,
//! };
//! let mut w = TraceWriter::create(Vec::new(), &header)?;
//! let footer = Footer { verdict: Verdict::Completed, annotations: vec![], events: 0 };
//! let bytes = w.finish(&footer)?;
//!
//! let mut stream = TraceStream::new(&bytes[..])?;
//! while let Some(chunk) = stream.next_chunk()? {
//!     println!("thread {}: {} records", chunk.thread, chunk.records.len());
//! }
//! let end = stream.finish()?;
//! assert!(end.is_whole());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use super::format::{Footer, FormatVersion, Header, Seal, FRAME_HEADER_LEN, MAX_HEADER_LEN, PREAMBLE_LEN};
use super::frames::{FrameReader, Source, Stop};
use super::model::Record;
use super::read::{open_trace_file, read_header, ReadFileError, TraceReadError};
use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::Path;

/// Why [`TraceStream::new`] could not start.
#[derive(Debug, thiserror::Error)]
pub enum StreamError {
    /// Reading failed.
    #[error("read failed")]
    Io(#[from] io::Error),
    /// The header is not a readable trace's (see
    /// [`read_trace`](super::read::read_trace)'s errors).
    #[error(transparent)]
    Format(#[from] TraceReadError),
}

/// One chunk's records, as the stream yields them.
#[derive(Debug, Clone, Copy)]
pub struct ChunkRecords<'a> {
    /// The thread whose records these are.
    pub thread: u32,
    /// The chunk's sequence number within its thread.
    pub seq: u32,
    /// The byte offset of its frame in the file.
    pub offset: u64,
    /// The length of its payload, in bytes.
    pub len: u32,
    /// The records, in order.
    pub records: &'a [Record],
}

/// What a streamed trace held beside its records: the same as a
/// [`TraceFile`](super::read::TraceFile) without its `threads`.
#[derive(Clone, Debug, PartialEq)]
pub struct TraceEnd {
    /// The format version the file was written with.
    pub version: FormatVersion,
    /// The header.
    pub header: Header,
    /// The footer, if the end marker was read.
    pub footer: Option<Footer>,
    /// The seal after the footer, if read (formats from 1.2 on); checked.
    pub seal: Option<Seal>,
    /// How many chunks were read.
    pub chunks: u64,
    /// How many events those chunks hold.
    pub events: u64,
    /// How many bytes the input held.
    pub bytes: u64,
    /// How many bytes from the start are whole: the end of the last good frame.
    pub intact_bytes: u64,
    /// The first damage, which stopped reading; `None` for a whole file.
    pub damage: Option<TraceReadError>,
}

impl TraceEnd {
    /// Whether the trace was read to its end marker with no damage.
    pub fn is_whole(&self) -> bool {
        self.damage.is_none() && self.footer.is_some()
    }
}

/// A reader's bytes, one request at a time, through one reused buffer.
#[derive(Debug)]
struct ReadSource<R> {
    reader: R,
    buf: Vec<u8>,
    /// Bytes consumed so far.
    consumed: u64,
}

impl<R: Read> Source for ReadSource<R> {
    type Error = io::Error;

    fn take(&mut self, n: usize) -> io::Result<&[u8]> {
        self.buf.clear();
        // Through `take`, the buffer grows only as far as bytes actually
        // come, so a length field near its limit in a short file costs
        // what the file holds, not what the field says.
        (&mut self.reader).take(n as u64).read_to_end(&mut self.buf)?;
        self.consumed += self.buf.len() as u64;
        Ok(&self.buf)
    }

    fn rest(&mut self) -> io::Result<u64> {
        let n = io::copy(&mut self.reader, &mut io::sink())?;
        self.consumed += n;
        Ok(n)
    }
}

/// Where the stream is.
#[derive(Debug)]
enum State {
    /// More chunks may come.
    Reading,
    /// The end marker, damage or an I/O error stopped it.
    Done,
}

/// A trace read one chunk at a time (see the [module](self) documentation).
#[derive(Debug)]
pub struct TraceStream<R> {
    version: FormatVersion,
    header: Header,
    src: ReadSource<R>,
    frames: FrameReader,
    chunk: Vec<Record>,
    damage: Option<TraceReadError>,
    state: State,
}

impl TraceStream<BufReader<File>> {
    /// Opens the trace at `path` and reads its header. Anything but a
    /// regular file is refused, as by [`read_trace_file`](super::read::read_trace_file).
    ///
    /// # Errors
    ///
    /// As [`read_trace_file`](super::read::read_trace_file): the file cannot
    /// be opened or read, is not a regular file, or its header is unreadable.
    pub fn open(path: &Path) -> Result<Self, ReadFileError> {
        let (file, _) = open_trace_file(path)?;
        TraceStream::new(BufReader::new(file)).map_err(|e| match e {
            StreamError::Io(source) => ReadFileError::Io { path: path.to_owned(), source },
            StreamError::Format(source) => ReadFileError::Format { path: path.to_owned(), source },
        })
    }
}

impl<R: Read> TraceStream<R> {
    /// Reads the header from `reader`, leaving the frames to [`next_chunk`](Self::next_chunk).
    ///
    /// # Errors
    ///
    /// [`StreamError::Io`] if reading fails, [`StreamError::Format`] when the
    /// header is unreadable, with the same error [`read_trace`](super::read::read_trace) gives.
    pub fn new(reader: R) -> Result<Self, StreamError> {
        let mut src = ReadSource { reader, buf: Vec::new(), consumed: 0 };
        // The header is decoded from the bytes it spans; the in-memory
        // reader looks at no byte beyond them, so a file cut inside them
        // gives it and this reader the same prefix and the same error.
        let mut head = src.take(PREAMBLE_LEN)?.to_vec();
        if let Some(len) = head.get(12..16) {
            let len = u32::from_le_bytes([len[0], len[1], len[2], len[3]]);
            if len <= MAX_HEADER_LEN {
                head.extend_from_slice(src.take(len as usize + 4)?);
            }
        }
        let (version, header, start) = read_header(&head)?;
        Ok(TraceStream {
            version,
            header,
            src,
            frames: FrameReader::new(version, start as u64),
            chunk: Vec::new(),
            damage: None,
            state: State::Reading,
        })
    }

    /// The format version the trace was written with.
    pub fn version(&self) -> FormatVersion {
        self.version
    }

    /// The trace's header.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// The next chunk's records, checked; `None` once the end marker or
    /// damage stopped reading (see [`finish`](Self::finish) for which).
    ///
    /// # Errors
    ///
    /// When reading fails; the stream then yields nothing more.
    pub fn next_chunk(&mut self) -> io::Result<Option<ChunkRecords<'_>>> {
        if let State::Done = self.state {
            return Ok(None);
        }
        let offset = self.frames.intact_bytes;
        match self.frames.next(&mut self.src) {
            Ok(Some(chunk)) => {
                self.chunk = chunk.records;
                // A good frame ends where the next begins: its payload is what lies between.
                let span = self.frames.intact_bytes - offset - FRAME_HEADER_LEN as u64;
                let len = u32::try_from(span).unwrap_or(u32::MAX);
                let (thread, seq) = (chunk.thread, chunk.seq);
                Ok(Some(ChunkRecords { thread, seq, offset, len, records: &self.chunk }))
            }
            Ok(None) => {
                self.state = State::Done;
                Ok(None)
            }
            Err(Stop::Damage(damage)) => {
                self.state = State::Done;
                self.damage = Some(damage);
                Ok(None)
            }
            Err(Stop::Source(e)) => {
                self.state = State::Done;
                Err(e)
            }
        }
    }

    /// The records of the chunk [`next_chunk`](Self::next_chunk) returned
    /// last, moved out: for a reader that hands them to another thread.
    pub fn take_records(&mut self) -> Vec<Record> {
        std::mem::take(&mut self.chunk)
    }

    /// Reads whatever chunks are left, then what the trace held beside
    /// them. After damage the rest of the input is read only to count it,
    /// so [`TraceEnd::bytes`] is the input's length as with the in-memory reader.
    ///
    /// # Errors
    ///
    /// When reading fails.
    pub fn finish(mut self) -> io::Result<TraceEnd> {
        while self.next_chunk()?.is_some() {}
        if self.damage.is_some() {
            self.src.rest()?;
        }
        let frames = self.frames;
        Ok(TraceEnd {
            version: self.version,
            header: self.header,
            footer: frames.footer,
            seal: frames.stored_seal,
            chunks: frames.chunks,
            events: frames.events,
            bytes: self.src.consumed,
            intact_bytes: frames.intact_bytes,
            damage: self.damage,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::format::Footer;
    use crate::trace::read::tests::{
        arb_chunks, arb_mutation, event_count, footer, many_chunks, mutate, relink_without, sample, write,
    };
    use crate::trace::read::{read_trace, TraceErrorKind, TraceFile};
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    /// Streams `bytes`: what it held beside the records, and each thread's
    /// records gathered from the chunks in the order they came.
    fn streamed(bytes: &[u8]) -> Result<(TraceEnd, BTreeMap<u32, Vec<Record>>), TraceReadError> {
        let mut stream = match TraceStream::new(bytes) {
            Ok(s) => s,
            Err(StreamError::Format(e)) => return Err(e),
            Err(StreamError::Io(e)) => panic!("a slice cannot fail to read: {e}"),
        };
        let mut threads: BTreeMap<u32, Vec<Record>> = BTreeMap::new();
        while let Some(chunk) = stream.next_chunk().unwrap() {
            threads.entry(chunk.thread).or_default().extend_from_slice(chunk.records);
        }
        Ok((stream.finish().unwrap(), threads))
    }

    fn end_of(f: &TraceFile) -> TraceEnd {
        TraceEnd {
            version: f.version,
            header: f.header.clone(),
            footer: f.footer.clone(),
            seal: f.seal,
            chunks: f.chunks,
            events: f.events,
            bytes: f.bytes,
            intact_bytes: f.intact_bytes,
            damage: f.damage.clone(),
        }
    }

    /// The streaming and in-memory readers say the same of `bytes`.
    fn assert_agree(bytes: &[u8], what: &str) {
        match (read_trace(bytes), streamed(bytes)) {
            (Err(a), Err(b)) => assert_eq!(a, b, "{what}"),
            (Ok(f), Ok((end, threads))) => {
                assert_eq!(end, end_of(&f), "{what}");
                assert_eq!(end.is_whole(), f.is_whole(), "{what}");
                assert_eq!(threads, f.unshared_threads(), "{what}");
            }
            (a, b) => panic!("{what}: in memory {a:?}, streamed {b:?}"),
        }
    }

    #[test]
    fn every_sample_trace_streams_as_it_reads() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../traces");
        let mut seen = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "trace") {
                let bytes = std::fs::read(&path).unwrap();
                assert_agree(&bytes, &path.display().to_string());
                let end = TraceStream::open(&path).unwrap().finish().unwrap();
                assert!(end.is_whole(), "{}: {:?}", path.display(), end.damage);
                assert_eq!(end, end_of(&read_trace(&bytes).unwrap()));
                seen += 1;
            }
        }
        assert!(seen >= 5, "only {seen} sample traces in {}", dir.display());
    }

    #[test]
    fn a_trace_cut_anywhere_streams_as_it_reads() {
        let bytes = sample();
        for cut in 0..=bytes.len() {
            assert_agree(&bytes[..cut], &format!("cut at {cut}"));
        }
    }

    #[test]
    fn every_single_bit_flip_streams_as_it_reads() {
        let bytes = sample();
        for i in 0..bytes.len() {
            for bit in 0..8 {
                let mut flipped = bytes.clone();
                flipped[i] ^= 1 << bit;
                assert_agree(&flipped, &format!("bit {bit} of byte {i}"));
            }
        }
    }

    #[test]
    fn footer_and_seal_faults_stream_as_they_read() {
        let chunks = many_chunks();
        let bytes = write(&chunks, Some(&Footer { events: event_count(&chunks), ..footer() }));
        let relinked = relink_without(&bytes, 4);
        let (end, _) = streamed(&relinked).unwrap();
        assert!(matches!(end.damage.as_ref().unwrap().kind, TraceErrorKind::FooterMismatch { .. }));
        assert_agree(&relinked, "a chunk removed and relinked");
        let lying = write(&chunks, Some(&Footer { events: 1, ..footer() }));
        assert_agree(&lying, "a footer with the wrong event count");
        let mut after = bytes.clone();
        after.extend(b"tail");
        let (end, _) = streamed(&after).unwrap();
        assert_eq!(end.damage.unwrap().kind, TraceErrorKind::BytesAfterEnd(4));
        assert_agree(&after, "bytes after the end marker");
        assert_agree(&write(&chunks, None), "no end marker");
    }

    #[test]
    fn open_refuses_what_is_not_a_regular_file() {
        let dir = std::env::temp_dir().join(format!("reprise-stream-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let err = TraceStream::open(&dir).unwrap_err();
        assert!(matches!(err, ReadFileError::NotAFile { what: "a directory", .. }), "{err:?}");
        let junk = dir.join("junk.trace");
        std::fs::write(&junk, b"junk").unwrap();
        let err = TraceStream::open(&junk).unwrap_err();
        assert!(matches!(err, ReadFileError::Format { .. }), "{err:?}");
        assert!(matches!(TraceStream::open(&dir.join("missing")), Err(ReadFileError::Io { .. })));
        #[cfg(unix)]
        {
            let err = TraceStream::open(Path::new("/dev/zero")).unwrap_err();
            assert_eq!(err.to_string(), "`/dev/zero` is a character device, not a trace file");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_read_error_mid_trace_is_an_error_not_damage() {
        /// Gives `good` bytes, then fails.
        struct Failing<'a>(&'a [u8]);
        impl Read for Failing<'_> {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                if self.0.is_empty() {
                    return Err(io::Error::other("disk gone"));
                }
                let n = buf.len().min(self.0.len());
                buf[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let bytes = sample();
        let cut = bytes.len() - 3;
        let mut stream = TraceStream::new(Failing(&bytes[..cut])).unwrap();
        let err = loop {
            match stream.next_chunk() {
                Ok(Some(_)) => {}
                Ok(None) => panic!("a failed read was taken for the end of the trace"),
                Err(e) => break e,
            }
        };
        assert_eq!(err.to_string(), "disk gone");
        assert!(stream.next_chunk().unwrap().is_none());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1000))]

        #[test]
        fn mutated_traces_stream_as_they_read(
            chunks in arb_chunks(),
            mutations in prop::collection::vec(arb_mutation(), 0..4),
        ) {
            let mut bytes = write(&chunks, Some(&Footer { events: event_count(&chunks), ..footer() }));
            for m in &mutations {
                if !bytes.is_empty() {
                    mutate(&mut bytes, m);
                }
            }
            assert_agree(&bytes, &format!("{mutations:?}"));
        }
    }
}

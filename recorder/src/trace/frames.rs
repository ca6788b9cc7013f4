//! Frame-by-frame decoding after the header, shared by the in-memory reader
//! ([`read_trace`](super::read::read_trace)) and the streaming one
//! ([`TraceStream`](super::stream::TraceStream)), so both check every
//! checksum, sequence number, footer and seal the same way and name the same
//! byte offsets.

use super::codec::decode_chunk;
use super::format::{
    decode_postcard, Footer, FormatVersion, FrameHeader, Seal, FRAME_CHUNK, FRAME_END, FRAME_HEADER_LEN,
    MAX_CHUNK_PAYLOAD, MAX_FOOTER_LEN, SEAL_MINOR,
};
use super::model::Record;
use super::read::{Section, TraceErrorKind, TraceReadError};
use std::collections::BTreeMap;
use std::convert::Infallible;

/// Where the frames' bytes come from: a slice or a reader.
pub(crate) trait Source {
    /// What reading can fail with; [`Infallible`] for a slice.
    type Error;
    /// The next `n` bytes, or fewer only where the input ends. The reader
    /// checks `n` against the format's limits before asking.
    fn take(&mut self, n: usize) -> Result<&[u8], Self::Error>;
    /// Consumes what is left of the input and says how many bytes it was.
    fn rest(&mut self) -> Result<u64, Self::Error>;
}

/// A trace held in memory, from some position on.
pub(crate) struct SliceSource<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> SliceSource<'a> {
    /// Reads `bytes` from `pos`.
    pub(crate) fn new(bytes: &'a [u8], pos: usize) -> Self {
        SliceSource { bytes, pos: pos.min(bytes.len()) }
    }
}

impl Source for SliceSource<'_> {
    type Error = Infallible;

    fn take(&mut self, n: usize) -> Result<&[u8], Infallible> {
        let end = self.pos + n.min(self.bytes.len() - self.pos);
        let out = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(out)
    }

    fn rest(&mut self) -> Result<u64, Infallible> {
        let left = self.bytes.len() - self.pos;
        self.pos = self.bytes.len();
        Ok(left as u64)
    }
}

/// Why [`FrameReader::next`] stopped early.
#[derive(Debug)]
pub(crate) enum Stop<E> {
    /// The trace is damaged here; what came before stays valid.
    Damage(TraceReadError),
    /// The source failed to give bytes.
    Source(E),
}

impl<E> From<TraceReadError> for Stop<E> {
    fn from(e: TraceReadError) -> Self {
        Stop::Damage(e)
    }
}

/// One chunk frame, checked and decoded.
#[derive(Debug)]
pub(crate) struct Chunk {
    /// The thread whose records it holds.
    pub(crate) thread: u32,
    /// Its sequence number within the thread.
    pub(crate) seq: u32,
    /// Its records.
    pub(crate) records: Vec<Record>,
}

/// The state of reading frames: what has been read and checked so far. Its
/// size grows with the number of threads, never with the number of chunks.
#[derive(Debug)]
pub(crate) struct FrameReader {
    version: FormatVersion,
    pos: u64,
    next_seq: BTreeMap<u32, u64>,
    seal: Seal,
    /// Chunk frames read and checked.
    pub(crate) chunks: u64,
    /// Events in those chunks.
    pub(crate) events: u64,
    /// The end of the last good frame (or of the header).
    pub(crate) intact_bytes: u64,
    /// The footer, once the end frame was read.
    pub(crate) footer: Option<Footer>,
    /// The seal stored after the footer, for formats that have one.
    pub(crate) stored_seal: Option<Seal>,
}

fn fail(offset: u64, kind: TraceErrorKind) -> TraceReadError {
    TraceReadError { offset, kind }
}

impl FrameReader {
    /// Starts reading frames of a `version` file at byte `start`, just after the header.
    pub(crate) fn new(version: FormatVersion, start: u64) -> Self {
        FrameReader {
            version,
            pos: start,
            next_seq: BTreeMap::new(),
            seal: Seal::default(),
            chunks: 0,
            events: 0,
            intact_bytes: start,
            footer: None,
            stored_seal: None,
        }
    }

    /// The next chunk, or `Ok(None)` once a good end frame closes the file.
    /// After an error or `None` the reader must not be asked again.
    pub(crate) fn next<S: Source>(&mut self, src: &mut S) -> Result<Option<Chunk>, Stop<S::Error>> {
        let pos = self.pos;
        let raw = src.take(FRAME_HEADER_LEN).map_err(Stop::Source)?;
        if raw.is_empty() {
            return Err(fail(pos, TraceErrorKind::NoEndMarker).into());
        }
        let Some(raw) = raw.first_chunk::<FRAME_HEADER_LEN>() else {
            let (needed, left) = (FRAME_HEADER_LEN as u64, raw.len() as u64);
            let what = "frame header";
            return Err(fail(pos, TraceErrorKind::Truncated { what, needed, left }).into());
        };
        let frame = FrameHeader::from_bytes(raw);
        let (limit, what, section) = match frame.tag {
            FRAME_CHUNK => {
                (MAX_CHUNK_PAYLOAD, "chunk payload", Section::Chunk { thread: frame.thread, seq: frame.seq })
            }
            FRAME_END => (MAX_FOOTER_LEN, "end marker", Section::EndMarker),
            tag => return Err(fail(pos, TraceErrorKind::UnknownFrameTag(tag)).into()),
        };
        if frame.len > limit {
            let (len, limit) = (frame.len.into(), limit.into());
            return Err(fail(pos + 9, TraceErrorKind::TooLarge { what, len, limit }).into());
        }
        let body_at = pos + FRAME_HEADER_LEN as u64;
        let len = frame.len as usize;
        let payload = src.take(len).map_err(Stop::Source)?;
        if payload.len() < len {
            let (needed, left) = (len as u64, payload.len() as u64);
            return Err(fail(body_at, TraceErrorKind::Truncated { what, needed, left }).into());
        }
        let computed = frame.checksum_of(payload);
        if computed != frame.checksum {
            let stored = frame.checksum;
            return Err(fail(pos, TraceErrorKind::ChecksumMismatch { section, stored, computed }).into());
        }
        let end = body_at + len as u64;
        if frame.tag == FRAME_END {
            if frame.thread != 0 || frame.seq != 0 {
                let (thread, seq) = (frame.thread, frame.seq);
                return Err(fail(pos + 1, TraceErrorKind::BadEndMarker { thread, seq }).into());
            }
            let (footer, stored) =
                decode_end(payload, self.version).map_err(|e| fail(body_at, TraceErrorKind::BadFooter(e)))?;
            let events = footer.events;
            self.footer = Some(footer);
            self.stored_seal = stored;
            if let Some(stored) = stored {
                check_seal(stored, self.seal, events, self.events).map_err(|kind| fail(body_at, kind))?;
            }
            self.intact_bytes = end;
            self.pos = end;
            let extra = src.rest().map_err(Stop::Source)?;
            if extra > 0 {
                return Err(fail(end, TraceErrorKind::BytesAfterEnd(extra)).into());
            }
            return Ok(None);
        }
        let (thread, seq) = (frame.thread, frame.seq);
        let expected = self.next_seq.get(&thread).copied().unwrap_or(0);
        if u64::from(seq) != expected {
            let kind = TraceErrorKind::SequenceGap { thread, expected, found: seq };
            return Err(fail(pos + 5, kind).into());
        }
        let records = decode_chunk(payload).map_err(|error| {
            fail(body_at + error.offset as u64, TraceErrorKind::BadChunk { thread, seq, error })
        })?;
        self.next_seq.insert(thread, expected + 1);
        self.seal.add(frame.checksum);
        self.chunks += 1;
        self.events += records.iter().filter(|r| matches!(r, Record::Event(_))).count() as u64;
        self.intact_bytes = end;
        self.pos = end;
        Ok(Some(Chunk { thread, seq, records }))
    }
}

/// The footer and, from [`SEAL_MINOR`] on, the seal after it.
fn decode_end(payload: &[u8], version: FormatVersion) -> Result<(Footer, Option<Seal>), String> {
    if version.minor < SEAL_MINOR {
        return decode_postcard(payload, version).map(|footer| (footer, None));
    }
    let (footer, rest) = postcard::take_from_bytes::<Footer>(payload).map_err(|e| e.to_string())?;
    let seal = decode_postcard(rest, version).map_err(|e| format!("seal: {e}"))?;
    Ok((footer, Some(seal)))
}

/// Compares what the end frame says with what was read: counts first, as
/// they say the most to a reader of the error.
fn check_seal(stored: Seal, read: Seal, footer_events: u64, read_events: u64) -> Result<(), TraceErrorKind> {
    if stored.chunks != read.chunks {
        return Err(TraceErrorKind::FooterMismatch {
            what: "chunks",
            footer: stored.chunks,
            read: read.chunks,
        });
    }
    if footer_events != read_events {
        return Err(TraceErrorKind::FooterMismatch {
            what: "events",
            footer: footer_events,
            read: read_events,
        });
    }
    if stored.chain != read.chain {
        return Err(TraceErrorKind::ChainMismatch { footer: stored.chain, read: read.chain });
    }
    Ok(())
}

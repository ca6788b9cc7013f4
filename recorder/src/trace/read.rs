//! The trace reader. It never trusts a length field: it allocates no more
//! than the file can hold, never panics and never loops on any input, and
//! every error names the byte offset and what was wrong.
//!
//! A damaged trace is still read: everything before the first bad frame is
//! kept, and the damage is reported beside it (see [`TraceFile::damage`]).

use super::codec::{decode_chunk, CodecError};
use super::format::{
    decode_postcard, header_checksum, Compatibility, Footer, FormatVersion, FrameHeader, Header,
    ParameterError, FORMAT_MAJOR, FRAME_CHUNK, FRAME_END, FRAME_HEADER_LEN, MAGIC,
    MAX_CHUNK_PAYLOAD, MAX_FOOTER_LEN, MAX_HEADER_LEN, PREAMBLE_LEN,
};
use super::model::Record;
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// Why a trace (or part of it) could not be read, and where.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("at byte {offset}: {kind}")]
pub struct TraceReadError {
    /// The offset in the file of the field that was wrong.
    pub offset: u64,
    /// What was wrong.
    pub kind: TraceErrorKind,
}

/// Which checksummed part of the file a checksum mismatch is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Section {
    /// The version, header length and header.
    Header,
    /// A chunk frame, as its (unverified) fields name it.
    Chunk {
        /// The thread it claims.
        thread: u32,
        /// The sequence number it claims.
        seq: u32,
    },
    /// The end frame.
    EndMarker,
}

impl fmt::Display for Section {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Section::Header => f.write_str("the header"),
            Section::Chunk { thread, seq } => write!(f, "chunk {seq} of thread {thread}"),
            Section::EndMarker => f.write_str("the end marker"),
        }
    }
}

/// What was wrong in a trace file.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum TraceErrorKind {
    /// The file has no bytes at all.
    #[error("empty file")]
    Empty,
    /// The file does not start with [`MAGIC`].
    #[error("not a reprise trace (it does not start with `REPRISE\\0`)")]
    BadMagic,
    /// A newer major version of the format.
    #[error(
        "too new: written by trace format {found}, this reader reads {FORMAT_MAJOR}.x: \
         upgrade reprise"
    )]
    TooNew {
        /// The file's version.
        found: FormatVersion,
    },
    /// An older major version of the format.
    #[error(
        "too old: written by trace format {found}, this reader reads {FORMAT_MAJOR}.x: \
         read it with the reprise that wrote it, or record it again"
    )]
    TooOld {
        /// The file's version.
        found: FormatVersion,
    },
    /// The file ends inside something.
    #[error("truncated {what}: {needed} bytes needed, {left} left")]
    Truncated {
        /// What was cut: "preamble", "header", "frame header", "chunk payload", "end marker".
        what: &'static str,
        /// How many bytes it needed.
        needed: u64,
        /// How many the file had left.
        left: u64,
    },
    /// A checksum does not match.
    #[error("checksum mismatch in {section}: stored {stored:#010x}, computed {computed:#010x}")]
    ChecksumMismatch {
        /// What it covers.
        section: Section,
        /// The checksum in the file.
        stored: u32,
        /// The checksum of the bytes.
        computed: u32,
    },
    /// A length field above its limit.
    #[error("{what} length {len} is larger than the limit of {limit}")]
    TooLarge {
        /// What the length is of.
        what: &'static str,
        /// The length field.
        len: u64,
        /// The limit.
        limit: u64,
    },
    /// The header does not decode.
    #[error("bad header: {0}")]
    BadHeader(String),
    /// The header decodes but a parameter is invalid.
    #[error("header parameter invalid: {0}")]
    HeaderParameter(ParameterError),
    /// The footer does not decode.
    #[error("bad footer: {0}")]
    BadFooter(String),
    /// A frame tag that is neither chunk nor end.
    #[error("unknown frame tag {0}")]
    UnknownFrameTag(u8),
    /// The end frame names a thread or sequence number.
    #[error("end marker with thread {thread} and seq {seq}, where both must be 0")]
    BadEndMarker {
        /// Its thread field.
        thread: u32,
        /// Its seq field.
        seq: u32,
    },
    /// A thread's chunks are not numbered 0, 1, 2, ...: one was lost.
    #[error("chunk sequence gap in thread {thread}: expected chunk {expected}, found {found}")]
    SequenceGap {
        /// The thread.
        thread: u32,
        /// The number that should have come.
        expected: u64,
        /// The number that came.
        found: u32,
    },
    /// A chunk whose checksum matches but whose records do not decode.
    #[error("undecodable chunk {seq} of thread {thread}: {error}")]
    BadChunk {
        /// The thread.
        thread: u32,
        /// The chunk's sequence number.
        seq: u32,
        /// What the codec found (its offset is within the payload).
        error: CodecError,
    },
    /// Bytes follow the end marker.
    #[error("{0} bytes after the end marker")]
    BytesAfterEnd(u64),
    /// The file stops at a frame boundary without an end marker.
    #[error("no end marker: the recording did not finish (a crash or a kill)")]
    NoEndMarker,
}

/// A trace as read: the header, each thread's records, and how whole it is.
#[derive(Clone, Debug, PartialEq)]
pub struct TraceFile {
    /// The format version the file was written with.
    pub version: FormatVersion,
    /// The header.
    pub header: Header,
    /// Each thread's records, from its readable chunks, in order.
    pub threads: BTreeMap<u32, Vec<Record>>,
    /// The footer, if the end marker was read.
    pub footer: Option<Footer>,
    /// How many chunks were read.
    pub chunks: u64,
    /// How many events those chunks hold.
    pub events: u64,
    /// The file's length.
    pub bytes: u64,
    /// How many bytes from the start are whole: the end of the last good frame.
    pub intact_bytes: u64,
    /// The first damage, which stopped reading; `None` for a whole file.
    pub damage: Option<TraceReadError>,
}

impl TraceFile {
    /// Whether the file was read to its end marker with no damage.
    pub fn is_whole(&self) -> bool {
        self.damage.is_none() && self.footer.is_some()
    }
}

fn fail(offset: usize, kind: TraceErrorKind) -> TraceReadError {
    TraceReadError {
        offset: offset as u64,
        kind,
    }
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// Reads a trace held in memory.
///
/// # Errors
///
/// Only when the header itself is unreadable: an empty file, bad magic, a
/// version this build does not read, a cut or corrupt header. Damage after
/// the header is returned inside the [`TraceFile`].
pub fn read_trace(bytes: &[u8]) -> Result<TraceFile, TraceReadError> {
    let (version, header, start) = read_header(bytes)?;
    let mut file = TraceFile {
        version,
        header,
        threads: BTreeMap::new(),
        footer: None,
        chunks: 0,
        events: 0,
        bytes: bytes.len() as u64,
        intact_bytes: start as u64,
        damage: None,
    };
    file.damage = read_frames(bytes, start, version, &mut file).err();
    Ok(file)
}

/// The version, header and offset of the first frame.
fn read_header(bytes: &[u8]) -> Result<(FormatVersion, Header, usize), TraceReadError> {
    if bytes.is_empty() {
        return Err(fail(0, TraceErrorKind::Empty));
    }
    let n = bytes.len().min(MAGIC.len());
    if bytes[..n] != MAGIC[..n] {
        return Err(fail(0, TraceErrorKind::BadMagic));
    }
    let truncated = |what, needed: usize, left: usize| TraceErrorKind::Truncated {
        what,
        needed: needed as u64,
        left: left as u64,
    };
    if bytes.len() < PREAMBLE_LEN {
        return Err(fail(0, truncated("preamble", PREAMBLE_LEN, bytes.len())));
    }
    let version = FormatVersion {
        major: u16_at(bytes, 8),
        minor: u16_at(bytes, 10),
    };
    match version.compatibility() {
        Compatibility::Readable => {}
        Compatibility::TooOld => return Err(fail(8, TraceErrorKind::TooOld { found: version })),
        Compatibility::TooNew => return Err(fail(8, TraceErrorKind::TooNew { found: version })),
    }
    let len = u32_at(bytes, 12);
    if len > MAX_HEADER_LEN {
        let (len, limit) = (len.into(), MAX_HEADER_LEN.into());
        return Err(fail(
            12,
            TraceErrorKind::TooLarge {
                what: "header",
                len,
                limit,
            },
        ));
    }
    let len = len as usize;
    let left = bytes.len() - PREAMBLE_LEN;
    if len + 4 > left {
        return Err(fail(PREAMBLE_LEN, truncated("header", len + 4, left)));
    }
    let body = &bytes[PREAMBLE_LEN..PREAMBLE_LEN + len];
    let stored = u32_at(bytes, PREAMBLE_LEN + len);
    let computed = header_checksum(version, body);
    if stored != computed {
        let section = Section::Header;
        return Err(fail(
            8,
            TraceErrorKind::ChecksumMismatch {
                section,
                stored,
                computed,
            },
        ));
    }
    let header: Header = decode_postcard(body, version)
        .map_err(|e| fail(PREAMBLE_LEN, TraceErrorKind::BadHeader(e)))?;
    header
        .validate()
        .map_err(|e| fail(PREAMBLE_LEN, TraceErrorKind::HeaderParameter(e)))?;
    Ok((version, header, PREAMBLE_LEN + len + 4))
}

/// Reads frames from `pos` into `file` until the end marker or the first damage.
fn read_frames(
    bytes: &[u8],
    mut pos: usize,
    version: FormatVersion,
    file: &mut TraceFile,
) -> Result<(), TraceReadError> {
    let mut next_seq: BTreeMap<u32, u64> = BTreeMap::new();
    loop {
        let left = bytes.len() - pos;
        if left == 0 {
            return Err(fail(pos, TraceErrorKind::NoEndMarker));
        }
        let Some(raw) = bytes[pos..].first_chunk::<FRAME_HEADER_LEN>() else {
            let (needed, left) = (FRAME_HEADER_LEN as u64, left as u64);
            let what = "frame header";
            return Err(fail(pos, TraceErrorKind::Truncated { what, needed, left }));
        };
        let frame = FrameHeader::from_bytes(raw);
        let (limit, what, section) = match frame.tag {
            FRAME_CHUNK => (
                MAX_CHUNK_PAYLOAD,
                "chunk payload",
                Section::Chunk {
                    thread: frame.thread,
                    seq: frame.seq,
                },
            ),
            FRAME_END => (MAX_FOOTER_LEN, "end marker", Section::EndMarker),
            tag => return Err(fail(pos, TraceErrorKind::UnknownFrameTag(tag))),
        };
        if frame.len > limit {
            let (len, limit) = (frame.len.into(), limit.into());
            return Err(fail(pos + 9, TraceErrorKind::TooLarge { what, len, limit }));
        }
        let body_at = pos + FRAME_HEADER_LEN;
        let len = frame.len as usize;
        if len > bytes.len() - body_at {
            let (needed, left) = (len as u64, (bytes.len() - body_at) as u64);
            return Err(fail(
                body_at,
                TraceErrorKind::Truncated { what, needed, left },
            ));
        }
        let payload = &bytes[body_at..body_at + len];
        let computed = frame.checksum_of(payload);
        if computed != frame.checksum {
            let stored = frame.checksum;
            return Err(fail(
                pos,
                TraceErrorKind::ChecksumMismatch {
                    section,
                    stored,
                    computed,
                },
            ));
        }
        let end = body_at + len;
        if frame.tag == FRAME_END {
            if frame.thread != 0 || frame.seq != 0 {
                let (thread, seq) = (frame.thread, frame.seq);
                return Err(fail(pos + 1, TraceErrorKind::BadEndMarker { thread, seq }));
            }
            let footer = decode_postcard(payload, version)
                .map_err(|e| fail(body_at, TraceErrorKind::BadFooter(e)))?;
            file.footer = Some(footer);
            file.intact_bytes = end as u64;
            if end < bytes.len() {
                let extra = (bytes.len() - end) as u64;
                return Err(fail(end, TraceErrorKind::BytesAfterEnd(extra)));
            }
            return Ok(());
        }
        let (thread, seq) = (frame.thread, frame.seq);
        let expected = next_seq.get(&thread).copied().unwrap_or(0);
        if u64::from(seq) != expected {
            let kind = TraceErrorKind::SequenceGap {
                thread,
                expected,
                found: seq,
            };
            return Err(fail(pos + 5, kind));
        }
        let records = decode_chunk(payload).map_err(|error| {
            fail(
                body_at + error.offset,
                TraceErrorKind::BadChunk { thread, seq, error },
            )
        })?;
        next_seq.insert(thread, expected + 1);
        file.chunks += 1;
        file.events += records
            .iter()
            .filter(|r| matches!(r, Record::Event(_)))
            .count() as u64;
        file.threads.entry(thread).or_default().extend(records);
        file.intact_bytes = end as u64;
        pos = end;
    }
}

/// Why [`read_trace_file`] failed: the file could not be read at all, or its
/// header is not a readable trace.
#[derive(Debug, thiserror::Error)]
pub enum ReadFileError {
    /// Opening or reading the file failed.
    #[error("cannot read `{path}`")]
    Io {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        #[source]
        source: std::io::Error,
    },
    /// The file was read but is not a readable trace.
    #[error("`{path}` is not a readable trace")]
    Format {
        /// The file.
        path: PathBuf,
        /// What was wrong, and where.
        #[source]
        source: TraceReadError,
    },
}

/// Reads the trace at `path` (see [`read_trace`]).
///
/// # Errors
///
/// [`ReadFileError::Io`] if the file cannot be read, [`ReadFileError::Format`]
/// if its header is unreadable.
pub fn read_trace_file(path: &Path) -> Result<TraceFile, ReadFileError> {
    let bytes = std::fs::read(path).map_err(|source| ReadFileError::Io {
        path: path.to_owned(),
        source,
    })?;
    read_trace(&bytes).map_err(|source| ReadFileError::Format {
        path: path.to_owned(),
        source,
    })
}

//! The trace reader. It never trusts a length field: it allocates no more
//! than the file can hold, never panics and never loops on any input, and
//! every error names the byte offset and what was wrong.
//!
//! A damaged trace is still read: everything before the first bad frame is
//! kept, and the damage is reported beside it (see [`TraceFile::damage`]).

use super::codec::CodecError;
use super::format::{
    decode_postcard, header_checksum, Compatibility, Footer, FormatVersion, Header, ParameterError, Seal,
    FORMAT_MAJOR, MAGIC, MAX_HEADER_LEN, PREAMBLE_LEN,
};
use super::frames::{FrameReader, SliceSource, Stop};
use super::model::Record;
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Why a trace (or part of it) could not be read, and where.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
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
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
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
    /// The end frame counts something other than what was read: chunks were
    /// removed, added or replaced and the frames around them re-linked.
    #[error(
        "the footer says {footer} {what}, but the file holds {read}: chunks were removed, added \
         or replaced"
    )]
    FooterMismatch {
        /// What was counted: "chunks" or "events".
        what: &'static str,
        /// What the footer says.
        footer: u64,
        /// What the reader counted.
        read: u64,
    },
    /// The end frame's chain of chunk checksums differs from the chunks read.
    #[error(
        "the footer's chain of chunk checksums is {footer:#010x}, but the chunks read chain to \
         {read:#010x}: a chunk was replaced or moved"
    )]
    ChainMismatch {
        /// What the footer says.
        footer: u32,
        /// What the reader computed.
        read: u32,
    },
}

/// A trace as read: the header, each thread's records, and how whole it is.
#[derive(Clone, Debug, PartialEq)]
pub struct TraceFile {
    /// The format version the file was written with.
    pub version: FormatVersion,
    /// The header.
    pub header: Header,
    /// Each thread's records, from its readable chunks, in order. Shared:
    /// a replay holds them as long as it runs without copying them.
    pub threads: BTreeMap<u32, Arc<Vec<Record>>>,
    /// The footer, if the end marker was read.
    pub footer: Option<Footer>,
    /// The seal after the footer, if the end marker was read and its format
    /// (1.2 on) has one; the reader has checked it against the chunks read.
    pub seal: Option<Seal>,
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

    /// `thread`'s records to edit (a forged trace in a test, a repair):
    /// copied first if a replay still shares them.
    pub fn records_mut(&mut self, thread: u32) -> Option<&mut Vec<Record>> {
        self.threads.get_mut(&thread).map(Arc::make_mut)
    }

    /// Each thread's records as plain vectors, for comparisons in tests.
    #[cfg(test)]
    pub(crate) fn unshared_threads(&self) -> BTreeMap<u32, Vec<Record>> {
        self.threads.iter().map(|(&t, records)| (t, records.to_vec())).collect()
    }
}

fn fail(offset: usize, kind: TraceErrorKind) -> TraceReadError {
    TraceReadError { offset: offset as u64, kind }
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
        seal: None,
        chunks: 0,
        events: 0,
        bytes: bytes.len() as u64,
        intact_bytes: start as u64,
        damage: None,
    };
    read_frames(bytes, start, version, &mut file);
    Ok(file)
}

/// The version, header and offset of the first frame. `bytes` need hold no
/// more than the preamble, header and header checksum: nothing after them is read.
pub(crate) fn read_header(bytes: &[u8]) -> Result<(FormatVersion, Header, usize), TraceReadError> {
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
    let version = FormatVersion { major: u16_at(bytes, 8), minor: u16_at(bytes, 10) };
    match version.compatibility() {
        Compatibility::Readable => {}
        Compatibility::TooOld => return Err(fail(8, TraceErrorKind::TooOld { found: version })),
        Compatibility::TooNew => return Err(fail(8, TraceErrorKind::TooNew { found: version })),
    }
    let len = u32_at(bytes, 12);
    if len > MAX_HEADER_LEN {
        let (len, limit) = (len.into(), MAX_HEADER_LEN.into());
        return Err(fail(12, TraceErrorKind::TooLarge { what: "header", len, limit }));
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
        return Err(fail(8, TraceErrorKind::ChecksumMismatch { section, stored, computed }));
    }
    let header: Header =
        decode_postcard(body, version).map_err(|e| fail(PREAMBLE_LEN, TraceErrorKind::BadHeader(e)))?;
    header.validate().map_err(|e| fail(PREAMBLE_LEN, TraceErrorKind::HeaderParameter(e)))?;
    Ok((version, header, PREAMBLE_LEN + len + 4))
}

/// Reads frames from `start` into `file` until the end marker or the first damage.
fn read_frames(bytes: &[u8], start: usize, version: FormatVersion, file: &mut TraceFile) {
    let mut src = SliceSource::new(bytes, start);
    let mut frames = FrameReader::new(version, start as u64);
    let stop = loop {
        match frames.next(&mut src) {
            Ok(Some(chunk)) => {
                // Unshared while the file is read: `make_mut` never copies here.
                Arc::make_mut(file.threads.entry(chunk.thread).or_default()).extend(chunk.records)
            }
            Ok(None) => break None,
            Err(Stop::Damage(damage)) => break Some(damage),
            Err(Stop::Source(never)) => match never {},
        }
    };
    file.damage = stop;
    file.chunks = frames.chunks;
    file.events = frames.events;
    file.intact_bytes = frames.intact_bytes;
    file.footer = frames.footer;
    file.seal = frames.stored_seal;
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
    /// The path names something other than a regular file (a directory, a
    /// FIFO, a device such as `/dev/zero`): it is refused before it is read,
    /// as reading it could block or never end.
    #[error("`{path}` is {what}, not a trace file")]
    NotAFile {
        /// The path.
        path: PathBuf,
        /// What it is: "a directory", "a FIFO", ...
        what: &'static str,
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
    let io = |source| ReadFileError::Io { path: path.to_owned(), source };
    let (mut file, meta) = open_trace_file(path)?;
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    std::io::Read::read_to_end(&mut file, &mut bytes).map_err(io)?;
    read_trace(&bytes).map_err(|source| ReadFileError::Format { path: path.to_owned(), source })
}

/// Opens `path` for reading as a trace, refusing anything but a regular file.
pub(crate) fn open_trace_file(path: &Path) -> Result<(std::fs::File, std::fs::Metadata), ReadFileError> {
    let io = |source| ReadFileError::Io { path: path.to_owned(), source };
    let not_a_file = |meta: &std::fs::Metadata| match kind_of(meta) {
        Some(what) => Err(ReadFileError::NotAFile { path: path.to_owned(), what }),
        None => Ok(()),
    };
    // Asked before opening: opening a FIFO blocks until someone writes to it.
    not_a_file(&std::fs::metadata(path).map_err(io)?)?;
    let file = std::fs::File::open(path).map_err(io)?;
    // Asked again of what was opened, in case the path changed in between;
    // a regular file is bounded by its length.
    let meta = file.metadata().map_err(io)?;
    not_a_file(&meta)?;
    Ok((file, meta))
}

/// What a path is when it is not a regular file.
fn kind_of(meta: &std::fs::Metadata) -> Option<&'static str> {
    let t = meta.file_type();
    if t.is_file() {
        return None;
    }
    if t.is_dir() {
        return Some("a directory");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return Some("a FIFO");
        }
        if t.is_char_device() {
            return Some("a character device");
        }
        if t.is_block_device() {
            return Some("a block device");
        }
        if t.is_socket() {
            return Some("a socket");
        }
    }
    Some("something other than a regular file")
}

#[cfg(test)]
pub(crate) mod tests;

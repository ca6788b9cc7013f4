//! The on-disk schema of a trace file, shared by the writer and the reader.
//!
//! Every byte of a trace is covered by a CRC-32C (Castagnoli) checksum. All
//! fixed-size integers are little-endian.
//!
//! # Layout
//!
//! ```text
//! preamble  magic "REPRISE\0" (8) | major u16 | minor u16 | header_len u32
//! header    header_len bytes: a postcard `Header`
//!           crc32c u32 over (major, minor, header_len, header bytes)
//! frames    tag u8 | thread u32 | seq u32 | len u32
//!           | crc32c u32 over (tag, thread, seq, len, payload) | payload (len bytes)
//! ```
//!
//! A chunk frame ([`FRAME_CHUNK`]) holds records of one thread (see
//! [`codec`](super::codec)); `seq` counts each thread's chunks from 0, so a
//! lost chunk is seen. The end frame ([`FRAME_END`], thread 0, seq 0) holds a
//! postcard [`Footer`] followed (from format 1.2) by a postcard [`Seal`], and
//! is the last thing in the file: a byte after it is an error, and a file
//! without it is a recording that did not finish (a crash or a kill), readable
//! up to its last whole chunk.
//!
//! The seal counts the chunk frames the writer wrote and chains their
//! checksums: per-frame CRCs and per-thread sequence numbers cannot see a
//! chunk that was removed and its successors renumbered, the seal can.
//!
//! Limits: a chunk payload is at most [`MAX_CHUNK_PAYLOAD`] bytes, a header
//! [`MAX_HEADER_LEN`] and a footer [`MAX_FOOTER_LEN`], so a reader never
//! allocates on the word of a length field.
//!
//! # Versions
//!
//! [`FORMAT_MAJOR`] changes when a reader of the previous major could not read
//! the file; a reader reads only its own major. [`FORMAT_MINOR`] changes when
//! fields are appended to the end of [`Header`] or [`Footer`]: a reader reads
//! every minor of its major, ignoring the fields it does not know.

use super::model::{ObjectKind, Op};
use serde::{Deserialize, Serialize};
use std::fmt;

/// The first eight bytes of every trace.
pub const MAGIC: [u8; 8] = *b"REPRISE\0";
/// The format's major version: readers read only their own.
pub const FORMAT_MAJOR: u16 = 1;
/// The format's minor version: readers read every minor of their major.
/// 1.3 added ops past 30, written with a second op byte (see
/// [`codec`](super::codec)): an older reader stops at the first one with an
/// "unknown op" error, at an event of a primitive it does not know.
pub const FORMAT_MINOR: u16 = 3;
/// The first minor version whose end frame carries a [`Seal`].
pub const SEAL_MINOR: u16 = 2;
/// The largest chunk payload, in bytes.
pub const MAX_CHUNK_PAYLOAD: u32 = 1 << 20;
/// The largest encoded header, in bytes.
pub const MAX_HEADER_LEN: u32 = 64 * 1024;
/// The largest encoded footer, in bytes.
pub const MAX_FOOTER_LEN: u32 = 64 * 1024;
/// Magic, major, minor and header length.
pub const PREAMBLE_LEN: usize = 8 + 2 + 2 + 4;
/// Tag, thread, seq, len and checksum of a frame.
pub const FRAME_HEADER_LEN: usize = 1 + 4 + 4 + 4 + 4;
/// The frame tag of a chunk of records.
pub const FRAME_CHUNK: u8 = 1;
/// The frame tag of the end marker, which carries the [`Footer`].
pub const FRAME_END: u8 = 2;

/// A format version, `major.minor`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FormatVersion {
    /// Incompatible changes.
    pub major: u16,
    /// Compatible additions.
    pub minor: u16,
}

/// Whether this build can read a given format version.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compatibility {
    /// Same major: readable.
    Readable,
    /// An older major: read it with an older reprise, or record it again.
    TooOld,
    /// A newer major: upgrade reprise.
    TooNew,
}

impl FormatVersion {
    /// The version this build writes.
    pub const CURRENT: FormatVersion = FormatVersion { major: FORMAT_MAJOR, minor: FORMAT_MINOR };

    /// Whether this build reads files of this version.
    pub fn compatibility(self) -> Compatibility {
        match self.major.cmp(&FORMAT_MAJOR) {
            std::cmp::Ordering::Less => Compatibility::TooOld,
            std::cmp::Ordering::Equal => Compatibility::Readable,
            std::cmp::Ordering::Greater => Compatibility::TooNew,
        }
    }
}

impl fmt::Display for FormatVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// The CRC-32C that follows the header: over major, minor, header length and
/// the header bytes.
pub fn header_checksum(version: FormatVersion, header: &[u8]) -> u32 {
    let mut fixed = [0u8; 8];
    fixed[0..2].copy_from_slice(&version.major.to_le_bytes());
    fixed[2..4].copy_from_slice(&version.minor.to_le_bytes());
    let len = u32::try_from(header.len()).unwrap_or(u32::MAX);
    fixed[4..8].copy_from_slice(&len.to_le_bytes());
    crc32c::crc32c_append(crc32c::crc32c(&fixed), header)
}

/// The fixed-size start of a frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameHeader {
    /// [`FRAME_CHUNK`] or [`FRAME_END`].
    pub tag: u8,
    /// The thread whose records the chunk holds (0 for the end frame).
    pub thread: u32,
    /// The thread's chunk number, from 0 (0 for the end frame).
    pub seq: u32,
    /// The payload length.
    pub len: u32,
    /// CRC-32C over tag, thread, seq, len and the payload.
    pub checksum: u32,
}

impl FrameHeader {
    /// The header of a frame carrying `payload`, with its checksum computed.
    /// `payload.len()` must fit in `u32` (the writer checks the limits).
    pub fn new(tag: u8, thread: u32, seq: u32, payload: &[u8]) -> FrameHeader {
        let mut h = FrameHeader {
            tag,
            thread,
            seq,
            len: u32::try_from(payload.len()).unwrap_or(u32::MAX),
            checksum: 0,
        };
        h.checksum = h.checksum_of(payload);
        h
    }

    /// The checksum this header's fields and `payload` should have.
    pub fn checksum_of(&self, payload: &[u8]) -> u32 {
        let bytes = self.to_bytes();
        crc32c::crc32c_append(crc32c::crc32c(&bytes[..13]), payload)
    }

    /// The header as written.
    pub fn to_bytes(&self) -> [u8; FRAME_HEADER_LEN] {
        let mut b = [0u8; FRAME_HEADER_LEN];
        b[0] = self.tag;
        b[1..5].copy_from_slice(&self.thread.to_le_bytes());
        b[5..9].copy_from_slice(&self.seq.to_le_bytes());
        b[9..13].copy_from_slice(&self.len.to_le_bytes());
        b[13..17].copy_from_slice(&self.checksum.to_le_bytes());
        b
    }

    /// Parses a header (no check beyond the size).
    pub fn from_bytes(b: &[u8; FRAME_HEADER_LEN]) -> FrameHeader {
        let u32_at = |i: usize| u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
        FrameHeader { tag: b[0], thread: u32_at(1), seq: u32_at(5), len: u32_at(9), checksum: u32_at(13) }
    }
}

/// How the trace was made.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
pub enum TraceMode {
    /// A whole run, recorded while its threads ran in parallel.
    Record,
    /// A schedule found by the explorer.
    Explore,
    /// The last events of each thread, dumped by the flight recorder.
    FlightRecorder,
}

impl fmt::Display for TraceMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TraceMode::Record => "record",
            TraceMode::Explore => "explore",
            TraceMode::FlightRecorder => "flight-recorder",
        })
    }
}

/// What the file says about itself before any chunk.
///
/// # Examples
///
/// ```
/// use reprise_recorder::trace::format::{Header, TraceMode};
///
/// let header = Header {
///     program: "payments".into(),
///     program_version: "0.3.1".into(),
///     recorder_version: env!("CARGO_PKG_VERSION").into(),
///     mode: TraceMode::Explore,
///     parameters: vec![("seed".into(), "42".into())],
///     start_unix_ms: 1_700_000_000_000,
/// };
/// assert_eq!(header.parameter("seed"), Some("42"));
/// ```
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Header {
    /// The recorded program's name.
    pub program: String,
    /// The recorded program's version.
    pub program_version: String,
    /// The version of reprise that wrote the file.
    pub recorder_version: String,
    /// How the trace was made.
    pub mode: TraceMode,
    /// The mode's parameters (seed, strategy, ...), keys unique and non-empty.
    pub parameters: Vec<(String, String)>,
    /// When recording started, in milliseconds since the Unix epoch.
    pub start_unix_ms: u64,
}

impl Header {
    /// The value of parameter `key`, if present.
    pub fn parameter(&self, key: &str) -> Option<&str> {
        lookup(&self.parameters, key)
    }

    /// Checks what postcard cannot: parameter keys are non-empty and unique.
    ///
    /// # Errors
    ///
    /// The first offending parameter.
    pub fn validate(&self) -> Result<(), ParameterError> {
        for (i, (key, _)) in self.parameters.iter().enumerate() {
            if key.is_empty() {
                return Err(ParameterError::EmptyKey { index: i });
            }
            if self.parameters[..i].iter().any(|(k, _)| k == key) {
                return Err(ParameterError::DuplicateKey { key: key.clone() });
            }
        }
        Ok(())
    }
}

/// Why a header's parameters are invalid.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ParameterError {
    /// A key is the empty string.
    #[error("parameter {index} has an empty key")]
    EmptyKey {
        /// Its position in the list.
        index: usize,
    },
    /// A key appears twice.
    #[error("parameter `{key}` appears twice")]
    DuplicateKey {
        /// The key.
        key: String,
    },
}

fn lookup<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

/// What the end frame says about the run.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Footer {
    /// How the run ended.
    pub verdict: Verdict,
    /// Free-form notes (an invariant that broke, the explorer's iteration, ...).
    pub annotations: Vec<(String, String)>,
    /// How many events the writer put in the chunks. From format 1.2 (when
    /// the file has a [`Seal`]) the reader checks it against the events read.
    pub events: u64,
}

impl Footer {
    /// The value of annotation `key`, if present.
    pub fn annotation(&self, key: &str) -> Option<&str> {
        lookup(&self.annotations, key)
    }
}

/// What the writer knows about the chunks it wrote, appended to the end
/// frame after the [`Footer`] from format 1.2 (see [`SEAL_MINOR`]).
///
/// Its size does not depend on the number of threads or chunks, so the end
/// frame stays within [`MAX_FOOTER_LEN`] however long the recording.
///
/// # Examples
///
/// ```
/// use reprise_recorder::trace::format::Seal;
///
/// let mut a = Seal::default();
/// a.add(0x1234);
/// a.add(0x5678);
/// let mut b = Seal::default();
/// b.add(0x5678);
/// assert_eq!(a.chunks, 2);
/// assert_ne!(a, b, "a missing chunk changes the count and the chain");
/// ```
#[derive(Serialize, Deserialize, Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Seal {
    /// How many chunk frames the file holds.
    pub chunks: u64,
    /// A CRC-32C chained over every chunk frame's checksum, in file order.
    pub chain: u32,
}

impl Seal {
    /// Takes one more chunk frame, whose stored checksum is `frame_checksum`.
    pub fn add(&mut self, frame_checksum: u32) {
        self.chunks += 1;
        self.chain = crc32c::crc32c_append(self.chain, &frame_checksum.to_le_bytes());
    }
}

/// How a recorded run ended.
///
/// # Examples
///
/// ```
/// use reprise_recorder::trace::format::{BlockedThread, Verdict};
/// use reprise_recorder::trace::model::Op;
///
/// let v = Verdict::Deadlock {
///     blocked: vec![BlockedThread {
///         thread: 1, op: Op::Lock, object: 4,
///         file: "src/x.rs".into(), line: 10, column: 5, waits_for: Some(2),
///     }],
/// };
/// assert_eq!(v.to_string(), "deadlock: thread 1 waits for thread 2 at lock of mutex #4 (src/x.rs:10:5)");
/// ```
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub enum Verdict {
    /// Every thread finished.
    Completed,
    /// A thread panicked and the run stopped there.
    Panicked {
        /// The thread that panicked.
        thread: u32,
        /// Its panic message.
        message: String,
    },
    /// No thread could make progress.
    Deadlock {
        /// Every blocked thread and what it waited on.
        blocked: Vec<BlockedThread>,
    },
    /// The explorer stopped a schedule that ran past its step bound: a thread
    /// spins without anyone else making progress. (Added in format 1.1.)
    Livelock {
        /// The thread that was spinning.
        thread: u32,
        /// The bound, in scheduling points.
        steps: u64,
        /// Where it spun.
        file: String,
        /// Line.
        line: u32,
        /// Column.
        column: u32,
    },
}

/// A thread stuck in a deadlock.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct BlockedThread {
    /// The thread.
    pub thread: u32,
    /// The operation it is blocked in.
    pub op: Op,
    /// The object it waits on (0 for ops without one).
    pub object: u32,
    /// The call site's file.
    pub file: String,
    /// The call site's line.
    pub line: u32,
    /// The call site's column.
    pub column: u32,
    /// The thread that holds what it waits for, when known.
    pub waits_for: Option<u32>,
}

/// The kind of object an op acts on, if it acts on one.
fn object_kind(op: Op) -> Option<ObjectKind> {
    use Op::*;
    match op {
        Send | Recv | TryRecv | RecvTimeout | Select => Some(ObjectKind::Channel),
        Lock | TryLock | Unlock => Some(ObjectKind::Mutex),
        ReadLock | WriteLock | TryReadLock | TryWriteLock | ReadUnlock | WriteUnlock => {
            Some(ObjectKind::RwLock)
        }
        CondWait | Notify => Some(ObjectKind::Condvar),
        AtomicLoad | AtomicStore | AtomicRmw | AtomicCas => Some(ObjectKind::Atomic),
        _ => None,
    }
}

impl fmt::Display for BlockedThread {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "thread {} waits", self.thread)?;
        if let Some(t) = self.waits_for {
            write!(f, " for thread {t}")?;
        }
        write!(f, " at {}", self.op.name())?;
        if let Some(kind) = object_kind(self.op) {
            write!(f, " of {} #{}", kind.name(), self.object)?;
        }
        write!(f, " ({}:{}:{})", super::show::text(&self.file), self.line, self.column)
    }
}

impl Verdict {
    /// Whether the run ended with threads that could not go on (a deadlock
    /// or a livelock): the trace ends while other threads may still have run.
    pub fn ended_stuck(&self) -> bool {
        matches!(self, Verdict::Deadlock { .. } | Verdict::Livelock { .. })
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Verdict::Completed => f.write_str("completed"),
            Verdict::Panicked { thread, message } => {
                write!(f, "panicked in thread {thread}: {}", super::show::text(message))
            }
            Verdict::Deadlock { blocked } => {
                f.write_str("deadlock")?;
                for (i, b) in blocked.iter().enumerate() {
                    f.write_str(if i == 0 { ": " } else { "; " })?;
                    write!(f, "{b}")?;
                }
                Ok(())
            }
            Verdict::Livelock { thread, steps, file, line, column } => {
                write!(
                    f,
                    "livelock: thread {thread} still spinning after {steps} steps at {}:{line}:{column}",
                    super::show::text(file)
                )
            }
        }
    }
}

/// Decodes a postcard header or footer of a file written by format `version`.
///
/// Fields appended by a newer minor version are ignored; from this minor or an
/// older one, trailing bytes are an error.
///
/// # Errors
///
/// The postcard error, or how many bytes were left over.
pub fn decode_postcard<'a, T: Deserialize<'a>>(bytes: &'a [u8], version: FormatVersion) -> Result<T, String> {
    let (value, rest) = postcard::take_from_bytes::<T>(bytes).map_err(|e| e.to_string())?;
    let from_a_newer_minor = version.minor > FORMAT_MINOR;
    if !rest.is_empty() && !from_a_newer_minor {
        return Err(format!("{} trailing bytes", rest.len()));
    }
    Ok(value)
}

#[cfg(test)]
mod tests;

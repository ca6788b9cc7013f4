//! The chunk payload codec: [`Record`]s of one thread to bytes and back.
//!
//! A chunk payload is a sequence of records, each starting with one tag byte.
//! Delta state resets at the start of every chunk, so each chunk decodes on its
//! own: a file cut after any chunk stays readable.
//!
//! # Layout
//!
//! Integers are unsigned LEB128 varints; "zigzag" means a signed delta mapped
//! to unsigned (`0, -1, 1, -2, ...` as `0, 1, 2, 3, ...`) and then written as a
//! varint.
//!
//! An event's tag byte has bit 7 clear:
//!
//! | bits | meaning |
//! | --- | --- |
//! | 0–4 | the [`Op`] discriminant (0–29) |
//! | 5 | the object equals that of the previous event with the same op in this chunk (and is not written) |
//! | 6 | the site equals that of the previous event with the same op in this chunk (and is not written) |
//!
//! Then, in order:
//!
//! - the object, only if `op.has_object()` and bit 5 is clear: zigzag of
//!   `object - the object of the previous event that had one`;
//! - the site, only if bit 6 is clear: zigzag of `site - the previous event's site`;
//! - the first `op.arity()` outcome fields, as varints, except that the
//!   *counter field* of an op is written as the zigzag of its difference from
//!   the previous value of that field for the same op in the chunk (wrapping in
//!   `u64`): `a` for [`Op::Send`], the lock ops that take a turn
//!   ([`Op::Lock`], [`Op::ReadLock`], [`Op::WriteLock`], [`Op::CondWait`]),
//!   the atomics and the clocks ([`Op::Now`], [`Op::SystemNow`]); `b` (the
//!   sender's send count) for the receive ops when a message came (`a != 0`).
//!
//! All of this state starts at zero in each chunk. A loop that locks the same
//! mutex at the same call site thus costs the tag byte plus the turn's delta,
//! and an unlock right after its lock one byte more than in such a loop.
//!
//! Other records have bit 7 set:
//!
//! | tag | record | fields |
//! | --- | --- | --- |
//! | `0x80` | [`Record::Blob`] | length, bytes |
//! | `0x81` | [`Record::Thread`] | index, parent + 1 (0 for [`NO_THREAD`](super::model::NO_THREAD)), child, name length, name (UTF-8) |
//! | `0x82` | [`Record::Object`] | index, kind byte ([`ObjectKind`] discriminant), site |
//! | `0x83` | [`Record::Site`] | index, line, column, file length, file (UTF-8) |
//! | `0x84` | [`Record::Clock`] | milliseconds since the Unix epoch |
//!
//! Outcome fields past an op's arity, and the object of an op without one, are
//! not written: they decode as zero.

use super::model::{Event, ObjectKind, Op, Record};

const OP_MASK: u8 = 0x1f;
const SAME_OBJECT: u8 = 0x20;
const SAME_SITE: u8 = 0x40;
const TABLE: u8 = 0x80;
const TAG_BLOB: u8 = 0x80;
const TAG_THREAD: u8 = 0x81;
const TAG_OBJECT: u8 = 0x82;
const TAG_SITE: u8 = 0x83;
const TAG_CLOCK: u8 = 0x84;
const OPS: usize = Op::ALL.len();

/// The most bytes [`EventEncoder::encode_event`] appends for one event: the
/// tag, a 5-byte object delta, a 5-byte site delta and three 10-byte varints.
pub const MAX_EVENT_LEN: usize = 1 + 5 + 5 + 3 * 10;

/// Whether `a` is the op's counter field, delta-coded against the previous
/// event of the same op.
const fn counts_a(op: Op) -> bool {
    matches!(
        op,
        Op::Send
            | Op::Lock
            | Op::ReadLock
            | Op::WriteLock
            | Op::CondWait
            | Op::AtomicLoad
            | Op::AtomicStore
            | Op::AtomicRmw
            | Op::AtomicCas
            | Op::Now
            | Op::SystemNow
    )
}

/// Whether `b` is the op's counter field (a receive that got a message).
fn counts_b(op: Op, a: u64) -> bool {
    matches!(op, Op::Recv | Op::TryRecv | Op::RecvTimeout | Op::Select) && a != 0
}

fn zigzag(delta: i64) -> u64 {
    ((delta << 1) ^ (delta >> 63)) as u64
}

fn unzigzag(value: u64) -> i64 {
    ((value >> 1) as i64) ^ -((value & 1) as i64)
}

/// Appends `value` as LEB128.
#[inline]
fn push_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

fn push_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    push_varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

/// The per-chunk delta state of one thread's event stream.
///
/// Call [`reset`](EventEncoder::reset) at the start of every chunk (the
/// decoder starts each chunk from scratch).
///
/// # Examples
///
/// ```
/// use reprise_recorder::trace::codec::{decode_chunk, EventEncoder};
/// use reprise_recorder::trace::model::{Event, Op, Record};
///
/// let mut enc = EventEncoder::new();
/// let mut out = Vec::with_capacity(64);
/// let lock = Event { op: Op::Lock, object: 4, site: 2, a: 7, b: 0, c: 0 };
/// enc.encode_event(&mut out, &lock);
/// enc.encode_event(&mut out, &Event { a: 9, ..lock });
/// assert_eq!(out.len(), 4 + 2);
/// assert_eq!(decode_chunk(&out).unwrap()[1], Record::Event(Event { a: 9, ..lock }));
/// ```
#[derive(Clone, Debug)]
pub struct EventEncoder {
    state: DeltaState,
}

/// What both directions remember: of the previous event of each op, and of
/// the previous event.
#[derive(Clone, Debug)]
struct DeltaState {
    // 32 slots (a power of two at least `OPS`), indexed by `op & 31`, so the
    // hot path needs no bounds check.
    object: [u32; 32],
    site: [u32; 32],
    counter: [u64; 32],
    last_object: u32,
    last_site: u32,
}

impl DeltaState {
    const fn new() -> Self {
        DeltaState { object: [0; 32], site: [0; 32], counter: [0; 32], last_object: 0, last_site: 0 }
    }
}

impl Default for EventEncoder {
    fn default() -> Self {
        Self::new()
    }
}

impl EventEncoder {
    /// An encoder at the start of a chunk.
    pub const fn new() -> Self {
        EventEncoder { state: DeltaState::new() }
    }

    /// Forgets the delta state: call this at the start of each chunk.
    pub fn reset(&mut self) {
        self.state = DeltaState::new();
    }

    /// Appends one event, at most [`MAX_EVENT_LEN`] bytes. Allocates only if
    /// `out` lacks the capacity.
    #[inline]
    pub fn encode_event(&mut self, out: &mut Vec<u8>, e: &Event) {
        let mut window = [0u8; MAX_EVENT_LEN];
        let len = self.encode_event_into(&mut window, e);
        out.extend_from_slice(&window[..len]);
    }

    /// Writes one event at the start of `window`; returns how many bytes it
    /// took. The recorder's hot path: it encodes straight into its chunk
    /// buffer, with no per-event copy or capacity check.
    #[inline]
    pub fn encode_event_into(&mut self, window: &mut [u8; MAX_EVENT_LEN], e: &Event) -> usize {
        let op = e.op as u8;
        let i = usize::from(op) & 31;
        let flags = OP_FLAGS[i];
        let st = &mut self.state;
        let mut tag = op;
        let mut at = 1;
        if flags & HAS_OBJECT != 0 {
            if e.object == st.object[i] {
                tag |= SAME_OBJECT;
            } else {
                at = put_varint(window, at, zigzag(i64::from(e.object) - i64::from(st.last_object)));
                st.object[i] = e.object;
            }
            st.last_object = e.object;
        }
        if e.site == st.site[i] {
            tag |= SAME_SITE;
        } else {
            at = put_varint(window, at, zigzag(i64::from(e.site) - i64::from(st.last_site)));
            st.site[i] = e.site;
        }
        st.last_site = e.site;
        let arity = flags & ARITY_MASK;
        if arity > 0 {
            let value = if flags & COUNTS_A != 0 {
                let delta = e.a.wrapping_sub(st.counter[i]) as i64;
                st.counter[i] = e.a;
                zigzag(delta)
            } else {
                e.a
            };
            at = put_varint(window, at, value);
        }
        if arity > 1 {
            let value = if flags & COUNTS_B != 0 && e.a != 0 {
                // An op counts at most one of its fields, so `b` shares the slot.
                let delta = e.b.wrapping_sub(st.counter[i]) as i64;
                st.counter[i] = e.b;
                zigzag(delta)
            } else {
                e.b
            };
            at = put_varint(window, at, value);
        }
        if arity > 2 {
            at = put_varint(window, at, e.c);
        }
        window[0] = tag;
        at
    }
}

const ARITY_MASK: u8 = 0b11;
const HAS_OBJECT: u8 = 1 << 2;
const COUNTS_A: u8 = 1 << 3;
const COUNTS_B: u8 = 1 << 4;

/// What the encoder needs to know of each op, in one byte: looked up once
/// per event instead of matching on the op several times.
const OP_FLAGS: [u8; 32] = {
    let mut table = [0u8; 32];
    let mut i = 0;
    while i < OPS {
        let op = Op::ALL[i];
        let mut flags = op.arity() as u8;
        if op.has_object() {
            flags |= HAS_OBJECT;
        }
        if counts_a(op) {
            flags |= COUNTS_A;
        }
        if matches!(op, Op::Recv | Op::TryRecv | Op::RecvTimeout | Op::Select) {
            flags |= COUNTS_B;
        }
        table[i] = flags;
        i += 1;
    }
    table
};

/// Writes `value` as LEB128 into `window` at `at`; returns the new position.
#[inline]
fn put_varint(window: &mut [u8; MAX_EVENT_LEN], mut at: usize, mut value: u64) -> usize {
    while value >= 0x80 {
        window[at] = (value as u8) | 0x80;
        value >>= 7;
        at += 1;
    }
    window[at] = value as u8;
    at + 1
}

/// Appends a [`Record::Blob`].
pub fn encode_blob(out: &mut Vec<u8>, bytes: &[u8]) {
    out.push(TAG_BLOB);
    push_bytes(out, bytes);
}

/// Appends a [`Record::Thread`]; `parent` may be [`NO_THREAD`](super::model::NO_THREAD).
pub fn encode_thread(out: &mut Vec<u8>, index: u32, parent: u32, child: u32, name: &str) {
    out.push(TAG_THREAD);
    push_varint(out, index.into());
    push_varint(out, parent.wrapping_add(1).into());
    push_varint(out, child.into());
    push_bytes(out, name.as_bytes());
}

/// Appends a [`Record::Object`].
pub fn encode_object(out: &mut Vec<u8>, index: u32, kind: ObjectKind, site: u32) {
    out.push(TAG_OBJECT);
    push_varint(out, index.into());
    out.push(kind as u8);
    push_varint(out, site.into());
}

/// Appends a [`Record::Site`].
pub fn encode_site(out: &mut Vec<u8>, index: u32, file: &str, line: u32, column: u32) {
    out.push(TAG_SITE);
    push_varint(out, index.into());
    push_varint(out, line.into());
    push_varint(out, column.into());
    push_bytes(out, file.as_bytes());
}

/// Appends a [`Record::Clock`].
pub fn encode_clock(out: &mut Vec<u8>, unix_ms: u64) {
    out.push(TAG_CLOCK);
    push_varint(out, unix_ms);
}

/// Appends any record; events go through `enc`'s delta state.
pub fn encode_record(enc: &mut EventEncoder, out: &mut Vec<u8>, record: &Record) {
    match record {
        Record::Event(e) => enc.encode_event(out, e),
        Record::Blob(bytes) => encode_blob(out, bytes),
        Record::Thread { index, parent, child, name } => encode_thread(out, *index, *parent, *child, name),
        Record::Object { index, kind, site } => encode_object(out, *index, *kind, *site),
        Record::Site { index, file, line, column } => encode_site(out, *index, file, *line, *column),
        Record::Clock(ms) => encode_clock(out, *ms),
    }
}

/// Why a chunk payload could not be decoded, and where.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("at payload byte {offset}: {kind}")]
pub struct CodecError {
    /// The offset within the payload of the byte or field that was wrong.
    pub offset: usize,
    /// What was wrong.
    pub kind: CodecErrorKind,
}

/// What was wrong in a chunk payload.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CodecErrorKind {
    /// The tag byte names no record type.
    #[error("unknown record tag {0:#04x}")]
    UnknownTag(u8),
    /// The tag says "same object" for an op that has no object.
    #[error("tag {tag:#04x} marks an object on `{op}`, which has none", op = op.name())]
    ObjectFlagWithoutObject {
        /// The tag byte.
        tag: u8,
        /// Its op.
        op: Op,
    },
    /// The payload ends inside a varint.
    #[error("truncated varint")]
    TruncatedVarint,
    /// A varint has more than 64 bits.
    #[error("varint longer than 64 bits")]
    VarintOverflow,
    /// The payload ends where a fixed-size field was expected.
    #[error("truncated {0}")]
    Truncated(&'static str),
    /// A length field points past the end of the payload.
    #[error("length {len} of {what} goes beyond the payload ({left} bytes left)")]
    LengthBeyondPayload {
        /// What the length was of.
        what: &'static str,
        /// The length read.
        len: u64,
        /// The bytes left in the payload.
        left: usize,
    },
    /// A string is not UTF-8.
    #[error("{0} is not valid UTF-8")]
    BadUtf8(&'static str),
    /// An object kind byte names no kind.
    #[error("unknown object kind {0}")]
    UnknownObjectKind(u8),
    /// A value does not fit its field.
    #[error("{what} {value} is out of range for u32")]
    OutOfRange {
        /// Which field.
        what: &'static str,
        /// The value it decoded to.
        value: i128,
    },
}

/// A bounds-checked view of a payload that remembers how far it got.
struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn err(at: usize, kind: CodecErrorKind) -> CodecError {
        CodecError { offset: at, kind }
    }

    fn byte(&mut self, what: &'static str) -> Result<u8, CodecError> {
        let b = *self.bytes.get(self.pos).ok_or(Self::err(self.pos, CodecErrorKind::Truncated(what)))?;
        self.pos += 1;
        Ok(b)
    }

    fn varint(&mut self) -> Result<u64, CodecError> {
        let start = self.pos;
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let Some(&b) = self.bytes.get(self.pos) else {
                return Err(Self::err(start, CodecErrorKind::TruncatedVarint));
            };
            self.pos += 1;
            if shift == 63 && b > 1 {
                return Err(Self::err(start, CodecErrorKind::VarintOverflow));
            }
            value |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                return Ok(value);
            }
        }
        Err(Self::err(start, CodecErrorKind::VarintOverflow))
    }

    fn u32(&mut self, what: &'static str) -> Result<u32, CodecError> {
        let start = self.pos;
        let v = self.varint()?;
        u32::try_from(v).map_err(|_| Self::err(start, CodecErrorKind::OutOfRange { what, value: v.into() }))
    }

    /// A u32 written as the zigzag delta from `prev`.
    fn delta_u32(&mut self, what: &'static str, prev: u32) -> Result<u32, CodecError> {
        let start = self.pos;
        let v = i128::from(prev) + i128::from(unzigzag(self.varint()?));
        u32::try_from(v).map_err(|_| Self::err(start, CodecErrorKind::OutOfRange { what, value: v }))
    }

    fn bytes(&mut self, what: &'static str) -> Result<&'a [u8], CodecError> {
        let start = self.pos;
        let len = self.varint()?;
        let left = self.bytes.len() - self.pos;
        match usize::try_from(len) {
            Ok(n) if n <= left => {
                let s = &self.bytes[self.pos..self.pos + n];
                self.pos += n;
                Ok(s)
            }
            _ => Err(Self::err(start, CodecErrorKind::LengthBeyondPayload { what, len, left })),
        }
    }

    fn string(&mut self, what: &'static str) -> Result<String, CodecError> {
        let start = self.pos;
        let bytes = self.bytes(what)?;
        match std::str::from_utf8(bytes) {
            Ok(s) => Ok(s.to_owned()),
            Err(_) => Err(Self::err(start, CodecErrorKind::BadUtf8(what))),
        }
    }
}

/// Decodes a whole chunk payload, with fresh delta state.
///
/// # Errors
///
/// The first malformed record stops decoding: the error gives its offset
/// within `payload` and what was wrong. Lengths are checked against what is
/// left of the payload before anything is allocated.
pub fn decode_chunk(payload: &[u8]) -> Result<Vec<Record>, CodecError> {
    let mut cur = Cursor { bytes: payload, pos: 0 };
    let mut st = DeltaState::new();
    let mut records = Vec::new();
    while cur.pos < payload.len() {
        let start = cur.pos;
        let tag = cur.byte("tag")?;
        let record = match tag {
            TAG_BLOB => Record::Blob(cur.bytes("blob")?.to_vec()),
            TAG_THREAD => Record::Thread {
                index: cur.u32("thread index")?,
                parent: cur.u32("thread parent")?.wrapping_sub(1),
                child: cur.u32("thread child number")?,
                name: cur.string("thread name")?,
            },
            TAG_OBJECT => {
                let index = cur.u32("object index")?;
                let at = cur.pos;
                let k = cur.byte("object kind")?;
                let kind =
                    ObjectKind::from_u8(k).ok_or(Cursor::err(at, CodecErrorKind::UnknownObjectKind(k)))?;
                let site = cur.u32("object site")?;
                Record::Object { index, kind, site }
            }
            TAG_SITE => {
                let index = cur.u32("site index")?;
                let line = cur.u32("site line")?;
                let column = cur.u32("site column")?;
                let file = cur.string("site file")?;
                Record::Site { index, file, line, column }
            }
            TAG_CLOCK => Record::Clock(cur.varint()?),
            _ if tag & TABLE != 0 => {
                return Err(Cursor::err(start, CodecErrorKind::UnknownTag(tag)));
            }
            _ => Record::Event(decode_event(&mut cur, &mut st, start, tag)?),
        };
        records.push(record);
    }
    Ok(records)
}

fn decode_event(
    cur: &mut Cursor<'_>,
    st: &mut DeltaState,
    start: usize,
    tag: u8,
) -> Result<Event, CodecError> {
    let op = Op::from_u8(tag & OP_MASK).ok_or(Cursor::err(start, CodecErrorKind::UnknownTag(tag)))?;
    let i = usize::from(op as u8);
    let object = if !op.has_object() {
        if tag & SAME_OBJECT != 0 {
            return Err(Cursor::err(start, CodecErrorKind::ObjectFlagWithoutObject { tag, op }));
        }
        0
    } else if tag & SAME_OBJECT != 0 {
        st.object[i]
    } else {
        st.object[i] = cur.delta_u32("object", st.last_object)?;
        st.object[i]
    };
    if op.has_object() {
        st.last_object = object;
    }
    if tag & SAME_SITE == 0 {
        st.site[i] = cur.delta_u32("site", st.last_site)?;
    }
    st.last_site = st.site[i];
    let mut fields = [0u64; 3];
    for k in 0..op.arity().min(3) {
        let raw = cur.varint()?;
        let counter = match k {
            0 => counts_a(op),
            1 => counts_b(op, fields[0]),
            _ => false,
        };
        fields[k] = if counter {
            st.counter[i] = st.counter[i].wrapping_add(unzigzag(raw) as u64);
            st.counter[i]
        } else {
            raw
        };
    }
    Ok(Event { op, object, site: st.site[i], a: fields[0], b: fields[1], c: fields[2] })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::trace::model::NO_THREAD;
    use proptest::prelude::*;

    fn event(op: Op, object: u32, site: u32, a: u64, b: u64, c: u64) -> Event {
        Event { op, object, site, a, b, c }
    }

    /// An event as the recorder makes them: zero outside the op's arity and
    /// object 0 when the op has none.
    pub(crate) fn arb_event() -> impl Strategy<Value = Event> {
        let value = prop_oneof![0u64..200, any::<u64>()];
        (
            0..Op::ALL.len(),
            prop_oneof![0u32..8, any::<u32>()],
            prop_oneof![0u32..8, any::<u32>()],
            [value.clone(), value.clone(), value],
        )
            .prop_map(|(op, object, site, f)| {
                let op = Op::ALL[op];
                let n = op.arity();
                let object = if op.has_object() { object } else { 0 };
                let keep = |k: usize| if k < n { f[k] } else { 0 };
                event(op, object, site, keep(0), keep(1), keep(2))
            })
    }

    pub(crate) fn arb_record() -> impl Strategy<Value = Record> {
        let kind = (0u8..5).prop_map(|k| ObjectKind::from_u8(k).unwrap_or(ObjectKind::Atomic));
        prop_oneof![
            6 => arb_event().prop_map(Record::Event),
            1 => prop::collection::vec(any::<u8>(), 0..40).prop_map(Record::Blob),
            1 => (any::<u32>(), prop_oneof![Just(NO_THREAD), any::<u32>()], any::<u32>(), ".{0,12}")
                .prop_map(|(index, parent, child, name)| Record::Thread { index, parent, child, name }),
            1 => (any::<u32>(), kind, any::<u32>())
                .prop_map(|(index, kind, site)| Record::Object { index, kind, site }),
            1 => (any::<u32>(), ".{0,20}", any::<u32>(), any::<u32>())
                .prop_map(|(index, file, line, column)| Record::Site { index, file, line, column }),
            1 => any::<u64>().prop_map(Record::Clock),
        ]
    }

    pub(crate) fn encode_all(records: &[Record]) -> Vec<u8> {
        let mut enc = EventEncoder::new();
        let mut out = Vec::new();
        for r in records {
            encode_record(&mut enc, &mut out, r);
        }
        out
    }

    proptest! {
        #[test]
        fn any_records_round_trip(records in prop::collection::vec(arb_record(), 0..60)) {
            let bytes = encode_all(&records);
            prop_assert_eq!(decode_chunk(&bytes), Ok(records));
        }

        #[test]
        fn any_bytes_decode_without_panicking(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
            if let Err(e) = decode_chunk(&bytes) {
                prop_assert!(e.offset <= bytes.len());
            }
        }

        #[test]
        fn every_event_fits_the_documented_maximum(e in arb_event()) {
            let mut enc = EventEncoder::new();
            let mut out = Vec::new();
            enc.encode_event(&mut out, &e);
            prop_assert!(out.len() <= MAX_EVENT_LEN);
        }
    }

    #[test]
    fn a_typical_worker_loop_costs_at_most_four_bytes_per_event() {
        let mut out = Vec::with_capacity(4096);
        let mut enc = EventEncoder::new();
        let mut n = 0;
        for i in 0..100u64 {
            let evs = [
                event(Op::Recv, 1, 1, 2, 1000 + 3 * i, 0),
                event(Op::Lock, 7, 2, 5000 + 4 * i, 0, 0),
                event(Op::AtomicRmw, 9, 3, 700 + 2 * i, 11, 0),
                event(Op::Unlock, 7, 4, 0, 0, 0),
                event(Op::Send, 2, 5, i, 0, 0),
                event(Op::Now, 0, 6, 1_000_000 + 90 * i, 0, 0),
            ];
            for e in &evs {
                let before = out.len();
                enc.encode_event(&mut out, e);
                if i > 0 {
                    assert!(out.len() - before <= 4, "{e:?} took {} bytes", out.len() - before);
                }
                n += 1;
            }
        }
        let per_event = out.len() as f64 / f64::from(n);
        assert!(per_event <= 2.6, "{per_event} bytes per event");
    }

    #[test]
    fn an_unlock_right_after_its_lock_costs_two_bytes() {
        let mut out = Vec::new();
        let mut enc = EventEncoder::new();
        enc.encode_event(&mut out, &event(Op::Unlock, 40, 3, 0, 0, 0));
        enc.encode_event(&mut out, &event(Op::Lock, 900, 2, 17, 0, 0));
        let before = out.len();
        enc.encode_event(&mut out, &event(Op::Unlock, 900, 3, 0, 0, 0));
        assert_eq!(out.len() - before, 2);
    }

    #[test]
    fn encoding_into_a_vec_with_capacity_does_not_reallocate() {
        let mut out = Vec::with_capacity(MAX_EVENT_LEN);
        let ptr = out.as_ptr();
        let mut enc = EventEncoder::new();
        enc.encode_event(&mut out, &event(Op::AtomicCas, u32::MAX, u32::MAX, 1 << 63, u64::MAX, u64::MAX));
        assert_eq!(out.len(), MAX_EVENT_LEN);
        assert_eq!(out.as_ptr(), ptr);
    }

    #[test]
    fn reset_makes_the_encoder_start_a_fresh_chunk() {
        let e = event(Op::Lock, 3, 4, 10, 0, 0);
        let mut enc = EventEncoder::new();
        let mut first = Vec::new();
        enc.encode_event(&mut first, &e);
        enc.reset();
        let mut second = Vec::new();
        enc.encode_event(&mut second, &e);
        assert_eq!(first, second);
        assert_eq!(decode_chunk(&second), Ok(vec![Record::Event(e)]));
    }

    #[test]
    fn fields_beyond_the_arity_are_not_written() {
        let mut enc = EventEncoder::new();
        let mut out = Vec::new();
        enc.encode_event(&mut out, &event(Op::Unlock, 0, 0, 0, 0, 0));
        assert_eq!(out, [Op::Unlock as u8 | SAME_OBJECT | SAME_SITE]);
    }

    fn err(bytes: &[u8]) -> CodecError {
        decode_chunk(bytes).expect_err("must not decode")
    }

    #[test]
    fn malformed_payloads_name_the_offset_and_the_fault() {
        use CodecErrorKind::*;
        let clock = [TAG_CLOCK, 1];
        let with = |tail: &[u8]| [&clock[..], tail].concat();
        assert_eq!(err(&with(&[0x85])), CodecError { offset: 2, kind: UnknownTag(0x85) });
        assert_eq!(err(&with(&[30])).kind, UnknownTag(30));
        assert_eq!(err(&with(&[TAG_CLOCK, 0x80])), CodecError { offset: 3, kind: TruncatedVarint });
        let eleven = [0xff; 11];
        assert_eq!(err(&with(&[&[TAG_CLOCK][..], &eleven].concat())).kind, VarintOverflow);
        let mut high = vec![TAG_CLOCK];
        high.extend([0xff; 9]);
        high.push(0x02);
        assert_eq!(err(&high).kind, VarintOverflow);
        assert_eq!(
            err(&with(&[TAG_BLOB, 5, 1, 2])),
            CodecError { offset: 3, kind: LengthBeyondPayload { what: "blob", len: 5, left: 2 } }
        );
        let huge = [TAG_BLOB, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01];
        assert!(matches!(err(&huge).kind, LengthBeyondPayload { .. }));
        assert_eq!(err(&[TAG_THREAD, 0, 0, 0, 1, 0xff]).kind, BadUtf8("thread name"));
        assert_eq!(err(&[TAG_OBJECT, 1, 9, 0]), CodecError { offset: 2, kind: UnknownObjectKind(9) });
        assert_eq!(err(&[TAG_OBJECT, 1]).kind, Truncated("object kind"));
        assert_eq!(
            err(&[TAG_SITE, 0x80, 0x80, 0x80, 0x80, 0x10]).kind,
            OutOfRange { what: "site index", value: 1 << 32 }
        );
        // Object 0 minus one.
        assert_eq!(err(&[Op::Lock as u8 | SAME_SITE, 1, 0]).kind, OutOfRange { what: "object", value: -1 });
        assert_eq!(
            err(&[Op::Now as u8 | SAME_OBJECT, 0, 0]).kind,
            ObjectFlagWithoutObject { tag: Op::Now as u8 | SAME_OBJECT, op: Op::Now }
        );
        assert_eq!(err(&[Op::Lock as u8 | SAME_OBJECT | SAME_SITE]).kind, TruncatedVarint);
    }

    #[test]
    fn errors_read_as_sentences() {
        assert_eq!(err(&[0x9f]).to_string(), "at payload byte 0: unknown record tag 0x9f");
        assert_eq!(
            err(&[Op::Now as u8 | SAME_OBJECT]).to_string(),
            "at payload byte 0: tag 0x38 marks an object on `now`, which has none"
        );
    }
}

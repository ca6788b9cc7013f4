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
//! | 0–4 | the [`Op`] discriminant when it is below 31; `31` (all five bits set): the discriminant is `31 +` the byte that follows the tag |
//! | 5 | the object equals that of the previous event with the same op in this chunk (and is not written) |
//! | 6 | the site equals that of the previous event with the same op in this chunk (and is not written) |
//!
//! Then, in order:
//!
//! - for an op of 31 or more, one byte: its discriminant minus 31;
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
//!
//! A blob after an [`Op::Capture`] event is the value's postcard bytes; after
//! an [`Op::CaptureSensitive`] event (an extended op) it starts with a kind
//! byte: `0` redacted (the value was not kept), `1` a 12-byte nonce then the
//! ChaCha20-Poly1305 ciphertext and tag (see
//! [`sensitive`](super::model::sensitive)). A reader older than the op stops
//! at it with an "unknown op" error, as for any op appended in 1.3; the value
//! is never in the file in clear.

use super::model::{Event, ObjectKind, Op, Record};

const OP_MASK: u8 = 0x1f;
/// The op bits that say "the op is in the next byte": ops 31 and later.
const OP_EXTENDED: u8 = OP_MASK;
const SAME_OBJECT: u8 = 0x20;
const SAME_SITE: u8 = 0x40;
const TABLE: u8 = 0x80;
const TAG_BLOB: u8 = 0x80;
const TAG_THREAD: u8 = 0x81;
const TAG_OBJECT: u8 = 0x82;
const TAG_SITE: u8 = 0x83;
const TAG_CLOCK: u8 = 0x84;
const OPS: usize = Op::ALL.len();
/// The per-op state's slots: a power of two that holds every op.
const SLOTS: usize = 64;
const SLOT_MASK: usize = SLOTS - 1;
const _: () = assert!(OPS <= SLOTS && OPS <= OP_EXTENDED as usize + 256);

/// The most bytes [`EventEncoder::encode_event`] appends for one event: the
/// tag, an extended op byte, a 5-byte object delta, a 5-byte site delta and
/// three 10-byte varints.
pub const MAX_EVENT_LEN: usize = 2 + 5 + 5 + 3 * 10;

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
            | Op::TrackedRead
            | Op::TrackedWrite
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
    // SLOTS slots (a power of two at least `OPS`), indexed by `op & SLOT_MASK`,
    // so the hot path needs no bounds check.
    object: [u32; SLOTS],
    site: [u32; SLOTS],
    counter: [u64; SLOTS],
    last_object: u32,
    last_site: u32,
}

impl DeltaState {
    const fn new() -> Self {
        DeltaState { object: [0; SLOTS], site: [0; SLOTS], counter: [0; SLOTS], last_object: 0, last_site: 0 }
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
        let mut window = [0u8; EVENT_WINDOW];
        let len = self.encode_fields(e.op as u8, &mut window, (e.object, e.site), [e.a, e.b, e.c]);
        out.extend_from_slice(&window[..len]);
    }

    /// Writes one event at the start of `window`; returns how many bytes it
    /// took. The writer's loop takes this path for the events its per-op
    /// arms do not: a block's last records, whose room may be shorter than
    /// the 64-byte window those arms write into.
    #[inline]
    pub fn encode_event_into(&mut self, window: &mut [u8; MAX_EVENT_LEN], e: &Event) -> usize {
        let mut wide = [0u8; EVENT_WINDOW];
        let len = self.encode_fields(e.op as u8, &mut wide, (e.object, e.site), [e.a, e.b, e.c]);
        window[..len].copy_from_slice(&wide[..len]);
        len
    }
}

/// The window [`EventEncoder::encode_op_into`] writes an event into: more
/// than [`MAX_EVENT_LEN`], a power of two, so that a position masked with
/// `EVENT_WINDOW - 1` needs no bounds check (it is below
/// [`MAX_EVENT_LEN`] anyway, and the mask leaves it as it is).
pub(crate) const EVENT_WINDOW: usize = 64;
const WINDOW_MASK: usize = EVENT_WINDOW - 1;
const _: () = assert!(MAX_EVENT_LEN <= EVENT_WINDOW && EVENT_WINDOW.is_power_of_two());

impl EventEncoder {
    /// Writes one event of op number `OP` at the start of `window`, its
    /// fields given apart; returns how many bytes it took. The same bytes
    /// as [`encode_event_into`](Self::encode_event_into) (tests pin them),
    /// for the writer's loop: with the op a constant, what the op has (an
    /// object, its arity, its counter field) is known when this is
    /// compiled, so an event costs no table lookup or test of it, and no
    /// bounds check per byte. `OP` must be an op's number.
    #[inline(always)]
    // The raw events' writer is not built under loom.
    #[cfg_attr(reprise_loom, allow(dead_code))]
    pub(crate) fn encode_op_into<const OP: u8>(
        &mut self,
        window: &mut [u8; EVENT_WINDOW],
        names: (u32, u32),
        fields: [u64; 3],
    ) -> usize {
        self.encode_fields(OP, window, names, fields)
    }

    /// The one encoding of an event, op `op` (an op's number), on `object`
    /// at `site`, with outcome words `a`, `b`, `c`: both entries above come
    /// here, in line, so where `op` is a constant what it has is known when
    /// this is compiled.
    #[inline(always)]
    fn encode_fields(
        &mut self,
        op: u8,
        window: &mut [u8; EVENT_WINDOW],
        (object, site): (u32, u32),
        [a, b, c]: [u64; 3],
    ) -> usize {
        let i = usize::from(op) & SLOT_MASK;
        let flags = OP_FLAGS[i];
        let st = &mut self.state;
        let (mut tag, mut at) = if op < OP_EXTENDED {
            (op, 1)
        } else {
            window[1] = op.wrapping_sub(OP_EXTENDED);
            (OP_EXTENDED, 2)
        };
        if flags & HAS_OBJECT != 0 {
            if object == st.object[i] {
                tag |= SAME_OBJECT;
            } else {
                at = put_varint_masked(window, at, zigzag(i64::from(object) - i64::from(st.last_object)));
                st.object[i] = object;
            }
            st.last_object = object;
        }
        if site == st.site[i] {
            tag |= SAME_SITE;
        } else {
            at = put_varint_masked(window, at, zigzag(i64::from(site) - i64::from(st.last_site)));
            st.site[i] = site;
        }
        st.last_site = site;
        let arity = flags & ARITY_MASK;
        if arity > 0 {
            let value = if flags & COUNTS_A != 0 {
                let delta = a.wrapping_sub(st.counter[i]) as i64;
                st.counter[i] = a;
                zigzag(delta)
            } else {
                a
            };
            at = put_varint_masked(window, at, value);
        }
        if arity > 1 {
            let value = if flags & COUNTS_B != 0 && a != 0 {
                // An op counts at most one of its fields, so `b` shares the slot.
                let delta = b.wrapping_sub(st.counter[i]) as i64;
                st.counter[i] = b;
                zigzag(delta)
            } else {
                b
            };
            at = put_varint_masked(window, at, value);
        }
        if arity > 2 {
            at = put_varint_masked(window, at, c);
        }
        window[0] = tag;
        at
    }
}

/// Writes `value` as LEB128 into `window` at `at`; returns the new
/// position. Positions are masked into the window (they stay below
/// [`MAX_EVENT_LEN`], so the mask changes none): no bounds check, no panic.
#[inline(always)]
fn put_varint_masked(window: &mut [u8; EVENT_WINDOW], mut at: usize, mut value: u64) -> usize {
    while value >= 0x80 {
        window[at & WINDOW_MASK] = (value as u8) | 0x80;
        value >>= 7;
        at += 1;
    }
    window[at & WINDOW_MASK] = value as u8;
    at + 1
}

const ARITY_MASK: u8 = 0b11;
const HAS_OBJECT: u8 = 1 << 2;
const COUNTS_A: u8 = 1 << 3;
const COUNTS_B: u8 = 1 << 4;

/// What the encoder needs to know of each op, in one byte: looked up once
/// per event instead of matching on the op several times.
const OP_FLAGS: [u8; SLOTS] = {
    let mut table = [0u8; SLOTS];
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

/// Whether `encoded`, one encoded record, is a table record (a thread, a
/// call site or an object), which later chunks of its thread refer to.
#[cfg_attr(reprise_loom, allow(dead_code))]
pub(crate) fn is_table_record(encoded: &[u8]) -> bool {
    matches!(encoded.first(), Some(&(TAG_THREAD | TAG_SITE | TAG_OBJECT)))
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

mod decode;

pub use decode::{decode_chunk, CodecError, CodecErrorKind};

#[cfg(test)]
pub(crate) mod tests;

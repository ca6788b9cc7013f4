//! Decoding a chunk payload: bytes back to [`Record`]s, refusing anything the
//! encoder in [`super`] would not have written.

use super::*;
use crate::trace::model::BadOutcome;

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
    /// An event's op code names no op (an op past the last one this reader
    /// knows, or more than 255).
    #[error("event tag {tag:#04x} names op {op}, which this reader does not know")]
    UnknownOp {
        /// The tag byte.
        tag: u8,
        /// The op code it gives (`u16::MAX` when past 255).
        op: u16,
    },
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
    /// An event's outcome fields are ones no recorder writes for its op.
    #[error("{0}")]
    BadOutcome(BadOutcome),
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

/// The most records [`decode_chunk`] makes room for before it reads any:
/// a chunk the recorder writes holds fewer (64 KiB of 40-byte raw events,
/// about 1,640).
const RESERVED_RECORDS: usize = 4096;

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
    // Sized up front (an event takes about four bytes): growing from empty
    // copied each chunk's records several times, and a coroutine replay from
    // a file decodes every chunk twice. Capped, so that a payload of one
    // long blob does not reserve room for records it does not hold.
    let mut records = Vec::with_capacity((payload.len() / 4).min(RESERVED_RECORDS));
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
    let code = match tag & OP_MASK {
        OP_EXTENDED => OP_EXTENDED.checked_add(cur.byte("op")?),
        code => Some(code),
    };
    let op = code
        .and_then(Op::from_u8)
        .ok_or(Cursor::err(start, CodecErrorKind::UnknownOp { tag, op: code.map_or(u16::MAX, u16::from) }))?;
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
    let event = Event { op, object, site: st.site[i], a: fields[0], b: fields[1], c: fields[2] };
    // The CRC has passed, so fields no recorder writes mean a writer bug or a
    // forged file: refuse them here, where every reader passes.
    event.outcome().map_err(|bad| Cursor::err(start, CodecErrorKind::BadOutcome(bad)))?;
    Ok(event)
}

//! The raw form of a recording thread's buffer, and its transcoding into a
//! chunk's payload.
//!
//! The hot path appends each event as a few whole words (no varint or delta
//! coding), so that a recorded call costs a few stores. Whoever takes the
//! block (the writer, the flight recorder's keeper, the explorer) encodes it
//! with the trace's codec off the program's threads. The rare records (call
//! sites, objects, threads, blobs, the chunk's clock) arrive already
//! encoded, framed by a marker and their length.
//!
//! An event record is as long as its op needs: a head word, then one
//! little-endian word for each outcome field the op has ([`Op::arity`]), so
//! 8 to 32 bytes (an unlock 8, a lock 16, a send or receive 24), not a fixed
//! 40. The block is written on the program's thread and read on the
//! writer's, so every byte of it crosses between cores: half the bytes is
//! half the cache lines moved. The head word holds the op in its low byte,
//! the site in the next three and the object in the high four. A site
//! number that does not fit in three bytes (a program with sixteen million
//! call sites) takes the wide form: the byte [`WIDE`], the op, two spare
//! bytes and the site as four bytes, then the object as a whole word.
//! An encoded record: the byte [`ENCODED`], its length as 4 bytes, then the
//! bytes.

use crate::trace::codec::{self, EventEncoder, EVENT_WINDOW, MAX_EVENT_LEN};
use crate::trace::model::{Event, Op};

/// The room an event record may take in a raw block: a block always keeps
/// this much free after its target, so that the hot path writes its event
/// without a capacity check.
pub(crate) const RAW_EVENT_MAX: usize = 8 * 5;

/// The first byte of an already encoded record (no op has this number).
const ENCODED: u8 = 0xFF;
/// The first byte of an event record whose site takes four bytes.
const WIDE: u8 = 0xFE;
const _: () = assert!(Op::ALL.len() < WIDE as usize);

/// The largest site number the head word holds.
const SITE_MAX: u32 = (1 << 24) - 1;

/// Bytes before an encoded record's own bytes.
const ENCODED_HEADER: usize = 5;

/// The op of an event record, by its first byte (`None`: not an op), and
/// the bytes the record takes (0: not an op): tables of 256, so the writer's
/// loop reads a record's kind and length with no bounds check.
const OP_OF: [Option<Op>; 256] = {
    let mut table = [None; 256];
    let mut i = 0;
    while i < Op::ALL.len() {
        table[i] = Some(Op::ALL[i]);
        i += 1;
    }
    table
};
const LEN_OF: [u8; 256] = {
    let mut table = [0; 256];
    let mut i = 0;
    while i < Op::ALL.len() {
        table[i] = 8 * (1 + Op::ALL[i].arity() as u8);
        i += 1;
    }
    table
};

/// Writes `event` as a raw record at the start of `window`; returns the
/// bytes it takes. Every field word is stored whatever the op's arity (the
/// ones past it are overwritten by the next event): four stores and no
/// branch on the op.
#[inline(always)]
pub(crate) fn put_event(window: &mut [u8; RAW_EVENT_MAX], event: &Event) -> usize {
    if event.site > SITE_MAX {
        // By value: a reference would make every caller build the event in
        // memory first.
        return put_wide(window, event.op, event.site, event.object, [event.a, event.b, event.c]);
    }
    let head = u64::from(event.op as u8) | u64::from(event.site) << 8 | u64::from(event.object) << 32;
    window[0..8].copy_from_slice(&head.to_le_bytes());
    window[8..16].copy_from_slice(&event.a.to_le_bytes());
    window[16..24].copy_from_slice(&event.b.to_le_bytes());
    window[24..32].copy_from_slice(&event.c.to_le_bytes());
    8 * (1 + event.op.arity())
}

#[cold]
#[inline(never)]
fn put_wide(window: &mut [u8; RAW_EVENT_MAX], op: Op, site: u32, object: u32, [a, b, c]: [u64; 3]) -> usize {
    let head = u64::from(WIDE) | u64::from(op as u8) << 8 | u64::from(site) << 32;
    window[0..8].copy_from_slice(&head.to_le_bytes());
    window[8..16].copy_from_slice(&u64::from(object).to_le_bytes());
    window[16..24].copy_from_slice(&a.to_le_bytes());
    window[24..32].copy_from_slice(&b.to_le_bytes());
    window[32..40].copy_from_slice(&c.to_le_bytes());
    8 * (2 + op.arity())
}

/// Appends `event` to `block` as a raw record (for tests that build blocks).
#[cfg(test)]
pub(crate) fn append_event(block: &mut Vec<u8>, event: &Event) {
    let at = block.len();
    block.resize(at + RAW_EVENT_MAX, 0);
    let window = (&mut block[at..]).try_into().expect("a window of RAW_EVENT_MAX");
    let len = put_event(window, event);
    block.truncate(at + len);
}

/// Bytes an already encoded `record` takes in a raw block.
pub(crate) fn encoded_len(record: &[u8]) -> usize {
    ENCODED_HEADER + record.len()
}

/// Writes the encoded `record`, framed, at the start of `out`, which is
/// [`encoded_len`] bytes long.
pub(crate) fn put_encoded(out: &mut [u8], record: &[u8]) {
    out[0] = ENCODED;
    // A record is at most a blob piece long, far below 4 GiB.
    out[1..ENCODED_HEADER].copy_from_slice(&u32::try_from(record.len()).unwrap_or(u32::MAX).to_le_bytes());
    out[ENCODED_HEADER..].copy_from_slice(record);
}

/// Encodes the raw records of `raw` as a chunk's payload, the events coded
/// by `encoder` from a fresh delta state, into the start of `out`, which is
/// a work area kept between calls (it grows, and is never cleared, so no
/// byte of it is written twice). Returns the events and the payload's
/// length: the payload is `out[..len]`. A malformed record (only a bug in
/// this crate could make one) ends the payload there rather than panic
/// inside the host.
pub(crate) fn transcode(raw: &[u8], encoder: &mut EventEncoder, out: &mut Vec<u8>) -> (u32, usize) {
    transcode_into(raw, encoder, out, None)
}

/// [`transcode`], and the block's table records appended to `tables` as
/// [`table_records`] finds them, in the same pass: the flight keeper needs
/// both for every chunk, and a second pass over the block cost about 16
/// instructions an event.
pub(crate) fn transcode_with_tables(
    raw: &[u8],
    encoder: &mut EventEncoder,
    out: &mut Vec<u8>,
    tables: &mut Vec<u8>,
) -> (u32, usize) {
    transcode_into(raw, encoder, out, Some(tables))
}

fn transcode_into(
    raw: &[u8],
    encoder: &mut EventEncoder,
    out: &mut Vec<u8>,
    mut tables: Option<&mut Vec<u8>>,
) -> (u32, usize) {
    encoder.reset();
    // An event encodes to at most 1.5 times its raw record (an event of no
    // field: 8 raw bytes, at most 12 encoded; more fields, a smaller
    // ratio), and an encoded record to fewer bytes than it takes here; the
    // last event's window needs EVENT_WINDOW bytes whatever it writes.
    // (An event's fields take at most 10 bytes each.)
    const _: () = assert!((MAX_EVENT_LEN - 3 * 10) * 2 <= 8 * 3 && MAX_EVENT_LEN * 2 <= 32 * 3);
    let room = raw.len() + raw.len() / 2 + EVENT_WINDOW;
    if out.len() < room {
        out.resize(room, 0);
    }
    let mut events = 0;
    let mut len = 0;
    let mut at = 0;
    // Every record but the block's last few has four words after its
    // start: read them at once, with one bounds check.
    while let Some(record) = raw.get(at..).and_then(<[u8]>::first_chunk::<32>) {
        let Some((window, _)) = out.get_mut(len..).and_then(<[u8]>::split_first_chunk_mut::<EVENT_WINDOW>)
        else {
            return (events, len);
        };
        if let Some((written, step)) = compact_event(encoder, window, record) {
            len += written;
            events += 1;
            at += step;
            continue;
        }
        match other_record(raw, at, encoder, out, len, tables.as_deref_mut()) {
            Some((step, written, event)) => {
                at += step;
                len += written;
                events += u32::from(event);
            }
            None => return (events, len),
        }
    }
    while at < raw.len() {
        match other_record(raw, at, encoder, out, len, tables.as_deref_mut()) {
            Some((step, written, event)) => {
                at += step;
                len += written;
                events += u32::from(event);
            }
            None => break,
        }
    }
    (events, len)
}

/// Encodes the compact event record at the start of `record` into
/// `window`; returns the bytes written and the bytes the record took,
/// `None` if it is not a compact event record. One arm per op, each with
/// the op a constant (see [`EventEncoder::encode_op_into`]): a jump on the
/// op's number instead of a test of each thing the op may have; each arm
/// reads only the words its op has.
#[inline(always)]
fn compact_event(
    encoder: &mut EventEncoder,
    window: &mut [u8; EVENT_WINDOW],
    record: &[u8; 32],
) -> Option<(usize, usize)> {
    let word = |at: usize| {
        let mut word = [0; 8];
        word.copy_from_slice(&record[at..at + 8]);
        u64::from_le_bytes(word)
    };
    let head = word(0);
    macro_rules! arms {
        ($($op:literal)*) => {
            match head as u8 {
                $($op => {
                    const ARITY: usize = Op::ALL[$op].arity();
                    // Read in the arm, only the words the op has (the
                    // words past its arity belong to the next record).
                    let fields = [
                        if ARITY > 0 { word(8) } else { 0 },
                        if ARITY > 1 { word(16) } else { 0 },
                        if ARITY > 2 { word(24) } else { 0 },
                    ];
                    let names = ((head >> 32) as u32, (head >> 8) as u32 & SITE_MAX);
                    Some((encoder.encode_op_into::<$op>(window, names, fields), 8 * (1 + ARITY)))
                })*
                _ => None,
            }
        };
    }
    arms!(0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30 31 32 33 34 35 36)
}

// The arms above name every op, by the number it has.
const _: () = {
    assert!(Op::ALL.len() == 37);
    let mut i = 0;
    while i < Op::ALL.len() {
        assert!(Op::ALL[i] as usize == i);
        i += 1;
    }
};

/// Transcodes the record at `at` the slow way (an encoded record, a wide
/// event, or one of a block's last events) into `out` at `len`; returns
/// the bytes it took, the bytes written and whether it was an event;
/// `None` if it is malformed or cut short. An encoded table record is
/// also appended to `tables`, if given.
#[cold]
fn other_record(
    raw: &[u8],
    at: usize,
    encoder: &mut EventEncoder,
    out: &mut [u8],
    len: usize,
    tables: Option<&mut Vec<u8>>,
) -> Option<(usize, usize, bool)> {
    let first = *raw.get(at)?;
    if first == ENCODED {
        let bytes = encoded_record(raw, at)?;
        out.get_mut(len..len + bytes.len())?.copy_from_slice(bytes);
        if let Some(tables) = tables.filter(|_| codec::is_table_record(bytes)) {
            tables.extend_from_slice(bytes);
        }
        return Some((ENCODED_HEADER + bytes.len(), bytes.len(), false));
    }
    let (event, step) =
        if first == WIDE { take_wide(raw, at)? } else { take_event(raw, at, OP_OF[usize::from(first)]?)? };
    let (window, _) = out.get_mut(len..)?.split_first_chunk_mut::<MAX_EVENT_LEN>()?;
    Some((step, encoder.encode_event_into(window, &event), true))
}

/// The table records (threads, call sites, objects) among the encoded
/// records of `raw`, in order, concatenated: what a chunk of it defines
/// for the chunks after it. Events are stepped over without decoding.
pub(crate) fn table_records(raw: &[u8]) -> Vec<u8> {
    let mut tables = Vec::new();
    let mut at = 0;
    while let Some(&first) = raw.get(at) {
        let step = match first {
            ENCODED => {
                let Some(bytes) = encoded_record(raw, at) else { break };
                if codec::is_table_record(bytes) {
                    tables.extend_from_slice(bytes);
                }
                ENCODED_HEADER + bytes.len()
            }
            WIDE => match take_wide(raw, at) {
                Some((_, step)) => step,
                None => break,
            },
            _ => match LEN_OF[usize::from(first)] {
                0 => break,
                step => usize::from(step),
            },
        };
        if at + step > raw.len() {
            break;
        }
        at += step;
    }
    tables
}

/// The bytes of the encoded record at `at`, `None` if it is cut short.
fn encoded_record(raw: &[u8], at: usize) -> Option<&[u8]> {
    let (header, body) = raw.get(at..)?.split_first_chunk::<ENCODED_HEADER>()?;
    let n = u32::from_le_bytes([header[1], header[2], header[3], header[4]]) as usize;
    body.get(..n)
}

/// The event record at `at`, if one starts there whole.
pub(crate) fn event_at(raw: &[u8], at: usize) -> Option<Event> {
    match *raw.get(at)? {
        WIDE => take_wide(raw, at).map(|(event, _)| event),
        byte => take_event(raw, at, OP_OF[usize::from(byte)]?).map(|(event, _)| event),
    }
}

/// The event record of `op` at `at` and the bytes it takes; `None` if it is
/// cut short.
fn take_event(raw: &[u8], at: usize, op: Op) -> Option<(Event, usize)> {
    let step = usize::from(LEN_OF[op as usize]);
    let mut words = [0; 32];
    words[..step].copy_from_slice(raw.get(at..at + step)?);
    Some((event_of(op, words_of(&words)), step))
}

/// The event of a record's words. The fields past the op's arity are
/// whatever the block holds there: the encoder does not read them.
#[inline(always)]
fn event_of(op: Op, [head, a, b, c]: [u64; 4]) -> Event {
    Event { op, site: (head >> 8) as u32 & SITE_MAX, object: (head >> 32) as u32, a, b, c }
}

#[cold]
fn take_wide(raw: &[u8], at: usize) -> Option<(Event, usize)> {
    let (head, after) = raw.get(at..)?.split_first_chunk::<16>()?;
    let op = OP_OF[usize::from(head[1])]?;
    let site = u32::from_le_bytes([head[4], head[5], head[6], head[7]]);
    let object = u32::from_le_bytes([head[8], head[9], head[10], head[11]]);
    let fields = 8 * op.arity();
    let mut words = [0; 32];
    words[..fields].copy_from_slice(after.get(..fields)?);
    let [a, b, c, _] = words_of(&words);
    Some((Event { op, object, site, a, b, c }, 16 + fields))
}

/// Four little-endian words.
#[inline(always)]
fn words_of(bytes: &[u8; 32]) -> [u64; 4] {
    let word = |at: usize| {
        let mut word = [0; 8];
        word.copy_from_slice(&bytes[at..at + 8]);
        u64::from_le_bytes(word)
    };
    [word(0), word(8), word(16), word(24)]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::codec::{self, decode_chunk};
    use crate::trace::model::Record;
    use proptest::prelude::*;

    fn raw_event(event: &Event) -> Vec<u8> {
        let mut block = Vec::new();
        append_event(&mut block, event);
        block
    }

    fn raw_encoded(bytes: &[u8]) -> Vec<u8> {
        let mut out = vec![0; encoded_len(bytes)];
        put_encoded(&mut out, bytes);
        out
    }

    #[test]
    fn transcoding_gives_the_chunk_the_codec_would_have_written() {
        let events: Vec<Event> = (0..200u64)
            .map(|n| Event {
                op: Op::ALL[n as usize % Op::ALL.len()],
                object: (n % 7) as u32,
                site: (n % 5) as u32,
                a: n * 3,
                b: u64::MAX - n,
                c: n << 40,
            })
            .collect();
        let mut site = Vec::new();
        codec::encode_site(&mut site, 0, "src/lib.rs", 3, 9);
        let mut raw = raw_encoded(&site);
        let mut expected = site.clone();
        let mut direct = EventEncoder::new();
        for event in &events {
            raw.extend(raw_event(event));
            direct.encode_event(&mut expected, event);
        }
        let mut out = Vec::new();
        let (written, len) = transcode(&raw, &mut EventEncoder::new(), &mut out);
        assert_eq!(written, 200);
        assert_eq!(out[..len], expected[..]);
    }

    /// A site past three bytes takes the wide form, in the same block as
    /// compact records, and transcodes as the codec would have written it.
    #[test]
    fn sites_past_three_bytes_take_the_wide_form() {
        let events: Vec<Event> = (0..60u64)
            .map(|n| Event {
                op: Op::ALL[n as usize % Op::ALL.len()],
                object: u32::MAX - (n % 3) as u32,
                site: if n % 2 == 0 { SITE_MAX + (n % 4) as u32 } else { SITE_MAX - 1 },
                a: n,
                b: n << 33,
                c: u64::MAX,
            })
            .collect();
        let mut raw = Vec::new();
        let mut expected = Vec::new();
        let mut direct = EventEncoder::new();
        for event in &events {
            raw.extend(raw_event(event));
            direct.encode_event(&mut expected, event);
        }
        let wide = events.iter().filter(|e| e.site > SITE_MAX).count();
        assert!(wide > 0 && wide < events.len());
        let mut out = Vec::new();
        let (written, len) = transcode(&raw, &mut EventEncoder::new(), &mut out);
        assert_eq!(written, 60);
        assert_eq!(out[..len], expected[..]);
    }

    /// An event takes a head word and one word per outcome field, not a
    /// fixed record: half the bytes the writer's core must fetch.
    #[test]
    fn an_event_takes_a_word_per_field_it_has() {
        let event = |op| Event { op, object: 3, site: 2, a: 1, b: 2, c: 3 };
        let len = |op| raw_event(&event(op)).len();
        assert_eq!(len(Op::Unlock), 8);
        assert_eq!(len(Op::Lock), 16);
        assert_eq!(len(Op::Send), 24);
        assert_eq!(len(Op::Recv), 24);
        assert_eq!(len(Op::Select), 32);
        assert_eq!(raw_event(&Event { site: SITE_MAX + 1, ..event(Op::Lock) }).len(), 24);
    }

    /// A record cut short, or of an unknown op, ends the payload: it is not
    /// read past, and nothing panics.
    #[test]
    fn a_cut_or_unknown_record_ends_the_payload() {
        let lock = Event { op: Op::Lock, object: 3, site: 2, a: 1, b: 0, c: 0 };
        let mut raw = raw_event(&lock);
        raw.extend(raw_event(&lock));
        let whole = raw.len();
        for cut in 0..whole {
            let (events, _) = transcode(&raw[..cut], &mut EventEncoder::new(), &mut Vec::new());
            assert_eq!(events as usize, cut / 16, "cut at {cut}");
            assert!(table_records(&raw[..cut]).is_empty());
        }
        raw[16] = Op::ALL.len() as u8;
        assert_eq!(transcode(&raw, &mut EventEncoder::new(), &mut Vec::new()).0, 1);
    }

    #[test]
    fn a_transcoded_block_decodes_to_its_records() {
        let events: Vec<Event> = (0..50u64)
            .map(|n| Event { op: Op::AtomicStore, object: (n % 3) as u32, site: 0, a: n * n + 1, b: 0, c: 0 })
            .collect();
        let mut site = Vec::new();
        codec::encode_site(&mut site, 0, "src/lib.rs", 3, 9);
        let mut raw = raw_encoded(&site);
        events.iter().for_each(|event| raw.extend(raw_event(event)));
        let mut out = Vec::new();
        let (_, len) = transcode(&raw, &mut EventEncoder::new(), &mut out);
        let records = decode_chunk(&out[..len]).unwrap();
        assert!(matches!(&records[0], Record::Site { file, line: 3, .. } if file == "src/lib.rs"));
        assert_eq!(records[1..], events.iter().map(|e| Record::Event(*e)).collect::<Vec<_>>()[..]);
    }

    /// A block of every op, with values of every length, sites past three
    /// bytes and encoded records among the events, from a fixed seed.
    fn mixed_block(seed: u64, n: usize) -> (Vec<u8>, Vec<u8>) {
        let mut state = seed | 1;
        let mut next = move || {
            // xorshift64*
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            state.wrapping_mul(0x2545_f491_4f6c_dd1d)
        };
        let mut raw = Vec::new();
        let mut expected = Vec::new();
        let mut direct = EventEncoder::new();
        let mut counter = 0u64;
        for _ in 0..n {
            let r = next();
            if r % 53 == 0 {
                let mut site = Vec::new();
                codec::encode_site(&mut site, (r >> 8) as u32 % 1000, "src/lib.rs", (r >> 20) as u32, 7);
                raw.extend(raw_encoded(&site));
                expected.extend_from_slice(&site);
                continue;
            }
            let mut value = |r: u64| match r % 5 {
                0 => r >> 59,
                1 => r >> 50,
                2 => r,
                3 => {
                    counter = counter.wrapping_add(r >> 61);
                    counter
                }
                _ => 0,
            };
            let (a, b, c) = (value(next()), value(next()), value(next()));
            let event = Event {
                op: Op::ALL[(r >> 3) as usize % Op::ALL.len()],
                object: match (r >> 10) % 4 {
                    0 => u32::MAX - (r >> 40) as u32 % 3,
                    _ => (r >> 12) as u32 % 6,
                },
                site: match (r >> 14) % 16 {
                    0 => SITE_MAX + (r >> 40) as u32 % 3,
                    1 => SITE_MAX - (r >> 40) as u32 % 3,
                    2 => (r >> 32) as u32,
                    _ => (r >> 16) as u32 % 9,
                },
                a,
                b,
                c,
            };
            raw.extend(raw_event(&event));
            direct.encode_event(&mut expected, &event);
        }
        (raw, expected)
    }

    /// The bytes a mixed block transcodes to, pinned: the CRC was taken
    /// with the writer's per-field encoder (before the per-op one), and
    /// the trace format must not move by a byte.
    #[test]
    fn a_mixed_block_transcodes_to_the_pinned_bytes() {
        let (raw, expected) = mixed_block(0x5eed, 20_000);
        let mut out = Vec::new();
        let (events, len) = transcode(&raw, &mut EventEncoder::new(), &mut out);
        assert_eq!(out[..len], expected[..]);
        assert_eq!((events, len, crc32c::crc32c(&out[..len])), (19_615, 194_799, 1_670_565_034));
    }

    /// The flight keeper's one pass gives the payload [`transcode`] gives
    /// and the tables [`table_records`] finds, whole and cut anywhere.
    #[test]
    fn one_pass_finds_the_tables_a_second_pass_finds() {
        let (raw, _) = mixed_block(0x7ab1e5, 3_000);
        let whole = table_records(&raw);
        assert!(whole.len() > 100, "the block holds table records");
        for cut in [raw.len(), raw.len() / 2 + 3, 17, 0] {
            let mut tables = Vec::new();
            let (mut one, mut two) = (Vec::new(), Vec::new());
            let pass = transcode_with_tables(&raw[..cut], &mut EventEncoder::new(), &mut one, &mut tables);
            let plain = transcode(&raw[..cut], &mut EventEncoder::new(), &mut two);
            assert_eq!(pass, plain, "cut at {cut}");
            assert_eq!(one[..pass.1], two[..plain.1], "cut at {cut}");
            assert_eq!(tables, table_records(&raw[..cut]), "cut at {cut}");
        }
    }

    /// Any event a raw block may hold: every op, objects and sites small
    /// (the same ones again: the "same as before" bits) or anything
    /// (sites past three bytes: the wide form), fields of every length.
    fn arb_raw_event() -> impl Strategy<Value = Event> {
        let value = prop_oneof![0u64..4, 0u64..300, any::<u64>(), (0u32..64).prop_map(|n| 1u64 << n)];
        (
            0..Op::ALL.len(),
            prop_oneof![0u32..4, any::<u32>()],
            prop_oneof![3 => 0u32..4, 1 => SITE_MAX - 1..=SITE_MAX + 1, 1 => any::<u32>()],
            [value.clone(), value.clone(), value],
        )
            .prop_map(|(op, object, site, [a, b, c])| Event {
                op: Op::ALL[op],
                object,
                site,
                a,
                b,
                c,
            })
    }

    proptest! {
        /// The writer's per-op encoding writes the bytes the per-field
        /// encoder (`EventEncoder::encode_event`, the one the decoder's
        /// tests pin) writes for the same events, whatever they hold, with
        /// encoded records among them.
        #[test]
        fn transcoding_any_block_gives_the_per_field_encoders_bytes(
            records in prop::collection::vec(
                prop_oneof![8 => arb_raw_event().prop_map(Ok), 1 => (0u32..9, 0u32..300).prop_map(Err)],
                0..300,
            )
        ) {
            let mut raw = Vec::new();
            let mut expected = Vec::new();
            let mut direct = EventEncoder::new();
            let mut count = 0;
            for record in &records {
                match record {
                    Ok(event) => {
                        raw.extend(raw_event(event));
                        direct.encode_event(&mut expected, event);
                        count += 1;
                    }
                    Err((index, line)) => {
                        let mut site = Vec::new();
                        codec::encode_site(&mut site, *index, "src/lib.rs", *line, 1);
                        raw.extend(raw_encoded(&site));
                        expected.extend_from_slice(&site);
                    }
                }
            }
            // A work area left dirty by a previous block.
            let mut out = vec![0xAB; 7];
            let (events, len) = transcode(&raw, &mut EventEncoder::new(), &mut out);
            prop_assert_eq!(events, count);
            prop_assert_eq!(&out[..len], &expected[..]);
        }
    }

    #[test]
    fn each_transcoding_starts_a_fresh_delta_state() {
        let event = Event { op: Op::AtomicStore, object: 4, site: 2, a: 9, b: 0, c: 0 };
        let raw = raw_event(&event);
        let mut encoder = EventEncoder::new();
        let mut out = Vec::new();
        let (_, len) = transcode(&raw, &mut encoder, &mut out);
        let first = out[..len].to_vec();
        let (_, len) = transcode(&raw, &mut encoder, &mut out);
        assert_eq!(first, out[..len], "a chunk decodes on its own");
    }
}

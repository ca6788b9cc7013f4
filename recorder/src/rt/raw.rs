//! The raw form of a recording thread's buffer, and its transcoding into a
//! chunk's payload.
//!
//! The hot path appends each event as a fixed-size record (op, object, site
//! and the three outcome words, no varint or delta coding), so that a
//! recorded call costs a few stores. Whoever takes the block (the writer,
//! the flight recorder's keeper, the explorer) encodes it with the trace's
//! codec off the program's threads. The rare records (call sites, objects,
//! threads, blobs, the chunk's clock) arrive already encoded, framed by a
//! marker and their length.
//!
//! Layout of an event record, [`RAW_EVENT_LEN`] bytes, little-endian:
//! byte 0 the op, bytes 4..8 the object, 8..12 the site, then `a`, `b` and
//! `c` at 16, 24 and 32. An encoded record: the byte [`ENCODED`], its
//! length as 4 bytes, then the bytes.

use crate::trace::codec::{self, EventEncoder, MAX_EVENT_LEN};
use crate::trace::model::{Event, Op};

/// Bytes one event takes in a raw block.
pub(crate) const RAW_EVENT_LEN: usize = 40;

/// The first byte of an already encoded record (no op has this number).
const ENCODED: u8 = 0xFF;
const _: () = assert!(Op::ALL.len() < ENCODED as usize);

/// Bytes before an encoded record's own bytes.
const ENCODED_HEADER: usize = 5;

/// Writes `event` as a raw record at the start of `window`.
#[inline(always)]
pub(crate) fn put_event(window: &mut [u8; RAW_EVENT_LEN], event: &Event) {
    window[0] = event.op as u8;
    window[4..8].copy_from_slice(&event.object.to_le_bytes());
    window[8..12].copy_from_slice(&event.site.to_le_bytes());
    window[16..24].copy_from_slice(&event.a.to_le_bytes());
    window[24..32].copy_from_slice(&event.b.to_le_bytes());
    window[32..40].copy_from_slice(&event.c.to_le_bytes());
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
    encoder.reset();
    // An event encodes to at most MAX_EVENT_LEN bytes, a twentieth more than
    // its raw record, and an encoded record to fewer bytes than it takes
    // here; the last event's window needs MAX_EVENT_LEN bytes whatever it
    // writes.
    const _: () = assert!(MAX_EVENT_LEN * 20 <= RAW_EVENT_LEN * 21);
    let room = raw.len() + raw.len() / 20 + MAX_EVENT_LEN;
    if out.len() < room {
        out.resize(room, 0);
    }
    let mut events = 0;
    let mut len = 0;
    let mut rest = raw;
    while let Some(&first) = rest.first() {
        if first == ENCODED {
            let Some((header, body)) = rest.split_first_chunk::<ENCODED_HEADER>() else { break };
            let n = u32::from_le_bytes([header[1], header[2], header[3], header[4]]) as usize;
            let (Some(bytes), Some(to)) = (body.get(..n), out.get_mut(len..len + n)) else { break };
            to.copy_from_slice(bytes);
            len += n;
            rest = &body[n..];
        } else {
            let Some((record, after)) = rest.split_first_chunk::<RAW_EVENT_LEN>() else { break };
            let Some(event) = take_event(record) else { break };
            let Some((window, _)) =
                out.get_mut(len..).and_then(<[u8]>::split_first_chunk_mut::<MAX_EVENT_LEN>)
            else {
                break;
            };
            len += encoder.encode_event_into(window, &event);
            events += 1;
            rest = after;
        }
    }
    (events, len)
}

/// The table records (threads, call sites, objects) among the encoded
/// records of `raw`, in order, concatenated: what a chunk of it defines
/// for the chunks after it. Events are stepped over without decoding.
pub(crate) fn table_records(raw: &[u8]) -> Vec<u8> {
    let mut tables = Vec::new();
    let mut rest = raw;
    while let Some(&first) = rest.first() {
        if first == ENCODED {
            let Some((header, body)) = rest.split_first_chunk::<ENCODED_HEADER>() else { break };
            let n = u32::from_le_bytes([header[1], header[2], header[3], header[4]]) as usize;
            let Some(bytes) = body.get(..n) else { break };
            if codec::is_table_record(bytes) {
                tables.extend_from_slice(bytes);
            }
            rest = &body[n..];
        } else {
            let Some(after) = rest.get(RAW_EVENT_LEN..) else { break };
            rest = after;
        }
    }
    tables
}

/// The event of one raw event record, `None` if its op is unknown.
#[inline(always)]
fn take_event(r: &[u8; RAW_EVENT_LEN]) -> Option<Event> {
    Some(Event {
        op: Op::from_u8(r[0])?,
        object: u32::from_le_bytes(field(r, 4)),
        site: u32::from_le_bytes(field(r, 8)),
        a: u64::from_le_bytes(field(r, 16)),
        b: u64::from_le_bytes(field(r, 24)),
        c: u64::from_le_bytes(field(r, 32)),
    })
}

/// The `N` bytes of `record` from `at` (a constant where it is inlined, so
/// the copy is one load).
#[inline(always)]
fn field<const N: usize>(record: &[u8; RAW_EVENT_LEN], at: usize) -> [u8; N] {
    let mut bytes = [0; N];
    bytes.copy_from_slice(&record[at..at + N]);
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::codec::{self, decode_chunk};
    use crate::trace::model::Record;

    fn raw_event(event: &Event) -> Vec<u8> {
        let mut window = [0u8; RAW_EVENT_LEN];
        put_event(&mut window, event);
        window.to_vec()
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

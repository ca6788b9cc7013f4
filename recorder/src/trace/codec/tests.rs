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
        // The decoder refuses outcomes no recorder writes.
        .prop_filter("an outcome a recorder writes", |e| e.outcome().is_ok())
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
    // All but the extended op byte, which this op does not need.
    assert_eq!(out.len(), MAX_EVENT_LEN - 1);
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

#[test]
fn an_op_past_30_is_written_with_a_second_byte_and_reads_back() {
    let mut enc = EventEncoder::new();
    let mut out = Vec::new();
    let last = *Op::ALL.last().unwrap();
    assert!(last as u8 >= OP_EXTENDED, "the test needs an extended op");
    let e = event(last, 0, 0, 1, 0, 0);
    assert!(e.outcome().is_ok(), "{e:?}");
    enc.encode_event(&mut out, &e);
    assert_eq!(out[0] & OP_MASK, OP_EXTENDED);
    assert_eq!(out[1], last as u8 - OP_EXTENDED);
    let records = decode_chunk(&out).unwrap();
    assert_eq!(records, [Record::Event(e)]);
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
    // Ops from 31 on take a second byte; one past the last op is unknown,
    // and so is a tag that promises the byte and ends.
    let past = u8::try_from(Op::ALL.len()).unwrap() - OP_EXTENDED;
    assert_eq!(
        err(&with(&[OP_EXTENDED, past])),
        CodecError { offset: 2, kind: UnknownOp { tag: OP_EXTENDED, op: u16::from(past) + 31 } }
    );
    assert_eq!(err(&with(&[OP_EXTENDED, 0xff])).kind, UnknownOp { tag: OP_EXTENDED, op: u16::MAX });
    assert!(matches!(err(&with(&[OP_EXTENDED])).kind, Truncated { .. } | TruncatedVarint));
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

#[test]
fn an_event_whose_outcome_no_recorder_writes_is_refused_where_it_starts() {
    let mut enc = EventEncoder::new();
    let mut out = Vec::new();
    enc.encode_event(&mut out, &event(Op::Lock, 1, 0, 1, 0, 0));
    let second = out.len();
    // A send whose result field says 7: sent, full and disconnected are 0-2.
    enc.encode_event(&mut out, &event(Op::Send, 1, 0, 1, 7, 0));
    let err = decode_chunk(&out).unwrap_err();
    assert_eq!(err.offset, second);
    match err.kind {
        CodecErrorKind::BadOutcome(bad) => assert_eq!((bad.op, bad.b), (Op::Send, 7)),
        other => panic!("expected a bad outcome, got {other:?}"),
    }
    assert!(err.to_string().contains("unknown send result"), "{err}");
}

use super::*;

#[test]
fn only_the_current_major_is_readable() {
    let v = |major, minor| FormatVersion { major, minor }.compatibility();
    assert_eq!(v(FORMAT_MAJOR, 0), Compatibility::Readable);
    assert_eq!(v(FORMAT_MAJOR, 99), Compatibility::Readable);
    assert_eq!(v(0, 5), Compatibility::TooOld);
    assert_eq!(v(FORMAT_MAJOR + 1, 0), Compatibility::TooNew);
}

#[test]
fn frame_headers_round_trip_and_cover_their_payload() {
    let h = FrameHeader::new(FRAME_CHUNK, 3, 7, b"abc");
    assert_eq!(FrameHeader::from_bytes(&h.to_bytes()), h);
    assert_eq!(h.checksum_of(b"abc"), h.checksum);
    assert_ne!(h.checksum_of(b"abd"), h.checksum);
    assert_ne!(FrameHeader { seq: 8, ..h }.checksum_of(b"abc"), h.checksum);
}

#[test]
fn header_parameters_must_be_unique_and_named() {
    let mut h = Header {
        program: "p".into(),
        program_version: "1".into(),
        recorder_version: "0.1.0".into(),
        mode: TraceMode::Record,
        parameters: vec![("a".into(), "1".into()), ("b".into(), "2".into())],
        start_unix_ms: 0,
    };
    assert_eq!(h.validate(), Ok(()));
    assert_eq!(h.parameter("b"), Some("2"));
    assert_eq!(h.parameter("c"), None);
    h.parameters.push(("a".into(), "3".into()));
    assert_eq!(h.validate().map_err(|e| e.to_string()), Err("parameter `a` appears twice".into()));
    h.parameters = vec![(String::new(), "x".into())];
    assert_eq!(h.validate(), Err(ParameterError::EmptyKey { index: 0 }));
}

#[test]
fn verdicts_read_as_sentences() {
    assert_eq!(Verdict::Completed.to_string(), "completed");
    let p = Verdict::Panicked { thread: 3, message: "overdrawn".into() };
    assert_eq!(p.to_string(), "panicked in thread 3: overdrawn");
    let blocked = |thread, op, object, waits_for| BlockedThread {
        thread,
        op,
        object,
        file: "src/x.rs".into(),
        line: 10,
        column: 5,
        waits_for,
    };
    let d =
        Verdict::Deadlock { blocked: vec![blocked(1, Op::Lock, 4, Some(2)), blocked(2, Op::Join, 0, None)] };
    assert_eq!(
        d.to_string(),
        "deadlock: thread 1 waits for thread 2 at lock of mutex #4 (src/x.rs:10:5); \
         thread 2 waits at join (src/x.rs:10:5)"
    );
}

#[test]
fn trailing_bytes_are_tolerated_only_from_a_newer_minor() {
    let mut bytes = postcard::to_stdvec(&Verdict::Completed).unwrap_or_default();
    bytes.push(0);
    let newer = FormatVersion { minor: FORMAT_MINOR + 1, ..FormatVersion::CURRENT };
    assert_eq!(decode_postcard::<Verdict>(&bytes, newer), Ok(Verdict::Completed));
    assert_eq!(decode_postcard::<Verdict>(&bytes, FormatVersion::CURRENT), Err("1 trailing bytes".into()));
}

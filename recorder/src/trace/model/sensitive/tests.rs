use super::*;

fn key(byte: u8) -> SealKey {
    SealKey::from_bytes([byte; 32])
}

#[test]
fn a_sealed_value_opens_with_its_key_only() {
    let blob = seal(b"account 12345", Some(&key(7)));
    assert_eq!(blob[0], KIND_SEALED);
    assert!(!blob.windows(13).any(|w| w == b"account 12345"));
    assert_eq!(open(&blob, Some(&key(7))).unwrap(), b"account 12345");
    assert_eq!(open(&blob, Some(&key(8))), Err(SensitiveError::WrongKeyOrAltered));
    assert_eq!(open(&blob, None), Err(SensitiveError::NoKey));
}

#[test]
fn each_blob_has_its_own_nonce() {
    assert_ne!(seal(b"x", Some(&key(1))), seal(b"x", Some(&key(1))));
}

#[test]
fn a_flipped_bit_anywhere_fails_authentication() {
    let blob = seal(b"secret", Some(&key(3)));
    for i in 1..blob.len() {
        let mut bad = blob.clone();
        bad[i] ^= 0x10;
        assert_eq!(open(&bad, Some(&key(3))), Err(SensitiveError::WrongKeyOrAltered), "byte {i}");
    }
}

#[test]
fn without_a_key_nothing_is_kept() {
    let blob = seal(b"secret", None);
    assert_eq!(blob, vec![KIND_REDACTED]);
    assert_eq!(open(&blob, Some(&key(1))), Err(SensitiveError::NotKept));
}

fn capture_event(sensitive: bool, len: usize, panicked: bool) -> Event {
    let len = len as u64;
    let outcome = if sensitive {
        Outcome::CaptureSensitive { len, panicked }
    } else {
        Outcome::Capture { len, panicked }
    };
    Event::new(outcome, 0, 0)
}

#[test]
fn the_accessor_redacts_sensitive_values_without_the_key() {
    let blob = seal(b"pin", Some(&key(2)));
    let sealed = capture_event(true, blob.len(), false);
    assert_eq!(captured_value(&sealed, &blob, None), CapturedValue::Redacted);
    assert_eq!(captured_value(&sealed, &blob, None).to_string(), REDACTED);
    assert_eq!(captured_value(&sealed, &blob, Some(&key(9))), CapturedValue::Redacted);
    assert_eq!(captured_value(&sealed, &blob, Some(&key(2))), CapturedValue::Clear(b"pin".to_vec().into()));
    let clear = capture_event(false, 3, false);
    assert_eq!(captured_value(&clear, b"pin", None), CapturedValue::Clear(b"pin"[..].into()));
}

#[test]
fn the_accessor_shows_a_panicked_read_and_redacts_a_sensitive_ones_message() {
    let panic =
        CapturedPanic { message: "pin 1234 rejected".into(), file: "src/feed.rs".into(), line: 7, column: 5 };
    let bytes = panic.encode();
    let clear = capture_event(false, bytes.len(), true);
    assert_eq!(captured_value(&clear, &bytes, None), CapturedValue::Panicked(panic.clone()));
    assert_eq!(
        captured_value(&clear, &bytes, None).to_string(),
        "the read panicked at src/feed.rs:7:5: pin 1234 rejected"
    );
    let sealed_bytes = seal(&bytes, Some(&key(3)));
    let sealed = capture_event(true, sealed_bytes.len(), true);
    assert_eq!(captured_value(&sealed, &sealed_bytes, None), CapturedValue::Redacted);
    assert_eq!(captured_value(&sealed, &sealed_bytes, Some(&key(3))), CapturedValue::Panicked(panic));
}

#[test]
fn keys_parse_from_hex_or_a_file() {
    let hex = "00112233445566778899aabbccddeeff00112233445566778899AABBCCDDEEFF";
    let parsed = SealKey::parse(hex).unwrap();
    assert_eq!(parsed.bytes()[1], 0x11);
    assert_eq!(SealKey::parse("abc"), Err(BadKey::Malformed));
    let path = std::env::temp_dir().join(format!("reprise-key-{}", std::process::id()));
    std::fs::write(&path, format!("{hex}\n")).unwrap();
    assert_eq!(SealKey::parse(path.to_str().unwrap()).unwrap(), parsed);
    std::fs::write(&path, "not a key\n").unwrap();
    let junk = SealKey::parse(path.to_str().unwrap()).unwrap_err();
    assert!(matches!(junk, BadKey::FileMalformed { .. }), "{junk:?}");
    let _ = std::fs::remove_file(&path);
    assert_eq!(format!("{parsed:?}"), "SealKey(..)");
}

/// A key path naming no file says which file and why, not only the
/// accepted forms (a user who set the path of a key file that moved was
/// told it "must be 64 hex digits or the path of a file").
#[test]
fn a_key_file_that_cannot_be_read_is_named_with_the_reason() {
    let missing = std::env::temp_dir().join(format!("reprise-no-key-{}", std::process::id()));
    let err = SealKey::parse(missing.to_str().unwrap()).unwrap_err();
    assert!(matches!(err, BadKey::Unreadable { .. }), "{err:?}");
    let text = err.to_string();
    assert!(text.contains(missing.to_str().unwrap()) && text.contains("No such file"), "{text}");
    assert_eq!(SealKey::parse("0123456789abcdef"), Err(BadKey::Malformed));
    assert_eq!(SealKey::parse("zz"), Err(BadKey::Malformed), "a typo of a key, not a path");
}

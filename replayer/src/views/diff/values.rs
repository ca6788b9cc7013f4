//! The bytes recorded with an event (a captured value, a panic message, an
//! annotation's text), compared: an event's fields give only their length,
//! so two runs that read 7 and 9 have events alike but for these bytes.

use reprise_recorder::trace::model::sensitive::{captured_value, open, CapturedValue, SensitiveError};
use reprise_recorder::trace::model::Op;

use super::Side;
use crate::views::number::Numbered;

/// How two events' recorded bytes compare.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Bytes {
    /// The same, or the events carry none.
    Same,
    /// Different values.
    Differ,
    /// Sensitive values neither trace lets us read: no key, another key,
    /// or recorded without one.
    Unknown,
}

/// Compares the bytes of A's event `na` with B's `nb`, of the same op.
pub(super) fn compare(a: &Side<'_, '_>, b: &Side<'_, '_>, na: &Numbered<'_>, nb: &Numbered<'_>) -> Bytes {
    let has_bytes = |n: &Numbered<'_>| n.event.outcome().ok().and_then(|o| o.blob_len()).is_some();
    if na.event.op != nb.event.op || !has_bytes(na) {
        return Bytes::Same;
    }
    let blob_a = a.numbering.blob(na.thread, na.index).unwrap_or_default();
    let blob_b = b.numbering.blob(nb.thread, nb.index).unwrap_or_default();
    if na.event.op != Op::CaptureSensitive {
        return if blob_a == blob_b { Bytes::Same } else { Bytes::Differ };
    }
    // A sealed value's bytes hold a random nonce: the same value is sealed
    // to other bytes in every run, so only the opened values compare.
    let value_a = captured_value(na.event, &blob_a, a.key);
    let value_b = captured_value(nb.event, &blob_b, b.key);
    if value_a != CapturedValue::Redacted && value_b != CapturedValue::Redacted {
        return if value_a == value_b { Bytes::Same } else { Bytes::Differ };
    }
    // The same sealed bytes are the same value (the nonce is never reused),
    // but the one byte of a value not kept says nothing about the value.
    let not_kept = matches!(open(&blob_a, None), Err(SensitiveError::NotKept));
    if blob_a == blob_b && !not_kept {
        Bytes::Same
    } else {
        Bytes::Unknown
    }
}

//! What a captured read that panicked leaves in the trace, as the bytes
//! after its event (sealed for a sensitive capture): the panic's message and
//! where it was raised, so that a replay raises it again with both and the
//! thread's panic event, if the panic ends the thread, names the same site.

use serde::{Deserialize, Serialize};

/// A captured read's panic.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CapturedPanic {
    /// The panic's message (`"Box<dyn Any>"` for a payload that is not text).
    pub message: String,
    /// Where it was raised: file, line, column (empty and 0 when unknown).
    pub file: String,
    /// Its line.
    pub line: u32,
    /// Its column.
    pub column: u32,
}

impl CapturedPanic {
    /// Its bytes in the trace.
    pub fn encode(&self) -> Vec<u8> {
        postcard::to_stdvec(self).unwrap_or_default()
    }

    /// Reads the bytes [`encode`](Self::encode) wrote; `None` when they are
    /// not such bytes.
    pub fn decode(bytes: &[u8]) -> Option<CapturedPanic> {
        postcard::from_bytes(bytes).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::CapturedPanic;

    #[test]
    fn a_captured_panic_round_trips_and_other_bytes_are_refused() {
        let panic =
            CapturedPanic { message: "queue down".into(), file: "src/feed.rs".into(), line: 12, column: 9 };
        assert_eq!(CapturedPanic::decode(&panic.encode()), Some(panic));
        assert_eq!(CapturedPanic::decode(&[0xff]), None);
    }
}

//! Sensitive captures ([`crate::capture::capture_sensitive`]): how their bytes
//! are kept in a trace, and the one accessor every reader of captured values
//! goes through ([`captured_value`]).
//!
//! A sensitive capture is an [`Op::CaptureSensitive`]
//! event whose blob starts with one kind byte:
//!
//! | kind | then | meaning |
//! | --- | --- | --- |
//! | `0` | nothing | redacted: no key at record time, the value was not kept |
//! | `1` | 12-byte nonce, ciphertext + 16-byte tag | ChaCha20-Poly1305 sealed with the recording's key |
//!
//! The value is never in the trace in clear.

mod key;

use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng};
use chacha20poly1305::{ChaCha20Poly1305, Nonce};

pub use key::{BadKey, SealKey, KEY_ENV};

use super::{CapturedPanic, Event, Op, Outcome};

/// Kind byte: the value was not kept (no key at record time).
const KIND_REDACTED: u8 = 0;
/// Kind byte: a nonce and the ChaCha20-Poly1305 ciphertext follow.
const KIND_SEALED: u8 = 1;
/// ChaCha20-Poly1305's nonce length (96 bits).
const NONCE_LEN: usize = 12;

/// The blob of a sensitive capture of `plain`: sealed with `key` under a
/// fresh random nonce, or redacted (kind byte only) without one.
pub fn seal(plain: &[u8], key: Option<&SealKey>) -> Vec<u8> {
    let Some(key) = key else { return vec![KIND_REDACTED] };
    let cipher = ChaCha20Poly1305::new(key.bytes().into());
    let nonce = ChaCha20Poly1305::generate_nonce(&mut OsRng);
    match cipher.encrypt(&nonce, plain) {
        Ok(sealed) => {
            let mut blob = Vec::with_capacity(1 + NONCE_LEN + sealed.len());
            blob.push(KIND_SEALED);
            blob.extend_from_slice(&nonce);
            blob.extend_from_slice(&sealed);
            blob
        }
        // Encryption fails only past the cipher's length limit (256 GiB):
        // keep nothing rather than anything in clear.
        Err(_) => vec![KIND_REDACTED],
    }
}

/// Why a sensitive capture's value cannot be had.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SensitiveError {
    /// The trace holds it sealed and no key was given.
    #[error("this trace holds sensitive captures; set REPRISE_KEY to the key it was recorded with")]
    NoKey,
    /// Authentication failed.
    #[error("cannot decrypt a sensitive capture: wrong key, or the capture was altered")]
    WrongKeyOrAltered,
    /// It was recorded without a key, so the value was never kept.
    #[error("a sensitive capture was recorded without a key (REPRISE_KEY unset or bad at record time): its value was not kept and cannot be replayed")]
    NotKept,
    /// The blob is not one this version writes.
    #[error("a sensitive capture's bytes are malformed (kind {kind}, {len} bytes)")]
    Malformed {
        /// Its first byte.
        kind: u8,
        /// Its length.
        len: usize,
    },
}

impl SensitiveError {
    /// Whether `detail` (a replay's divergence detail) is one of these
    /// refusals to open a sealed value, word for word: how a front end
    /// tells a key problem from a real divergence.
    pub fn is_refusal(detail: &str) -> bool {
        [SensitiveError::NoKey, SensitiveError::WrongKeyOrAltered, SensitiveError::NotKept]
            .iter()
            .any(|e| e.to_string() == detail)
    }
}

/// A captured value as an offline view may show it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CapturedValue<'a> {
    /// The value's bytes (postcard): an ordinary capture's as stored, or a
    /// sensitive one's decrypted with the key.
    Clear(std::borrow::Cow<'a, [u8]>),
    /// A sensitive capture shown without its value.
    Redacted,
    /// The read panicked: its message and where.
    Panicked(CapturedPanic),
}

impl std::fmt::Display for CapturedValue<'_> {
    /// The bytes in hex, `<redacted: sensitive capture>`, or the panic.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CapturedValue::Clear(bytes) => {
                for b in bytes.iter() {
                    write!(f, "{b:02x}")?;
                }
                Ok(())
            }
            CapturedValue::Redacted => f.write_str(REDACTED),
            CapturedValue::Panicked(p) => {
                write!(f, "the read panicked at {}:{}:{}: {}", p.file, p.line, p.column, p.message)
            }
        }
    }
}

/// How every view shows a sensitive value it cannot or will not decrypt.
pub const REDACTED: &str = "<redacted: sensitive capture>";

/// Opens a sensitive capture's blob with `key`: its value's bytes.
///
/// # Errors
///
/// No key for a sealed value, a wrong key or altered bytes, a value never
/// kept, or a malformed blob: see [`SensitiveError`].
pub fn open(blob: &[u8], key: Option<&SealKey>) -> Result<Vec<u8>, SensitiveError> {
    match blob.split_first() {
        Some((&KIND_REDACTED, [])) => Err(SensitiveError::NotKept),
        Some((&KIND_SEALED, rest)) if rest.len() >= NONCE_LEN + 16 => {
            let key = key.ok_or(SensitiveError::NoKey)?;
            let (nonce, sealed) = rest.split_at(NONCE_LEN);
            ChaCha20Poly1305::new(key.bytes().into())
                .decrypt(Nonce::from_slice(nonce), sealed)
                .map_err(|_| SensitiveError::WrongKeyOrAltered)
        }
        _ => Err(SensitiveError::Malformed { kind: blob.first().copied().unwrap_or(0), len: blob.len() }),
    }
}

/// The one accessor for a captured value, given its `event`, its blob and
/// an optional key: an ordinary capture's bytes; a sensitive one's
/// decrypted with `key`, or [`CapturedValue::Redacted`] without a key or
/// when it cannot be opened (offline views never fail on it; a replay uses
/// [`open`] to say why); a read that panicked, its panic (a sensitive one's
/// only with the key: its message may quote the value).
pub fn captured_value<'a>(event: &Event, blob: &'a [u8], key: Option<&SealKey>) -> CapturedValue<'a> {
    let plain: std::borrow::Cow<'a, [u8]> = if event.op == Op::CaptureSensitive {
        match open(blob, key) {
            Ok(plain) => plain.into(),
            Err(_) => return CapturedValue::Redacted,
        }
    } else {
        blob.into()
    };
    let panicked = matches!(
        event.outcome(),
        Ok(Outcome::Capture { panicked: true, .. } | Outcome::CaptureSensitive { panicked: true, .. })
    );
    match panicked.then(|| CapturedPanic::decode(&plain)).flatten() {
        Some(panic) => CapturedValue::Panicked(panic),
        None => CapturedValue::Clear(plain),
    }
}

#[cfg(test)]
mod tests;

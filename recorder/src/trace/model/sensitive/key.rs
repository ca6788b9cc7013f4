//! The key of sensitive captures: 32 bytes, given as 64 hex digits, directly
//! or in a file, through the API or [`KEY_ENV`].

use std::fmt;

/// The environment variable holding the key: 64 hex digits, or the path of a
/// file holding them (surrounding whitespace ignored).
pub const KEY_ENV: &str = "REPRISE_KEY";

/// A ChaCha20-Poly1305 key. Its `Debug` does not show it.
#[derive(Clone, PartialEq, Eq)]
pub struct SealKey([u8; 32]);

impl fmt::Debug for SealKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SealKey(..)")
    }
}

/// Why a key was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BadKey {
    /// Neither 64 hex digits nor the path (with a `/`, `\` or `.`) of a
    /// file.
    #[error("{KEY_ENV} must be 64 hex digits or the path of a file holding them")]
    Malformed,
    /// A path (it has a `/`, `\` or `.`) whose file cannot be read.
    #[error("{KEY_ENV} names the file `{path}`, which cannot be read ({reason}); it must be 64 hex digits or the path of a file holding them")]
    Unreadable {
        /// The path, as given.
        path: String,
        /// What reading it said.
        reason: String,
    },
    /// A readable file that does not hold 64 hex digits.
    #[error("{KEY_ENV} names the file `{path}`, which does not hold 64 hex digits")]
    FileMalformed {
        /// The path, as given.
        path: String,
    },
}

impl SealKey {
    /// A key from its 32 bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> SealKey {
        SealKey(bytes)
    }

    /// A key from 64 hex digits.
    ///
    /// # Errors
    ///
    /// [`BadKey::Malformed`] when `text` (trimmed) is not 64 hex digits.
    pub fn from_hex(text: &str) -> Result<SealKey, BadKey> {
        let text = text.trim().as_bytes();
        if text.len() != 64 {
            return Err(BadKey::Malformed);
        }
        let mut bytes = [0u8; 32];
        for (byte, pair) in bytes.iter_mut().zip(text.chunks_exact(2)) {
            let digit = |c: u8| (c as char).to_digit(16).ok_or(BadKey::Malformed);
            *byte = (digit(pair[0])? * 16 + digit(pair[1])?) as u8;
        }
        Ok(SealKey(bytes))
    }

    /// A key as [`KEY_ENV`] gives it: 64 hex digits, else a file path whose
    /// content is.
    ///
    /// # Errors
    ///
    /// [`BadKey::Malformed`] when it is neither 64 hex digits nor a
    /// readable file, [`BadKey::Unreadable`] when it looks like a path (a
    /// `/`, `\` or `.`) whose file cannot be read, [`BadKey::FileMalformed`]
    /// when the file does not hold 64 hex digits.
    pub fn parse(value: &str) -> Result<SealKey, BadKey> {
        SealKey::from_hex(value).or_else(|_| {
            let path = value.trim();
            // Read as a path only when it looks like one: `zz` or a short run
            // of hex digits was meant as the key, and is told so.
            let looks_like_a_path = path.contains(['/', '\\', '.']);
            match std::fs::read_to_string(path) {
                Ok(text) => {
                    SealKey::from_hex(&text).map_err(|_| BadKey::FileMalformed { path: path.to_owned() })
                }
                Err(e) if looks_like_a_path => {
                    Err(BadKey::Unreadable { path: path.to_owned(), reason: e.to_string() })
                }
                Err(_) => Err(BadKey::Malformed),
            }
        })
    }

    /// The key in [`KEY_ENV`]: `Ok(None)` when unset.
    ///
    /// # Errors
    ///
    /// [`BadKey::Malformed`] when set to neither form.
    pub fn from_env() -> Result<Option<SealKey>, BadKey> {
        match std::env::var(KEY_ENV) {
            Ok(value) => SealKey::parse(&value).map(Some),
            Err(_) => Ok(None),
        }
    }

    pub(super) fn bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

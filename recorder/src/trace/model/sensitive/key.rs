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
    /// Hex digits, but not 64 of them (or not only hex digits, and no file
    /// of that name either).
    #[error("{KEY_ENV} must be 64 hex digits or the path of a file holding them")]
    Malformed,
    /// A path (it is not hex) whose file cannot be read.
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
    /// [`BadKey::Malformed`] when it is hex digits of another length (or
    /// neither hex nor a file), [`BadKey::Unreadable`] when it names a file
    /// that cannot be read, [`BadKey::FileMalformed`] when the file does not
    /// hold 64 hex digits.
    pub fn parse(value: &str) -> Result<SealKey, BadKey> {
        SealKey::from_hex(value).or_else(|_| {
            let path = value.trim();
            let all_hex = !path.is_empty() && path.chars().all(|c| c.is_ascii_hexdigit());
            match std::fs::read_to_string(path) {
                Ok(text) => {
                    SealKey::from_hex(&text).map_err(|_| BadKey::FileMalformed { path: path.to_owned() })
                }
                // Meant as hex digits: say so, not that no file has that name.
                Err(_) if all_hex || path.is_empty() => Err(BadKey::Malformed),
                Err(e) => Err(BadKey::Unreadable { path: path.to_owned(), reason: e.to_string() }),
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

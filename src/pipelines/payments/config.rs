//! The configuration of one run of the payments pipeline, and its validation.

use std::error::Error;
use std::fmt;

use super::Bug;

/// The largest number of ledger workers a run may have.
pub const MAX_WORKERS: usize = 64;

/// The largest number of payments a run may generate.
pub const MAX_PAYMENTS: u64 = 10_000_000;

/// What one run of the payments pipeline does.
///
/// # Examples
///
/// ```
/// use reprise::pipelines::payments::{Bug, PaymentsConfig};
///
/// let config = PaymentsConfig { workers: 2, bug: Bug::LostUpdate, ..PaymentsConfig::default() };
/// assert!(config.validate().is_ok());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PaymentsConfig {
    /// How many payments ingest generates (ids `0..payments`), at most
    /// [`MAX_PAYMENTS`]. Default: 200.
    pub payments: u64,
    /// How many ledger workers (`ledger-0`, `ledger-1`, ...), 1 to [`MAX_WORKERS`].
    /// Default: 4.
    pub workers: usize,
    /// The seed of the opening balances and of the generated payments. Default: 1.
    pub seed: u64,
    /// The seeded bug, if any. Default: [`Bug::None`].
    pub bug: Bug,
    /// Busy work each ledger worker does per message before applying it, in roughly
    /// nanoseconds: a deterministic arithmetic loop, never the clock. For
    /// benchmarks. Default: 0.
    pub work_ns: u64,
    /// Keep the balances in [`crate::Tracked`] cells, so that a recording
    /// holds every read and write of them for `reprise races` (the raw
    /// twin keeps plain cells either way). Default: false.
    pub tracked_balances: bool,
}

impl Default for PaymentsConfig {
    fn default() -> Self {
        PaymentsConfig {
            payments: 200,
            workers: 4,
            seed: 1,
            bug: Bug::None,
            work_ns: 0,
            tracked_balances: false,
        }
    }
}

impl PaymentsConfig {
    /// Checks that the configuration can be run.
    ///
    /// # Errors
    ///
    /// [`ConfigError::Workers`] if `workers` is not in `1..=MAX_WORKERS`;
    /// [`ConfigError::Payments`] if `payments` exceeds [`MAX_PAYMENTS`].
    pub fn validate(&self) -> Result<(), ConfigError> {
        if !(1..=MAX_WORKERS).contains(&self.workers) {
            return Err(ConfigError::Workers { workers: self.workers });
        }
        if self.payments > MAX_PAYMENTS {
            return Err(ConfigError::Payments { payments: self.payments });
        }
        Ok(())
    }
}

/// Why a [`PaymentsConfig`] cannot be run.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigError {
    /// `workers` is not in `1..=MAX_WORKERS`.
    Workers {
        /// The rejected value.
        workers: usize,
    },
    /// `payments` exceeds [`MAX_PAYMENTS`].
    Payments {
        /// The rejected value.
        payments: u64,
    },
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::Workers { workers } => {
                write!(f, "`workers` must be between 1 and {MAX_WORKERS}, got {workers}")
            }
            ConfigError::Payments { payments } => {
                write!(f, "`payments` must be at most {MAX_PAYMENTS}, got {payments}")
            }
        }
    }
}

impl Error for ConfigError {}

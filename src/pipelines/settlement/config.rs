//! The configuration of one run of the settlement batch, and its validation.

use std::error::Error;
use std::fmt;

use super::Bug;

/// The largest number of settlers a run may have.
pub const MAX_SETTLERS: usize = 64;

/// The largest number of orders a run may generate.
pub const MAX_ORDERS: u64 = 10_000_000;

/// What one run of the settlement batch does.
///
/// # Examples
///
/// ```
/// use reprise::pipelines::settlement::{Bug, SettlementConfig};
///
/// let config = SettlementConfig { settlers: 2, bug: Bug::StaleRate, ..SettlementConfig::default() };
/// assert!(config.validate().is_ok());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SettlementConfig {
    /// How many orders the intake threads generate (ids `0..orders`), at most
    /// [`MAX_ORDERS`]. Default: 200.
    pub orders: u64,
    /// How many settlers (`settler-0`, `settler-1`, ...), 1 to [`MAX_SETTLERS`].
    /// Default: 4.
    pub settlers: usize,
    /// The seed of the orders, the redeliveries and the published rates. Default: 1.
    pub seed: u64,
    /// The seeded bug, if any. Default: [`Bug::None`].
    pub bug: Bug,
}

impl Default for SettlementConfig {
    fn default() -> Self {
        SettlementConfig { orders: 200, settlers: 4, seed: 1, bug: Bug::None }
    }
}

impl SettlementConfig {
    /// Checks that the configuration can be run.
    ///
    /// # Errors
    ///
    /// [`ConfigError::Settlers`] if `settlers` is not in `1..=MAX_SETTLERS`;
    /// [`ConfigError::Orders`] if `orders` exceeds [`MAX_ORDERS`].
    pub fn validate(&self) -> Result<(), ConfigError> {
        if !(1..=MAX_SETTLERS).contains(&self.settlers) {
            return Err(ConfigError::Settlers { settlers: self.settlers });
        }
        if self.orders > MAX_ORDERS {
            return Err(ConfigError::Orders { orders: self.orders });
        }
        Ok(())
    }
}

/// Why a [`SettlementConfig`] cannot be run.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigError {
    /// `settlers` is not in `1..=MAX_SETTLERS`.
    Settlers {
        /// The rejected value.
        settlers: usize,
    },
    /// `orders` exceeds [`MAX_ORDERS`].
    Orders {
        /// The rejected value.
        orders: u64,
    },
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::Settlers { settlers } => {
                write!(f, "`settlers` (workers) must be between 1 and {MAX_SETTLERS}, got {settlers}")
            }
            ConfigError::Orders { orders } => {
                write!(f, "`orders` must be at most {MAX_ORDERS}, got {orders}")
            }
        }
    }
}

impl Error for ConfigError {}

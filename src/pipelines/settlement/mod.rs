//! The built-in FX settlement batch: intake -> settlers -> netting, with a rate
//! feed, and an optional seeded concurrency bug. Unlike the payments pipeline,
//! its channels are shared (several producers and several consumers on one
//! channel), its prices come from a rate table behind an `RwLock`, and its
//! idempotency record is lock-free.
//!
//! - `rate-feed` publishes the opening rates (version 1) into the
//!   [`RwLock`](crate::sync::RwLock)ed rate table, opens the batch (a
//!   [`Condvar`](crate::sync::Condvar) hand-off the settlers wait on), then
//!   publishes a new version on every market tick from intake, and a heartbeat
//!   version when `recv_timeout` on the tick channel times out (a bounded number),
//!   until intake is done.
//! - `intake-0` and `intake-1` generate the orders ([`next_order`]) between them
//!   and send each on one shared order channel; one order in six is sent again on a
//!   shared redelivery channel, as an at-least-once queue does; every eighth order
//!   also sends the rate feed a market tick.
//! - `settler-0`, `settler-1`, ... `select` over both channels, claim each order by
//!   compare-exchange on a bit of an atomic word (a redelivery finds its bit set and
//!   is dropped), price it under a read of the rate table, move the positions
//!   (buyer: + currency, - USD; seller: the opposite; one `Mutex` per currency),
//!   journal it and report it. When both channels are drained they meet at a
//!   closing barrier (a `Condvar`); the last one to arrive takes the closing
//!   positions and releases the others.
//! - `netting` totals what the settlers report, per currency.
//!
//! The calling thread joins them all and checks the invariants ([`INVARIANTS`]):
//! every order settled exactly once, every currency's net positions sum to zero,
//! no order settled at a rate replaced between pricing and commit, and the netting
//! totals equal the journal's. Amounts are [`rust_decimal::Decimal`]s.
//!
//! # Examples
//!
//! ```
//! use reprise::pipelines::settlement::{run, Bug, SettlementConfig};
//!
//! let config = SettlementConfig { orders: 100, settlers: 2, ..SettlementConfig::default() };
//! assert!(run(&config).is_ok());
//!
//! // A seeded bug may or may not strike in a given run; record or explore it.
//! let buggy = run(&SettlementConfig { bug: Bug::DoubleSettle, ..config });
//! println!("{}", buggy.invariants_line());
//! ```

mod batch;
mod bug;
mod config;
mod outcome;
mod workload;

pub use batch::{run, try_run};
pub use bug::{Bug, ParseBugError};
pub use config::{ConfigError, SettlementConfig, MAX_ORDERS, MAX_SETTLERS};
pub use outcome::{
    SettlementOutcome, EXACTLY_ONCE, INVARIANTS, NETTING_MATCHES_JOURNAL, NET_ZERO, NO_STALE_RATE,
};
pub use workload::{next_order, Order, CURRENCIES, PARTIES, USD};

#[cfg(test)]
mod tests;

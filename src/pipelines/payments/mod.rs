//! The built-in payments pipeline: ingest -> validate -> ledger workers ->
//! reconciler, with an optional seeded concurrency bug.
//!
//! - `ingest` generates [`PaymentsConfig::payments`] payments from the seed
//!   ([`next_payment`]): transfers between [`ACCOUNTS`] accounts, deposits, pairs of
//!   a deposit and the transfer it funds, and a few malformed ones.
//! - `validate` drops malformed payments and routes each of the others to the
//!   ledger worker of its home account (the account it debits, or credits for a
//!   deposit, modulo the number of workers), so every debit of an account is
//!   applied by one worker in order. It redelivers one payment in eight, as an
//!   at-least-once queue does.
//! - `ledger-0`, `ledger-1`, ... apply payments to the shared accounts (one
//!   `Mutex` per account), drop redeliveries by idempotency key, refuse transfers
//!   that would overdraw their source, and report each outcome.
//! - `reconciler` totals the count and volume of applied payments.
//!
//! The calling thread spawns them all, joins them, and checks the invariants
//! ([`INVARIANTS`]): money is conserved, no account goes below zero, each payment
//! gets exactly one outcome, and the reconciler agrees with the ledger. Amounts are
//! [`rust_decimal::Decimal`]s with 2 decimal places.
//!
//! The pipeline is built on reprise's primitives (`reprise::thread`,
//! `reprise::channel`, `reprise::sync`), so it can be recorded, replayed and
//! explored. A copy on std and crossbeam-channel, for benchmarks, lives in the
//! hidden module `raw`; both are compiled from the same source (`body.rs`).
//!
//! # Examples
//!
//! ```
//! use reprise::pipelines::payments::{run, Bug, PaymentsConfig};
//!
//! let config = PaymentsConfig { workers: 1, ..PaymentsConfig::default() };
//! let outcome = run(&config);
//! assert!(outcome.is_ok());
//! // One worker: one schedule, one final state.
//! assert_eq!(run(&config).digest, outcome.digest);
//!
//! // A seeded bug may or may not strike in a given run; re-run, record or explore.
//! let buggy = run(&PaymentsConfig { bug: Bug::LostUpdate, ..PaymentsConfig::default() });
//! println!("{}", buggy.invariants_line());
//! ```

mod balance;
mod bug;
mod config;
mod floor_primitives;
mod ledger;
mod outcome;
mod workload;

pub use bug::{Bug, ParseBugError};
pub use config::{ConfigError, PaymentsConfig, MAX_PAYMENTS, MAX_WORKERS};
pub use instrumented::{run, try_run};
pub use outcome::{
    PaymentsOutcome, CONSERVATION, EXACTLY_ONCE, INVARIANTS, NO_OVERDRAFT, RECONCILER_MATCHES_LEDGER,
};
pub use workload::{next_payment, Payment, PaymentKind, ACCOUNTS};

/// The pipeline on reprise's primitives.
mod instrumented {
    use super::balance::Balance;
    use crate::{channel, sync, thread};

    include!("body.rs");
}

/// The same pipeline on std and crossbeam-channel, for benchmarks against
/// [`run`](crate::pipelines::payments::run).
#[doc(hidden)]
pub mod raw {
    use super::balance::PlainBalance as Balance;
    use crossbeam_channel as channel;
    use std::{sync, thread};

    include!("body.rs");
}

/// The same pipeline under the least recording we can think of
/// (`floor_primitives`): a ceiling for record mode in the pipeline
/// benchmark, not a recorder.
#[doc(hidden)]
pub mod floor {
    use super::balance::PlainBalance as Balance;
    use super::floor_primitives::{channel, sync, thread};

    pub use super::floor_primitives::logged;

    include!("body.rs");
}

#[cfg(test)]
mod tests;

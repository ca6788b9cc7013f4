//! Built-in demo pipelines.
//!
//! - [`payments`]: ingest -> validate -> ledger workers -> reconciler, with a choice
//!   of seeded concurrency bugs; used by the demo, the tests and the benchmarks.
//! - [`settlement`]: an FX settlement batch on shared channels, an `RwLock`ed rate
//!   table, a `Condvar` barrier and a lock-free idempotency record, with its own
//!   seeded bugs; used by the tests and the stress test.

#![warn(missing_docs, missing_debug_implementations, unreachable_pub)]

mod bug_name;
pub mod payments;
pub mod settlement;

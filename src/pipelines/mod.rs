//! Built-in demo pipelines.
//!
//! - [`payments`]: ingest -> validate -> ledger workers -> reconciler, with a choice
//!   of seeded concurrency bugs; used by the demo, the tests and the benchmarks.

#![warn(missing_docs, missing_debug_implementations, unreachable_pub)]

pub mod payments;

//! reprise-replayer: re-executing a recorded trace deterministically.
//!
//! [`replay`] runs a closure (the same program that was recorded) under a
//! trace: each thread runs in parallel, waiting only for what its next
//! recorded outcome depends on (the message it must receive, the lock turn it
//! must take, the store its load read). A thread that does something else is
//! a divergence; a replay where no thread can go on is a stall; both stop the
//! replay with a report instead of hanging.
//!
//! ```
//! use reprise_recorder::{record, sync::atomic::{AtomicU64, Ordering}, thread, RecordConfig};
//! use reprise_recorder::trace::read::read_trace_file;
//! use std::sync::Arc;
//!
//! fn program() -> u64 {
//!     let hits = Arc::new(AtomicU64::new(0));
//!     let h = Arc::clone(&hits);
//!     let worker = thread::spawn(move || h.fetch_add(1, Ordering::SeqCst));
//!     let seen = hits.load(Ordering::SeqCst); // 0 or 1, depending on the schedule
//!     worker.join().unwrap();
//!     seen
//! }
//!
//! let path = std::env::temp_dir().join(format!("replayer-doc-{}.trace", std::process::id()));
//! let recorded = record(&path, RecordConfig::new("doc", "1"), program).unwrap();
//! let trace = read_trace_file(&path).unwrap();
//! let replayed = reprise_replayer::replay(&trace, program);
//! assert!(replayed.outcome.matched());
//! assert_eq!(replayed.result, recorded.result);
//! # std::fs::remove_file(&path).ok();
//! ```
#![warn(missing_docs, missing_debug_implementations, unreachable_pub)]
#![deny(unsafe_code)]

// Under `--cfg reprise_loom` the recorder leaves its record/replay machinery
// out, so only what is model-checked here is built: the liveness protocol
// and the gate's waiters.
#[cfg(not(reprise_loom))]
mod backstop;
#[cfg(not(reprise_loom))]
pub mod compare;
#[cfg(not(reprise_loom))]
pub mod coreplay;
#[cfg(not(reprise_loom))]
pub mod explore;
#[cfg_attr(reprise_loom, allow(dead_code))]
mod gate;

mod int_hash;
#[cfg_attr(reprise_loom, allow(dead_code))]
mod liveness;
#[cfg(not(reprise_loom))]
pub mod log;
#[cfg(not(reprise_loom))]
pub mod prefix;
#[cfg(not(reprise_loom))]
pub mod progress;
#[cfg(not(reprise_loom))]
mod replay;
#[cfg(not(reprise_loom))]
pub mod report;
#[cfg(not(reprise_loom))]
mod unwinding;
#[cfg(not(reprise_loom))]
pub mod views;
#[cfg(not(reprise_loom))]
pub mod why;

#[cfg(not(reprise_loom))]
pub use backstop::{parse_stall_backstop, BackstopError, DEFAULT_STALL_BACKSTOP, STALL_BACKSTOP_ENV};
#[cfg(not(reprise_loom))]
pub use coreplay::{replay_coroutines, replay_coroutines_indexed, replay_coroutines_keyed, ReplayMode};
#[cfg(not(reprise_loom))]
pub use gate::{MoveRefused, Observed, ReplayGate, StopAt, StopHost};
#[cfg(not(reprise_loom))]
pub use log::IndexedTrace;
#[cfg(not(reprise_loom))]
pub use replay::{replay, replay_indexed, replay_with, ReplayOptions, ReplayReport};
#[cfg(not(reprise_loom))]
pub use report::{Divergence, ReplayOutcome, Stall};

//! reprise-recorder: the instrumented primitives, the runtime hook they call,
//! and the trace format.
//!
//! Everything here runs inside the user's program. Each primitive checks one
//! thread-local to learn its thread's mode: off (passthrough), record (append
//! an event to the thread's own buffer), or gated (a replay forces the
//! outcome through a [`rt::gate::Gate`] that another crate installs).
//!
//! ```
//! use reprise_recorder::{record, sync::Mutex, thread, RecordConfig};
//! use std::sync::Arc;
//!
//! let path = std::env::temp_dir().join(format!("recorder-doc-{}.trace", std::process::id()));
//! let recording = record(&path, RecordConfig::new("doc", "1"), || {
//!     let total = Arc::new(Mutex::new(0u64));
//!     let workers: Vec<_> = (0..2)
//!         .map(|_| {
//!             let total = Arc::clone(&total);
//!             thread::spawn(move || *total.lock().unwrap() += 1)
//!         })
//!         .collect();
//!     for w in workers {
//!         w.join().unwrap();
//!     }
//!     let n = *total.lock().unwrap();
//!     n
//! })
//! .unwrap();
//! assert_eq!(recording.result, Some(2));
//! # std::fs::remove_file(&path).ok();
//! ```
#![warn(missing_docs, missing_debug_implementations, unreachable_pub)]
#![forbid(unsafe_code)]

pub mod capture;
pub mod channel;
pub mod random;
mod record;
pub mod rt;
pub mod sync;
pub mod thread;
pub mod time;
pub mod trace;

pub use capture::capture;
pub use record::{annotate, record, start_recording, RecordConfig, RecordError, RecordGuard, Recording};
pub use rt::gated::{run_gated, ReplayStopped};
pub use rt::writer::WriterStats;

/// The exit code of a process that [`start_recording`] recorded into a
/// deadlock: the trace is written, the deadlocked threads cannot be ended.
pub const DEADLOCK_EXIT_CODE: i32 = 86;

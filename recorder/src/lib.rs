//! reprise-recorder: the instrumented primitives, the runtime hook they call,
//! and the trace format.
//!
//! Everything here runs inside the user's program. Each primitive is a
//! std-shaped shell that checks one thread-local to learn its thread's mode
//! and hands the call to that mode's backend: passthrough, record (append an
//! event to the thread's own buffer), replay (a gate another crate installs
//! forces the recorded outcome), or explore (threads as coroutines under the
//! explorer's scheduler). The backends are private; the one seam the replayer
//! and the explorer use is the hidden `hook` module.
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
// Only `rt::signal` (sigaction, a self-pipe) may opt out, with a SAFETY note
// on each block.
#![deny(unsafe_code)]
#![deny(unsafe_op_in_unsafe_fn)]

pub mod annotation;
pub mod args;
#[doc(hidden)]
pub mod diagnostic;
// Under `--cfg reprise_loom` the record/replay machinery is left out; the
// primitives' shells hand every call to their loom backend.
pub mod capture;
// One shell for every mode; under loom its passthrough backend is loom's.
pub mod channel;
#[cfg(not(reprise_loom))]
pub mod flight;
pub mod hint;
#[doc(hidden)]
pub mod local;
#[cfg(reprise_loom)]
#[path = "loom/execution.rs"]
mod loom_execution;
pub mod named;
pub mod panic;
#[cfg(not(reprise_loom))]
mod policy;
pub mod random;
#[cfg(not(reprise_loom))]
mod record;
// The backends' runtime: private. The replayer and the explorer reach its
// seams through `hook`.
mod rt;
// The same shells under loom: their inner objects are loom's.
pub mod sync;
pub mod thread;
pub mod time;
pub mod trace;
pub mod tracked;

pub use capture::{capture, capture_sensitive};
#[cfg(not(reprise_loom))]
pub use flight::{flight, flight_dump, flight_dump_all, DumpInfo, FlightConfig, FlightError, FlightRun};
pub use named::{named, Nameable};
#[cfg(not(reprise_loom))]
pub use policy::{OnDeadlock, OnRecordError};
#[cfg(not(reprise_loom))]
pub use record::{
    annotate, record, start_recording, RecordConfig, RecordError, RecordGuard, Recording,
    CONDVAR_WAITS_ANNOTATION, DEFAULT_PENDING_CAP, PENDING_CAP_ENV, RAN_ON_ANNOTATION, STOPPED_ANNOTATION,
};
#[cfg(not(reprise_loom))]
pub use rt::gated::ReplayStopped;
#[cfg(not(reprise_loom))]
pub use rt::signal::EXIT_ANNOTATION;
#[cfg(not(reprise_loom))]
pub use rt::writer::WriterStats;
pub use tracked::Tracked;

/// The seams between the primitives and reprise's own replayer and explorer:
/// the replay gate, the cooperative scheduler, the panic hook's message.
/// Not for programs that use reprise; its items change without notice.
#[doc(hidden)]
#[cfg(not(reprise_loom))]
pub mod hook {
    pub use crate::rt::fork::is_forked_child;
    pub use crate::rt::gated::{run_gated, run_gated_keyed};
    pub use crate::rt::signal::at_process_exit;
    pub use crate::rt::stderr_line::StderrLine;
    pub use crate::rt::{coop, gate, panic};
}

/// The exit code of [`OnDeadlock::exit`]: a recording proved a deadlock,
/// the trace is written, the deadlocked threads cannot be ended.
#[cfg(not(reprise_loom))]
pub const DEADLOCK_EXIT_CODE: i32 = 86;

/// The exit code of [`OnRecordError::exit`]: `reprise::main` could not
/// create the trace and the program did not run.
#[cfg(not(reprise_loom))]
pub const RECORD_ERROR_EXIT_CODE: i32 = 87;

//! reprise: record the schedule of a concurrent Rust program in production,
//! replay it exactly on a laptop.
//!
//! A payments pipeline loses a cent once a week and nobody can reproduce it.
//! Build it on reprise's primitives (the same API as `std::thread`,
//! `std::sync` and `crossbeam-channel`, so porting means changing imports),
//! record it where the bug happens, and replay the trace: every lock
//! acquisition, received message, atomic load, clock read and captured input
//! comes back as it was, so the same interleaving and the same bug come back.
//!
//! ```
//! use reprise::{channel, sync::Mutex, thread};
//! use std::sync::Arc;
//!
//! // The program: two workers add what they receive to a shared balance.
//! fn pipeline() -> u64 {
//!     let balance = Arc::new(Mutex::new(0u64));
//!     let (tx, rx) = channel::bounded::<u64>(4);
//!     let workers: Vec<_> = (0..2)
//!         .map(|_| {
//!             let (rx, balance) = (rx.clone(), Arc::clone(&balance));
//!             thread::spawn(move || {
//!                 for amount in rx.iter() {
//!                     *balance.lock().unwrap() += amount;
//!                 }
//!             })
//!         })
//!         .collect();
//!     for amount in 1..=10 {
//!         tx.send(amount).unwrap();
//!     }
//!     drop(tx);
//!     for w in workers {
//!         w.join().unwrap();
//!     }
//!     let total = *balance.lock().unwrap();
//!     total
//! }
//!
//! // Record it, then replay the trace: same schedule, same result.
//! let path = std::env::temp_dir().join(format!("reprise-doc-{}.trace", std::process::id()));
//! let recorded = reprise::record(&path, reprise::RecordConfig::new("doc", "1"), pipeline).unwrap();
//! let trace = reprise::read_trace_file(&path).unwrap();
//! let replayed = reprise::replay(&trace, pipeline);
//! assert!(replayed.outcome.matched());
//! assert_eq!(replayed.result, recorded.result);
//! # std::fs::remove_file(&path).ok();
//! ```
//!
//! When a replay does something the trace does not say, it stops with a
//! divergence report naming the thread, the event, and what was expected;
//! when no thread can go on, the watchdog reports a stall within seconds.
//!
//! To leave recording on in production, [`flight()`] keeps only each
//! thread's last events in fixed memory and writes them (a normal trace,
//! whose header says where its window starts) on a panic, a proven deadlock,
//! `SIGUSR1` or [`flight_dump`]; from the environment, [`main`] does it with
//! `REPRISE_FLIGHT=path[,events=N][,bytes=N][,exited=N]`. A dump replays when its
//! window covers the whole run; otherwise replay refuses it (exit 11),
//! saying from which event it starts.
//!
//! Limits: nondeterminism outside the primitives (a `HashMap` iterated with a
//! random hasher, `Instant::now()` read directly, comparing addresses, input
//! read without [`capture()`]) is not recorded and shows up as a divergence.
#![warn(missing_docs, missing_debug_implementations, unreachable_pub)]
#![forbid(unsafe_code)]

#[cfg(feature = "cli")]
pub mod cli;
mod env;
pub mod exit;
mod handoff;
mod inherited;
mod notes;
#[cfg(feature = "cli")]
pub mod pipelines;
mod replay_exit;
mod stop_at;
mod termination;
#[cfg(feature = "tracing")]
mod tracing_layer;

#[doc(inline)]
pub use reprise_recorder::args;
#[doc(inline)]
pub use reprise_recorder::trace;
#[doc(inline)]
pub use reprise_recorder::trace::model::sensitive::SealKey;
pub use reprise_recorder::trace::read::{read_trace, read_trace_file};
#[doc(inline)]
pub use reprise_recorder::{
    capture, capture_sensitive, record, start_recording, OnDeadlock, OnRecordError, RecordConfig,
    RecordError, RecordGuard, Recording, CONDVAR_WAITS_ANNOTATION, DEADLOCK_EXIT_CODE, EXIT_ANNOTATION,
    RECORD_ERROR_EXIT_CODE,
};
#[doc(inline)]
pub use reprise_recorder::{channel, hint, panic, random, sync, thread, time};
#[doc(inline)]
pub use reprise_recorder::{
    flight, flight_dump, flight_dump_all, DumpInfo, FlightConfig, FlightError, FlightRun,
};
#[doc(inline)]
pub use reprise_recorder::{named, Nameable, Tracked};
#[doc(inline)]
pub use reprise_replayer::{
    replay, replay_coroutines, replay_coroutines_indexed, replay_coroutines_keyed, replay_indexed,
    replay_with, Divergence, IndexedTrace, ReplayMode, ReplayOptions, ReplayOutcome, ReplayReport, Stall,
};

#[doc(inline)]
pub use reprise_replayer::explore;
#[doc(inline)]
pub use reprise_replayer::explore::explore;
#[doc(inline)]
pub use reprise_replayer::why;

pub use env::{main, main_with, Mode, COROUTINES_ENV};
pub use handoff::REPORT_ENV;
pub use notes::annotate;
pub use reprise_recorder::annotation;
pub use reprise_recorder::thread_local;
pub use stop_at::STOP_AT_ENV;
pub use termination::{Termination, EXIT_CODE_NOTE};
#[cfg(feature = "tracing")]
pub use tracing_layer::TracingLayer;

/// README.md's examples, run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

//! The primitives of the payments pipeline's `floor` twin: the least
//! recording we can think of, a reference row for the pipeline benchmark,
//! to tell how much of record mode's cost any recorder pays on this program
//! and machine, and how much is reprise's own.
//!
//! Every event that a replay needs is one 8-byte word appended to a
//! per-thread ring in thread-local memory ([`log`]): a send stamps its
//! message with (thread, the thread's send count) and logs the count; a
//! receive logs the stamp of the message it took, or that it found none; a
//! lock logs the mutex's acquisition count, kept inside the mutex; a spawn,
//! a thread's start and a join log a word each. Nothing else: no call site,
//! no object naming, no unlock event, no deadlock bookkeeping, no mode
//! check, and nothing written anywhere (the ring wraps in place, in the
//! cache; a real recorder's writer also reads the words back and writes
//! them out, on the program's cores on a 2-core machine).
//!
//! So its throughput is a ceiling for a recorder of this pipeline, not a
//! recorder: it records too little to replay (no thread identities across
//! runs, no sites, no header) and keeps nothing. The pipeline over them is
//! compiled from the same source as [`super::raw`] and [`super::run`]
//! (`body.rs`).

pub(super) mod channel;
mod log;
pub(super) mod sync;
pub(super) mod thread;

pub use log::logged;

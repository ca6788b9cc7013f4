//! A fourth set of programs written the way a porter writes them: start
//! from what std's and crossbeam-channel's docs show and change only the
//! imports to `reprise::...`. Unlike tests/unlike_payments.rs,
//! tests/unlike_more.rs, tests/unlike_third/ and tests/unlike_ported/:
//! a thread-per-request server whose requests carry their reply channel
//! through another channel (channels of channels, receivers dropped before
//! the reply, handler threads named by `thread::Builder`); a multiplexer
//! over a changing set of receivers, itself fed new receivers through a
//! channel, rebuilding a dynamic `Select` every round (`ready`, `try_ready`,
//! `select` with `remove`, `select_biased!`, `never()`, `at()`); a chain of
//! std `sync_channel(0)` rendezvous stages spawned by
//! `Builder::spawn_scoped`, fed by two racing sources; poisoned locks
//! recovered by `PoisonError::into_inner` and repaired with `clear_poison`,
//! `catch_unwind` around lock use, and a `Condvar::wait_timeout_while` on
//! a poisoned mutex; and time-driven retries (`Instant`, `recv_deadline`,
//! `send_timeout`). Each run is recorded, then replayed in parallel and on
//! coroutines; both must match every event and give the recorded
//! transcript, whose content depends on how the run interleaved.
//!
//! Corners too: a logger thread never joined, one receiver registered
//! twice in a `Select`, selects on both ends of rendezvous channels (with a
//! third thread draining, and two peers alone), a queue whose items carry
//! its own sender.
//!
//! Then the explorer on a planted bug (a server that keeps its caller's
//! reply channel in one shared slot), whose failure trace must replay to
//! the same failure; every correct program of the set explored, which
//! found a false deadlock: a select's send arm on a `bounded(0)` channel
//! paired only with a receiver blocked in a plain receive, never with one
//! waiting in a select, so selects meeting on a rendezvous deadlocked at
//! the first schedule (now a waiting select counts as a taker). And a
//! flight recording of the server dumped through the API from a handler
//! thread mid-run.

mod corners;
mod explore;
mod poison;
mod rendezvous;
mod retries;
mod select_set;
mod server;

/// Records and replays `program` (see `replays_give_the_transcript`) in
/// batches of [`runs`] until two recordings differ: a loaded machine can
/// serialize a whole batch, and a program that never varies shows little.
fn replays_and_varies(name: &str, program: fn() -> String) {
    crate::util::replays_and_varies(name, runs(), program);
}

/// Records and replays `program` as [`replays_and_varies`] does, without
/// asking that runs differ: for programs whose runs vary on an idle machine
/// but never did in 48 runs beside two CPU hogs (two threads trading over
/// rendezvous channels, consumers taking turns at one queue).
fn replays(name: &str, program: fn() -> String) {
    crate::util::replays_give_the_transcript(name, runs(), program);
}

/// Recordings per program: more in a release build.
fn runs() -> usize {
    if cfg!(debug_assertions) {
        12
    } else {
        60
    }
}

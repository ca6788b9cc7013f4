//! A third set of programs written against std's shapes, unlike the
//! payments pipeline and unlike tests/unlike_payments.rs,
//! tests/unlike_more.rs and tests/thread_locals.rs: a hand-rolled bounded
//! blocking queue (one mutex, two condvars, `wait_while` and a
//! spurious-tolerant `wait` loop, `notify_one` and `notify_all`), a
//! configuration service (a `Barrier` per phase with its leader, a `Once`,
//! a `LazyLock` and `OnceLock::set` raced, an `RwLock` "upgrade": read,
//! drop, write, re-check, `downgrade`), std `mpsc` with its `Sender` clones
//! dropped in odd orders (`recv_timeout`, `try_iter`, `iter`, a `SyncSender`
//! of capacity 2), a clock-driven batcher (`tick`, `after`, `select!` with
//! `default(timeout)`, `Instant` differences deciding when to flush), a
//! lock-free corner (`yield_now` spins with every `Ordering`,
//! `compare_exchange` retries, `fetch_max`, `fetch_min`, `swap`,
//! `AtomicPtr`, park/unpark with `park_timeout`), captured and random
//! inputs steering control flow, and a fork-join with nested scopes whose
//! one scoped thread panics. Each run is recorded, then replayed in parallel
//! and on coroutines; both must match every event and give the recorded
//! transcript, whose content depends on how the run interleaved.
//!
//! Then the explorer on planted bugs (a queue whose consumer checks with
//! `if` instead of `while`; an upgrade that does not re-check), whose
//! failure traces must replay to the same failure, and recordings that end
//! by `std::process::exit` or SIGKILL in a child process, whose traces must
//! replay their prefix.

mod crashes;
mod explore;
mod lockfree;
mod shapes;

/// Recordings per program: more in a release build.
fn runs() -> usize {
    if cfg!(debug_assertions) {
        20
    } else {
        80
    }
}

//! Programs ported from the shapes of well-known crates' concurrency, as a
//! new user would port them by switching imports to reprise, and unlike
//! tests/unlike_payments.rs, tests/unlike_more.rs, tests/unlike_third/ and
//! tests/thread_locals.rs: a tiny futures runtime (`std::task::Waker`s
//! built from a `reprise::thread::Thread` and from a run-queue channel,
//! futures completed by a timer thread and a blocking pool), an r2d2-like
//! connection pool (a mutex and a condvar with `wait_timeout`, a health
//! checker, shutdown), a pub-sub bus dropping slow subscribers on
//! `try_send` Full, a metrics registry (sharded atomics behind an `RwLock`ed
//! map, double-checked insertion, a reporter clocked by `recv_timeout`), a
//! token-bucket rate limiter on `Instant`, a work-stealing pool with random
//! victims and an idle-count termination, a oneshot and a semaphore on a
//! mutex and a condvar driving a bounded parallel map, and a graceful
//! shutdown (an `AtomicBool`, `select!` over a shutdown and a work channel,
//! `Drop` impls that join). Each run is recorded, then replayed in parallel
//! and on coroutines; both must match every event and give the recorded
//! transcript. Then the explorer on planted bugs, and the CLI's views on
//! some of the traces.

mod bus;
mod cli;
mod executor;
mod explore;
mod forever;
mod pool;
mod workers;

/// Recordings per program: more in a release build.
fn runs() -> usize {
    if cfg!(debug_assertions) {
        20
    } else {
        80
    }
}

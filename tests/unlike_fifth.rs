//! A fifth set of programs, unlike tests/unlike_payments.rs,
//! tests/unlike_more.rs, tests/unlike_third/, tests/unlike_fourth/,
//! tests/unlike_ported/ and tests/zoo/: lock-free structures written on
//! `reprise::sync::atomic` the way people write them (a tagged Treiber
//! stack recycling its nodes with `compare_exchange_weak`, a seqlock, an
//! SPSC ring of plain memory behind `Acquire`/`Release` indices, a
//! hand-counted handle freed after `fetch_sub` + `fence`, a once-flag and
//! `fetch_update` tickets); time-driven code (a token bucket on `Instant`,
//! a debouncer on `recv_timeout` and `sleep`, a watchdog on
//! `Condvar::wait_timeout`, a heartbeat on `tick` and `after`); phased and
//! read-mostly shapes (a `Barrier` simulation with a leader's reduction, an
//! `RwLock` cache with an invalidating writer, a `notify_all` queue with
//! spurious-tolerant consumers, a `park`/`unpark` baton, `OnceLock` and
//! `LazyLock` in statics and locals); and trees of `thread::scope`s
//! borrowing from their parents, with `Builder::stack_size`, names and
//! `available_parallelism`. Each run is recorded, then replayed in parallel
//! and on coroutines; both must match every event and give the recorded
//! transcript, whose content depends on how the run interleaved.
//!
//! Then the explorer on planted bugs (a seqlock reader that never
//! re-checks, a rate limiter that checks then acts), whose failure traces
//! must replay to the same failure, one of them explained by `why`; every
//! correct program explored, under each strategy too (corners.rs, with
//! timeouts of zero and of `Duration::MAX`, barriers of one and zero, and
//! `OnceLock::wait`); and a flight dump of one. Found: a thread recursing
//! deeper than 256 KiB (fine under std, asked for by `Builder::stack_size`
//! or within std's 2 MiB default) overflowed its coroutine and took the
//! process down by SIGSEGV in coroutine replay and the explorer.

mod corners;
mod explore;
mod lockfree;
mod phased;
mod scopes;
mod timed;

/// Records and replays `program` in batches of [`runs`] until two
/// recordings differ: a loaded machine can serialize a whole batch, and a
/// program that never varies shows little.
fn replays_and_varies(name: &str, program: fn() -> String) {
    crate::util::replays_and_varies(name, runs(), program);
}

/// Records and replays `program` as [`replays_and_varies`] does, without
/// asking that runs differ (for programs that vary on an idle machine but
/// may not beside CPU hogs).
fn replays(name: &str, program: fn() -> String) {
    crate::util::replays_give_the_transcript(name, runs(), program);
}

/// The set's correct programs: explored with every strategy, none may fail
/// or deadlock.
const CORRECT: [crate::util::NamedProgram; 16] = [
    ("treiber", lockfree::tagged_treiber),
    ("seqlock", lockfree::seqlock),
    ("ring", lockfree::spsc_ring),
    ("refcount", lockfree::refcount),
    ("tickets", lockfree::once_and_tickets),
    ("bucket", timed::token_bucket),
    ("debounce", timed::debouncer),
    ("watchdog", timed::watchdog),
    ("heartbeat", timed::heartbeat),
    ("phases", phased::phases),
    ("cache", phased::cache),
    ("notify-all", phased::notify_all_queue),
    ("baton", phased::baton),
    ("once", phased::once_cells),
    ("scope-tree", scopes::scope_tree),
    ("pool", scopes::sized_pool),
];

/// Recordings per program: more in a release build.
fn runs() -> usize {
    if cfg!(debug_assertions) {
        8
    } else {
        40
    }
}

//! A sixth set of programs, unlike tests/unlike_payments.rs,
//! tests/unlike_more.rs, tests/unlike_third/, tests/unlike_fourth/,
//! tests/unlike_fifth/, tests/unlike_ported/ and tests/zoo/: locks taken
//! without blocking (dining philosophers backing off with `try_lock` and
//! `yield_now`, spin locks on an `AtomicBool` over an `UnsafeCell` with
//! `swap` and `compare_exchange` that spin on `hint::spin_loop` and never
//! yield, an `RwLock` polled with `try_read` and `try_write`); waits with
//! predicates (a ticket turnstile on `Condvar::wait_while` whose predicates
//! count their calls, watched through `wait_timeout_while`; a `Barrier`
//! reused over ten phases whose changing leader reports down an mpsc
//! channel); channels (a `select!` over eight channels of eight types and
//! two `never()`s with a `default` arm, receivers swapped for `never()` as
//! they hang up; an actor handing work to helpers so that replies, each on
//! its request's own channel, arrive out of order at clients collecting
//! them with a rebuilt `Select`; a std `sync_channel(0)` ping-pong ending
//! in a `try_send` good-bye that races a `recv_timeout`); and pools (the
//! Rust Book's pool, whose workers hold the receiver's mutex while they
//! wait in `recv_timeout` and leave on an `AtomicBool`, and a chunked
//! map-reduce over scoped threads with a pairwise merge). Each run is
//! recorded, then replayed in parallel and on coroutines; both must match
//! every event and give the recorded transcript, whose content depends on
//! how the run interleaved.
//!
//! Then the explorer on planted bugs (a spin lock that checks, then sets;
//! the pool dropped with jobs queued), whose failure traces must replay to
//! the same failure, and every correct program explored, under each
//! strategy too. Found (found.rs, reduced): under the explorer, a
//! `try_send`, `send_timeout` or `select!` send arm on a rendezvous whose
//! receivers are gone never said `Disconnected` (the ping-pong's good-bye
//! loop became a livelock; `send_timeout` of `Duration::MAX` a false
//! deadlock); and DFS and Portfolio reported a livelock for a `yield_now`
//! spin waiting on a thread that sleeps. Both fixed.

mod channels;
mod explore;
mod found;
mod locks;
mod pools;
mod waits;

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
const CORRECT: [crate::util::NamedProgram; 10] = [
    ("philosophers", locks::philosophers),
    ("spin", locks::spin_locks),
    ("rw-try", locks::rw_try),
    ("turnstile", waits::turnstile),
    ("barrier-phases", waits::barrier_phases),
    ("wide-select", channels::wide_select),
    ("actor", channels::actor),
    ("ping-pong", channels::ping_pong),
    ("book-pool", pools::book_pool),
    ("map-reduce", pools::map_reduce),
];

/// Recordings per program: more in a release build.
fn runs() -> usize {
    if cfg!(debug_assertions) {
        8
    } else {
        40
    }
}

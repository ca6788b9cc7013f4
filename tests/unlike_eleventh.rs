//! An eleventh set of programs, unlike tests/unlike_payments.rs,
//! tests/unlike_more.rs, tests/unlike_third/ to tests/unlike_tenth/,
//! tests/unlike_ported/ and tests/zoo/: shapes of concurrent code the
//! earlier sets did not build. A read-mostly cache on an `RwLock` upgraded
//! by drop-and-relock (`try_write`, else `write`) and downgraded after a
//! fill; a config in a `static RwLock` polled by readers; a counting
//! semaphore of a `Mutex` and a `Condvar` (`wait_timeout_while`, one
//! impatient thread) around a ticket lock of two atomics (locks.rs);
//! Treiber stacks over an arena of node indexes with tagged heads
//! (`compare_exchange_weak`, `fetch_update`), and over boxed nodes on an
//! `AtomicPtr` (lockfree.rs); work stealing over a `Mutex<VecDeque>` per
//! worker, a baton passed round a ring by `park`/`unpark` with handles
//! published in `OnceLock`s (`OnceLock::wait`), a spawn tree whose
//! grandparents join their grandchildren and a chain of threads joined out
//! of order by the root (threads.rs); a merge stage on a long-lived
//! `Select` that removes closed receivers, forwarding with `send_deadline`
//! to a sink selecting over a `tick` and a `default(timeout)`; a reply-to
//! server whose clients drop reply receivers early; producers spinning on
//! `try_send` into rendezvous channels (crossbeam's `bounded(0)`, std's
//! `sync_channel(0)`) drained by `recv_timeout`; two consumers that wait
//! with `Select::ready_timeout` on shared receivers and then `try_recv`,
//! which the other may have emptied (channels.rs); a token bucket
//! refilled from reprise's clock (timed.rs).
//!
//! Each program but the static config is recorded several times; every
//! recording is replayed in parallel and on coroutines, and both must
//! match every event and give the recorded transcript (which depends on
//! how the run interleaved). Every program is explored under every
//! strategy with no failure, and planted bugs (a ticket lock whose ticket
//! is a load then a store, a Treiber stack whose head has no tag, a cache
//! upgrade without the re-check, work stealing that stops when the deques
//! look empty) must be found and their traces replayed to the same panic.
//!
//! Found: a `static RwLock` used by several executions of the process (a
//! recording, then its replays) did not replay: the first write lock of a
//! run counts the readers of the previous execution's last write, which
//! the coroutine replay compared unshifted (a divergence) and the parallel
//! replay waited for (a divergence naming a write "no run gives", from the
//! second recording of the process on). A static `Mutex`, `Condvar` or
//! atomic in the same place replayed. Fixed (a trace's first write waits
//! only for the reads the trace holds: `ReplayLog::within_trace`); reduced
//! in tests/executions_hunt.rs, and the static config here replays.

mod channels;
mod lockfree;
mod locks;
mod threads;
mod timed;

use crate::util::NamedProgram;

/// The set's correct programs, but [`locks::static_config`] (its `static`
/// is shared by every execution of the process).
const CORRECT: [NamedProgram; 12] = [
    ("rw-cache", locks::rw_cache),
    ("gates", locks::gates),
    ("index-stacks", lockfree::index_stacks),
    ("pointer-stack", lockfree::pointer_stack),
    ("stealing", threads::work_stealing),
    ("park-ring", threads::park_ring),
    ("spawn-tree", threads::spawn_tree),
    ("select-merge", channels::select_merge),
    ("reply-to", channels::reply_to),
    ("rendezvous-tries", channels::rendezvous_tries),
    ("token-bucket", timed::token_bucket),
    ("ready-then-take", channels::ready_then_take),
];

/// Recordings per program: more in a release build.
fn runs() -> usize {
    if cfg!(debug_assertions) {
        4
    } else {
        12
    }
}

fn replayed(name: &str, program: fn() -> String) {
    crate::util::transcripts_replayed(name, runs(), program);
}

#[test]
fn rw_cache_replays() {
    replayed("eleventh-rw-cache", locks::rw_cache);
}

#[test]
fn gates_replay() {
    replayed("eleventh-gates", locks::gates);
}

#[test]
fn index_stacks_replay() {
    replayed("eleventh-index-stacks", lockfree::index_stacks);
}

#[test]
fn pointer_stack_replays() {
    replayed("eleventh-pointer-stack", lockfree::pointer_stack);
}

#[test]
fn work_stealing_replays() {
    replayed("eleventh-stealing", threads::work_stealing);
}

#[test]
fn park_ring_replays() {
    replayed("eleventh-park-ring", threads::park_ring);
}

#[test]
fn spawn_tree_replays() {
    replayed("eleventh-spawn-tree", threads::spawn_tree);
}

#[test]
fn select_merge_replays() {
    replayed("eleventh-select-merge", channels::select_merge);
}

#[test]
fn reply_to_replays() {
    replayed("eleventh-reply-to", channels::reply_to);
}

#[test]
fn rendezvous_tries_replay() {
    replayed("eleventh-rendezvous-tries", channels::rendezvous_tries);
}

#[test]
fn token_bucket_replays() {
    replayed("eleventh-token-bucket", timed::token_bucket);
}

#[test]
fn ready_then_take_replays() {
    replayed("eleventh-ready-then-take", channels::ready_then_take);
}

#[test]
fn correct_programs_survive_every_strategy() {
    crate::util::survives_every_strategy("eleventh", &CORRECT, 100, 11);
}

/// Alone among the set's tests to run it, recordings, replays and
/// explorations one after another: README's "a primitive shared by several
/// executions" holds for executions that use the static one at a time.
#[test]
fn static_config_replays_and_survives_every_strategy() {
    replayed("eleventh-static-config", locks::static_config);
    crate::util::survives_every_strategy("eleventh", &[("static-config", locks::static_config)], 100, 11);
}

#[test]
fn torn_ticket_is_found_and_replays() {
    let failure = crate::util::explored_failure("eleventh-torn-ticket", 400, 11, locks::torn_ticket);
    crate::util::replays_to_the_panic("eleventh-torn-ticket", &failure, "planted", 3, locks::torn_ticket);
}

#[test]
fn untagged_stacks_are_found_and_replay() {
    let failure = crate::util::explored_failure("eleventh-untagged", 2000, 11, lockfree::untagged_stacks);
    crate::util::replays_to_the_panic(
        "eleventh-untagged",
        &failure,
        "lost or doubled",
        3,
        lockfree::untagged_stacks,
    );
}

#[test]
fn unchecked_upgrade_is_found_and_replays() {
    let name = "eleventh-unchecked-upgrade";
    let failure = crate::util::explored_failure(name, 400, 11, locks::unchecked_upgrade);
    crate::util::replays_to_the_panic(name, &failure, "planted", 3, locks::unchecked_upgrade);
}

#[test]
fn early_stop_is_found_and_replays() {
    let name = "eleventh-early-stop";
    let failure = crate::util::explored_failure(name, 400, 11, threads::early_stop);
    crate::util::replays_to_the_panic(name, &failure, "planted", 3, threads::early_stop);
}

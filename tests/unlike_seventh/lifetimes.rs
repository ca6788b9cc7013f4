//! Thread lifetimes: a chain of 60 short-lived threads each joining the
//! one before; scopes nested in scoped threads that also spawn on their
//! parent's scope; a `JoinHandle::is_finished` poll with `yield_now`;
//! `unpark` before `park`, on oneself and on a finished thread; a
//! countdown latch on an `Arc<AtomicUsize>` with `spin_loop` beside a
//! `Barrier` of one; a thread never joined while the main thread returns.

use std::sync::Arc;

use reprise::channel;
use reprise::hint;
use reprise::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};
use reprise::sync::{Barrier, Mutex};
use reprise::thread;
use reprise::time::Duration;

use super::{replays, replays_and_varies, replays_to};

// ---------------------------------------------------------------------------
// A chain of joins.

const CHAIN: u32 = 60;

#[test]
fn a_chain_of_sixty_joins_replays_to_its_sum() {
    replays_to("seventh-join-chain", &format!("{} {}", CHAIN * (CHAIN - 1) / 2, CHAIN), join_chain);
}

/// Thread `i` is handed thread `i - 1`'s handle, joins it and returns the
/// sum so far plus `i`; each bumps a shared count before it ends. The main
/// thread joins the last.
pub(super) fn join_chain() -> String {
    let ended = Arc::new(AtomicU32::new(0));
    let mut last: Option<thread::JoinHandle<u32>> = None;
    for i in 0..CHAIN {
        let (before, ended) = (last.take(), Arc::clone(&ended));
        last = Some(thread::spawn(move || {
            let sum = before.map_or(0, |h| h.join().unwrap()) + i;
            ended.fetch_add(1, Ordering::AcqRel);
            sum
        }));
    }
    let sum = last.unwrap().join().unwrap();
    format!("{sum} {}", ended.load(Ordering::Acquire))
}

// ---------------------------------------------------------------------------
// Scopes in scoped threads.

#[test]
fn nested_scopes_replay_to_their_recorded_transcript() {
    replays_and_varies("seventh-nested-scopes", nested_scopes);
}

/// Two scoped threads each spawn two more on the outer scope (a scoped
/// thread spawning on its parent's scope) and open an inner scope whose
/// two threads push under the borrowed log's lock. Eight pushes; the
/// transcript is their order.
pub(super) fn nested_scopes() -> String {
    let log = Mutex::new(Vec::new());
    let count = AtomicU32::new(0);
    thread::scope(|outer| {
        for a in 0..2 {
            let (log, count) = (&log, &count);
            outer.spawn(move || {
                for b in 0..2 {
                    outer.spawn(move || {
                        log.lock().unwrap().push(format!("o{a}{b}"));
                        count.fetch_add(1, Ordering::AcqRel);
                    });
                }
                thread::scope(|inner| {
                    for c in 0..2 {
                        inner.spawn(move || {
                            log.lock().unwrap().push(format!("i{a}{c}"));
                            count.fetch_add(1, Ordering::AcqRel);
                        });
                    }
                });
                // The inner scope joined its own threads, not the outer's.
                let mine = log.lock().unwrap().iter().filter(|e| e.starts_with(&format!("i{a}"))).count();
                assert_eq!(mine, 2, "the inner scope ended before its threads did");
            });
        }
    });
    assert_eq!(count.load(Ordering::Acquire), 8, "the outer scope ended before every thread did");
    log.into_inner().unwrap().join(" ")
}

// ---------------------------------------------------------------------------
// An is_finished poll.

#[test]
fn an_is_finished_poll_replays_to_the_result() {
    replays_to("seventh-is-finished", "42 finished", is_finished_poll);
}

/// A worker sleeps 80 µs and returns 42; the main thread polls
/// `is_finished`, yielding between polls, then joins. A finished thread's
/// `is_finished` stays true.
pub(super) fn is_finished_poll() -> String {
    let worker = thread::spawn(|| {
        thread::sleep(Duration::from_micros(80));
        42u32
    });
    let mut polls = 0u32;
    while !worker.is_finished() {
        polls += 1;
        thread::yield_now();
    }
    let _ = polls;
    let still = if worker.is_finished() { "finished" } else { "unfinished" };
    format!("{} {still}", worker.join().unwrap())
}

// ---------------------------------------------------------------------------
// unpark before park.

#[test]
fn unpark_before_park_replays_to_every_wake() {
    replays_to("seventh-unpark-first", "self woke | woke 3 | finished ok", unpark_first);
}

/// The main thread unparks itself and parks (the token is there: no
/// wait). Then three rounds: the worker says it is ready (an atomic, not a
/// channel: a blocking channel operation parks too, and the token it
/// leaves or takes is the thread's one token, so a program that parks on a
/// bare token beside channel waits can lose its wake-up under std too),
/// yields, and parks until `go`, which the main thread sets before its
/// unpark, is set: the unpark may come before the park (the token makes it
/// return at once) or after. Unparking a finished thread does nothing.
pub(super) fn unpark_first() -> String {
    thread::current().unpark();
    thread::park();
    let ready = Arc::new(AtomicU32::new(0));
    let go = Arc::new(AtomicBool::new(false));
    let woke = Arc::new(AtomicU32::new(0));
    let worker = {
        let (ready, go, woke) = (Arc::clone(&ready), Arc::clone(&go), Arc::clone(&woke));
        thread::spawn(move || {
            for _ in 0..3 {
                ready.fetch_add(1, Ordering::AcqRel);
                // The main thread may unpark before or after this point.
                thread::yield_now();
                while !go.swap(false, Ordering::AcqRel) {
                    thread::park();
                }
                woke.fetch_add(1, Ordering::AcqRel);
            }
        })
    };
    for round in 1..=3 {
        while ready.load(Ordering::Acquire) < round || go.load(Ordering::Acquire) {
            thread::yield_now();
        }
        go.store(true, Ordering::Release);
        worker.thread().unpark();
    }
    let t = worker.thread().clone();
    worker.join().unwrap();
    t.unpark();
    format!("self woke | woke {} | finished ok", woke.load(Ordering::Acquire))
}

// ---------------------------------------------------------------------------
// A countdown latch.

#[test]
fn a_countdown_latch_replays_to_its_recorded_transcript() {
    replays_and_varies("seventh-latch", countdown_latch);
}

/// Four workers each pass a `Barrier` of one (it never waits; each is its
/// own leader) twice, push under a lock and count the latch down; the main
/// thread spins on the latch with `hint::spin_loop` until it reaches zero.
/// The transcript: the pushes' order, then the leaders counted (8).
pub(super) fn countdown_latch() -> String {
    const N: usize = 4;
    let latch = Arc::new(AtomicUsize::new(N));
    let log = Arc::new(Mutex::new(String::new()));
    let leaders = Arc::new(AtomicU32::new(0));
    let workers: Vec<_> = (0..N)
        .map(|w| {
            let (latch, log, leaders) = (Arc::clone(&latch), Arc::clone(&log), Arc::clone(&leaders));
            thread::spawn(move || {
                let alone = Barrier::new(1);
                for _ in 0..2 {
                    if alone.wait().is_leader() {
                        leaders.fetch_add(1, Ordering::AcqRel);
                    }
                }
                log.lock().unwrap().push(char::from(b'a' + w as u8));
                latch.fetch_sub(1, Ordering::AcqRel);
            })
        })
        .collect();
    while latch.load(Ordering::Acquire) != 0 {
        hint::spin_loop();
    }
    let order = log.lock().unwrap().clone();
    assert_eq!(order.len(), N, "the latch opened before every push");
    for h in workers {
        h.join().unwrap();
    }
    format!("{order} {}", leaders.load(Ordering::Acquire))
}

// ---------------------------------------------------------------------------
// A thread never joined.

#[test]
fn a_thread_never_joined_replays_to_what_main_saw() {
    replays("seventh-never-joined", never_joined);
}

/// A detached thread sends three values with a yield between, then sleeps
/// and sends a fourth; the main thread takes the first value and returns
/// without joining. The transcript: the first value (0).
pub(super) fn never_joined() -> String {
    let (tx, rx) = channel::unbounded::<u32>();
    thread::spawn(move || {
        for v in 0..3 {
            let _ = tx.send(v);
            thread::yield_now();
        }
        thread::sleep(Duration::from_micros(50));
        let _ = tx.send(3);
    });
    rx.recv().unwrap().to_string()
}

//! Unwinding inside explored threads: panics caught with `catch_unwind`
//! by threads that go on, with a guard whose `Drop` sends on a channel and
//! takes a lock while its thread unwinds; a `Mutex` poisoned while another
//! thread is blocked on it, and an `RwLock` whose reader panics (no poison,
//! as std) and whose writer panics (poison), recovered with `into_inner`;
//! a `OnceLock::get_or_init` raced by three threads whose first initializer
//! panics; a `LazyLock` and a `Once` whose initializers panic, poisoned for
//! good.

use std::cell::Cell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use reprise::channel;
use reprise::sync::atomic::{AtomicU32, Ordering};
use reprise::sync::{LazyLock, Mutex, Once, OnceLock, RwLock};
use reprise::thread;

use super::{replays_and_varies, replays_to, replays_to_or_stops_unsure};

/// Keeps std's panic message of a planted, caught panic off the test's
/// output: the hook is the process's, so it only filters messages that say
/// "planted".
pub(super) fn quiet_planted_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let planted = info.payload().downcast_ref::<&str>().is_some_and(|m| m.contains("planted"))
                || info.payload().downcast_ref::<String>().is_some_and(|m| m.contains("planted"));
            if !planted {
                previous(info);
            }
        }));
    });
}

// ---------------------------------------------------------------------------
// Panics caught by threads that go on.

/// On drop, notes whether its thread was unwinding. It touches no
/// primitive: a lock or a send while a thread unwinds may stop a coroutine
/// replay unsure whether a thread unwinds (README), and found.rs
/// shows what the explorer makes of one.
struct Farewell<'a>(&'a Cell<Option<bool>>);

impl Drop for Farewell<'_> {
    fn drop(&mut self) {
        self.0.set(Some(thread::panicking()));
    }
}

#[test]
fn panics_caught_by_threads_that_go_on_replay_to_their_count() {
    replays_and_varies("seventh-caught", caught_and_going_on);
}

/// Three workers take items 0..9 from a shared channel; an item divisible
/// by 4 panics (caught) with a `Farewell` alive, which notes that its
/// thread unwinds; after the catch the worker logs the item under a lock
/// and sends the note. The transcript: the log's order (varies) and the
/// count of caught panics, which must be 3 (items 0, 4, 8), with every
/// item's note received once, saying whether it unwound.
pub(super) fn caught_and_going_on() -> String {
    quiet_planted_panics();
    let (work_tx, work_rx) = channel::unbounded::<u32>();
    let (bye_tx, bye_rx) = channel::unbounded::<(u32, bool)>();
    let log = Arc::new(Mutex::new(Vec::new()));
    for i in 0..9 {
        work_tx.send(i).unwrap();
    }
    drop(work_tx);
    let workers: Vec<_> = (0..3)
        .map(|_| {
            let (work_rx, bye_tx, log) = (work_rx.clone(), bye_tx.clone(), Arc::clone(&log));
            thread::spawn(move || {
                let mut caught = 0;
                for item in work_rx.iter() {
                    let note = Cell::new(None);
                    let r = catch_unwind(AssertUnwindSafe(|| {
                        let _bye = Farewell(&note);
                        if item % 4 == 0 {
                            panic!("planted: item {item}");
                        }
                        thread::yield_now();
                    }));
                    caught += u32::from(r.is_err());
                    let unwound = note.get().expect("the farewell was dropped");
                    log.lock().unwrap().push(format!("{item}{}", if unwound { "!" } else { "" }));
                    bye_tx.send((item, unwound)).unwrap();
                }
                caught
            })
        })
        .collect();
    drop(bye_tx);
    let caught: u32 = workers.into_iter().map(|h| h.join().unwrap()).sum();
    let mut byes: Vec<_> = bye_rx.iter().collect();
    byes.sort();
    let expected: Vec<_> = (0..9).map(|i| (i, i % 4 == 0)).collect();
    assert_eq!(byes, expected, "farewells");
    assert_eq!(caught, 3);
    assert!(!log.is_poisoned(), "no guard of the log was held when a panic began");
    let log = log.lock().unwrap();
    format!("{} caught {caught}", log.join(" "))
}

// ---------------------------------------------------------------------------
// Poisoned while waited on.

#[test]
fn locks_poisoned_while_waited_on_replay_to_std_s_answers() {
    replays_to("seventh-poisoned", "m:poisoned 7 r:clean w:poisoned 3", poisoned_while_waited_on);
}

/// A holder takes the mutex, lets a waiter block on it (a yield), sets 7
/// and panics (caught); the waiter's `lock` must say poisoned and give 7
/// through `into_inner`. A reader of an `RwLock` panics: std does not
/// poison on a read panic. A writer sets 3 and panics: poisoned, and a
/// blocked `read` gets 3 through `into_inner`.
pub(super) fn poisoned_while_waited_on() -> String {
    quiet_planted_panics();
    let m = Arc::new(Mutex::new(0u32));
    let held = Arc::new(AtomicU32::new(0));
    let holder = {
        let (m, held) = (Arc::clone(&m), Arc::clone(&held));
        thread::spawn(move || {
            let _ = catch_unwind(AssertUnwindSafe(|| {
                let mut g = m.lock().unwrap();
                held.store(1, Ordering::Release);
                thread::yield_now();
                *g = 7;
                panic!("planted: holding the mutex");
            }));
        })
    };
    while held.load(Ordering::Acquire) == 0 {
        thread::yield_now();
    }
    let m_said = match m.lock() {
        Ok(g) => format!("m:clean {}", *g),
        Err(e) => format!("m:poisoned {}", *e.into_inner()),
    };
    holder.join().unwrap();

    let rw = Arc::new(RwLock::new(0u32));
    let reader = {
        let rw = Arc::clone(&rw);
        thread::spawn(move || {
            let _ = catch_unwind(AssertUnwindSafe(|| {
                let g = rw.read().unwrap();
                thread::yield_now();
                panic!("planted: reading {}", *g);
            }));
        })
    };
    reader.join().unwrap();
    let r_said = if rw.is_poisoned() { "r:poisoned" } else { "r:clean" };
    let writing = Arc::new(AtomicU32::new(0));
    let writer = {
        let (rw, writing) = (Arc::clone(&rw), Arc::clone(&writing));
        thread::spawn(move || {
            let _ = catch_unwind(AssertUnwindSafe(|| {
                let mut g = rw.write().unwrap();
                writing.store(1, Ordering::Release);
                thread::yield_now();
                *g = 3;
                panic!("planted: writing");
            }));
        })
    };
    while writing.load(Ordering::Acquire) == 0 {
        thread::yield_now();
    }
    let w_said = match rw.read() {
        Ok(g) => format!("w:clean {}", *g),
        Err(e) => format!("w:poisoned {}", *e.into_inner()),
    };
    writer.join().unwrap();
    format!("{m_said} {r_said} {w_said}")
}

// ---------------------------------------------------------------------------
// A OnceLock whose first initializer panics.

#[test]
fn a_once_lock_whose_first_initializer_panics_replays_to_one_value() {
    replays_to_or_stops_unsure(
        "seventh-once-panics",
        "1 1 1 | panicked 1 | attempts 2",
        once_lock_panicking_init,
    );
}

/// Three threads race `get_or_init`; the first attempt panics (caught by
/// its thread, which then asks again), which std says leaves the cell
/// empty for the next caller. Every caller gets the second attempt's
/// value, 1, and there are exactly two attempts.
pub(super) fn once_lock_panicking_init() -> String {
    quiet_planted_panics();
    let cell = Arc::new(OnceLock::new());
    let attempts = Arc::new(AtomicU32::new(0));
    let racers: Vec<_> = (0..3)
        .map(|_| {
            let (cell, attempts) = (Arc::clone(&cell), Arc::clone(&attempts));
            thread::spawn(move || {
                let init = || {
                    let n = attempts.fetch_add(1, Ordering::AcqRel);
                    thread::yield_now();
                    if n == 0 {
                        panic!("planted: first initializer");
                    }
                    n
                };
                match catch_unwind(AssertUnwindSafe(|| *cell.get_or_init(init))) {
                    Ok(v) => (v, 0),
                    Err(_) => (*cell.get_or_init(|| attempts.fetch_add(1, Ordering::AcqRel)), 1),
                }
            })
        })
        .collect();
    let results: Vec<(u32, u32)> = racers.into_iter().map(|h| h.join().unwrap()).collect();
    let values: Vec<_> = results.iter().map(|r| r.0.to_string()).collect();
    let panicked: u32 = results.iter().map(|r| r.1).sum();
    format!("{} | panicked {panicked} | attempts {}", values.join(" "), attempts.load(Ordering::Acquire))
}

// ---------------------------------------------------------------------------
// A LazyLock and a Once poisoned for good.

#[test]
fn a_lazy_lock_and_a_once_poisoned_replay_to_std_s_answers() {
    replays_to_or_stops_unsure(
        "seventh-lazy-once",
        "lazy 3 panics | once poisoned, forced 1",
        lazy_and_once_poisoned,
    );
}

/// Three threads touch a `LazyLock` whose initializer panics: std poisons
/// it, so every access panics (each caught). Then a `Once` whose
/// `call_once` panics is poisoned: `is_completed` is false and
/// `call_once_force` sees `is_poisoned`, runs once and completes it.
pub(super) fn lazy_and_once_poisoned() -> String {
    quiet_planted_panics();
    let lazy: Arc<LazyLock<u32>> = Arc::new(LazyLock::new(|| {
        thread::yield_now();
        panic!("planted: lazy initializer")
    }));
    let touchers: Vec<_> = (0..3)
        .map(|_| {
            let lazy = Arc::clone(&lazy);
            thread::spawn(move || u32::from(catch_unwind(AssertUnwindSafe(|| **lazy)).is_err()))
        })
        .collect();
    let panics: u32 = touchers.into_iter().map(|h| h.join().unwrap()).sum();
    let once = Arc::new(Once::new());
    let first = {
        let once = Arc::clone(&once);
        thread::spawn(move || {
            let _ = catch_unwind(AssertUnwindSafe(|| once.call_once(|| panic!("planted: once"))));
        })
    };
    first.join().unwrap();
    assert!(!once.is_completed());
    let forced = Arc::new(AtomicU32::new(0));
    let forcers: Vec<_> = (0..2)
        .map(|_| {
            let (once, forced) = (Arc::clone(&once), Arc::clone(&forced));
            thread::spawn(move || {
                once.call_once_force(|state| {
                    assert!(state.is_poisoned(), "a forced call after a panic sees the poison");
                    forced.fetch_add(1, Ordering::AcqRel);
                })
            })
        })
        .collect();
    for h in forcers {
        h.join().unwrap();
    }
    assert!(once.is_completed());
    format!("lazy {panics} panics | once poisoned, forced {}", forced.load(Ordering::Acquire))
}

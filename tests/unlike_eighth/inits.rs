//! Initializers and recovery: a `OnceLock` whose first two initializers
//! panic, retried by three threads until one succeeds; a `Once` raced by
//! three threads whose initializer panics, then forced; a `LazyLock` whose
//! initializer panics holding a lock; a `Mutex` and an `RwLock` poisoned by
//! a caught panic and recovered with `clear_poison` and `into_inner`; and
//! `reprise::thread_local!` destructors that catch a panic of their own.

use std::cell::RefCell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use reprise::channel::{self, Sender};
use reprise::sync::atomic::{AtomicU32, Ordering};
use reprise::sync::{LazyLock, Mutex, Once, OnceLock, RwLock};
use reprise::thread;

use super::{replays_to, STAGED};

// ---------------------------------------------------------------------------
// A OnceLock retried after two panics.

#[test]
fn a_once_lock_retried_after_two_panics_replays_to_std_s_answer() {
    replays_to("eighth-once-lock-retried", "[2, 2, 2] failures 2 attempts 3", true, once_lock_retried);
}

/// Three threads call `get_or_init` until it returns; attempts 0 and 1
/// panic (each caught by its thread, which tries again). std runs one
/// initializer at a time and leaves the cell empty after a panic: exactly
/// three attempts, two failures, and everyone gets 2.
pub(super) fn once_lock_retried() -> String {
    let cell = Arc::new(OnceLock::new());
    let attempts = Arc::new(AtomicU32::new(0));
    let threads: Vec<_> = (0..3)
        .map(|_| {
            let (cell, attempts) = (Arc::clone(&cell), Arc::clone(&attempts));
            thread::spawn(move || {
                let mut failures = 0u32;
                loop {
                    let r = catch_unwind(AssertUnwindSafe(|| {
                        *cell.get_or_init(|| {
                            let n = attempts.fetch_add(1, Ordering::AcqRel);
                            thread::yield_now();
                            if n < 2 {
                                panic!("{STAGED}: attempt {n}");
                            }
                            n
                        })
                    }));
                    match r {
                        Ok(v) => return (v, failures),
                        Err(p) if super::says(p.as_ref(), STAGED) => failures += 1,
                        // Not its own (a replay's teardown): it goes on.
                        Err(p) => std::panic::resume_unwind(p),
                    }
                }
            })
        })
        .collect();
    let results: Vec<(u32, u32)> = threads.into_iter().map(|h| h.join().unwrap()).collect();
    let values: Vec<u32> = results.iter().map(|r| r.0).collect();
    let failures: u32 = results.iter().map(|r| r.1).sum();
    format!("{values:?} failures {failures} attempts {}", attempts.load(Ordering::Acquire))
}

// ---------------------------------------------------------------------------
// A Once raced into poison, then forced.

#[test]
fn a_once_raced_into_poison_then_forced_replays_to_std_s_answer() {
    replays_to(
        "eighth-once-raced",
        "panicked 3, ran 1, forced Some(true), completed true",
        true,
        once_raced_into_poison,
    );
}

/// Three threads race `call_once` with an initializer that panics: std
/// runs it once, and every caller panics (the runner with its own panic;
/// one waiting or coming later because the `Once` is poisoned), each
/// caught. Then `call_once_force` runs, told it is poisoned, and completes.
pub(super) fn once_raced_into_poison() -> String {
    let once = Arc::new(Once::new());
    let ran = Arc::new(AtomicU32::new(0));
    let threads: Vec<_> = (0..3)
        .map(|_| {
            let (once, ran) = (Arc::clone(&once), Arc::clone(&ran));
            thread::spawn(move || {
                let r = catch_unwind(AssertUnwindSafe(|| {
                    once.call_once(|| {
                        ran.fetch_add(1, Ordering::AcqRel);
                        thread::yield_now();
                        panic!("{STAGED}: once");
                    })
                }));
                u32::from(r.is_err())
            })
        })
        .collect();
    let panicked: u32 = threads.into_iter().map(|h| h.join().unwrap()).sum();
    let mut forced = None;
    once.call_once_force(|state| forced = Some(state.is_poisoned()));
    format!(
        "panicked {panicked}, ran {}, forced {forced:?}, completed {}",
        ran.load(Ordering::Acquire),
        once.is_completed()
    )
}

// ---------------------------------------------------------------------------
// A LazyLock whose initializer panics holding a lock.

#[test]
fn a_lazy_lock_panicking_with_a_lock_held_replays_to_std_s_answer() {
    replays_to("eighth-lazy", "panics 3, inits 1, poisoned true, value 1", true, lazy_poisoned_for_good);
}

/// Three threads touch a `LazyLock` whose initializer takes a lock (which
/// a fourth thread takes too), adds 1 and panics holding it: std poisons
/// the lock and the `LazyLock`; every touch panics (caught), and the
/// initializer ran once.
pub(super) fn lazy_poisoned_for_good() -> String {
    let m = Arc::new(Mutex::new(0u32));
    let inits = Arc::new(AtomicU32::new(0));
    let lazy: Arc<LazyLock<u32, Box<dyn FnOnce() -> u32 + Send>>> = {
        let (m, inits) = (Arc::clone(&m), Arc::clone(&inits));
        Arc::new(LazyLock::new(Box::new(move || {
            inits.fetch_add(1, Ordering::AcqRel);
            let mut g = m.lock().unwrap();
            *g += 1;
            thread::yield_now();
            panic!("{STAGED}: lazy initializer");
        })))
    };
    let other = {
        let m = Arc::clone(&m);
        thread::spawn(move || {
            let g = m.lock().unwrap_or_else(|e| e.into_inner());
            thread::yield_now();
            drop(g);
        })
    };
    let touchers: Vec<_> = (0..3)
        .map(|_| {
            let lazy = Arc::clone(&lazy);
            thread::spawn(move || u32::from(catch_unwind(AssertUnwindSafe(|| **lazy)).is_err()))
        })
        .collect();
    let panics: u32 = touchers.into_iter().map(|h| h.join().unwrap()).sum();
    other.join().unwrap();
    let poisoned = m.is_poisoned();
    let value = *m.lock().unwrap_or_else(|e| e.into_inner());
    format!("panics {panics}, inits {}, poisoned {poisoned}, value {value}", inits.load(Ordering::Acquire))
}

// ---------------------------------------------------------------------------
// Poison recovered.

#[test]
fn locks_poisoned_and_recovered_replay_to_std_s_answer() {
    replays_to("eighth-poison-recovered", "count 12, rw 6, poisoned (false, false)", false, poison_recovered);
}

/// Three workers each add 1 four times to a `Mutex`, and twice to an
/// `RwLock`; worker 0 panics (caught) holding each after its addition the
/// second time. Whoever finds a lock poisoned clears the poison and goes on
/// with `into_inner`. std: every addition counts, and once worker 0 has
/// found its own poison on its next turn, neither lock is poisoned.
pub(super) fn poison_recovered() -> String {
    let m = Arc::new(Mutex::new(0u32));
    let rw = Arc::new(RwLock::new(0u32));
    let workers: Vec<_> = (0..3u32)
        .map(|w| {
            let (m, rw) = (Arc::clone(&m), Arc::clone(&rw));
            thread::spawn(move || {
                for i in 0..4 {
                    let _ = catch_unwind(AssertUnwindSafe(|| {
                        let mut g = m.lock().unwrap_or_else(|e| {
                            m.clear_poison();
                            e.into_inner()
                        });
                        *g += 1;
                        thread::yield_now();
                        if w == 0 && i == 1 {
                            panic!("{STAGED}: holding the mutex");
                        }
                    }));
                    if i < 2 {
                        let _ = catch_unwind(AssertUnwindSafe(|| {
                            let mut g = rw.write().unwrap_or_else(|e| {
                                rw.clear_poison();
                                e.into_inner()
                            });
                            *g += 1;
                            if w == 0 && i == 0 {
                                panic!("{STAGED}: holding the write lock");
                            }
                        }));
                    }
                }
            })
        })
        .collect();
    for h in workers {
        h.join().unwrap();
    }
    // Worker 0 wrote the RwLock last when it panicked unless a later writer
    // cleared it: a read recovers either way, and the poison is cleared.
    let rw_value = *rw.read().unwrap_or_else(|e| e.into_inner());
    rw.clear_poison();
    let poisoned = (m.is_poisoned(), rw.is_poisoned());
    format!("count {}, rw {rw_value}, poisoned {poisoned:?}", *m.lock().unwrap())
}

// ---------------------------------------------------------------------------
// Thread-local destructors that catch a panic.

/// Logs under a lock and, for thread 1, panics (caught) in its destructor;
/// then says whether it caught one.
struct Farewell {
    k: u32,
    log: Arc<Mutex<Vec<u32>>>,
    tx: Sender<(u32, bool)>,
}

impl Drop for Farewell {
    fn drop(&mut self) {
        let k = self.k;
        let r = catch_unwind(AssertUnwindSafe(|| {
            self.log.lock().unwrap().push(k);
            if k == 1 {
                panic!("{STAGED}: in a thread-local destructor");
            }
        }));
        self.tx.send((k, r.is_err())).unwrap();
    }
}

reprise::thread_local! {
    static FAREWELL: RefCell<Option<Farewell>> = const { RefCell::new(None) };
}

#[test]
fn thread_local_destructors_that_catch_a_panic_replay_to_std_s_answer() {
    replays_to(
        "eighth-tls",
        "[(0, false), (1, true), (2, false)] log [0, 1, 2] poisoned false",
        false,
        thread_local_destructors,
    );
}

/// Three threads each set a `Farewell` in a thread-local and return; their
/// destructors run as the threads end (inside the execution, reprise's
/// README), thread 1's panicking inside its own `catch_unwind`.
pub(super) fn thread_local_destructors() -> String {
    let log = Arc::new(Mutex::new(Vec::new()));
    let (tx, rx) = channel::unbounded();
    let threads: Vec<_> = (0..3u32)
        .map(|k| {
            let (log, tx) = (Arc::clone(&log), tx.clone());
            thread::spawn(move || {
                FAREWELL.with(|f| *f.borrow_mut() = Some(Farewell { k, log, tx }));
                thread::yield_now();
            })
        })
        .collect();
    drop(tx);
    for h in threads {
        h.join().unwrap();
    }
    let mut said: Vec<(u32, bool)> = rx.iter().collect();
    said.sort();
    let poisoned = log.is_poisoned();
    let mut log = log.lock().unwrap().clone();
    log.sort();
    format!("{said:?} log {log:?} poisoned {poisoned}")
}

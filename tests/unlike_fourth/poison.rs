//! Poisoned locks recovered the way std's docs show: workers append to a
//! shared journal; the one that takes the third entry panics while holding
//! the lock; the others go on with `PoisonError::into_inner`, a repairer
//! fixes the journal and calls `clear_poison`; a waiter sits in
//! `Condvar::wait_timeout_while` on the mutex that gets poisoned; an
//! `RwLock` is poisoned by a writer inside `catch_unwind` and read after.

use std::fmt::Write as _;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, PoisonError};

use reprise::sync::{Condvar, Mutex, RwLock};
use reprise::thread;
use reprise::time::Duration;

use super::replays_and_varies;

#[test]
fn poisoned_locks_recovered_and_cleared_replay_to_their_recorded_transcript() {
    replays_and_varies("fourth-poison", journal);
}

struct Journal {
    entries: Vec<String>,
    /// Set by the thread that panicked mid-append; the repairer drops the
    /// half-written entry.
    torn: bool,
}

pub(super) fn journal() -> String {
    let shared = Arc::new((Mutex::new(Journal { entries: Vec::new(), torn: false }), Condvar::new()));
    let workers: Vec<_> = (0..3)
        .map(|w| {
            let shared = Arc::clone(&shared);
            thread::spawn(move || {
                let (lock, cvar) = &*shared;
                let mut seen_poison = 0;
                for i in 0..3 {
                    let appended = catch_unwind(AssertUnwindSafe(|| {
                        let mut journal = lock.lock().unwrap_or_else(|e| {
                            seen_poison += 1;
                            e.into_inner()
                        });
                        journal.entries.push(format!("w{w}.{i}"));
                        if journal.entries.len() == 3 {
                            journal.torn = true;
                            panic!("torn write by w{w}");
                        }
                    }));
                    cvar.notify_all();
                    if appended.is_err() {
                        return format!("w{w}:panicked");
                    }
                }
                format!("w{w}:saw-poison-{}", seen_poison.min(1))
            })
        })
        .collect();
    // Waits for eight entries (one worker stops at its panic), with a long
    // timeout as the backstop; the mutex is likely poisoned meanwhile.
    let waiter = {
        let shared = Arc::clone(&shared);
        thread::spawn(move || {
            let (lock, cvar) = &*shared;
            let guard = lock.lock().unwrap_or_else(PoisonError::into_inner);
            let (journal, timeout) = cvar
                .wait_timeout_while(guard, Duration::from_secs(30), |j| j.entries.len() < 7)
                .unwrap_or_else(PoisonError::into_inner);
            format!(
                "waiter:{}{}",
                journal.entries.len() >= 7,
                if timeout.timed_out() { "/timed-out" } else { "" }
            )
        })
    };
    let mut out = String::new();
    for worker in workers {
        let _ = write!(out, "{} ", worker.join().unwrap());
    }
    let _ = write!(out, "{} ", waiter.join().unwrap());
    let (lock, _) = &*shared;
    assert!(lock.is_poisoned());
    {
        let mut journal = lock.lock().unwrap_or_else(PoisonError::into_inner);
        if journal.torn {
            let torn = journal.entries.remove(2);
            let _ = write!(out, "repaired {torn}; ");
            journal.torn = false;
        }
    }
    lock.clear_poison();
    assert!(!lock.is_poisoned());
    let journal = lock.lock().expect("cleared");
    let _ = write!(out, "{} ", journal.entries.join(","));
    drop(journal);

    // An RwLock poisoned by a writer that panics inside catch_unwind, read
    // by racing readers that note whether they saw it poisoned.
    let table = Arc::new(RwLock::new(0u32));
    let writer = {
        let table = Arc::clone(&table);
        thread::spawn(move || {
            let _ = catch_unwind(AssertUnwindSafe(|| {
                let mut value = table.write().unwrap();
                *value += 1;
                panic!("writer gives up");
            }));
        })
    };
    let reader = {
        let table = Arc::clone(&table);
        thread::spawn(move || match table.read() {
            Ok(value) => format!("clean:{}", *value),
            Err(poisoned) => format!("poisoned:{}", *poisoned.into_inner()),
        })
    };
    writer.join().unwrap();
    let _ = write!(out, "{}", reader.join().unwrap());
    table.clear_poison();
    assert_eq!(*table.read().unwrap(), 1);
    out
}

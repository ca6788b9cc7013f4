//! Locks taken without blocking: dining philosophers who take their left
//! fork with `lock` and their right with `try_lock`, putting the left one
//! back and calling `yield_now` when the right is taken (lock-ordering
//! avoidance instead of a global order); spin locks of our own on an
//! `AtomicBool` over plain memory (`UnsafeCell`), one test-and-test-and-set
//! on `swap`, one on `compare_exchange`, both spinning with
//! `hint::spin_loop` and never yielding; and an `RwLock` polled by
//! `try_read` readers and a `try_write` writer that count their misses.

use std::cell::UnsafeCell;
use std::fmt::Write as _;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;

use reprise::hint;
use reprise::sync::atomic::{AtomicBool, Ordering};
use reprise::sync::{Mutex, RwLock, TryLockError};
use reprise::thread;

use super::replays_and_varies;

// ---------------------------------------------------------------------------
// Dining philosophers with try_lock back-off.

#[test]
fn philosophers_backing_off_with_try_lock_replay_to_their_transcript() {
    replays_and_varies("sixth-philosophers", philosophers);
}

/// Five philosophers, five forks; each eats six meals. Every one takes
/// the fork on the left first, which deadlocks with `lock` on both; with
/// `try_lock` on the right, a philosopher puts the left fork back and
/// yields. The transcript is the order of meals and each one's back-offs.
pub(super) fn philosophers() -> String {
    const N: usize = 5;
    const MEALS: u32 = 6;
    let forks: Arc<Vec<Mutex<u32>>> = Arc::new((0..N).map(|_| Mutex::new(0)).collect());
    let meals = Arc::new(Mutex::new(String::new()));
    let diners: Vec<_> = (0..N)
        .map(|p| {
            let (forks, meals) = (Arc::clone(&forks), Arc::clone(&meals));
            thread::spawn(move || {
                let mut backoffs = 0u32;
                let mut eaten = 0;
                while eaten < MEALS {
                    let mut left = forks[p].lock().unwrap();
                    let mut right = match forks[(p + 1) % N].try_lock() {
                        Ok(right) => right,
                        Err(TryLockError::WouldBlock) => {
                            drop(left);
                            backoffs += 1;
                            thread::yield_now();
                            continue;
                        }
                        Err(TryLockError::Poisoned(e)) => panic!("a fork poisoned: {e}"),
                    };
                    *left += 1;
                    *right += 1;
                    meals.lock().unwrap().push(char::from(b'A' + p as u8));
                    eaten += 1;
                    drop(right);
                    drop(left);
                }
                backoffs
            })
        })
        .collect();
    let backoffs: Vec<u32> = diners.into_iter().map(|h| h.join().unwrap()).collect();
    let uses: Vec<u32> = forks.iter().map(|f| *f.lock().unwrap()).collect();
    assert!(uses.iter().all(|&u| u == 2 * MEALS), "each fork served two diners' meals: {uses:?}");
    let meals = meals.lock().unwrap().clone();
    assert_eq!(meals.len(), N * MEALS as usize);
    format!("{meals} backoffs {backoffs:?}")
}

// ---------------------------------------------------------------------------
// Spin locks of our own.

/// A spin lock over plain memory: `cas` picks `compare_exchange` for the
/// acquiring step instead of `swap`. Both spin on a relaxed load with
/// `hint::spin_loop` while the lock is held, never yielding.
pub(super) struct SpinLock<T> {
    locked: AtomicBool,
    cas: bool,
    data: UnsafeCell<T>,
}

// SAFETY: the data is reached only through a guard, which the lock hands
// to one thread at a time.
unsafe impl<T: Send> Sync for SpinLock<T> {}

pub(super) struct SpinGuard<'a, T> {
    lock: &'a SpinLock<T>,
}

impl<T> SpinLock<T> {
    pub(super) fn new(data: T, cas: bool) -> SpinLock<T> {
        SpinLock { locked: AtomicBool::new(false), cas, data: UnsafeCell::new(data) }
    }

    pub(super) fn lock(&self) -> SpinGuard<'_, T> {
        self.lock_counting().0
    }

    /// Takes the lock; also says how often it found it taken.
    pub(super) fn lock_counting(&self) -> (SpinGuard<'_, T>, u32) {
        let mut taken = 0;
        loop {
            let won = if self.cas {
                self.locked.compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed).is_ok()
            } else {
                !self.locked.swap(true, Ordering::Acquire)
            };
            if won {
                return (SpinGuard { lock: self }, taken);
            }
            taken += 1;
            while self.locked.load(Ordering::Relaxed) {
                hint::spin_loop();
            }
        }
    }

    /// The planted bug's acquisition: a check, then a separate store.
    pub(super) fn lock_check_then_set(&self) -> SpinGuard<'_, T> {
        while self.locked.load(Ordering::Acquire) {
            hint::spin_loop();
        }
        self.locked.store(true, Ordering::Relaxed);
        SpinGuard { lock: self }
    }
}

impl<T> Deref for SpinGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard holds the lock.
        unsafe { &*self.lock.data.get() }
    }
}

impl<T> DerefMut for SpinGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the guard holds the lock.
        unsafe { &mut *self.lock.data.get() }
    }
}

impl<T> Drop for SpinGuard<'_, T> {
    fn drop(&mut self) {
        self.lock.locked.store(false, Ordering::Release);
    }
}

#[test]
fn spin_locks_on_swap_and_compare_exchange_replay_to_their_transcript() {
    replays_and_varies("sixth-spin", spin_locks);
}

/// Three threads append to a journal behind the `swap` lock and bump a
/// tally behind the `compare_exchange` lock, eight rounds each, taking the
/// second while holding the first every other round (always in that
/// order). The transcript: the journal, the tally, and how often each
/// thread found a lock taken.
pub(super) fn spin_locks() -> String {
    let journal = Arc::new(SpinLock::new(String::new(), false));
    let tally = Arc::new(SpinLock::new(Vec::<u32>::new(), true));
    let workers: Vec<_> = (0..3u32)
        .map(|w| {
            let (journal, tally) = (Arc::clone(&journal), Arc::clone(&tally));
            thread::spawn(move || {
                let mut found_taken = 0;
                for round in 0..8u32 {
                    let (mut j, taken) = journal.lock_counting();
                    found_taken += taken;
                    j.push(char::from(b'a' + w as u8));
                    if round % 2 == 0 {
                        let (mut t, taken) = tally.lock_counting();
                        found_taken += taken;
                        let last = t.last().copied().unwrap_or(0);
                        t.push(last * 3 + w);
                    }
                    drop(j);
                    let (mut t, taken) = tally.lock_counting();
                    found_taken += taken;
                    let len = t.len() as u32;
                    t.push(len + 10 * w);
                }
                found_taken
            })
        })
        .collect();
    let found_taken: Vec<u32> = workers.into_iter().map(|h| h.join().unwrap()).collect();
    let journal = journal.lock().clone();
    let tally = tally.lock().clone();
    assert_eq!(journal.len(), 24);
    assert_eq!(tally.len(), 36);
    format!("{journal} {tally:?} {found_taken:?}")
}

// ---------------------------------------------------------------------------
// An RwLock polled with try_read and try_write.

#[test]
fn an_rwlock_polled_with_try_read_and_try_write_replays_to_its_transcript() {
    replays_and_varies("sixth-rw-try", rw_try);
}

/// A writer publishes six versions of a config with `try_write`,
/// spinning (then yielding) while readers hold it; three readers poll with
/// `try_read` until they see the last version, noting every version they
/// saw and how often the lock was busy.
pub(super) fn rw_try() -> String {
    const LAST: u32 = 6;
    let config = Arc::new(RwLock::new(vec![0u32]));
    let readers: Vec<_> = (0..3)
        .map(|_| {
            let config = Arc::clone(&config);
            thread::spawn(move || {
                let mut seen = Vec::new();
                let mut busy = 0u32;
                loop {
                    let version = match config.try_read() {
                        Ok(c) => {
                            assert_eq!(c.len() as u32, c.last().unwrap() + 1, "a half-written config");
                            *c.last().unwrap()
                        }
                        Err(TryLockError::WouldBlock) => {
                            busy += 1;
                            thread::yield_now();
                            continue;
                        }
                        Err(TryLockError::Poisoned(e)) => panic!("{e}"),
                    };
                    if seen.last() != Some(&version) {
                        seen.push(version);
                    }
                    if version == LAST {
                        return (seen, busy);
                    }
                    thread::yield_now();
                }
            })
        })
        .collect();
    let mut writer_busy = 0u32;
    for v in 1..=LAST {
        let mut spins = 0u32;
        let mut c = loop {
            match config.try_write() {
                Ok(c) => break c,
                Err(TryLockError::WouldBlock) => {
                    spins += 1;
                    if spins.is_multiple_of(4) {
                        thread::yield_now();
                    } else {
                        hint::spin_loop();
                    }
                }
                Err(TryLockError::Poisoned(e)) => panic!("{e}"),
            }
        };
        c.push(v);
        drop(c);
        writer_busy += spins;
        thread::yield_now();
    }
    let mut out = String::new();
    for h in readers {
        let (seen, busy) = h.join().unwrap();
        let _ = write!(out, "{seen:?}/{busy} ");
    }
    let _ = write!(out, "w{writer_busy}");
    out
}

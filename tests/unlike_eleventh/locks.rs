//! Lock-built programs: a read-mostly cache on an `RwLock` upgraded by
//! drop-and-relock (`try_write` first) and downgraded after a fill; a
//! config in a `static RwLock` bumped by a writer while readers poll it;
//! a counting semaphore of a `Mutex` and a `Condvar` (`wait_timeout_while`)
//! beside a ticket lock of two atomics.

use std::collections::BTreeMap;
use std::sync::Arc;

use reprise::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use reprise::sync::{Condvar, Mutex, RwLock, RwLockWriteGuard, TryLockError};
use reprise::thread;
use reprise::time::Duration;

/// Three readers look keys up in a cache; a miss drops the read guard,
/// takes the write lock (`try_write`, else `write`), re-checks, fills, and
/// downgrades to read the size. The main thread invalidates two keys.
pub(crate) fn rw_cache() -> String {
    let cache = Arc::new(RwLock::new(BTreeMap::<u32, u64>::new()));
    let fills = Arc::new(AtomicU32::new(0));
    let workers: Vec<_> = (0..3u32)
        .map(|w| {
            let (cache, fills) = (Arc::clone(&cache), Arc::clone(&fills));
            thread::spawn(move || {
                let (mut hits, mut quick, mut sum, mut widest) = (0u32, 0u32, 0u64, 0usize);
                for i in 0..8u32 {
                    let key = (i * (w + 1)) % 5;
                    if let Some(v) = cache.read().unwrap().get(&key) {
                        hits += 1;
                        sum += v;
                        continue;
                    }
                    let mut write = match cache.try_write() {
                        Ok(g) => {
                            quick += 1;
                            g
                        }
                        Err(TryLockError::WouldBlock) => cache.write().unwrap(),
                        Err(TryLockError::Poisoned(_)) => unreachable!("no writer panics"),
                    };
                    let v = *write.entry(key).or_insert_with(|| {
                        fills.fetch_add(1, Ordering::Relaxed);
                        u64::from(key) * 100 + 7
                    });
                    let read = RwLockWriteGuard::downgrade(write);
                    sum += v;
                    widest = widest.max(read.len());
                }
                (hits, quick, sum, widest)
            })
        })
        .collect();
    for key in [1, 3] {
        thread::yield_now();
        cache.write().unwrap().remove(&key);
    }
    let per: Vec<_> = workers.into_iter().map(|h| h.join().unwrap()).collect();
    let keys: Vec<u32> = cache.read().unwrap().keys().copied().collect();
    format!("per {per:?}, fills {}, keys {keys:?}", fills.load(Ordering::Relaxed))
}

/// A config of (version, values) in a `static`, reset by the main thread
/// (statics outlive an execution); a writer bumps it three times, three
/// readers poll it until they have seen the last version, counting the
/// versions they saw.
pub(crate) fn static_config() -> String {
    static CONFIG: RwLock<(u32, Vec<u32>)> = RwLock::new((0, Vec::new()));
    *CONFIG.write().unwrap() = (0, Vec::new());
    let readers: Vec<_> = (0..3)
        .map(|_| {
            thread::spawn(|| {
                let mut seen = Vec::new();
                loop {
                    let (version, len) = {
                        let c = CONFIG.read().unwrap();
                        (c.0, c.1.len())
                    };
                    assert_eq!(version as usize, len, "a torn config");
                    if seen.last() != Some(&version) {
                        seen.push(version);
                    }
                    if version == 3 {
                        return seen.len();
                    }
                    thread::yield_now();
                }
            })
        })
        .collect();
    let writer = thread::spawn(|| {
        for v in 1..=3u32 {
            let mut c = CONFIG.write().unwrap();
            c.0 = v;
            c.1.push(v * 10);
            drop(c);
            thread::yield_now();
        }
    });
    writer.join().unwrap();
    let seen: Vec<usize> = readers.into_iter().map(|h| h.join().unwrap()).collect();
    let sum: u32 = CONFIG.read().unwrap().1.iter().sum();
    format!("versions seen {seen:?}, sum {sum}")
}

/// A counting semaphore: a `Mutex<usize>` of free permits and a `Condvar`.
struct Semaphore {
    free: Mutex<usize>,
    freed: Condvar,
}

impl Semaphore {
    /// Takes a permit, waiting at most `patience` each time; returns how
    /// many waits timed out first.
    fn acquire(&self, patience: Duration) -> u32 {
        let mut timeouts = 0;
        loop {
            let guard = self.free.lock().unwrap();
            let (mut guard, timed) = self.freed.wait_timeout_while(guard, patience, |n| *n == 0).unwrap();
            if !timed.timed_out() || *guard > 0 {
                *guard -= 1;
                return timeouts;
            }
            timeouts += 1;
        }
    }

    fn release(&self) {
        *self.free.lock().unwrap() += 1;
        self.freed.notify_one();
    }
}

/// Five threads share two permits (one waits with a short patience and
/// retries on timeouts); inside, they take a ticket lock (`fetch_add` a
/// ticket, spin until served) to append to a log. The most threads ever
/// inside the semaphore at once must be at most two.
pub(crate) fn gates() -> String {
    let sem = Arc::new(Semaphore { free: Mutex::new(2), freed: Condvar::new() });
    let inside = Arc::new(AtomicUsize::new(0));
    let most = Arc::new(AtomicUsize::new(0));
    let tickets = Arc::new((AtomicUsize::new(0), AtomicUsize::new(0)));
    let log = Arc::new(Mutex::new(Vec::new()));
    let threads: Vec<_> = (0..5usize)
        .map(|t| {
            let (sem, inside, most) = (Arc::clone(&sem), Arc::clone(&inside), Arc::clone(&most));
            let (tickets, log) = (Arc::clone(&tickets), Arc::clone(&log));
            thread::spawn(move || {
                let patience = if t == 0 { Duration::from_millis(1) } else { Duration::from_secs(30) };
                let mut timeouts = 0;
                for _ in 0..2 {
                    timeouts += sem.acquire(patience);
                    let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    let mine = tickets.0.fetch_add(1, Ordering::Relaxed);
                    while tickets.1.load(Ordering::Acquire) != mine {
                        reprise::hint::spin_loop();
                        thread::yield_now();
                    }
                    log.lock().unwrap().push((mine, t));
                    tickets.1.store(mine + 1, Ordering::Release);
                    inside.fetch_sub(1, Ordering::SeqCst);
                    sem.release();
                }
                timeouts
            })
        })
        .collect();
    let timeouts: Vec<u32> = threads.into_iter().map(|h| h.join().unwrap()).collect();
    let most = most.load(Ordering::SeqCst);
    assert!(most <= 2, "{most} threads inside a semaphore of two");
    let log = log.lock().unwrap();
    assert!(log.iter().enumerate().all(|(i, &(ticket, _))| i == ticket), "tickets out of order: {log:?}");
    let order: Vec<usize> = log.iter().map(|&(_, t)| t).collect();
    format!("order {order:?}, most {most}, free {}, timeouts {timeouts:?}", sem.free.lock().unwrap())
}

/// Planted: a ticket lock whose ticket is a load then a store, not a
/// `fetch_add`: two threads can draw one ticket and both get in.
pub(crate) fn torn_ticket() {
    let tickets = Arc::new((AtomicUsize::new(0), AtomicUsize::new(0)));
    let holding = Arc::new(AtomicUsize::new(0));
    let threads: Vec<_> = (0..2)
        .map(|_| {
            let (tickets, holding) = (Arc::clone(&tickets), Arc::clone(&holding));
            thread::spawn(move || {
                let mine = tickets.0.load(Ordering::Acquire);
                tickets.0.store(mine + 1, Ordering::Release);
                while tickets.1.load(Ordering::Acquire) < mine {
                    thread::yield_now();
                }
                let others = holding.fetch_add(1, Ordering::SeqCst);
                assert_eq!(others, 0, "planted: two threads hold the ticket lock");
                holding.fetch_sub(1, Ordering::SeqCst);
                tickets.1.fetch_add(1, Ordering::Release);
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
}

/// Planted: the cache's upgrade without the re-check under the write lock:
/// two readers that miss one key both fill it.
pub(crate) fn unchecked_upgrade() {
    let cache = Arc::new(RwLock::new(BTreeMap::<u32, u64>::new()));
    let fills = Arc::new(AtomicU32::new(0));
    let readers: Vec<_> = (0..2)
        .map(|_| {
            let (cache, fills) = (Arc::clone(&cache), Arc::clone(&fills));
            thread::spawn(move || {
                let hit = cache.read().unwrap().get(&1).copied();
                if hit.is_none() {
                    fills.fetch_add(1, Ordering::Relaxed);
                    cache.write().unwrap().insert(1, 107);
                }
            })
        })
        .collect();
    for r in readers {
        r.join().unwrap();
    }
    assert_eq!(fills.load(Ordering::Relaxed), 1, "planted: a key filled twice");
}

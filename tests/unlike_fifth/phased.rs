//! Phased and read-mostly shapes: a `Barrier` simulation whose leader
//! reduces each phase, an `RwLock` cache filled on miss and invalidated by a
//! writer, a `notify_all` queue whose consumers loop on their condition, a
//! baton handed by `park`/`unpark`, and `OnceLock`/`LazyLock` in statics
//! and in locals.

use std::collections::{BTreeMap, VecDeque};
use std::fmt::Write as _;
use std::sync::Arc;

use reprise::sync::atomic::{AtomicUsize, Ordering};
use reprise::sync::{Barrier, Condvar, LazyLock, Mutex, OnceLock, RwLock};
use reprise::thread;

use super::{replays, replays_and_varies};

// ---------------------------------------------------------------------------
// A barrier-phased simulation.

#[test]
fn a_barrier_phased_simulation_replays_to_its_transcript() {
    replays_and_varies("fifth-phases", phases);
}

/// Three workers, three phases: each adds its contribution (depending on
/// the last reduction) to a shared list; after the barrier, the leader
/// folds the list in arrival order; after a second barrier, all read it.
pub(super) fn phases() -> String {
    const N: usize = 3;
    let barrier = Arc::new(Barrier::new(N));
    let contributions = Arc::new(Mutex::new(Vec::new()));
    let reduced = Arc::new(RwLock::new(1u64));
    let log = Arc::new(Mutex::new(String::new()));
    let workers: Vec<_> = (0..N as u64)
        .map(|w| {
            let (barrier, contributions) = (Arc::clone(&barrier), Arc::clone(&contributions));
            let (reduced, log) = (Arc::clone(&reduced), Arc::clone(&log));
            thread::spawn(move || {
                let mut seen = Vec::new();
                for phase in 0..3u64 {
                    let last = *reduced.read().unwrap();
                    contributions.lock().unwrap().push((w, last % 7 + w + phase));
                    if barrier.wait().is_leader() {
                        let mut list = contributions.lock().unwrap();
                        // Order-sensitive: arrival order shows in the fold.
                        let folded = list.iter().fold(0u64, |acc, &(_, c)| acc * 5 + c);
                        let order: String =
                            list.iter().map(|&(who, _)| char::from(b'a' + who as u8)).collect();
                        list.clear();
                        *reduced.write().unwrap() = folded;
                        let _ = write!(log.lock().unwrap(), "p{phase}:{order}@{w} ");
                    }
                    barrier.wait();
                    seen.push(*reduced.read().unwrap());
                }
                seen
            })
        })
        .collect();
    let seen: Vec<Vec<u64>> = workers.into_iter().map(|h| h.join().unwrap()).collect();
    assert!(seen.windows(2).all(|w| w[0] == w[1]), "every worker read each phase's reduction: {seen:?}");
    let log = log.lock().unwrap().clone();
    format!("{log}{:?}", seen[0])
}

// ---------------------------------------------------------------------------
// A read-mostly cache.

#[test]
fn a_read_mostly_rwlock_cache_replays_to_its_transcript() {
    // Varies on an idle machine; beside two CPU hogs every run may not.
    replays("fifth-cache", cache);
}

/// Three readers look keys up, filling misses under the write lock (after
/// checking again); a writer invalidates the cache twice.
pub(super) fn cache() -> String {
    let cache: Arc<RwLock<BTreeMap<u32, u32>>> = Arc::new(RwLock::new(BTreeMap::new()));
    let readers: Vec<_> = (0..3u32)
        .map(|r| {
            let cache = Arc::clone(&cache);
            thread::spawn(move || {
                let mut out = String::new();
                for i in 0..5u32 {
                    let key = (r + i) % 4;
                    let hit = cache.read().unwrap().get(&key).copied();
                    match hit {
                        Some(v) => {
                            assert_eq!(v, key * key);
                            out.push('h');
                        }
                        None => {
                            let mut map = cache.write().unwrap();
                            let raced = map.contains_key(&key);
                            map.entry(key).or_insert(key * key);
                            out.push(if raced { 'r' } else { 'm' });
                        }
                    }
                }
                out
            })
        })
        .collect();
    let writer = {
        let cache = Arc::clone(&cache);
        thread::spawn(move || {
            let mut sizes = Vec::new();
            for _ in 0..2 {
                thread::yield_now();
                let mut map = cache.write().unwrap();
                sizes.push(map.len());
                map.clear();
            }
            sizes
        })
    };
    let out: Vec<String> = readers.into_iter().map(|h| h.join().unwrap()).collect();
    let sizes = writer.join().unwrap();
    format!("{} {sizes:?}", out.join(" "))
}

// ---------------------------------------------------------------------------
// A notify_all queue.

struct Queue {
    items: VecDeque<u32>,
    closed: bool,
    wakeups: u32,
}

#[test]
fn a_notify_all_queue_with_condition_loops_replays_to_its_transcript() {
    replays_and_varies("fifth-notify-all", notify_all_queue);
}

/// Two producers, three consumers; every push wakes every consumer, and
/// all but one find nothing and wait again.
pub(super) fn notify_all_queue() -> String {
    let shared =
        Arc::new((Mutex::new(Queue { items: VecDeque::new(), closed: false, wakeups: 0 }), Condvar::new()));
    let consumers: Vec<_> = (0..3)
        .map(|_| {
            let shared = Arc::clone(&shared);
            thread::spawn(move || {
                let (lock, cvar) = &*shared;
                let mut got = Vec::new();
                let mut guard = lock.lock().unwrap();
                loop {
                    while guard.items.is_empty() && !guard.closed {
                        guard = cvar.wait(guard).unwrap();
                        guard.wakeups += 1;
                    }
                    match guard.items.pop_front() {
                        Some(item) => got.push(item),
                        None => return got,
                    }
                }
            })
        })
        .collect();
    let producers: Vec<_> = (0..2u32)
        .map(|p| {
            let shared = Arc::clone(&shared);
            thread::spawn(move || {
                for i in 0..4 {
                    let (lock, cvar) = &*shared;
                    lock.lock().unwrap().items.push_back(p * 10 + i);
                    cvar.notify_all();
                }
            })
        })
        .collect();
    producers.into_iter().for_each(|h| h.join().unwrap());
    {
        let (lock, cvar) = &*shared;
        lock.lock().unwrap().closed = true;
        cvar.notify_all();
    }
    let got: Vec<Vec<u32>> = consumers.into_iter().map(|h| h.join().unwrap()).collect();
    assert_eq!(got.iter().map(Vec::len).sum::<usize>(), 8);
    let wakeups = shared.0.lock().unwrap().wakeups;
    format!("{got:?} woken {wakeups}")
}

// ---------------------------------------------------------------------------
// A park/unpark baton.

#[test]
fn a_park_unpark_baton_replays_to_its_transcript() {
    replays("fifth-baton", baton);
}

/// Three runners register their handles; whoever holds the baton passes
/// it to the runner named by the turn counter (taken in registration
/// order, which races) and unparks it; parks are spurious-tolerant.
pub(super) fn baton() -> String {
    let registry: Arc<Mutex<Vec<(usize, thread::Thread)>>> = Arc::new(Mutex::new(Vec::new()));
    let turn = Arc::new(AtomicUsize::new(0));
    let trail = Arc::new(Mutex::new(String::new()));
    let runners: Vec<_> = (0..3usize)
        .map(|r| {
            let (registry, turn, trail) = (Arc::clone(&registry), Arc::clone(&turn), Arc::clone(&trail));
            thread::spawn(move || {
                let slot = {
                    let mut reg = registry.lock().unwrap();
                    reg.push((r, thread::current()));
                    reg.len() - 1
                };
                for lap in 0..2 {
                    let mine = lap * 3 + slot;
                    while turn.load(Ordering::Acquire) != mine {
                        thread::park();
                    }
                    trail.lock().unwrap().push(char::from(b'a' + r as u8));
                    turn.store(mine + 1, Ordering::Release);
                    let next = registry.lock().unwrap().get((slot + 1) % 3).map(|(_, t)| t.clone());
                    if let Some(next) = next {
                        next.unpark();
                    }
                }
            })
        })
        .collect();
    // Every runner registered before the first is woken for a second lap.
    while registry.lock().unwrap().len() < 3 {
        thread::yield_now();
    }
    registry.lock().unwrap()[0].1.unpark();
    runners.into_iter().for_each(|h| h.join().unwrap());
    let trail = trail.lock().unwrap().clone();
    assert_eq!(trail.len(), 6);
    trail
}

// ---------------------------------------------------------------------------
// OnceLock and LazyLock, static and local.

static GREETING: LazyLock<String> = LazyLock::new(|| "hello".to_string());
static WINNERS: LazyLock<Mutex<Vec<u32>>> = LazyLock::new(|| Mutex::new(Vec::new()));

/// Held by each test that runs [`once_cells`]: two of its executions at
/// once (a recording in one test, an exploration in another, on the test
/// harness's threads) append to the one `WINNERS`, and each then reads the
/// other's winner (a fresh clone's CI saw 0 and 2 winners), as two copies
/// of the program in one process would under std.
pub(super) static ONCE_CELLS: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[test]
fn once_lock_and_lazy_lock_in_statics_and_locals_replay_to_their_transcript() {
    // Forced outside any execution, as README asks of statics: the first
    // execution to touch one initializes it, and a replay in the same
    // process then finds it done. Alone (`cargo test ... once_lock`) the
    // first recording did, and its replay diverged at the initializer's
    // end; in a full run an exploration of `once_cells` had forced them.
    let _alone = ONCE_CELLS.lock().unwrap_or_else(|e| e.into_inner());
    let _ = (LazyLock::force(&GREETING), LazyLock::force(&WINNERS));
    // Varies on an idle machine; beside two CPU hogs every run may not.
    replays("fifth-once", once_cells);
}

/// Four threads race to set a local `OnceLock` and to force a local
/// `LazyLock`; each reads a static `LazyLock` and appends to a static
/// `LazyLock<Mutex<_>>`, cleared at the end so a next execution starts as
/// this one did.
pub(super) fn once_cells() -> String {
    let chosen = Arc::new(OnceLock::new());
    let forced_by = Arc::new(AtomicUsize::new(usize::MAX));
    let lazy = {
        let forced_by = Arc::clone(&forced_by);
        Arc::new(LazyLock::new(move || {
            let who: usize = thread::current().name().and_then(|n| n[1..].parse().ok()).unwrap_or(9);
            forced_by.store(who, Ordering::SeqCst);
            who * 11
        }))
    };
    let racers: Vec<_> = (0..4u32)
        .map(|r| {
            let (chosen, lazy) = (Arc::clone(&chosen), Arc::clone(&lazy));
            thread::Builder::new()
                .name(format!("r{r}"))
                .spawn(move || {
                    let won = chosen.set(r).is_ok();
                    if won {
                        WINNERS.lock().unwrap().push(r);
                    }
                    assert_eq!(GREETING.as_str(), "hello");
                    (won, **lazy)
                })
                .unwrap()
        })
        .collect();
    let results: Vec<(bool, usize)> = racers.into_iter().map(|h| h.join().unwrap()).collect();
    let winners = std::mem::take(&mut *WINNERS.lock().unwrap());
    assert_eq!(winners.len(), 1);
    assert_eq!(Some(&winners[0]), chosen.get());
    let forced = forced_by.load(Ordering::SeqCst);
    assert!(results.iter().all(|&(_, v)| v == forced * 11));
    format!("set by {} forced by {forced}", winners[0])
}

//! Thread-shaped programs: work stealing over a `Mutex<VecDeque>` per
//! worker; a baton passed round a ring by `park`/`unpark`, each thread's
//! handle published in a `OnceLock` its predecessor `wait`s on; a spawn
//! tree whose grandchildren are joined by their grandparents, and a chain
//! of threads each spawning the next, joined by the root out of order.

use std::collections::VecDeque;
use std::sync::Arc;

use reprise::channel;
use reprise::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use reprise::sync::{Mutex, OnceLock};
use reprise::thread::{self, JoinHandle, Thread};
use reprise::time::Duration;

/// Three workers, each with its own deque; a task `n > 1` splits into
/// `n - 1` and `n - 2` pushed on the worker's own deque (a Fibonacci
/// count of leaves). An idle worker steals from the others' backs in
/// round robin (`try_lock`, then `lock`); `pending` counts tasks not done.
pub(crate) fn work_stealing() -> String {
    let deques: Arc<Vec<Mutex<VecDeque<u32>>>> =
        Arc::new((0..3).map(|_| Mutex::new(VecDeque::new())).collect());
    deques[0].lock().unwrap().push_back(9);
    let pending = Arc::new(AtomicUsize::new(1));
    let workers: Vec<_> = (0..3usize)
        .map(|me| {
            let (deques, pending) = (Arc::clone(&deques), Arc::clone(&pending));
            thread::spawn(move || {
                let (mut leaves, mut stolen, mut busy) = (0u32, 0u32, 0u32);
                let mut victim = me;
                while pending.load(Ordering::Acquire) > 0 {
                    let mut task = deques[me].lock().unwrap().pop_front();
                    if task.is_none() {
                        victim = (victim + 1) % 3;
                        if victim != me {
                            let deque = match deques[victim].try_lock() {
                                Ok(d) => Some(d),
                                Err(_) => {
                                    busy += 1;
                                    (busy % 2 == 0).then(|| deques[victim].lock().unwrap())
                                }
                            };
                            task = deque.and_then(|mut d| d.pop_back());
                            stolen += u32::from(task.is_some());
                        }
                    }
                    match task {
                        Some(n) if n > 1 => {
                            pending.fetch_add(1, Ordering::AcqRel);
                            let mut own = deques[me].lock().unwrap();
                            own.push_back(n - 1);
                            own.push_back(n - 2);
                        }
                        Some(_) => {
                            leaves += 1;
                            pending.fetch_sub(1, Ordering::AcqRel);
                        }
                        None => thread::yield_now(),
                    }
                }
                (leaves, stolen)
            })
        })
        .collect();
    let per: Vec<(u32, u32)> = workers.into_iter().map(|w| w.join().unwrap()).collect();
    let leaves: u32 = per.iter().map(|p| p.0).sum();
    assert_eq!(leaves, 55, "fib(10) leaves of task 9");
    format!("per worker (leaves, stolen) {per:?}")
}

/// Four threads in a ring pass a baton three times round: each publishes
/// its `Thread` in its `OnceLock`, parks until the turn is its own (thread
/// 3 with `park_timeout`), appends to the log, moves the turn on and
/// unparks its successor, whose handle it `wait`s for.
pub(crate) fn park_ring() -> String {
    const N: usize = 4;
    let slots: Arc<Vec<OnceLock<Thread>>> = Arc::new((0..N).map(|_| OnceLock::new()).collect());
    let turn = Arc::new(AtomicUsize::new(0));
    let log = Arc::new(Mutex::new(Vec::new()));
    let threads: Vec<_> = (0..N)
        .map(|me| {
            let (slots, turn, log) = (Arc::clone(&slots), Arc::clone(&turn), Arc::clone(&log));
            thread::spawn(move || {
                slots[me].set(thread::current()).unwrap();
                let mut idle_wakes = 0u32;
                for round in 0..3 {
                    let mine = round * N + me;
                    while turn.load(Ordering::Acquire) != mine {
                        if me == 3 {
                            thread::park_timeout(Duration::from_millis(2));
                        } else {
                            thread::park();
                        }
                        idle_wakes += 1;
                    }
                    log.lock().unwrap().push(me);
                    turn.store(mine + 1, Ordering::Release);
                    slots[(me + 1) % N].wait().unpark();
                }
                idle_wakes
            })
        })
        .collect();
    let wakes: Vec<u32> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    let log = log.lock().unwrap().clone();
    assert_eq!(log, (0..3 * N).map(|i| i % N).collect::<Vec<_>>());
    format!("wakes {wakes:?}")
}

/// A node of the tree: spawns two named children, each of which sends its
/// own children's handles up to this node, which joins them (its
/// grandchildren) as well as its children.
fn grow(depth: u32, path: String, up: Option<channel::Sender<JoinHandle<u32>>>) -> u32 {
    let (tx, rx) = channel::unbounded::<JoinHandle<u32>>();
    let mut children = Vec::new();
    if depth > 0 {
        for side in 0..2 {
            let (tx, name) = (tx.clone(), format!("{path}{side}"));
            let handle = thread::Builder::new()
                .name(name.clone())
                .spawn(move || grow(depth - 1, name, Some(tx)))
                .unwrap();
            children.push(handle);
        }
    }
    drop(tx);
    // The root's name is its caller's (a test thread, a replay's): not ours.
    let mut total = if up.is_some() { thread::current().name().map_or(0, |n| n.len() as u32) } else { 0 };
    if let Some(up) = up {
        // Our children go up to our parent: it joins them, not us.
        for c in children.drain(..) {
            up.send(c).unwrap();
        }
    }
    for c in children {
        total += c.join().unwrap();
    }
    for grandchild in rx.iter() {
        total += grandchild.join().unwrap();
    }
    total
}

/// A tree three levels deep (14 threads) whose grandchildren their
/// grandparents join; beside it a chain of 12 threads, each spawning the
/// next and parking its handle in a shared list, which the root joins
/// last first.
pub(crate) fn spawn_tree() -> String {
    let tree = grow(3, String::new(), None);
    let handles = Arc::new(Mutex::new(Vec::new()));
    let depth = Arc::new(AtomicU32::new(0));
    fn link(n: u32, handles: Arc<Mutex<Vec<JoinHandle<u32>>>>, depth: Arc<AtomicU32>) -> u32 {
        depth.fetch_max(n, Ordering::Relaxed);
        if n < 12 {
            let (h, d) = (Arc::clone(&handles), Arc::clone(&depth));
            let next = thread::spawn(move || link(n + 1, h, d));
            handles.lock().unwrap().push(next);
        }
        n
    }
    let first = link(0, Arc::clone(&handles), Arc::clone(&depth));
    let mut joined = Vec::new();
    while joined.len() < 12 {
        let next = handles.lock().unwrap().pop();
        match next {
            Some(h) => joined.push(h.join().unwrap()),
            None => thread::yield_now(),
        }
    }
    joined.sort_unstable();
    assert_eq!(joined, (1..=12).collect::<Vec<_>>());
    format!("tree {tree}, chain from {first}, depth {}", depth.load(Ordering::Relaxed))
}

/// Planted: [`work_stealing`] with two workers that stop once both
/// deques look empty (their own, then the other's), not when no task is
/// pending: one that looks while the other holds a task it popped stops
/// with work in flight, which its assertion says.
pub(crate) fn early_stop() {
    let deques: Arc<Vec<Mutex<VecDeque<u32>>>> =
        Arc::new((0..2).map(|_| Mutex::new(VecDeque::new())).collect());
    deques[0].lock().unwrap().push_back(3);
    let pending = Arc::new(AtomicUsize::new(1));
    let workers: Vec<_> = (0..2usize)
        .map(|me| {
            let (deques, pending) = (Arc::clone(&deques), Arc::clone(&pending));
            thread::spawn(move || loop {
                let task = deques[me].lock().unwrap().pop_front();
                let task = task.or_else(|| deques[1 - me].lock().unwrap().pop_back());
                match task {
                    Some(n) if n > 1 => {
                        pending.fetch_add(1, Ordering::AcqRel);
                        let mut own = deques[me].lock().unwrap();
                        own.push_back(n - 1);
                        own.push_back(n - 2);
                    }
                    Some(_) => {
                        pending.fetch_sub(1, Ordering::AcqRel);
                    }
                    None => {
                        let left = pending.load(Ordering::Acquire);
                        assert_eq!(left, 0, "planted: a worker stopped with {left} tasks pending");
                        return;
                    }
                }
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
}

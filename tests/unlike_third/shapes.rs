//! Blocking shapes: a bounded queue on a mutex and two condvars, a
//! configuration service (barrier phases, once-cells, an RwLock upgrade),
//! std mpsc with senders dropped in odd orders, and a clock-driven batcher.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use reprise::channel::{self, select};
use reprise::sync::atomic::{AtomicU32, Ordering};
use reprise::sync::{mpsc, Barrier, Condvar, LazyLock, Mutex, Once, OnceLock, RwLock, RwLockWriteGuard};
use reprise::thread;
use reprise::time::{Duration, Instant};

use super::runs;
use crate::util::replays_give_the_transcript;

// ---------------------------------------------------------------------------
// A bounded blocking queue.

#[test]
fn a_bounded_blocking_queue_replays_to_its_recorded_transcript() {
    let distinct = replays_give_the_transcript("third-queue", runs(), || bounded_queue(3, 2, 8, 2));
    assert!(distinct > 1, "every run interleaved the same way: the test shows little");
}

struct State<T> {
    items: VecDeque<T>,
    closed: bool,
    /// Waits of consumers on an empty queue, and of producers on a full one.
    empty_waits: u32,
    full_waits: u32,
}

/// A bounded queue: producers wait while it is full (`wait_while`),
/// consumers while it is empty (a `wait` loop that tolerates spurious
/// wake-ups); closing wakes everyone.
pub(super) struct Queue<T> {
    state: Mutex<State<T>>,
    not_empty: Condvar,
    not_full: Condvar,
    cap: usize,
}

impl<T> Queue<T> {
    pub(super) fn new(cap: usize) -> Queue<T> {
        Queue {
            state: Mutex::new(State { items: VecDeque::new(), closed: false, empty_waits: 0, full_waits: 0 }),
            not_empty: Condvar::new(),
            not_full: Condvar::new(),
            cap,
        }
    }

    /// Gives `value` back when the queue is closed.
    pub(super) fn push(&self, value: T) -> Result<(), T> {
        let mut state = self.state.lock().unwrap();
        if state.items.len() >= self.cap {
            state.full_waits += 1;
        }
        let mut state = self.not_full.wait_while(state, |s| s.items.len() >= self.cap && !s.closed).unwrap();
        if state.closed {
            return Err(value);
        }
        state.items.push_back(value);
        drop(state);
        self.not_empty.notify_one();
        Ok(())
    }

    /// `None` once the queue is closed and empty.
    pub(super) fn pop(&self) -> Option<T> {
        let mut state = self.state.lock().unwrap();
        loop {
            if let Some(value) = state.items.pop_front() {
                drop(state);
                self.not_full.notify_one();
                return Some(value);
            }
            if state.closed {
                return None;
            }
            state.empty_waits += 1;
            state = self.not_empty.wait(state).unwrap();
        }
    }

    /// The planted bug: checks once with `if`, as if a wake-up meant an
    /// item is there. Another consumer can take it first.
    pub(super) fn pop_checking_once(&self) -> Option<T> {
        let mut state = self.state.lock().unwrap();
        if state.items.is_empty() && !state.closed {
            state = self.not_empty.wait(state).unwrap();
        }
        if state.closed && state.items.is_empty() {
            return None;
        }
        let value = state.items.pop_front().expect("woken with an item in the queue");
        drop(state);
        self.not_full.notify_one();
        Some(value)
    }

    pub(super) fn close(&self) {
        self.state.lock().unwrap().closed = true;
        self.not_empty.notify_all();
        self.not_full.notify_all();
    }
}

fn bounded_queue(producers: u32, consumers: u32, each: u32, cap: usize) -> String {
    let queue = Arc::new(Queue::new(cap));
    let log = Arc::new(Mutex::new(Vec::new()));
    let producer_handles: Vec<_> = (0..producers)
        .map(|p| {
            let queue = Arc::clone(&queue);
            thread::Builder::new()
                .name(format!("producer-{p}"))
                .spawn(move || {
                    for i in 0..each {
                        queue.push(p * 100 + i).unwrap();
                        if i % 3 == p % 3 {
                            thread::yield_now();
                        }
                    }
                })
                .unwrap()
        })
        .collect();
    let consumer_handles: Vec<_> = (0..consumers)
        .map(|c| {
            let (queue, log) = (Arc::clone(&queue), Arc::clone(&log));
            thread::Builder::new()
                .name(format!("consumer-{c}"))
                .spawn(move || {
                    let mut last = BTreeMap::new();
                    let mut got = 0;
                    while let Some(v) = queue.pop() {
                        // Per producer, items leave in the order they came.
                        if let Some(before) = last.insert(v / 100, v) {
                            assert!(before < v, "c{c}: {before} before {v}");
                        }
                        log.lock().unwrap().push(format!("c{c}:{v}"));
                        got += 1;
                    }
                    got
                })
                .unwrap()
        })
        .collect();
    for h in producer_handles {
        h.join().unwrap();
    }
    queue.close();
    let got: Vec<u32> = consumer_handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert_eq!(got.iter().sum::<u32>(), producers * each);
    // Pushing after the close gives the value back.
    assert_eq!(queue.push(7), Err(7));
    let state = queue.state.lock().unwrap();
    let mut log = std::mem::take(&mut *log.lock().unwrap());
    log.push(format!("got {got:?} empty waits {} full waits {}", state.empty_waits, state.full_waits));
    log.join(" ")
}

// ---------------------------------------------------------------------------
// A configuration service.

#[test]
fn a_configuration_service_replays_to_its_recorded_transcript() {
    let distinct = replays_give_the_transcript("third-config", runs(), || config_service(4, 3));
    assert!(distinct > 1, "every run interleaved the same way: the test shows little");
}

/// `workers` threads go through `phases` phases separated by a barrier;
/// the leader of each phase logs. They race a `Once`, a `LazyLock` and
/// `OnceLock::set`, and fill a shared map by reading, and on a miss
/// dropping the read lock, writing, and checking again.
fn config_service(workers: u32, phases: u32) -> String {
    let barrier = Arc::new(Barrier::new(workers as usize));
    let once = Arc::new(Once::new());
    let forced = Arc::new(AtomicU32::new(0));
    let lazy = {
        let forced = Arc::clone(&forced);
        Arc::new(LazyLock::new(move || format!("lazy#{}", forced.fetch_add(1, Ordering::SeqCst))))
    };
    let first = Arc::new(OnceLock::<u32>::new());
    let map = Arc::new(RwLock::new(BTreeMap::<u32, String>::new()));
    let log = Arc::new(Mutex::new(Vec::<String>::new()));
    let handles: Vec<_> = (0..workers)
        .map(|w| {
            let (barrier, once, lazy, first, map, log) = (
                Arc::clone(&barrier),
                Arc::clone(&once),
                Arc::clone(&lazy),
                Arc::clone(&first),
                Arc::clone(&map),
                Arc::clone(&log),
            );
            thread::Builder::new()
                .name(format!("cfg-{w}"))
                .spawn(move || {
                    let mut lines = Vec::new();
                    let mut saw_done = once.is_completed();
                    once.call_once(|| log.lock().unwrap().push(format!("w{w} ran the once")));
                    saw_done |= once.is_completed();
                    match first.set(w) {
                        Ok(()) => lines.push(format!("w{w} set first")),
                        Err(mine) => lines.push(format!("w{w} lost set with {mine} to {:?}", first.get())),
                    }
                    for phase in 0..phases {
                        for k in 0..3 {
                            let key = (w + k + phase) % 5;
                            let hit = map.read().unwrap().get(&key).cloned();
                            let value = match hit {
                                Some(v) => v,
                                None => {
                                    let mut write = map.write().unwrap();
                                    // Checked again: another writer may have
                                    // come between the read and the write.
                                    if let Some(v) = write.get(&key) {
                                        lines.push(format!("w{w} found {key} on re-check"));
                                        v.clone()
                                    } else {
                                        let v = format!("{key}@w{w}p{phase}");
                                        write.insert(key, v.clone());
                                        // Keep reading under the same lock.
                                        let read = RwLockWriteGuard::downgrade(write);
                                        lines.push(format!("w{w} put {key} of {}", read.len()));
                                        v
                                    }
                                }
                            };
                            if k == 1 {
                                lines.push(format!("w{w}p{phase} {value} {}", **lazy));
                            }
                        }
                        if barrier.wait().is_leader() {
                            log.lock().unwrap().push(format!("phase {phase} led by w{w}"));
                            map.write().unwrap().remove(&(phase % 5));
                        }
                    }
                    lines.push(format!("w{w} saw the once done {saw_done}"));
                    lines
                })
                .unwrap()
        })
        .collect();
    let mut out = Vec::new();
    for h in handles {
        out.extend(h.join().unwrap());
    }
    out.extend(std::mem::take(&mut *log.lock().unwrap()));
    out.push(format!("forced {} first {:?}", forced.load(Ordering::SeqCst), first.get()));
    out.join("\n")
}

// ---------------------------------------------------------------------------
// std mpsc, with senders dropped in odd orders.

#[test]
fn std_mpsc_with_senders_dropped_in_odd_orders_replays() {
    let distinct = replays_give_the_transcript("third-mpsc", runs(), mpsc_fan_in);
    assert!(distinct > 1, "every run interleaved the same way: the test shows little");
}

fn mpsc_fan_in() -> String {
    let (tx, rx) = mpsc::channel::<String>();
    let (stx, srx) = mpsc::sync_channel::<u32>(2);
    let (note_tx, note_rx) = mpsc::channel::<&'static str>();
    let mut handles = Vec::new();
    for p in 0..3u32 {
        let tx = tx.clone();
        let stx = stx.clone();
        let note_tx = note_tx.clone();
        handles.push(thread::spawn(move || {
            // Producer 1 hands its sender to a grandchild and drops its own
            // clone first; producer 2 drops its `SyncSender` at once.
            if p == 1 {
                let grand_tx = tx.clone();
                drop(tx);
                let grandchild = thread::spawn(move || {
                    for i in 0..3 {
                        grand_tx.send(format!("g{i}")).unwrap();
                    }
                });
                grandchild.join().unwrap();
                note_tx.send("p1 handed off").unwrap();
                return;
            }
            if p == 2 {
                drop(stx);
                for i in 0..4 {
                    tx.send(format!("p2.{i}")).unwrap();
                    if i == 1 {
                        thread::sleep(Duration::from_micros(100));
                    }
                }
                return;
            }
            for i in 0..5 {
                tx.send(format!("p0.{i}")).unwrap();
                stx.send(i).unwrap();
            }
            drop(tx);
            note_tx.send("p0 done").unwrap();
        }));
    }
    // The root's own clones go before anything is received.
    drop(note_tx);
    drop(stx);
    drop(tx);
    let side = thread::spawn(move || {
        let mut sum = 0;
        for v in srx.iter() {
            sum += v;
            thread::yield_now();
        }
        sum
    });
    let (mut got, mut timeouts) = (Vec::new(), 0u32);
    loop {
        match rx.recv_timeout(Duration::from_micros(120)) {
            Ok(m) => got.push(m),
            Err(mpsc::RecvTimeoutError::Timeout) => timeouts += 1,
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
        // Whatever is there right now, without blocking.
        got.extend(rx.try_iter().map(|m| m + "~"));
    }
    for h in handles {
        h.join().unwrap();
    }
    let sum = side.join().unwrap();
    let notes: Vec<&str> = note_rx.try_iter().collect();
    // A send to a receiver that hung up gives the value back.
    let (lone_tx, lone_rx) = mpsc::channel::<u32>();
    drop(lone_rx);
    assert_eq!(lone_tx.send(9).unwrap_err().0, 9);
    format!("got {}\ntimeouts {timeouts} sum {sum} notes {notes:?}", got.join(" "))
}

// ---------------------------------------------------------------------------
// A clock-driven batcher.

#[test]
fn a_clock_driven_batcher_replays_to_its_recorded_transcript() {
    let distinct = replays_give_the_transcript("third-batcher", runs(), batcher);
    assert!(distinct > 1, "every run interleaved the same way: the test shows little");
}

/// Two sources feed a batcher that flushes when a batch holds three
/// events, when a millisecond passed since the last flush (by `Instant`),
/// on a tick, and once at a deadline; an idle `default(timeout)` arm
/// counts quiet spells.
fn batcher() -> String {
    let (tx, rx) = channel::bounded::<(u32, u32)>(4);
    let sources: Vec<_> = (0..2u32)
        .map(|s| {
            let tx = tx.clone();
            thread::spawn(move || {
                for i in 0..10u32 {
                    if tx.send((s, i)).is_err() {
                        return i;
                    }
                    if (i + s).is_multiple_of(4) {
                        thread::sleep(Duration::from_micros(150 + 100 * u64::from(s)));
                    }
                }
                10
            })
        })
        .collect();
    drop(tx);
    let tick = channel::tick(Duration::from_micros(700));
    let deadline = channel::after(Duration::from_millis(4));
    let mut last_flush = Instant::now();
    let (mut batch, mut flushes, mut quiet, mut open) = (Vec::new(), Vec::new(), 0u32, true);
    let mut flush = |batch: &mut Vec<(u32, u32)>, why: &str, last: &mut Instant| {
        if !batch.is_empty() {
            let items: Vec<String> = batch.drain(..).map(|(s, i)| format!("{s}.{i}")).collect();
            flushes.push(format!("{why}[{}]", items.join(",")));
        }
        *last = Instant::now();
    };
    while open {
        select! {
            recv(rx) -> m => match m {
                Ok(m) => {
                    batch.push(m);
                    if batch.len() >= 3 {
                        flush(&mut batch, "full", &mut last_flush);
                    } else if last_flush.elapsed() > Duration::from_millis(1) {
                        flush(&mut batch, "stale", &mut last_flush);
                    }
                }
                Err(_) => open = false,
            },
            recv(tick) -> t => {
                let late = Instant::now().duration_since(t.unwrap()) > Duration::from_micros(200);
                flush(&mut batch, if late { "late-tick" } else { "tick" }, &mut last_flush);
            }
            recv(deadline) -> _ => flush(&mut batch, "deadline", &mut last_flush),
            default(Duration::from_micros(250)) => quiet += 1,
        }
    }
    flush(&mut batch, "end", &mut last_flush);
    let sent: Vec<u32> = sources.into_iter().map(|h| h.join().unwrap()).collect();
    format!("{}\nsent {sent:?} quiet {quiet}", flushes.join(" "))
}

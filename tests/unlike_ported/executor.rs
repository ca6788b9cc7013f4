//! A tiny single-threaded futures runtime, as a user would write one over
//! `std::task`: `block_on` parks the executor thread until a `Waker` built
//! from its `reprise::thread::Thread` unparks it; spawned tasks wake by
//! sending their id on the run queue (a reprise channel) and unparking the
//! executor; futures complete from other threads: a timer thread that keeps
//! its deadlines in a heap and uses `recv_timeout` as its clock, and a
//! blocking pool (`spawn_blocking`) whose workers set a slot and wake it.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use reprise::channel::{self, Receiver, RecvTimeoutError, Sender};
use reprise::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use reprise::sync::Mutex;
use reprise::thread;
use reprise::time::{Duration, Instant};

use super::runs;
use crate::util::replays_give_the_transcript;

#[test]
fn a_tiny_futures_runtime_replays_to_its_recorded_transcript() {
    let distinct = replays_give_the_transcript("ported-executor", runs(), || runtime(4));
    assert!(distinct > 1, "every run interleaved the same way: the test shows little");
}

type Log = Arc<Mutex<Vec<String>>>;
type Task = Pin<Box<dyn Future<Output = ()> + Send>>;
/// A deadline, its sequence number, and the slot to fill when it passes.
type Timer = (Instant, u32, Arc<Mutex<Slot<()>>>);

/// A value set by one thread and awaited by a future: a oneshot.
struct Slot<T> {
    value: Option<T>,
    waker: Option<Waker>,
}

struct SlotFuture<T>(Arc<Mutex<Slot<T>>>);

fn slot<T>() -> (Arc<Mutex<Slot<T>>>, SlotFuture<T>) {
    let s = Arc::new(Mutex::new(Slot { value: None, waker: None }));
    (Arc::clone(&s), SlotFuture(s))
}

fn fill<T>(slot: &Mutex<Slot<T>>, value: T) {
    let waker = {
        let mut s = slot.lock().unwrap();
        s.value = Some(value);
        s.waker.take()
    };
    // Woken outside the lock, as tokio's oneshot does.
    if let Some(w) = waker {
        w.wake();
    }
}

impl<T> Future for SlotFuture<T> {
    type Output = T;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let mut s = self.0.lock().unwrap();
        match s.value.take() {
            Some(v) => Poll::Ready(v),
            None => {
                s.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

/// The executor's waker for its root future.
struct ThreadWaker {
    thread: thread::Thread,
    woken: AtomicBool,
}

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::Release);
        self.thread.unpark();
    }
}

/// A spawned task's waker: its id on the run queue, then an unpark.
struct TaskWaker {
    id: usize,
    queue: Sender<usize>,
    executor: thread::Thread,
}

impl Wake for TaskWaker {
    fn wake(self: Arc<Self>) {
        let _ = self.queue.send(self.id);
        self.executor.unpark();
    }
}

/// Handles the futures use to reach the runtime's threads.
#[derive(Clone)]
struct Handle {
    timers: Sender<Timer>,
    pool: Sender<Box<dyn FnOnce() + Send>>,
    spawned: Arc<Mutex<Vec<Task>>>,
    seq: Arc<AtomicU32>,
}

impl Handle {
    fn sleep(&self, d: Duration) -> SlotFuture<()> {
        let (s, f) = slot();
        let n = self.seq.fetch_add(1, Ordering::Relaxed);
        self.timers.send((Instant::now() + d, n, s)).unwrap();
        f
    }

    fn spawn_blocking<T: Send + 'static>(&self, job: impl FnOnce() -> T + Send + 'static) -> SlotFuture<T> {
        let (s, f) = slot();
        self.pool.send(Box::new(move || fill(&s, job()))).unwrap();
        f
    }

    fn spawn<T: Send + 'static>(&self, fut: impl Future<Output = T> + Send + 'static) -> SlotFuture<T> {
        let (s, f) = slot();
        self.spawned.lock().unwrap().push(Box::pin(async move { fill(&s, fut.await) }));
        f
    }
}

/// The timer thread: a heap of deadlines; `recv_timeout` until the earliest.
fn timer_thread(rx: Receiver<Timer>, log: Log) {
    let mut heap = BinaryHeap::new();
    let mut slots = std::collections::BTreeMap::new();
    let mut fired = 0;
    loop {
        let wait = heap
            .peek()
            .map(|Reverse((at, _)): &Reverse<(Instant, u32)>| at.saturating_duration_since(Instant::now()));
        let got = match wait {
            Some(d) => rx.recv_timeout(d),
            None => rx.recv().map_err(|_| RecvTimeoutError::Disconnected),
        };
        match got {
            Ok((at, n, s)) => {
                heap.push(Reverse((at, n)));
                slots.insert(n, s);
            }
            Err(RecvTimeoutError::Timeout) => {
                let now = Instant::now();
                while let Some(Reverse((at, n))) = heap.peek().copied() {
                    if at > now {
                        break;
                    }
                    heap.pop();
                    fired += 1;
                    fill(&slots.remove(&n).unwrap(), ());
                }
            }
            Err(RecvTimeoutError::Disconnected) => break,
        }
    }
    log.lock().unwrap().push(format!("timer fired {fired}, left {}", heap.len()));
}

pub fn runtime(tasks: u32) -> String {
    let log: Log = Arc::new(Mutex::new(Vec::new()));
    let (timer_tx, timer_rx) = channel::unbounded();
    let (pool_tx, pool_rx) = channel::bounded::<Box<dyn FnOnce() + Send>>(2);
    let timer = {
        let log = Arc::clone(&log);
        thread::Builder::new().name("timer".into()).spawn(move || timer_thread(timer_rx, log)).unwrap()
    };
    let pool: Vec<_> = (0..2)
        .map(|i| {
            let rx = pool_rx.clone();
            thread::Builder::new()
                .name(format!("blocking-{i}"))
                .spawn(move || rx.iter().map(|job| job()).count())
                .unwrap()
        })
        .collect();
    let handle = Handle {
        timers: timer_tx,
        pool: pool_tx,
        spawned: Arc::new(Mutex::new(Vec::new())),
        seq: Arc::default(),
    };

    // A "network" thread that answers once, after a while.
    let (net_slot, net_reply) = slot::<u64>();
    let net = thread::spawn(move || {
        thread::sleep(Duration::from_micros(150));
        fill(&net_slot, reprise::random::u64() % 1000);
    });

    let root = {
        let (h, log) = (handle.clone(), Arc::clone(&log));
        async move {
            let mut joins = Vec::new();
            for t in 0..tasks {
                let (h2, log) = (h.clone(), Arc::clone(&log));
                joins.push(h.spawn(async move {
                    let mut acc = t as u64;
                    for step in 0..3u64 {
                        if (t as u64 + step).is_multiple_of(2) {
                            h2.sleep(Duration::from_micros(50 * (t as u64 + 1))).await;
                            log.lock().unwrap().push(format!("task {t} slept {step}"));
                        } else {
                            acc = h2
                                .spawn_blocking(move || {
                                    (0..200 + acc).fold(acc, |a, x| a.wrapping_mul(31).wrapping_add(x))
                                })
                                .await
                                % 997;
                            log.lock().unwrap().push(format!("task {t} computed {acc}"));
                        }
                    }
                    acc
                }));
            }
            let reply = net_reply.await;
            log.lock().unwrap().push("root got the reply".into());
            let mut sum = reply;
            for j in joins {
                sum += j.await;
            }
            sum
        }
    };
    let (sum, polls) = block_on(root, &handle);
    drop(handle);
    net.join().unwrap();
    let jobs: usize = pool.into_iter().map(|p| p.join().unwrap()).sum();
    timer.join().unwrap();
    let mut log = std::mem::take(&mut *log.lock().unwrap());
    log.push(format!("sum {sum} jobs {jobs} polls {polls}"));
    log.join("\n")
}

/// Runs `root` and the tasks it spawns on this thread until `root` is
/// done; returns its output and how many polls that took.
fn block_on<T>(root: impl Future<Output = T>, handle: &Handle) -> (T, u32) {
    let mut root = std::pin::pin!(root);
    let me = thread::current();
    let root_waker = Arc::new(ThreadWaker { thread: me.clone(), woken: AtomicBool::new(true) });
    let waker = Waker::from(Arc::clone(&root_waker));
    let (queue_tx, queue_rx) = channel::unbounded::<usize>();
    let mut tasks: Vec<Option<Task>> = Vec::new();
    let mut polls = 0;
    loop {
        let mut progressed = false;
        if root_waker.woken.swap(false, Ordering::AcqRel) {
            progressed = true;
            polls += 1;
            if let Poll::Ready(v) = root.as_mut().poll(&mut Context::from_waker(&waker)) {
                return (v, polls);
            }
        }
        // Tasks spawned since: queued for their first poll.
        for task in handle.spawned.lock().unwrap().drain(..) {
            tasks.push(Some(task));
            queue_tx.send(tasks.len() - 1).unwrap();
        }
        while let Ok(id) = queue_rx.try_recv() {
            progressed = true;
            let Some(task) = tasks[id].as_mut() else { continue };
            let w = Waker::from(Arc::new(TaskWaker { id, queue: queue_tx.clone(), executor: me.clone() }));
            polls += 1;
            if task.as_mut().poll(&mut Context::from_waker(&w)).is_ready() {
                tasks[id] = None;
            }
        }
        if !progressed {
            thread::park();
        }
    }
}

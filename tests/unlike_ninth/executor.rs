//! A tiny multi-threaded task executor written without tokio: tasks are
//! `Arc<Task>`s holding their future in a `Mutex<Option<Pin<Box<dyn
//! Future>>>>`; waking a task re-queues it on a reprise channel unless it
//! is queued already (an `AtomicBool`); N workers take tasks off the
//! channel and poll them; a counter on an atomic says how many tasks are
//! left, and the worker that takes it to zero unparks the main thread,
//! which parks until it is zero. Programs: tasks awaiting oneshots that
//! other threads complete (and then each other's); tasks that yield
//! (waking themselves while polled, so another worker may wait on the
//! task's lock); an async semaphore (a waiter queue of wakers under a
//! `Mutex`) whose permits bound how many tasks are inside at once.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use reprise::channel::{self, Receiver, Sender};
use reprise::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};
use reprise::sync::Mutex;
use reprise::thread::{self, Thread};

use super::block_on::{join_all, oneshot, yield_now, Completer};
use super::replays_to;

/// A task's future.
pub(crate) type BoxFuture = Pin<Box<dyn Future<Output = ()> + Send>>;

/// One task: its future (`None` once it completed) and whether it sits in
/// the queue.
pub(crate) struct Task {
    future: Mutex<Option<BoxFuture>>,
    queued: AtomicBool,
    queue: Sender<Option<Arc<Task>>>,
}

impl Wake for Task {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if !self.queued.swap(true, Ordering::AcqRel) {
            // The executor keeps a receiver until its `run` has joined
            // every thread that may wake a task: the send cannot fail.
            self.queue.send(Some(Arc::clone(self))).unwrap();
        }
    }
}

/// What the workers share.
pub(crate) struct Shared {
    left: AtomicUsize,
    main: Thread,
    polls: AtomicU32,
}

/// How a worker treats a task it took off the queue.
#[derive(Clone, Copy, PartialEq)]
pub(crate) enum Worker {
    /// Polls it if it has not completed, and drops its future when it does.
    Correct,
    /// Planted: keeps the future after it completed and polls whatever is
    /// queued (a late wake polls a finished future again).
    PollsAfterCompletion,
}

/// The executor: `workers` threads; `spawn` queues a task; `run` waits
/// until every spawned task completed, stops the workers and returns how
/// many polls they made.
pub(crate) struct Executor {
    queue: Sender<Option<Arc<Task>>>,
    rx: Receiver<Option<Arc<Task>>>,
    shared: Arc<Shared>,
    workers: Vec<thread::JoinHandle<()>>,
}

impl Executor {
    pub(crate) fn new(workers: usize, kind: Worker) -> Executor {
        let (queue, rx) = channel::unbounded::<Option<Arc<Task>>>();
        let shared =
            Arc::new(Shared { left: AtomicUsize::new(0), main: thread::current(), polls: AtomicU32::new(0) });
        let workers = (0..workers)
            .map(|i| {
                let (rx, shared) = (rx.clone(), Arc::clone(&shared));
                thread::Builder::new()
                    .name(format!("worker-{i}"))
                    .spawn(move || work(&rx, &shared, kind))
                    .unwrap()
            })
            .collect();
        Executor { queue, rx, shared, workers }
    }

    pub(crate) fn spawn(&self, future: impl Future<Output = ()> + Send + 'static) {
        self.shared.left.fetch_add(1, Ordering::AcqRel);
        let task = Arc::new(Task {
            future: Mutex::new(Some(Box::pin(future))),
            queued: AtomicBool::new(true),
            queue: self.queue.clone(),
        });
        self.queue.send(Some(task)).unwrap();
    }

    /// Parks until no task is left, then stops the workers; `before_stop`
    /// runs in between (joining the threads that may still wake tasks).
    pub(crate) fn run(self, before_stop: impl FnOnce()) -> u32 {
        while self.shared.left.load(Ordering::Acquire) > 0 {
            thread::park();
        }
        before_stop();
        for _ in &self.workers {
            self.queue.send(None).unwrap();
        }
        for w in self.workers {
            w.join().unwrap();
        }
        // Late wakes of finished tasks may still sit in the queue: drop
        // them (each holds a sender of this queue).
        while self.rx.try_recv().is_ok() {}
        self.shared.polls.load(Ordering::Acquire)
    }
}

fn work(rx: &Receiver<Option<Arc<Task>>>, shared: &Shared, kind: Worker) {
    while let Some(task) = rx.recv().unwrap() {
        task.queued.store(false, Ordering::Release);
        let waker = Waker::from(Arc::clone(&task));
        let mut cx = Context::from_waker(&waker);
        let mut slot = task.future.lock().unwrap();
        let Some(future) = slot.as_mut() else {
            continue; // a late wake of a finished task
        };
        shared.polls.fetch_add(1, Ordering::Relaxed);
        if future.as_mut().poll(&mut cx).is_ready() {
            if kind == Worker::Correct {
                *slot = None;
            }
            drop(slot);
            if shared.left.fetch_sub(1, Ordering::AcqRel) == 1 {
                shared.main.unpark();
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Tasks awaiting oneshots completed by other threads, then each other.

/// Two workers, three tasks. Task `i` awaits a oneshot that completer
/// thread `i` fills with `i + 1` after a yield, adds it to the shared sum,
/// and hands `10 * (i + 1)` to task `(i + 1) % 3` through a second
/// oneshot, whose value it also awaits from task `(i + 2) % 3`. std: every
/// task completes, sum 1 + 2 + 3 + 10 + 20 + 30.
pub(super) fn tasks_await_oneshots() -> String {
    let exec = Executor::new(2, Worker::Correct);
    let sum = Arc::new(AtomicU32::new(0));
    let mut from_outside = Vec::new();
    let mut ring_tx: Vec<Option<Completer<u32>>> = Vec::new();
    let mut ring_rx = Vec::new();
    for _ in 0..3 {
        let (c, r) = oneshot::<u32>();
        ring_tx.push(Some(c));
        ring_rx.push(Some(r));
    }
    for i in 0..3usize {
        let (c, r) = oneshot::<u32>();
        from_outside.push(c);
        let hand_to = ring_tx[(i + 1) % 3].take().unwrap();
        let mine = ring_rx[i].take().unwrap();
        let sum = Arc::clone(&sum);
        exec.spawn(async move {
            let v = r.await;
            sum.fetch_add(v, Ordering::AcqRel);
            hand_to.complete(10 * (v));
            let w = mine.await;
            sum.fetch_add(w, Ordering::AcqRel);
        });
    }
    let completers: Vec<_> = from_outside
        .into_iter()
        .enumerate()
        .map(|(i, c)| {
            thread::spawn(move || {
                thread::yield_now();
                c.complete(i as u32 + 1);
            })
        })
        .collect();
    let polls = exec.run(|| {
        for h in completers {
            h.join().unwrap();
        }
    });
    // Each task: polled first, then at most once per wake (two oneshots).
    assert!((3..=9).contains(&polls), "{polls} polls");
    format!("sum {}", sum.load(Ordering::Acquire))
}

#[test]
fn tasks_await_oneshots_from_threads_and_from_each_other() {
    replays_to("ninth-tasks", "sum 66", tasks_await_oneshots);
}

/// Three workers, four tasks that each yield three times (waking
/// themselves while being polled: the re-queued task may be taken by
/// another worker, which then waits for the first to let go of its lock)
/// and count their steps on one atomic. std: 4 × 4 steps.
pub(super) fn yielding_tasks() -> String {
    let exec = Executor::new(3, Worker::Correct);
    let steps = Arc::new(AtomicU32::new(0));
    for _ in 0..4 {
        let steps = Arc::clone(&steps);
        exec.spawn(async move {
            for _ in 0..3 {
                steps.fetch_add(1, Ordering::AcqRel);
                yield_now().await;
            }
            steps.fetch_add(1, Ordering::AcqRel);
        });
    }
    let polls = exec.run(|| {});
    assert_eq!(polls, 16, "each task is polled once per yield and once more");
    format!("steps {}", steps.load(Ordering::Acquire))
}

#[test]
fn tasks_that_wake_themselves_while_polled() {
    replays_to("ninth-yielding", "steps 16", yielding_tasks);
}

// ---------------------------------------------------------------------------
// An async semaphore.

/// A semaphore whose waiters queue their wakers.
pub(crate) struct Semaphore {
    state: Mutex<(usize, VecDeque<(u32, Waker)>)>,
}

impl Semaphore {
    pub(crate) fn new(permits: usize) -> Semaphore {
        Semaphore { state: Mutex::new((permits, VecDeque::new())) }
    }

    pub(crate) fn acquire(&self, id: u32) -> Acquire<'_> {
        Acquire { sem: self, id }
    }

    /// Gives a permit back and wakes the first waiter (outside the lock).
    pub(crate) fn release(&self) {
        let next = {
            let mut state = self.state.lock().unwrap();
            state.0 += 1;
            state.1.pop_front()
        };
        if let Some((_, w)) = next {
            w.wake();
        }
    }
}

/// A future of one permit, for waiter `id`.
pub(crate) struct Acquire<'a> {
    sem: &'a Semaphore,
    id: u32,
}

impl Future for Acquire<'_> {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut state = self.sem.state.lock().unwrap();
        if state.0 > 0 {
            state.0 -= 1;
            // Out of the queue if it was in it (woken, or barged past).
            state.1.retain(|(id, _)| *id != self.id);
            // A permit left and a waiter queued: pass the wake on, so a
            // wake this waiter consumed is not lost to the others.
            let pass = (state.0 > 0).then(|| state.1.pop_front()).flatten();
            drop(state);
            if let Some((_, w)) = pass {
                w.wake();
            }
            return Poll::Ready(());
        }
        match state.1.iter_mut().find(|(id, _)| *id == self.id) {
            Some((_, w)) => *w = cx.waker().clone(),
            None => state.1.push_back((self.id, cx.waker().clone())),
        }
        Poll::Pending
    }
}

/// Two workers, five tasks through a semaphore of two permits: inside,
/// each counts itself on `inside` (checking at most two are), yields, and
/// leaves. std: all five went through, never more than two inside.
pub(super) fn semaphore_tasks() -> String {
    let exec = Executor::new(2, Worker::Correct);
    let sem = Arc::new(Semaphore::new(2));
    let inside = Arc::new(AtomicU32::new(0));
    let most = Arc::new(AtomicU32::new(0));
    let done = Arc::new(AtomicU32::new(0));
    for id in 0..5u32 {
        let (sem, inside, most, done) =
            (Arc::clone(&sem), Arc::clone(&inside), Arc::clone(&most), Arc::clone(&done));
        exec.spawn(async move {
            sem.acquire(id).await;
            let now = inside.fetch_add(1, Ordering::AcqRel) + 1;
            assert!(now <= 2, "{now} tasks inside a semaphore of 2");
            most.fetch_max(now, Ordering::AcqRel);
            yield_now().await;
            inside.fetch_sub(1, Ordering::AcqRel);
            sem.release();
            done.fetch_add(1, Ordering::AcqRel);
        });
    }
    exec.run(|| {});
    let state = sem.state.lock().unwrap();
    assert!(state.1.is_empty(), "waiters left: {:?}", state.1.iter().map(|w| w.0).collect::<Vec<_>>());
    format!("{} through, {} permits back", done.load(Ordering::Acquire), state.0)
}

#[test]
fn an_async_semaphore_lets_two_in_at_a_time() {
    replays_to("ninth-semaphore", "5 through, 2 permits back", semaphore_tasks);
}

/// Tasks that join futures inside: one task joins three oneshots that
/// three threads complete, the other awaits the first task's total through
/// a oneshot. std: total 6, relayed as 60.
pub(super) fn joining_task() -> String {
    let exec = Executor::new(2, Worker::Correct);
    let (relay_c, relay_r) = oneshot::<u32>();
    let out = Arc::new(Mutex::new(None));
    let mut receivers = Vec::new();
    let mut threads = Vec::new();
    for i in 1..=3u32 {
        let (c, r) = oneshot::<u32>();
        receivers.push(r);
        threads.push(thread::spawn(move || c.complete(i)));
    }
    exec.spawn(async move {
        let total: u32 = join_all(receivers).await.into_iter().sum();
        relay_c.complete(total * 10);
    });
    {
        let out = Arc::clone(&out);
        exec.spawn(async move {
            let v = relay_r.await;
            *out.lock().unwrap() = Some(v);
        });
    }
    exec.run(|| {
        for h in threads {
            h.join().unwrap();
        }
    });
    let v = out.lock().unwrap().take();
    format!("relayed {v:?}")
}

#[test]
fn a_task_joins_three_oneshots_and_relays_the_total() {
    replays_to("ninth-joining", "relayed Some(60)", joining_task);
}

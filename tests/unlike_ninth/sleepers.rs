//! An executor whose idle workers park: the run queue is a `Mutex<VecDeque>`,
//! an idle worker puts its `thread::current()` on a sleeper list, looks at
//! the queue once more and parks; a wake pushes the task and unparks a
//! sleeper it pops. The workers are scoped threads; at the end the main
//! thread raises `shutdown` and unparks each through its
//! `ScopedJoinHandle::thread()` (the same thread its worker registered as
//! `current()`). A task that panics is caught around its poll and counted
//! as failed; its `Drop`s (a oneshot sender, cancelling) run while the
//! worker unwinds.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Wake, Waker};

use reprise::panic::{catch_unwind, AssertUnwindSafe};
use reprise::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};
use reprise::sync::Mutex;
use reprise::thread::{self, Thread};

use super::block_on::yield_now;
use super::cancel::cancellable;
use super::replays_to_or_stops_unwinding;

type BoxFuture = Pin<Box<dyn Future<Output = u32> + Send>>;

struct Pool {
    queue: Mutex<VecDeque<Arc<Job>>>,
    sleepers: Mutex<Vec<Thread>>,
    left: AtomicUsize,
    shutdown: AtomicBool,
    main: Thread,
    sum: AtomicU32,
    failed: AtomicU32,
}

struct Job {
    future: Mutex<Option<BoxFuture>>,
    queued: AtomicBool,
    pool: Arc<Pool>,
}

impl Wake for Job {
    fn wake(self: Arc<Self>) {
        if !self.queued.swap(true, Ordering::AcqRel) {
            let pool = Arc::clone(&self.pool);
            pool.queue.lock().unwrap().push_back(self);
            let sleeper = pool.sleepers.lock().unwrap().pop();
            if let Some(t) = sleeper {
                t.unpark();
            }
        }
    }
}

impl Pool {
    fn spawn(self: &Arc<Self>, future: impl Future<Output = u32> + Send + 'static) {
        self.left.fetch_add(1, Ordering::AcqRel);
        let job = Arc::new(Job {
            future: Mutex::new(Some(Box::pin(future))),
            queued: AtomicBool::new(false),
            pool: Arc::clone(self),
        });
        job.wake();
    }

    /// Polls one job, catching its panic; counts it when it ends.
    fn run(&self, job: Arc<Job>) {
        job.queued.store(false, Ordering::Release);
        let waker = Waker::from(Arc::clone(&job));
        let mut slot = job.future.lock().unwrap();
        let Some(future) = slot.as_mut() else { return };
        let polled =
            catch_unwind(AssertUnwindSafe(|| future.as_mut().poll(&mut Context::from_waker(&waker))));
        let ended = match polled {
            Ok(std::task::Poll::Pending) => false,
            Ok(std::task::Poll::Ready(v)) => {
                self.sum.fetch_add(v, Ordering::AcqRel);
                true
            }
            Err(_) => {
                self.failed.fetch_add(1, Ordering::AcqRel);
                true
            }
        };
        if ended {
            *slot = None;
            drop(slot);
            if self.left.fetch_sub(1, Ordering::AcqRel) == 1 {
                self.main.unpark();
            }
        }
    }

    /// Runs jobs until shutdown; parks on the sleeper list when the queue
    /// is empty (registered first, then the queue looked at again).
    fn work(&self) {
        let me = thread::current();
        loop {
            let job = self.queue.lock().unwrap().pop_front();
            if let Some(job) = job {
                self.run(job);
                continue;
            }
            if self.shutdown.load(Ordering::Acquire) {
                return;
            }
            self.sleepers.lock().unwrap().push(me.clone());
            let more = !self.queue.lock().unwrap().is_empty() || self.shutdown.load(Ordering::Acquire);
            if more {
                self.sleepers.lock().unwrap().retain(|t| t.id() != me.id());
                continue;
            }
            thread::park();
            self.sleepers.lock().unwrap().retain(|t| t.id() != me.id());
        }
    }
}

/// Three scoped workers, six jobs: jobs 0-2 await a cancellable oneshot a
/// feeder thread sends `i + 1` on; job 3 yields twice and gives 10; job 4
/// awaits one and then panics (caught by its worker; the oneshot sender it
/// holds is dropped while the worker unwinds, cancelling job 5's wait);
/// job 5 gives 100 if cancelled. std: sum 1 + 2 + 3 + 10 + 100, one failed.
pub(super) fn sleeper_pool() -> String {
    let pool = Arc::new(Pool {
        queue: Mutex::new(VecDeque::new()),
        sleepers: Mutex::new(Vec::new()),
        left: AtomicUsize::new(0),
        shutdown: AtomicBool::new(false),
        main: thread::current(),
        sum: AtomicU32::new(0),
        failed: AtomicU32::new(0),
    });
    thread::scope(|s| {
        let workers: Vec<_> = (0..3).map(|_| s.spawn(|| pool.work())).collect();
        let mut senders = Vec::new();
        for _ in 0..3 {
            let (tx, rx) = cancellable();
            senders.push(tx);
            pool.spawn(async move { rx.await.expect("sent") });
        }
        pool.spawn(async {
            yield_now().await;
            yield_now().await;
            10
        });
        let (tx5, rx5) = cancellable();
        let (tx4, rx4) = cancellable();
        senders.push(tx4);
        pool.spawn(async move {
            let _held = tx5;
            let _ = rx4.await;
            panic!("staged: job 4 fails");
        });
        pool.spawn(async move {
            // Cancelled (job 4's panic drops its sender): 100.
            rx5.await.unwrap_or(100)
        });
        let feeder = s.spawn(move || {
            for (i, tx) in senders.into_iter().enumerate() {
                thread::yield_now();
                tx.send(i as u32 + 1);
            }
        });
        while pool.left.load(Ordering::Acquire) > 0 {
            thread::park();
        }
        feeder.join().unwrap();
        pool.shutdown.store(true, Ordering::Release);
        for w in &workers {
            w.thread().unpark();
        }
        for w in workers {
            w.join().unwrap();
        }
    });
    format!("sum {}, {} failed", pool.sum.load(Ordering::Acquire), pool.failed.load(Ordering::Acquire))
}

#[test]
fn an_executor_whose_idle_workers_park_on_a_sleeper_list() {
    // It takes locks while its worker unwinds: a coroutine replay may stop
    // unsure whether a thread unwinds (README's known limit).
    replays_to_or_stops_unwinding("ninth-sleepers", "sum 116, 1 failed", sleeper_pool);
}

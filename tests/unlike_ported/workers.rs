//! A work-stealing pool (a `Mutex<VecDeque>` per worker, victims drawn
//! with `reprise::random`, termination when an `AtomicUsize` of idle
//! workers reaches the pool's size), a oneshot and a semaphore built on a
//! mutex and a condvar driving a bounded parallel map, and a graceful
//! shutdown (an `AtomicBool`, `select!` over a shutdown channel and a work
//! channel, `Drop` impls that join their threads).

use std::collections::VecDeque;
use std::sync::Arc;

use reprise::channel::{self, select, Receiver, Sender};
use reprise::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use reprise::sync::{Barrier, Condvar, Mutex};
use reprise::thread;
use reprise::time::Duration;

use super::runs;
use crate::util::replays_give_the_transcript;

#[test]
fn a_work_stealing_pool_with_random_victims_replays_to_its_recorded_transcript() {
    let distinct = replays_give_the_transcript("ported-stealing", runs(), || stealing(3, false));
    assert!(distinct > 1, "every run interleaved the same way: the test shows little");
}

#[test]
fn a_bounded_parallel_map_on_a_semaphore_and_oneshots_replays() {
    let distinct = replays_give_the_transcript("ported-parmap", runs(), || parallel_map(8, 3, true));
    assert!(distinct > 1, "every run interleaved the same way: the test shows little");
}

#[test]
fn a_graceful_shutdown_replays_to_its_recorded_transcript() {
    let distinct = replays_give_the_transcript("ported-shutdown", runs(), || graceful_shutdown(3, 20));
    assert!(distinct > 1, "every run interleaved the same way: the test shows little");
}

/// Tasks `(id, depth)`; each task below depth 3 makes two children, pushed
/// on the worker's own deque. A worker with nothing to run or steal counts
/// itself idle, and all leave once every one is: right while only a busy
/// worker pushes, and only on its own deque (an idle one's deque stays
/// empty). `share` plants a bug: the second child goes to the next
/// worker's deque, which may be idle, and all may leave with it unrun.
pub fn stealing(workers: usize, share: bool) -> String {
    type Deques = Arc<Vec<Mutex<VecDeque<(u32, u32)>>>>;
    let deques: Deques = Arc::new((0..workers).map(|_| Mutex::new(VecDeque::new())).collect());
    deques[0].lock().unwrap().push_back((1, 0));
    let idle = Arc::new(AtomicUsize::new(0));
    let ran = Arc::new(AtomicUsize::new(0));
    // Everyone starts together, or worker 0 may be done before the others run.
    let start = Arc::new(Barrier::new(workers));
    let hs: Vec<_> = (0..workers)
        .map(|w| {
            let (deques, idle, ran, start) =
                (Arc::clone(&deques), Arc::clone(&idle), Arc::clone(&ran), Arc::clone(&start));
            thread::Builder::new()
                .name(format!("worker-{w}"))
                .spawn(move || {
                    let n = deques.len();
                    let steal = |tries: usize| {
                        for _ in 0..tries {
                            let victim = (reprise::random::u64() as usize) % n;
                            if victim == w {
                                continue;
                            }
                            if let Some(t) = deques[victim].lock().unwrap().pop_front() {
                                return Some((t, victim));
                            }
                        }
                        None
                    };
                    let mut log = Vec::new();
                    start.wait();
                    'work: loop {
                        let own = deques[w].lock().unwrap().pop_back();
                        let task = match own {
                            Some(t) => Some(t),
                            None => steal(2).map(|(t, v)| {
                                log.push(format!("{}<-w{v}", t.0));
                                t
                            }),
                        };
                        if let Some((id, depth)) = task {
                            ran.fetch_add(1, Ordering::Relaxed);
                            thread::yield_now();
                            if depth < 3 {
                                deques[w].lock().unwrap().push_back((id * 2, depth + 1));
                                let to = if share { (w + 1) % n } else { w };
                                deques[to].lock().unwrap().push_back((id * 2 + 1, depth + 1));
                            }
                            continue;
                        }
                        idle.fetch_add(1, Ordering::AcqRel);
                        loop {
                            if idle.load(Ordering::Acquire) == n {
                                break 'work;
                            }
                            let victim = (reprise::random::u64() as usize) % n;
                            if !deques[victim].lock().unwrap().is_empty() {
                                idle.fetch_sub(1, Ordering::AcqRel);
                                continue 'work;
                            }
                            thread::yield_now();
                        }
                    }
                    format!("w{w} stole {}", log.join(","))
                })
                .unwrap()
        })
        .collect();
    let log: Vec<String> = hs.into_iter().map(|h| h.join().unwrap()).collect();
    assert_eq!(ran.load(Ordering::Relaxed), 15, "a task was never run");
    log.join("\n")
}

/// A oneshot: the value, and whether its sender is gone.
struct Oneshot<T> {
    state: Mutex<(Option<T>, bool)>,
    ready: Condvar,
}

struct OneshotSender<T>(Arc<Oneshot<T>>);
struct OneshotReceiver<T>(Arc<Oneshot<T>>);

fn oneshot<T>() -> (OneshotSender<T>, OneshotReceiver<T>) {
    let o = Arc::new(Oneshot { state: Mutex::new((None, false)), ready: Condvar::new() });
    (OneshotSender(Arc::clone(&o)), OneshotReceiver(o))
}

impl<T> OneshotSender<T> {
    fn send(self, v: T) {
        self.0.state.lock().unwrap().0 = Some(v);
        // Drop marks it closed and notifies.
    }
}

impl<T> Drop for OneshotSender<T> {
    fn drop(&mut self) {
        self.0.state.lock().unwrap().1 = true;
        self.0.ready.notify_one();
    }
}

impl<T> OneshotReceiver<T> {
    fn recv(self) -> Option<T> {
        let s = self.0.state.lock().unwrap();
        let mut s = self.0.ready.wait_while(s, |s| s.0.is_none() && !s.1).unwrap();
        s.0.take()
    }
}

pub struct Semaphore {
    permits: Mutex<usize>,
    freed: Condvar,
    /// The planted bug when false: `acquire` checks once with `if`.
    recheck: bool,
}

pub struct Permit<'a>(&'a Semaphore);

impl Semaphore {
    pub fn new(n: usize, recheck: bool) -> Semaphore {
        Semaphore { permits: Mutex::new(n), freed: Condvar::new(), recheck }
    }

    pub fn acquire(&self) -> Permit<'_> {
        let mut p = self.permits.lock().unwrap();
        if self.recheck {
            while *p == 0 {
                p = self.freed.wait(p).unwrap();
            }
        } else if *p == 0 {
            p = self.freed.wait(p).unwrap();
        }
        *p = p.saturating_sub(1);
        Permit(self)
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        *self.0.permits.lock().unwrap() += 1;
        self.0.freed.notify_all();
    }
}

/// Maps `items` inputs with at most `limit` at a time: a thread per item
/// waits for a permit, computes, and answers on its oneshot; the root reads
/// the answers in order. Panics, once every thread is joined, if more than
/// `limit` ran at once.
pub fn parallel_map(items: u64, limit: usize, recheck: bool) -> String {
    let sem = Arc::new(Semaphore::new(limit, recheck));
    let running = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let starts = Arc::new(Mutex::new(Vec::new()));
    let mut answers = Vec::new();
    let mut hs = Vec::new();
    for i in 0..items {
        let (tx, rx) = oneshot::<u64>();
        answers.push(rx);
        let (sem, running, peak, starts) =
            (Arc::clone(&sem), Arc::clone(&running), Arc::clone(&peak), Arc::clone(&starts));
        hs.push(thread::spawn(move || {
            let _permit = sem.acquire();
            let now = running.fetch_add(1, Ordering::AcqRel) + 1;
            peak.fetch_max(now, Ordering::AcqRel);
            starts.lock().unwrap().push(i);
            if i.is_multiple_of(3) {
                thread::yield_now();
            }
            running.fetch_sub(1, Ordering::AcqRel);
            // Item 5 fails: its sender drops unsent.
            if i != 5 {
                tx.send(i * i + 1);
            }
        }));
    }
    let results: Vec<Option<u64>> = answers.into_iter().map(|rx| rx.recv()).collect();
    for h in hs {
        h.join().unwrap();
    }
    let peak = peak.load(Ordering::Acquire);
    assert!(peak <= limit, "{peak} ran at once, over the limit of {limit}");
    let starts = starts.lock().unwrap();
    format!("results {results:?}\nstarts {starts:?} peak {peak}")
}

/// A service whose `Drop` stops and joins its workers.
struct Service {
    running: Arc<AtomicBool>,
    shutdown: Option<Sender<()>>,
    work: Option<Sender<u32>>,
    workers: Vec<thread::JoinHandle<Vec<u32>>>,
    log: Arc<Mutex<Vec<String>>>,
}

/// Logs when a worker's loop ends, however it ends.
struct Farewell(usize, Arc<Mutex<Vec<String>>>);

impl Drop for Farewell {
    fn drop(&mut self) {
        self.1.lock().unwrap().push(format!("worker {} stopped", self.0));
    }
}

impl Service {
    fn start(workers: usize) -> Service {
        let running = Arc::new(AtomicBool::new(true));
        let (shutdown, shutdown_rx) = channel::bounded::<()>(0);
        let (work, work_rx) = channel::bounded::<u32>(2);
        let log = Arc::new(Mutex::new(Vec::new()));
        let workers = (0..workers)
            .map(|i| {
                let (running, shutdown_rx, work_rx, log): (_, Receiver<()>, Receiver<u32>, _) =
                    (Arc::clone(&running), shutdown_rx.clone(), work_rx.clone(), Arc::clone(&log));
                thread::spawn(move || {
                    let _bye = Farewell(i, Arc::clone(&log));
                    let mut done = Vec::new();
                    while running.load(Ordering::Acquire) {
                        select! {
                            recv(shutdown_rx) -> _ => break,
                            recv(work_rx) -> job => match job {
                                Ok(j) => {
                                    if j % 4 == i as u32 {
                                        thread::sleep(Duration::from_micros(30));
                                    }
                                    done.push(j);
                                }
                                Err(_) => break,
                            },
                        }
                    }
                    done
                })
            })
            .collect();
        Service { running, shutdown: Some(shutdown), work: Some(work), workers, log }
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        self.running.store(false, Ordering::Release);
        // Disconnecting the shutdown channel wakes every select.
        drop(self.shutdown.take());
        let work = self.work.take().unwrap();
        let left = work.len();
        drop(work);
        let mut total = 0;
        for (i, w) in self.workers.drain(..).enumerate() {
            let done = w.join().unwrap();
            total += done.len();
            self.log.lock().unwrap().push(format!("worker {i} did {done:?}"));
        }
        self.log.lock().unwrap().push(format!("{total} done, {left} queued at shutdown"));
    }
}

pub fn graceful_shutdown(workers: usize, jobs: u32) -> String {
    let service = Service::start(workers);
    let log = Arc::clone(&service.log);
    let submitter = service.work.clone().unwrap();
    let feeder = thread::spawn(move || {
        let mut sent = 0;
        for j in 0..jobs {
            match submitter.send_timeout(j, Duration::from_micros(100)) {
                Ok(()) => sent += 1,
                Err(_) => break,
            }
        }
        sent
    });
    thread::sleep(Duration::from_micros(150));
    drop(service);
    let sent = feeder.join().unwrap();
    let mut log = std::mem::take(&mut *log.lock().unwrap());
    log.push(format!("fed {sent}"));
    log.join("\n")
}

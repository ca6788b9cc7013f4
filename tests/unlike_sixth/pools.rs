//! Pools and reductions: the Rust Book's thread pool (workers share one
//! `mpsc::Receiver` behind a `Mutex` and hold that lock while they wait in
//! `recv_timeout`), stopped by an `AtomicBool` shutdown flag and a `Drop`
//! that joins; and a map-reduce over a slice cut in chunks by scoped
//! threads, whose partial results land in a `Mutex<Vec>` and are merged
//! pairwise by workers that pull two, merge and push one back until one is
//! left, then sorted.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Arc;

use reprise::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use reprise::sync::{mpsc, Mutex};
use reprise::thread;
use reprise::time::Duration;

use super::replays_and_varies;

// ---------------------------------------------------------------------------
// The Rust Book's thread pool, with a shutdown flag.

type Job = Box<dyn FnOnce(usize) + Send + 'static>;

pub(super) struct ThreadPool {
    sender: Option<mpsc::Sender<Job>>,
    shutdown: Arc<AtomicBool>,
    workers: Vec<thread::JoinHandle<u32>>,
    /// How many jobs each worker ran, filled by `Drop`.
    pub(super) ran: Arc<Mutex<Vec<u32>>>,
}

impl ThreadPool {
    pub(super) fn new(size: usize) -> ThreadPool {
        let (sender, receiver) = mpsc::channel::<Job>();
        let receiver = Arc::new(Mutex::new(receiver));
        let shutdown = Arc::new(AtomicBool::new(false));
        let workers = (0..size)
            .map(|id| {
                let (receiver, shutdown) = (Arc::clone(&receiver), Arc::clone(&shutdown));
                thread::Builder::new()
                    .name(format!("pool-{id}"))
                    .spawn(move || {
                        let mut ran = 0;
                        while !shutdown.load(Ordering::Acquire) {
                            // The guard lives to the end of the statement:
                            // the lock is held while the worker waits.
                            let message = receiver.lock().unwrap().recv_timeout(Duration::from_micros(200));
                            match message {
                                Ok(job) => {
                                    job(id);
                                    ran += 1;
                                }
                                Err(mpsc::RecvTimeoutError::Timeout) => {}
                                Err(mpsc::RecvTimeoutError::Disconnected) => break,
                            }
                        }
                        ran
                    })
                    .unwrap()
            })
            .collect();
        ThreadPool { sender: Some(sender), shutdown, workers, ran: Arc::new(Mutex::new(Vec::new())) }
    }

    pub(super) fn execute(&self, job: impl FnOnce(usize) + Send + 'static) {
        self.sender.as_ref().unwrap().send(Box::new(job)).unwrap();
    }
}

impl Drop for ThreadPool {
    fn drop(&mut self) {
        self.shutdown.store(true, Ordering::Release);
        drop(self.sender.take());
        let ran: Vec<u32> = self.workers.drain(..).map(|w| w.join().unwrap()).collect();
        *self.ran.lock().unwrap() = ran;
    }
}

#[test]
fn the_books_thread_pool_with_a_shutdown_flag_replays_to_its_transcript() {
    replays_and_varies("sixth-book-pool", book_pool);
}

/// Three workers run sixteen jobs; each job appends `job@worker` to a log
/// and reports on a results channel. The caller waits for every result
/// before dropping the pool, so the flag only stops idle workers.
pub(super) fn book_pool() -> String {
    let log = Arc::new(Mutex::new(String::new()));
    let (done, results) = mpsc::channel::<usize>();
    let pool = ThreadPool::new(3);
    for job in 0..16usize {
        let (log, done) = (Arc::clone(&log), done.clone());
        pool.execute(move |worker| {
            let _ = write!(log.lock().unwrap(), "{job}@{worker} ");
            done.send(job).unwrap();
        });
    }
    drop(done);
    let mut finished: Vec<usize> = results.iter().take(16).collect();
    let ran = Arc::clone(&pool.ran);
    drop(pool);
    let ran = ran.lock().unwrap().clone();
    assert_eq!(ran.iter().sum::<u32>(), 16, "{ran:?}");
    finished.sort_unstable();
    assert_eq!(finished, (0..16).collect::<Vec<_>>());
    let log = log.lock().unwrap().clone();
    format!("{log}{ran:?}")
}

/// The planted bug: jobs queued, then the pool dropped at once; a worker
/// that sees the flag before the queue is drained leaves a job unrun.
pub(super) fn pool_dropped_early() {
    let counted = Arc::new(AtomicUsize::new(0));
    let pool = ThreadPool::new(2);
    for _ in 0..3 {
        let counted = Arc::clone(&counted);
        pool.execute(move |_| {
            counted.fetch_add(1, Ordering::AcqRel);
        });
    }
    drop(pool);
    let n = counted.load(Ordering::Acquire);
    assert_eq!(n, 3, "the pool ran {n} of 3 jobs");
}

// ---------------------------------------------------------------------------
// A map-reduce over chunks with a pairwise merge.

#[test]
fn a_chunked_map_reduce_with_a_pairwise_merge_replays_to_its_transcript() {
    replays_and_varies("sixth-map-reduce", map_reduce);
}

/// A partial result: the chunks it covers, as a merge expression, and its
/// word counts.
type Partial = (String, BTreeMap<&'static str, u32>);

/// Twelve scoped mappers count the words of their chunk and push the counts
/// into a shared list; three reducers (started with the mappers) pull two
/// partials, merge them outside the lock and push the merge back, until
/// one partial is left and no merge is in flight. The transcript: the
/// merge tree, then the sorted counts.
pub(super) fn map_reduce() -> String {
    const WORDS: [&str; 5] = ["ant", "bee", "cat", "dog", "eel"];
    let text: Vec<&'static str> = (0..96usize).map(|i| WORDS[(i * 7 + i / 5) % 5]).collect();
    let partials: Mutex<(Vec<Partial>, usize)> = Mutex::new((Vec::new(), 0));
    let mapped = AtomicUsize::new(0);
    let chunks = text.chunks(8).count();
    thread::scope(|s| {
        for (c, chunk) in text.chunks(8).enumerate() {
            let (partials, mapped) = (&partials, &mapped);
            s.spawn(move || {
                let mut counts = BTreeMap::new();
                for &w in chunk {
                    *counts.entry(w).or_insert(0) += 1;
                }
                // Counted under the lock, so that a reducer that sees every
                // mapper done sees every partial too.
                let mut p = partials.lock().unwrap();
                p.0.push((c.to_string(), counts));
                mapped.fetch_add(1, Ordering::Release);
            });
        }
        for _ in 0..3 {
            let (partials, mapped) = (&partials, &mapped);
            s.spawn(move || loop {
                let mut p = partials.lock().unwrap();
                if p.0.len() >= 2 {
                    let (a, b) = (p.0.remove(0), p.0.remove(0));
                    p.1 += 1;
                    drop(p);
                    let mut counts = a.1;
                    for (w, n) in b.1 {
                        *counts.entry(w).or_insert(0) += n;
                    }
                    let merged = (format!("({}+{})", a.0, b.0), counts);
                    let mut p = partials.lock().unwrap();
                    p.0.push(merged);
                    p.1 -= 1;
                } else if p.1 == 0 && mapped.load(Ordering::Acquire) == chunks {
                    return;
                } else {
                    drop(p);
                    thread::yield_now();
                }
            });
        }
    });
    let (mut left, in_flight) = partials.into_inner().unwrap();
    assert_eq!((left.len(), in_flight), (1, 0));
    let (tree, counts) = left.pop().unwrap();
    let mut sorted: Vec<(&str, u32)> = counts.into_iter().collect();
    sorted.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    assert_eq!(sorted.iter().map(|&(_, n)| n).sum::<u32>(), 96);
    format!("{tree} {sorted:?}")
}

//! A long-running service shaped the way production leaves reprise on: a
//! dispatcher reads requests from outside (`reprise::capture`), a fixed pool
//! of workers serves them, a collector gathers the replies, and a timer
//! thread takes periodic snapshots. Every request makes short-lived objects
//! that are dropped once it is served: a oneshot reply channel, a per-request
//! scratch `Mutex`, and (every few requests) a small unbounded side channel.
//! No thread per request: the thread count stays fixed however long it runs.
//!
//! ```text
//! REPRISE_RECORD=soak.trace cargo run --release --example soak_service -- 200000
//! REPRISE_FLIGHT=soak.dump cargo run --release --example soak_service -- 200000
//! cargo run -- replay soak.trace -- target/release/examples/soak_service 200000
//! ```
//!
//! Arguments: requests (default 2,000), workers (default 3). It prints, and
//! annotates, a digest of every reply in arrival order and of the timer's
//! snapshots, so a replay that ends differently is caught. With
//! `SOAK_PEAK=1` it prints its peak RSS (`VmHWM`) on stderr at the end.

use std::collections::BTreeMap;

use reprise::channel::{self, select, Receiver, Sender};
use reprise::sync::atomic::{AtomicU64, Ordering};
use reprise::sync::{Arc, Condvar, Mutex, RwLock};
use reprise::thread;
use reprise::time::{Duration, Instant};

/// Requests the dispatcher reads from outside in one capture.
const BATCH: u64 = 32;
/// Requests in flight at most: the dispatcher waits on a condvar past it.
const IN_FLIGHT: u64 = 64;

/// One request, as read from outside.
struct Request {
    id: u64,
    key: u32,
    body: String,
}

/// A request handed to a worker, with where its reply goes.
struct Job {
    request: Request,
    reply: Sender<u64>,
}

/// What the service shares across its threads.
struct Shared {
    /// A cache of the latest value per key: read under the read lock,
    /// updated under the write lock.
    cache: RwLock<BTreeMap<u32, u64>>,
    /// Requests served, and their bytes.
    served: AtomicU64,
    bytes: AtomicU64,
    /// Requests dispatched but not yet collected; the dispatcher waits while
    /// `IN_FLIGHT` are.
    in_flight: Mutex<u64>,
    room: Condvar,
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let requests: u64 = args.first().and_then(|a| a.parse().ok()).unwrap_or(2_000);
    let workers: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(3);
    reprise::main("soak_service", env!("CARGO_PKG_VERSION"), move || {
        let digest = serve(requests, workers);
        reprise::annotate("digest", format!("{digest:016x}"));
        println!("served {requests} requests; digest {digest:016x}");
        if std::env::var_os("SOAK_PEAK").is_some() {
            eprintln!("peak rss kb: {}", peak_rss_kb());
        }
    })
}

/// Runs the service for `requests` requests; a digest of what it replied.
fn serve(requests: u64, workers: usize) -> u64 {
    let shared = Arc::new(Shared {
        cache: RwLock::new(BTreeMap::new()),
        served: AtomicU64::new(0),
        bytes: AtomicU64::new(0),
        in_flight: Mutex::new(0),
        room: Condvar::new(),
    });
    let (jobs_tx, jobs_rx) = channel::bounded::<Job>(16);
    let (pending_tx, pending_rx) = channel::unbounded::<(u64, Receiver<u64>)>();
    let (stop_tx, stop_rx) = channel::bounded::<()>(0);
    let (snap_tx, snap_rx) = channel::unbounded::<u64>();

    let pool: Vec<_> = (0..workers)
        .map(|i| {
            let (jobs, shared) = (jobs_rx.clone(), Arc::clone(&shared));
            thread::Builder::new().name(format!("worker-{i}")).spawn(move || work(&jobs, &shared)).unwrap()
        })
        .collect();
    drop(jobs_rx);

    let collector = {
        let shared = Arc::clone(&shared);
        thread::Builder::new().name("collector".into()).spawn(move || collect(&pending_rx, &shared)).unwrap()
    };

    let timer = {
        let shared = Arc::clone(&shared);
        thread::Builder::new()
            .name("timer".into())
            .spawn(move || {
                let ticks = channel::tick(Duration::from_millis(2));
                loop {
                    select! {
                        recv(ticks) -> at => {
                            let at: Instant = at.unwrap();
                            let served = shared.served.load(Ordering::Acquire);
                            let keys = shared.cache.read().unwrap().len() as u64;
                            let _ = at.elapsed();
                            snap_tx.send(served ^ (keys << 40)).unwrap();
                        }
                        recv(stop_rx) -> _ => return,
                    }
                }
            })
            .unwrap()
    };

    // The dispatcher: this thread.
    let mut next = 0u64;
    while next < requests {
        let n = BATCH.min(requests - next);
        let batch: Vec<(u64, u32, String)> = reprise::capture(|| read_requests(next, n));
        for (id, key, body) in batch {
            let request = Request { id, key, body };
            {
                let mut in_flight = shared.in_flight.lock().unwrap();
                while *in_flight >= IN_FLIGHT {
                    in_flight = shared.room.wait(in_flight).unwrap();
                }
                *in_flight += 1;
            }
            // A oneshot reply channel per request, dropped once collected.
            let (reply_tx, reply_rx) = channel::bounded::<u64>(1);
            pending_tx.send((request.id, reply_rx)).unwrap();
            jobs_tx.send(Job { request, reply: reply_tx }).unwrap();
        }
        next += n;
    }
    drop(jobs_tx);
    drop(pending_tx);
    for w in pool {
        w.join().unwrap();
    }
    let replies = collector.join().unwrap();
    drop(stop_tx);
    timer.join().unwrap();
    let snapshots: Vec<u64> = snap_rx.try_iter().collect();

    let mut digest = fnv(0xcbf2_9ce4_8422_2325, replies);
    for s in &snapshots {
        digest = fnv(digest, *s);
    }
    digest = fnv(digest, shared.served.load(Ordering::SeqCst));
    fnv(digest, shared.bytes.load(Ordering::SeqCst))
}

/// A worker: jobs until the dispatcher is done.
fn work(jobs: &Receiver<Job>, shared: &Shared) {
    for Job { request, reply } in jobs.iter() {
        // Short-lived objects: a scratch lock and, every fourth request, a
        // side channel, both dropped when the request is served.
        let scratch = Mutex::new(Vec::<u8>::with_capacity(request.body.len()));
        scratch.lock().unwrap().extend_from_slice(request.body.as_bytes());
        let mut value = request.id.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ u64::from(request.key);
        if request.id % 4 == 0 {
            let (side_tx, side_rx) = channel::unbounded::<u64>();
            side_tx.send(value).unwrap();
            drop(side_tx);
            value = side_rx.recv().unwrap().rotate_left(7);
        }
        let seen = shared.cache.read().unwrap().get(&request.key).copied().unwrap_or(0);
        if seen != value {
            shared.cache.write().unwrap().insert(request.key, value);
        }
        let len = scratch.lock().unwrap().len() as u64;
        shared.bytes.fetch_add(len, Ordering::AcqRel);
        shared.served.fetch_add(1, Ordering::AcqRel);
        reply.send(value ^ seen).unwrap();
    }
}

/// The collector: each request's reply, in dispatch order; their digest.
fn collect(pending: &Receiver<(u64, Receiver<u64>)>, shared: &Shared) -> u64 {
    let mut digest = 0xcbf2_9ce4_8422_2325u64;
    for (id, reply) in pending.iter() {
        let value = reply.recv().unwrap();
        digest = fnv(fnv(digest, id), value);
        let mut in_flight = shared.in_flight.lock().unwrap();
        *in_flight -= 1;
        shared.room.notify_one();
    }
    digest
}

/// What a real service would read from a queue: `n` requests from `first`.
fn read_requests(first: u64, n: u64) -> Vec<(u64, u32, String)> {
    (first..first + n)
        .map(|id| (id, (id % 257) as u32, format!("request {id} for key {}", id % 257)))
        .collect()
}

fn fnv(mut hash: u64, value: u64) -> u64 {
    for byte in value.to_le_bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

/// The process's peak resident set, in KiB, from `/proc/self/status`.
fn peak_rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

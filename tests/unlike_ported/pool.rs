//! An r2d2-like connection pool (a `Mutex<PoolState>` and a `Condvar`,
//! checkout with a deadline over `wait_timeout`, a guard whose `Drop`
//! returns the connection, a health-check thread recycling worn
//! connections, shutdown waking every waiter) and a token-bucket rate
//! limiter (a `Mutex` and `reprise::time::Instant`, callers spinning with
//! `thread::sleep`).

use std::sync::Arc;

use reprise::channel::{self, RecvTimeoutError};
use reprise::sync::{Condvar, Mutex};
use reprise::thread;
use reprise::time::{Duration, Instant};

use super::runs;
use crate::util::replays_give_the_transcript;

#[test]
fn a_connection_pool_replays_to_its_recorded_transcript() {
    let distinct = replays_give_the_transcript("ported-pool", runs(), || connection_pool(5, 6, 3));
    assert!(distinct > 1, "every run interleaved the same way: the test shows little");
}

#[test]
fn a_token_bucket_rate_limiter_replays_to_its_recorded_transcript() {
    let distinct = replays_give_the_transcript("ported-bucket", runs(), || token_bucket(4, 5));
    assert!(distinct > 1, "every run interleaved the same way: the test shows little");
}

#[derive(Debug)]
pub struct Conn {
    pub id: u32,
    pub uses: u32,
}

pub struct PoolState {
    pub idle: Vec<Conn>,
    pub open: u32,
    pub max: u32,
    pub next_id: u32,
    pub closed: bool,
    pub timeouts: u32,
    pub recycled: u32,
}

pub struct Pool {
    pub state: Mutex<PoolState>,
    pub returned: Condvar,
}

#[derive(Debug, PartialEq)]
pub enum CheckoutError {
    Timeout,
    Closed,
}

pub struct Pooled<'a> {
    pool: &'a Pool,
    conn: Option<Conn>,
}

impl std::ops::Deref for Pooled<'_> {
    type Target = Conn;
    fn deref(&self) -> &Conn {
        self.conn.as_ref().unwrap()
    }
}

impl Drop for Pooled<'_> {
    fn drop(&mut self) {
        let mut conn = self.conn.take().unwrap();
        conn.uses += 1;
        let mut s = self.pool.state.lock().unwrap();
        if s.closed {
            s.open -= 1;
        } else {
            s.idle.push(conn);
        }
        drop(s);
        self.pool.returned.notify_one();
    }
}

impl Pool {
    pub fn new(max: u32) -> Pool {
        Pool {
            state: Mutex::new(PoolState {
                idle: Vec::new(),
                open: 0,
                max,
                next_id: 1,
                closed: false,
                timeouts: 0,
                recycled: 0,
            }),
            returned: Condvar::new(),
        }
    }

    pub fn get(&self, timeout: Duration) -> Result<Pooled<'_>, CheckoutError> {
        let deadline = Instant::now() + timeout;
        let mut s = self.state.lock().unwrap();
        loop {
            if s.closed {
                return Err(CheckoutError::Closed);
            }
            if let Some(conn) = s.idle.pop() {
                return Ok(Pooled { pool: self, conn: Some(conn) });
            }
            if s.open < s.max {
                s.open += 1;
                let id = s.next_id;
                s.next_id += 1;
                return Ok(Pooled { pool: self, conn: Some(Conn { id, uses: 0 }) });
            }
            let now = Instant::now();
            if now >= deadline {
                s.timeouts += 1;
                return Err(CheckoutError::Timeout);
            }
            s = self.returned.wait_timeout(s, deadline - now).unwrap().0;
        }
    }

    pub fn close(&self) {
        let mut s = self.state.lock().unwrap();
        s.closed = true;
        let idle = s.idle.len() as u32;
        s.idle.clear();
        s.open -= idle;
        drop(s);
        self.returned.notify_all();
    }
}

pub fn connection_pool(clients: u32, each: u32, max: u32) -> String {
    let pool = Arc::new(Pool::new(max));
    let log = Arc::new(Mutex::new(Vec::<String>::new()));
    let (stop_tx, stop_rx) = channel::bounded::<()>(0);
    // The health checker: every 200 us, or when told to stop, it recycles
    // idle connections used three times or more.
    let checker = {
        let (pool, log) = (Arc::clone(&pool), Arc::clone(&log));
        thread::Builder::new()
            .name("health".into())
            .spawn(move || {
                let mut rounds = 0;
                while let Err(RecvTimeoutError::Timeout) = stop_rx.recv_timeout(Duration::from_micros(200)) {
                    rounds += 1;
                    let mut s = pool.state.lock().unwrap();
                    let before = s.idle.len();
                    s.idle.retain(|c| c.uses < 3);
                    let worn = (before - s.idle.len()) as u32;
                    s.open -= worn;
                    s.recycled += worn;
                    drop(s);
                    if worn > 0 {
                        pool.returned.notify_all();
                        log.lock().unwrap().push(format!("health recycled {worn}"));
                    }
                }
                rounds
            })
            .unwrap()
    };
    let workers: Vec<_> = (0..clients)
        .map(|c| {
            let (pool, log) = (Arc::clone(&pool), Arc::clone(&log));
            thread::Builder::new()
                .name(format!("client-{c}"))
                .spawn(move || {
                    let mut got = Vec::new();
                    for k in 0..each {
                        match pool.get(Duration::from_micros(150 + 50 * c as u64)) {
                            Ok(conn) => {
                                got.push(conn.id);
                                if (c + k).is_multiple_of(3) {
                                    thread::sleep(Duration::from_micros(40));
                                } else {
                                    thread::yield_now();
                                }
                            }
                            Err(e) => log.lock().unwrap().push(format!("client {c} query {k}: {e:?}")),
                        }
                    }
                    format!("client {c} used {got:?}")
                })
                .unwrap()
        })
        .collect();
    // A late client that finds the pool closed, or not.
    let late = {
        let pool = Arc::clone(&pool);
        thread::spawn(move || {
            thread::sleep(Duration::from_micros(300));
            pool.get(Duration::from_millis(5)).map(|c| c.id)
        })
    };
    let mut out: Vec<String> = workers.into_iter().map(|w| w.join().unwrap()).collect();
    pool.close();
    let late = late.join().unwrap();
    stop_tx.send(()).unwrap();
    let rounds = checker.join().unwrap();
    let s = pool.state.lock().unwrap();
    assert_eq!(s.open, 0, "every connection is closed or recycled");
    assert!(s.next_id - 1 <= max + s.recycled, "never more than {max} open at once");
    out.append(&mut log.lock().unwrap());
    out.push(format!(
        "late {late:?} made {} recycled {} timeouts {} health rounds>0 {}",
        s.next_id - 1,
        s.recycled,
        s.timeouts,
        rounds > 0
    ));
    out.join("\n")
}

/// A token bucket: `rate` tokens per millisecond up to `burst`.
struct Bucket {
    tokens: f64,
    last: Instant,
    rate_per_ms: f64,
    burst: f64,
}

fn try_acquire(bucket: &Mutex<Bucket>) -> bool {
    let mut b = bucket.lock().unwrap();
    let now = Instant::now();
    let refill = now.duration_since(b.last).as_secs_f64() * 1000.0 * b.rate_per_ms;
    b.tokens = (b.tokens + refill).min(b.burst);
    b.last = now;
    if b.tokens >= 1.0 {
        b.tokens -= 1.0;
        true
    } else {
        false
    }
}

pub fn token_bucket(callers: u32, each: u32) -> String {
    let bucket =
        Arc::new(Mutex::new(Bucket { tokens: 2.0, last: Instant::now(), rate_per_ms: 8.0, burst: 3.0 }));
    let order = Arc::new(Mutex::new(Vec::new()));
    let start = Instant::now();
    let hs: Vec<_> = (0..callers)
        .map(|c| {
            let (bucket, order) = (Arc::clone(&bucket), Arc::clone(&order));
            thread::spawn(move || {
                let mut spins = 0u32;
                for k in 0..each {
                    while !try_acquire(&bucket) {
                        spins += 1;
                        thread::sleep(Duration::from_micros(60 + 20 * c as u64));
                    }
                    order.lock().unwrap().push(format!("c{c}.{k}"));
                }
                spins
            })
        })
        .collect();
    let spins: Vec<u32> = hs.into_iter().map(|h| h.join().unwrap()).collect();
    let took = start.elapsed();
    let granted = order.lock().unwrap().len() as f64;
    // Never faster than the bucket allows: 2 up front, then 8 per ms.
    assert!(granted <= 2.0 + took.as_secs_f64() * 8000.0 + 1.0, "{granted} in {took:?}");
    let order = order.lock().unwrap().join(" ");
    format!("{order}\nspins {spins:?} left {:.3}", bucket.lock().unwrap().tokens)
}

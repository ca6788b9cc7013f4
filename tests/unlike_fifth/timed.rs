//! Time-driven code: a token bucket refilled from `Instant` differences, a
//! debouncer that flushes on a quiet `recv_timeout`, a watchdog thread that
//! barks when `Condvar::wait_timeout` passes without a pet, and a heartbeat
//! loop selecting over `tick`, `after` and a work channel.

use std::collections::VecDeque;
use std::fmt::Write as _;
use std::sync::Arc;

use reprise::channel::select;
use reprise::channel::{self, RecvTimeoutError};
use reprise::sync::atomic::{AtomicI64, Ordering};
use reprise::sync::{Condvar, Mutex};
use reprise::thread;
use reprise::time::{Duration, Instant};

use super::replays_and_varies;

// ---------------------------------------------------------------------------
// A token bucket.

/// Up to `capacity` tokens, one more every `every`; the refill is computed
/// from the time since the last one, under the lock that takes the token.
pub(super) struct Bucket {
    state: Mutex<(u32, Instant)>,
    capacity: u32,
    every: Duration,
}

impl Bucket {
    pub(super) fn new(capacity: u32, every: Duration) -> Bucket {
        Bucket { state: Mutex::new((capacity, Instant::now())), capacity, every }
    }

    pub(super) fn try_take(&self) -> bool {
        let mut state = self.state.lock().unwrap();
        let now = Instant::now();
        let earned = (now.duration_since(state.1).as_micros() / self.every.as_micros()) as u32;
        if earned > 0 {
            state.0 = (state.0 + earned).min(self.capacity);
            state.1 += self.every * earned;
        }
        if state.0 == 0 {
            return false;
        }
        state.0 -= 1;
        true
    }
}

#[test]
fn a_token_bucket_on_instant_replays_to_its_transcript() {
    replays_and_varies("fifth-bucket", token_bucket);
}

/// Three clients, 6 requests each with a short sleep between, through a
/// bucket of 3 tokens refilled every 300µs: which requests got through.
pub(super) fn token_bucket() -> String {
    let bucket = Arc::new(Bucket::new(3, Duration::from_micros(300)));
    let clients: Vec<_> = (0..3u64)
        .map(|c| {
            let bucket = Arc::clone(&bucket);
            thread::spawn(move || {
                let mut out = String::new();
                for _ in 0..6 {
                    out.push(if bucket.try_take() { '+' } else { '-' });
                    thread::sleep(Duration::from_micros(50 + 40 * c));
                }
                out
            })
        })
        .collect();
    let out: Vec<String> = clients.into_iter().map(|h| h.join().unwrap()).collect();
    out.join(" ")
}

/// The planted bug: tokens in an atomic, checked, then taken.
pub(super) fn check_then_act_limiter() {
    let left = tokens_left(2, 3);
    assert!(left >= 0, "the limiter let through more than it had: {left} tokens left");
}

/// `clients` threads each check that `tokens` are left, then take one:
/// what is left (below 0 when two took the last).
pub(super) fn tokens_left(tokens: i64, clients: usize) -> i64 {
    let tokens = Arc::new(AtomicI64::new(tokens));
    let clients: Vec<_> = (0..clients)
        .map(|_| {
            let tokens = Arc::clone(&tokens);
            thread::spawn(move || {
                if tokens.load(Ordering::Acquire) > 0 {
                    tokens.fetch_sub(1, Ordering::AcqRel);
                }
            })
        })
        .collect();
    clients.into_iter().for_each(|h| h.join().unwrap());
    tokens.load(Ordering::Acquire)
}

// ---------------------------------------------------------------------------
// A debouncer.

#[test]
fn a_debouncer_on_recv_timeout_replays_to_its_transcript() {
    replays_and_varies("fifth-debounce", debouncer);
}

/// Bursts of keystrokes with pauses between; the debouncer flushes what it
/// holds when no key came for 1ms, and at the end.
pub(super) fn debouncer() -> String {
    let (keys, inbox) = channel::unbounded::<char>();
    let typist = thread::spawn(move || {
        for (i, word) in ["ab", "cde", "f", "gh"].iter().enumerate() {
            for key in word.chars() {
                keys.send(key).unwrap();
                thread::sleep(Duration::from_micros(100));
            }
            // A pause the recorded clock picks (its microseconds' parity):
            // runs vary however quiet the machine, whose timing alone gave
            // the same transcript every run when nothing else ran.
            let now = reprise::time::SystemTime::now().duration_since(reprise::time::UNIX_EPOCH);
            let long = now.map_or(i % 2 == 0, |d| d.subsec_micros() % 2 == 0);
            thread::sleep(Duration::from_micros(if long { 3_000 } else { 200 }));
        }
    });
    let mut held = String::new();
    let mut flushed = Vec::new();
    loop {
        match inbox.recv_timeout(Duration::from_millis(1)) {
            Ok(key) => held.push(key),
            Err(RecvTimeoutError::Timeout) => {
                if !held.is_empty() {
                    flushed.push(std::mem::take(&mut held));
                }
            }
            Err(RecvTimeoutError::Disconnected) => break,
        }
    }
    if !held.is_empty() {
        flushed.push(held);
    }
    typist.join().unwrap();
    assert_eq!(flushed.concat(), "abcdefgh");
    flushed.join("|")
}

// ---------------------------------------------------------------------------
// A watchdog.

struct Pets {
    count: u32,
    done: bool,
}

#[test]
fn a_watchdog_on_condvar_wait_timeout_replays_to_its_transcript() {
    replays_and_varies("fifth-watchdog", watchdog);
}

/// Two workers pet the watchdog between jobs of uneven length; the
/// watchdog waits up to 400µs for a pet and barks when none came.
pub(super) fn watchdog() -> String {
    let pets = Arc::new((Mutex::new(Pets { count: 0, done: false }), Condvar::new()));
    let dog = {
        let pets = Arc::clone(&pets);
        thread::Builder::new()
            .name("watchdog".into())
            .spawn(move || {
                let (lock, cvar) = &*pets;
                let mut log = String::new();
                let mut seen = 0;
                let mut guard = lock.lock().unwrap();
                while !guard.done {
                    let (g, timeout) = cvar.wait_timeout(guard, Duration::from_micros(400)).unwrap();
                    guard = g;
                    if timeout.timed_out() && guard.count == seen && !guard.done {
                        log.push('!');
                    } else if guard.count != seen {
                        log.push('.');
                    }
                    seen = guard.count;
                }
                log
            })
            .unwrap()
    };
    let workers: Vec<_> = (0..2u64)
        .map(|w| {
            let pets = Arc::clone(&pets);
            thread::spawn(move || {
                for job in 0..4u64 {
                    thread::sleep(Duration::from_micros(100 + 300 * ((job + w) % 3)));
                    let (lock, cvar) = &*pets;
                    lock.lock().unwrap().count += 1;
                    cvar.notify_one();
                }
            })
        })
        .collect();
    workers.into_iter().for_each(|h| h.join().unwrap());
    {
        let (lock, cvar) = &*pets;
        lock.lock().unwrap().done = true;
        cvar.notify_all();
    }
    let log = dog.join().unwrap();
    assert_eq!(pets.0.lock().unwrap().count, 8);
    log
}

// ---------------------------------------------------------------------------
// A heartbeat.

#[test]
fn a_heartbeat_on_tick_and_after_replays_to_its_transcript() {
    replays_and_varies("fifth-heartbeat", heartbeat);
}

/// A loop beating every 300µs, taking work as it comes, until a 3ms
/// deadline; the worker feeding it sends in spurts.
pub(super) fn heartbeat() -> String {
    let (work_tx, work_rx) = channel::bounded::<u32>(2);
    let feeder = thread::spawn(move || {
        for i in 0..6u32 {
            if work_tx.send(i).is_err() {
                return;
            }
            if i % 2 == 1 {
                thread::sleep(Duration::from_micros(500));
            }
        }
    });
    let beat = channel::tick(Duration::from_micros(300));
    let deadline = channel::after(Duration::from_millis(3));
    let mut pending = VecDeque::new();
    let mut out = String::new();
    let mut beats = 0;
    loop {
        select! {
            recv(beat) -> _ => {
                beats += 1;
                let _ = write!(out, "b{}", pending.len());
                pending.clear();
            }
            recv(work_rx) -> msg => match msg {
                Ok(i) => pending.push_back(i),
                Err(_) => {
                    let _ = write!(out, "x");
                    break;
                }
            },
            recv(deadline) -> _ => {
                out.push('T');
                break;
            }
        }
    }
    drop(work_rx);
    feeder.join().unwrap();
    let _ = write!(out, " {}", beats.min(1));
    out
}

//! A token bucket: a rate limiter refilled from reprise's clock, shared
//! by three threads that sleep for the time the next token needs.

use std::sync::Arc;

use reprise::sync::Mutex;
use reprise::thread;
use reprise::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Tokens (in thousandths) and when they were last refilled.
struct Bucket {
    state: Mutex<(u64, Instant)>,
    /// Thousandths of a token per microsecond.
    rate: u64,
    cap: u64,
}

impl Bucket {
    /// Takes a token, or says how long until one is there.
    fn try_take(&self) -> Result<(), Duration> {
        let mut state = self.state.lock().unwrap();
        let now = Instant::now();
        let micros = now.saturating_duration_since(state.1).as_micros() as u64;
        state.0 = (state.0 + micros * self.rate).min(self.cap);
        state.1 = now;
        if state.0 >= 1000 {
            state.0 -= 1000;
            Ok(())
        } else {
            Err(Duration::from_micros((1000 - state.0).div_ceil(self.rate)))
        }
    }
}

/// Three threads take five tokens each from a bucket of two that refills
/// a token every 200 µs; each counts its waits and how long it slept.
/// The whole run cannot take less than the refills it needed.
pub(crate) fn token_bucket() -> String {
    let started = Instant::now();
    let wall = SystemTime::now();
    let bucket = Arc::new(Bucket { state: Mutex::new((2000, started)), rate: 5, cap: 2000 });
    let threads: Vec<_> = (0..3)
        .map(|_| {
            let bucket = Arc::clone(&bucket);
            thread::spawn(move || {
                let (mut waits, mut slept) = (0u32, Duration::ZERO);
                for _ in 0..5 {
                    while let Err(wait) = bucket.try_take() {
                        waits += 1;
                        slept += wait;
                        thread::sleep(wait);
                    }
                }
                (waits, slept.as_micros() / 100)
            })
        })
        .collect();
    let per: Vec<(u32, u128)> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    let took = started.elapsed();
    // 15 tokens, 2 at the start: 13 refills of 200 µs at least.
    assert!(took >= Duration::from_micros(13 * 200), "{took:?}");
    let wall_ok =
        SystemTime::now().duration_since(UNIX_EPOCH).unwrap() >= wall.duration_since(UNIX_EPOCH).unwrap();
    format!("per (waits, slept/100µs) {per:?}, wall {wall_ok}")
}

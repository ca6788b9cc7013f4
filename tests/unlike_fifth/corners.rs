//! Corners: `OnceLock::wait` woken by a later `set`, barriers of one and
//! of zero (every wait leads), a scoped thread spawning a thread that
//! outlives the scope, `park_timeout` polling, `Duration::MAX` and zero
//! timeouts (channels, condvar, park, sleep), each recorded, replayed both
//! ways and explored; and every correct program of the set under each of
//! the explorer's strategies (the default-strategy sweep is in explore.rs).
//! A `park_timeout(Duration::MAX)` after a channel receive is left out:
//! crossbeam's own parking may take the unpark meant for it, under std too.

use std::sync::Arc;

use reprise::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use reprise::sync::{Barrier, Mutex, OnceLock};
use reprise::thread;
use reprise::time::{Duration, Instant};

use crate::util::round_trip_both_ways;

fn explore_ok(name: &str, program: fn() -> String) {
    let dir = crate::util::scratch(name);
    let config = reprise::explore::Config::default().budget(200).seed(9).trace_dir(&dir);
    let outcome = reprise::explore::Explorer::new(config).run(move || {
        program();
    });
    assert!(outcome.blocked.is_none(), "{name}: {:?}", outcome.blocked);
    if let Some(f) = outcome.failure {
        panic!("{name}: {:?}\n{}", f.kind, f.report);
    }
}

fn once_wait() -> String {
    let cell = Arc::new(OnceLock::new());
    let waiters: Vec<_> = (0..2)
        .map(|_| {
            let cell = Arc::clone(&cell);
            thread::spawn(move || *cell.wait())
        })
        .collect();
    thread::sleep(Duration::from_micros(200));
    let _ = cell.set(5u32);
    let got: Vec<u32> = waiters.into_iter().map(|h| h.join().unwrap()).collect();
    format!("{got:?}")
}

#[test]
fn c_once_wait() {
    round_trip_both_ways("c-once-wait", once_wait);
    explore_ok("c-once-wait-x", once_wait);
}

fn barrier_one() -> String {
    let b = Barrier::new(1);
    let z = Barrier::new(0);
    format!("{} {} {}", b.wait().is_leader(), b.wait().is_leader(), z.wait().is_leader())
}

#[test]
fn c_barrier_one() {
    let s = round_trip_both_ways("c-barrier-one", barrier_one);
    assert_eq!(s, "true true true");
    explore_ok("c-barrier-one-x", barrier_one);
}

fn scope_outlives() -> String {
    let flag = Arc::new(AtomicBool::new(false));
    let out = Arc::new(Mutex::new(String::new()));
    let detached = thread::scope(|s| {
        let f = Arc::clone(&flag);
        let o = Arc::clone(&out);
        s.spawn(move || {
            thread::spawn(move || {
                while !f.load(Ordering::Acquire) {
                    thread::yield_now();
                }
                o.lock().unwrap().push('d');
            })
        })
        .join()
        .unwrap()
    });
    out.lock().unwrap().push('s');
    flag.store(true, Ordering::Release);
    detached.join().unwrap();
    let s = out.lock().unwrap().clone();
    s
}

#[test]
fn c_scope_outlives() {
    assert_eq!(round_trip_both_ways("c-scope-outlives", scope_outlives), "sd");
    explore_ok("c-scope-outlives-x", scope_outlives);
}

fn park_timeouts() -> String {
    let woke = Arc::new(AtomicU32::new(0));
    let w = Arc::clone(&woke);
    let parker = thread::spawn(move || {
        let start = Instant::now();
        let mut rounds = 0;
        while w.load(Ordering::Acquire) == 0 {
            thread::park_timeout(Duration::from_micros(100));
            rounds += 1;
        }
        (rounds.min(2), start.elapsed() > Duration::ZERO)
    });
    thread::sleep(Duration::from_micros(350));
    woke.store(1, Ordering::Release);
    parker.thread().unpark();
    let r = parker.join().unwrap();
    format!("{r:?}")
}

#[test]
fn c_park_timeouts() {
    round_trip_both_ways("c-park-timeouts", park_timeouts);
    explore_ok("c-park-timeouts-x", park_timeouts);
}

fn huge_timeouts() -> String {
    let (tx, rx) = reprise::channel::unbounded::<u32>();
    let pair = Arc::new((Mutex::new(false), reprise::sync::Condvar::new()));
    let p2 = Arc::clone(&pair);
    let t = thread::spawn(move || {
        tx.send(1).unwrap();
        *p2.0.lock().unwrap() = true;
        p2.1.notify_all();
    });
    let a = rx.recv_timeout(Duration::MAX).unwrap();
    let mut g = pair.0.lock().unwrap();
    while !*g {
        g = pair.1.wait_timeout(g, Duration::MAX).unwrap().0;
    }
    drop(g);
    let far = Instant::now().checked_add(Duration::from_secs(1 << 40));
    let dl = rx.recv_deadline(far.unwrap_or_else(Instant::now));
    t.join().unwrap();
    format!("{a} {dl:?}")
}

#[test]
fn c_huge_timeouts() {
    round_trip_both_ways("c-huge-timeouts", huge_timeouts);
    explore_ok("c-huge-timeouts-x", huge_timeouts);
}

fn zero_timeouts() -> String {
    let (tx, rx) = reprise::channel::unbounded::<u32>();
    let t = thread::spawn(move || {
        thread::sleep(Duration::ZERO);
        tx.send(1).unwrap();
    });
    let mut polls = 0;
    loop {
        match rx.recv_timeout(Duration::ZERO) {
            Ok(v) => break format!("{v} after {}", polls.min(3)),
            Err(_) => {
                polls += 1;
                thread::park_timeout(Duration::ZERO);
            }
        }
    }
    .to_string()
        + &format!("{:?}", t.join().unwrap())
}

#[test]
fn c_zero_timeouts() {
    round_trip_both_ways("c-zero-timeouts", zero_timeouts);
    explore_ok("c-zero-timeouts-x", zero_timeouts);
}

#[test]
fn c_every_strategy() {
    let _alone = super::phased::ONCE_CELLS.lock().unwrap_or_else(|e| e.into_inner());
    crate::util::survives_every_strategy("c", &super::CORRECT, 60, 11);
}

//! Waits a risk team writes by hand: one `Barrier` of three reused over
//! eight generations by a changing cast (the root, a long-lived auditor on
//! even generations, and fresh threads spawned for the generation);
//! a price table on an `RwLock` whose readers stand back (`yield_now`)
//! while a writer has announced itself on an `AtomicBool`, so that a
//! stream of readers does not starve the writer; and a cut-off waiter on
//! `Condvar::wait_timeout` in a loop that recomputes what is left of its
//! window from reprise's clock and treats every early return as possibly
//! spurious.

use std::sync::Arc;

use reprise::channel;
use reprise::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use reprise::sync::{Barrier, Condvar, Mutex, RwLock};
use reprise::thread;
use reprise::time::{Duration, Instant};

const GENERATIONS: u32 = 8;

pub(crate) fn changing_cast() -> String {
    let barrier = Arc::new(Barrier::new(3));
    let total = Arc::new(AtomicU64::new(0));
    let leaders = Arc::new(Mutex::new(Vec::new()));
    // The auditor takes part in the even generations only.
    let (turn_tx, turn_rx) = channel::bounded::<u32>(0);
    let auditor = {
        let (barrier, total, leaders) = (Arc::clone(&barrier), Arc::clone(&total), Arc::clone(&leaders));
        thread::Builder::new()
            .name("auditor".into())
            .spawn(move || {
                for g in turn_rx.iter() {
                    total.fetch_add(u64::from(g) * 100, Ordering::SeqCst);
                    if barrier.wait().is_leader() {
                        leaders.lock().expect("leaders").push((g, 'A'));
                    }
                }
            })
            .expect("spawn the auditor")
    };
    for g in 0..GENERATIONS {
        let fresh = if g % 2 == 0 { 1 } else { 2 };
        if g % 2 == 0 {
            turn_tx.send(g).expect("the auditor takes its turn");
        }
        let cast: Vec<_> = (0..fresh)
            .map(|k| {
                let (barrier, total, leaders) =
                    (Arc::clone(&barrier), Arc::clone(&total), Arc::clone(&leaders));
                thread::spawn(move || {
                    total.fetch_add(u64::from(g) * 10 + k, Ordering::SeqCst);
                    if barrier.wait().is_leader() {
                        leaders.lock().expect("leaders").push((g, char::from(b'a' + k as u8)));
                    }
                })
            })
            .collect();
        total.fetch_add(1, Ordering::SeqCst);
        if barrier.wait().is_leader() {
            leaders.lock().expect("leaders").push((g, 'R'));
        }
        for c in cast {
            c.join().expect("a cast member ends");
        }
    }
    drop(turn_tx);
    auditor.join().expect("the auditor ends");
    let leaders = leaders.lock().expect("leaders").clone();
    assert_eq!(leaders.len(), GENERATIONS as usize, "one leader per generation: {leaders:?}");
    let mut gens: Vec<u32> = leaders.iter().map(|l| l.0).collect();
    gens.sort_unstable();
    assert_eq!(gens, (0..GENERATIONS).collect::<Vec<_>>());
    let expected: u64 = (0..u64::from(GENERATIONS))
        .map(|g| 1 + if g % 2 == 0 { g * 100 + g * 10 } else { 2 * g * 10 + 1 })
        .sum();
    assert_eq!(total.load(Ordering::SeqCst), expected);
    let mut leaders = leaders;
    leaders.sort_unstable();
    let who: String = leaders.iter().map(|l| l.1).collect();
    format!("leaders {who}")
}

/// Three readers sample the table until the writer has published four
/// versions; readers back off while the writer is waiting.
pub(crate) fn polite_readers() -> String {
    let table = Arc::new(RwLock::new((0u32, [100u64; 4])));
    let writer_waiting = Arc::new(AtomicBool::new(false));
    let readers: Vec<_> = (0..3usize)
        .map(|_| {
            let (table, waiting) = (Arc::clone(&table), Arc::clone(&writer_waiting));
            thread::spawn(move || {
                let mut versions = Vec::new();
                loop {
                    if waiting.load(Ordering::SeqCst) {
                        thread::yield_now();
                        continue;
                    }
                    let t = table.read().expect("the table");
                    // A version is published whole: every price moved together.
                    assert!(t.1.iter().all(|p| *p == t.1[0]), "a torn version");
                    if versions.last() != Some(&t.0) {
                        versions.push(t.0);
                    }
                    if t.0 == 4 {
                        break;
                    }
                    drop(t);
                    // The explorer's strategies run a spinner that never
                    // yields for ever (README: a spin-wait yields).
                    thread::yield_now();
                }
                versions
            })
        })
        .collect();
    for v in 1..=4u32 {
        writer_waiting.store(true, Ordering::SeqCst);
        let mut t = table.write().expect("the table");
        writer_waiting.store(false, Ordering::SeqCst);
        t.0 = v;
        for p in t.1.iter_mut() {
            *p += u64::from(v);
        }
        drop(t);
        thread::yield_now();
    }
    let seen: Vec<String> = readers
        .into_iter()
        .map(|r| {
            let versions = r.join().expect("a reader ends");
            assert_eq!(versions.last(), Some(&4));
            assert!(versions.windows(2).all(|w| w[0] < w[1]));
            versions.iter().map(u32::to_string).collect()
        })
        .collect();
    format!("readers saw {}", seen.join(" "))
}

/// The settlement cut-off: a waiter gives the feed 50 ms of reprise's
/// clock to say "ready", waiting on a condvar in a loop that recomputes
/// the time left; the feed says so after a few steps of its own, or not
/// in time.
pub(crate) fn cut_off() -> String {
    let state = Arc::new((Mutex::new((false, 0u32)), Condvar::new()));
    let feed = {
        let state = Arc::clone(&state);
        thread::spawn(move || {
            for step in 0..3 {
                let (m, cv) = &*state;
                m.lock().expect("the feed state").1 += 1;
                // A nudge before it is ready: a wake-up the waiter must
                // not take for the answer.
                cv.notify_all();
                if step == 1 {
                    thread::sleep(Duration::from_millis(1));
                }
            }
            let (m, cv) = &*state;
            m.lock().expect("the feed state").0 = true;
            cv.notify_one();
        })
    };
    let (m, cv) = &*state;
    let start = Instant::now();
    let window = Duration::from_millis(50);
    let mut wakes = 0;
    let mut guard = m.lock().expect("the feed state");
    let ready = loop {
        if guard.0 {
            break true;
        }
        let elapsed = start.elapsed();
        if elapsed >= window {
            break false;
        }
        let (g, _timeout) = cv.wait_timeout(guard, window - elapsed).expect("the feed state");
        guard = g;
        wakes += 1;
    };
    let steps = guard.1;
    drop(guard);
    feed.join().expect("the feed ends");
    assert!(!ready || steps == 3, "ready only after its three steps");
    format!("ready {ready} after {steps} steps, woke {}", wakes.min(4))
}

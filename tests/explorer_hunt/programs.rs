//! Small programs with planted bugs, each mixing several of the explorer's
//! choice kinds, hunted with every strategy.

use std::sync::Arc;
use std::time::Duration;

use reprise::channel::{self, select};
use reprise::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use reprise::sync::{Condvar, Mutex, RwLock};
use reprise::thread;

use super::harness::{hunt, Hunt};

const MS: Duration = Duration::from_millis(1);

/// A consumer selects over data, a ticker and a timeout while a producer
/// sends with yields between: the bug, it treats a timeout as the end of
/// the stream after two ticks and asserts it has everything (time choices,
/// select arms, yields, thread picks).
pub fn select_feed() {
    let (tx, rx) = channel::bounded::<u32>(1);
    let producer = thread::spawn(move || {
        thread::sleep(MS);
        for i in 0..3 {
            thread::yield_now();
            if tx.send(i).is_err() {
                return;
            }
        }
    });
    let ticks = channel::tick(MS * 3);
    let (extra_tx, extra_rx) = channel::unbounded::<u32>();
    extra_tx.send(9).unwrap();
    let (mut got, mut ticked, mut extra) = (0, 0, 0);
    while got < 3 {
        select! {
            recv(rx) -> m => { if m.is_ok() { got += 1 } else { break } }
            recv(ticks) -> _ => ticked += 1,
            recv(extra_rx) -> _ => extra += 1,
            default(MS * 2) => break,
        }
    }
    drop(rx);
    producer.join().unwrap();
    assert!(got == 3 || ticked + extra == 0, "gave up after {got} messages, {ticked} ticks, {extra} extra");
}

/// A spin-waiter yields until a flag is set; the setter adds a random
/// amount to a counter with a load and a store (a lost update against the
/// root's fetch_add) then sets the flag (random values, yields, picks).
pub fn spin_random() {
    let counter = Arc::new(AtomicU64::new(0));
    let ready = Arc::new(AtomicBool::new(false));
    let (c, r) = (Arc::clone(&counter), Arc::clone(&ready));
    let setter = thread::spawn(move || {
        let amount = 1 + reprise::random::below(3);
        let seen = c.load(Ordering::SeqCst);
        c.store(seen + amount, Ordering::SeqCst);
        r.store(true, Ordering::SeqCst);
        amount
    });
    counter.fetch_add(10, Ordering::SeqCst);
    while !ready.load(Ordering::SeqCst) {
        thread::yield_now();
    }
    let amount = setter.join().unwrap();
    assert_eq!(counter.load(Ordering::SeqCst), 10 + amount, "lost update");
}

/// Two readers check a pair a writer updates in two write turns; the
/// halves' size is a captured value (captures, RwLock readers/writers).
pub fn torn_rwlock() {
    let size: u64 = reprise::capture(|| 4u64);
    let pair = Arc::new(RwLock::new((0u64, 0u64)));
    let writer = {
        let pair = Arc::clone(&pair);
        thread::spawn(move || {
            pair.write().unwrap().0 += size;
            pair.write().unwrap().1 += size;
        })
    };
    let readers: Vec<_> = (0..2)
        .map(|_| {
            let pair = Arc::clone(&pair);
            thread::spawn(move || {
                let (a, b) = *pair.read().unwrap();
                assert_eq!(a, b, "torn read");
            })
        })
        .collect();
    writer.join().unwrap();
    for r in readers {
        r.join().unwrap();
    }
}

/// Three waiters on one condvar with `if` instead of `while`: a producer
/// pushes two items with notify_one each; a waiter woken when another has
/// taken its item finds the queue empty. Waiters give up on a timeout
/// (notify_one's choice among waiters, wait_timeout, time choices).
pub fn condvar_if() {
    let shared = Arc::new((Mutex::new(Vec::<u32>::new()), Condvar::new()));
    let waiters: Vec<_> = (0..3)
        .map(|_| {
            let shared = Arc::clone(&shared);
            thread::spawn(move || {
                let (queue, cv) = &*shared;
                let mut q = queue.lock().unwrap();
                if q.is_empty() {
                    let (guard, timeout) = cv.wait_timeout(q, MS * 4).unwrap();
                    q = guard;
                    if timeout.timed_out() {
                        return;
                    }
                }
                q.pop().expect("woken to an empty queue");
            })
        })
        .collect();
    for i in 0..2 {
        thread::sleep(MS);
        shared.0.lock().unwrap().push(i);
        shared.1.notify_one();
    }
    for w in waiters {
        w.join().unwrap();
    }
}

/// Spawns inside spawns inside a scope: a grandchild and a scoped thread
/// race on a check-then-act over a mutex; a third thread's panic is caught
/// with catch_unwind and must not count (thread picks, nested spawns, scoped
/// threads, caught panics).
pub fn nested_scoped() {
    let stock = Arc::new(Mutex::new(1u32));
    let sold = Arc::new(AtomicU64::new(0));
    thread::scope(|s| {
        s.spawn(|| {
            let r = std::panic::catch_unwind(|| {
                let _g = stock.lock().unwrap_or_else(|e| e.into_inner());
                if reprise::random::below(2) == 0 {
                    panic!("caught, not a failure");
                }
            });
            let _ = r;
        });
        let outer = {
            let (stock, sold) = (Arc::clone(&stock), Arc::clone(&sold));
            thread::spawn(move || {
                let inner = thread::spawn(move || {
                    let left = *stock.lock().unwrap_or_else(|e| e.into_inner());
                    if left > 0 {
                        *stock.lock().unwrap_or_else(|e| e.into_inner()) = left - 1;
                        sold.fetch_add(1, Ordering::SeqCst);
                    }
                });
                inner.join().unwrap();
            })
        };
        s.spawn(|| {
            let left = *stock.lock().unwrap_or_else(|e| e.into_inner());
            if left > 0 {
                *stock.lock().unwrap_or_else(|e| e.into_inner()) = left - 1;
                sold.fetch_add(1, Ordering::SeqCst);
            }
        });
        outer.join().unwrap();
    });
    assert!(sold.load(Ordering::SeqCst) <= 1, "sold twice");
}

/// A lock-order deadlock whose second thread first waits on a park with a
/// timeout and an `after` channel (a deadlock with time choices).
pub fn timed_deadlock() {
    let a = Arc::new(Mutex::new(0));
    let b = Arc::new(Mutex::new(0));
    let (a2, b2) = (Arc::clone(&a), Arc::clone(&b));
    let t = thread::spawn(move || {
        thread::park_timeout(MS * 2);
        let _ = channel::after(MS).recv();
        let _gb = b2.lock().unwrap();
        let _ga = a2.lock().unwrap();
    });
    let _ = channel::after(MS * 3).recv_timeout(MS * 2);
    {
        let _ga = a.lock().unwrap();
        let _gb = b.lock().unwrap();
    }
    t.thread().unpark();
    t.join().unwrap();
}

/// A lost wake-up: the notifier may notify before the waiter waits (no
/// predicate), and the waiter then waits for good: every thread blocked.
/// The notifier sleeps first, so the timing is a time choice.
pub fn lost_wakeup() {
    let pair = Arc::new((Mutex::new(()), Condvar::new()));
    let theirs = Arc::clone(&pair);
    let notifier = thread::spawn(move || {
        thread::sleep(MS);
        let _g = theirs.0.lock().unwrap();
        theirs.1.notify_one();
    });
    let (tx, rx) = channel::unbounded::<()>();
    let pinger = thread::spawn(move || {
        let _ = tx.send(());
    });
    let _ = rx.recv_timeout(MS);
    let g = pair.0.lock().unwrap();
    drop(pair.1.wait(g).unwrap());
    notifier.join().unwrap();
    pinger.join().unwrap();
}

/// A spin-wait that never ends: the root yields until a worker sets a
/// flag, and the worker sets it only if it reads the counter before the
/// root bumps it; a recv_timeout gives time a say (a livelock at the step
/// bound).
pub fn spin_forever() {
    let counter = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicBool::new(false));
    let (c, d) = (Arc::clone(&counter), Arc::clone(&done));
    let (tx, rx) = reprise::sync::mpsc::channel::<u32>();
    let worker = thread::spawn(move || {
        if c.load(Ordering::SeqCst) == 0 {
            d.store(true, Ordering::SeqCst);
        }
        let _ = tx.send(1);
    });
    let _ = rx.recv_timeout(MS);
    counter.fetch_add(1, Ordering::SeqCst);
    while !done.load(Ordering::SeqCst) {
        thread::yield_now();
    }
    worker.join().unwrap();
}

/// A heartbeat thread ticks a counter with `sleep`; a watchdog waits on a
/// condvar with wait_timeout_while and declares the peer dead if it sees
/// no beat; a worker does lock turns meanwhile (time choices racing picks,
/// a timed wait woken by notify_all).
pub fn watchdog() {
    let beats = Arc::new((Mutex::new(0u32), Condvar::new()));
    let hb = {
        let beats = Arc::clone(&beats);
        thread::spawn(move || {
            for _ in 0..2 {
                thread::sleep(MS * 2);
                *beats.0.lock().unwrap() += 1;
                beats.1.notify_all();
            }
        })
    };
    let worker = {
        let beats = Arc::clone(&beats);
        thread::spawn(move || {
            for _ in 0..3 {
                let _g = beats.0.lock().unwrap();
            }
        })
    };
    let (guard, timeout) = beats.1.wait_timeout_while(beats.0.lock().unwrap(), MS * 3, |b| *b == 0).unwrap();
    let seen = *guard;
    drop(guard);
    hb.join().unwrap();
    worker.join().unwrap();
    assert!(!timeout.timed_out() || seen > 0, "peer declared dead");
}

#[test]
fn select_feed_failures_replay() {
    hunt("select-feed", select_feed, Hunt::default());
}

#[test]
fn spin_random_failures_replay() {
    hunt("spin-random", spin_random, Hunt::default());
}

#[test]
fn torn_rwlock_failures_replay() {
    hunt("torn-rwlock", torn_rwlock, Hunt::default());
}

#[test]
fn condvar_if_failures_replay() {
    hunt("condvar-if", condvar_if, Hunt::default());
}

#[test]
fn nested_scoped_failures_replay() {
    hunt("nested-scoped", nested_scoped, Hunt::default());
}

#[test]
fn timed_deadlock_failures_replay() {
    hunt("timed-deadlock", timed_deadlock, Hunt::default());
}

#[test]
fn lost_wakeup_failures_replay() {
    hunt("lost-wakeup", lost_wakeup, Hunt::default());
}

#[test]
fn spin_forever_failures_replay() {
    hunt("spin-forever", spin_forever, Hunt { max_steps: Some(300), ..Hunt::default() });
}

#[test]
fn watchdog_failures_replay() {
    hunt("watchdog", watchdog, Hunt::default());
}

/// The root panics on a lost update while a worker waits on a condvar no
/// one will notify: the run goes on after the panic with a thread blocked
/// for good (a panic, then every thread left blocked).
pub fn panic_with_a_waiter() {
    let pair = Arc::new((Mutex::new(false), Condvar::new()));
    let count = Arc::new(AtomicU64::new(0));
    let waiter = {
        let (pair, count) = (Arc::clone(&pair), Arc::clone(&count));
        thread::spawn(move || {
            let seen = count.load(Ordering::SeqCst);
            count.store(seen + 1, Ordering::SeqCst);
            let mut go = pair.0.lock().unwrap();
            while !*go {
                go = pair.1.wait(go).unwrap();
            }
        })
    };
    let seen = count.load(Ordering::SeqCst);
    count.store(seen + 1, Ordering::SeqCst);
    thread::sleep(MS);
    assert_eq!(count.load(Ordering::SeqCst), 2, "lost update");
    *pair.0.lock().unwrap() = true;
    pair.1.notify_one();
    waiter.join().unwrap();
}

/// A deadline read from the virtual clock: a worker does its steps and
/// reports if it beat a deadline measured with `Instant`, while a second
/// thread sleeps and sends; the root's select with a send arm and a receive
/// arm both ready, and an `after` timer (clock reads, select send arms).
pub fn clock_and_select() {
    let start = reprise::time::Instant::now();
    let (out_tx, out_rx) = channel::bounded::<u32>(1);
    let (in_tx, in_rx) = channel::bounded::<u32>(1);
    let sleeper = thread::spawn(move || {
        thread::sleep(MS);
        let _ = in_tx.send(7);
    });
    let sink = thread::spawn(move || out_rx.recv_timeout(MS * 2).ok());
    let timer = channel::after(MS * 2);
    let mut late = false;
    select! {
        send(out_tx, 1) -> _ => {}
        recv(in_rx) -> _ => {}
        recv(timer) -> _ => late = true,
    }
    let took = start.elapsed();
    let sent = sink.join().unwrap();
    sleeper.join().unwrap();
    assert!(!(late && sent.is_some()) && took < MS * 2, "late after {took:?}, sent {sent:?}");
}

/// notify_one among several waiters without timeouts: two consumers and a
/// producer that notifies once per item with `if` in the wait; the
/// second item's notify may wake the consumer that already took one: a
/// deadlock where one consumer waits for good.
pub fn notify_one_deadlock() {
    let shared = Arc::new((Mutex::new(Vec::<u32>::new()), Condvar::new()));
    let consumers: Vec<_> = (0..3)
        .map(|_| {
            let shared = Arc::clone(&shared);
            thread::spawn(move || {
                let (queue, cv) = &*shared;
                let mut q = queue.lock().unwrap();
                while q.is_empty() {
                    q = cv.wait(q).unwrap();
                }
                q.pop();
            })
        })
        .collect();
    for i in 0..3 {
        shared.0.lock().unwrap().push(i);
        if i != 1 {
            shared.1.notify_one();
        }
    }
    for c in consumers {
        c.join().unwrap();
    }
}

#[test]
fn panic_with_a_waiter_failures_replay() {
    hunt("panic-waiter", panic_with_a_waiter, Hunt::default());
}

#[test]
fn clock_and_select_failures_replay() {
    hunt("clock-select", clock_and_select, Hunt::default());
}

#[test]
fn notify_one_deadlock_failures_replay() {
    hunt("notify-deadlock", notify_one_deadlock, Hunt::default());
}

/// A select with two arms ready from the start, beside a thread that
/// sends to a third channel the select also waits on: the bug, taking the
/// second arm first (a select arm choice, no time).
pub fn select_arm() {
    let (a_tx, a_rx) = channel::unbounded::<u32>();
    let (b_tx, b_rx) = channel::unbounded::<u32>();
    let (c_tx, c_rx) = channel::unbounded::<u32>();
    a_tx.send(1).unwrap();
    b_tx.send(2).unwrap();
    let t = thread::spawn(move || c_tx.send(3).unwrap());
    let mut got = Vec::new();
    for _ in 0..3 {
        select! {
            recv(a_rx) -> m => got.push(m.unwrap()),
            recv(b_rx) -> m => got.push(m.unwrap()),
            recv(c_rx) -> m => got.push(m.unwrap()),
        }
    }
    t.join().unwrap();
    assert!(got[0] != 2 || got[1] != 3, "took {got:?}");
}

#[test]
fn select_arm_failures_replay() {
    hunt("select-arm", select_arm, Hunt::default());
}

/// A captured input that changes from run to run (a counter outside
/// reprise, as a clock or a request id would): the bug needs an odd input
/// and a lost update. The explorer's re-runs of the failing schedule must
/// see the input the failing run captured: they ran the closure again, read
/// the next (even) input, did not fail, and every failure came with 'no
/// trace: ... the program is not deterministic given its schedule (...an
/// input not captured...)' though the input was captured.
pub fn captured_input() {
    static INPUTS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let input: u64 = reprise::capture(|| INPUTS.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
    let counter = Arc::new(AtomicU64::new(0));
    let c = Arc::clone(&counter);
    let t = thread::spawn(move || {
        let seen = c.load(Ordering::SeqCst);
        c.store(seen + 1, Ordering::SeqCst);
    });
    counter.fetch_add(1, Ordering::SeqCst);
    t.join().unwrap();
    if input % 2 == 1 {
        assert_eq!(counter.load(Ordering::SeqCst), 2, "lost update on an odd input");
    }
}

/// A lazily initialized static shared by every run: the first run that
/// reaches it initializes it, the rest do not.
pub fn lazy_static_init() {
    static TABLE: reprise::sync::LazyLock<reprise::sync::Mutex<u64>> =
        reprise::sync::LazyLock::new(|| reprise::sync::Mutex::new(0));
    let t = thread::spawn(|| {
        *TABLE.lock().unwrap() += 1;
    });
    let seen = *TABLE.lock().unwrap();
    t.join().unwrap();
    let _ = seen;
    let counter = Arc::new(AtomicU64::new(0));
    let c = Arc::clone(&counter);
    let t = thread::spawn(move || {
        let seen = c.load(Ordering::SeqCst);
        c.store(seen + 1, Ordering::SeqCst);
    });
    counter.fetch_add(1, Ordering::SeqCst);
    t.join().unwrap();
    assert_eq!(counter.load(Ordering::SeqCst), 2, "lost update");
}

#[test]
fn captured_input_failures_replay() {
    // Its input changes from run to run, so two explorations differ.
    hunt("captured-input", captured_input, Hunt { same_search: false, ..Hunt::default() });
}

#[test]
fn lazy_static_init_failures_replay() {
    hunt("lazy-static", lazy_static_init, Hunt::default());
}

/// Everything at once: scoped workers meet at a barrier, one parks with a
/// timeout for an unpark, a writer tries `try_write` beside readers, a
/// captured limit, a random pick of who updates, a yield between a check
/// and an act.
pub fn kitchen_sink() {
    let limit: u64 = reprise::capture(|| 2u64);
    let barrier = reprise::sync::Barrier::new(2);
    let table = RwLock::new(0u64);
    let total = AtomicU64::new(0);
    thread::scope(|s| {
        let parked = s.spawn(|| {
            barrier.wait();
            thread::park_timeout(MS);
            if let Ok(mut w) = table.try_write() {
                *w += 1;
            }
        });
        let parked_thread = parked.thread().clone();
        let (barrier, total) = (&barrier, &total);
        s.spawn(move || {
            barrier.wait();
            let who = reprise::random::below(2);
            let seen = total.load(Ordering::SeqCst);
            thread::yield_now();
            if seen < limit {
                total.store(seen + 1 + who, Ordering::SeqCst);
            }
            parked_thread.unpark();
        });
        let _ = *table.read().unwrap();
        let seen = total.load(Ordering::SeqCst);
        if seen < limit {
            total.store(seen + 1, Ordering::SeqCst);
        }
    });
    assert!(total.load(Ordering::SeqCst) <= limit, "over the limit");
}

#[test]
fn kitchen_sink_failures_replay() {
    hunt("kitchen-sink", kitchen_sink, Hunt::default());
}

/// A program that reports its problem instead of panicking: a lost update
/// its check finds, after a sleep that a time choice may fire early.
fn lost_update_checked() -> u64 {
    let counter = Arc::new(AtomicU64::new(0));
    let c = Arc::clone(&counter);
    let t = thread::spawn(move || {
        thread::sleep(MS);
        let seen = c.load(Ordering::SeqCst);
        c.store(seen + 1, Ordering::SeqCst);
    });
    let seen = counter.load(Ordering::SeqCst);
    thread::yield_now();
    counter.store(seen + 1, Ordering::SeqCst);
    t.join().unwrap();
    counter.load(Ordering::SeqCst)
}

#[test]
fn a_checked_failure_is_traced_and_replays_to_the_same_result() {
    use reprise::explore::{Config, Explorer, FailureKind};
    let check = |&n: &u64| (n != 2).then(|| format!("lost update: {n}"));
    let mut found = 0;
    for strategy in super::harness::STRATEGIES {
        for seed in [0, 1, 2] {
            let dir = crate::util::scratch("hunt-checked");
            let config = Config::default().strategy(strategy).budget(60).seed(seed).trace_dir(&dir);
            let outcome = Explorer::new(config).run_checked(lost_update_checked, check, |_| {});
            let Some(failure) = outcome.failure else { continue };
            found += 1;
            let what = format!("{strategy} seed {seed}");
            assert!(matches!(failure.kind, FailureKind::Check { .. }), "{what}: {:?}", failure.kind);
            let trace = reprise::read_trace_file(failure.trace.as_ref().expect("a trace")).unwrap();
            for (how, report) in [
                ("replay", reprise::replay(&trace, lost_update_checked)),
                ("replay_coroutines", reprise::replay_coroutines(&trace, lost_update_checked)),
            ] {
                assert_eq!(report.outcome, reprise::ReplayOutcome::Matched, "{what} {how}");
                assert_eq!(
                    report.result.as_ref().and_then(check),
                    Some("lost update: 1".into()),
                    "{what} {how}"
                );
            }
        }
    }
    assert!(found >= 12, "only {found} of 18 explorations found the lost update");
}

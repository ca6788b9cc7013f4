//! Loom models of shapes the other loom tests do not have, written through
//! reprise's std-shaped shells as a user porting std/crossbeam code would:
//! each correct model passes, and each planted bug is found.
//!
//! ```sh
//! RUSTFLAGS="--cfg reprise_loom" CARGO_TARGET_DIR=target/loom LOOM_MAX_PREEMPTIONS=2 \
//!     cargo test -p reprise-recorder --release --test loom_hunt
//! ```
#![cfg(reprise_loom)]

use std::panic::{self, AssertUnwindSafe};

use reprise_recorder::channel::{self, RecvError, Select, TryRecvError, TrySendError};
use reprise_recorder::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, AtomicUsize, Ordering};
use reprise_recorder::sync::{Arc, Barrier, Condvar, LazyLock, Mutex, Once, OnceLock, RwLock};
use reprise_recorder::thread;

/// Runs `f` under loom with a preemption bound of 2; the panic of a failed
/// model, as a message.
fn check(f: impl Fn() + Sync + Send + 'static) -> Result<(), String> {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound.get_or_insert(2);
    panic::catch_unwind(AssertUnwindSafe(|| builder.check(f))).map_err(|payload| {
        payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default()
    })
}

fn passes(f: impl Fn() + Sync + Send + 'static) {
    if let Err(message) = check(f) {
        panic!("a correct model failed under loom: {message}");
    }
}

fn finds(f: impl Fn() + Sync + Send + 'static, expected: &str) {
    match check(f) {
        Ok(()) => panic!("loom did not find the planted bug ({expected})"),
        Err(message) => assert!(message.contains(expected), "loom failed otherwise: {message}"),
    }
}

// ---- select! with send and receive arms, default ----

/// A worker forwards one message from `input` to `output` with a `select!`
/// over a receive and a send arm; the main thread feeds and drains.
fn select_forward() {
    let (in_tx, in_rx) = channel::bounded::<u32>(1);
    let (out_tx, out_rx) = channel::bounded::<u32>(1);
    let worker = thread::spawn(move || {
        let mut held: Option<u32> = None;
        let mut forwarded = 0;
        while forwarded < 1 {
            match held {
                None => channel::select! {
                    recv(in_rx) -> msg => held = Some(msg.unwrap()),
                },
                Some(v) => channel::select! {
                    send(out_tx, v) -> res => { res.unwrap(); held = None; forwarded += 1; },
                    recv(in_rx) -> msg => panic!("unexpected second message {msg:?}"),
                },
            }
        }
    });
    in_tx.send(7).unwrap();
    assert_eq!(out_rx.recv().unwrap(), 7);
    worker.join().unwrap();
}

#[test]
fn select_with_send_and_receive_arms_forwards() {
    passes(select_forward);
}

/// `select!` with `default`: never blocks; either arm or default.
#[test]
fn select_default_never_blocks() {
    passes(|| {
        let (tx, rx) = channel::bounded::<u32>(0);
        let t = thread::spawn(move || {
            let mut got = None;
            for _ in 0..2 {
                channel::select! {
                    recv(rx) -> m => { got = m.ok(); break; },
                    default => thread::yield_now(),
                }
            }
            got
        });
        let sent = channel::select! {
            send(tx, 1) -> r => r.is_ok(),
            default => false,
        };
        drop(tx);
        let got = t.join().unwrap();
        assert_eq!(got.is_some(), sent, "sent {sent} but received {got:?}");
    });
}

/// `select_biased!` prefers the first ready arm.
#[test]
fn select_biased_takes_the_first_ready_arm() {
    passes(|| {
        let (a_tx, a_rx) = channel::unbounded::<u32>();
        let (b_tx, b_rx) = channel::unbounded::<u32>();
        a_tx.send(1).unwrap();
        b_tx.send(2).unwrap();
        let t = thread::spawn(move || {
            channel::select_biased! {
                recv(a_rx) -> m => m.unwrap(),
                recv(b_rx) -> m => m.unwrap(),
            }
        });
        assert_eq!(t.join().unwrap(), 1);
    });
}

/// `Select` by hand: two consumers race to receive through a `Select` on
/// the same channel; each message is received once, and a selected
/// operation completes.
#[test]
fn hand_select_two_consumers_share_a_channel() {
    passes(|| {
        let (tx, rx) = channel::bounded::<u32>(1);
        let (done_tx, done_rx) = channel::unbounded::<u32>();
        let mut consumers = Vec::new();
        for _ in 0..2 {
            let rx = rx.clone();
            let done_tx = done_tx.clone();
            consumers.push(thread::spawn(move || {
                let mut sel = Select::new();
                let i = sel.recv(&rx);
                let op = sel.select();
                assert_eq!(op.index(), i);
                if let Ok(v) = op.recv(&rx) {
                    done_tx.send(v).unwrap();
                }
            }));
        }
        drop(rx);
        drop(done_tx);
        tx.send(5).unwrap();
        drop(tx);
        for c in consumers {
            c.join().unwrap();
        }
        let got: Vec<u32> = done_rx.iter().collect();
        assert_eq!(got, vec![5]);
    });
}

/// `Select::try_select` and `ready` on a send arm.
#[test]
fn hand_select_send_arm_and_try_select() {
    passes(|| {
        let (tx, rx) = channel::bounded::<u32>(1);
        let t = thread::spawn(move || rx.recv().unwrap());
        let mut sel = Select::new();
        let i = sel.send(&tx);
        let op = sel.select();
        assert_eq!(op.index(), i);
        op.send(&tx, 9).unwrap();
        let mut sel = Select::new();
        sel.send(&tx);
        // Full or not, try_select never blocks.
        // Full, or ready (room, or the receiver gone: then the send fails,
        // as crossbeam's).
        if let Ok(op) = sel.try_select() {
            let _ = op.send(&tx, 10);
        }
        let first = t.join().unwrap();
        assert_eq!(first, 9);
    });
}

/// Two consumers race with a non-blocking `select!` (a receive arm and
/// `default`) for one message while the sender stays alive: a chosen
/// receive completes at once with the message (crossbeam's guarantee), so
/// neither blocks and exactly one gets it.
#[test]
fn racing_nonblocking_selects_never_block_in_the_chosen_arm() {
    passes(|| {
        let (tx, rx) = channel::unbounded::<u32>();
        let handles: Vec<_> = (0..2)
            .map(|_| {
                let rx = rx.clone();
                thread::spawn(move || {
                    channel::select! {
                        recv(rx) -> m => Some(m.unwrap()),
                        default => None,
                    }
                })
            })
            .collect();
        tx.send(1).unwrap();
        let got: Vec<_> = handles.into_iter().filter_map(|h| h.join().unwrap()).collect();
        assert!(got.len() <= 1, "the one message was received twice: {got:?}");
        drop(tx);
    });
}

/// The same with two senders racing a non-blocking send arm into one free
/// slot: the chosen send completes at once, the other takes `default`.
#[test]
fn racing_nonblocking_send_selects_never_block_in_the_chosen_arm() {
    passes(|| {
        let (tx, rx) = channel::bounded::<u32>(1);
        let handles: Vec<_> = (0..2)
            .map(|i| {
                let tx = tx.clone();
                thread::spawn(move || {
                    channel::select! {
                        send(tx, i) -> r => r.is_ok(),
                        default => false,
                    }
                })
            })
            .collect();
        let sent = handles.into_iter().map(|h| h.join().unwrap()).filter(|s| *s).count();
        assert_eq!(sent, 1, "one slot, one send");
        assert!(rx.try_recv().is_ok());
    });
}

// ---- rendezvous ----

/// A bounded(0) handshake: request and reply over two rendezvous channels.
#[test]
fn rendezvous_request_reply() {
    passes(|| {
        let (req_tx, req_rx) = channel::bounded::<u32>(0);
        let (rep_tx, rep_rx) = channel::bounded::<u32>(0);
        let server = thread::spawn(move || {
            for r in req_rx.iter() {
                rep_tx.send(r * 2).unwrap();
            }
        });
        req_tx.send(3).unwrap();
        assert_eq!(rep_rx.recv().unwrap(), 6);
        drop(req_tx);
        server.join().unwrap();
        assert_eq!(rep_rx.recv(), Err(RecvError));
    });
}

/// A rendezvous send returns only once taken: a flag set before the
/// receive is seen after the send.
#[test]
fn rendezvous_send_waits_for_the_receiver() {
    passes(|| {
        let (tx, rx) = channel::bounded::<()>(0);
        let flag = Arc::new(AtomicBool::new(false));
        flag.load(Ordering::Relaxed);
        let f = Arc::clone(&flag);
        let t = thread::spawn(move || {
            f.store(true, Ordering::Relaxed);
            rx.recv().unwrap();
        });
        tx.send(()).unwrap();
        assert!(flag.load(Ordering::Relaxed), "send returned before the receiver arrived");
        t.join().unwrap();
    });
}

// ---- disconnection and try_recv / try_iter ----

/// Messages sent before the last sender dropped are still received:
/// `try_recv` says Empty/Ok, never Disconnected while messages remain.
#[test]
fn try_recv_drains_before_disconnected() {
    passes(|| {
        let (tx, rx) = channel::bounded::<u32>(2);
        let t = thread::spawn(move || {
            tx.send(1).unwrap();
            tx.send(2).unwrap();
        });
        let mut got = Vec::new();
        loop {
            match rx.try_recv() {
                Ok(v) => got.push(v),
                Err(TryRecvError::Empty) => thread::yield_now(),
                Err(TryRecvError::Disconnected) => break,
            }
        }
        t.join().unwrap();
        assert_eq!(got, vec![1, 2]);
    });
}

#[test]
fn try_iter_then_iter() {
    passes(|| {
        let (tx, rx) = channel::unbounded::<u32>();
        let tx2 = tx.clone();
        let t = thread::spawn(move || {
            tx2.send(1).unwrap();
        });
        tx.send(0).unwrap();
        let mut got: Vec<u32> = rx.try_iter().collect();
        drop(tx);
        got.extend(rx.iter());
        t.join().unwrap();
        got.sort_unstable();
        assert_eq!(got, vec![0, 1]);
    });
}

#[test]
fn try_send_to_a_dropped_receiver_is_disconnected() {
    passes(|| {
        let (tx, rx) = channel::bounded::<u32>(1);
        let t = thread::spawn(move || drop(rx));
        t.join().unwrap();
        assert!(matches!(tx.try_send(1), Err(TrySendError::Disconnected(1))));
        assert!(tx.send(2).is_err());
    });
}

// ---- Condvar ----

/// Producer/consumer over a bounded queue under a Mutex with
/// `wait_while` and `notify_one`; `missed` drops the consumer's notification.
fn condvar_queue(missed: bool) {
    // std's Arc: loom's, dropped while unwinding from loom's deadlock
    // report, would abort the test process (a loom operation after the
    // execution ended).
    let pair = std::sync::Arc::new((Mutex::new(Vec::<u32>::new()), Condvar::new(), Condvar::new()));
    let p = std::sync::Arc::clone(&pair);
    let producer = thread::spawn(move || {
        let (m, not_empty, not_full) = &*p;
        for i in 0..2 {
            let mut q = not_full.wait_while(m.lock().unwrap(), |q| !q.is_empty()).unwrap();
            q.push(i);
            drop(q);
            not_empty.notify_one();
        }
    });
    let (m, not_empty, not_full) = &*pair;
    for i in 0..2 {
        let mut q = not_empty.wait_while(m.lock().unwrap(), |q| q.is_empty()).unwrap();
        assert_eq!(q.pop(), Some(i));
        drop(q);
        if !missed {
            not_full.notify_one();
        }
    }
    producer.join().unwrap();
}

#[test]
fn condvar_wait_while_producer_consumer() {
    passes(|| condvar_queue(false));
}

#[test]
fn condvar_missed_notification_is_a_deadlock() {
    finds(|| condvar_queue(true), "deadlock");
}

// ---- RwLock ----

fn rwlock_readers_writer(split_write: bool) {
    let lock = Arc::new(RwLock::new((0u32, 0u32)));
    let w = Arc::clone(&lock);
    let writer = thread::spawn(move || {
        if split_write {
            w.write().unwrap().0 = 1;
            w.write().unwrap().1 = 1;
        } else {
            let mut g = w.write().unwrap();
            g.0 = 1;
            g.1 = 1;
        }
    });
    let r = Arc::clone(&lock);
    let reader = thread::spawn(move || {
        if let Ok(g) = r.try_read() {
            assert_eq!(g.0, g.1, "torn read {:?}", *g);
        }
    });
    {
        let g = lock.read().unwrap();
        assert_eq!(g.0, g.1, "torn read {:?}", *g);
    }
    if let Ok(mut g) = lock.try_write() {
        g.0 = g.0.max(1);
        g.1 = g.1.max(1);
    }
    writer.join().unwrap();
    reader.join().unwrap();
    assert_eq!(*lock.read().unwrap(), (1, 1));
}

#[test]
fn rwlock_readers_and_writer() {
    passes(|| rwlock_readers_writer(false));
}

#[test]
fn rwlock_torn_write_is_found() {
    finds(|| rwlock_readers_writer(true), "torn read");
}

// ---- OnceLock / LazyLock / Once raced ----

#[test]
fn once_lock_raced_by_two_threads() {
    passes(|| {
        let cell = Arc::new(OnceLock::new());
        let runs = Arc::new(AtomicUsize::new(0));
        runs.load(Ordering::Relaxed);
        let handles: Vec<_> = (0..2)
            .map(|i| {
                let cell = Arc::clone(&cell);
                let runs = Arc::clone(&runs);
                thread::spawn(move || {
                    *cell.get_or_init(|| {
                        runs.fetch_add(1, Ordering::Relaxed);
                        i
                    })
                })
            })
            .collect();
        let values: Vec<u32> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        assert_eq!(values[0], values[1]);
        assert_eq!(runs.load(Ordering::Relaxed), 1);
        assert_eq!(cell.get(), Some(&values[0]));
    });
}

#[test]
fn once_lock_set_races_get_or_init() {
    passes(|| {
        let cell = Arc::new(OnceLock::new());
        let c = Arc::clone(&cell);
        let t = thread::spawn(move || c.set(1u32));
        let v = *cell.get_or_init(|| 2);
        let set = t.join().unwrap();
        assert_eq!(set.is_ok(), v == 1);
        assert_eq!(cell.get(), Some(&v));
    });
}

#[test]
fn lazy_lock_raced_by_two_threads() {
    passes(|| {
        let lazy = Arc::new(LazyLock::new(|| vec![1u32, 2, 3]));
        let l = Arc::clone(&lazy);
        let t = thread::spawn(move || l.len());
        assert_eq!(lazy.iter().sum::<u32>(), 6);
        assert_eq!(t.join().unwrap(), 3);
    });
}

#[test]
fn once_call_once_and_is_completed() {
    passes(|| {
        let once = Arc::new(Once::new());
        let n = Arc::new(AtomicUsize::new(0));
        n.load(Ordering::Relaxed);
        let (o, n2) = (Arc::clone(&once), Arc::clone(&n));
        let t = thread::spawn(move || {
            o.call_once(|| {
                n2.fetch_add(1, Ordering::Relaxed);
            });
            assert!(o.is_completed());
        });
        once.call_once(|| {
            n.fetch_add(1, Ordering::Relaxed);
        });
        assert!(once.is_completed());
        t.join().unwrap();
        assert_eq!(n.load(Ordering::Relaxed), 1);
    });
}

// ---- Barrier ----

#[test]
fn barrier_one_leader_and_everyone_sees_the_writes() {
    passes(|| {
        let barrier = Arc::new(Barrier::new(2));
        let slot = Arc::new(AtomicU64::new(0));
        slot.load(Ordering::Relaxed);
        let (b, s) = (Arc::clone(&barrier), Arc::clone(&slot));
        let t = thread::spawn(move || {
            s.fetch_add(1, Ordering::Relaxed);
            let leader = b.wait().is_leader();
            (leader, s.load(Ordering::Relaxed))
        });
        slot.fetch_add(1, Ordering::Relaxed);
        let leader = barrier.wait().is_leader();
        let seen = slot.load(Ordering::Relaxed);
        let (other_leader, other_seen) = t.join().unwrap();
        assert!(leader ^ other_leader, "leaders: {leader} {other_leader}");
        assert_eq!((seen, other_seen), (2, 2));
    });
}

// ---- atomics: CAS loops and fetch_update ----

fn cas_counter(weak: bool, lost_update: bool) {
    let n = Arc::new(AtomicI32::new(0));
    n.load(Ordering::Relaxed);
    let handles: Vec<_> = (0..2)
        .map(|_| {
            let n = Arc::clone(&n);
            thread::spawn(move || {
                if lost_update {
                    let v = n.load(Ordering::Relaxed);
                    n.store(v + 1, Ordering::Relaxed);
                    return;
                }
                let mut cur = n.load(Ordering::Relaxed);
                loop {
                    let r = if weak {
                        n.compare_exchange_weak(cur, cur + 1, Ordering::AcqRel, Ordering::Relaxed)
                    } else {
                        n.compare_exchange(cur, cur + 1, Ordering::AcqRel, Ordering::Relaxed)
                    };
                    match r {
                        Ok(_) => break,
                        Err(actual) => cur = actual,
                    }
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    assert_eq!(n.load(Ordering::Relaxed), 2, "lost update");
}

#[test]
fn compare_exchange_weak_loop_counts() {
    passes(|| cas_counter(true, false));
    passes(|| cas_counter(false, false));
}

#[test]
fn load_then_store_lost_update_is_found() {
    finds(|| cas_counter(false, true), "lost update");
}

#[test]
fn fetch_update_saturating() {
    passes(|| {
        let n = Arc::new(AtomicUsize::new(0));
        n.load(Ordering::Relaxed);
        let handles: Vec<_> = (0..2)
            .map(|_| {
                let n = Arc::clone(&n);
                thread::spawn(move || {
                    n.fetch_update(Ordering::AcqRel, Ordering::Acquire, |v| (v < 1).then_some(v + 1)).is_ok()
                })
            })
            .collect();
        let wins = handles.into_iter().filter(|_| true).map(|h| h.join().unwrap()).filter(|w| *w).count();
        assert_eq!(wins, 1);
        assert_eq!(n.load(Ordering::Relaxed), 1);
    });
}

// ---- park / unpark ----

fn park_handshake(lost_wakeup: bool) {
    // std's Arc (see `condvar_queue`).
    let flag = std::sync::Arc::new(AtomicBool::new(false));
    flag.load(Ordering::Relaxed);
    let f = std::sync::Arc::clone(&flag);
    let t = thread::spawn(move || {
        while !f.load(Ordering::Acquire) {
            thread::park();
            if lost_wakeup {
                // The planted bug: parks again without re-checking, after
                // the one unpark was spent.
                thread::park();
            }
        }
    });
    flag.store(true, Ordering::Release);
    t.thread().unpark();
    t.join().unwrap();
}

#[test]
fn park_unpark_handshake() {
    passes(|| park_handshake(false));
}

#[test]
fn park_twice_lost_wakeup_is_found() {
    finds(|| park_handshake(true), "deadlock");
}

#[test]
fn current_thread_unpark_from_another_thread() {
    passes(|| {
        let me = thread::current();
        let ready = Arc::new(AtomicBool::new(false));
        ready.load(Ordering::Relaxed);
        let r = Arc::clone(&ready);
        let t = thread::spawn(move || {
            r.store(true, Ordering::Release);
            me.unpark();
        });
        while !ready.load(Ordering::Acquire) {
            thread::park();
        }
        t.join().unwrap();
    });
}

// ---- thread_local! ----

reprise_recorder::thread_local! {
    static COUNTER: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
    static NAME: std::cell::RefCell<String> = std::cell::RefCell::new(String::from("main"));
}

#[test]
fn thread_local_values_per_thread() {
    passes(|| {
        COUNTER.with(|c| c.set(c.get() + 1));
        let t = thread::spawn(|| {
            COUNTER.with(|c| c.set(c.get() + 10));
            NAME.with_borrow_mut(|n| n.push_str("-child"));
            (COUNTER.with(|c| c.get()), NAME.with_borrow(|n| n.clone()))
        });
        let (c, n) = t.join().unwrap();
        assert_eq!(c, 10);
        assert_eq!(n, "main-child");
        assert_eq!(COUNTER.get(), 1);
        assert_eq!(NAME.with_borrow(|n| n.clone()), "main");
    });
}

// ---- capture / random ----

#[test]
fn capture_and_random_under_loom() {
    passes(|| {
        let t = thread::spawn(|| reprise_recorder::random::below(10));
        let v = reprise_recorder::capture(|| 41) + 1;
        assert_eq!(v, 42);
        assert!(t.join().unwrap() < 10);
        let _ = reprise_recorder::random::u64();
    });
}

// ---- panics, poison, join errors ----

/// Under loom a panic in a spawned thread fails the model with its own
/// message (loom's rule), where std's `join` would return it as an `Err`.
#[test]
fn a_panic_in_a_spawned_thread_fails_the_model() {
    finds(
        || {
            let t = thread::spawn(|| panic!("boom in a model"));
            let _ = t.join();
        },
        "boom in a model",
    );
}

/// loom's own locks poison (a std lock inside) and loom then panics on the
/// next acquisition: a model can see the poison (`is_poisoned`), and
/// relocking fails the model with reprise's explanation rather than a
/// `PoisonError` unwrapped inside loom.
const POISON_LIMIT: &str = "cannot be locked again";

/// A panic under the guard, caught: the mutex reports it.
#[test]
fn catch_unwind_inside_a_model_poisons_the_mutex() {
    passes(|| {
        let m = Arc::new(Mutex::new(0u32));
        let r = panic::catch_unwind(AssertUnwindSafe(|| {
            let mut g = m.lock().unwrap();
            *g += 1;
            panic!("while holding the lock");
        }));
        assert!(r.is_err());
        assert!(m.is_poisoned());
    });
}

#[test]
fn relocking_a_poisoned_mutex_says_loom_cannot() {
    finds(
        || {
            let m = Mutex::new(0u32);
            let _ = panic::catch_unwind(AssertUnwindSafe(|| {
                let _g = m.lock().unwrap();
                panic!("while holding the lock");
            }));
            let v = *m.lock().unwrap_or_else(|e| e.into_inner());
            assert_eq!(v, 0);
        },
        POISON_LIMIT,
    );
}

#[test]
fn rwlock_poisoned_by_a_caught_panic_in_another_thread() {
    finds(
        || {
            let lock = Arc::new(RwLock::new(0u32));
            let l = Arc::clone(&lock);
            let t = thread::spawn(move || {
                let r = panic::catch_unwind(AssertUnwindSafe(|| {
                    let mut g = l.write().unwrap();
                    *g = 1;
                    panic!("writer failed");
                }));
                assert!(r.is_err());
            });
            t.join().unwrap();
            assert!(lock.is_poisoned());
            let _ = lock.try_read();
        },
        POISON_LIMIT,
    );
}

#[test]
fn condvar_wait_on_a_mutex_poisoned_meanwhile_says_loom_cannot() {
    finds(
        || {
            let pair = Arc::new((Mutex::new(false), Condvar::new()));
            let p = Arc::clone(&pair);
            let t = thread::spawn(move || {
                let (m, cv) = &*p;
                let _ = panic::catch_unwind(AssertUnwindSafe(|| {
                    let mut g = m.lock().unwrap();
                    *g = true;
                    cv.notify_one();
                    panic!("notifier failed");
                }));
            });
            let (m, cv) = &*pair;
            let mut g = m.lock().unwrap_or_else(|e| e.into_inner());
            while !*g {
                g = cv.wait(g).unwrap_or_else(|e| e.into_inner());
            }
            drop(g);
            t.join().unwrap();
        },
        POISON_LIMIT,
    );
}

#[test]
fn a_sender_dropped_by_a_caught_panic_disconnects() {
    passes(|| {
        let (tx, rx) = channel::unbounded::<u32>();
        let t = thread::spawn(move || {
            let r = panic::catch_unwind(AssertUnwindSafe(move || {
                tx.send(1).unwrap();
                panic!("worker failed");
            }));
            assert!(r.is_err());
        });
        let got: Vec<u32> = rx.iter().collect();
        assert_eq!(got, vec![1]);
        t.join().unwrap();
    });
}

// ---- second batch ----

/// Two `Select`s meet on a rendezvous: one blocked on a send arm, the other
/// on a receive arm. crossbeam pairs them.
#[test]
fn rendezvous_between_two_blocking_selects() {
    passes(|| {
        let (tx, rx) = channel::bounded::<u32>(0);
        let t = thread::spawn(move || {
            channel::select! {
                send(tx, 4) -> r => r.unwrap(),
            }
        });
        let got = channel::select! {
            recv(rx) -> m => m.unwrap(),
        };
        assert_eq!(got, 4);
        t.join().unwrap();
    });
}

/// A blocking select on a rendezvous send arm meets a plain `recv`.
#[test]
fn rendezvous_select_send_meets_a_plain_recv() {
    passes(|| {
        let (tx, rx) = channel::bounded::<u32>(0);
        let t = thread::spawn(move || rx.recv().unwrap());
        channel::select! {
            send(tx, 8) -> r => r.unwrap(),
        }
        assert_eq!(t.join().unwrap(), 8);
    });
}

/// A panicking initializer, caught: `Once` is poisoned, `call_once_force`
/// still runs and sees it.
#[test]
fn once_poisoned_by_a_caught_panic_then_forced() {
    passes(|| {
        let once = Arc::new(Once::new());
        let o = Arc::clone(&once);
        let t = thread::spawn(move || {
            let r = panic::catch_unwind(AssertUnwindSafe(|| o.call_once(|| panic!("init failed"))));
            r.is_err()
        });
        let mut saw_poison = None;
        once.call_once_force(|state| saw_poison = Some(state.is_poisoned()));
        let panicked = t.join().unwrap();
        assert!(once.is_completed());
        // Either the panicking initializer ran first (poisoned), or ours
        // completed it first and theirs never ran.
        assert_eq!(saw_poison.unwrap_or(false), panicked, "{saw_poison:?} {panicked}");
    });
}

/// A panicking `get_or_init`, caught: the cell stays empty and another
/// thread initializes it.
#[test]
fn once_lock_init_panics_then_another_thread_initializes() {
    passes(|| {
        let cell = Arc::new(OnceLock::<u32>::new());
        let c = Arc::clone(&cell);
        let t = thread::spawn(move || {
            let _ = panic::catch_unwind(AssertUnwindSafe(|| {
                c.get_or_init(|| panic!("init failed"));
            }));
        });
        let v = *cell.get_or_init(|| 5);
        t.join().unwrap();
        assert_eq!(v, 5);
    });
}

/// std's mpsc through reprise: a sync_channel(0) handshake and a dropped
/// sender ending `iter`.
#[test]
fn mpsc_sync_channel_handshake_and_iter() {
    use reprise_recorder::sync::mpsc;
    passes(|| {
        let (tx, rx) = mpsc::sync_channel::<u32>(0);
        let (done_tx, done_rx) = mpsc::channel::<u32>();
        let t = thread::spawn(move || {
            for v in rx.iter() {
                done_tx.send(v + 1).unwrap();
            }
        });
        tx.send(1).unwrap();
        assert_eq!(done_rx.recv().unwrap(), 2);
        drop(tx);
        t.join().unwrap();
        assert_eq!(done_rx.try_recv(), Err(mpsc::TryRecvError::Disconnected));
    });
}

/// `Builder` names, `current().name()`, `is_finished` after `join`.
#[test]
fn named_threads_and_is_finished() {
    passes(|| {
        let t = thread::Builder::new()
            .name("worker".into())
            .spawn(|| thread::current().name().map(str::to_owned))
            .unwrap();
        assert_eq!(t.thread().name(), Some("worker"));
        let _ = t.is_finished();
        assert_eq!(t.join().unwrap().as_deref(), Some("worker"));
    });
}

/// A message sent with `Release` on a flag after a relaxed write, read with
/// `Relaxed`: the ordering bug loom finds (an AtomicBool and an AtomicU64
/// made after the spawn's parent touched them).
fn flag_publish(load: Ordering) {
    let data = Arc::new((AtomicU64::new(0), AtomicBool::new(false)));
    data.0.load(Ordering::Relaxed);
    data.1.load(Ordering::Relaxed);
    let d = Arc::clone(&data);
    let reader = thread::spawn(move || {
        while !d.1.load(load) {
            thread::yield_now();
        }
        assert_eq!(d.0.load(Ordering::Relaxed), 42, "saw the flag but not the data");
    });
    data.0.store(42, Ordering::Relaxed);
    data.1.store(true, Ordering::Release);
    reader.join().unwrap();
}

#[test]
fn acquire_flag_publishes_the_data() {
    passes(|| flag_publish(Ordering::Acquire));
}

#[test]
fn relaxed_flag_ordering_bug_is_found() {
    finds(|| flag_publish(Ordering::Relaxed), "saw the flag but not the data");
}

/// `Select::ready` then a `try_recv`: the documented crossbeam idiom; a
/// ready index may be stale, so the receive must not block.
#[test]
fn select_ready_then_try_recv() {
    passes(|| {
        let (tx, rx) = channel::unbounded::<u32>();
        let t = thread::spawn(move || {
            tx.send(1).unwrap();
        });
        let mut got = None;
        while got.is_none() {
            let mut sel = Select::new();
            sel.recv(&rx);
            let _ = sel.ready();
            match rx.try_recv() {
                Ok(v) => got = Some(v),
                Err(TryRecvError::Empty) => {}
                Err(TryRecvError::Disconnected) => break,
            }
        }
        t.join().unwrap();
        assert_eq!(got, Some(1));
    });
}

/// `recv_timeout` on an empty rendezvous under loom: times out at once
/// (README), and a sender waiting meanwhile is not left with its message.
#[test]
fn recv_timeout_then_recv_on_a_rendezvous() {
    passes(|| {
        let (tx, rx) = channel::bounded::<u32>(0);
        let t = thread::spawn(move || tx.send(3));
        let first = rx.recv_timeout(std::time::Duration::from_millis(10));
        let v = match first {
            Ok(v) => v,
            Err(_) => rx.recv().unwrap(),
        };
        assert_eq!(v, 3);
        t.join().unwrap().unwrap();
    });
}

// ---- third batch ----

/// A `Barrier` reused for two rounds: one leader per round, and the second
/// round's writes are seen after it.
#[test]
fn barrier_two_rounds() {
    passes(|| {
        let barrier = Arc::new(Barrier::new(2));
        let b = Arc::clone(&barrier);
        let t = thread::spawn(move || (b.wait().is_leader(), b.wait().is_leader()));
        let mine = (barrier.wait().is_leader(), barrier.wait().is_leader());
        let theirs = t.join().unwrap();
        assert!(mine.0 ^ theirs.0 && mine.1 ^ theirs.1, "{mine:?} {theirs:?}");
    });
}

/// `notify_all` wakes both waiters of a gate.
fn gate(notify_all: bool) {
    // std's Arc (see `condvar_queue`).
    let gate = std::sync::Arc::new((Mutex::new(false), Condvar::new()));
    let waiters: Vec<_> = (0..2)
        .map(|_| {
            let g = std::sync::Arc::clone(&gate);
            thread::spawn(move || {
                let (m, cv) = &*g;
                let _open = cv.wait_while(m.lock().unwrap(), |open| !*open).unwrap();
            })
        })
        .collect();
    let (m, cv) = &*gate;
    *m.lock().unwrap() = true;
    if notify_all {
        cv.notify_all();
    } else {
        cv.notify_one();
    }
    for w in waiters {
        w.join().unwrap();
    }
}

#[test]
fn condvar_notify_all_opens_the_gate_for_everyone() {
    passes(|| gate(true));
}

#[test]
fn condvar_notify_one_for_two_waiters_is_found() {
    finds(|| gate(false), "deadlock");
}

/// `wait_timeout_while` under loom: times out at once if the condition
/// holds (README); the caller re-checks.
#[test]
fn condvar_wait_timeout_while() {
    passes(|| {
        let pair = Arc::new((Mutex::new(0u32), Condvar::new()));
        let p = Arc::clone(&pair);
        let t = thread::spawn(move || {
            *p.0.lock().unwrap() = 1;
            p.1.notify_one();
        });
        let (m, cv) = &*pair;
        let (g, res) = cv
            .wait_timeout_while(m.lock().unwrap(), std::time::Duration::from_millis(1), |v| *v == 0)
            .unwrap();
        assert_eq!(res.timed_out(), *g == 0);
        drop(g);
        t.join().unwrap();
    });
}

/// `select!` with `default(timeout)`, `select_timeout` and `send_timeout`.
#[test]
fn timeouts_in_select_and_send() {
    passes(|| {
        let (tx, rx) = channel::bounded::<u32>(1);
        let t = thread::spawn(move || {
            channel::select! {
                recv(rx) -> m => m.ok(),
                default(std::time::Duration::from_millis(5)) => None,
            }
        });
        tx.send_timeout(1, std::time::Duration::from_millis(5)).unwrap();
        let second = tx.send_timeout(2, std::time::Duration::from_millis(5));
        let got = t.join().unwrap();
        match got {
            Some(1) => {}
            None => assert!(second.is_err(), "full, nobody received, yet the second send went in"),
            other => panic!("{other:?}"),
        }
    });
}

/// `len`, `is_empty`, `is_full`, `capacity` on each flavor, as crossbeam's.
#[test]
fn queries_as_crossbeam() {
    passes(|| {
        let (tx, rx) = channel::bounded::<u32>(0);
        assert_eq!((tx.len(), rx.is_empty(), tx.is_full(), tx.capacity()), (0, true, true, Some(0)));
        let (tx, rx) = channel::bounded::<u32>(1);
        tx.send(1).unwrap();
        assert_eq!((tx.len(), rx.is_empty(), rx.is_full()), (1, false, true));
        let (tx, rx) = channel::unbounded::<u32>();
        tx.send(1).unwrap();
        assert_eq!((rx.len(), tx.is_full(), rx.capacity()), (1, false, None));
        assert!(tx.same_channel(&tx.clone()));
        drop(tx);
        assert_eq!(rx.into_iter().collect::<Vec<_>>(), vec![1]);
    });
}

/// Virtual time and `LazyLock::force`.
#[test]
fn instant_and_lazy_force() {
    passes(|| {
        let start = reprise_recorder::time::Instant::now();
        let lazy = Arc::new(LazyLock::new(|| 7u32));
        let l = Arc::clone(&lazy);
        let t = thread::spawn(move || *LazyLock::force(&l));
        thread::sleep(std::time::Duration::from_millis(3));
        assert!(start.elapsed() >= std::time::Duration::from_millis(3));
        assert_eq!(**lazy, 7);
        assert_eq!(t.join().unwrap(), 7);
    });
}

/// A publish through `AtomicPtr` with Release/Acquire.
#[test]
fn atomic_ptr_publish() {
    use reprise_recorder::sync::atomic::AtomicPtr;
    passes(|| {
        let slot = Arc::new(AtomicPtr::<u32>::new(std::ptr::null_mut()));
        slot.load(Ordering::Relaxed);
        let s = Arc::clone(&slot);
        let t = thread::spawn(move || {
            let p = s.load(Ordering::Acquire);
            (!p.is_null()).then(|| unsafe { *p })
        });
        let b = Box::into_raw(Box::new(9u32));
        slot.store(b, Ordering::Release);
        let seen = t.join().unwrap();
        assert!(matches!(seen, None | Some(9)));
        drop(unsafe { Box::from_raw(slot.swap(std::ptr::null_mut(), Ordering::Relaxed)) });
    });
}

/// A select blocked on a receive arm and a send arm of two channels ends
/// when the receive's senders all drop (its arm is ready: disconnected).
#[test]
fn blocked_select_wakes_on_disconnection() {
    passes(|| {
        let (in_tx, in_rx) = channel::unbounded::<u32>();
        let (out_tx, out_rx) = channel::bounded::<u32>(0);
        let t = thread::spawn(move || {
            channel::select! {
                recv(in_rx) -> m => assert!(m.is_err(), "nothing was sent"),
                send(out_tx, 1) -> r => assert!(r.is_err(), "nobody receives"),
            }
        });
        drop(out_rx);
        drop(in_tx);
        t.join().unwrap();
    });
}

/// A send arm and a receive arm on the same bounded(1) channel, with
/// `Select::remove` and `select_timeout`.
#[test]
fn select_both_ends_of_one_channel_and_remove() {
    passes(|| {
        let (tx, rx) = channel::bounded::<u32>(1);
        let mut sel = Select::new();
        let s = sel.send(&tx);
        let r = sel.recv(&rx);
        let op = sel.select();
        // Empty channel: only the send is ready.
        assert_eq!(op.index(), s);
        op.send(&tx, 1).unwrap();
        sel.remove(s);
        let op = sel.select_timeout(std::time::Duration::from_millis(1)).unwrap();
        assert_eq!(op.index(), r);
        assert_eq!(op.recv(&rx), Ok(1));
    });
}

/// The planted bug: a forwarder polls with `default` and gives up, so a
/// message sent late is lost; loom finds the schedule.
#[test]
fn select_default_that_gives_up_loses_a_message() {
    finds(
        || {
            let (tx, rx) = channel::unbounded::<u32>();
            let t = thread::spawn(move || {
                let got = channel::select! {
                    recv(rx) -> m => m.ok(),
                    default => None,
                };
                (got, rx)
            });
            tx.send(1).unwrap();
            assert_eq!(t.join().unwrap().0, Some(1), "the message was lost");
        },
        "the message was lost",
    );
}

// ---- fourth batch ----

struct Noisy(std::sync::Arc<std::sync::atomic::AtomicUsize>);

impl Drop for Noisy {
    fn drop(&mut self) {
        self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
}

reprise_recorder::thread_local! {
    static SLOT: std::cell::RefCell<Option<Noisy>> = const { std::cell::RefCell::new(None) };
    static PLAIN: std::cell::Cell<u32> = const { std::cell::Cell::new(5) };
}

/// `LocalKey::set`/`take`/`replace` per thread, and a value's destructor
/// running when its thread ends.
#[test]
fn thread_local_set_take_replace_and_destructors() {
    passes(|| {
        let dropped = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let d = std::sync::Arc::clone(&dropped);
        let t = thread::spawn(move || {
            SLOT.set(Some(Noisy(d)));
            PLAIN.set(6);
            assert_eq!(PLAIN.replace(7), 6);
            PLAIN.take()
        });
        assert_eq!(t.join().unwrap(), 7);
        assert_eq!(PLAIN.get(), 5, "the main thread's value is its own");
        assert!(SLOT.with_borrow(Option::is_none));
        assert_eq!(
            dropped.load(std::sync::atomic::Ordering::SeqCst),
            1,
            "the thread's value was dropped at its end"
        );
    });
}

/// Thread ids are distinct, `park_timeout` returns.
#[test]
fn thread_ids_and_park_timeout() {
    passes(|| {
        let me = thread::current().id();
        let t = thread::spawn(move || {
            thread::park_timeout(std::time::Duration::from_millis(1));
            thread::current().id()
        });
        assert_ne!(t.join().unwrap(), me);
    });
}

/// `random` and `capture_sensitive` draw the same in every execution.
#[test]
fn random_is_deterministic_per_execution() {
    let seen = std::sync::Arc::new(std::sync::Mutex::new(None));
    let s = std::sync::Arc::clone(&seen);
    passes(move || {
        let t = thread::spawn(|| reprise_recorder::random::u64());
        let mine = reprise_recorder::random::u64();
        let theirs = t.join().unwrap();
        let secret = reprise_recorder::capture_sensitive(|| 3u8);
        assert_eq!(secret, 3);
        let mut pair = [mine, theirs];
        pair.sort_unstable();
        let mut seen = s.lock().unwrap();
        assert_eq!(*seen.get_or_insert(pair), pair, "the draws differ between executions");
    });
}

/// A thread blocked in `Select::ready` on a rendezvous receive arm is not a
/// receiver: a `try_send` does not hand it a message (crossbeam's `ready`
/// only watches), so a message is never left in a rendezvous channel that
/// nobody takes.
#[test]
fn ready_on_a_rendezvous_is_not_a_receiver_for_try_send() {
    passes(|| {
        let (tx, rx) = channel::bounded::<u32>(0);
        let (stop_tx, stop_rx) = channel::bounded::<()>(1);
        let t = thread::spawn(move || {
            let mut sel = Select::new();
            let r = sel.recv(&rx);
            let s = sel.recv(&stop_rx);
            let i = sel.ready();
            assert!(i == r || i == s);
        });
        let sent = tx.try_send(1).is_ok();
        stop_tx.send(()).unwrap();
        t.join().unwrap();
        assert!(!sent, "a rendezvous try_send succeeded with no receiver to take it");
    });
}

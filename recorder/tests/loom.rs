//! Loom model checks of code written against reprise's primitives.
//!
//! ```sh
//! RUSTFLAGS="--cfg reprise_loom" CARGO_TARGET_DIR=target/loom LOOM_MAX_PREEMPTIONS=2 \
//!     cargo test -p reprise-recorder --release --test loom
//! ```
//!
//! Under `--cfg reprise_loom`, `reprise_recorder::{thread, sync, channel}` are
//! loom-backed, so the same pipeline code is checked over every interleaving
//! within the preemption bound (`LOOM_MAX_PREEMPTIONS`, 2 when unset). In any
//! other build this file compiles to nothing.
#![cfg(reprise_loom)]

use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::AtomicUsize;
use std::time::{Duration, Instant};

use reprise_recorder::channel::{self, TryRecvError, TrySendError};
use reprise_recorder::sync::atomic::{AtomicBool, AtomicUsize as AtomicUsizeR, Ordering};
use reprise_recorder::sync::{Arc, Barrier, Condvar, Mutex, Once, OnceLock};
use reprise_recorder::{random, thread, time};

/// Runs `f` under loom with the preemption bound and reports on stderr how
/// many executions it took and how long; a failed model's panic goes on.
fn model(name: &str, f: impl Fn() + Sync + Send + 'static) {
    if let Err(payload) = check(name, f) {
        panic::resume_unwind(payload);
    }
}

/// Like [`model`], but returns a failed model's panic payload.
fn check(name: &str, f: impl Fn() + Sync + Send + 'static) -> Result<(), Box<dyn std::any::Any + Send>> {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound.get_or_insert(2);
    let executions = std::sync::Arc::new(AtomicUsize::new(0));
    let counter = std::sync::Arc::clone(&executions);
    let start = Instant::now();
    let outcome = panic::catch_unwind(AssertUnwindSafe(|| {
        builder.check(move || {
            counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            f();
        })
    }));
    eprintln!(
        "{name}: {} after {executions:?} executions in {:.2?} (preemption bound {:?})",
        if outcome.is_ok() { "passed" } else { "failed" },
        start.elapsed(),
        builder.preemption_bound
    );
    outcome
}

/// The panic message of a model that failed.
fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "<not a string>".to_string())
}

mod payments {
    //! Two ledger workers apply transfers between three accounts, received
    //! over a channel; money must be conserved.

    use super::*;

    pub(super) const ACCOUNTS: usize = 3;
    pub(super) const OPENING: i64 = 100;

    #[derive(Clone, Copy, Debug)]
    struct Transfer {
        from: usize,
        to: usize,
        amount: i64,
    }

    /// How a worker updates a balance.
    #[derive(Clone, Copy, Debug)]
    pub(super) enum Update {
        /// The seeded bug: read the balance under one acquisition of the
        /// account's lock, write it back under another.
        LostUpdate,
        /// Read and write under one acquisition.
        OneAcquisition,
    }

    fn adjust(balance: &Mutex<i64>, by: i64, update: Update) {
        match update {
            Update::LostUpdate => {
                let read = *balance.lock().unwrap();
                *balance.lock().unwrap() = read + by;
            }
            Update::OneAcquisition => *balance.lock().unwrap() += by,
        }
    }

    /// The pipeline: the model's thread sends two transfers that both touch
    /// account 1, two workers apply them, and the invariant is checked once
    /// they are done.
    pub(super) fn ledger(update: Update) {
        let accounts: Arc<Vec<Mutex<i64>>> = Arc::new((0..ACCOUNTS).map(|_| Mutex::new(OPENING)).collect());
        let (tx, rx) = channel::bounded::<Transfer>(1);
        let workers: Vec<_> = (0..2)
            .map(|i| {
                let (rx, accounts) = (rx.clone(), Arc::clone(&accounts));
                thread::Builder::new()
                    .name(format!("ledger-{i}"))
                    .spawn(move || {
                        for t in rx.iter() {
                            adjust(&accounts[t.from], -t.amount, update);
                            adjust(&accounts[t.to], t.amount, update);
                        }
                    })
                    .unwrap()
            })
            .collect();
        drop(rx);
        for t in [Transfer { from: 0, to: 1, amount: 30 }, Transfer { from: 1, to: 2, amount: 20 }] {
            tx.send(t).unwrap();
        }
        drop(tx);
        for w in workers {
            w.join().unwrap();
        }
        let balances: Vec<i64> = accounts.iter().map(|a| *a.lock().unwrap()).collect();
        let total: i64 = balances.iter().sum();
        assert_eq!(
            total,
            OPENING * ACCOUNTS as i64,
            "invariant `conservation` violated: balances {balances:?} sum to {total}"
        );
    }
}

#[test]
fn loom_finds_the_lost_update_that_breaks_conservation() {
    let outcome = check("payments with the lost update", || payments::ledger(payments::Update::LostUpdate));
    let payload = outcome.expect_err("loom must find a schedule that loses an update");
    let message = panic_message(&*payload);
    assert!(
        message.contains("invariant `conservation` violated"),
        "the model failed, but not on the conservation invariant: {message}"
    );
}

#[test]
fn payments_updated_under_one_acquisition_conserve_money_in_every_schedule() {
    model("payments without the bug", || payments::ledger(payments::Update::OneAcquisition));
}

#[test]
fn channel_delivers_each_message_once_in_order_per_sender_and_disconnection_ends_the_consumer() {
    model("channel, 2 producers x 2 messages over bounded(1)", || {
        let (tx, rx) = channel::bounded::<(usize, u32)>(1);
        let producers: Vec<_> = (0..2)
            .map(|p| {
                let tx = tx.clone();
                thread::spawn(move || {
                    for seq in 0..2 {
                        tx.send((p, seq)).unwrap();
                    }
                })
            })
            .collect();
        drop(tx);
        let mut next = [0u32; 2];
        // Ends only once both producers are gone and the queue is drained.
        for (p, seq) in rx.iter() {
            assert!(rx.len() <= 1, "bounded(1) holds at most one message");
            assert_eq!(seq, next[p], "producer {p}'s messages arrive once each, in order");
            next[p] += 1;
        }
        assert_eq!(next, [2, 2], "every message arrives");
        assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
        for p in producers {
            p.join().unwrap();
        }
    });
}

#[test]
fn sends_fail_once_every_receiver_is_gone() {
    model("channel, receiver dropped", || {
        let (tx, rx) = channel::bounded::<u32>(1);
        let consumer = thread::spawn(move || rx.recv().ok());
        let first = tx.send(1);
        let got = consumer.join().unwrap();
        assert_eq!((first, got), (Ok(()), Some(1)));
        assert_eq!(tx.send(2).map_err(|e| e.into_inner()), Err(2), "no receiver is left");
        assert!(matches!(tx.try_send(3), Err(TrySendError::Disconnected(3))));
    });
}

#[test]
fn a_rendezvous_send_returns_only_after_its_message_was_taken() {
    model("channel, bounded(0)", || {
        let (tx, rx) = channel::bounded::<u32>(0);
        assert!(matches!(tx.try_send(7), Err(TrySendError::Full(7))), "no receiver is waiting");
        let sent = Arc::new(AtomicBool::new(false));
        let producer = {
            let sent = Arc::clone(&sent);
            thread::spawn(move || {
                tx.send(1).unwrap();
                sent.store(true, Ordering::SeqCst);
            })
        };
        let before = sent.load(Ordering::SeqCst);
        assert_eq!(rx.recv(), Ok(1));
        assert!(!before, "the send returned before anyone received");
        producer.join().unwrap();
        assert_eq!(rx.recv(), Err(channel::RecvError));
    });
}

#[test]
fn a_timed_send_delivers_or_times_out_with_its_value_and_the_queries_answer() {
    model("channel, send_timeout", || {
        let (tx, rx) = channel::bounded::<u32>(1);
        assert_eq!((tx.capacity(), rx.is_full(), tx.same_channel(&tx.clone())), (Some(1), false, true));
        tx.send(1).unwrap();
        assert!(tx.is_full());
        // The receiver comes back with its message, so it outlives the send.
        let consumer = thread::spawn(move || (rx.recv().ok(), rx));
        // Either the consumer made room while this send let it run, or
        // the send timed out and gave its value back: both are explored.
        let second = tx.send_timeout(2, Duration::from_secs(1));
        assert!(matches!(second, Ok(()) | Err(channel::SendTimeoutError::Timeout(2))), "{second:?}");
        let (first, rx) = consumer.join().unwrap();
        assert_eq!(first, Some(1));
        assert_eq!(rx.try_recv().ok(), second.ok().map(|()| 2));
    });
}

#[test]
fn select_receives_from_whichever_channel_is_ready_until_both_disconnect() {
    model("select over two channels", || {
        let (tx_a, rx_a) = channel::unbounded::<u32>();
        let (tx_b, rx_b) = channel::unbounded::<u32>();
        let a = thread::spawn(move || tx_a.send(1).unwrap());
        let b = thread::spawn(move || tx_b.send(2).unwrap());
        let mut arms = vec![(0, rx_a), (1, rx_b)];
        let mut got = Vec::new();
        while !arms.is_empty() {
            let receivers: Vec<_> = arms.iter().map(|(_, rx)| rx).collect();
            let (i, result) = channel::select(&receivers);
            match result {
                Ok(v) => got.push((arms[i].0, v)),
                Err(_) => {
                    arms.remove(i);
                }
            }
        }
        got.sort_unstable();
        assert_eq!(got, [(0, 1), (1, 2)], "each message once, from its own channel");
        a.join().unwrap();
        b.join().unwrap();
    });
}

#[test]
fn recv_timeout_times_out_at_once_when_empty_and_a_retry_loop_ends() {
    model("recv_timeout polling", || {
        let (tx, rx) = channel::unbounded::<u32>();
        let producer = thread::spawn(move || tx.send(5).unwrap());
        // Each timeout lets the producer run, so the loop ends (loom would
        // report its branch limit otherwise) after at most a few timeouts.
        let value = loop {
            match rx.recv_timeout(Duration::from_secs(1)) {
                Ok(v) => break v,
                Err(channel::RecvTimeoutError::Timeout) => continue,
                Err(e) => panic!("unexpected {e:?}"),
            }
        };
        assert_eq!(value, 5);
        producer.join().unwrap();
        assert_eq!(rx.recv_timeout(Duration::from_secs(1)), Err(channel::RecvTimeoutError::Disconnected));
    });
}

#[test]
fn a_condvar_hand_off_is_never_lost() {
    model("condvar hand-off", || {
        let pair = Arc::new((Mutex::new(false), Condvar::new()));
        let notifier = {
            let pair = Arc::clone(&pair);
            thread::spawn(move || {
                *pair.0.lock().unwrap() = true;
                pair.1.notify_one();
            })
        };
        let ready = pair.1.wait_while(pair.0.lock().unwrap(), |ready| !*ready).unwrap();
        assert!(*ready);
        drop(ready);
        notifier.join().unwrap();
    });
}

#[test]
fn loom_reports_a_lock_order_deadlock_through_reprise_mutexes() {
    let outcome = check("lock-order inversion", || {
        // std's Arc: dropping loom's while unwinding from loom's deadlock
        // report would be a loom operation after the execution ended.
        let locks = std::sync::Arc::new((Mutex::new(()), Mutex::new(())));
        let other = {
            let locks = std::sync::Arc::clone(&locks);
            thread::spawn(move || {
                let _b = locks.1.lock().unwrap();
                let _a = locks.0.lock().unwrap();
            })
        };
        {
            let _a = locks.0.lock().unwrap();
            let _b = locks.1.lock().unwrap();
        }
        other.join().unwrap();
    });
    let message = panic_message(&*outcome.expect_err("loom must find the deadlock"));
    assert!(message.contains("deadlock"), "the model failed, but not with a deadlock: {message}");
}

#[test]
fn a_primitive_in_a_static_is_reported_instead_of_aliased() {
    static SHARED: Mutex<u32> = Mutex::new(0);
    let outcome = check("a static mutex", || {
        let other = thread::spawn(|| *SHARED.lock().unwrap() += 1);
        *SHARED.lock().unwrap() += 1;
        other.join().unwrap();
    });
    let message = panic_message(&*outcome.expect_err("the second execution must refuse the static"));
    assert!(message.contains("used by two loom executions"), "unexpected failure: {message}");
}

#[test]
fn virtual_time_and_randomness_are_the_same_in_every_execution() {
    let first = std::sync::Arc::new(std::sync::Mutex::new(None));
    let seen = std::sync::Arc::clone(&first);
    model("time and random", move || {
        let start = time::now();
        let wall = time::system_now();
        thread::sleep(Duration::from_millis(5));
        assert_eq!(time::now() - start, Duration::from_millis(5), "only sleeps move the clock");
        assert_eq!(time::system_now().duration_since(wall).unwrap(), Duration::from_millis(5));
        let draws = (random::u64(), random::below(10), reprise_recorder::capture(|| 42u32));
        assert!(draws.1 < 10);
        let mut seen = seen.lock().unwrap();
        assert_eq!(
            *seen.get_or_insert((start, wall, draws)),
            (start, wall, draws),
            "every execution starts alike"
        );
    });
    assert!(first.lock().unwrap().is_some());
}

/// The main thread selects between receiving numbers and sending a word to
/// a consumer, over channels of different types, until both are done.
fn select_over_two_types(sent_first_is_a_bug: bool) {
    let (tx_n, rx_n) = channel::unbounded::<u32>();
    let (tx_w, rx_w) = channel::bounded::<String>(1);
    let producer = thread::spawn(move || tx_n.send(1).unwrap());
    let consumer = thread::spawn(move || rx_w.recv().unwrap());
    let (mut got, mut sent, mut open) = (None, false, true);
    while open || !sent {
        let mut sel = channel::Select::new();
        let n = open.then(|| sel.recv(&rx_n));
        let w = (!sent).then(|| sel.send(&tx_w));
        let op = sel.select();
        if Some(op.index()) == n {
            match op.recv(&rx_n) {
                Ok(v) => got = Some(v),
                Err(_) => open = false,
            }
        } else {
            assert_eq!(Some(op.index()), w);
            op.send(&tx_w, "word".to_string()).unwrap();
            assert!(!sent_first_is_a_bug || got.is_some(), "sent before receiving");
            sent = true;
        }
    }
    assert_eq!(got, Some(1));
    producer.join().unwrap();
    assert_eq!(consumer.join().unwrap(), "word");
}

#[test]
fn select_completes_receive_and_send_arms_of_different_types_in_every_schedule() {
    model("Select over two types", || select_over_two_types(false));
}

#[test]
fn loom_finds_the_schedule_where_a_select_sends_before_its_receive_is_ready() {
    let payload =
        check("Select, send first", || select_over_two_types(true)).expect_err("a schedule sends first");
    assert!(panic_message(&*payload).contains("sent before receiving"), "{}", panic_message(&*payload));
}

#[test]
fn the_select_macros_take_the_first_ready_arm_under_loom() {
    model("select! and select_biased!", || {
        let (tx_a, rx_a) = channel::unbounded::<u8>();
        let (tx_b, rx_b) = channel::unbounded::<&str>();
        tx_a.send(1).unwrap();
        tx_b.send("b").unwrap();
        let first = channel::select_biased! {
            recv(rx_a) -> a => a.map(|a| a.to_string()),
            recv(rx_b) -> b => b.map(str::to_string),
        };
        assert_eq!(first.as_deref(), Ok("1"));
        let none = channel::select! {
            recv(rx_a) -> _ => false,
            default(Duration::from_secs(1)) => true,
        };
        assert!(none, "a is empty: the timeout fires at once");
        let second = channel::select! { recv(rx_b) -> b => b };
        assert_eq!(second, Ok("b"));
    });
}

#[test]
fn a_barrier_releases_its_threads_together_with_one_leader_per_round() {
    model("barrier", || {
        let barrier = Arc::new(Barrier::new(2));
        let leaders = Arc::new(AtomicUsizeR::new(0));
        let other = {
            let (barrier, leaders) = (Arc::clone(&barrier), Arc::clone(&leaders));
            thread::spawn(move || {
                for _ in 0..2 {
                    leaders.fetch_add(usize::from(barrier.wait().is_leader()), Ordering::SeqCst);
                }
            })
        };
        for _ in 0..2 {
            leaders.fetch_add(usize::from(barrier.wait().is_leader()), Ordering::SeqCst);
        }
        other.join().unwrap();
        assert_eq!(leaders.load(Ordering::SeqCst), 2, "one leader per round");
    });
}

#[test]
fn an_hour_of_sleep_is_an_hour_of_elapsed_virtual_time_on_both_clocks() {
    const HOUR: Duration = Duration::from_secs(3600);
    model("elapsed across a sleep", || {
        let (start, wall) = (time::Instant::now(), time::SystemTime::now());
        thread::sleep(HOUR);
        assert_eq!(start.elapsed(), HOUR, "Instant::elapsed reads the virtual clock");
        assert_eq!(wall.elapsed().unwrap(), HOUR, "SystemTime::elapsed reads the virtual clock");
    });
}

#[test]
fn loom_finds_the_worker_that_initializes_a_once_lock_first() {
    let outcome = check("OnceLock init order", || {
        let config = Arc::new(OnceLock::new());
        let worker = {
            let config = Arc::clone(&config);
            thread::spawn(move || *config.get_or_init(|| "worker default"))
        };
        let mine = *config.get_or_init(|| "from setup");
        let theirs = worker.join().unwrap();
        assert_eq!(mine, theirs, "everyone sees the one value");
        assert_eq!(theirs, "from setup", "the worker initialized the config first");
    });
    let message = panic_message(&*outcome.expect_err("loom must find the worker-first order"));
    assert!(message.contains("initialized the config first"), "unexpected failure: {message}");
}

#[test]
fn a_once_runs_its_initializer_once_in_every_schedule() {
    model("Once", || {
        let once = Arc::new(Once::new());
        let runs = Arc::new(AtomicUsizeR::new(0));
        let other = {
            let (once, runs) = (Arc::clone(&once), Arc::clone(&runs));
            thread::spawn(move || {
                once.call_once(|| {
                    runs.fetch_add(1, Ordering::SeqCst);
                })
            })
        };
        once.call_once(|| {
            runs.fetch_add(1, Ordering::SeqCst);
        });
        assert!(once.is_completed());
        other.join().unwrap();
        assert_eq!(runs.load(Ordering::SeqCst), 1);
    });
}

//! std::sync parity: `Barrier`, `Once`, `OnceLock`, `LazyLock`, `mpsc` and
//! the lock extras, recorded and replayed (the replay must give back what the
//! recording saw, run after run), and explored.

use std::cell::Cell;
use std::sync::Arc;
use std::time::Duration;

use reprise::explore::{Config, Explorer, FailureKind, StrategyKind};
use reprise::sync::atomic::{AtomicUsize, Ordering};
use reprise::sync::{mpsc, Barrier, Condvar, LazyLock, Mutex, Once, OnceLock, RwLock, RwLockWriteGuard};
use reprise::{read_trace_file, replay, thread, ReplayOutcome};

use crate::util::{round_trip_both_ways as round_trip, scratch};

/// Runs `f` on `n` threads, `f(i)` on the i-th; their results in order.
fn on_threads<R: Send + 'static>(n: usize, f: impl Fn(usize) -> R + Send + Sync + 'static) -> Vec<R> {
    let f = Arc::new(f);
    let handles: Vec<_> = (0..n)
        .map(|i| {
            let f = Arc::clone(&f);
            thread::spawn(move || f(i))
        })
        .collect();
    handles.into_iter().map(|h| h.join().unwrap()).collect()
}

thread_local! {
    /// Which of [`on_threads`]'s threads this is, for initializers.
    static ME: Cell<usize> = const { Cell::new(usize::MAX) };
}

fn barrier_rounds() -> Vec<Vec<bool>> {
    let barrier = Arc::new(Barrier::new(3));
    let leaders = on_threads(3, move |_| (0..4).map(|_| barrier.wait().is_leader()).collect::<Vec<_>>());
    for round in 0..4 {
        assert_eq!(leaders.iter().filter(|l| l[round]).count(), 1, "one leader per round: {leaders:?}");
    }
    leaders
}

#[test]
fn the_barrier_leader_of_each_round_is_replayed() {
    for run in 0..10 {
        round_trip(&format!("barrier-{run}"), barrier_rounds);
    }
}

#[test]
fn which_thread_initializes_a_once_lock_and_what_each_saw_is_replayed() {
    for run in 0..10 {
        round_trip(&format!("oncelock-{run}"), || {
            let cell = Arc::new(OnceLock::new());
            let c = Arc::clone(&cell);
            let seen = on_threads(4, move |i| {
                let before = c.get().copied();
                let value = *c.get_or_init(|| i);
                (before, value, c.set(100 + i).is_ok())
            });
            let winner = *cell.get().unwrap();
            assert!(seen.iter().all(|s| s.1 == winner && !s.2), "{seen:?}");
            (winner, seen)
        });
    }
}

#[test]
fn which_thread_runs_a_once_and_who_saw_it_complete_is_replayed() {
    for run in 0..10 {
        round_trip(&format!("once-{run}"), || {
            let once = Arc::new(Once::new());
            let ran = Arc::new(AtomicUsize::new(usize::MAX));
            let (o, r) = (Arc::clone(&once), Arc::clone(&ran));
            let seen = on_threads(4, move |i| {
                let before = o.is_completed();
                o.call_once(|| r.store(i, Ordering::SeqCst));
                (before, o.is_completed())
            });
            assert!(seen.iter().all(|s| s.1), "{seen:?}");
            (ran.load(Ordering::SeqCst), seen)
        });
    }
}

#[test]
fn which_thread_forces_a_lazy_lock_is_replayed() {
    for run in 0..10 {
        round_trip(&format!("lazylock-{run}"), || {
            let lazy: Arc<LazyLock<usize>> = Arc::new(LazyLock::new(|| ME.with(Cell::get)));
            let l = Arc::clone(&lazy);
            let seen = on_threads(3, move |i| {
                ME.with(|me| me.set(i));
                (LazyLock::get(&l).copied(), *LazyLock::force(&l))
            });
            (**lazy, seen)
        });
    }
}

#[test]
fn mpsc_channels_replay_every_message_and_error() {
    round_trip("mpsc", || {
        let (tx, rx) = mpsc::channel();
        let (stx, srx) = mpsc::sync_channel(1);
        let producers = on_threads(3, move |i| {
            let sent: Vec<_> = (0..5).map(|k| tx.clone().send(i * 10 + k).is_ok()).collect();
            let tried: Vec<_> =
                (0..3).map(|k| matches!(stx.try_send(k), Err(mpsc::TrySendError::Full(_)))).collect();
            (sent, tried)
        });
        let mut got: Vec<_> = rx.try_iter().collect();
        got.extend(rx.recv_timeout(Duration::from_millis(1)).ok());
        assert_eq!(rx.try_recv(), Err(mpsc::TryRecvError::Disconnected));
        assert_eq!(rx.recv(), Err(mpsc::RecvError));
        let synced: Vec<_> = srx.into_iter().collect();
        (got, synced, producers)
    });
}

#[test]
fn a_write_lock_downgraded_while_readers_race_is_replayed() {
    round_trip("downgrade", || {
        let lock = Arc::new(RwLock::new(0u32));
        on_threads(4, move |i| {
            (0..10)
                .map(|_| {
                    if i < 2 {
                        let mut w = lock.write().unwrap();
                        *w += 1;
                        *RwLockWriteGuard::downgrade(w)
                    } else {
                        *lock.read().unwrap()
                    }
                })
                .collect::<Vec<_>>()
        })
    });
}

#[test]
fn condvar_waits_while_a_condition_holds_are_replayed() {
    round_trip("wait-while", || {
        let pair = Arc::new((Mutex::new(0u32), Condvar::new()));
        on_threads(3, move |i| {
            let (count, cv) = &*pair;
            if i == 0 {
                for _ in 0..5 {
                    *count.lock().unwrap() += 1;
                    cv.notify_all();
                }
                (0, false)
            } else if i == 1 {
                (*cv.wait_while(count.lock().unwrap(), |n| *n < 5).unwrap(), false)
            } else {
                let (n, r) = cv
                    .wait_timeout_while(count.lock().unwrap(), Duration::from_millis(5), |n| *n < 3)
                    .unwrap();
                (*n, r.timed_out())
            }
        })
    });
}

/// The explorer with `budget` schedules of `strategy`, writing failure
/// traces under a scratch directory.
fn explorer(name: &str, strategy: StrategyKind, budget: u64) -> Explorer {
    let dir = scratch(name);
    Explorer::new(Config::default().strategy(strategy).budget(budget).trace_dir(&dir).name(name))
}

#[test]
fn a_barrier_among_three_threads_completes_under_the_explorer() {
    for strategy in [StrategyKind::Random, StrategyKind::Dfs { preemptions: 2 }] {
        let outcome = explorer("explore-barrier", strategy, 200).run(|| {
            barrier_rounds();
        });
        assert!(outcome.failure.is_none(), "{strategy}: {}", outcome.failure.unwrap().report);
        assert!(outcome.schedules == 200 || outcome.exhausted, "{strategy}: {}", outcome.schedules);
    }
}

/// The setup thread's value must win, but a worker may initialize first.
fn config_initialized_by_setup() {
    let config = Arc::new(OnceLock::new());
    let c = Arc::clone(&config);
    let worker = thread::spawn(move || *c.get_or_init(|| "worker default"));
    config.get_or_init(|| "from setup");
    let seen = worker.join().unwrap();
    assert_eq!(seen, "from setup", "the worker initialized the config first");
}

#[test]
fn the_explorer_finds_a_once_lock_initialized_in_the_wrong_order_and_its_trace_replays() {
    let outcome = explorer("explore-oncelock", StrategyKind::Random, 300).run(config_initialized_by_setup);
    let failure = outcome.failure.expect("the worker-first order is found");
    assert!(
        matches!(&failure.kind, FailureKind::Panic { message, .. } if message.contains("initialized the config first")),
        "{:?}",
        failure.kind
    );
    let trace = read_trace_file(failure.trace.as_ref().expect("trace written")).unwrap();
    let replayed = replay(&trace, config_initialized_by_setup);
    assert_eq!(replayed.outcome, ReplayOutcome::Matched, "{}", replayed.outcome);
    assert_eq!(replayed.result, None, "the replay panics as the explored run did");
    assert_eq!(replayed.replayed, trace.events);
}

#[test]
fn threads_waiting_for_a_running_initializer_are_blocked_coroutines_under_the_explorer() {
    // The initializer takes a lock and yields while the others arrive: they
    // must block on the `Once` (a spinning waiter would be a livelock here).
    let outcome = explorer("explore-once", StrategyKind::Pct { depth: 3 }, 200).run(|| {
        let once = Arc::new(Once::new());
        let runs = Arc::new(Mutex::new(0));
        let lazy = Arc::new(LazyLock::new(|| 7));
        let (o, r, l) = (Arc::clone(&once), Arc::clone(&runs), Arc::clone(&lazy));
        let seen = on_threads(3, move |_| {
            o.call_once(|| {
                *r.lock().unwrap() += 1;
                thread::yield_now();
                *r.lock().unwrap() += 10;
            });
            assert!(o.is_completed());
            **l
        });
        assert_eq!(*runs.lock().unwrap(), 11, "the initializer ran once, whole");
        assert_eq!(seen, vec![7, 7, 7]);
    });
    assert!(outcome.failure.is_none(), "{}", outcome.failure.unwrap().report);
}

/// Two producers; the consumer assumes the first one's message comes first.
fn first_message_from_producer_zero() {
    let (tx, rx) = mpsc::channel();
    let (tx2, tx3) = (tx.clone(), tx);
    let a = thread::spawn(move || tx2.send(0).unwrap());
    let b = thread::spawn(move || tx3.send(1).unwrap());
    let first = rx.recv().unwrap();
    a.join().unwrap();
    b.join().unwrap();
    assert_eq!(first, 0, "producer one's message came first");
}

#[test]
fn the_explorer_finds_an_mpsc_ordering_bug() {
    let outcome = explorer("explore-mpsc", StrategyKind::Random, 300).run(first_message_from_producer_zero);
    let failure = outcome.failure.expect("the other order is found");
    assert!(
        matches!(&failure.kind, FailureKind::Panic { message, .. } if message.contains("producer one's message")),
        "{:?}",
        failure.kind
    );
}

#[test]
fn a_downgrade_lets_blocked_readers_in_under_the_explorer() {
    // The writer keeps its downgraded read lock until both readers read: a
    // reader blocked during the write must be let in by the downgrade itself.
    let outcome = explorer("explore-downgrade", StrategyKind::Dfs { preemptions: 2 }, 300).run(|| {
        let lock = Arc::new(RwLock::new(0));
        let (tx, rx) = mpsc::channel();
        let readers: Vec<_> = (0..2)
            .map(|_| {
                let (lock, tx) = (Arc::clone(&lock), tx.clone());
                thread::spawn(move || tx.send(*lock.read().unwrap()).unwrap())
            })
            .collect();
        let mut w = lock.write().unwrap();
        *w += 1;
        // A scheduling point while write-held: a reader may block here.
        thread::yield_now();
        let r = RwLockWriteGuard::downgrade(w);
        assert!(lock.try_write().is_err(), "a downgraded lock is still read-held");
        let seen = [rx.recv().unwrap(), rx.recv().unwrap()];
        drop(r);
        readers.into_iter().for_each(|h| h.join().unwrap());
        assert!(seen.iter().all(|&v| v <= 1), "{seen:?}");
    });
    assert!(outcome.failure.is_none(), "{}", outcome.failure.unwrap().report);
}

#[test]
fn a_timed_wait_while_nobody_notifies_times_out_on_the_explorers_clock() {
    let outcome = explorer("explore-wait-timeout-while", StrategyKind::Random, 50).run(|| {
        let pair = Arc::new((Mutex::new(0u32), Condvar::new()));
        let p = Arc::clone(&pair);
        let bumper = thread::spawn(move || *p.0.lock().unwrap() += 1);
        let (count, cv) = &*pair;
        let (n, result) =
            cv.wait_timeout_while(count.lock().unwrap(), Duration::from_secs(5), |n| *n < 2).unwrap();
        assert!(result.timed_out() && *n <= 1, "nobody makes it 2: {}", *n);
        drop(n);
        bumper.join().unwrap();
    });
    assert!(outcome.failure.is_none(), "{}", outcome.failure.unwrap().report);
    assert_eq!(outcome.schedules, 50);
}

#[test]
fn a_rendezvous_sync_channel_is_replayed() {
    round_trip("mpsc-rendezvous", || {
        let (tx, rx) = mpsc::sync_channel(0);
        let senders: Vec<_> = (0..2)
            .map(|i| {
                let tx = tx.clone();
                thread::spawn(move || (0..3).map(|k| tx.send(i * 10 + k).is_ok()).collect::<Vec<_>>())
            })
            .collect();
        drop(tx);
        let got: Vec<_> = rx.iter().collect();
        (got, senders.into_iter().map(|s| s.join().unwrap()).collect::<Vec<_>>())
    });
}

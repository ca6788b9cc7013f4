//! Time as a choice: a timer-paced thread (a rate feed ticking with
//! `sleep`) interleaves with busy threads under the explorer, instead of
//! ticking only once every other thread is blocked.

use std::sync::Arc;
use std::time::Duration;

use reprise::explore::{Config, Explorer, StrategyKind};
use reprise::sync::atomic::{AtomicU64, Ordering};
use reprise::sync::Mutex;
use reprise::{read_trace_file, replay, thread};

use crate::util::scratch;

/// A settler prices a batch at the rate it reads first and books it at the
/// rate it reads last, with work (lock turns) between: a rate feed that
/// ticks meanwhile makes the batch stale. The feed sleeps before each tick;
/// the settler never blocks, so the feed ticks in between only if a timer
/// can expire while the settler can run.
fn stale_rate() {
    let rate = Arc::new(AtomicU64::new(100));
    let feed_rate = Arc::clone(&rate);
    let feed = thread::Builder::new()
        .name("rate-feed".into())
        .spawn(move || {
            for _ in 0..3 {
                thread::sleep(Duration::from_millis(5));
                feed_rate.fetch_add(1, Ordering::SeqCst);
            }
        })
        .unwrap();
    let book = Mutex::new(0u64);
    let priced = rate.load(Ordering::SeqCst);
    for amount in 1..=10 {
        *book.lock().unwrap() += amount;
    }
    let booked = rate.load(Ordering::SeqCst);
    feed.join().unwrap();
    assert_eq!(priced, booked, "stale rate: priced at {priced}, booked at {booked}");
}

#[test]
fn a_rate_feed_that_sleeps_ticks_between_a_busy_settlers_reads() {
    for strategy in [
        StrategyKind::Random,
        StrategyKind::Pct { depth: 3 },
        StrategyKind::Portfolio,
        StrategyKind::Pos,
        StrategyKind::Surw,
        StrategyKind::Dfs { preemptions: 2 },
    ] {
        let dir = scratch("explore-time");
        let config = Config::default().strategy(strategy).budget(2_000).trace_dir(&dir).name("stale-rate");
        let outcome = Explorer::new(config).run(stale_rate);
        let failure =
            outcome.failure.unwrap_or_else(|| panic!("{strategy} found no stale rate in 2,000 schedules"));
        assert!(failure.report.contains("stale rate"), "{strategy}: {}", failure.report);
        // The expiry chosen is in the trace: parallel replay brings the same panic back.
        let trace = read_trace_file(&failure.trace.expect("saved")).unwrap();
        let report = replay(&trace, stale_rate);
        assert!(report.outcome.matched(), "{strategy}: {}", report.outcome);
    }
}

/// A worker that waits for a reply with a timeout, and gives up: the
/// timeout may expire before the reply comes while the replier can still
/// run (a slow peer), which the program must handle.
fn reply_or_timeout() -> bool {
    let (tx, rx) = reprise::channel::bounded::<u8>(1);
    let replier = thread::spawn(move || {
        let _ = tx.send(1);
    });
    let got = rx.recv_timeout(Duration::from_millis(50)).is_ok();
    replier.join().unwrap();
    got
}

#[test]
fn a_timeout_can_expire_before_a_reply_that_could_have_come() {
    let config =
        Config::default().strategy(StrategyKind::Random).budget(200).trace_dir(scratch("explore-timeout"));
    let outcome = Explorer::new(config).run_checked(
        reply_or_timeout,
        |got| (!got).then(|| "timed out".to_string()),
        |_| {},
    );
    assert!(outcome.failure.is_some(), "the timeout never expired while the replier could run");
}

#[test]
fn with_time_choices_off_a_timeout_expires_only_once_every_thread_is_blocked() {
    let config = Config::default()
        .strategy(StrategyKind::Random)
        .budget(200)
        .trace_dir(scratch("explore-timeout-off"))
        .time_choices(false);
    let outcome = Explorer::new(config).run_checked(
        reply_or_timeout,
        |got| (!got).then(|| "timed out".to_string()),
        |_| {},
    );
    assert!(outcome.failure.is_none(), "{}", outcome.failure.unwrap().report);
    assert_eq!(outcome.schedules, 200);
}

/// A sender whose timed send races the receiver's timed receives on a
/// rendezvous, then a condvar wait, a `park_timeout` and an mpsc receive,
/// each with a timeout of half the clock's range: a time choice that fires
/// the receiver's timeout while the sender can still run leaves the send
/// to time out too, and its `unwrap` panics.
fn timeouts_race(d: Duration) {
    let (tx, rx) = reprise::channel::bounded::<u32>(0);
    let sender = thread::spawn(move || {
        thread::sleep(Duration::from_micros(50));
        tx.send_timeout(1, d).unwrap();
        tx.send(2).unwrap();
    });
    for _ in 0..3 {
        let _ = rx.recv_timeout(d);
    }
    sender.join().unwrap();
    let pair = Arc::new((Mutex::new(false), reprise::sync::Condvar::new()));
    let theirs = Arc::clone(&pair);
    let setter = thread::spawn(move || {
        thread::sleep(Duration::from_micros(50));
        *theirs.0.lock().unwrap() = true;
        theirs.1.notify_all();
    });
    drop(pair.1.wait_timeout_while(pair.0.lock().unwrap(), d, |ready| !*ready).unwrap());
    setter.join().unwrap();
    let root = thread::current();
    let unparker = thread::spawn(move || {
        thread::sleep(Duration::from_micros(50));
        root.unpark();
    });
    thread::park_timeout(d);
    unparker.join().unwrap();
    let (tx, rx) = reprise::sync::mpsc::channel::<u32>();
    let late = thread::spawn(move || {
        thread::sleep(Duration::from_micros(50));
        let _ = tx.send(1);
    });
    let _ = rx.recv_timeout(d);
    late.join().unwrap();
}

/// The failing schedule is run again to record its trace, following the
/// failing run's choices. A step whose thread a time choice woke was
/// counted as the strategy's, so the re-run followed the plan one step off
/// and did not fail again: "no trace: ... the program is not deterministic"
/// for seeds 0, 1 and 3 here. Each failure now has its trace, and the trace
/// replays to the same panic.
#[test]
fn a_failure_found_after_a_time_choice_is_run_again_and_its_trace_written() {
    let d = Duration::from_nanos(u64::MAX / 2);
    for seed in [0, 1, 3] {
        let dir = scratch(&format!("explore-time-rerun-{seed}"));
        // Half the clock's range is past any horizon: explored only without one.
        let config =
            Config::default().budget(100).seed(seed).minimize(false).trace_dir(&dir).time_horizon(None);
        let outcome = Explorer::new(config).run(move || timeouts_race(d));
        let failure = outcome.failure.unwrap_or_else(|| panic!("seed {seed}: no failure in 100 schedules"));
        let path =
            failure.trace.as_ref().unwrap_or_else(|| panic!("seed {seed}: no trace\n{}", failure.report));
        let trace = read_trace_file(path).unwrap();
        let report = replay(&trace, move || timeouts_race(d));
        assert!(report.outcome.matched(), "seed {seed}: {}", report.outcome);
        assert!(report.result.is_none(), "seed {seed}: the replay panics as the explored run did");
    }
}

/// A reply that comes at once, awaited with a timeout `wait` long: the
/// timeout expires first only in a run whose replier stalls that long.
fn reply_within(wait: Duration) -> bool {
    let (tx, rx) = reprise::channel::bounded::<u8>(1);
    let replier = thread::spawn(move || {
        let _ = tx.send(1);
    });
    let got = rx.recv_timeout(wait).is_ok();
    replier.join().unwrap();
    got
}

/// Whether 300 random schedules of [`reply_within`] find its timeout
/// expiring before the reply, under `horizon`.
fn times_out(wait: Duration, horizon: Option<Duration>) -> bool {
    let config = Config::default()
        .strategy(StrategyKind::Random)
        .budget(300)
        .minimize(false)
        .trace_dir(scratch("explore-horizon"))
        .time_horizon(horizon);
    let outcome = Explorer::new(config).run_checked(
        move || reply_within(wait),
        |got| (!got).then(|| "timed out".to_string()),
        |_| {},
    );
    outcome.failure.is_some()
}

/// A timeout of a day, one of centuries and `Duration::MAX` are
/// liveness guards: by default they never expire while the replier can
/// still run (before the horizon, each was found "timing out" within a few
/// schedules and reported as the program's failure). Timeouts within the
/// horizon still do, and so does each of the long ones without a horizon.
#[test]
fn a_timeout_past_the_horizon_expires_only_once_every_thread_is_blocked() {
    let day = Duration::from_secs(86_400);
    let centuries = Duration::from_secs(400 * 365 * 86_400);
    for wait in [day, centuries, Duration::MAX] {
        assert!(!times_out(wait, Some(reprise::explore::DEFAULT_TIME_HORIZON)), "{wait:?} expired by choice");
    }
    // (`Duration::MAX` is no timer at all, as in crossbeam: a plain wait.)
    for wait in [day, centuries] {
        assert!(times_out(wait, None), "{wait:?} never expired without a horizon");
    }
    assert!(times_out(Duration::from_secs(60), Some(reprise::explore::DEFAULT_TIME_HORIZON)));
    assert!(times_out(day, Some(2 * day)), "a day within a two-day horizon");
    assert_eq!(Config::default().time_horizon, Some(reprise::explore::DEFAULT_TIME_HORIZON));

    // With nothing else to run, a guard past the horizon still fires: a
    // wait for a reply that never comes is no deadlock.
    let config = Config::default().budget(20).trace_dir(scratch("explore-horizon-alone"));
    let outcome = Explorer::new(config).run_checked(
        move || {
            let (_tx, rx) = reprise::channel::bounded::<u8>(1);
            rx.recv_timeout(day).is_err()
        },
        |timed_out| (!timed_out).then(|| "no timeout".to_string()),
        |_| {},
    );
    assert!(outcome.failure.is_none(), "{}", outcome.failure.unwrap().report);
}

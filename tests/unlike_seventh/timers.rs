//! Timers against each other and against yields: a `recv_timeout` poll
//! beside a sender that sleeps between sends; a `park_timeout` handshake
//! both ways; a `Condvar::wait_timeout` whose notify is due at the same
//! instant as its timeout; `tick` and `after` in one `select!` beside a
//! work channel; a deadline taken from `Instant::now()` and served by
//! `recv_timeout` and crossbeam's `recv_deadline`; a `select!` whose
//! timeout is due exactly when its message is sent.

use std::sync::Arc;

use reprise::channel::{self, select};
use reprise::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use reprise::sync::{mpsc, Condvar, Mutex};
use reprise::thread;
use reprise::time::{Duration, Instant};

use super::replays;

// ---------------------------------------------------------------------------
// A poll on recv_timeout beside a sleeping sender.

#[test]
fn a_poll_beside_a_sleeper_replays_to_every_value_then_disconnected() {
    replays_to("seventh-poll", "1 2 3 disconnected", poll_beside_a_sleeper);
}

/// A sender sleeps 150 µs before each of three sends, yields once, and
/// hangs up; the main thread polls with `recv_timeout` of 60 µs, counting
/// its timeouts (not in the transcript: they depend on the clock), and
/// yields after each. std: every value, in order, then `Disconnected`.
pub(super) fn poll_beside_a_sleeper() -> String {
    let (tx, rx) = mpsc::channel::<u32>();
    let sender = thread::spawn(move || {
        for v in 1..=3 {
            thread::sleep(Duration::from_micros(150));
            tx.send(v).unwrap();
            thread::yield_now();
        }
    });
    let mut got = Vec::new();
    let mut timeouts = 0u32;
    let end = loop {
        match rx.recv_timeout(Duration::from_micros(60)) {
            Ok(v) => got.push(v.to_string()),
            Err(mpsc::RecvTimeoutError::Timeout) => timeouts += 1,
            Err(mpsc::RecvTimeoutError::Disconnected) => break "disconnected",
        }
        thread::yield_now();
    };
    sender.join().unwrap();
    let _ = timeouts;
    format!("{} {end}", got.join(" "))
}

// ---------------------------------------------------------------------------
// A park_timeout handshake.

#[test]
fn a_park_timeout_handshake_replays_to_its_rounds() {
    replays_to("seventh-park", "3 3", park_handshake);
}

/// Three rounds: the main thread raises `ask`, unparks the worker and
/// waits for `answer` in a `park_timeout` (80 µs) loop; the worker waits
/// for `ask` in a `park_timeout` (50 µs) loop, clears it, raises `answer`
/// and unparks the main thread. Each side counts the rounds it saw.
pub(super) fn park_handshake() -> String {
    let ask = Arc::new(AtomicBool::new(false));
    let answer = Arc::new(AtomicBool::new(false));
    let main = thread::current();
    let worker = {
        let (ask, answer) = (Arc::clone(&ask), Arc::clone(&answer));
        thread::spawn(move || {
            let mut rounds = 0;
            for _ in 0..3 {
                while !ask.swap(false, Ordering::AcqRel) {
                    thread::park_timeout(Duration::from_micros(50));
                }
                rounds += 1;
                answer.store(true, Ordering::Release);
                main.unpark();
            }
            rounds
        })
    };
    let mut rounds = 0;
    for _ in 0..3 {
        ask.store(true, Ordering::Release);
        worker.thread().unpark();
        while !answer.swap(false, Ordering::AcqRel) {
            thread::park_timeout(Duration::from_micros(80));
        }
        rounds += 1;
    }
    let theirs = worker.join().unwrap();
    format!("{rounds} {theirs}")
}

// ---------------------------------------------------------------------------
// A wait_timeout raced by a notify due at the same instant.

#[test]
fn a_wait_timeout_raced_by_its_notify_replays_to_the_flag() {
    replays("seventh-wait-timeout", wait_timeout_race);
}

/// A notifier sleeps 100 µs, then sets the flag and notifies; the waiter
/// waits once with `wait_timeout` of 100 µs (due with the notifier's
/// wake-up), then in a loop of `wait_timeout` (40 µs) until the flag is
/// set. The transcript: whether the first wait timed out, and the flag
/// after it (either may go either way; a timed-out first wait may still
/// see the flag set). The flag must be set at the end.
pub(super) fn wait_timeout_race() -> String {
    let pair = Arc::new((Mutex::new(false), Condvar::new()));
    let notifier = {
        let pair = Arc::clone(&pair);
        thread::spawn(move || {
            thread::sleep(Duration::from_micros(100));
            *pair.0.lock().unwrap() = true;
            pair.1.notify_one();
        })
    };
    let (lock, cv) = &*pair;
    let guard = lock.lock().unwrap();
    let (mut guard, first) = cv.wait_timeout(guard, Duration::from_micros(100)).unwrap();
    let first = format!("{} {}", first.timed_out(), *guard);
    while !*guard {
        guard = cv.wait_timeout(guard, Duration::from_micros(40)).unwrap().0;
    }
    drop(guard);
    notifier.join().unwrap();
    first
}

// ---------------------------------------------------------------------------
// tick and after beside a work channel.

#[test]
fn tick_and_after_beside_work_replay_to_the_work() {
    replays_to("seventh-tick-after", "a b c | ticks ascend", tick_and_after);
}

/// A producer sleeps 120 µs before each of three sends and hangs up. The
/// main thread selects over the work, a `tick` of 50 µs and an `after` of
/// 200 µs (swapped for `never()` once it fired). Each tick's instant must
/// be later than the last and no later than now, as crossbeam's are; the
/// work must come whole, in order.
pub(super) fn tick_and_after() -> String {
    let (tx, rx) = channel::bounded::<char>(1);
    let producer = thread::spawn(move || {
        for c in ['a', 'b', 'c'] {
            thread::sleep(Duration::from_micros(120));
            tx.send(c).unwrap();
        }
    });
    let ticks = channel::tick(Duration::from_micros(50));
    let mut once = channel::after(Duration::from_micros(200));
    let mut last: Option<Instant> = None;
    let mut ascend = true;
    let mut work = Vec::new();
    loop {
        select! {
            recv(rx) -> m => match m {
                Ok(c) => work.push(c.to_string()),
                Err(_) => break,
            },
            recv(ticks) -> t => {
                let t = t.unwrap();
                if last.is_some_and(|l| t <= l) || t > Instant::now() {
                    ascend = false;
                }
                last = Some(t);
            },
            recv(once) -> _ => once = channel::never(),
        }
    }
    producer.join().unwrap();
    format!("{} | ticks {}", work.join(" "), if ascend { "ascend" } else { "go back" })
}

// ---------------------------------------------------------------------------
// A deadline from Instant::now().

#[test]
fn a_deadline_loop_replays_to_what_it_received() {
    replays("seventh-deadline", deadline_loop);
}

/// A sender sends 0..6 with a sleep of 30 µs before each. The main thread
/// takes a deadline 100 µs from now and receives with `recv_timeout` of
/// what is left until it passes; then, with a second deadline, receives
/// the rest with crossbeam's `recv_deadline` on a forwarding channel.
/// Everything arrives once, in order; the transcript says how many came
/// before the first deadline (a matter of timing).
pub(super) fn deadline_loop() -> String {
    let (tx, rx) = mpsc::channel::<u32>();
    let sender = thread::spawn(move || {
        for v in 0..6 {
            thread::sleep(Duration::from_micros(30));
            tx.send(v).unwrap();
        }
    });
    let deadline = Instant::now() + Duration::from_micros(100);
    let mut got = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        match rx.recv_timeout(left) {
            Ok(v) => got.push(v),
            Err(mpsc::RecvTimeoutError::Timeout) => break,
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
    }
    let early = got.len();
    let (ftx, frx) = channel::unbounded::<u32>();
    let forward = thread::spawn(move || {
        for v in rx {
            ftx.send(v).unwrap();
        }
    });
    loop {
        let deadline = Instant::now() + Duration::from_micros(70);
        match frx.recv_deadline(deadline) {
            Ok(v) => got.push(v),
            Err(channel::RecvTimeoutError::Timeout) => {}
            Err(channel::RecvTimeoutError::Disconnected) => break,
        }
    }
    sender.join().unwrap();
    forward.join().unwrap();
    assert_eq!(got, (0..6).collect::<Vec<_>>(), "lost or reordered");
    format!("{early} early")
}

// ---------------------------------------------------------------------------
// A select! whose timeout is due exactly when its message is sent.

#[test]
fn a_select_timeout_due_with_its_message_replays_to_either_arm() {
    replays("seventh-exact", exact_deadline);
}

/// Three rounds: a sender sleeps exactly 100 µs, then sends; the receiver
/// waits in a `select!` with `default(100 µs)`, due at the same instant.
/// Either arm may win; a timed-out round receives its message after. The
/// transcript: which arm each round took; the messages must all arrive.
pub(super) fn exact_deadline() -> String {
    let (tx, rx) = channel::unbounded::<u32>();
    let arrived = Arc::new(AtomicU32::new(0));
    let sender = thread::spawn(move || {
        for v in 0..3 {
            thread::sleep(Duration::from_micros(100));
            tx.send(v).unwrap();
        }
    });
    let mut arms = Vec::new();
    for round in 0..3 {
        let v = select! {
            recv(rx) -> m => { arms.push("msg"); m.unwrap() },
            default(Duration::from_micros(100)) => { arms.push("timeout"); rx.recv().unwrap() },
        };
        assert_eq!(v, round, "out of order");
        arrived.fetch_add(1, Ordering::AcqRel);
    }
    sender.join().unwrap();
    assert!(rx.try_recv().is_err());
    assert_eq!(arrived.load(Ordering::Acquire), 3);
    arms.join(" ")
}

use super::replays_to;

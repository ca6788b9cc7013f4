//! Timeouts meant as "forever": `Duration::MAX`, or one too long for any
//! clock. crossbeam and std wait for good then (crossbeam's deadline
//! overflows the clock and it waits without one; std's futex wait
//! saturates), and so does a recording, so a pool or a client that passes
//! one never sees a timeout. The explorer's virtual clock expired them: a
//! `Condvar` wait cut the timeout's nanoseconds to 64 bits (1,000,000,000
//! years became a few seconds and fired at the first schedule), and a wait
//! whose deadline saturated at the clock's end was still a timer, which a
//! time choice fired as soon as another thread could run. Each program
//! below failed within 200 schedules, each way.

use std::sync::Arc;

use reprise::channel;
use reprise::explore::{Config, Explorer};
use reprise::sync::{Condvar, Mutex};
use reprise::thread;
use reprise::time::Duration;

/// Long enough for no clock: its nanoseconds do not fit in 64 bits.
const AEONS: Duration = Duration::from_secs(1 << 40);

fn send_forever() {
    let (tx, rx) = channel::bounded::<u32>(0);
    let h =
        thread::spawn(move || tx.send_timeout(1, Duration::MAX).expect("a send of Duration::MAX timed out"));
    thread::sleep(Duration::from_micros(50));
    rx.recv().unwrap();
    h.join().unwrap();
}

fn recv_forever() {
    let (tx, rx) = channel::unbounded::<u32>();
    let h = thread::spawn(move || {
        thread::sleep(Duration::from_micros(50));
        tx.send(1).unwrap();
    });
    rx.recv_timeout(AEONS).expect("a receive of 2^40 s timed out");
    h.join().unwrap();
}

fn wait_forever(timeout: Duration) {
    let pair = Arc::new((Mutex::new(false), Condvar::new()));
    let waiter = {
        let pair = Arc::clone(&pair);
        thread::spawn(move || {
            let g = pair.0.lock().unwrap();
            let (_g, r) = pair.1.wait_timeout_while(g, timeout, |ready| !*ready).unwrap();
            assert!(!r.timed_out(), "a condvar wait of {timeout:?} timed out");
        })
    };
    thread::sleep(Duration::from_micros(50));
    *pair.0.lock().unwrap() = true;
    pair.1.notify_all();
    waiter.join().unwrap();
}

fn nothing_times_out(name: &str, program: fn()) {
    let outcome = Explorer::new(Config::default().budget(200).seed(1).minimize(false)).run(program);
    if let Some(f) = outcome.failure {
        panic!("{name}: schedule {} failed: {:?}", f.schedule, f.kind);
    }
}

#[test]
fn the_explorer_never_expires_a_send_of_duration_max() {
    nothing_times_out("send_timeout(MAX)", send_forever);
}

#[test]
fn the_explorer_never_expires_a_receive_too_long_for_its_clock() {
    nothing_times_out("recv_timeout(2^40 s)", recv_forever);
}

#[test]
fn the_explorer_never_expires_a_condvar_wait_too_long_for_its_clock() {
    nothing_times_out("wait_timeout(2^40 s)", || wait_forever(AEONS));
    nothing_times_out("wait_timeout(MAX)", || wait_forever(Duration::MAX));
}

/// The same programs record and replay as they run: no timeout.
#[test]
fn waits_forever_record_and_replay_without_a_timeout() {
    for program in [send_forever as fn(), recv_forever, || wait_forever(Duration::MAX)] {
        crate::util::round_trip_both_ways("ported-forever", program);
    }
}

/// A thread that sleeps for `Duration::MAX` while the root waits for it:
/// std sleeps for good, so the explorer reports the root stuck, not a
/// finished run.
#[test]
fn a_sleep_of_duration_max_never_ends_under_the_explorer() {
    fn sleeps_forever() {
        thread::spawn(|| thread::sleep(Duration::MAX)).join().unwrap();
    }
    let config =
        Config::default().budget(20).seed(1).minimize(false).trace_dir(crate::util::scratch("forever-max"));
    let outcome = Explorer::new(config).run(sleeps_forever);
    let failure = outcome.failure.expect("the join never returns");
    assert!(matches!(failure.kind, reprise::explore::FailureKind::Deadlock { .. }), "{:?}", failure.kind);
}

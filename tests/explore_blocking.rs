//! The explorer's backstop: a logical thread blocked in a std call reprise
//! does not see stops the exploration with an error naming that thread and
//! its last reprise call site, instead of hanging it or reporting a deadlock.

use std::sync::Arc;
use std::time::Duration;

use reprise::explore::{Config, Explorer};
use reprise::{channel, thread};

/// The main thread waits on a std `Mutex` that a second logical thread holds
/// across a reprise call: the explorer's one OS thread blocks in std, and the
/// holder can never run to let go.
fn blocks_in_a_std_lock() {
    let shared = Arc::new(std::sync::Mutex::new(0u32));
    let (held_tx, held_rx) = channel::bounded::<()>(1);
    let (ack_tx, ack_rx) = channel::bounded::<()>(1);
    let holder = {
        let shared = Arc::clone(&shared);
        thread::spawn(move || {
            let mut guard = shared.lock().unwrap();
            held_tx.send(()).unwrap();
            // Waits in reprise, holding the std lock.
            let _ = ack_rx.recv();
            *guard += 1;
        })
    };
    held_rx.recv().unwrap();
    // Blocks the OS thread: the holder waits for an ack that never comes.
    *shared.lock().unwrap() += 1;
    ack_tx.send(()).unwrap();
    holder.join().unwrap();
}

#[test]
fn a_thread_blocked_in_a_std_lock_stops_the_exploration_with_its_name_and_call_site() {
    let config = Config::default().budget(20).backstop(Some(Duration::from_secs(2)));
    let outcome = Explorer::new(config).run(blocks_in_a_std_lock);
    assert!(outcome.failure.is_none(), "not a bug in the program: {:?}", outcome.failure.map(|f| f.kind));
    let blocked = outcome.blocked.expect("the backstop names the uninstrumented blocking");
    assert_eq!(blocked.thread, 0, "the main thread is the one inside std's lock");
    let call = blocked.call.expect("it made reprise calls before blocking");
    assert!(call.location.file().ends_with("explore_blocking.rs"), "{}", call.location);
    // The line of `held_rx.recv()`, found the same way the program finds it.
    let recv_line = {
        let source = include_str!("explore_blocking.rs");
        let at = source.find("    held_rx.recv().unwrap();").unwrap();
        source[..at].lines().count() as u32 + 1
    };
    assert_eq!(call.location.line(), recv_line, "{}", call.location);
    let message = blocked.to_string();
    assert!(message.starts_with("uninstrumented blocking: explored thread 0"), "{message}");
    assert!(message.contains(&format!("explore_blocking.rs:{recv_line}")), "{message}");
    assert!(message.contains("not a bug found in the program"), "{message}");
    assert_eq!(outcome.schedules, 0, "the first schedule blocked");

    // The abandoned thread holds nothing the next exploration needs.
    let outcome = Explorer::new(Config::default().budget(10)).run(|| {
        let (tx, rx) = channel::bounded::<u32>(1);
        let sender = thread::spawn(move || tx.send(1).unwrap());
        assert_eq!(rx.recv().unwrap(), 1);
        sender.join().unwrap();
    });
    assert!(outcome.blocked.is_none() && outcome.failure.is_none());
    assert_eq!(outcome.schedules, 10);
}

#[test]
fn an_hour_of_reprise_sleep_is_an_hour_of_virtual_time_and_no_backstop() {
    use reprise::time::{Instant, SystemTime};
    const HOUR: Duration = Duration::from_secs(3600);
    // A real hour would hold the explorer's thread far past the backstop.
    let config = Config::default().budget(30).backstop(Some(Duration::from_secs(5)));
    let outcome = Explorer::new(config).run_checked(
        || {
            let other = thread::spawn(|| thread::sleep(Duration::from_secs(90)));
            let (start, wall) = (Instant::now(), SystemTime::now());
            thread::sleep(HOUR);
            let (elapsed, wall_elapsed) = (start.elapsed(), wall.elapsed().unwrap());
            other.join().unwrap();
            (elapsed, wall_elapsed)
        },
        |&(elapsed, wall)| {
            // At least the hour; the other thread's 90 s may pass (a timer
            // expiring by choice) between reading the clocks and sleeping.
            let within = |d: Duration| d >= HOUR && d <= HOUR + Duration::from_secs(90);
            (!within(elapsed) || !within(wall))
                .then(|| format!("slept an hour, measured {elapsed:?} and {wall:?}"))
        },
        |_| {},
    );
    assert!(outcome.blocked.is_none(), "{}", outcome.blocked.unwrap());
    assert!(outcome.failure.is_none(), "{}", outcome.failure.unwrap().report);
    assert_eq!(outcome.schedules, 30);
}

#[test]
fn a_program_that_only_waits_in_reprise_is_not_stopped_by_the_backstop() {
    // The same hand-off through reprise's own Mutex: the explorer sees it.
    let config = Config::default().budget(30).backstop(Some(Duration::from_secs(5)));
    let outcome = Explorer::new(config).run(|| {
        let shared = Arc::new(reprise::sync::Mutex::new(0u32));
        let (tx, rx) = channel::bounded::<()>(1);
        let other = {
            let shared = Arc::clone(&shared);
            thread::spawn(move || {
                *shared.lock().unwrap() += 1;
                tx.send(()).unwrap();
            })
        };
        rx.recv().unwrap();
        *shared.lock().unwrap() += 1;
        other.join().unwrap();
        assert_eq!(*shared.lock().unwrap(), 2);
    });
    assert!(outcome.blocked.is_none(), "{}", outcome.blocked.unwrap());
    assert!(outcome.failure.is_none());
    assert_eq!(outcome.schedules, 30);
}

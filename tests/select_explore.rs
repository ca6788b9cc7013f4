//! The explorer over `select!`: every ready arm is a choice it explores, a
//! biased select takes the first, `default(timeout)` runs in virtual time.

use std::time::Duration;

use reprise::channel::{self, select, select_biased};
use reprise::explore::{Config, Explorer, FailureKind, StrategyKind};
use reprise::{read_trace_file, replay, thread, ReplayOutcome};

use crate::select::ready_then_receive;
use crate::util::scratch;

/// A consumer must take the question before it answers; the bug: with both
/// arms ready, its select may answer first, which only one choice of the
/// select shows. A biased select, asking first, is correct.
fn answers_before_asked(biased: bool) {
    let (ask_tx, ask_rx) = channel::unbounded::<String>();
    let (answer_tx, answer_rx) = channel::bounded::<u64>(1);
    ask_tx.send("question".into()).unwrap();
    let asker = thread::spawn(move || answer_rx.recv());
    let (mut asked, mut answered_first) = (false, false);
    for _ in 0..2 {
        let answered = if biased {
            select_biased! {
                recv(ask_rx) -> q => { asked |= q.is_ok(); false }
                send(answer_tx, 42) -> r => r.is_ok(),
            }
        } else {
            select! {
                recv(ask_rx) -> q => { asked |= q.is_ok(); false }
                send(answer_tx, 42) -> r => r.is_ok(),
            }
        };
        answered_first |= answered && !asked;
    }
    drop((answer_tx, ask_tx));
    assert_eq!(asker.join().unwrap(), Ok(42));
    // Checked once every thread is done: a replay of the failing run then
    // ends as the explored run did, with no thread left behind.
    assert!(!answered_first, "answered before it was asked");
}

#[test]
fn the_explorer_finds_the_select_choice_that_answers_first_and_its_trace_replays() {
    let dir = scratch("select-explore");
    let config = Config::default().strategy(StrategyKind::Random).budget(300).trace_dir(&dir).name("select");
    let outcome = Explorer::new(config).run(|| answers_before_asked(false));
    let failure = outcome.failure.expect("a schedule answers first");
    assert!(
        matches!(&failure.kind, FailureKind::Panic { message, .. } if message.contains("answered before it was asked")),
        "{:?}",
        failure.kind
    );
    let trace = read_trace_file(failure.trace.as_ref().expect("trace written")).unwrap();
    let replayed = replay(&trace, || answers_before_asked(false));
    assert_eq!(replayed.outcome, ReplayOutcome::Matched, "{}", replayed.outcome);
    assert_eq!(replayed.result, None, "the replay panics as the explored run did");
}

#[test]
fn a_biased_select_that_asks_first_passes_the_whole_budget() {
    let config = Config::default().strategy(StrategyKind::Random).budget(200);
    let outcome = Explorer::new(config).run(|| answers_before_asked(true));
    assert!(outcome.failure.is_none(), "{}", outcome.failure.unwrap().report);
    assert_eq!(outcome.schedules, 200);
}

/// A producer that may fall silent, and a consumer that gives up after a
/// timeout in virtual time and then drains what came.
fn waits_with_a_timeout() {
    let (tx, rx) = channel::unbounded::<u8>();
    let (stop_tx, stop_rx) = channel::bounded::<()>(1);
    let producer = thread::spawn(move || {
        tx.send(1).unwrap();
        let _ = stop_rx.recv();
    });
    let mut got = 0;
    loop {
        select! {
            recv(rx) -> n => got += n.unwrap(),
            default(Duration::from_secs(5)) => break,
        }
    }
    stop_tx.send(()).unwrap();
    producer.join().unwrap();
    // The timeout may expire before the producer's send (time is a choice
    // under the explorer): what came after it is still in the channel.
    while let Ok(n) = rx.try_recv() {
        got += n;
    }
    assert_eq!(got, 1);
}

#[test]
fn a_select_with_a_timeout_is_explored_in_virtual_time() {
    let outcome = Explorer::new(Config::default().budget(100)).run(waits_with_a_timeout);
    assert!(outcome.failure.is_none(), "{}", outcome.failure.unwrap().report);
}

#[test]
fn ready_calls_are_explored_without_a_false_failure() {
    let outcome = Explorer::new(Config::default().budget(30)).run(|| {
        ready_then_receive();
    });
    assert!(outcome.failure.is_none(), "{}", outcome.failure.unwrap().report);
}

/// A select waiting on two rendezvous pairs with one sender at most, as
/// crossbeam's: two `try_send`s (one on each) while it waits, the second
/// finds no taker (`Full`). Every value a `try_send` delivered is received
/// by the select, and none is left in a channel to appear later.
fn try_sends_to_a_select_on_two_rendezvous() {
    let (a_tx, a_rx) = channel::bounded::<u32>(0);
    let (b_tx, b_rx) = channel::bounded::<u32>(0);
    let (rx_a, rx_b) = (a_rx.clone(), b_rx.clone());
    let taker = thread::spawn(move || {
        select! {
            recv(rx_a) -> v => v.unwrap(),
            recv(rx_b) -> v => v.unwrap(),
        }
    });
    let mut delivered = Vec::new();
    // Until the select has taken one: each try is a scheduling point.
    while !taker.is_finished() {
        for (value, tx) in [(1, &a_tx), (2, &b_tx)] {
            if tx.try_send(value).is_ok() {
                delivered.push(value);
            }
        }
        thread::yield_now();
    }
    let received = taker.join().unwrap();
    assert_eq!(delivered, vec![received], "delivered by try_send, received by the select");
    assert!(
        a_rx.try_recv().is_err() && b_rx.try_recv().is_err(),
        "a delivered message was left in a channel"
    );
}

#[test]
fn a_select_on_two_rendezvous_pairs_with_one_try_send_in_every_schedule() {
    let config = Config::default().strategy(StrategyKind::Dfs { preemptions: 3 }).budget(100_000);
    let outcome = Explorer::new(config).run(try_sends_to_a_select_on_two_rendezvous);
    if let Some(failure) = outcome.failure {
        panic!("{:?}\n{}", failure.kind, failure.report);
    }
    assert!(outcome.exhausted && outcome.blocked.is_none(), "{outcome:?}");
}

/// A send with a timeout meant as forever on a rendezvous waits for the
/// receiving select however late it comes, as crossbeam's does: a timeout
/// past the virtual clock's range (`Duration::MAX`, 2^40 s) saturates the
/// deadline, which is none (`coop::block`), so no time choice fires it. A
/// guard for the select receiving it; a timeout within the clock's range
/// (`tests/explore_time.rs`: half of it) stays a choice.
fn a_send_meant_as_forever_to_a_late_select(long: Duration) {
    let (tx, rx) = channel::bounded::<u32>(0);
    let (_other_tx, other_rx) = channel::bounded::<u32>(0);
    let (tick_tx, tick_rx) = channel::unbounded::<()>();
    let sender = thread::spawn(move || tx.send_timeout(7, long));
    // Something to do first, so that the select comes late.
    for _ in 0..3 {
        tick_tx.send(()).unwrap();
        tick_rx.recv().unwrap();
        thread::sleep(Duration::from_millis(10));
    }
    let got = select! {
        recv(rx) -> v => v.unwrap(),
        recv(other_rx) -> v => v.unwrap(),
    };
    assert_eq!(got, 7);
    assert!(sender.join().unwrap().is_ok());
}

#[test]
fn a_send_timeout_meant_as_forever_on_a_rendezvous_waits_for_a_late_select() {
    for long in [Duration::MAX, Duration::from_secs(1 << 40)] {
        let config = Config::default().strategy(StrategyKind::Dfs { preemptions: 2 }).budget(20_000);
        let outcome = Explorer::new(config).run(move || a_send_meant_as_forever_to_a_late_select(long));
        if let Some(failure) = outcome.failure {
            panic!("{long:?}: {:?}\n{}", failure.kind, failure.report);
        }
        assert!(outcome.blocked.is_none(), "{long:?}: {outcome:?}");
    }
}

//! A rendezvous (`bounded(0)`) send and its receive are one step: in replay
//! the sender returns only once its very message was taken, as it did in
//! the recording.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use reprise::channel;
use reprise::trace::model::{Op, Record};
use reprise::{read_trace_file, record, replay, replay_coroutines, thread, RecordConfig, ReplayOutcome};

use crate::util::scratch;

const MESSAGES: u64 = 1_000;

/// The sender writes a std atomic (which reprise does not see) right after
/// each send; the receiver reads it right before each receive. On a
/// rendezvous, send `m` cannot have returned before receive `m` began, so
/// the receiver never sees `m` written before it took `m`. Gives how many
/// times it did (0 in a faithful run) and the sum of the messages.
fn write_after_send() -> (u64, u64) {
    let written = Arc::new(AtomicU64::new(0));
    let (tx, rx) = channel::bounded::<u64>(0);
    let sender = {
        let written = Arc::clone(&written);
        thread::spawn(move || {
            for m in 1..=MESSAGES {
                tx.send(m).unwrap();
                written.store(m, Ordering::SeqCst);
            }
        })
    };
    let (mut early, mut sum) = (0, 0);
    for _ in 1..=MESSAGES {
        // Gives an unblocked sender the time to run ahead.
        std::thread::yield_now();
        let seen = written.load(Ordering::SeqCst);
        let m = rx.recv().unwrap();
        if seen >= m {
            early += 1;
        }
        sum += m;
    }
    sender.join().unwrap();
    (early, sum)
}

#[test]
fn a_replayed_rendezvous_send_returns_only_once_its_message_was_taken() {
    let path = scratch("rendezvous-order").join("t.trace");
    let recorded = record(&path, RecordConfig::new("rendezvous", "1"), write_after_send).unwrap();
    let result = recorded.result.expect("the recorded run finished");
    assert_eq!(result, (0, MESSAGES * (MESSAGES + 1) / 2), "crossbeam's rendezvous in the recording");
    let trace = read_trace_file(&path).unwrap();
    for run in 0..5 {
        let replayed = replay(&trace, write_after_send);
        assert_eq!(replayed.outcome, ReplayOutcome::Matched, "run {run}: {}", replayed.outcome);
        assert_eq!(replayed.result, Some(result), "run {run}: a send returned before its receive");
    }
    let coroutines = replay_coroutines(&trace, write_after_send);
    assert_eq!(coroutines.outcome, ReplayOutcome::Matched, "{}", coroutines.outcome);
    assert_eq!(coroutines.result, Some(result), "on coroutines: a send returned before its receive");
}

/// Ping-pong over two rendezvous channels: each answer is the question
/// doubled; gives the answers in order.
fn ping_pong() -> Vec<u64> {
    let (ping_tx, ping_rx) = channel::bounded::<u64>(0);
    let (pong_tx, pong_rx) = channel::bounded::<u64>(0);
    let echo = thread::spawn(move || {
        for q in ping_rx {
            pong_tx.send(q * 2).unwrap();
        }
    });
    let answers = (0..MESSAGES)
        .map(|q| {
            ping_tx.send(q).unwrap();
            pong_rx.recv().unwrap()
        })
        .collect();
    drop(ping_tx);
    echo.join().unwrap();
    answers
}

#[test]
fn a_rendezvous_ping_pong_replays_exactly_in_parallel_and_on_coroutines() {
    let path = scratch("rendezvous-pingpong").join("t.trace");
    let recorded = record(&path, RecordConfig::new("rendezvous", "1"), ping_pong).unwrap();
    let answers = recorded.result.expect("the recorded run finished");
    assert_eq!(answers, (0..MESSAGES).map(|q| q * 2).collect::<Vec<_>>());
    let trace = read_trace_file(&path).unwrap();
    for run in 0..3 {
        let replayed = replay(&trace, ping_pong);
        assert_eq!(replayed.outcome, ReplayOutcome::Matched, "run {run}: {}", replayed.outcome);
        assert_eq!(replayed.result.as_ref(), Some(&answers), "run {run}");
    }
    let coroutines = replay_coroutines(&trace, ping_pong);
    assert_eq!(coroutines.outcome, ReplayOutcome::Matched, "{}", coroutines.outcome);
    assert_eq!(coroutines.result.as_ref(), Some(&answers));
}

#[test]
fn an_explored_rendezvous_pairs_each_send_with_a_receive() {
    let outcome = reprise::explore::Explorer::new(reprise::explore::Config::default().budget(20)).run(|| {
        let (early, _) = small_write_after_send();
        assert_eq!(early, 0, "a send returned before its receive");
    });
    assert!(outcome.failure.is_none(), "{}", outcome.failure.unwrap().report);
    assert_eq!(outcome.schedules, 20);
}

/// [`write_after_send`] with a few messages, for the explorer.
fn small_write_after_send() -> (u64, u64) {
    let written = Arc::new(AtomicU64::new(0));
    let (tx, rx) = channel::bounded::<u64>(0);
    assert_eq!((tx.capacity(), tx.len(), tx.is_full()), (Some(0), 0, true));
    let sender = {
        let written = Arc::clone(&written);
        thread::spawn(move || {
            for m in 1..=20 {
                tx.send(m).unwrap();
                written.store(m, Ordering::SeqCst);
            }
        })
    };
    let (mut early, mut sum) = (0, 0);
    for _ in 1..=20 {
        let seen = written.load(Ordering::SeqCst);
        let m = rx.recv().unwrap();
        early += u64::from(seen >= m);
        sum += m;
    }
    sender.join().unwrap();
    (early, sum)
}

/// Select arms on rendezvous channels: a send arm hands its message to a
/// plain receiver, a receive arm takes one from a plain sender; each side's
/// write after the hand-off is never seen before it.
fn select_hand_offs() -> u64 {
    let written = Arc::new(AtomicU64::new(0));
    let (tx, rx) = channel::bounded::<u64>(0);
    let (back_tx, back_rx) = channel::bounded::<u64>(0);
    let peer = {
        let written = Arc::clone(&written);
        thread::spawn(move || {
            let mut early = 0;
            for m in 1..=5 {
                let seen = written.load(Ordering::SeqCst);
                let got = rx.recv().unwrap();
                early += u64::from(seen >= got);
                back_tx.send(m).unwrap();
            }
            early
        })
    };
    for m in 1..=5 {
        channel::select! {
            send(tx, m) -> r => r.unwrap(),
        }
        written.store(m, Ordering::SeqCst);
        channel::select! {
            recv(back_rx) -> got => assert_eq!(got, Ok(m)),
        }
    }
    peer.join().unwrap()
}

#[test]
fn select_arms_on_a_rendezvous_hand_off_under_the_explorer_and_in_replay() {
    let outcome = reprise::explore::Explorer::new(reprise::explore::Config::default().budget(20)).run(|| {
        assert_eq!(select_hand_offs(), 0, "a select's send returned before its receive");
    });
    assert!(outcome.failure.is_none(), "{}", outcome.failure.unwrap().report);
    assert_eq!(outcome.schedules, 20);
    let path = scratch("rendezvous-select").join("t.trace");
    let recorded = record(&path, RecordConfig::new("rendezvous", "1"), select_hand_offs).unwrap();
    assert_eq!(recorded.result, Some(0));
    let trace = read_trace_file(&path).unwrap();
    for run in 0..3 {
        let replayed = replay(&trace, select_hand_offs);
        assert_eq!(replayed.outcome, ReplayOutcome::Matched, "run {run}: {}", replayed.outcome);
        assert_eq!(replayed.result, Some(0), "run {run}");
    }
    let coroutines = replay_coroutines(&trace, select_hand_offs);
    assert_eq!(coroutines.outcome, ReplayOutcome::Matched, "{}", coroutines.outcome);
    assert_eq!(coroutines.result, Some(0));
}

/// A select's send arm on a rendezvous nobody receives from is never
/// ready; its other arm is taken.
fn unpaired_send_arm() -> u8 {
    let (tx0, _rx0) = channel::bounded::<u8>(0);
    let (tx, rx) = channel::unbounded::<u8>();
    let sender = thread::spawn(move || tx.send(1).unwrap());
    let got = channel::select! {
        send(tx0, 9) -> _ => 0,
        recv(rx) -> m => m.unwrap(),
    };
    sender.join().unwrap();
    got
}

#[test]
fn a_send_arm_with_no_receiver_waiting_is_never_chosen() {
    assert_eq!(unpaired_send_arm(), 1);
    let outcome = reprise::explore::Explorer::new(reprise::explore::Config::default().budget(30)).run(|| {
        assert_eq!(unpaired_send_arm(), 1);
    });
    assert!(outcome.failure.is_none(), "{}", outcome.failure.unwrap().report);
}

/// A crashed recording can lose the receive that took a rendezvous message
/// while its send is on disk (the sender's chunk reached the file, the
/// receiver's did not): the replayed sender then waits for a taker the
/// trace no longer holds, and the replay ends as the trace does.
#[test]
fn a_rendezvous_whose_receive_the_crash_lost_ends_the_replay_as_the_trace_ended() {
    let path = scratch("rendezvous-cut").join("t.trace");
    record(&path, RecordConfig::new("rendezvous", "1"), write_after_send).unwrap();
    let mut trace = read_trace_file(&path).unwrap();
    // The root (the receiver) keeps its first 10 receives only; the file
    // lost its end marker, as a crashed recording's does.
    let root = trace.records_mut(0).unwrap();
    let mut receives = 0;
    let cut = root
        .iter()
        .position(|r| {
            receives += usize::from(matches!(r, Record::Event(e) if e.op == Op::Recv));
            receives > 10
        })
        .unwrap();
    root.truncate(cut);
    trace.footer = None;
    trace.seal = None;
    let replayed = replay(&trace, write_after_send);
    assert!(matches!(replayed.outcome, ReplayOutcome::TraceEnded { .. }), "{}", replayed.outcome);
}

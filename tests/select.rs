//! crossbeam's select surface: the `select!`/`select_biased!` macros and the
//! `Select` builder over channels of different types, with receive and send
//! arms, recorded and replayed (the explorer: `select_explore.rs`).

use std::time::Duration;

use reprise::channel::{self, select, select_biased, Select};
use reprise::trace::model::{Op, Outcome, Record, Sent};
use reprise::{read_trace_file, record, replay, thread, RecordConfig, ReplayOutcome};

use crate::util::scratch;

#[test]
fn the_macros_take_every_arm_form_over_channels_of_different_types() {
    let (tx_n, rx_n) = channel::unbounded::<u32>();
    let (tx_s, rx_s) = channel::bounded::<String>(1);
    let (tx_v, rx_v) = channel::bounded::<Vec<u8>>(1);

    // A receive arm by reference, a receive arm on an owned end (a clone),
    // and a send arm; blocks with and without their commas.
    tx_n.send(7).unwrap();
    let got = select! {
        recv(rx_n) -> n => { format!("n{}", n.unwrap()) }
        recv(rx_s.clone()) -> s => s.unwrap(),
        send(tx_v, vec![1]) -> r => { r.unwrap(); "sent".to_string() },
    };
    assert!(got == "n7" || got == "sent", "{got}");

    // Nothing ready: `default` runs; a send's value is evaluated only if
    // its arm is chosen.
    while rx_v.try_recv().is_ok() {}
    tx_v.send(vec![0]).unwrap();
    let mut evaluated = false;
    let got = select! {
        recv(&rx_n) -> _ => 1,
        send(&tx_v, { evaluated = true; vec![2] }) -> _ => 2,
        default => 3,
    };
    assert_eq!((got, evaluated), (3, false));

    // `default(timeout)` with nothing ready, trailing comma.
    let got = select! {
        recv(rx_s) -> _ => "message",
        default(Duration::from_millis(1)) => "timed out",
    };
    assert_eq!(got, "timed out");

    // Biased: the first ready arm in the order written, every time.
    tx_s.send("s".into()).unwrap();
    tx_n.send(1).unwrap();
    for _ in 0..20 {
        let got = select_biased! {
            recv(rx_n) -> n => n.map(|n| n.to_string()),
            recv(rx_s) -> s => s,
        };
        assert_eq!(got.as_deref(), Ok("1"));
        tx_n.send(1).unwrap();
    }

    // A receive from a disconnected channel completes with an error.
    let (tx_gone, rx_gone) = channel::unbounded::<()>();
    drop(tx_gone);
    let got = select! { recv(rx_gone) -> r => r };
    assert_eq!(got, Err(channel::RecvError));

    // A select of nothing but its default.
    assert_eq!(select! { default => 4 }, 4);
    assert_eq!(select! { default(Duration::from_millis(1)) => 5 }, 5);

    // The function `select` is still there beside the macro.
    let (arm, n) = channel::select(&[&rx_n]);
    assert_eq!((arm, n), (0, Ok(1)));
}

#[test]
fn the_builder_selects_removes_and_reports_readiness() {
    let (tx_a, rx_a) = channel::unbounded::<u8>();
    let (tx_b, rx_b) = channel::unbounded::<&str>();
    let (tx_c, _rx_c) = channel::unbounded::<u16>();
    let mut sel = Select::new();
    let a = sel.recv(&rx_a);
    let b = sel.recv(&rx_b);
    let c = sel.send(&tx_c);
    assert_eq!((a, b, c), (0, 1, 2));
    sel.remove(c);
    assert!(sel.try_select().is_err());
    assert!(sel.try_ready().is_err());
    assert!(sel.select_timeout(Duration::from_millis(1)).is_err());
    let soon = reprise::time::Instant::now() + Duration::from_millis(1);
    assert!(sel.select_deadline(soon).is_err());
    assert!(sel.ready_deadline(soon).is_err());
    assert!(sel.ready_timeout(Duration::from_millis(1)).is_err());
    tx_b.send("b").unwrap();
    assert_eq!(sel.ready(), b);
    assert_eq!(sel.try_ready(), Ok(b));
    assert_eq!(sel.ready_deadline(soon), Ok(b));
    let op = sel.select();
    assert_eq!(op.index(), b);
    assert_eq!(op.recv(&rx_b), Ok("b"));
    drop(tx_a);
    let op = sel.select();
    assert_eq!(op.index(), a);
    assert_eq!(op.recv(&rx_a), Err(channel::RecvError));
}

#[test]
#[should_panic(expected = "dropped `SelectedOperation` without completing the operation")]
fn an_operation_dropped_without_completing_panics_as_crossbeams() {
    let (tx, rx) = channel::unbounded::<u8>();
    tx.send(1).unwrap();
    let mut sel = Select::new();
    sel.recv(&rx);
    drop(sel.select());
}

#[test]
#[should_panic(expected = "passed a receiver that wasn't selected")]
fn an_operation_completed_with_another_receiver_panics_as_crossbeams() {
    let (tx, rx) = channel::unbounded::<u8>();
    let (_tx2, rx2) = channel::unbounded::<u8>();
    tx.send(1).unwrap();
    let mut sel = Select::new();
    sel.recv(&rx);
    sel.recv(&rx2);
    let _ = sel.select().recv(&rx2);
}

/// Two producers of different message types race a drain; one thread
/// selects among receiving from both and sending to the drain, and logs
/// what it did. The log's order is the race's.
fn racing_selects() -> Vec<String> {
    let (tx_n, rx_n) = channel::bounded::<u64>(2);
    let (tx_s, rx_s) = channel::unbounded::<String>();
    let (tx_out, rx_out) = channel::bounded::<(u8, char)>(1);
    let numbers = thread::spawn(move || (0..30).for_each(|i| tx_n.send(i).unwrap()));
    let words = thread::spawn(move || (0..30).for_each(|i| tx_s.send(format!("w{i}")).unwrap()));
    let drain = thread::spawn(move || rx_out.iter().map(|(n, c)| format!("{n}{c}")).collect::<Vec<_>>());
    let mut log = Vec::new();
    let (mut n_open, mut s_open, mut sent) = (true, true, 0u8);
    // A rendezvous no one receives from: a send arm that is never ready.
    let (nowhere, _kept) = channel::bounded::<(u8, char)>(0);
    while n_open || s_open || sent < 20 {
        let out = if sent < 20 { &tx_out } else { &nowhere };
        select! {
            recv(rx_n) -> n => match n {
                Ok(n) => log.push(format!("n{n}")),
                Err(_) => n_open = false,
            },
            recv(rx_s) -> s => match s {
                Ok(s) => log.push(s),
                Err(_) => s_open = false,
            },
            send(out, (sent, 'x')) -> r => {
                r.unwrap();
                sent += 1;
                log.push(format!("sent{sent}"));
            }
            default(Duration::from_millis(50)) => log.push("idle".into()),
        }
    }
    drop(tx_out);
    numbers.join().unwrap();
    words.join().unwrap();
    log.extend(drain.join().unwrap());
    log
}

#[test]
fn racing_selects_with_receive_and_send_arms_replay_to_the_same_log() {
    for run in 0..4 {
        let path = scratch("select-race").join("t.trace");
        let recorded = record(&path, RecordConfig::new("select", "1"), racing_selects).unwrap();
        let log = recorded.result.expect("the recorded run finished");
        let trace = read_trace_file(&path).unwrap();
        for _ in 0..5 {
            let replayed = replay(&trace, racing_selects);
            assert_eq!(replayed.outcome, ReplayOutcome::Matched, "run {run}: {}", replayed.outcome);
            assert_eq!(replayed.result.as_ref(), Some(&log), "run {run}");
        }
    }
}

/// What a trace's selects completed: (receive arms, send arms).
fn select_arms(trace: &reprise::trace::read::TraceFile) -> (usize, usize) {
    let outcomes = trace.threads.values().flat_map(|r| r.iter()).filter_map(|r| match r {
        Record::Event(e) if e.op == Op::Select => e.outcome().ok(),
        _ => None,
    });
    outcomes.fold((0, 0), |(r, s), o| match o {
        Outcome::Select { received: reprise::trace::model::Received::Message { .. }, .. } => (r + 1, s),
        Outcome::SelectSend { sent: Sent::Delivered { .. }, .. } => (r, s + 1),
        _ => (r, s),
    })
}

#[test]
fn a_recording_holds_each_select_arm_with_its_message() {
    let path = scratch("select-arms").join("t.trace");
    record(&path, RecordConfig::new("select", "1"), racing_selects).unwrap();
    let trace = read_trace_file(&path).unwrap();
    assert_eq!(select_arms(&trace), (60, 20));
}

/// The main thread selects over a request channel (`u32`) and a reply
/// channel (`String`), the worker feeding both.
fn two_kinds_of_arms() -> u32 {
    let (req_tx, req_rx) = channel::unbounded::<u32>();
    let (out_tx, out_rx) = channel::bounded::<String>(1);
    let worker = thread::spawn(move || {
        req_tx.send(5).unwrap();
        out_rx.recv().unwrap()
    });
    let n = select! {
        recv(req_rx) -> n => n.unwrap(),
        send(out_tx, "hi".to_string()) -> r => { r.unwrap(); 0 }
    };
    let n = n + select! {
        recv(req_rx) -> n => n.unwrap(),
        send(out_tx, "hi".to_string()) -> r => { r.unwrap(); 0 }
    };
    worker.join().unwrap();
    n
}

/// Records [`two_kinds_of_arms`], applies `forge` to the main thread's
/// first select event, and gives the divergence's detail.
fn forged_select(forge: impl FnOnce(&mut reprise::trace::model::Event)) -> String {
    let path = scratch("select-forged").join("t.trace");
    record(&path, RecordConfig::new("select", "1"), two_kinds_of_arms).unwrap();
    let mut trace = read_trace_file(&path).unwrap();
    assert_eq!(replay(&trace, two_kinds_of_arms).outcome, ReplayOutcome::Matched, "unforged");
    let event = trace.records_mut(0).unwrap().iter_mut().find_map(|r| match r {
        Record::Event(e) if e.op == Op::Select => Some(e),
        _ => None,
    });
    forge(event.expect("the main thread recorded a select"));
    let report = replay(&trace, two_kinds_of_arms);
    let ReplayOutcome::Diverged(d) = &report.outcome else {
        panic!("a forged select replayed as {}", report.outcome)
    };
    d.detail.clone()
}

#[test]
fn a_forged_select_naming_an_arm_it_does_not_have_is_a_divergence_not_a_panic() {
    let detail = forged_select(|e| e.c = (e.c & (1 << 32)) | 7);
    assert!(detail.contains("the recording chose arm 7 of a select with no such arm"), "{detail}");
}

#[test]
fn a_forged_select_taking_a_receive_arm_as_a_send_is_a_divergence() {
    let detail = forged_select(|e| {
        let outcome = match e.outcome().unwrap() {
            Outcome::Select { .. } => Outcome::SelectSend { arm: 0, sent: Sent::Delivered { seq: 1 } },
            _ => Outcome::Select { arm: 1, received: reprise::trace::model::Received::Disconnected },
        };
        [e.a, e.b, e.c] = outcome.fields();
    });
    assert!(detail.contains("this select's is not"), "{detail}");
}

/// Two producers of different types; the main thread asks which channel is
/// ready, then receives from it, and logs the order.
pub(crate) fn ready_then_receive() -> Vec<String> {
    let (tx_n, rx_n) = channel::unbounded::<u16>();
    let (tx_s, rx_s) = channel::unbounded::<&'static str>();
    let numbers = thread::spawn(move || (0..20).for_each(|i| tx_n.send(i).unwrap()));
    let words = thread::spawn(move || (0..20).for_each(|_| tx_s.send("w").unwrap()));
    let mut log = Vec::new();
    let (mut n_open, mut s_open) = (true, true);
    while n_open || s_open {
        let mut sel = Select::new();
        let n = n_open.then(|| sel.recv(&rx_n));
        let s = s_open.then(|| sel.recv(&rx_s));
        match sel.ready_timeout(Duration::from_millis(50)) {
            Ok(i) if Some(i) == n => match rx_n.try_recv() {
                Ok(v) => log.push(format!("n{v}")),
                Err(channel::TryRecvError::Disconnected) => n_open = false,
                Err(channel::TryRecvError::Empty) => log.push("n?".into()),
            },
            Ok(i) if Some(i) == s => match rx_s.try_recv() {
                Ok(v) => log.push(v.into()),
                Err(channel::TryRecvError::Disconnected) => s_open = false,
                Err(channel::TryRecvError::Empty) => log.push("s?".into()),
            },
            Ok(i) => panic!("ready named arm {i}"),
            Err(_) => log.push("idle".into()),
        }
    }
    numbers.join().unwrap();
    words.join().unwrap();
    log
}

#[test]
fn ready_calls_are_recorded_and_replayed_in_parallel_and_on_coroutines() {
    for run in 0..3 {
        let path = scratch("select-ready").join("t.trace");
        let recorded = record(&path, RecordConfig::new("select", "1"), ready_then_receive).unwrap();
        let log = recorded.result.expect("the recorded run finished");
        let trace = read_trace_file(&path).unwrap();
        let ready = trace.threads[&0]
            .iter()
            .filter(
                |r| matches!(r, Record::Event(e) if matches!(e.outcome(), Ok(Outcome::SelectReady { .. }))),
            )
            .count();
        assert!(ready >= 40, "run {run}: {ready} ready calls recorded");
        for _ in 0..3 {
            let replayed = replay(&trace, ready_then_receive);
            assert_eq!(replayed.outcome, ReplayOutcome::Matched, "run {run}: {}", replayed.outcome);
            assert_eq!(replayed.result.as_ref(), Some(&log), "run {run}");
        }
        let coroutines = reprise::replay_coroutines(&trace, ready_then_receive);
        assert_eq!(coroutines.outcome, ReplayOutcome::Matched, "run {run}: {}", coroutines.outcome);
        assert_eq!(coroutines.result.as_ref(), Some(&log), "run {run}");
    }
}

#[test]
fn racing_selects_replay_on_coroutines_to_the_same_log() {
    let path = scratch("select-coreplay").join("t.trace");
    let recorded = record(&path, RecordConfig::new("select", "1"), racing_selects).unwrap();
    let trace = read_trace_file(&path).unwrap();
    let replayed = reprise::replay_coroutines(&trace, racing_selects);
    assert_eq!(replayed.outcome, ReplayOutcome::Matched, "{}", replayed.outcome);
    assert_eq!(replayed.result, recorded.result);
}

/// A consumer that polls two channels of different types with `default`,
/// counting the polls that found nothing, until both are disconnected.
fn polling_selects() -> (Vec<String>, u32) {
    let (tx_n, rx_n) = channel::bounded::<i8>(1);
    let (tx_s, rx_s) = channel::bounded::<char>(1);
    let numbers = thread::spawn(move || (0..10).for_each(|i| tx_n.send(i).unwrap()));
    let chars = thread::spawn(move || ('a'..'k').for_each(|c| tx_s.send(c).unwrap()));
    let (mut log, mut empty, mut n_open, mut s_open) = (Vec::new(), 0, true, true);
    // A disconnected channel's arm stays ready: the loop spins on it until
    // the other one is done too.
    while n_open || s_open {
        select! {
            recv(rx_n) -> n => match n {
                Ok(n) => log.push(n.to_string()),
                Err(_) => n_open = false,
            },
            recv(rx_s) -> c => match c {
                Ok(c) => log.push(c.to_string()),
                Err(_) => s_open = false,
            },
            default => {
                empty += 1;
                thread::yield_now();
            }
        }
    }
    numbers.join().unwrap();
    chars.join().unwrap();
    (log, empty)
}

#[test]
fn polling_selects_replay_to_the_same_log_and_the_same_empty_polls() {
    let path = scratch("select-poll").join("t.trace");
    let recorded = record(&path, RecordConfig::new("select", "1"), polling_selects).unwrap();
    let trace = read_trace_file(&path).unwrap();
    for _ in 0..5 {
        let replayed = replay(&trace, polling_selects);
        assert_eq!(replayed.outcome, ReplayOutcome::Matched, "{}", replayed.outcome);
        assert_eq!(replayed.result, recorded.result);
    }
}

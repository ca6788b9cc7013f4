//! Stalls are proven from the replay gate's state, never guessed from time:
//! a thread computing between reprise calls is not a stall; every thread
//! parked on an event nobody can produce is, at once; a thread stuck where
//! reprise cannot see it is caught by the time backstop, which says so.

use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering as StdOrdering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use reprise::trace::model::{Op, Record};
use reprise::{
    channel, read_trace_file, record, replay_with, thread, RecordConfig, ReplayOptions, ReplayOutcome,
};

use crate::util::{scratch, stderr};

fn config() -> RecordConfig {
    RecordConfig::new("stall-tests", "1")
}

/// Computes for `spin` without a reprise call: a busy loop, as a long
/// computation (or a breakpoint, or a descheduled thread) looks to reprise.
fn compute(spin: Duration) -> u64 {
    let until = Instant::now() + spin;
    let mut n = 0u64;
    while Instant::now() < until {
        n = n.wrapping_add(1);
        std::hint::spin_loop();
    }
    n
}

/// Main receives from one worker and joins another; both compute for
/// `spin` first, so main waits on each for that long.
fn slow_workers(spin: Duration) -> u32 {
    let (tx, rx) = channel::unbounded::<u32>();
    let sender = thread::Builder::new()
        .name("slow-sender".into())
        .spawn(move || {
            compute(spin);
            tx.send(7).unwrap();
        })
        .unwrap();
    let finisher = thread::Builder::new()
        .name("slow-finisher".into())
        .spawn(move || {
            compute(spin);
            5
        })
        .unwrap();
    let got = rx.recv().unwrap();
    let done = finisher.join().unwrap();
    sender.join().unwrap();
    got + done
}

#[test]
fn threads_computing_for_three_seconds_before_a_receive_and_a_join_replay_without_a_stall() {
    let path = scratch("stall-compute").join("t.trace");
    let recorded = record(&path, config(), || slow_workers(Duration::ZERO)).unwrap();
    let trace = read_trace_file(&path).unwrap();
    // The default backstop (60 s or the environment's) is far off; the
    // verdict must come from the gate's state.
    let report = replay_with(&trace, &ReplayOptions::default(), || slow_workers(Duration::from_secs(3)));
    assert_eq!(report.outcome, ReplayOutcome::Matched, "{}", report.outcome);
    assert_eq!(report.result, recorded.result);
    assert_eq!(report.replayed, trace.events);
}

/// Main receives one message from a worker.
fn one_message() -> u32 {
    let (tx, rx) = channel::unbounded::<u32>();
    let worker = thread::Builder::new().name("worker".into()).spawn(move || tx.send(7).unwrap()).unwrap();
    let got = rx.recv().unwrap();
    worker.join().unwrap();
    got
}

#[test]
fn a_trace_edited_to_receive_a_message_never_sent_is_a_stall_proven_from_state() {
    let path = scratch("stall-edited").join("t.trace");
    record(&path, config(), one_message).unwrap();
    let mut trace = read_trace_file(&path).unwrap();
    // Hand-edit main's receive: the worker's second message, which it never sends.
    let recv = trace
        .records_mut(0)
        .unwrap()
        .iter_mut()
        .find_map(|r| match r {
            Record::Event(e) if e.op == Op::Recv => Some(e),
            _ => None,
        })
        .expect("main's recv");
    assert_eq!((recv.a, recv.b), (2, 1), "message 1 of thread 1 (sender + 1, send count)");
    recv.b = 2;
    // No backstop: only the gate's state can end this replay.
    let options = ReplayOptions::default().with_stall_backstop(None);
    let report = replay_with(&trace, &options, one_message);
    let ReplayOutcome::Stalled(stall) = &report.outcome else {
        panic!("expected a stall, got {}", report.outcome)
    };
    assert_eq!(stall.backstop, None, "proven, not timed out");
    assert_eq!(stall.waiting.len(), 1, "{stall}");
    let main = &stall.waiting[0];
    assert_eq!(main.thread, "`main` (thread 0)");
    assert!(main.call.starts_with("recv of object #0 at tests/stall.rs:"), "{}", main.call);
    assert!(main.waits_for.contains("message 2 of `worker` (thread 1)"), "{}", main.waits_for);
    let text = report.outcome.to_string();
    assert!(text.contains("every thread is parked"), "{text}");
}

#[test]
fn a_thread_stuck_outside_reprise_is_caught_by_the_time_backstop_naming_its_last_call() {
    let path = scratch("stall-backstop").join("t.trace");
    let hold_up = Arc::new(AtomicBool::new(false));
    let program = |hold_up: Arc<AtomicBool>| {
        move || {
            let (tx, rx) = channel::unbounded::<u32>();
            let sender = thread::Builder::new()
                .name("stuck".into())
                .spawn(move || {
                    tx.send(1).unwrap();
                    // Outside reprise: a replay cannot see or force this.
                    while hold_up.load(StdOrdering::SeqCst) {
                        std::thread::sleep(Duration::from_millis(5));
                    }
                    tx.send(7).unwrap();
                })
                .unwrap();
            let got = rx.recv().unwrap() + rx.recv().unwrap();
            sender.join().unwrap();
            got
        }
    };
    record(&path, config(), program(Arc::clone(&hold_up))).unwrap();
    let trace = read_trace_file(&path).unwrap();
    hold_up.store(true, StdOrdering::SeqCst);
    let options = ReplayOptions::default().with_stall_backstop(Some(Duration::from_millis(500)));
    let report = replay_with(&trace, &options, program(Arc::clone(&hold_up)));
    hold_up.store(false, StdOrdering::SeqCst);
    let ReplayOutcome::Stalled(stall) = &report.outcome else {
        panic!("expected the backstop's report, got {}", report.outcome)
    };
    assert_eq!(stall.backstop, Some(Duration::from_millis(500)));
    let text = stall.to_string();
    assert!(text.contains("time backstop") && text.contains("not a proof"), "{text}");
    let stuck =
        stall.waiting.iter().find(|w| w.thread.contains("`stuck`")).expect("the stuck thread is named");
    assert!(stuck.call.starts_with("send of object #0 at tests/stall.rs:"), "{}", stuck.call);
    assert!(stuck.call.contains("its last reprise call"), "{}", stuck.call);
    let main = stall.waiting.iter().find(|w| w.thread.contains("thread 0")).expect("main is named");
    assert!(main.call.starts_with("recv of object #0 at tests/stall.rs:"), "{}", main.call);
    assert!(main.waits_for.contains("message 2 of `stuck` (thread 1)"), "{}", main.waits_for);
}

#[test]
fn a_bad_backstop_setting_is_named_once_and_the_replay_goes_on() {
    let out = Command::new(env!("CARGO_BIN_EXE_reprise"))
        .args(["replay", concat!(env!("CARGO_MANIFEST_DIR"), "/traces/none.trace")])
        .env("REPRISE_STALL_BACKSTOP", "soon")
        .output()
        .expect("run reprise");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let err = stderr(&out);
    assert_eq!(err.matches("REPRISE_STALL_BACKSTOP=\"soon\"").count(), 1, "{err}");
}

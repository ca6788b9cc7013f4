//! Channels and threads at the edge of a recording: a channel made before
//! the recording began, and a thread spawned with `std::thread` instead of
//! `reprise::thread`. Record and replay must agree on what is outside.

use std::sync::Arc;

use reprise::channel::{self, select};
use reprise::sync::Mutex;
use reprise::trace::model::OUTSIDE_MESSAGE;
use reprise::{read_trace_file, record, replay, replay_coroutines, RecordConfig, ReplayOutcome};

use crate::util::scratch;

/// Recorded threads lock a mutex of their own and use channels that were
/// made before the recording (a bounded one that a plain thread drains, and
/// a tick timer), in sends, receives and selects. Those channels are
/// outside the execution: the recording holds none of their messages, so
/// its replay must pass them through too.
fn uses_outside_channels(
    outside: channel::Sender<u32>,
    ticks: channel::Receiver<reprise::time::Instant>,
    idle: channel::Receiver<u32>,
) -> Vec<u32> {
    let order = Arc::new(Mutex::new(Vec::new()));
    let workers: Vec<_> = (0..3u32)
        .map(|w| {
            let (order, outside, ticks, idle) =
                (Arc::clone(&order), outside.clone(), ticks.clone(), idle.clone());
            reprise::thread::spawn(move || {
                for k in 0..40u32 {
                    order.lock().unwrap().push(w * 100 + k);
                    // Full or not depends on the drainer: not recorded.
                    let _ = outside.try_send(k);
                    if k % 10 == 0 {
                        let _ = ticks.try_recv();
                        select! {
                            recv(idle) -> _ => {},
                            default => {},
                        }
                    }
                }
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    let order = order.lock().unwrap().clone();
    order
}

#[test]
fn channels_made_before_the_recording_pass_through_record_and_replay() {
    let dir = scratch("outside-channels");
    for run in 0..5 {
        let path = dir.join(format!("run{run}.trace"));
        // Made here, before any recording: outside it.
        let (tx, rx) = channel::bounded::<u32>(2);
        let ticks = channel::tick(std::time::Duration::from_micros(50));
        let (_idle_tx, idle) = channel::unbounded::<u32>();
        let drainer = std::thread::spawn(move || rx.iter().count());
        let (t, i) = (ticks.clone(), idle.clone());
        let sender = tx.clone();
        let recorded =
            record(&path, RecordConfig::new("outside", "1"), move || uses_outside_channels(sender, t, i))
                .unwrap();
        let expected = recorded.result.expect("the recording finished");
        let trace = read_trace_file(&path).unwrap();

        // The replays get channels made outside them too.
        let (t, i, sender) = (ticks.clone(), idle.clone(), tx.clone());
        let parallel = replay(&trace, move || uses_outside_channels(sender, t, i));
        assert!(parallel.outcome.matched(), "run {run}, parallel: {}", parallel.outcome);
        assert_eq!(parallel.result.as_ref(), Some(&expected), "run {run}, parallel");
        let (t, i, sender) = (ticks, idle, tx.clone());
        let coroutines = replay_coroutines(&trace, move || uses_outside_channels(sender, t, i));
        assert!(coroutines.outcome.matched(), "run {run}, coroutines: {}", coroutines.outcome);
        assert_eq!(coroutines.result.as_ref(), Some(&expected), "run {run}, coroutines");
        drop(tx);
        drainer.join().unwrap();
    }
}

/// One helper spawned with `std::thread` sends into a channel the recording
/// made: its messages are numbered 0 (off mode numbers nothing).
fn std_thread_sends() -> u64 {
    let (tx, rx) = channel::unbounded::<u64>();
    let helper = std::thread::spawn(move || {
        for i in 1..=3 {
            if tx.send(i).is_err() {
                break;
            }
        }
    });
    let sum = rx.iter().sum();
    // In a replay the helper cannot use the replay's channel: it panics
    // with reprise's explanation, and the replay has diverged already.
    let _ = helper.join();
    sum
}

#[test]
fn a_message_from_a_std_thread_is_named_when_the_replay_diverges_on_it() {
    let dir = scratch("outside-thread");
    let path = dir.join("std-thread.trace");
    let recorded = record(&path, RecordConfig::new("outside", "1"), std_thread_sends).unwrap();
    assert_eq!(recorded.result, Some(6));
    let trace = read_trace_file(&path).unwrap();
    for (mode, report) in [
        ("parallel", replay(&trace, std_thread_sends)),
        ("coroutines", replay_coroutines(&trace, std_thread_sends)),
    ] {
        let ReplayOutcome::Diverged(divergence) = &report.outcome else {
            panic!("{mode}: expected a divergence, got {}", report.outcome);
        };
        assert!(divergence.detail.starts_with(OUTSIDE_MESSAGE), "{mode}: {}", divergence.detail);
        assert!(divergence.to_string().contains("reprise::thread::spawn"), "{mode}: {divergence}");
    }
}

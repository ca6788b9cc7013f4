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

/// Workers that leave a guard in a thread-local whose destructor sends on a
/// channel: it runs after the worker's body returned, when the thread has
/// left the recording, so the message comes from outside it.
fn thread_local_destructor_sends() -> u64 {
    struct SendOnExit(channel::Sender<u64>, u64);
    impl Drop for SendOnExit {
        fn drop(&mut self) {
            let _ = self.0.send(self.1);
        }
    }
    std::thread_local! {
        static GUARD: std::cell::RefCell<Option<SendOnExit>> = const { std::cell::RefCell::new(None) };
    }
    let (tx, rx) = channel::unbounded::<u64>();
    let workers: Vec<_> = (1..=3)
        .map(|i| {
            let tx = tx.clone();
            reprise::thread::spawn(move || GUARD.with(|g| *g.borrow_mut() = Some(SendOnExit(tx, i))))
        })
        .collect();
    drop(tx);
    for w in workers {
        w.join().unwrap();
    }
    rx.iter().sum()
}

/// Replaying such a send once panicked inside the destructor (the thread no
/// longer had a replay context), and a panic there aborts the process. Now
/// it passes through, as it did while recording, and the replay stops at the
/// receive that got it, saying why.
#[test]
fn a_send_from_a_thread_locals_destructor_diverges_at_its_receive_and_aborts_nothing() {
    let path = scratch("outside-tls").join("t.trace");
    let recorded = record(&path, RecordConfig::new("outside", "1"), thread_local_destructor_sends).unwrap();
    assert_eq!(recorded.result, Some(6), "the program got every message while recording");
    let trace = read_trace_file(&path).unwrap();
    let report = replay(&trace, thread_local_destructor_sends);
    let ReplayOutcome::Diverged(divergence) = &report.outcome else {
        panic!("expected a divergence at the receive, got {}", report.outcome);
    };
    assert!(divergence.detail.starts_with(OUTSIDE_MESSAGE), "{}", divergence.detail);
    assert!(divergence.detail.contains("thread-local's destructor"), "{}", divergence.detail);
}

/// Primitives in `static`s, which every execution of the process shares:
/// their counters go on from one execution to the next, so a replay in the
/// same process as its recording sees other numbers than those recorded.
static SHARED_TOTAL: Mutex<u64> = Mutex::new(0);
static SHARED_HITS: reprise::sync::atomic::AtomicU64 = reprise::sync::atomic::AtomicU64::new(0);

fn uses_statics() -> u64 {
    use reprise::sync::atomic::Ordering;
    *SHARED_TOTAL.lock().unwrap() = 0;
    SHARED_HITS.store(0, Ordering::SeqCst);
    let workers: Vec<_> = (1..=3u64)
        .map(|w| {
            reprise::thread::spawn(move || {
                for k in 0..20 {
                    let mut total = SHARED_TOTAL.lock().unwrap();
                    *total = total.wrapping_mul(31).wrapping_add(w * 100 + k);
                    drop(total);
                    SHARED_HITS.fetch_add(w, Ordering::Relaxed);
                }
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    let total = *SHARED_TOTAL.lock().unwrap();
    total ^ SHARED_HITS.load(Ordering::SeqCst)
}

#[test]
fn statics_shared_by_a_recording_and_its_replays_in_one_process_replay_both_ways() {
    let dir = scratch("outside-statics");
    for run in 0..3 {
        let path = dir.join(format!("run{run}.trace"));
        let recorded = record(&path, RecordConfig::new("statics", "1"), uses_statics).unwrap();
        let trace = read_trace_file(&path).unwrap();
        // Each replay starts where the executions before it left the
        // statics' counters.
        for round in 0..2 {
            let parallel = replay(&trace, uses_statics);
            assert!(parallel.outcome.matched(), "run {run} round {round}, parallel: {}", parallel.outcome);
            assert_eq!(parallel.result, recorded.result, "run {run} round {round}, parallel");
            let coroutines = replay_coroutines(&trace, uses_statics);
            assert!(
                coroutines.outcome.matched(),
                "run {run} round {round}, coroutines: {}",
                coroutines.outcome
            );
            assert_eq!(coroutines.result, recorded.result, "run {run} round {round}, coroutines");
        }
    }
}

fn locks_three_times() -> u64 {
    let m = Mutex::new(0u64);
    for k in 1..=3 {
        *m.lock().unwrap() += k;
    }
    let total = *m.lock().unwrap();
    total
}

/// The shift a replay allows a static's counter is fixed at its first turn:
/// a fresh mutex's later acquisition number forged in the trace still
/// diverges under coroutine replay.
#[test]
fn a_counter_number_off_after_the_first_turn_still_diverges_on_coroutines() {
    use reprise::trace::model::{Event, Op, Record};
    let path = scratch("outside-forged-shift").join("t.trace");
    record(&path, RecordConfig::new("forged-shift", "1"), locks_three_times).unwrap();
    let trace = read_trace_file(&path).unwrap();
    // The third and fourth acquisitions renumbered 5 and 6: the same order,
    // so every turn still comes, but 2 numbers off from this run's.
    let mut forged = trace.clone();
    let mut locks: Vec<&mut Event> = forged
        .records_mut(0)
        .unwrap()
        .iter_mut()
        .filter_map(|r| match r {
            Record::Event(e) if e.op == Op::Lock => Some(e),
            _ => None,
        })
        .collect();
    assert_eq!(locks.iter().map(|e| e.a).collect::<Vec<_>>(), [1, 2, 3, 4]);
    locks[2].a = 5;
    locks[3].a = 6;
    let untouched = replay_coroutines(&trace, locks_three_times);
    assert!(untouched.outcome.matched(), "{}", untouched.outcome);
    let report = replay_coroutines(&forged, locks_three_times);
    let ReplayOutcome::Diverged(d) = &report.outcome else {
        panic!("expected a divergence, got {}", report.outcome);
    };
    assert!(d.detail.contains("acquisition: 5"), "{}", d.detail);
}

/// A thread never joined, left waiting on a condvar when the body returns:
/// the recording finishes while it waits (it may not even have started), so
/// its log ends there. Both replays end with the body, as the recording did,
/// and never hold the mutex for it.
fn leaves_a_waiter_behind() -> u32 {
    let pair = Arc::new((Mutex::new(0u32), reprise::sync::Condvar::new()));
    let workers: Vec<_> = (0..3)
        .map(|_| {
            let pair = Arc::clone(&pair);
            reprise::thread::spawn(move || {
                for _ in 0..20 {
                    let (m, c) = &*pair;
                    *m.lock().unwrap() += 1;
                    c.notify_all();
                }
            })
        })
        .collect();
    let waiter = Arc::clone(&pair);
    // Never joined: it waits for a count the workers never reach.
    reprise::thread::spawn(move || {
        let (m, c) = &*waiter;
        let guard = m.lock().unwrap();
        let _guard = c.wait_while(guard, |n| *n < 1_000).unwrap();
    });
    {
        let (m, c) = &*pair;
        let guard = m.lock().unwrap();
        drop(c.wait_while(guard, |n| *n < 30).unwrap());
    }
    for w in workers {
        w.join().unwrap();
    }
    let total = *pair.0.lock().unwrap();
    total
}

#[test]
fn a_thread_left_waiting_when_the_body_returns_does_not_stall_either_replay() {
    let dir = scratch("outside-waiter");
    for run in 0..20 {
        let path = dir.join(format!("run{run}.trace"));
        let recorded = record(&path, RecordConfig::new("waiter", "1"), leaves_a_waiter_behind).unwrap();
        assert_eq!(recorded.result, Some(60));
        let trace = read_trace_file(&path).unwrap();
        let parallel = replay(&trace, leaves_a_waiter_behind);
        assert!(parallel.outcome.matched(), "run {run}, parallel: {}", parallel.outcome);
        assert_eq!(parallel.result, Some(60), "run {run}, parallel");
        let coroutines = replay_coroutines(&trace, leaves_a_waiter_behind);
        assert!(coroutines.outcome.matched(), "run {run}, coroutines: {}", coroutines.outcome);
        assert_eq!(coroutines.result, Some(60), "run {run}, coroutines");
    }
}

/// The root waits on a condvar; a thread it spawned while holding the mutex
/// takes it, notifies while holding it, and lets it go.
fn hands_the_mutex_over() -> bool {
    let pair = Arc::new((Mutex::new(false), reprise::sync::Condvar::new()));
    let (m, c) = &*pair;
    let guard = m.lock().unwrap();
    let other = Arc::clone(&pair);
    let helper = reprise::thread::spawn(move || {
        let (m, c) = &*other;
        let mut done = m.lock().unwrap();
        *done = true;
        c.notify_one();
        drop(done);
    });
    let guard = c.wait_while(guard, |done| !*done).unwrap();
    let done = *guard;
    drop(guard);
    let _ = helper.join();
    done
}

/// A log cut before the notify, so that the helper ends holding the mutex the root's condvar
/// wait must take back: coroutine replay reports that it cannot go on; it
/// used to retry the lock forever.
#[test]
fn a_condvar_wait_whose_mutex_is_never_let_go_ends_the_coroutine_replay() {
    use reprise::trace::model::{Op, Record};
    let path = scratch("outside-held-mutex").join("t.trace");
    let recorded = record(&path, RecordConfig::new("held-mutex", "1"), hands_the_mutex_over).unwrap();
    assert_eq!(recorded.result, Some(true));
    let mut trace = read_trace_file(&path).unwrap();
    let helper = *trace.threads.keys().find(|&&t| t != 0).expect("the helper's log");
    let records = trace.records_mut(helper).unwrap();
    let notify = records
        .iter()
        .position(|r| matches!(r, Record::Event(e) if e.op == Op::Notify))
        .expect("the helper notifies");
    records.truncate(notify);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(replay_coroutines(&trace, hands_the_mutex_over).outcome);
    });
    // A long backstop for a hang, not a measure of anything.
    let outcome = rx.recv_timeout(std::time::Duration::from_secs(120)).expect("the replay ended");
    assert!(!outcome.matched(), "{outcome}");
}

//! Programs unlike the ones the coroutine replay's unwinding model was
//! built against (found.rs's lost update, the select's arm bodies): `Drop`s
//! that, while their thread unwinds, wait for another thread on a channel
//! or a condvar, catch a panic of their own, or unwind beside another
//! thread doing the same. Each is recorded [`super::runs`] times; every
//! recording replays in parallel and on coroutines (each on an OS thread of
//! its own) to std's answer, or the coroutine replay ends unmatched saying
//! it cannot tell whether a thread unwinds, never with another answer, a
//! hang or an abort.

use std::sync::Arc;

use reprise::channel::{self, Receiver};
use reprise::panic::{catch_unwind, AssertUnwindSafe};
use reprise::sync::{Condvar, Mutex};
use reprise::thread;

use super::{replays_to, STAGED};

/// Receives one message when dropped: while its thread unwinds, it waits
/// for the other thread's send.
struct ReceivesOnDrop(Receiver<u32>, Arc<Mutex<Vec<u32>>>);

impl Drop for ReceivesOnDrop {
    fn drop(&mut self) {
        let got = self.0.recv().unwrap_or(99);
        self.1.lock().unwrap_or_else(|e| e.into_inner()).push(got);
    }
}

/// A worker panics (caught) holding a `ReceivesOnDrop`; the main thread
/// logs, then sends what the drop receives, then logs again.
fn drop_receives_while_unwinding() -> String {
    let (tx, rx) = channel::bounded::<u32>(0);
    let log = Arc::new(Mutex::new(Vec::new()));
    let worker_log = Arc::clone(&log);
    let worker = thread::spawn(move || {
        catch_unwind(AssertUnwindSafe(|| {
            let _r = ReceivesOnDrop(rx, worker_log);
            panic!("{STAGED}: the worker fails");
        }))
        .is_err()
    });
    log.lock().unwrap().push(1);
    tx.send(7).unwrap();
    log.lock().unwrap().push(2);
    let caught = worker.join().unwrap();
    let mut log = log.lock().unwrap().clone();
    log.sort_unstable();
    format!("{log:?} caught {caught}")
}

#[test]
fn a_drop_that_receives_while_its_thread_unwinds_replays_on_coroutines() {
    replays_to("eighth-wait-recv", "[1, 2, 7] caught true", false, drop_receives_while_unwinding);
}

/// Waits on a condvar until a flag is set, when dropped.
struct WaitsOnDrop(Arc<(Mutex<bool>, Condvar)>);

impl Drop for WaitsOnDrop {
    fn drop(&mut self) {
        let (flag, cv) = &*self.0;
        let mut set = flag.lock().unwrap_or_else(|e| e.into_inner());
        while !*set {
            set = cv.wait(set).unwrap_or_else(|e| e.into_inner());
        }
    }
}

/// A worker panics (caught) holding a `WaitsOnDrop`; the main thread sets
/// the flag and notifies, at whatever point of the worker's unwind.
fn drop_waits_on_a_condvar_while_unwinding() -> String {
    let pair = Arc::new((Mutex::new(false), Condvar::new()));
    let worker_pair = Arc::clone(&pair);
    let worker = thread::spawn(move || {
        catch_unwind(AssertUnwindSafe(|| {
            let _w = WaitsOnDrop(worker_pair);
            panic!("{STAGED}: the worker fails");
        }))
        .is_err()
    });
    {
        let (flag, cv) = &*pair;
        *flag.lock().unwrap() = true;
        cv.notify_all();
    }
    let caught = worker.join().unwrap();
    let poisoned = pair.0.is_poisoned();
    format!("caught {caught} poisoned {poisoned}")
}

#[test]
fn a_drop_that_waits_on_a_condvar_while_its_thread_unwinds_replays_on_coroutines() {
    // The drop's guard is made while its thread unwinds: std's guard
    // notes it and does not poison the mutex.
    replays_to(
        "eighth-wait-condvar",
        "caught true poisoned false",
        false,
        drop_waits_on_a_condvar_while_unwinding,
    );
}

/// Catches a panic of its own, then locks, when dropped: a thread with a
/// nested panic caught inside its unwind.
struct NestedCatch(Arc<Mutex<u32>>);

impl Drop for NestedCatch {
    fn drop(&mut self) {
        let inner = catch_unwind(|| panic!("{STAGED}: inside the drop"));
        let nested = u32::from(inner.is_err());
        let unwinding = u32::from(thread::panicking());
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) += 10 * nested + unwinding;
    }
}

/// Two workers each panic (caught) holding a `NestedCatch`, racing for
/// the one counter: each adds 10 (its nested catch) + 1 (it still unwinds).
fn nested_catches_in_unwinding_drops() -> String {
    let n = Arc::new(Mutex::new(0u32));
    let workers: Vec<_> = (0..2)
        .map(|_| {
            let n = Arc::clone(&n);
            thread::spawn(move || {
                catch_unwind(AssertUnwindSafe(|| {
                    let _c = NestedCatch(Arc::clone(&n));
                    *n.lock().unwrap() += 100;
                    panic!("{STAGED}: the worker fails");
                }))
                .is_err()
            })
        })
        .collect();
    let caught: Vec<bool> = workers.into_iter().map(|h| h.join().unwrap()).collect();
    let total = *n.lock().unwrap_or_else(|e| e.into_inner());
    format!("{total} caught {caught:?}")
}

#[test]
fn nested_catches_inside_unwinding_drops_replay_on_coroutines() {
    // Caught with reprise's catch_unwind throughout, so no guess stays
    // unsettled: every coroutine replay must match.
    replays_to("eighth-nested-catch", "222 caught [true, true]", false, nested_catches_in_unwinding_drops);
}

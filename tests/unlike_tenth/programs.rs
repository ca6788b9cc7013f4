//! The set's programs. Each takes a [`Mode`]: run to its end, diverge from
//! its own recording once its other threads wait, or fail there.

use std::sync::Arc;

use reprise::channel::{self, select};
use reprise::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use reprise::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use reprise::sync::{Barrier, Condvar, Mutex};
use reprise::thread;
use reprise::time::Duration;

use super::{stop_here, Mode};

/// A supervisor restarts a worker whenever it panics (a poison job, 0),
/// through `join`'s `Err`; the jobs' channel is the supervisor's too (it
/// keeps a sender, to requeue), so only a stop job (`u32::MAX`) ends it.
pub(crate) fn supervisor(mode: Mode) -> String {
    let (tx, rx) = channel::unbounded::<u32>();
    let (done_tx, done_rx) = channel::unbounded::<u32>();
    let total = Arc::new(AtomicU32::new(0));
    let sup = {
        let (rx, total, requeue) = (rx.clone(), Arc::clone(&total), tx.clone());
        thread::Builder::new()
            .name("supervisor".into())
            .spawn(move || {
                let _requeue = requeue;
                let mut restarts = 0u32;
                loop {
                    let (rx, total, done_tx) = (rx.clone(), Arc::clone(&total), done_tx.clone());
                    let worker = thread::spawn(move || {
                        for job in rx.iter() {
                            if job == u32::MAX {
                                return;
                            }
                            done_tx.send(job).unwrap();
                            assert!(job != 0, "staged: a poison job");
                            total.fetch_add(job, Ordering::SeqCst);
                        }
                    });
                    match worker.join() {
                        Ok(()) => return restarts,
                        Err(_) => restarts += 1,
                    }
                }
            })
            .unwrap()
    };
    for job in [3, 0, 4] {
        tx.send(job).unwrap();
    }
    for _ in 0..3 {
        done_rx.recv().unwrap();
    }
    stop_here(mode);
    for job in [0, 5, u32::MAX] {
        tx.send(job).unwrap();
    }
    let restarts = sup.join().unwrap();
    format!("total {}, restarts {restarts}", total.load(Ordering::SeqCst))
}

/// What a retry loop waits in.
#[derive(Clone, Copy, Debug)]
enum Wait {
    Recv,
    Lock,
    Condvar,
    Barrier,
    Park,
    Sleep,
    RecvTimeout,
}

/// One worker per kind of wait, each in a loop that catches every panic
/// (std's `catch_unwind` for half of them, reprise's for the others): its
/// first attempt panics before it waits (a transient failure), caught;
/// then it waits, and the main thread lets every one of them go. Each
/// worker holds a sender of the channel it waits on.
pub(crate) fn retry_loops(mode: Mode) -> String {
    let kinds =
        [Wait::Recv, Wait::Lock, Wait::Condvar, Wait::Barrier, Wait::Park, Wait::Sleep, Wait::RecvTimeout];
    let (tx, rx) = channel::unbounded::<u32>();
    let gate = Arc::new(Mutex::new(0u32));
    let pair = Arc::new((Mutex::new(false), Condvar::new()));
    let barrier = Arc::new(Barrier::new(2));
    let flag = Arc::new(AtomicBool::new(false));
    let (ready_tx, ready_rx) = channel::unbounded::<()>();
    let held = gate.lock().unwrap();
    let workers: Vec<_> = kinds
        .iter()
        .enumerate()
        .map(|(i, &kind)| {
            let (tx, rx, gate, pair, barrier, flag, ready_tx) = (
                tx.clone(),
                rx.clone(),
                Arc::clone(&gate),
                Arc::clone(&pair),
                Arc::clone(&barrier),
                Arc::clone(&flag),
                ready_tx.clone(),
            );
            thread::spawn(move || {
                let _own = tx;
                let mut attempts = 0u32;
                let mut caught = 0u32;
                loop {
                    let attempt = || {
                        attempts += 1;
                        assert!(attempts > 1, "staged: the first attempt of {kind:?} fails");
                        if attempts == 2 {
                            ready_tx.send(()).unwrap();
                        }
                        wait(kind, &rx, &gate, &pair, &barrier, &flag)
                    };
                    let got = if i % 2 == 0 {
                        std::panic::catch_unwind(AssertUnwindSafe(attempt))
                    } else {
                        catch_unwind(AssertUnwindSafe(attempt))
                    };
                    match got {
                        Ok(true) => return (attempts, caught),
                        Ok(false) => {}
                        Err(_) => caught += 1,
                    }
                }
            })
        })
        .collect();
    for _ in &kinds {
        ready_rx.recv().unwrap();
    }
    stop_here(mode);
    tx.send(1).unwrap();
    drop(held);
    {
        let (m, c) = &*pair;
        *m.lock().unwrap() = true;
        c.notify_all();
    }
    barrier.wait();
    flag.store(true, Ordering::SeqCst);
    for w in &workers {
        w.thread().unpark();
    }
    tx.send(2).unwrap();
    let mut out = Vec::new();
    for (kind, w) in kinds.iter().zip(workers) {
        let (_attempts, caught) = w.join().unwrap();
        out.push(format!("{kind:?} caught {caught}"));
    }
    out.join(", ")
}

/// One wait of `kind`; whether it is over (`false`: wait again).
fn wait(
    kind: Wait,
    rx: &channel::Receiver<u32>,
    gate: &Mutex<u32>,
    pair: &(Mutex<bool>, Condvar),
    barrier: &Barrier,
    flag: &AtomicBool,
) -> bool {
    match kind {
        Wait::Recv => rx.recv().is_ok(),
        Wait::Lock => {
            *gate.lock().unwrap() += 1;
            true
        }
        Wait::Condvar => {
            let (m, c) = pair;
            let mut set = m.lock().unwrap();
            while !*set {
                set = c.wait(set).unwrap();
            }
            true
        }
        Wait::Barrier => {
            barrier.wait();
            true
        }
        Wait::Park => {
            thread::park();
            flag.load(Ordering::SeqCst)
        }
        Wait::Sleep => {
            thread::sleep(Duration::from_millis(1));
            flag.load(Ordering::SeqCst)
        }
        Wait::RecvTimeout => {
            // Both workers on `rx` take one message each, whichever they are.
            rx.recv_timeout(Duration::from_millis(1)).is_ok()
        }
    }
}

/// Sends `.1` on a rendezvous in its `Drop`, or (`None`) joins `.2`.
struct OnDrop(Option<channel::Sender<u32>>, u32, Option<thread::JoinHandle<u32>>);

impl Drop for OnDrop {
    fn drop(&mut self) {
        if let Some(tx) = self.0.take() {
            let _ = tx.send(self.1);
        }
        if let Some(h) = self.2.take() {
            let _ = h.join();
        }
    }
}

/// A worker waits with two guards alive: one whose `Drop` sends on a
/// rendezvous a collector takes from, one whose `Drop` joins a helper of
/// its own (which waits on the worker's channel too). Each keeps a sender
/// of what it waits on.
pub(crate) fn blocking_drops(mode: Mode) -> String {
    let (rv_tx, rv_rx) = channel::bounded::<u32>(0);
    let (w_tx, w_rx) = channel::unbounded::<u32>();
    let (ready_tx, ready_rx) = channel::unbounded::<()>();
    let collector = thread::spawn(move || rv_rx.iter().sum::<u32>());
    let worker = {
        let own = w_tx.clone();
        thread::spawn(move || {
            let _own = own;
            let helper_rx = w_rx.clone();
            let helper = thread::spawn(move || helper_rx.recv().unwrap());
            let _joins = OnDrop(None, 0, Some(helper));
            let _sends = OnDrop(Some(rv_tx), 7, None);
            ready_tx.send(()).unwrap();
            w_rx.recv().unwrap()
        })
    };
    ready_rx.recv().unwrap();
    stop_here(mode);
    w_tx.send(1).unwrap();
    w_tx.send(2).unwrap();
    let got = worker.join().unwrap();
    format!("worker got one {}, collected {}", got > 0, collector.join().unwrap())
}

/// Two detached threads (never joined) spin on an atomic with `yield_now`
/// for ever; the main thread waits until they have counted to 20 and
/// returns with them still spinning.
pub(crate) fn detached_spinners(mode: Mode) -> String {
    let count = Arc::new(AtomicU32::new(0));
    for _ in 0..2 {
        let count = Arc::clone(&count);
        // Bounded only so that a recording's spinners, which run on after
        // the body returns, do not spin for the rest of the test process.
        thread::spawn(move || {
            while count.load(Ordering::SeqCst) < 2_000 {
                count.fetch_add(1, Ordering::SeqCst);
                thread::yield_now();
            }
        });
    }
    while count.load(Ordering::SeqCst) < 10 {
        thread::yield_now();
    }
    stop_here(mode);
    while count.load(Ordering::SeqCst) < 20 {
        thread::yield_now();
    }
    "reached 20".to_string()
}

/// A scope body hands jobs to two scoped workers and panics halfway
/// (caught around the scope): its sender goes with the unwind, the workers
/// drain and end, and the scope passes the panic on.
pub(crate) fn scoped_panicking_body(mode: Mode) -> String {
    let done = AtomicU32::new(0);
    let caught = catch_unwind(AssertUnwindSafe(|| {
        thread::scope(|s| {
            let (tx, rx) = channel::bounded::<u32>(1);
            for _ in 0..2 {
                let (rx, done) = (rx.clone(), &done);
                s.spawn(move || {
                    for job in rx.iter() {
                        done.fetch_add(job, Ordering::SeqCst);
                    }
                });
            }
            for job in 1..=3 {
                tx.send(job).unwrap();
            }
            stop_here(mode.min(1));
            panic!("staged: the scope body fails");
        })
    }));
    if mode == 2 {
        stop_here(mode);
    }
    format!("caught {}, done {}", caught.is_err(), done.load(Ordering::SeqCst))
}

/// A worker in nested `catch_unwind`s: the inner one keeps the payload,
/// reports it on a channel, and resumes the unwind (reprise's
/// `resume_unwind` and std's in turn); the outer one counts. Its jobs
/// come on a `select!` over a channel it holds a sender of.
pub(crate) fn nested_resume(mode: Mode) -> String {
    let (tx, rx) = channel::unbounded::<u32>();
    let (report_tx, report_rx) = channel::unbounded::<u32>();
    let worker = {
        let own = tx.clone();
        thread::spawn(move || {
            let _own = own;
            let mut outer = 0u32;
            loop {
                let got = catch_unwind(AssertUnwindSafe(|| {
                    let inner = std::panic::catch_unwind(AssertUnwindSafe(|| {
                        select! {
                            recv(rx) -> m => {
                                let m = m.unwrap();
                                assert!(m % 2 == 1, "staged: an even job {m}");
                                m
                            }
                        }
                    }));
                    match inner {
                        Ok(m) => m,
                        Err(payload) => {
                            report_tx.send(outer).unwrap();
                            if outer.is_multiple_of(2) {
                                resume_unwind(payload)
                            } else {
                                std::panic::resume_unwind(payload)
                            }
                        }
                    }
                }));
                match got {
                    Ok(u32::MAX) => return outer,
                    Ok(_) => {}
                    Err(_) => outer += 1,
                }
            }
        })
    };
    tx.send(1).unwrap();
    tx.send(2).unwrap();
    report_rx.recv().unwrap();
    stop_here(mode);
    for m in [4, 3, u32::MAX] {
        tx.send(m).unwrap();
    }
    let outer = worker.join().unwrap();
    let reports: Vec<u32> = report_rx.try_iter().collect();
    format!("outer {outer}, reports {reports:?}")
}

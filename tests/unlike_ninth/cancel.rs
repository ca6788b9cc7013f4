//! Wake-ups from the edges of a future's life: a oneshot whose sender is
//! dropped by a thread that panics (its `Drop`, run while the thread
//! unwinds, wakes the receiver with "canceled" through an `AtomicWaker`);
//! a future of a thread's end that polls `JoinHandle::is_finished` (a
//! recorded answer) under a `park_timeout` `block_on`; a sleep served by a
//! thread per timer that `select!`s over `channel::after` and a cancel
//! channel, cancelled by the sleep's `Drop` when a select drops it; and a
//! `block_on` whose waker is a `Mutex<bool>` and a `Condvar` instead of
//! park and unpark.

use std::future::Future;
use std::pin::{pin, Pin};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use reprise::channel::{self, select};
use reprise::panic::{catch_unwind, AssertUnwindSafe};
use reprise::sync::atomic::{AtomicU32, Ordering};
use reprise::sync::{Condvar, Mutex};
use reprise::thread;
use reprise::time::Duration;

use super::block_on::{block_on, block_on_counting, select as select2, Either, Wait};
use super::replays_to;
use super::waker::AtomicWaker;

// ---------------------------------------------------------------------------
// A oneshot cancelled by a panicking sender.

const EMPTY: u32 = 0;
const CANCELED: u32 = u32::MAX;

struct Cell {
    value: AtomicU32,
    waker: AtomicWaker,
}

/// Sends one nonzero `u32`; dropped unsent, it cancels.
pub(crate) struct Sender(Arc<Cell>, bool);

/// A future of the value, or `None` once the sender was dropped unsent.
pub(crate) struct Receiver(Arc<Cell>);

pub(crate) fn cancellable() -> (Sender, Receiver) {
    let cell = Arc::new(Cell { value: AtomicU32::new(EMPTY), waker: AtomicWaker::new() });
    (Sender(Arc::clone(&cell), false), Receiver(cell))
}

impl Sender {
    pub(crate) fn send(mut self, v: u32) {
        assert!(v != EMPTY && v != CANCELED);
        self.0.value.store(v, Ordering::Release);
        self.1 = true;
        self.0.waker.wake();
    }
}

impl Drop for Sender {
    fn drop(&mut self) {
        if !self.1 {
            self.0.value.store(CANCELED, Ordering::Release);
            self.0.waker.wake();
        }
    }
}

impl Future for Receiver {
    type Output = Option<u32>;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<u32>> {
        self.0.waker.register(cx.waker());
        match self.0.value.load(Ordering::Acquire) {
            EMPTY => Poll::Pending,
            CANCELED => Poll::Ready(None),
            v => Poll::Ready(Some(v)),
        }
    }
}

/// Two senders, each in its own thread: the first sends 9; the second
/// panics (caught in its thread) holding its sender, whose `Drop` cancels
/// while the thread unwinds. The main thread `block_on`s both receivers.
/// std: `Some(9)` and `None`.
pub(super) fn canceled_by_a_panic() -> String {
    let (s1, r1) = cancellable();
    let (s2, r2) = cancellable();
    let t1 = thread::spawn(move || s1.send(9));
    let t2 = thread::spawn(move || {
        let r = catch_unwind(AssertUnwindSafe(move || {
            let _s = s2;
            thread::yield_now();
            panic!("staged: the sender's work failed");
        }));
        r.is_err()
    });
    let a = block_on(r1);
    let b = block_on(r2);
    t1.join().unwrap();
    let caught = t2.join().unwrap();
    format!("{a:?} {b:?}, caught {caught}")
}

#[test]
fn a_oneshot_cancelled_by_a_sender_dropped_while_unwinding() {
    replays_to("ninth-canceled", "Some(9) None, caught true", canceled_by_a_panic);
}

// ---------------------------------------------------------------------------
// A future of a thread's end, polling is_finished.

/// Ready once the thread finished; no waker: polled again after each
/// `park_timeout`.
struct Finished<'a>(&'a thread::JoinHandle<u32>);

impl Future for Finished<'_> {
    type Output = ();
    fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<()> {
        if self.0.is_finished() {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

/// A worker sums 1..=50 yielding every 10; the main thread `block_on`s a
/// `Finished` with `park_timeout(100 µs)` between polls (how many polls
/// it took is the recording's, not in the transcript), then joins. std:
/// the sum.
pub(super) fn is_finished_polls() -> String {
    let h = thread::spawn(|| {
        let mut sum = 0;
        for i in 1..=50 {
            sum += i;
            if i % 10 == 0 {
                thread::yield_now();
            }
        }
        sum
    });
    let ((), polls) = block_on_counting(Finished(&h), Wait::ParkTimeout(Duration::from_micros(100)));
    assert!(polls >= 1);
    format!("sum {}", h.join().unwrap())
}

#[test]
fn a_future_of_a_threads_end_polls_is_finished() {
    replays_to("ninth-is-finished", "sum 1275", is_finished_polls);
}

// ---------------------------------------------------------------------------
// A sleep served by a thread per timer, cancelled by its Drop.

/// A sleep of `.0`; at its first poll it starts a thread that waits for
/// `channel::after` or for its cancel channel to close, then marks it
/// fired and wakes it.
struct ThreadSleep {
    dur: Duration,
    state: Option<(Arc<Cell>, channel::Sender<()>, thread::JoinHandle<bool>)>,
}

fn thread_sleep(dur: Duration) -> ThreadSleep {
    ThreadSleep { dur, state: None }
}

impl Future for ThreadSleep {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.state.is_none() {
            let cell = Arc::new(Cell { value: AtomicU32::new(EMPTY), waker: AtomicWaker::new() });
            let (cancel_tx, cancel_rx) = channel::bounded::<()>(0);
            let dur = self.dur;
            let timer = {
                let cell = Arc::clone(&cell);
                thread::spawn(move || {
                    let fired = select! {
                        recv(channel::after(dur)) -> _ => true,
                        recv(cancel_rx) -> _ => false,
                    };
                    if fired {
                        cell.value.store(1, Ordering::Release);
                        cell.waker.wake();
                    }
                    fired
                })
            };
            self.state = Some((cell, cancel_tx, timer));
        }
        let (cell, _, _) = self.state.as_ref().unwrap();
        cell.waker.register(cx.waker());
        if cell.value.load(Ordering::Acquire) == EMPTY {
            Poll::Pending
        } else {
            Poll::Ready(())
        }
    }
}

impl Drop for ThreadSleep {
    /// Closes the cancel channel (the timer thread's select wakes, unless
    /// it fired) and joins the timer thread.
    fn drop(&mut self) {
        if let Some((_, cancel, timer)) = self.state.take() {
            drop(cancel);
            timer.join().unwrap();
        }
    }
}

/// A select of a 30 s thread sleep (a backstop: it loses in real time)
/// against a oneshot a thread completes after a yield; the sleep is
/// dropped, which cancels its thread. Then a 200 µs thread sleep that
/// fires. std: the reply, then the short sleep.
pub(super) fn thread_per_timer() -> String {
    let (s, r) = cancellable();
    let t = thread::spawn(move || {
        thread::yield_now();
        s.send(4);
    });
    let first = match block_on(select2(r, Box::pin(thread_sleep(Duration::from_secs(30))))) {
        Either::Left((v, _sleep)) => format!("reply {v:?}"),
        Either::Right(((), _r)) => "timed out".into(),
    };
    t.join().unwrap();
    block_on(thread_sleep(Duration::from_micros(200)));
    format!("{first}, then slept")
}

#[test]
fn a_thread_per_timer_sleep_cancelled_by_its_drop() {
    replays_to("ninth-thread-timer", "reply Some(4), then slept", thread_per_timer);
}

// ---------------------------------------------------------------------------
// A block_on on a Mutex and a Condvar.

/// A waker that raises a flag under a mutex and notifies.
struct CondvarWaker {
    woken: Mutex<bool>,
    cv: Condvar,
}

impl Wake for CondvarWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        *self.woken.lock().unwrap() = true;
        self.cv.notify_one();
    }
}

/// Polls, and between polls waits on the condvar until woken, or 120 s
/// passed (a backstop: it polls again; under the explorer, whose clock is
/// virtual, a strategy may let that timeout expire at any point).
fn block_on_condvar<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let me = Arc::new(CondvarWaker { woken: Mutex::new(false), cv: Condvar::new() });
    let waker = Waker::from(Arc::clone(&me));
    let mut cx = Context::from_waker(&waker);
    loop {
        if let Poll::Ready(v) = future.as_mut().poll(&mut cx) {
            return v;
        }
        let woken = me.woken.lock().unwrap();
        let (mut woken, _) =
            me.cv.wait_timeout_while(woken, Duration::from_secs(120), |woken| !*woken).unwrap();
        *woken = false;
    }
}

/// Three threads send 1, 2, 3 on cancellable oneshots; a fourth drops its
/// sender unsent; the main thread's condvar `block_on` awaits each in
/// turn. std: the three values and a cancel.
pub(super) fn condvar_block_on() -> String {
    let mut receivers = Vec::new();
    let mut threads = Vec::new();
    for v in 1..=4u32 {
        let (s, r) = cancellable();
        receivers.push(r);
        threads.push(thread::spawn(move || {
            if v < 4 {
                s.send(v);
            } else {
                drop(s);
            }
        }));
    }
    let got: Vec<Option<u32>> = receivers.into_iter().map(block_on_condvar).collect();
    for h in threads {
        h.join().unwrap();
    }
    format!("{got:?}")
}

#[test]
fn a_block_on_waiting_on_a_condvar() {
    replays_to("ninth-condvar", "[Some(1), Some(2), Some(3), None]", condvar_block_on);
}

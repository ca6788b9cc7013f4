//! A `block_on` executor on reprise's park and unpark, and the hand-written
//! futures the set shares: a oneshot (a `Mutex` holding the value and the
//! waker, beside an `AtomicBool` for the fast path), a yield, a join and a
//! select of two futures. Programs: three oneshots completed by three
//! threads while `block_on` parks; the same with `park_timeout` polls (a
//! timed-out park polls again: a spurious poll must be harmless); a select
//! over two oneshots raced by two completers, then the loser awaited; a
//! completion made before the future is ever polled (woken before a waker
//! was registered); and a `block_on` nested in a completer thread.

use std::future::Future;
use std::pin::{pin, Pin};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use reprise::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use reprise::sync::Mutex;
use reprise::thread::{self, Thread};
use reprise::time::Duration;

use super::replays_to;

// ---------------------------------------------------------------------------
// block_on

/// The waker of a `block_on`: notes the wake-up in `woken`, then unparks
/// the thread that polls.
pub(crate) struct ThreadWaker {
    thread: Thread,
    woken: AtomicBool,
}

impl ThreadWaker {
    /// A waker of the current thread.
    pub(crate) fn new() -> ThreadWaker {
        ThreadWaker { thread: thread::current(), woken: AtomicBool::new(false) }
    }
}

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::Release);
        self.thread.unpark();
    }
}

/// How `block_on` waits between polls.
#[derive(Clone, Copy)]
pub(crate) enum Wait {
    /// `park` until the waker said so.
    Park,
    /// `park_timeout` once, then poll again whether woken or not.
    ParkTimeout(Duration),
}

/// Polls `future` on this thread until it is ready, parking between polls
/// until its waker was called. Returns the output and the number of polls.
pub(crate) fn block_on_counting<F: Future>(future: F, wait: Wait) -> (F::Output, u32) {
    let mut future = pin!(future);
    let me = Arc::new(ThreadWaker { thread: thread::current(), woken: AtomicBool::new(false) });
    let waker = Waker::from(Arc::clone(&me));
    let mut cx = Context::from_waker(&waker);
    let mut polls = 0;
    loop {
        polls += 1;
        if let Poll::Ready(v) = future.as_mut().poll(&mut cx) {
            return (v, polls);
        }
        match wait {
            Wait::Park => {
                while !me.woken.swap(false, Ordering::AcqRel) {
                    thread::park();
                }
            }
            Wait::ParkTimeout(t) => {
                if !me.woken.swap(false, Ordering::AcqRel) {
                    thread::park_timeout(t);
                    me.woken.store(false, Ordering::Release);
                }
            }
        }
    }
}

/// [`block_on_counting`] with `park`, without the count.
pub(crate) fn block_on<F: Future>(future: F) -> F::Output {
    block_on_counting(future, Wait::Park).0
}

// ---------------------------------------------------------------------------
// A oneshot.

struct Slot<T> {
    value: Option<T>,
    waker: Option<Waker>,
    taken: bool,
}

struct OneshotInner<T> {
    done: AtomicBool,
    slot: Mutex<Slot<T>>,
}

/// The sending half of a [`oneshot`].
pub(crate) struct Completer<T>(Arc<OneshotInner<T>>);

/// The receiving half of a [`oneshot`]: a future of the value.
pub(crate) struct Recv<T>(Arc<OneshotInner<T>>);

/// A oneshot channel written by hand.
pub(crate) fn oneshot<T>() -> (Completer<T>, Recv<T>) {
    let inner = Arc::new(OneshotInner {
        done: AtomicBool::new(false),
        slot: Mutex::new(Slot { value: None, waker: None, taken: false }),
    });
    (Completer(Arc::clone(&inner)), Recv(inner))
}

impl<T> Completer<T> {
    /// Stores the value and wakes the receiver's last registered waker,
    /// outside the lock.
    pub(crate) fn complete(self, value: T) {
        let waker = {
            let mut slot = self.0.slot.lock().unwrap();
            slot.value = Some(value);
            self.0.done.store(true, Ordering::Release);
            slot.waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
    }
}

impl<T> Recv<T> {
    /// Whether the value came (without taking it).
    pub(crate) fn is_done(&self) -> bool {
        self.0.done.load(Ordering::Acquire)
    }
}

impl<T> Future for Recv<T> {
    type Output = T;

    /// Registers the waker and looks for the value under one lock, so a
    /// completion can come neither between the look and the registration
    /// nor unseen. Panics when polled again after it returned the value.
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let mut slot = self.0.slot.lock().unwrap();
        assert!(!slot.taken, "oneshot polled after completion");
        if let Some(v) = slot.value.take() {
            slot.taken = true;
            return Poll::Ready(v);
        }
        match &slot.waker {
            Some(w) if w.will_wake(cx.waker()) => {}
            _ => slot.waker = Some(cx.waker().clone()),
        }
        Poll::Pending
    }
}

// ---------------------------------------------------------------------------
// Yield, join, select.

/// Pending once, waking itself first: the executor polls again.
pub(crate) struct YieldNow(bool);

pub(crate) fn yield_now() -> YieldNow {
    YieldNow(false)
}

impl Future for YieldNow {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            return Poll::Ready(());
        }
        self.0 = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

/// One of two outputs.
#[derive(Debug, PartialEq)]
pub(crate) enum Either<A, B> {
    Left(A),
    Right(B),
}

/// Polls `a`, then `b`; the first ready wins and the other is handed back.
pub(crate) struct Select<A, B>(Option<(A, B)>);

pub(crate) fn select<A: Future + Unpin, B: Future + Unpin>(a: A, b: B) -> Select<A, B> {
    Select(Some((a, b)))
}

impl<A: Future + Unpin, B: Future + Unpin> Future for Select<A, B> {
    type Output = Either<(A::Output, B), (B::Output, A)>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let (a, b) = self.0.as_mut().expect("select polled after completion");
        if let Poll::Ready(v) = Pin::new(a).poll(cx) {
            let (_, b) = self.0.take().unwrap();
            return Poll::Ready(Either::Left((v, b)));
        }
        if let Poll::Ready(v) = Pin::new(b).poll(cx) {
            let (a, _) = self.0.take().unwrap();
            return Poll::Ready(Either::Right((v, a)));
        }
        Poll::Pending
    }
}

/// Polls every future not yet ready at each poll; ready once all are.
pub(crate) struct JoinAll<F: Future>(Vec<(F, Option<F::Output>)>);

pub(crate) fn join_all<F: Future + Unpin>(futures: Vec<F>) -> JoinAll<F> {
    JoinAll(futures.into_iter().map(|f| (f, None)).collect())
}

impl<F: Future + Unpin> Future for JoinAll<F>
where
    F::Output: Unpin,
{
    type Output = Vec<F::Output>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut all = true;
        for (f, out) in self.0.iter_mut() {
            if out.is_none() {
                match Pin::new(f).poll(cx) {
                    Poll::Ready(v) => *out = Some(v),
                    Poll::Pending => all = false,
                }
            }
        }
        if !all {
            return Poll::Pending;
        }
        Poll::Ready(self.0.iter_mut().map(|(_, out)| out.take().expect("joined twice")).collect())
    }
}

// ---------------------------------------------------------------------------
// Programs.

/// Three completers, each yielding once and then completing its oneshot
/// with `10 * i`; the main thread's `block_on` joins the three. std: the
/// three values in order; with `park`, at most four polls (the first, and
/// one for each wake), a count not in the transcript (it depends on the
/// interleaving).
pub(super) fn three_completers(wait: Wait) -> String {
    let mut receivers = Vec::new();
    let mut completers = Vec::new();
    for i in 1..=3u32 {
        let (c, r) = oneshot();
        receivers.push(r);
        completers.push(thread::spawn(move || {
            thread::yield_now();
            c.complete(10 * i);
        }));
    }
    let (values, polls) = block_on_counting(join_all(receivers), wait);
    for h in completers {
        h.join().unwrap();
    }
    assert!((1..=4).contains(&polls) || matches!(wait, Wait::ParkTimeout(_)), "{polls} polls");
    format!("{values:?}")
}

pub(super) fn three_completers_parked() -> String {
    three_completers(Wait::Park)
}

/// The same with `park_timeout(200 µs)` between polls: a poll after a
/// timeout finds nothing new and parks again.
pub(super) fn three_completers_timed() -> String {
    three_completers(Wait::ParkTimeout(Duration::from_micros(200)))
}

#[test]
fn block_on_joins_three_oneshots_completed_by_three_threads() {
    replays_to("ninth-three", "[10, 20, 30]", three_completers_parked);
}

#[test]
fn block_on_with_park_timeout_joins_three_oneshots() {
    replays_to("ninth-three-timed", "[10, 20, 30]", three_completers_timed);
}

/// Two completers race to complete `a` (with 1) and `b` (with 2); the
/// main thread's `block_on` selects over both, then awaits the loser.
/// std: both values, whichever came first: the sum is 3, and the loser's
/// future is never polled after it returned.
pub(super) fn select_then_loser() -> String {
    let (ca, ra) = oneshot::<u32>();
    let (cb, rb) = oneshot::<u32>();
    let ta = thread::spawn(move || ca.complete(1));
    let tb = thread::spawn(move || cb.complete(2));
    let (first, second) = match block_on(select(ra, rb)) {
        Either::Left((a, rb)) => (a, block_on(rb)),
        Either::Right((b, ra)) => (b, block_on(ra)),
    };
    ta.join().unwrap();
    tb.join().unwrap();
    assert_ne!(first, second);
    format!("sum {}", first + second)
}

#[test]
fn a_hand_select_over_two_oneshots_then_the_loser() {
    replays_to("ninth-select", "sum 3", select_then_loser);
}

/// The completer runs to its end before the main thread polls: its wake
/// finds no waker (woken before registered), and the first poll finds the
/// value. Then the other way: a oneshot the main thread polls once
/// (`Pending`, a waker registered) before the completer is even spawned.
pub(super) fn woken_before_registered() -> String {
    let (c, r) = oneshot::<&str>();
    thread::spawn(move || c.complete("early")).join().unwrap();
    assert!(r.is_done());
    let (early, polls_early) = block_on_counting(r, Wait::Park);
    let (c, r) = oneshot::<&str>();
    let mut r = pin!(r);
    let waker =
        Waker::from(Arc::new(ThreadWaker { thread: thread::current(), woken: AtomicBool::new(false) }));
    assert!(r.as_mut().poll(&mut Context::from_waker(&waker)).is_pending());
    let t = thread::spawn(move || c.complete("late"));
    let (late, polls_late) = block_on_counting(r, Wait::Park);
    t.join().unwrap();
    // One poll when the completer came first, two when it did not.
    assert!(polls_late <= 2, "{polls_late} polls");
    format!("{early} in {polls_early}, {late}")
}

#[test]
fn a_wake_before_any_registration_is_not_lost() {
    replays_to("ninth-early", "early in 1, late", woken_before_registered);
}

/// Two levels of `block_on`: a relay thread `block_on`s a oneshot from the
/// main thread, adds one and completes another oneshot, which the main
/// thread `block_on`s, three rounds; a counter of wakes (atomic) must be
/// at least one a round.
pub(super) fn relay_rounds() -> String {
    let wakes = Arc::new(AtomicU32::new(0));
    let (to_relay_tx, to_relay_rx) = reprise::channel::unbounded::<(Recv<u32>, Completer<u32>)>();
    let relay = {
        let wakes = Arc::clone(&wakes);
        thread::spawn(move || {
            let mut seen = Vec::new();
            for (r, c) in to_relay_rx.iter() {
                let (v, polls) = block_on_counting(r, Wait::Park);
                wakes.fetch_add(polls - 1, Ordering::Relaxed);
                seen.push(v);
                c.complete(v + 1);
            }
            seen
        })
    };
    let mut back = Vec::new();
    for round in 0..3u32 {
        let (c_in, r_in) = oneshot();
        let (c_out, r_out) = oneshot();
        to_relay_tx.send((r_in, c_out)).unwrap();
        thread::yield_now();
        c_in.complete(100 * round);
        back.push(block_on(r_out));
    }
    drop(to_relay_tx);
    let seen = relay.join().unwrap();
    format!("relay saw {seen:?}, main got {back:?}")
}

#[test]
fn nested_block_ons_relay_three_rounds() {
    replays_to("ninth-relay", "relay saw [0, 100, 200], main got [1, 101, 201]", relay_rounds);
}

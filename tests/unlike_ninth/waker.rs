//! An `AtomicWaker` written with reprise atomics: a state word moved by
//! `compare_exchange` (WAITING, REGISTERING, WAKING) guards one waker cell,
//! so a `wake` that comes during a `register` is handed to the registering
//! thread, which wakes itself. Programs: a one-slot channel between two
//! `block_on` threads, each side waiting on its own `AtomicWaker` for the
//! slot to fill or empty; a wake that comes before any waker was
//! registered (it must not be lost: the first poll sees the value); and a
//! flag raised by three threads while a `block_on` waits for all three.

use std::cell::UnsafeCell;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use reprise::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use reprise::thread;

use super::block_on::{block_on, block_on_counting, Wait};
use super::replays_to;

const WAITING: usize = 0;
const REGISTERING: usize = 1;
const WAKING: usize = 2;

/// One waker, registered by one consumer and taken by any number of
/// wakers.
pub(crate) struct AtomicWaker {
    state: AtomicUsize,
    waker: UnsafeCell<Option<Waker>>,
}

// The cell is reached only by the thread that moved the state out of
// WAITING (REGISTERING or WAKING), one at a time.
unsafe impl Sync for AtomicWaker {}
unsafe impl Send for AtomicWaker {}

impl AtomicWaker {
    pub(crate) fn new() -> AtomicWaker {
        AtomicWaker { state: AtomicUsize::new(WAITING), waker: UnsafeCell::new(None) }
    }

    /// Stores `waker` to be woken by the next `wake`.
    pub(crate) fn register(&self, waker: &Waker) {
        match self.state.compare_exchange(WAITING, REGISTERING, Ordering::Acquire, Ordering::Acquire) {
            Ok(_) => {
                // SAFETY: REGISTERING is ours alone; a waker that comes now
                // only sets WAKING and leaves the cell to us.
                let old = unsafe { (*self.waker.get()).replace(waker.clone()) };
                drop(old);
                match self.state.compare_exchange(REGISTERING, WAITING, Ordering::AcqRel, Ordering::Acquire) {
                    Ok(_) => {}
                    Err(actual) => {
                        // A wake came while we registered: it left the cell
                        // to us, so we wake what we just stored.
                        assert_eq!(actual, REGISTERING | WAKING);
                        // SAFETY: still ours until the swap below.
                        let w = unsafe { (*self.waker.get()).take() };
                        self.state.swap(WAITING, Ordering::AcqRel);
                        if let Some(w) = w {
                            w.wake();
                        }
                    }
                }
            }
            Err(WAKING) => {
                // A wake is taking the old waker: the caller is woken now
                // (and polls again soon: let the waking thread finish).
                waker.wake_by_ref();
                reprise::hint::spin_loop();
            }
            Err(other) => panic!("two registers at once: state {other}"),
        }
    }

    /// Takes the registered waker and wakes it; a `register` under way is
    /// told instead, and wakes its own.
    pub(crate) fn wake(&self) {
        match self.state.fetch_or(WAKING, Ordering::AcqRel) {
            WAITING => {
                // SAFETY: WAKING is ours; a register waits for it to go.
                let w = unsafe { (*self.waker.get()).take() };
                self.state.fetch_and(!WAKING, Ordering::Release);
                if let Some(w) = w {
                    w.wake();
                }
            }
            _ => {
                // REGISTERING (it will see WAKING and wake itself) or
                // WAKING (another wake is at it).
            }
        }
    }
}

/// A one-slot channel: 0 is empty. The receiver waits on `full`, the
/// sender on `empty`. `look_first` plants a bug in the receiver: it looks
/// at the slot before it registers, and not after.
pub(crate) struct SlotChannel {
    slot: AtomicU32,
    full: AtomicWaker,
    empty: AtomicWaker,
    look_first: bool,
}

impl SlotChannel {
    pub(crate) fn new(look_first: bool) -> SlotChannel {
        SlotChannel {
            slot: AtomicU32::new(0),
            full: AtomicWaker::new(),
            empty: AtomicWaker::new(),
            look_first,
        }
    }
}

/// A future of the slot's value, emptying it.
pub(crate) struct Take<'a>(pub(crate) &'a SlotChannel);

impl Future for Take<'_> {
    type Output = u32;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<u32> {
        if self.0.look_first {
            // Planted: a value stored between this look and the register
            // wakes the waker registered before (a `block_on` done with).
            return match self.0.slot.swap(0, Ordering::AcqRel) {
                0 => {
                    self.0.full.register(cx.waker());
                    Poll::Pending
                }
                v => {
                    self.0.empty.wake();
                    Poll::Ready(v)
                }
            };
        }
        // Register first, then look: a value stored after the look wakes
        // the waker registered before it.
        self.0.full.register(cx.waker());
        match self.0.slot.swap(0, Ordering::AcqRel) {
            0 => Poll::Pending,
            v => {
                self.0.empty.wake();
                Poll::Ready(v)
            }
        }
    }
}

/// A future that puts `.1` in the slot once it is empty.
pub(crate) struct Put<'a>(pub(crate) &'a SlotChannel, pub(crate) u32);

impl Future for Put<'_> {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.0.empty.register(cx.waker());
        match self.0.slot.compare_exchange(0, self.1, Ordering::AcqRel, Ordering::Acquire) {
            Ok(_) => {
                self.0.full.wake();
                Poll::Ready(())
            }
            Err(_) => Poll::Pending,
        }
    }
}

/// A producer thread `block_on`s putting 1..=5 into the slot; the main
/// thread `block_on`s taking five. std: 1 2 3 4 5 in order.
pub(super) fn slot_channel() -> String {
    slot_channel_with(false)
}

pub(crate) fn slot_channel_with(look_first: bool) -> String {
    let ch = Arc::new(SlotChannel::new(look_first));
    let producer = {
        let ch = Arc::clone(&ch);
        thread::spawn(move || {
            for v in 1..=5 {
                block_on(Put(&ch, v));
            }
        })
    };
    let got: Vec<u32> = (0..5).map(|_| block_on(Take(&ch))).collect();
    producer.join().unwrap();
    format!("{got:?}")
}

#[test]
fn a_slot_channel_between_two_block_ons_on_atomic_wakers() {
    replays_to("ninth-slot", "[1, 2, 3, 4, 5]", slot_channel);
}

/// The producer stores 7 and wakes before the main thread ever registered
/// (it is joined first): the wake finds no waker and must leave nothing
/// behind but the value, which the first poll takes. Then a wake with
/// no value at all leaves the state WAITING for the next round.
pub(super) fn wake_before_register() -> String {
    let ch = Arc::new(SlotChannel::new(false));
    {
        let ch = Arc::clone(&ch);
        thread::spawn(move || {
            ch.slot.store(7, Ordering::Release);
            ch.full.wake();
            ch.full.wake();
        })
        .join()
        .unwrap();
    }
    let (first, polls) = block_on_counting(Take(&ch), Wait::Park);
    let ch2 = Arc::clone(&ch);
    let t = thread::spawn(move || block_on(Put(&ch2, 8)));
    let second = block_on(Take(&ch));
    t.join().unwrap();
    format!("{first} in {polls} poll, then {second}, state {}", ch.full.state.load(Ordering::Acquire))
}

#[test]
fn a_wake_before_any_register_leaves_the_value_for_the_first_poll() {
    replays_to("ninth-wake-first", "7 in 1 poll, then 8, state 0", wake_before_register);
}

/// Counts down from three; each of three threads decrements and wakes;
/// the future is ready at zero.
struct Countdown<'a>(&'a AtomicU32, &'a AtomicWaker);

impl Future for Countdown<'_> {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.1.register(cx.waker());
        if self.0.load(Ordering::Acquire) == 0 {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

/// Three threads each decrement a counter and wake one `AtomicWaker`,
/// possibly at once (two wakes meeting in WAKING) and during a register;
/// the main thread's `block_on` waits for zero. std: it ends. (Its
/// polls are not counted: a register that meets a wake under way wakes
/// itself and polls again, as often as that wake is slow.)
pub(super) fn three_wakers() -> String {
    let left = Arc::new(AtomicU32::new(3));
    let waker = Arc::new(AtomicWaker::new());
    let threads: Vec<_> = (0..3)
        .map(|_| {
            let (left, waker) = (Arc::clone(&left), Arc::clone(&waker));
            thread::spawn(move || {
                left.fetch_sub(1, Ordering::AcqRel);
                waker.wake();
            })
        })
        .collect();
    block_on(Countdown(&left, &waker));
    for h in threads {
        h.join().unwrap();
    }
    format!("left {}", left.load(Ordering::Acquire))
}

#[test]
fn three_wakes_of_one_atomic_waker() {
    replays_to("ninth-three-wakers", "left 0", three_wakers);
}
